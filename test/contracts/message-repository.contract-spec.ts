import { uuidv7 } from 'uuidv7';
import { Db } from '../../src/common/database/db';
import type {
  AppendResult,
  MessageDraft,
  StoredMessage,
} from '../../src/modules/chat/domain/message';
import { ConversationRepository } from '../../src/modules/chat/ports/conversation.repository';
import { MessageRepository } from '../../src/modules/chat/ports/message.repository';
import { cassandraClient, cassandraContactPoints, cassandraSkipReason } from '../utils/cassandra';
import { signIn } from '../utils/clients';
import { startTestApp, type TestApp } from '../utils/test-app';

/** A user with one registered device. */
export interface ContractUser {
  userId: string;
  deviceId: string;
}

/**
 * What an adapter under test provides: the message repository over empty storage, the
 * conversation repository that the conversations live in, a way to make users, and a way
 * to release it all.
 */
export interface MessageRepositoryHarness {
  messages: MessageRepository;
  conversations: ConversationRepository;
  newUser(): Promise<ContractUser>;
  /**
   * Moves these messages' expiry into the past, as time passing would (the store's reads
   * compare expiries with its own clock, which a test cannot move).
   */
  expire(messageIds: readonly string[]): Promise<void>;
  close(): Promise<void>;
}

const MINUTE = 60_000;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const range = (from: number, to: number) =>
  Array.from({ length: Math.max(0, to - from + 1) }, (_, i) => from + i);
const seqsOf = (messages: StoredMessage[]) => messages.map((m) => m.seq);

/** Appends drafts that must all be accepted, and returns the stored outcomes. */
async function appendStored(
  repo: MessageRepository,
  drafts: MessageDraft[],
): Promise<Array<Extract<AppendResult, { kind: 'stored' }>>> {
  return (await repo.append(drafts)).map((r) => {
    if (r.kind !== 'stored') throw new Error(`append refused a draft: ${r.reason}`);
    return r;
  });
}

/** Two new users and their direct conversation. */
async function directPair(harness: MessageRepositoryHarness) {
  const alice = await harness.newUser();
  const bob = await harness.newUser();
  const { conversation } = await harness.conversations.getOrCreateDirect(
    uuidv7(),
    alice.userId,
    bob.userId,
  );
  return { alice, bob, conversation };
}

let bodyCounter = 0;

/** A text draft from `sender`'s device into the conversation. */
function draft(
  conversationId: string,
  sender: ContractUser,
  overrides: Partial<MessageDraft> = {},
): MessageDraft {
  bodyCounter += 1;
  return {
    id: uuidv7(),
    conversationId,
    senderId: sender.userId,
    senderDeviceId: sender.deviceId,
    clientMsgId: uuidv7(),
    type: 'text',
    body: `body ${bodyCounter}`,
    mediaId: null,
    replyToId: null,
    withheldFrom: null,
    createdAt: new Date(),
    ...overrides,
  };
}

/**
 * The behaviour every MessageRepository adapter must have. Run it against each adapter with
 * a factory that returns fresh, empty storage.
 */
