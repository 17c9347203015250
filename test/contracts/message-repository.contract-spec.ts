import { uuidv7 } from 'uuidv7';
import type {
  AppendResult,
  MessageDraft,
  StoredMessage,
} from '../../src/modules/chat/domain/message';
import { ConversationRepository } from '../../src/modules/chat/ports/conversation.repository';
import { MessageRepository } from '../../src/modules/chat/ports/message.repository';
import { signIn } from '../utils/clients';
import { startTestApp } from '../utils/test-app';

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
      const alice = await harness.newUser();
      const bob = await harness.newUser();
      const { conversation } = await harness.conversations.getOrCreateDirect(
        uuidv7(),
        alice.userId,
        bob.userId,
      );
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
          expect(latest.messages).toEqual(stored.slice(20));

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
      const alice = await harness.newUser();
      const bob = await harness.newUser();
      const { conversation } = await harness.conversations.getOrCreateDirect(
        uuidv7(),
        alice.userId,
        bob.userId,
      );
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
  });
}

messageRepositoryContract('postgres', async () => {
  const t = await startTestApp();
  return {
    messages: t.app.get(MessageRepository, { strict: false }),
    conversations: t.app.get(ConversationRepository, { strict: false }),
    newUser: async () => {
      const s = await signIn(t);
      return { userId: s.userId, deviceId: s.deviceId };
    },
    close: () => t.close(),
  };
});
