import { Injectable } from '@nestjs/common';
import type { AppendResult, MessageDraft } from './domain/message';
import { MessageRepository } from './ports/message.repository';

interface Waiting {
  draft: MessageDraft;
  resolve: (result: AppendResult) => void;
  reject: (error: unknown) => void;
}

const MAX_IN_FLIGHT = 4;
const MAX_BATCH = 256;

/**
 * Group commit for sends: while earlier batches are in flight, new sends queue up and go
 * to the store together as one transaction. An idle server writes each send at once; a
 * busy one writes many per round trip instead of queueing behind the pool.
 */
@Injectable()
export class MessageWriteBatcher {
  private readonly queue: Waiting[] = [];
  private inFlight = 0;
  private idleWaiters: Array<() => void> = [];

  constructor(private readonly messages: MessageRepository) {}

  append(draft: MessageDraft): Promise<AppendResult> {
    return new Promise((resolve, reject) => {
      this.queue.push({ draft, resolve, reject });
      this.pump();
    });
  }

  /** Resolves once every queued and in-flight write has finished (graceful shutdown). */
  drain(): Promise<void> {
    if (!this.inFlight && !this.queue.length) return Promise.resolve();
    return new Promise((resolve) => this.idleWaiters.push(resolve));
  }

  private pump(): void {
    while (this.inFlight < MAX_IN_FLIGHT && this.queue.length) {
      const batch = this.queue.splice(0, MAX_BATCH);
      this.inFlight++;
      void this.write(batch).finally(() => {
        this.inFlight--;
        this.pump();
        if (!this.inFlight && !this.queue.length) for (const w of this.idleWaiters.splice(0)) w();
      });
    }
  }

  private async write(batch: Waiting[]): Promise<void> {
    try {
      const results = await this.messages.append(batch.map((w) => w.draft));
      batch.forEach((w, i) => w.resolve(results[i]));
    } catch (error) {
      if (batch.length === 1) {
        batch[0].reject(error);
        return;
      }
      // One bad draft must not fail its neighbours: retry each on its own.
      await Promise.all(
        batch.map((w) =>
          this.messages.append([w.draft]).then(
            (r) => w.resolve(r[0]),
            (e: unknown) => w.reject(e),
          ),
        ),
      );
    }
  }
}