export function messageRepositoryContract(
  adapter: string,
  factory: () => Promise<MessageRepositoryHarness>,
): void {
  describe(`MessageRepository contract: ${adapter}`, () => {
    let harness: MessageRepositoryHarness;
    let repo: MessageRepository;

    beforeAll(async () => {
      harness = await factory();
      repo = harness.messages;
    });
    afterAll(async () => {
      await harness.close();
    });

    /** Two users and their direct conversation. */
    const pair = async () => {
      const { alice, bob, conversation } = await directPair(harness);
      return { alice, bob, conversationId: conversation.id };
    };

    const appendOne = async (d: MessageDraft) => {
      const [result] = await appendStored(repo, [d]);
      return result;
    };

    describe('append', () => {
      it('refuses drafts of non-members and for unknown conversations, and they take no seq', async () => {
        const { alice, conversationId } = await pair();
        const stranger = await harness.newUser();
        const results = await repo.append([
          draft(conversationId, alice),
          draft(conversationId, stranger),
          draft(uuidv7(), alice),
          draft(conversationId, alice),
        ]);
        expect(results.map((r) => (r.kind === 'stored' ? r.message.seq : r.reason))).toEqual([
          1,
          'not_a_member',
          'conversation_not_found',
          2,
        ]);
        for (const r of results) if (r.kind === 'stored') expect(r.membersVersion).toBe(0);
        expect((await harness.conversations.findById(conversationId))!.lastSeq).toBe(2);
      });

      it('stores drafts with seqs 1..n in draft order, and continues from there', async () => {
        const { alice, bob, conversationId } = await pair();
        const drafts = [
          draft(conversationId, alice),
          draft(conversationId, bob, { body: '' }),
          draft(conversationId, alice, { type: 'image', mediaId: uuidv7(), body: 'caption' }),
          draft(conversationId, alice, { withheldFrom: bob.userId }),
          draft(conversationId, bob, { body: '€'.repeat(20_000) }),
        ];
        drafts[1].replyToId = drafts[0].id;
        const before = Date.now();
        const results = await appendStored(repo, drafts);
        expect(results).toHaveLength(5);
        results.forEach(({ message, duplicate }, i) => {
          const d = drafts[i];
          expect(duplicate).toBe(false);
          expect(message).toMatchObject({
            id: d.id,
            conversationId,
            seq: i + 1,
            senderId: d.senderId,
            senderDeviceId: d.senderDeviceId,
            clientMsgId: d.clientMsgId,
            type: d.type,
            body: d.body,
            mediaId: d.mediaId,
            replyToId: d.replyToId,
            withheldFrom: d.withheldFrom,
            editedAt: null,
            deletedAt: null,
          });
          expect(message.createdAt).toBeInstanceOf(Date);
          expect(Math.abs(message.createdAt.getTime() - before)).toBeLessThan(MINUTE);
        });
        for (const { message } of results) expect(await repo.findById(message.id)).toEqual(message);

        const more = await appendStored(repo, [
          draft(conversationId, bob),
          draft(conversationId, alice),
        ]);
        expect(more.map((r) => r.message.seq)).toEqual([6, 7]);
        const conversation = await harness.conversations.findById(conversationId);
        expect(conversation!.lastSeq).toBe(7);
      });

      it('findById is null for an unknown id; an empty append stores nothing', async () => {
        expect(await repo.findById(uuidv7())).toBeNull();
        expect(await repo.append([])).toEqual([]);
      });

      it('numbers many drafts across several conversations in one call, each gaplessly', async () => {
        const a = await pair();
        const b = await pair();
        const c = await pair();
        await appendStored(repo, [
          draft(b.conversationId, b.alice),
          draft(b.conversationId, b.bob),
        ]);
        const targets = [a, b, c];
        const drafts = range(0, 89).map((i) => {
          const p = targets[(i * 7) % 3];
          return draft(p.conversationId, i % 2 ? p.alice : p.bob, { body: `many ${i}` });
        });
        const results = await appendStored(repo, drafts);
        expect(results.map((r) => r.message.id)).toEqual(drafts.map((d) => d.id));
        expect(results.every((r) => !r.duplicate)).toBe(true);
        for (const [p, first] of [
          [a, 1],
          [b, 3],
          [c, 1],
        ] as const) {
          const mine = results
            .filter((r) => r.message.conversationId === p.conversationId)
            .map((r) => r.message.seq);
          expect(mine).toEqual(range(first, first + 29));
        }
        const stored = await repo.history({
          conversationId: b.conversationId,
          minSeqExclusive: 0,
          maxSeq: 1000,
          afterSeq: 2,
          limit: 100,
          viewerId: b.alice.userId,
        });
        expect(stored.messages.map((m) => m.body)).toEqual(
          drafts.filter((d) => d.conversationId === b.conversationId).map((d) => d.body),
        );
      });

      it('returns the original for a (sender, clientMsgId) already stored, without using a seq', async () => {
        const { alice, bob, conversationId } = await pair();
        const original = await appendOne(draft(conversationId, alice, { body: 'first' }));
        const resend = draft(conversationId, alice, {
          clientMsgId: original.message.clientMsgId,
          body: 'changed',
        });
        const fresh = draft(conversationId, bob);
        const results = await appendStored(repo, [resend, fresh]);
        expect(results[0]).toEqual({ ...original, duplicate: true });
        expect(results[1].duplicate).toBe(false);
        expect(results[1].message.seq).toBe(2);
        expect(await repo.findById(resend.id)).toBeNull();
        expect((await appendOne(resend)).message.id).toBe(original.message.id);
        expect((await appendOne(draft(conversationId, bob))).message.seq).toBe(3);
      });

      it('returns the first for a clientMsgId repeated within one call', async () => {
        const { alice, bob, conversationId } = await pair();
        const first = draft(conversationId, alice, { body: 'a' });
        const other = draft(conversationId, bob, { body: 'b' });
        const repeat = draft(conversationId, alice, { clientMsgId: first.clientMsgId, body: 'c' });
        const results = await appendStored(repo, [
          first,
          other,
          repeat,
          { ...repeat, id: uuidv7() },
        ]);
        expect(results.map((r) => r.duplicate)).toEqual([false, false, true, true]);
        expect(results.map((r) => r.message.seq)).toEqual([1, 2, 1, 1]);
        expect(results[2].message).toEqual(results[0].message);
        expect(results[2].message.body).toBe('a');
        expect((await appendOne(draft(conversationId, bob))).message.seq).toBe(3);
      });

      it('keeps the same clientMsgId of different senders apart', async () => {
        const { alice, bob, conversationId } = await pair();
        const clientMsgId = uuidv7();
        const results = await appendStored(repo, [
          draft(conversationId, alice, { clientMsgId }),
          draft(conversationId, bob, { clientMsgId }),
        ]);
        expect(results.map((r) => [r.duplicate, r.message.seq])).toEqual([
          [false, 1],
          [false, 2],
        ]);
        expect(results[0].message.id).not.toBe(results[1].message.id);
      });

      it('gives gapless unique seqs to 20 concurrent calls on one conversation', async () => {
        const { alice, bob, conversationId } = await pair();
        const calls = range(1, 20).map((i) =>
          range(1, (i % 3) + 1).map((j) =>
            draft(conversationId, i % 2 ? alice : bob, { body: `${i}.${j}` }),
          ),
        );
        const results = await Promise.all(calls.map((drafts) => appendStored(repo, drafts)));
        const all = results.flat();
        expect(all.every((r) => !r.duplicate)).toBe(true);
        const total = calls.flat().length;
        expect(all.map((r) => r.message.seq).sort((x, y) => x - y)).toEqual(range(1, total));
        for (const result of results) {
          const seqs = result.map((r) => r.message.seq);
          // One call's drafts keep their order, numbered back to back.
          expect(seqs).toEqual(range(seqs[0], seqs[0] + seqs.length - 1));
        }
        expect((await harness.conversations.findById(conversationId))!.lastSeq).toBe(total);
      });

      it('stores a draft once when the same one is appended concurrently', async () => {
        const { alice, conversationId } = await pair();
        const d = draft(conversationId, alice);
        const results = await Promise.all(
          range(1, 6).map(() => appendStored(repo, [{ ...d, id: uuidv7() }])),
        );
        const flat = results.flat();
        expect(flat.filter((r) => !r.duplicate)).toHaveLength(1);
        const ids = new Set(flat.map((r) => r.message.id));
        expect(ids.size).toBe(1);
        expect(flat.every((r) => r.message.seq === 1)).toBe(true);
        expect((await harness.conversations.findById(conversationId))!.lastSeq).toBe(1);
      });
    });

    describe('per-device envelopes', () => {
      it('stores each envelope once with its message and gives each device only its own', async () => {
        const { alice, bob, conversationId } = await pair();
        const aliceOther = uuidv7();
        const sealed = draft(conversationId, alice, {
          envelopes: [
            { deviceId: bob.deviceId, body: 'for bob' },
            { deviceId: aliceOther, body: 'for alice, elsewhere' },
          ],
        });
        const stored = await appendOne(sealed);
        expect(stored.message).toMatchObject({ e2e: true, body: '', seq: 1 });
        expect(await repo.findById(sealed.id)).toMatchObject({ e2e: true, body: '' });
        // A resend is the original: nothing is stored twice.
        const again = await appendOne({ ...sealed, id: uuidv7() });
        expect(again).toMatchObject({ duplicate: true, message: { id: sealed.id } });
        const plain = (await appendOne(draft(conversationId, bob))).message;
        expect(plain.e2e ?? false).toBe(false);

        expect(await repo.envelopesFor(bob.deviceId, [sealed.id, plain.id])).toEqual(
          new Map([[sealed.id, 'for bob']]),
        );
        expect(await repo.envelopesFor(aliceOther, [sealed.id])).toEqual(
          new Map([[sealed.id, 'for alice, elsewhere']]),
        );
        expect(await repo.envelopesFor(alice.deviceId, [sealed.id])).toEqual(new Map());
        expect(await repo.envelopesFor(bob.deviceId, [])).toEqual(new Map());
      });

      it("drops a deleted message's envelopes, and a removed device's", async () => {
        const { alice, bob, conversationId } = await pair();
        const other = uuidv7();
        const envelopes = [
          { deviceId: bob.deviceId, body: 'b' },
          { deviceId: other, body: 'o' },
        ];
        const first = (await appendOne(draft(conversationId, alice, { envelopes }))).message;
        const second = (await appendOne(draft(conversationId, alice, { envelopes }))).message;
        await appendStored(repo, [
          draft(conversationId, alice, { type: 'delete', targetId: first.id, body: '' }),
        ]);
        expect(await repo.envelopesFor(bob.deviceId, [first.id, second.id])).toEqual(
          new Map([[second.id, 'b']]),
        );
        await repo.deleteEnvelopesOf(other);
        expect(await repo.envelopesFor(other, [second.id])).toEqual(new Map());
        expect(await repo.envelopesFor(bob.deviceId, [second.id])).toEqual(
          new Map([[second.id, 'b']]),
        );
      });
    });

    describe('edits, deletes and reactions', () => {
      const event = (
        conversationId: string,
        sender: ContractUser,
        type: 'edit' | 'delete' | 'reaction',
        targetId: string,
        body = '',
      ) => draft(conversationId, sender, { type, targetId, body });

      const historyOf = async (conversationId: string, viewer: ContractUser) =>
        (
          await repo.history({
            conversationId,
            minSeqExclusive: 0,
            maxSeq: 1000,
            limit: 100,
            viewerId: viewer.userId,
          })
        ).messages;

      it('stores events in the seq stream and applies them to the target in the same append', async () => {
        const { alice, bob, conversationId } = await pair();
        const target = (await appendOne(draft(conversationId, alice, { body: 'helo' }))).message;
        const other = (await appendOne(draft(conversationId, bob, { body: 'other' }))).message;
        const results = await appendStored(repo, [
          event(conversationId, alice, 'edit', target.id, 'hello'),
          event(conversationId, bob, 'reaction', target.id, '👍'),
          event(conversationId, alice, 'reaction', target.id, '😂'),
          event(conversationId, bob, 'reaction', target.id, '❤️'),
          event(conversationId, alice, 'reaction', other.id, '🔥'),
          event(conversationId, alice, 'reaction', other.id, ''),
        ]);
        expect(results.map((r) => r.message.seq)).toEqual(range(3, 8));
        expect(results[0].message).toMatchObject({
          type: 'edit',
          targetId: target.id,
          forwardScore: 0,
        });

        const edited = await repo.findById(target.id);
        expect(edited).toMatchObject({ body: 'hello', deletedAt: null });
        expect(edited!.editedAt).toBeInstanceOf(Date);
        const history = await historyOf(conversationId, bob);
        expect(seqsOf(history)).toEqual(range(1, 8));
        expect(history[0].reactions).toEqual([
          { emoji: '😂', userIds: [alice.userId] },
          { emoji: '❤️', userIds: [bob.userId] },
        ]);
        expect(history[1].reactions).toEqual([]);
        expect(history[2]).toMatchObject({ type: 'edit', targetId: target.id, reactions: [] });
      });

      it('turns a deleted target into a tombstone whose edits and reactions are gone', async () => {
        const { alice, bob, conversationId } = await pair();
        const media = uuidv7();
        const target = (
          await appendOne(
            draft(conversationId, alice, { type: 'image', mediaId: media, body: 'cap' }),
          )
        ).message;
        await appendStored(repo, [
          event(conversationId, alice, 'edit', target.id, 'caption'),
          event(conversationId, bob, 'reaction', target.id, '👍'),
        ]);
        const [deleted] = await appendStored(repo, [
          event(conversationId, alice, 'delete', target.id),
        ]);
        expect(deleted.message).toMatchObject({ type: 'delete', targetId: target.id, seq: 4 });
        const tombstone = await repo.findById(target.id);
        expect(tombstone).toMatchObject({ body: null, mediaId: null, editedAt: null, seq: 1 });
        expect(tombstone!.deletedAt).toBeInstanceOf(Date);
        const history = await historyOf(conversationId, bob);
        expect(history.map((m) => [m.type, m.body])).toEqual([
          ['image', null],
          ['edit', null],
          ['reaction', null],
          ['delete', ''],
        ]);
        expect(history[0].reactions).toEqual([]);
        // Nothing more can happen to it.
        const after = await repo.append([
          event(conversationId, alice, 'edit', target.id, 'again'),
          event(conversationId, bob, 'reaction', target.id, '👍'),
          event(conversationId, alice, 'delete', target.id),
        ]);
        expect(after.map((r) => r.kind === 'rejected' && r.reason)).toEqual([
          'target_not_found',
          'target_not_found',
          'target_not_found',
        ]);
      });

      it('refuses events by the rules, in the transaction, and refused events take no seq', async () => {
        const { alice, bob, conversationId } = await pair();
        const elsewhere = await pair();
        const target = (await appendOne(draft(conversationId, alice))).message;
        const foreign = (await appendOne(draft(elsewhere.conversationId, elsewhere.alice))).message;
        const reaction = (await appendOne(event(conversationId, bob, 'reaction', target.id, '👍')))
          .message;
        const results = await repo.append([
          event(conversationId, bob, 'edit', target.id, 'not mine'),
          event(conversationId, bob, 'delete', target.id),
          event(conversationId, alice, 'edit', foreign.id, 'x'),
          event(conversationId, alice, 'reaction', uuidv7(), '👍'),
          event(conversationId, alice, 'delete', reaction.id),
          event(conversationId, alice, 'edit', target.id, ''),
          event(conversationId, alice, 'reaction', target.id, '❤️'),
        ]);
        expect(results.map((r) => (r.kind === 'rejected' ? r.reason : r.message.seq))).toEqual([
          'target_forbidden',
          'target_forbidden',
          'target_not_found',
          'target_not_found',
          'target_invalid',
          'target_invalid',
          3,
        ]);
        expect((await harness.conversations.findById(conversationId))!.lastSeq).toBe(3);
        expect((await repo.findById(target.id))!.body).toBe(target.body);
      });

      it('closes the windows and caps distinct emojis as the policy says', async () => {
        const { alice, bob, conversationId } = await pair();
        const target = (await appendOne(draft(conversationId, alice))).message;
        await sleep(30);
        const strict = { editWindowMs: 10, deleteWindowMs: 10, maxReactionEmojis: 1 };
        const results = await repo.append(
          [
            event(conversationId, alice, 'edit', target.id, 'late'),
            event(conversationId, alice, 'delete', target.id),
            event(conversationId, alice, 'reaction', target.id, '👍'),
            event(conversationId, bob, 'reaction', target.id, '❤️'),
            event(conversationId, bob, 'reaction', target.id, '👍'),
          ],
          strict,
        );
        expect(results.map((r) => (r.kind === 'rejected' ? r.reason : r.message.seq))).toEqual([
          'target_window_closed',
          'target_window_closed',
          2,
          'too_many_reactions',
          3,
        ]);
        const [shown] = await historyOf(conversationId, alice);
        expect(shown.reactions).toEqual([{ emoji: '👍', userIds: [alice.userId, bob.userId] }]);
      });

      it('hides a reaction from the member its event was withheld from', async () => {
        const { alice, bob, conversationId } = await pair();
        const target = (await appendOne(draft(conversationId, bob))).message;
        await appendOne({
          ...event(conversationId, alice, 'reaction', target.id, '👍'),
          withheldFrom: bob.userId,
        });
        expect((await historyOf(conversationId, alice))[0].reactions).toEqual([
          { emoji: '👍', userIds: [alice.userId] },
        ]);
        expect((await historyOf(conversationId, bob))[0].reactions).toEqual([]);
      });

      it('applies a resent event once and keeps targetId and forwardScore', async () => {
        const { alice, bob, conversationId } = await pair();
        const target = (await appendOne(draft(conversationId, alice))).message;
        const react = event(conversationId, bob, 'reaction', target.id, '👍');
        const [first] = await appendStored(repo, [react]);
        const [again] = await appendStored(repo, [{ ...react, id: uuidv7(), body: '❤️' }]);
        expect(again).toMatchObject({ duplicate: true, message: { id: first.message.id } });
        expect((await historyOf(conversationId, alice))[0].reactions).toEqual([
          { emoji: '👍', userIds: [bob.userId] },
        ]);
        const forward = (await appendOne(draft(conversationId, bob, { forwardScore: 3 }))).message;
        expect(await repo.findById(forward.id)).toMatchObject({ forwardScore: 3, targetId: null });
        expect(await repo.findById(first.message.id)).toMatchObject({ targetId: target.id });
      });
    });

    describe('reads', () => {
      /**
       * One conversation of 30 messages: seq 5 and 6 are withheld from bob, 8 and 9 are bob's
       * (9 from his second device); the rest are alice's.
       */
      const fixture = async () => {
        const p = await pair();
        const bob2: ContractUser = { userId: p.bob.userId, deviceId: uuidv7() };
        const drafts = range(1, 30).map((seq) => {
          if (seq === 5 || seq === 6)
            return draft(p.conversationId, p.alice, { withheldFrom: p.bob.userId });
          if (seq === 8) return draft(p.conversationId, p.bob);
          if (seq === 9) return draft(p.conversationId, bob2);
          return draft(p.conversationId, p.alice);
        });
        const stored = (await appendStored(repo, drafts)).map((r) => r.message);
        return { ...p, bob2, stored };
      };

      describe('history', () => {
        it('pages a visible window in ascending seq with hasMore, hiding what was withheld', async () => {
          const { alice, bob, conversationId, stored } = await fixture();
          const page = (
            viewer: ContractUser,
            q: { min?: number; max?: number; beforeSeq?: number; afterSeq?: number; limit: number },
          ) =>
            repo
              .history({
                conversationId,
                minSeqExclusive: q.min ?? 0,
                maxSeq: q.max ?? 30,
                beforeSeq: q.beforeSeq,
                afterSeq: q.afterSeq,
                limit: q.limit,
                viewerId: viewer.userId,
              })
              .then((r) => ({
                seqs: seqsOf(r.messages),
                hasMore: r.hasMore,
                messages: r.messages,
              }));

          const latest = await page(bob, { limit: 10 });
          expect(latest.seqs).toEqual(range(21, 30));
          expect(latest.hasMore).toBe(true);
          expect(latest.messages).toEqual(stored.slice(20).map((m) => ({ ...m, reactions: [] })));

          expect(await page(bob, { beforeSeq: 21, limit: 10 })).toMatchObject({
            seqs: range(11, 20),
            hasMore: true,
          });
          expect(await page(bob, { beforeSeq: 11, limit: 10 })).toMatchObject({
            seqs: [1, 2, 3, 4, 7, 8, 9, 10],
            hasMore: false,
          });
          expect(await page(alice, { beforeSeq: 11, limit: 10 })).toMatchObject({
            seqs: range(1, 10),
            hasMore: false,
          });
          expect(await page(bob, { beforeSeq: 1, limit: 10 })).toMatchObject({
            seqs: [],
            hasMore: false,
          });

          expect(await page(bob, { afterSeq: 0, limit: 10 })).toMatchObject({
            seqs: [1, 2, 3, 4, 7, 8, 9, 10, 11, 12],
            hasMore: true,
          });
          expect(await page(alice, { afterSeq: 0, limit: 10 })).toMatchObject({
            seqs: range(1, 10),
            hasMore: true,
          });
          expect(await page(bob, { afterSeq: 25, limit: 10 })).toMatchObject({
            seqs: range(26, 30),
            hasMore: false,
          });
          expect(await page(bob, { afterSeq: 20, limit: 10 })).toMatchObject({
            seqs: range(21, 30),
            hasMore: false,
          });
          expect(await page(bob, { afterSeq: 30, limit: 10 })).toMatchObject({
            seqs: [],
            hasMore: false,
          });
          expect(await page(bob, { afterSeq: 10, beforeSeq: 15, limit: 10 })).toMatchObject({
            seqs: [11, 12, 13, 14],
            hasMore: false,
          });

          // The window bounds what any cursor can reach.
          expect(await page(bob, { min: 10, max: 20, limit: 5 })).toMatchObject({
            seqs: range(16, 20),
            hasMore: true,
          });
          expect(await page(bob, { min: 10, max: 20, limit: 10 })).toMatchObject({
            seqs: range(11, 20),
            hasMore: false,
          });
          expect(await page(bob, { min: 10, max: 20, afterSeq: 2, limit: 3 })).toMatchObject({
            seqs: [11, 12, 13],
            hasMore: true,
          });
          expect(await page(bob, { min: 10, max: 20, beforeSeq: 25, limit: 3 })).toMatchObject({
            seqs: [18, 19, 20],
            hasMore: true,
          });
          expect(await page(bob, { min: 20, max: 20, limit: 10 })).toMatchObject({
            seqs: [],
            hasMore: false,
          });
        });

        it('never mixes in another conversation', async () => {
          const one = await pair();
          const two = await pair();
          await appendStored(repo, [
            draft(one.conversationId, one.alice),
            draft(two.conversationId, two.alice),
          ]);
          const page = await repo.history({
            conversationId: one.conversationId,
            minSeqExclusive: 0,
            maxSeq: 10,
            limit: 10,
            viewerId: one.bob.userId,
          });
          expect(page.messages.map((m) => m.conversationId)).toEqual([one.conversationId]);
        });
      });

      describe('pending', () => {
        it('offers each range oldest first, without the device’s own or withheld messages', async () => {
          const { bob, bob2, conversationId } = await fixture();
          const q = (limit = 100, device = bob) => ({
            limit,
            deviceId: device.deviceId,
            viewerId: bob.userId,
          });
          const all = await repo.pending([{ conversationId, afterSeq: 0, untilSeq: 30 }], q());
          expect(seqsOf(all)).toEqual([1, 2, 3, 4, 7, 9, ...range(10, 30)]);
          // Bob's other device is offered what bob's first device sent, and vice versa.
          expect(
            seqsOf(
              await repo.pending([{ conversationId, afterSeq: 6, untilSeq: 10 }], q(100, bob2)),
            ),
          ).toEqual([7, 8, 10]);
          expect(
            seqsOf(await repo.pending([{ conversationId, afterSeq: 2, untilSeq: 12 }], q())),
          ).toEqual([3, 4, 7, 9, 10, 11, 12]);
          expect(
            seqsOf(await repo.pending([{ conversationId, afterSeq: 0, untilSeq: 30 }], q(4))),
          ).toEqual([1, 2, 3, 4]);
          expect(await repo.pending([{ conversationId, afterSeq: 30, untilSeq: 30 }], q())).toEqual(
            [],
          );
          expect(await repo.pending([], q())).toEqual([]);
        });

        it('follows the order of the ranges and stops at the limit across them', async () => {
          const one = await pair();
          const bob = one.bob;
          const carol = await harness.newUser();
          const { conversation: other } = await harness.conversations.getOrCreateDirect(
            uuidv7(),
            bob.userId,
            carol.userId,
          );
          await appendStored(
            repo,
            range(1, 5).map(() => draft(one.conversationId, one.alice)),
          );
          await appendStored(
            repo,
            range(1, 4).map(() => draft(other.id, carol)),
          );
          const rangeOne = { conversationId: one.conversationId, afterSeq: 0, untilSeq: 5 };
          const rangeTwo = { conversationId: other.id, afterSeq: 1, untilSeq: 4 };
          const q = { limit: 100, deviceId: bob.deviceId, viewerId: bob.userId };
          const key = (m: StoredMessage) => `${m.conversationId === other.id ? 'b' : 'a'}${m.seq}`;

          expect((await repo.pending([rangeOne, rangeTwo], q)).map(key)).toEqual([
            'a1',
            'a2',
            'a3',
            'a4',
            'a5',
            'b2',
            'b3',
            'b4',
          ]);
          expect((await repo.pending([rangeTwo, rangeOne], q)).map(key)).toEqual([
            'b2',
            'b3',
            'b4',
            'a1',
            'a2',
            'a3',
            'a4',
            'a5',
          ]);
          expect((await repo.pending([rangeTwo, rangeOne], { ...q, limit: 5 })).map(key)).toEqual([
            'b2',
            'b3',
            'b4',
            'a1',
            'a2',
          ]);
        });
      });

      describe('latestVisible', () => {
        it('gives the newest message at or below untilSeq that the viewer may see', async () => {
          const { alice, bob, conversationId, stored } = await fixture();
          const withheldLast = await pair();
          await appendStored(repo, [
            draft(withheldLast.conversationId, withheldLast.alice),
            draft(withheldLast.conversationId, withheldLast.alice, {
              withheldFrom: withheldLast.bob.userId,
            }),
          ]);
          const empty = await pair();

          const forBob = await repo.latestVisible(
            [
              { conversationId, afterSeq: 0, untilSeq: 30 },
              { conversationId: empty.conversationId, afterSeq: 0, untilSeq: 0 },
            ],
            bob.userId,
          );
          expect(forBob.get(conversationId)).toEqual(stored[29]);
          expect(forBob.has(empty.conversationId)).toBe(false);
          expect(forBob.size).toBe(1);

          const lastRange = [
            { conversationId: withheldLast.conversationId, afterSeq: 0, untilSeq: 2 },
          ];
          expect(
            (await repo.latestVisible(lastRange, withheldLast.bob.userId)).get(
              withheldLast.conversationId,
            )!.seq,
          ).toBe(1);
          expect(
            (await repo.latestVisible(lastRange, withheldLast.alice.userId)).get(
              withheldLast.conversationId,
            )!.seq,
          ).toBe(2);

          const bounded = await repo.latestVisible(
            [{ conversationId, afterSeq: 0, untilSeq: 6 }],
            bob.userId,
          );
          expect(bounded.get(conversationId)!.seq).toBe(4);
          expect(
            (
              await repo.latestVisible([{ conversationId, afterSeq: 0, untilSeq: 6 }], alice.userId)
            ).get(conversationId)!.seq,
          ).toBe(6);
          // Nothing visible inside the range: absent.
          expect(
            (
              await repo.latestVisible([{ conversationId, afterSeq: 4, untilSeq: 6 }], bob.userId)
            ).has(conversationId),
          ).toBe(false);
          expect((await repo.latestVisible([], bob.userId)).size).toBe(0);
        });
      });

      describe('countFromOthers', () => {
        it('counts the messages in each range from others that the viewer may see', async () => {
          const { alice, bob, conversationId } = await fixture();
          const quiet = await pair();
          const counts = await repo.countFromOthers(
            [
              { conversationId, afterSeq: 0, untilSeq: 30 },
              { conversationId: quiet.conversationId, afterSeq: 0, untilSeq: 0 },
            ],
            bob.userId,
          );
          // 30 minus bob's two minus the two withheld from him.
          expect(counts.get(conversationId)).toBe(26);
          expect(counts.get(quiet.conversationId) ?? 0).toBe(0);
          expect(
            (
              await repo.countFromOthers(
                [{ conversationId, afterSeq: 7, untilSeq: 12 }],
                bob.userId,
              )
            ).get(conversationId),
          ).toBe(3);
          expect(
            (
              await repo.countFromOthers(
                [{ conversationId, afterSeq: 0, untilSeq: 30 }],
                alice.userId,
              )
            ).get(conversationId),
          ).toBe(2);
          expect(
            (
              await repo.countFromOthers([{ conversationId, afterSeq: 4, untilSeq: 6 }], bob.userId)
            ).get(conversationId) ?? 0,
          ).toBe(0);
          expect((await repo.countFromOthers([], bob.userId)).size).toBe(0);
        });
      });

      describe('visibleTo', () => {
        it('keeps the messages the user can see, in one call, leaving out withheld and unknown ones', async () => {
          const { alice, bob, stored } = await fixture();
          const ids = stored.map((m) => m.id);
          const visible = new Set(await repo.visibleTo(bob.userId, [...ids, uuidv7()]));
          expect(visible.size).toBe(28);
          expect(visible.has(stored[4].id)).toBe(false);
          expect(visible.has(stored[5].id)).toBe(false);
          expect(new Set(await repo.visibleTo(alice.userId, ids)).size).toBe(30);
          const stranger = await harness.newUser();
          expect(await repo.visibleTo(stranger.userId, ids)).toEqual([]);
          expect(await repo.visibleTo(bob.userId, [])).toEqual([]);
        });
      });

      describe('sendersBetween', () => {
        it('lists the distinct senders of (afterSeq, untilSeq]', async () => {
          const { alice, bob, conversationId } = await fixture();
          const sorted = async (after: number, until: number) =>
            [...(await repo.sendersBetween(conversationId, after, until))].sort();
          expect(await sorted(0, 30)).toEqual([alice.userId, bob.userId].sort());
          expect(await sorted(0, 7)).toEqual([alice.userId]);
          expect(await sorted(7, 9)).toEqual([bob.userId]);
          expect(await sorted(7, 8)).toEqual([bob.userId]);
          expect(await sorted(8, 8)).toEqual([]);
          expect(await sorted(30, 40)).toEqual([]);
          expect(await repo.sendersBetween(uuidv7(), 0, 10)).toEqual([]);
        });
      });
    });
    describe('per-user marks', () => {
      /** Five messages from alice to bob. */
      const five = async () => {
        const p = await pair();
        const stored = (
          await appendStored(
            repo,
            range(1, 5).map(() => draft(p.conversationId, p.alice)),
          )
        ).map((r) => r.message);
        return { ...p, stored };
      };
      const everything = (conversationId: string, viewer: ContractUser) =>
        repo.history({
          conversationId,
          minSeqExclusive: 0,
          maxSeq: 100,
          limit: 50,
          viewerId: viewer.userId,
        });

      it('hide takes messages out of that user’s reads only, and is idempotent', async () => {
        const { alice, bob, conversationId, stored } = await five();
        await repo.hide(bob.userId, conversationId, [stored[1].id, stored[4].id]);
        await repo.hide(bob.userId, conversationId, [stored[1].id]);
        await repo.hide(bob.userId, conversationId, []);

        expect(seqsOf((await everything(conversationId, bob)).messages)).toEqual([1, 3, 4]);
        expect(seqsOf((await everything(conversationId, alice)).messages)).toEqual([1, 2, 3, 4, 5]);
        const ranges = [{ conversationId, afterSeq: 0, untilSeq: 5 }];
        expect(
          seqsOf(
            await repo.pending(ranges, { limit: 10, deviceId: uuidv7(), viewerId: bob.userId }),
          ),
        ).toEqual([1, 3, 4]);
        expect((await repo.latestVisible(ranges, bob.userId)).get(conversationId)!.seq).toBe(4);
        expect((await repo.latestVisible(ranges, alice.userId)).get(conversationId)!.seq).toBe(5);
        expect((await repo.countFromOthers(ranges, bob.userId)).get(conversationId)).toBe(3);
        // The message itself is untouched.
        expect(await repo.findById(stored[1].id)).toEqual(stored[1]);
      });

      it('lists stars newest first in pages, once per message, without hidden ones', async () => {
        const { alice, bob, conversationId, stored } = await five();
        const t0 = Date.now();
        for (const [i, m] of stored.entries())
          await repo.star(bob.userId, m.id, new Date(t0 + i * 1000));
        // Starring again keeps the first time; unstarring a missing star is a no-op.
        await repo.star(bob.userId, stored[0].id, new Date(t0 + 60_000));
        await repo.unstar(bob.userId, uuidv7());
        await repo.star(alice.userId, stored[2].id, new Date(t0));

        const first = await repo.starred(bob.userId, null, 2);
        expect(seqsOf(first.map((s) => s.message))).toEqual([5, 4]);
        expect(first[0].starredAt).toEqual(new Date(t0 + 4000));
        expect(first[0].message).toEqual(stored[4]);
        const last = first[1];
        const second = await repo.starred(
          bob.userId,
          { starredAt: last.starredAt, messageId: last.message.id },
          10,
        );
        expect(seqsOf(second.map((s) => s.message))).toEqual([3, 2, 1]);
        expect(seqsOf((await repo.starred(alice.userId, null, 10)).map((s) => s.message))).toEqual([
          3,
        ]);

        await repo.unstar(bob.userId, stored[3].id);
        // Hiding a message drops its star too.
        await repo.hide(bob.userId, conversationId, [stored[2].id]);
        expect(seqsOf((await repo.starred(bob.userId, null, 10)).map((s) => s.message))).toEqual([
          5, 2, 1,
        ]);
        expect(seqsOf((await repo.starred(alice.userId, null, 10)).map((s) => s.message))).toEqual([
          3,
        ]);
        expect(await repo.starred(bob.userId, null, 0)).toEqual([]);
      });

      it('orders stars of the same instant by message id, and pages through them', async () => {
        const { bob, stored } = await five();
        const at = new Date();
        for (const m of stored) await repo.star(bob.userId, m.id, at);
        const ids = [...stored.map((m) => m.id)].sort().reverse();
        const seen: string[] = [];
        let after: { starredAt: Date; messageId: string } | null = null;
        for (;;) {
          const page = await repo.starred(bob.userId, after, 2);
          if (!page.length) break;
          seen.push(...page.map((s) => s.message.id));
          const tail = page[page.length - 1];
          after = { starredAt: tail.starredAt, messageId: tail.message.id };
        }
        expect(seen).toEqual(ids);
      });
    });
  });

  describe(`MessageRepository contract: ${adapter}: deleteCreatedBefore`, () => {
    let harness: MessageRepositoryHarness;

    beforeAll(async () => {
      harness = await factory();
    });
    afterAll(async () => {
      await harness.close();
    });

    it('deletes the messages created before the time in batches, and counts them', async () => {
      const repo = harness.messages;
      const { alice, bob, conversation } = await directPair(harness);
      const old = (
        await appendStored(
          repo,
          range(1, 5).map(() => draft(conversation.id, alice)),
        )
      ).map((r) => r.message);
      await sleep(30);
      const cut = new Date();
      await sleep(30);
      const recent = (
        await appendStored(
          repo,
          range(1, 3).map(() => draft(conversation.id, bob)),
        )
      ).map((r) => r.message);

      expect(await repo.deleteCreatedBefore(cut, 2)).toBe(2);
      expect(await repo.deleteCreatedBefore(cut, 2)).toBe(2);
      expect(await repo.deleteCreatedBefore(cut, 2)).toBe(1);
      expect(await repo.deleteCreatedBefore(cut, 2)).toBe(0);
      for (const m of old) expect(await repo.findById(m.id)).toBeNull();
      for (const m of recent) expect(await repo.findById(m.id)).toEqual(m);
      const page = await repo.history({
        conversationId: conversation.id,
        minSeqExclusive: 0,
        maxSeq: 100,
        limit: 50,
        viewerId: bob.userId,
      });
      expect(seqsOf(page.messages)).toEqual([6, 7, 8]);
      // Seqs are never reused.
      expect((await appendStored(repo, [draft(conversation.id, alice)]))[0].message.seq).toBe(9);
    });

    it("takes a purged end-to-end message's envelopes with it", async () => {
      const repo = harness.messages;
      const { alice, bob, conversation } = await directPair(harness);
      const [{ message: sealed }] = await appendStored(repo, [
        draft(conversation.id, alice, {
          envelopes: [{ deviceId: bob.deviceId, body: 'ciphertext' }],
        }),
      ]);
      expect(await repo.envelopesFor(bob.deviceId, [sealed.id])).toEqual(
        new Map([[sealed.id, 'ciphertext']]),
      );
      const cut = new Date(Date.now() + 60_000);
      while ((await repo.deleteCreatedBefore(cut, 100)) > 0);
      expect(await repo.findById(sealed.id)).toBeNull();
      expect(await repo.envelopesFor(bob.deviceId, [sealed.id])).toEqual(new Map());
    });
  });
  describe(`MessageRepository contract: ${adapter}: disappearing messages`, () => {
    let harness: MessageRepositoryHarness;

    beforeAll(async () => {
      harness = await factory();
    });
    afterAll(async () => {
      await harness.close();
    });

    const DAY_SEC = 86_400;

    it('stamps expiresAt from the conversation’s timer at append, and not when it is off', async () => {
      const repo = harness.messages;
      const { alice, bob, conversation } = await directPair(harness);
      const [plain] = await appendStored(repo, [draft(conversation.id, alice)]);
      expect(plain.message.expiresAt).toBeNull();
      await harness.conversations.setDisappearing(conversation.id, alice, 7 * DAY_SEC);
      const timed = await appendStored(repo, [
        draft(conversation.id, bob),
        draft(conversation.id, alice),
      ]);
      for (const { message } of timed) {
        expect(message.expiresAt!.getTime()).toBe(message.createdAt.getTime() + 7 * DAY_SEC * 1000);
        expect(await repo.findById(message.id)).toEqual(message);
      }
      await harness.conversations.setDisappearing(conversation.id, bob, 0);
      const [after] = await appendStored(repo, [draft(conversation.id, bob)]);
      expect(after.message.expiresAt).toBeNull();
      // A change of the timer does not move the expiry of what was sent before.
      expect((await repo.findById(timed[0].message.id))!.expiresAt).toEqual(
        timed[0].message.expiresAt,
      );
    });

    it('hides expired messages from every read, then deleteExpired removes exactly them', async () => {
      const repo = harness.messages;
      const { alice, bob, conversation } = await directPair(harness);
      const id = conversation.id;
      await appendStored(repo, [draft(id, alice)]);
      await harness.conversations.setDisappearing(id, alice, DAY_SEC);
      const timed = (
        await appendStored(repo, [
          draft(id, alice),
          draft(id, bob, { type: 'image', mediaId: uuidv7(), body: '' }),
          draft(id, alice),
        ])
      ).map((r) => r.message);
      await repo.star(bob.userId, timed[0].id, new Date());
      await repo.hide(bob.userId, id, [timed[2].id]);
      // Not expired yet: nothing to purge, everything readable.
      expect(await repo.deleteExpired(new Date(), 10)).toEqual([]);
      const read = async (viewer: ContractUser) =>
        seqsOf(
          (
            await repo.history({
              conversationId: id,
              minSeqExclusive: 0,
              maxSeq: 100,
              limit: 50,
              viewerId: viewer.userId,
            })
          ).messages,
        );
      expect(await read(alice)).toEqual([1, 2, 3, 4, 5]);

      await harness.expire([timed[0].id, timed[1].id]);
      expect(await read(alice)).toEqual([1, 2, 5]);
      expect(await read(bob)).toEqual([1, 2]);
      const ranges = [{ conversationId: id, afterSeq: 0, untilSeq: 5 }];
      expect(
        seqsOf(
          await repo.pending(ranges, { limit: 10, deviceId: uuidv7(), viewerId: alice.userId }),
        ),
      ).toEqual([1, 2, 5]);
      expect(
        (await repo.latestVisible([{ ...ranges[0], untilSeq: 4 }], alice.userId)).get(id)!.seq,
      ).toBe(2);
      expect((await repo.countFromOthers(ranges, alice.userId)).get(id)).toBeUndefined();
      expect(await repo.starred(bob.userId, null, 10)).toEqual([]);

      const purged = await repo.deleteExpired(new Date(), 1);
      const rest = await repo.deleteExpired(new Date(), 10);
      expect([...purged, ...rest].sort((a, b) => a.id.localeCompare(b.id))).toEqual(
        [
          { id: timed[0].id, conversationId: id, mediaId: null },
          { id: timed[1].id, conversationId: id, mediaId: timed[1].mediaId },
        ].sort((a, b) => a.id.localeCompare(b.id)),
      );
      expect(purged).toHaveLength(1);
      expect(await repo.findById(timed[0].id)).toBeNull();
      expect(await repo.findById(timed[2].id)).not.toBeNull();
      // Later messages expire in a day: a purge at that time takes the last one too.
      const later = await repo.deleteExpired(new Date(Date.now() + (DAY_SEC + 60) * 1000), 10);
      expect(later.map((m) => m.id)).toEqual([timed[2].id]);
    });
  });
}

