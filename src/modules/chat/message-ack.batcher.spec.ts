import type { RealtimeEmitter } from '../../common/realtime/realtime.emitter';
import type { WatermarkAdvance } from './domain/conversation';
import { MessageAckBatcher, planReceipts, type AckRequest } from './message-ack.batcher';
import type { AckInput, ConversationRepository } from './ports/conversation.repository';
import type { MessageRepository, SendersRange } from './ports/message.repository';

const conv = '0193a4c2-1234-7abc-8def-0123456789ab';
const at = new Date('2026-12-01T00:00:00.000Z');

function advance(
  previousDelivered: number,
  delivered: number,
  previousRead = 0,
  read = 0,
): WatermarkAdvance {
  return { previousDelivered, previousRead, delivered, read, at };
}

function ack(userId: string, seq: number, extra: Partial<AckRequest> = {}): AckRequest {
  return {
    conversationId: conv,
    userId,
    deviceId: `${userId}-d`,
    seq,
    status: 'delivered',
    ...extra,
  };
}

describe('planReceipts', () => {
  it('coalesces a member’s acks in a batch into one plan, skipping the acking socket', () => {
    const a = advance(0, 5);
    const plans = planReceipts(
      [ack('bob', 3, { socketId: 's1' }), ack('bob', 5, { socketId: 's1' })],
      [a, a],
    );
    expect(plans).toEqual([
      { conversationId: conv, userId: 'bob', advance: a, exceptSocketId: 's1' },
    ]);
  });

  it('skips no socket when two devices of the member acked in the batch', () => {
    const a = advance(0, 5);
    const plans = planReceipts(
      [ack('bob', 3, { socketId: 's1' }), ack('bob', 5, { socketId: 's2', deviceId: 'd2' })],
      [a, a],
    );
    expect(plans).toHaveLength(1);
    expect(plans[0].exceptSocketId).toBeUndefined();
  });

  it('leaves out refused acks and keeps members and conversations apart', () => {
    const other = '0193a4c2-1234-7abc-8def-0123456789ac';
    const plans = planReceipts(
      [ack('bob', 3), ack('carol', 9), ack('bob', 2, { conversationId: other })],
      [advance(0, 3), null, advance(1, 2)],
    );
    expect(plans.map((p) => [p.conversationId, p.userId])).toEqual([
      [conv, 'bob'],
      [other, 'bob'],
    ]);
  });
});

/** Records what the batcher asks of its ports; the first write waits for a gate. */
function harness() {
  let open!: () => void;
  const gate = new Promise<void>((r) => (open = r));
  const batches: AckInput[][] = [];
  const senderQueries: SendersRange[][] = [];
  const emitted: Array<{ users: string[]; seq: number; status: string; except?: string }> = [];
  const conversations = {
    advanceMany: async (inputs: readonly AckInput[]) => {
      batches.push([...inputs]);
      if (batches.length === 1) await gate;
      const top = new Map<string, number>();
      for (const i of inputs) top.set(i.userId, Math.max(top.get(i.userId) ?? 0, i.seq));
      return inputs.map((i) => (i.userId === 'mallory' ? null : advance(0, top.get(i.userId)!)));
    },
    readReceiptsOf: async (ids: readonly string[]) => new Map(ids.map((id) => [id, true])),
  } as unknown as ConversationRepository;
  const messages = {
    sendersInRanges: async (ranges: readonly SendersRange[]) => {
      senderQueries.push([...ranges]);
      return ranges.map(() => ['alice']);
    },
  } as unknown as MessageRepository;
  const realtime = {
    toUsers: (
      users: string[],
      _event: string,
      r: { seq: number; status: string },
      o: { exceptSocketId?: string },
    ) => emitted.push({ users, seq: r.seq, status: r.status, except: o.exceptSocketId }),
  } as unknown as RealtimeEmitter;
  const batcher = new MessageAckBatcher(conversations, messages, realtime);
  return { batcher, open, batches, senderQueries, emitted };
}

describe('MessageAckBatcher', () => {
  it('writes the acks that pile up behind a busy lane as one batch, with one receipt per member', async () => {
    const { batcher, open, batches, senderQueries, emitted } = harness();
    const first = batcher.ack(ack('bob', 1, { socketId: 's0' }));
    const rest = [2, 3, 4, 5].map((seq) => batcher.ack(ack('bob', seq, { socketId: 's1' })));
    open();
    expect(await Promise.all([first, ...rest])).toEqual([true, true, true, true, true]);
    expect(batches.map((b) => b.length)).toEqual([1, 4]);
    // One senders query per batch, whatever its size.
    expect(senderQueries.map((q) => q.length)).toEqual([1, 1]);
    expect(emitted).toEqual([
      { users: ['alice', 'bob'], seq: 1, status: 'delivered', except: 's0' },
      { users: ['alice', 'bob'], seq: 5, status: 'delivered', except: 's1' },
    ]);
  });

  it('answers a refused ack false without failing its batch neighbours', async () => {
    const { batcher, open } = harness();
    const first = batcher.ack(ack('bob', 1));
    const others = [batcher.ack(ack('mallory', 3)), batcher.ack(ack('bob', 4))];
    open();
    expect(await Promise.all([first, ...others])).toEqual([true, false, true]);
  });
});
