import { tmpdir } from 'node:os';
import { loadConfig } from '../../common/config/app-config';
import { DomainEvents } from '../../common/events/domain-events';
import type { AppendResult, MessageDraft } from './domain/message';
import { MessageWriteBatcher } from './message-write.batcher';
import type { MessageRepository } from './ports/message.repository';

const conversationId = '0193a4c2-1234-7abc-8def-0123456789ab';

function draft(body: string): MessageDraft {
  return {
    id: `id-${body}`,
    conversationId,
    senderId: 'u1',
    senderDeviceId: 'd1',
    clientMsgId: `c-${body}`,
    type: 'text',
    body,
    mediaId: null,
    replyToId: null,
    withheldFrom: null,
    createdAt: new Date(),
  };
}

/**
 * A store that, like PostgreSQL, fails a whole transaction when one row is bad; the first
 * call waits for a gate so that later sends pile up into one batch behind it.
 */
function storeFailingOn(poison: string) {
  let open!: () => void;
  const gate = new Promise<void>((r) => (open = r));
  const calls: number[] = [];
  let seq = 0;
  const store = {
    append: async (drafts: readonly MessageDraft[]): Promise<AppendResult[]> => {
      calls.push(drafts.length);
      if (calls.length === 1) await gate;
      if (drafts.some((d) => d.body === poison)) throw new Error('invalid byte sequence');
      return drafts.map((d) => ({
        kind: 'stored',
        message: { ...d, seq: (seq += 1), editedAt: null, deletedAt: null, expiresAt: null },
        duplicate: false,
        membersVersion: 1,
      }));
    },
  };
  return { store: store as unknown as MessageRepository, calls, open };
}

describe('MessageWriteBatcher', () => {
  it('writes what piles up behind a busy lane as one batch', async () => {
    const { store, calls, open } = storeFailingOn('never');
    const batcher = new MessageWriteBatcher(
      store,
      new DomainEvents(),
      loadConfig({ DATA_DIR: tmpdir() }),
    );
    const first = batcher.append(draft('first'));
    const rest = Array.from({ length: 10 }, (_, i) => batcher.append(draft(`m${i}`)));
    open();
    await Promise.all([first, ...rest]);
    expect(calls).toEqual([1, 10]);
  });

  it('one bad draft fails alone: its batch neighbours are stored, in order', async () => {
    const { store, calls, open } = storeFailingOn('bad');
    const batcher = new MessageWriteBatcher(
      store,
      new DomainEvents(),
      loadConfig({ DATA_DIR: tmpdir() }),
    );
    const first = batcher.append(draft('first'));
    const neighbours = ['a', 'b', 'bad', 'c'].map((b) => batcher.append(draft(b)));
    open();
    const outcomes = await Promise.allSettled([first, ...neighbours]);
    expect(outcomes.map((o) => o.status)).toEqual([
      'fulfilled',
      'fulfilled',
      'fulfilled',
      'rejected',
      'fulfilled',
    ]);
    const seqs = outcomes
      .filter((o): o is PromiseFulfilledResult<AppendResult> => o.status === 'fulfilled')
      .map((o) => (o.value.kind === 'stored' ? o.value.message.seq : -1));
    expect(seqs).toEqual([...seqs].sort((x, y) => x - y));
    // The batch of four failed once, then each draft was retried on its own.
    expect(calls).toEqual([1, 4, 1, 1, 1, 1]);
    await batcher.drain();
  });
});