/** The repositories of a running test app, and its users. */
function appParts(t: TestApp) {
  return {
    messages: t.app.get(MessageRepository, { strict: false }),
    conversations: t.app.get(ConversationRepository, { strict: false }),
    newUser: async (): Promise<ContractUser> => {
      const s = await signIn(t);
      return { userId: s.userId, deviceId: s.deviceId };
    },
  };
}

messageRepositoryContract('postgres', async () => {
  const t = await startTestApp();
  return {
    ...appParts(t),
    expire: async (ids) => {
      await t.app
        .get(Db, { strict: false })
        .query(
          `UPDATE messages SET expires_at = now() - interval '1 second' WHERE id = ANY($1::uuid[])`,
          [[...ids]],
        );
    },
    close: () => t.close(),
  };
});

if (cassandraContactPoints()) {
  messageRepositoryContract('cassandra', async () => {
    // Partitions of 8 seqs: every read of the suite crosses several.
    const t = await startTestApp({
      env: { MESSAGE_STORE: 'cassandra', CASSANDRA_SEQ_BUCKET_SIZE: '8' },
    });
    const cql = await cassandraClient(t.config.cassandra.keyspace);
    return {
      ...appParts(t),
      expire: async (ids) => {
        const past = new Date(Date.now() - 1000);
        const day = Math.floor(past.getTime() / 86_400_000);
        for (const id of ids) {
          const at = (
            await cql.execute('SELECT conversation_id, seq FROM message_ids WHERE id = ?', [id], {
              prepare: true,
            })
          ).first();
          const conversationId = at.get('conversation_id') as unknown;
          const seq = at.get('seq') as unknown;
          const bucket = Math.floor(Number(String(seq)) / t.config.cassandra.seqBucketSize);
          const row = (
            await cql.execute(
              'SELECT media_id FROM messages WHERE conversation_id = ? AND bucket = ? AND seq = ?',
              [conversationId, bucket, seq],
              { prepare: true },
            )
          ).first();
          await cql.execute(
            'UPDATE messages SET expires_at = ? WHERE conversation_id = ? AND bucket = ? AND seq = ?',
            [past, conversationId, bucket, seq],
            { prepare: true },
          );
          await cql.execute(
            'INSERT INTO message_expiries (day, expires_at, id, conversation_id, seq, media_id) VALUES (?, ?, ?, ?, ?, ?)',
            [day, past, id, conversationId, seq, row.get('media_id')],
            { prepare: true },
          );
          await cql.execute(
            'INSERT INTO message_days (kind, day) VALUES (?, ?)',
            ['expires', day],
            {
              prepare: true,
            },
          );
        }
      },
      close: async () => {
        await cql.shutdown();
        await t.close();
      },
    };
  });
} else {
  describe(`MessageRepository contract: cassandra${cassandraSkipReason()}`, () => {
    it.skip('runs against a real Cassandra', () => undefined);
  });
}
