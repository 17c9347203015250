import { uuidv7 } from 'uuidv7';
import type { ReceiptStatus } from '../../src/modules/chat/domain/conversation';
import { ConversationRepository } from '../../src/modules/chat/ports/conversation.repository';
import { MessageRepository } from '../../src/modules/chat/ports/message.repository';
import { signIn } from '../utils/clients';
import { startTestApp } from '../utils/test-app';

/** A user with one registered device. */
export interface ConversationContractUser {
  userId: string;
  deviceId: string;
}

/**
 * What an adapter under test provides: the conversation repository over empty storage, the
 * message repository that moves its conversations' seqs, a way to make users, and a way to
 * release it all.
 */
export interface ConversationRepositoryHarness {
  conversations: ConversationRepository;
  messages: MessageRepository;
  newUser(): Promise<ConversationContractUser>;
  close(): Promise<void>;
}

const MINUTE = 60_000;
const DAY = 86_400_000;
const range = (from: number, to: number) =>
  Array.from({ length: Math.max(0, to - from + 1) }, (_, i) => from + i);

/**
 * The behaviour every ConversationRepository adapter must have. Run it against each adapter
 * with a factory that returns fresh, empty storage.
 */
export function conversationRepositoryContract(
  adapter: string,
  factory: () => Promise<ConversationRepositoryHarness>,
): void {
  describe(`ConversationRepository contract: ${adapter}`, () => {
    let harness: ConversationRepositoryHarness;
    let repo: ConversationRepository;

    beforeAll(async () => {
      harness = await factory();
      repo = harness.conversations;
    });
    afterAll(async () => {
      await harness.close();
    });

    const newUser = () => harness.newUser();

    const pair = async () => {
      const alice = await newUser();
      const bob = await newUser();
      const { conversation } = await repo.getOrCreateDirect(uuidv7(), alice.userId, bob.userId);
      return { alice, bob, conversationId: conversation.id };
    };

    /** Appends n text messages from the sender; returns their seqs. */
    const post = async (conversationId: string, sender: ConversationContractUser, n = 1) => {
      const results = await harness.messages.append(
        range(1, n).map(() => ({
          id: uuidv7(),
          conversationId,
          senderId: sender.userId,
          senderDeviceId: sender.deviceId,
          clientMsgId: uuidv7(),
          type: 'text' as const,
          body: 'x',
          mediaId: null,
          replyToId: null,
          withheldFrom: null,
          createdAt: new Date(),
        })),
      );
      return results.map((r) => {
        if (r.kind !== 'stored') throw new Error(`append refused: ${r.reason}`);
        return r.message.seq;
      });
    };

    const advance = (
      conversationId: string,
      who: ConversationContractUser,
      seq: number,
      status: ReceiptStatus,
      at = new Date(),
      deviceId = who.deviceId,
    ) => repo.advance({ conversationId, userId: who.userId, deviceId, seq, status, at });

    describe('getOrCreateDirect', () => {
      it('creates the conversation with both members, then finds it in either order', async () => {
        const alice = await newUser();
        const bob = await newUser();
        const id = uuidv7();
        const before = Date.now();
        const first = await repo.getOrCreateDirect(id, alice.userId, bob.userId);
        expect(first.created).toBe(true);
        expect(first.conversation).toMatchObject({
          id,
          type: 'direct',
          memberCount: 2,
          lastSeq: 0,
          lastMessageAt: null,
        });
        expect(first.conversation.createdAt).toBeInstanceOf(Date);
        expect(Math.abs(first.conversation.createdAt.getTime() - before)).toBeLessThan(MINUTE);

        const swapped = await repo.getOrCreateDirect(uuidv7(), bob.userId, alice.userId);
        expect(swapped.created).toBe(false);
        expect(swapped.conversation.id).toBe(id);
        const again = await repo.getOrCreateDirect(uuidv7(), alice.userId, bob.userId);
        expect(again).toEqual({ conversation: first.conversation, created: false });
        expect(await repo.findById(id)).toEqual(first.conversation);
        expect(await repo.findById(uuidv7())).toBeNull();

        for (const member of [alice, bob]) {
          const membership = await repo.findMembership(id, member.userId);
          expect(membership).toEqual({
            conversationId: id,
            userId: member.userId,
            role: 'member',
            joinedAt: expect.any(Date),
            joinedSeq: 0,
            leftSeq: null,
            leftName: null,
            leftMemberCount: null,
            deliveredSeq: 0,
            readSeq: 0,
            mutedUntil: null,
          });
        }
        expect(await repo.findMembership(id, (await newUser()).userId)).toBeNull();

        // Another pair gets its own conversation.
        const carol = await newUser();
        const other = await repo.getOrCreateDirect(uuidv7(), alice.userId, carol.userId);
        expect(other.created).toBe(true);
        expect(other.conversation.id).not.toBe(id);
      });

      it('creates exactly one conversation when called concurrently, in both orders', async () => {
        const alice = await newUser();
        const bob = await newUser();
        const results = await Promise.all(
          range(1, 12).map((i) =>
            i % 2
              ? repo.getOrCreateDirect(uuidv7(), alice.userId, bob.userId)
              : repo.getOrCreateDirect(uuidv7(), bob.userId, alice.userId),
          ),
        );
        expect(results.filter((r) => r.created)).toHaveLength(1);
        const ids = new Set(results.map((r) => r.conversation.id));
        expect(ids.size).toBe(1);
        const [id] = [...ids];
        const audience = await repo.audience(id);
        expect(audience!.members.map((m) => m.userId).sort()).toEqual(
          [alice.userId, bob.userId].sort(),
        );
        expect((await repo.listForUser(alice.userId)).map((s) => s.conversation.id)).toEqual([id]);
      });
    });

    describe('audience and findDirect', () => {
      it('gives the type, the membership version and the active members with their join seqs', async () => {
        const { alice, bob, conversationId } = await pair();
        await post(conversationId, alice, 3);
        const audience = await repo.audience(conversationId);
        expect(audience).toMatchObject({ type: 'direct', membersVersion: 0 });
        expect(
          audience!.members
            .map((m) => [m.userId, m.joinedSeq])
            .sort(([a], [b]) => String(a).localeCompare(String(b))),
        ).toEqual(
          [
            [alice.userId, 0],
            [bob.userId, 0],
          ].sort(([a], [b]) => String(a).localeCompare(String(b))),
        );
        expect(await repo.audience(uuidv7())).toBeNull();
      });

      it('finds the direct conversation of a pair in either order, without creating one', async () => {
        const { alice, bob, conversationId } = await pair();
        expect((await repo.findDirect(alice.userId, bob.userId))!.id).toBe(conversationId);
        expect((await repo.findDirect(bob.userId, alice.userId))!.id).toBe(conversationId);
        const carol = await newUser();
        expect(await repo.findDirect(alice.userId, carol.userId)).toBeNull();
        expect(await repo.findDirect(alice.userId, carol.userId)).toBeNull();
      });
    });

    describe('advance', () => {
      it('moves watermarks forward only, clamps to the last seq, and read implies delivered', async () => {
        const { alice, bob, conversationId } = await pair();
        await post(conversationId, alice, 5);
        const at1 = new Date('2031-01-01T00:00:01.000Z');

        expect(await advance(conversationId, bob, 2, 'delivered', at1)).toEqual({
          previousDelivered: 0,
          previousRead: 0,
          delivered: 2,
          read: 0,
          at: at1,
        });
        expect(await advance(conversationId, bob, 1, 'delivered')).toMatchObject({
          previousDelivered: 2,
          previousRead: 0,
          delivered: 2,
          read: 0,
        });
        expect(await advance(conversationId, bob, 3, 'read')).toMatchObject({
          previousDelivered: 2,
          previousRead: 0,
          delivered: 3,
          read: 3,
        });
        expect(await advance(conversationId, bob, 1, 'read')).toMatchObject({
          previousDelivered: 3,
          previousRead: 3,
          delivered: 3,
          read: 3,
        });
        expect(await advance(conversationId, bob, 99, 'delivered')).toMatchObject({
          delivered: 5,
          read: 3,
        });
        expect(await advance(conversationId, bob, 99, 'read')).toMatchObject({
          previousDelivered: 5,
          previousRead: 3,
          delivered: 5,
          read: 5,
        });
        expect(await advance(conversationId, bob, 0, 'read')).toMatchObject({
          delivered: 5,
          read: 5,
        });
        expect(await repo.findMembership(conversationId, bob.userId)).toMatchObject({
          deliveredSeq: 5,
          readSeq: 5,
        });
        // The other member's watermarks are their own.
        expect(await repo.findMembership(conversationId, alice.userId)).toMatchObject({
          deliveredSeq: 0,
          readSeq: 0,
        });
      });

      it('keeps clamping as the conversation grows', async () => {
        const { alice, bob, conversationId } = await pair();
        expect(await advance(conversationId, bob, 10, 'read')).toMatchObject({
          delivered: 0,
          read: 0,
        });
        await post(conversationId, alice, 2);
        expect(await advance(conversationId, bob, 10, 'delivered')).toMatchObject({
          delivered: 2,
          read: 0,
        });
        await post(conversationId, alice, 2);
        expect(await advance(conversationId, bob, 10, 'read')).toMatchObject({
          previousDelivered: 2,
          delivered: 4,
          read: 4,
        });
      });

      it('is null for a non-member or an unknown conversation', async () => {
        const { alice, conversationId } = await pair();
        await post(conversationId, alice, 2);
        const carol = await newUser();
        expect(await advance(conversationId, carol, 1, 'read')).toBeNull();
        expect(await advance(uuidv7(), alice, 1, 'read')).toBeNull();
        expect(await repo.pendingRanges(carol.userId, carol.deviceId)).toEqual([]);
      });
    });

    describe('advanceMany', () => {
      it('applies a batch as one advance per member: coalesced watermarks, one position per device, refusals apart', async () => {
        const { alice, bob, conversationId } = await pair();
        await post(conversationId, alice, 6);
        const carol = await newUser();
        const otherDevice = uuidv7();
        const at = new Date('2031-02-01T00:00:00.000Z');
        const ack = (
          who: ConversationContractUser,
          seq: number,
          status: ReceiptStatus,
          deviceId = who.deviceId,
        ) => ({ conversationId, userId: who.userId, deviceId, seq, status });
        const results = await repo.advanceMany(
          [
            ack(bob, 2, 'delivered'),
            ack(bob, 4, 'read', otherDevice),
            ack(carol, 1, 'delivered'),
            ack(bob, 3, 'delivered'),
            ack(alice, 99, 'delivered'),
          ],
          at,
        );
        const bobs = { previousDelivered: 0, previousRead: 0, delivered: 4, read: 4, at };
        expect(results).toEqual([
          bobs,
          bobs,
          null,
          bobs,
          { previousDelivered: 0, previousRead: 0, delivered: 6, read: 0, at },
        ]);
        expect(await repo.findMembership(conversationId, bob.userId)).toMatchObject({
          deliveredSeq: 4,
          readSeq: 4,
        });
        const positions = await repo.devicePositions(conversationId, [bob.deviceId, otherDevice]);
        expect(positions.get(bob.deviceId)).toBe(3);
        expect(positions.get(otherDevice)).toBe(4);
        // Each watermark moved once, at the batch's time.
        expect((await repo.watermarkTimes(conversationId, 'read', 4)).get(bob.userId)).toEqual(at);
        expect((await repo.watermarkTimes(conversationId, 'delivered', 2)).get(bob.userId)).toEqual(
          at,
        );
        expect(await repo.advanceMany([], at)).toEqual([]);
      });
    });

    describe('device positions', () => {
      it('offers each device its own range, moved by that device’s acks only', async () => {
        const { alice, bob, conversationId } = await pair();
        const bob2: ConversationContractUser = { userId: bob.userId, deviceId: uuidv7() };
        await post(conversationId, alice, 5);
        const rangeOf = async (who: ConversationContractUser) =>
          (await repo.pendingRanges(who.userId, who.deviceId)).filter(
            (r) => r.conversationId === conversationId,
          );

        expect(await rangeOf(bob)).toEqual([{ conversationId, afterSeq: 0, untilSeq: 5 }]);
        await advance(conversationId, bob, 3, 'delivered');
        expect(await rangeOf(bob)).toEqual([{ conversationId, afterSeq: 3, untilSeq: 5 }]);
        expect(await rangeOf(bob2)).toEqual([{ conversationId, afterSeq: 0, untilSeq: 5 }]);

        // bob2 acks less than the member's watermark: its own position still moves.
        await advance(conversationId, bob2, 2, 'delivered');
        expect(await rangeOf(bob2)).toEqual([{ conversationId, afterSeq: 2, untilSeq: 5 }]);
        // Never backwards.
        await advance(conversationId, bob2, 1, 'delivered');
        expect(await rangeOf(bob2)).toEqual([{ conversationId, afterSeq: 2, untilSeq: 5 }]);

        // An ack past the end is clamped: a later message is still offered.
        await advance(conversationId, bob, 50, 'delivered');
        expect(await rangeOf(bob)).toEqual([]);
        await post(conversationId, alice, 1);
        expect(await rangeOf(bob)).toEqual([{ conversationId, afterSeq: 5, untilSeq: 6 }]);

        // A read ack moves the acking device's position too.
        await advance(conversationId, bob2, 6, 'read');
        expect(await rangeOf(bob2)).toEqual([]);
        expect(await rangeOf(bob)).toEqual([{ conversationId, afterSeq: 5, untilSeq: 6 }]);

        await repo.deleteDevicePositions(bob2.deviceId);
        expect(await rangeOf(bob2)).toEqual([{ conversationId, afterSeq: 0, untilSeq: 6 }]);
        expect(await rangeOf(bob)).toEqual([{ conversationId, afterSeq: 5, untilSeq: 6 }]);
      });

      it('lists every conversation with something pending, and only those', async () => {
        const bob = await newUser();
        const alice = await newUser();
        const carol = await newUser();
        const dave = await newUser();
        const withAlice = (await repo.getOrCreateDirect(uuidv7(), alice.userId, bob.userId))
          .conversation.id;
        const withCarol = (await repo.getOrCreateDirect(uuidv7(), carol.userId, bob.userId))
          .conversation.id;
        const quiet = (await repo.getOrCreateDirect(uuidv7(), dave.userId, bob.userId)).conversation
          .id;
        await post(withAlice, alice, 2);
        await post(withCarol, carol, 3);
        await advance(withCarol, bob, 3, 'delivered');
        expect(await repo.pendingRanges(bob.userId, bob.deviceId)).toEqual([
          { conversationId: withAlice, afterSeq: 0, untilSeq: 2 },
        ]);
        const sorted = (await repo.pendingRanges(bob.userId, uuidv7())).sort((x, y) =>
          x.conversationId.localeCompare(y.conversationId),
        );
        expect(sorted).toEqual(
          [
            { conversationId: withAlice, afterSeq: 0, untilSeq: 2 },
            { conversationId: withCarol, afterSeq: 0, untilSeq: 3 },
          ].sort((x, y) => x.conversationId.localeCompare(y.conversationId)),
        );
        expect(sorted.map((r) => r.conversationId)).not.toContain(quiet);
      });

      it('initDevicePositions starts a new device at each conversation’s current seq', async () => {
        const { alice, bob, conversationId } = await pair();
        await post(conversationId, alice, 4);
        const late = { userId: bob.userId, deviceId: uuidv7() };
        await repo.initDevicePositions(bob.userId, late.deviceId);
        expect(await repo.pendingRanges(bob.userId, late.deviceId)).toEqual([]);
        await post(conversationId, alice, 2);
        expect(await repo.pendingRanges(bob.userId, late.deviceId)).toEqual([
          { conversationId, afterSeq: 4, untilSeq: 6 },
        ]);
        // Running it again changes nothing (the device keeps its position).
        await repo.initDevicePositions(bob.userId, late.deviceId);
        expect(await repo.pendingRanges(bob.userId, late.deviceId)).toEqual([
          { conversationId, afterSeq: 4, untilSeq: 6 },
        ]);

        // A conversation that starts after the device was set up is offered from the beginning.
        const carol = await newUser();
        const newer = (await repo.getOrCreateDirect(uuidv7(), carol.userId, bob.userId))
          .conversation.id;
        await post(newer, carol, 2);
        const ranges = await repo.pendingRanges(bob.userId, late.deviceId);
        expect(ranges).toContainEqual({ conversationId: newer, afterSeq: 0, untilSeq: 2 });
        expect(ranges).toHaveLength(2);
      });
    });

    describe('receipt times and settings', () => {
      it('watermarkTimes tells when each member’s watermark first reached a seq', async () => {
        const { alice, bob, conversationId } = await pair();
        await post(conversationId, alice, 6);
        const t1 = new Date('2031-02-01T10:00:00.000Z');
        const t2 = new Date('2031-02-01T10:05:00.000Z');
        const t3 = new Date('2031-02-01T10:10:00.000Z');
        const t4 = new Date('2031-02-01T10:15:00.000Z');
        await advance(conversationId, bob, 2, 'delivered', t1);
        await advance(conversationId, bob, 4, 'delivered', t2);
        await advance(conversationId, bob, 3, 'read', t3);
        await advance(conversationId, alice, 6, 'delivered', t4);
        // A repeated ack does not move the times.
        await advance(conversationId, bob, 4, 'delivered', new Date('2031-03-01T00:00:00.000Z'));

        const delivered = async (seq: number) =>
          Object.fromEntries(
            [...(await repo.watermarkTimes(conversationId, 'delivered', seq))].map(([u, at]) => [
              u,
              at.toISOString(),
            ]),
          );
        expect(await delivered(1)).toEqual({
          [bob.userId]: t1.toISOString(),
          [alice.userId]: t4.toISOString(),
        });
        expect(await delivered(2)).toEqual({
          [bob.userId]: t1.toISOString(),
          [alice.userId]: t4.toISOString(),
        });
        expect(await delivered(3)).toEqual({
          [bob.userId]: t2.toISOString(),
          [alice.userId]: t4.toISOString(),
        });
        expect(await delivered(5)).toEqual({ [alice.userId]: t4.toISOString() });
        expect(await delivered(7)).toEqual({});

        const read = await repo.watermarkTimes(conversationId, 'read', 3);
        expect([...read.keys()]).toEqual([bob.userId]);
        expect(read.get(bob.userId)!.getTime()).toBe(t3.getTime());
        expect(
          (await repo.watermarkTimes(conversationId, 'read', 1)).get(bob.userId)!.getTime(),
        ).toBe(t3.getTime());
        expect((await repo.watermarkTimes(conversationId, 'read', 4)).size).toBe(0);
      });

      it('memberReceipts lists every member with watermarks, times and receipt setting', async () => {
        const { alice, bob, conversationId } = await pair();
        await post(conversationId, alice, 3);
        const at = new Date('2031-04-01T00:00:00.000Z');
        await advance(conversationId, bob, 2, 'read', at);
        await repo.setReadReceipts(bob.userId, false);
        const members = await repo.memberReceipts(conversationId);
        const byUser = new Map(members.map((m) => [m.userId, m]));
        expect(members).toHaveLength(2);
        expect(byUser.get(bob.userId)).toEqual({
          userId: bob.userId,
          joinedSeq: 0,
          leftSeq: null,
          deliveredSeq: 2,
          readSeq: 2,
          readReceipts: false,
          deliveredAt: at,
          readAt: at,
        });
        expect(byUser.get(alice.userId)).toEqual({
          userId: alice.userId,
          joinedSeq: 0,
          leftSeq: null,
          deliveredSeq: 0,
          readSeq: 0,
          readReceipts: true,
          deliveredAt: null,
          readAt: null,
        });
        expect(await repo.memberReceipts(uuidv7())).toEqual([]);
      });

      it('readReceiptsOf defaults to true and follows setReadReceipts', async () => {
        const alice = await newUser();
        const bob = await newUser();
        const unknown = uuidv7();
        const settings = await repo.readReceiptsOf([alice.userId, bob.userId, unknown]);
        expect(Object.fromEntries(settings)).toEqual({
          [alice.userId]: true,
          [bob.userId]: true,
          [unknown]: true,
        });
        await repo.setReadReceipts(alice.userId, false);
        expect(Object.fromEntries(await repo.readReceiptsOf([alice.userId, bob.userId]))).toEqual({
          [alice.userId]: false,
          [bob.userId]: true,
        });
        await repo.setReadReceipts(alice.userId, false);
        expect((await repo.readReceiptsOf([alice.userId])).get(alice.userId)).toBe(false);
        await repo.setReadReceipts(alice.userId, true);
        expect((await repo.readReceiptsOf([alice.userId])).get(alice.userId)).toBe(true);
        expect((await repo.readReceiptsOf([])).size).toBe(0);
      });

      it('deleteWatermarkTimesBefore drops the older receipt times and counts them', async () => {
        const { alice, bob, conversationId } = await pair();
        await post(conversationId, alice, 4);
        const now = Date.now();
        await advance(conversationId, bob, 1, 'delivered', new Date(now - 12 * DAY));
        await advance(conversationId, bob, 2, 'read', new Date(now - 11 * DAY));
        await advance(conversationId, bob, 3, 'delivered', new Date(now - DAY));
        // Marks: delivered@1, delivered@2 and read@2 (read implies delivered), delivered@3.
        expect(await repo.deleteWatermarkTimesBefore(new Date(now - 10 * DAY))).toBe(3);
        expect(await repo.deleteWatermarkTimesBefore(new Date(now - 10 * DAY))).toBe(0);
        expect(
          (await repo.watermarkTimes(conversationId, 'delivered', 1)).get(bob.userId)!.getTime(),
        ).toBe(now - DAY);
        expect((await repo.watermarkTimes(conversationId, 'read', 1)).size).toBe(0);
        // The watermarks themselves stay.
        expect(await repo.findMembership(conversationId, bob.userId)).toMatchObject({
          deliveredSeq: 3,
          readSeq: 2,
        });
      });
    });

    describe('summaries', () => {
      it('lists the user’s conversations, most recent activity first, with the peers’ watermarks', async () => {
        const alice = await newUser();
        const bob = await newUser();
        const carol = await newUser();
        const withBob = (await repo.getOrCreateDirect(uuidv7(), alice.userId, bob.userId))
          .conversation.id;
        const withCarol = (await repo.getOrCreateDirect(uuidv7(), carol.userId, alice.userId))
          .conversation.id;
        await post(withCarol, carol, 1);
        await new Promise((r) => setTimeout(r, 10));
        await post(withBob, alice, 3);
        await advance(withBob, bob, 3, 'delivered');
        await advance(withBob, bob, 2, 'read');

        const list = await repo.listForUser(alice.userId);
        expect(list.map((s) => s.conversation.id)).toEqual([withBob, withCarol]);
        expect(list[0]).toMatchObject({
          peerId: bob.userId,
          peerDeliveredSeq: 3,
          peerReadSeq: 2,
          membership: { userId: alice.userId, deliveredSeq: 0, readSeq: 0 },
          conversation: { lastSeq: 3 },
        });
        expect(list[1]).toMatchObject({ peerId: carol.userId, peerDeliveredSeq: 0 });
        expect(await repo.summaryFor(withBob, alice.userId)).toEqual(list[0]);
        expect(await repo.summaryFor(withBob, carol.userId)).toBeNull();

        // A peer who does not share read receipts shows 0.
        await repo.setReadReceipts(bob.userId, false);
        expect((await repo.summaryFor(withBob, alice.userId))!.peerReadSeq).toBe(0);
        expect((await repo.summaryFor(withBob, bob.userId))!.peerId).toBe(alice.userId);
      });

      it('pushMembers lists active members with their mutes; devicePositions reads acked positions', async () => {
        const { alice, bob, conversationId } = await pair();
        await post(conversationId, alice, 3);
        const until = new Date(Date.now() + DAY);
        expect(await repo.setMutedUntil(conversationId, bob.userId, until)).toBe(true);
        expect(await repo.setMutedUntil(conversationId, (await newUser()).userId, until)).toBe(
          false,
        );
        expect((await repo.findMembership(conversationId, bob.userId))!.mutedUntil).toEqual(until);
        const target = await repo.pushMembers(conversationId);
        expect(target!.lastSeq).toBe(3);
        expect([...target!.members].sort((a, b) => a.userId.localeCompare(b.userId))).toEqual(
          [
            { userId: alice.userId, joinedSeq: 0, readSeq: 0, mutedUntil: null },
            { userId: bob.userId, joinedSeq: 0, readSeq: 0, mutedUntil: until },
          ].sort((a, b) => a.userId.localeCompare(b.userId)),
        );
        expect(await repo.pushMembers(uuidv7())).toBeNull();
        await repo.setMutedUntil(conversationId, bob.userId, null);
        expect((await repo.findMembership(conversationId, bob.userId))!.mutedUntil).toBeNull();

        await repo.advance({
          conversationId,
          userId: bob.userId,
          deviceId: bob.deviceId,
          seq: 2,
          status: 'delivered',
          at: new Date(),
        });
        const other = uuidv7();
        const positions = await repo.devicePositions(conversationId, [bob.deviceId, other]);
        expect([...positions]).toEqual([[bob.deviceId, 2]]);
        expect((await repo.devicePositions(conversationId, [])).size).toBe(0);
      });

      it('setDisappearing changes the timer with a system message, once per new value', async () => {
        const { alice, bob, conversationId } = await pair();
        await post(conversationId, bob, 2);

        const first = await repo.setDisappearing(conversationId, alice, 86_400);
        if (first.kind !== 'changed') throw new Error(`refused: ${first.reason}`);
        expect(first.conversation.disappearAfterSec).toBe(86_400);
        expect(first.conversation.lastSeq).toBe(3);
        expect(first.message).toMatchObject({
          conversationId,
          seq: 3,
          type: 'system',
          senderId: alice.userId,
          senderDeviceId: alice.deviceId,
          expiresAt: null,
        });
        expect(JSON.parse(first.message!.body!)).toEqual({
          event: 'disappearing_changed',
          actorId: alice.userId,
          disappearAfterSec: 86_400,
        });
        expect(await harness.messages.findById(first.message!.id)).toEqual(
          expect.objectContaining({ seq: 3, type: 'system', body: first.message!.body }),
        );

        // The value it has already: no message, no seq.
        const again = await repo.setDisappearing(conversationId, bob, 86_400);
        expect(again).toMatchObject({ kind: 'changed', message: null });
        expect((await repo.findById(conversationId))!.lastSeq).toBe(3);

        const off = await repo.setDisappearing(conversationId, bob, 0);
        expect(off).toMatchObject({ kind: 'changed', message: { seq: 4 } });
        expect((await repo.findById(conversationId))!.disappearAfterSec).toBe(0);
        expect((await repo.summaryFor(conversationId, alice.userId))!.conversation).toMatchObject({
          disappearAfterSec: 0,
        });
      });

      it('setDisappearing refuses strangers and unknown conversations, changing nothing', async () => {
        const { conversationId } = await pair();
        const stranger = await newUser();
        expect(await repo.setDisappearing(conversationId, stranger, 604_800)).toEqual({
          kind: 'rejected',
          reason: 'not_a_member',
        });
        expect(await repo.setDisappearing(uuidv7(), stranger, 604_800)).toEqual({
          kind: 'rejected',
          reason: 'conversation_not_found',
        });
        expect(await repo.findById(conversationId)).toMatchObject({
          disappearAfterSec: 0,
          lastSeq: 0,
        });
      });

      it('pages the list in the same order, by key, without gaps or repeats', async () => {
        const alice = await newUser();
        const ids: string[] = [];
        for (let i = 0; i < 5; i++) {
          const other = await newUser();
          ids.push(
            (await repo.getOrCreateDirect(uuidv7(), alice.userId, other.userId)).conversation.id,
          );
        }
        const whole = (await repo.listForUser(alice.userId)).map((s) => s.conversation.id);
        expect([...whole].sort()).toEqual([...ids].sort());
        const paged: string[] = [];
        let after: { activityMicros: string; id: string } | null = null;
        for (;;) {
          const page = await repo.listPageForUser(alice.userId, after, 2);
          paged.push(...page.map((p) => p.summary.conversation.id));
          if (page.length < 2) break;
          after = page[page.length - 1].key;
        }
        expect(paged).toEqual(whole);
        expect(await repo.listPageForUser(uuidv7(), null, 10)).toEqual([]);
      });

      it('partnersOf lists the users sharing an active conversation, once each', async () => {
        const { alice, bob } = await pair();
        const carol = await newUser();
        await repo.getOrCreateDirect(uuidv7(), alice.userId, carol.userId);
        await newUser();
        expect((await repo.partnersOf(alice.userId)).sort()).toEqual(
          [bob.userId, carol.userId].sort(),
        );
        expect(await repo.partnersOf(bob.userId)).toEqual([alice.userId]);
      });

      it('sharedWith tells which users share an active conversation with the user', async () => {
        const { alice, bob } = await pair();
        const carol = await newUser();
        const shared = await repo.sharedWith(alice.userId, [bob.userId, carol.userId, uuidv7()]);
        expect([...shared]).toEqual([bob.userId]);
        expect((await repo.sharedWith(alice.userId, [])).size).toBe(0);
        expect((await repo.sharedWith(alice.userId, [alice.userId])).size).toBe(0);
      });
    });
  });
}

conversationRepositoryContract('postgres', async () => {
  const t = await startTestApp();
  return {
    conversations: t.app.get(ConversationRepository, { strict: false }),
    messages: t.app.get(MessageRepository, { strict: false }),
    newUser: async () => {
      const s = await signIn(t);
      return { userId: s.userId, deviceId: s.deviceId };
    },
    close: () => t.close(),
  };
});
