import { Injectable, Logger } from '@nestjs/common';
import { RealtimeEmitter } from '../../common/realtime/realtime.emitter';
import type { ReceiptEvent } from '../../common/realtime/socket-events';
import type { ReceiptStatus, WatermarkAdvance } from './domain/conversation';
import { ConversationRepository, type AckInput } from './ports/conversation.repository';
import { laneOf, pumpLane } from './message-write.batcher';
import { MessageRepository, type SendersRange } from './ports/message.repository';

/** One `message:ack` (or REST status) waiting for its batch. */
export interface AckRequest extends AckInput {
  /** The acking socket, which does not need its own receipt back. */
  socketId?: string;
}

interface Waiting {
  request: AckRequest;
  resolve: (applied: boolean) => void;
  reject: (error: unknown) => void;
}

/** A member's coalesced progress in one conversation over a batch, and who acked it. */
export interface ReceiptPlan {
  conversationId: string;
  userId: string;
  advance: WatermarkAdvance;
  /** The acking socket, when exactly one socket acked; else none is skipped. */
  exceptSocketId?: string;
}

/** Writers of their own; each owns a disjoint share of the conversations. */
const LANES = 2;
const MAX_BATCH = 1024;

/**
 * Coalesces a batch's applied acks per (conversation, member): one receipt plan each,
 * whatever the number of acks and devices behind it.
 */
export function planReceipts(
  requests: readonly AckRequest[],
  advances: ReadonlyArray<WatermarkAdvance | null>,
): ReceiptPlan[] {
  const plans = new Map<string, ReceiptPlan & { sockets: Set<string | undefined> }>();
  requests.forEach((request, i) => {
    const advance = advances[i];
    if (!advance) return;
    const key = `${request.conversationId}:${request.userId}`;
    let plan = plans.get(key);
    if (!plan) {
      plan = {
        conversationId: request.conversationId,
        userId: request.userId,
        advance,
        sockets: new Set(),
      };
      plans.set(key, plan);
    }
    plan.sockets.add(request.socketId);
  });
  return [...plans.values()].map(({ sockets, ...plan }) => {
    const [only] = sockets;
    return sockets.size === 1 && only ? { ...plan, exceptSocketId: only } : plan;
  });
}

/**
 * Group commit for acks, like MessageWriteBatcher for sends: each lane writes one batch
 * at a time in a single statement (no transaction held between round trips), gathering
 * what arrives meanwhile into its next batch. Receipts go out once per batch per
 * (conversation, member, status), which PROTOCOL allows (receipts are cumulative). Acks
 * use lanes of their own, so a send's commit never queues behind them.
 */
@Injectable()
export class MessageAckBatcher {
  private readonly lanes = Array.from({ length: LANES }, () => ({
    queue: [] as Waiting[],
    busy: false,
  }));

  private readonly logger = new Logger(MessageAckBatcher.name);

  constructor(
    private readonly conversations: ConversationRepository,
    private readonly messages: MessageRepository,
    private readonly realtime: RealtimeEmitter,
  ) {}

  /** Applies the ack with its batch; false if the caller may not ack there (not a member). */
  ack(request: AckRequest): Promise<boolean> {
    return new Promise((resolve, reject) => {
      const lane = this.lanes[laneOf(request.conversationId, LANES)];
      lane.queue.push({ request, resolve, reject });
      pumpLane(lane, MAX_BATCH, (batch) => this.write(batch));
    });
  }

  private async write(batch: Waiting[]): Promise<void> {
    const requests = batch.map((w) => w.request);
    let advances: Array<WatermarkAdvance | null>;
    try {
      advances = await this.conversations.advanceMany(requests, new Date());
    } catch (error) {
      for (const w of batch) w.reject(error);
      return;
    }
    // The watermarks are durable now; a receipt that fails to go out is not the acker's
    // error (the senders read the watermarks again from the conversation list).
    await this.emitReceipts(planReceipts(requests, advances)).catch((error: unknown) =>
      this.logger.warn({ err: error }, 'receipts of an ack batch failed'),
    );
    batch.forEach((w, i) => w.resolve(advances[i] !== null));
  }

  /** Tells the covered senders and the acker's other devices, in two queries per batch. */
  private async emitReceipts(plans: ReceiptPlan[]): Promise<void> {
    const ranges: SendersRange[] = [];
    const rangeOf: Array<{ plan: ReceiptPlan; status: ReceiptStatus }> = [];
    for (const plan of plans) {
      const { advance } = plan;
      if (advance.delivered > advance.previousDelivered) {
        ranges.push(range(plan, advance.previousDelivered, advance.delivered));
        rangeOf.push({ plan, status: 'delivered' });
      }
      if (advance.read > advance.previousRead) {
        ranges.push(range(plan, advance.previousRead, advance.read));
        rangeOf.push({ plan, status: 'read' });
      }
    }
    if (!ranges.length) return;
    const senders = await this.messages.sendersInRanges(ranges);
    const readers = rangeOf.flatMap(({ plan, status }, i) =>
      status === 'read' && senders[i].length ? [plan.userId, ...senders[i]] : [],
    );
    // Read receipts flow only between users who both share them.
    const sharing = readers.length
      ? await this.conversations.readReceiptsOf([...new Set(readers)])
      : new Map<string, boolean>();
    rangeOf.forEach(({ plan, status }, i) => {
      const { advance } = plan;
      const self = [plan.userId];
      let audience: string[];
      if (status === 'delivered') audience = [...senders[i], ...self];
      else {
        const others = senders[i].filter((id) => id !== plan.userId);
        audience =
          others.length && sharing.get(plan.userId)
            ? [...others.filter((id) => sharing.get(id)), ...self]
            : self;
      }
      const receipt: ReceiptEvent = {
        conversationId: plan.conversationId,
        userId: plan.userId,
        status,
        seq: status === 'delivered' ? advance.delivered : advance.read,
        at: advance.at.toISOString(),
      };
      this.realtime.toUsers([...new Set(audience)], 'receipt', receipt, {
        exceptSocketId: plan.exceptSocketId,
      });
    });
  }
}

function range(plan: ReceiptPlan, afterSeq: number, untilSeq: number): SendersRange {
  return { conversationId: plan.conversationId, afterSeq, untilSeq, viewerId: plan.userId };
}
