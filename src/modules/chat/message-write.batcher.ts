import { Injectable, Logger } from '@nestjs/common';
import { AppConfig } from '../../common/config/app-config';
import { DomainEvents } from '../../common/events/domain-events';
import type { AppendResult, MessageDraft } from './domain/message';
import { MAX_REACTION_EMOJIS, type TargetPolicy } from './domain/message-rules';
import { MessageRepository } from './ports/message.repository';

interface Waiting {
  draft: MessageDraft;
  resolve: (result: AppendResult) => void;
  reject: (error: unknown) => void;
}

/** Parallel writers; each owns a disjoint share of the conversations. */
const LANES = 4;
const MAX_BATCH = 512;

interface Lane {
  queue: Waiting[];
  busy: boolean;
}

/**
 * Group commit for sends. Conversations are spread over a few lanes by id; each lane
 * writes one batch at a time, and what arrives meanwhile goes into its next batch. Two
 * lanes never touch the same conversation row, so their transactions run side by side
 * instead of queueing on each other's row locks; within a lane, a busy server writes
 * hundreds of sends per transaction, an idle one writes each send at once.
 */
@Injectable()
export class MessageWriteBatcher {
  private readonly lanes: Lane[] = Array.from({ length: LANES }, () => ({
    queue: [],
    busy: false,
  }));
  private idleWaiters: Array<() => void> = [];
  private readonly policy: TargetPolicy;

  private readonly logger = new Logger(MessageWriteBatcher.name);

  constructor(
    private readonly messages: MessageRepository,
    private readonly events: DomainEvents,
    config: AppConfig,
  ) {
    this.policy = {
      editWindowMs: config.messages.editWindowSec * 1000,
      deleteWindowMs: config.messages.deleteWindowSec * 1000,
      maxReactionEmojis: MAX_REACTION_EMOJIS,
    };
  }

  append(draft: MessageDraft): Promise<AppendResult> {
    return new Promise((resolve, reject) => {
      const lane = this.lanes[laneOf(draft.conversationId)];
      lane.queue.push({ draft, resolve, reject });
      this.pump(lane);
    });
  }

  /** Resolves once every queued and in-flight write has finished (graceful shutdown). */
  drain(): Promise<void> {
    if (this.idle) return Promise.resolve();
    return new Promise((resolve) => this.idleWaiters.push(resolve));
  }

  private get idle(): boolean {
    return this.lanes.every((l) => !l.busy && !l.queue.length);
  }

  private pump(lane: Lane): void {
    pumpLane(
      lane,
      MAX_BATCH,
      (batch) => this.write(batch),
      () => {
        if (this.idle) for (const w of this.idleWaiters.splice(0)) w();
      },
    );
  }

  /**
   * Tells listeners (push) which conversations got new messages: one event per batch,
   * not awaited, so the send path waits for nothing and does no more per message.
   */
  private announce(results: readonly AppendResult[]): void {
    const conversationIds = new Set<string>();
    for (const r of results)
      if (r.kind === 'stored' && !r.duplicate) conversationIds.add(r.message.conversationId);
    if (!conversationIds.size) return;
    this.events
      .publish('messages.stored', { conversationIds: [...conversationIds] })
      .catch((error: unknown) =>
        this.logger.warn({ err: error }, 'messages.stored listener failed'),
      );
  }

  private async write(batch: Waiting[]): Promise<void> {
    try {
      const results = await this.messages.append(
        batch.map((w) => w.draft),
        this.policy,
      );
      batch.forEach((w, i) => w.resolve(results[i]));
      this.announce(results);
    } catch (error) {
      if (batch.length === 1) {
        batch[0].reject(error);
        return;
      }
      // One bad draft must not fail its neighbours: retry each on its own.
      for (const w of batch) {
        await this.messages.append([w.draft], this.policy).then(
          (r) => {
            w.resolve(r[0]);
            this.announce(r);
          },
          (e: unknown) => w.reject(e),
        );
      }
    }
  }
}

/**
 * Starts writing the lane's next batch (what queued up, at most `max`) unless a batch is
 * being written; when it is done, the lane goes on with what came meanwhile.
 */
export function pumpLane<T>(
  lane: { queue: T[]; busy: boolean },
  max: number,
  write: (batch: T[]) => Promise<void>,
  afterEach?: () => void,
): void {
  if (lane.busy || !lane.queue.length) return;
  lane.busy = true;
  const batch = lane.queue.splice(0, max);
  void write(batch).finally(() => {
    lane.busy = false;
    pumpLane(lane, max, write, afterEach);
    afterEach?.();
  });
}

/** A stable lane per conversation (ids are UUIDs; their last hex digits are well spread). */
export function laneOf(conversationId: string, lanes = LANES): number {
  return Number.parseInt(conversationId.slice(-4), 16) % lanes;
}
