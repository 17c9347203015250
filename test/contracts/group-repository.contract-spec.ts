import { uuidv7 } from 'uuidv7';
import { AuthRepository } from '../../src/modules/auth/ports/auth.repository';
import { ConversationRepository } from '../../src/modules/chat/ports/conversation.repository';
import { MessageRepository } from '../../src/modules/chat/ports/message.repository';
import type { StoredMessage } from '../../src/modules/chat/domain/message';
import type { Group, GroupEvent } from '../../src/modules/groups/domain/group';
import {
  GroupRepository,
  type Actor,
  type ChangeResult,
} from '../../src/modules/groups/ports/group.repository';
import { UserRepository } from '../../src/modules/users/ports/user.repository';
import { uniquePhone } from '../utils/clients';
import { startTestApp } from '../utils/test-app';

/**
 * What an adapter under test provides: a repository over empty storage, users with a
 * device that can act, a look at the stored membership window and messages of a group
 * (through the chat ports the group state shares), and a way to release it all.
 */
export interface GroupRepositoryHarness {
  repository: GroupRepository;
  newActor(): Promise<Actor>;
  /** (joinedSeq, leftSeq]: the seqs the user may see; null if never a member. */
  membership(
    groupId: string,
    userId: string,
  ): Promise<{ joinedSeq: number; leftSeq: number | null } | null>;
  /** Every stored message of the group, in seq order. */
  messages(groupId: string): Promise<StoredMessage[]>;
  close(): Promise<void>;
}

const CAP = 1024;
const bodyOf = (m: StoredMessage) => JSON.parse(m.body ?? 'null') as GroupEvent;
const eventsOf = (r: ChangeResult) => r.events.map(bodyOf);
const seqsOf = (r: ChangeResult) => r.events.map((m) => m.seq);
const range = (from: number, to: number) =>
  Array.from({ length: to - from + 1 }, (_, i) => from + i);

/**
 * The behaviour every GroupRepository adapter must have. Run it against each adapter with
 * a factory that returns a fresh repository.
 */
export function groupRepositoryContract(
  adapter: string,
  factory: () => Promise<GroupRepositoryHarness>,
): void {
  describe(`GroupRepository contract: ${adapter}`, () => {
    let harness: GroupRepositoryHarness;
    let repo: GroupRepository;

    beforeAll(async () => {
      harness = await factory();
      repo = harness.repository;
    });
    afterAll(async () => {
      await harness.close();
    });

    const actors = (n: number) => Promise.all(Array.from({ length: n }, () => harness.newActor()));

    /** A group made by `creator` with the others as members, in that order. */
    const newGroup = async (
      creator: Actor,
      others: Actor[],
      name = 'Group',
      description = '',
    ): Promise<ChangeResult> =>
      repo.create({
        id: uuidv7(),
        actor: creator,
        name,
        description,
        memberIds: others.map((a) => a.userId),
      });

    /** The seq the group's next system message gets: proves nothing else was appended. */
    const lastSeq = async (groupId: string) => {
      const stored = await harness.messages(groupId);
      return stored.length ? stored[stored.length - 1].seq : 0;
    };

    describe('create', () => {
      it('stores the group with its creator and members, and announces it at seq 1', async () => {
        const [creator, a, b] = await actors(3);
        const id = uuidv7();
        const result = await repo.create({
          id,
          actor: creator,
          name: 'Climbers',
          description: 'Weekend trips',
          memberIds: [a.userId, b.userId],
        });
        expect(result.group).toEqual<Group>({
          id,
          name: 'Climbers',
          description: 'Weekend trips',
          createdBy: creator.userId,
          memberCount: 3,
          iconMediaId: null,
          settings: { onlyAdminsCanSend: false, onlyAdminsCanEditInfo: false },
          createdAt: expect.any(Date),
        });
        expect(Math.abs(result.group.createdAt.getTime() - Date.now())).toBeLessThan(60_000);
        expect(await repo.find(id)).toEqual(result.group);

        expect(result.events).toHaveLength(1);
        expect(result.events[0]).toMatchObject({
          conversationId: id,
          seq: 1,
          senderId: creator.userId,
          senderDeviceId: creator.deviceId,
          type: 'system',
        });
        expect(eventsOf(result)).toEqual([
          {
            event: 'group_created',
            actorId: creator.userId,
            userIds: [a.userId, b.userId],
            name: 'Climbers',
          },
        ]);
        const stored = await harness.messages(id);
        expect(stored.map((m) => [m.id, m.seq, m.type, m.body])).toEqual([
          [result.events[0].id, 1, 'system', result.events[0].body],
        ]);

        expect(await repo.activeRole(id, creator.userId)).toBe('creator');
        expect(await repo.activeRole(id, a.userId)).toBe('member');
        expect(await repo.activeRole(id, uuidv7())).toBeNull();
        // Founding members see the group from its first message.
        expect(await harness.membership(id, a.userId)).toEqual({ joinedSeq: 0, leftSeq: null });
      });

      it('does not add the creator twice when the member ids name them', async () => {
        const [creator, a] = await actors(2);
        const result = await repo.create({
          id: uuidv7(),
          actor: creator,
          name: 'Self',
          description: '',
          memberIds: [creator.userId, a.userId],
        });
        expect(result.group.memberCount).toBe(2);
        expect(eventsOf(result)[0].userIds).toEqual([a.userId]);
        const members = await repo.members(result.group.id);
        expect(members.map((m) => [m.userId, m.role])).toEqual([
          [creator.userId, 'creator'],
          [a.userId, 'member'],
        ]);
      });

      it('creates a group of the creator alone', async () => {
        const [creator] = await actors(1);
        const result = await newGroup(creator, []);
        expect(result.group.memberCount).toBe(1);
        expect(eventsOf(result)).toEqual([
          { event: 'group_created', actorId: creator.userId, userIds: [], name: 'Group' },
        ]);
      });

      it('finds nothing for an unknown id', async () => {
        expect(await repo.find(uuidv7())).toBeNull();
        expect(await repo.members(uuidv7())).toEqual([]);
      });
    });

    describe('members and membersPage', () => {
      it('lists active members in joining order, creator first', async () => {
        const [creator, a, b, c, d] = await actors(5);
        const { group } = await newGroup(creator, [b, a]);
        await repo.addMembers(group.id, creator, [d.userId, c.userId], CAP);
        const members = await repo.members(group.id);
        expect(members.slice(0, 3).map((m) => m.userId)).toEqual([
          creator.userId,
          b.userId,
          a.userId,
        ]);
        // The later additions come after the founders (their order among themselves is free).
        expect(
          members
            .slice(3)
            .map((m) => m.userId)
            .sort(),
        ).toEqual([c.userId, d.userId].sort());
        expect(members.map((m) => m.role)).toEqual([
          'creator',
          'member',
          'member',
          'member',
          'member',
        ]);
        for (let i = 1; i < members.length; i++) {
          expect(members[i].joinedAt.getTime()).toBeGreaterThanOrEqual(
            members[i - 1].joinedAt.getTime(),
          );
        }
      });

      it('pages by userId, after a cursor, leaving out removed members', async () => {
        const everyone = await actors(12);
        const [creator, ...others] = everyone;
        const { group } = await newGroup(creator, others);
        const gone = others[4];
        await repo.removeMember(group.id, creator, gone.userId);
        const expected = everyone
          .map((a) => a.userId)
          .filter((id) => id !== gone.userId)
          .sort();

        const seen: string[] = [];
        let cursor: string | null = null;
        const pageSizes: number[] = [];
        for (;;) {
          const page = await repo.membersPage(group.id, cursor, 4);
          pageSizes.push(page.length);
          seen.push(...page.map((m) => m.userId));
          if (page.length < 4) break;
          cursor = page[page.length - 1].userId;
        }
        expect(seen).toEqual(expected);
        expect(pageSizes).toEqual([4, 4, 3]);

        const all = await repo.membersPage(group.id, null, 100);
        expect(all.map((m) => m.userId)).toEqual(expected);
        expect(all.find((m) => m.userId === creator.userId)!.role).toBe('creator');
        expect(await repo.membersPage(group.id, expected[expected.length - 1], 100)).toEqual([]);
        // A cursor between ids works as well as a member's id.
        const middle = await repo.membersPage(group.id, gone.userId, 100);
        expect(middle.map((m) => m.userId)).toEqual(expected.filter((id) => id > gone.userId));
      });
    });

    describe('addMembers', () => {
      it('adds new members after one members_added event, visible from that event on', async () => {
        const [creator, a, b, c] = await actors(4);
        const { group } = await newGroup(creator, [a]);
        const result = await repo.addMembers(group.id, creator, [b.userId, c.userId], CAP);
        if ('full' in result) throw new Error('unexpectedly full');
        expect(result.group.memberCount).toBe(4);
        expect(seqsOf(result)).toEqual([2]);
        expect(result.events[0]).toMatchObject({ type: 'system', senderId: creator.userId });
        expect(eventsOf(result)).toEqual([
          { event: 'members_added', actorId: creator.userId, userIds: [b.userId, c.userId] },
        ]);
        expect(await repo.activeRole(group.id, b.userId)).toBe('member');
        expect(await harness.membership(group.id, b.userId)).toEqual({
          joinedSeq: 1,
          leftSeq: null,
        });
        expect((await repo.find(group.id))!.memberCount).toBe(4);
      });

      it('ignores active members, and appends nothing when nobody is new', async () => {
        const [creator, a, b] = await actors(3);
        const { group } = await newGroup(creator, [a]);
        const mixed = await repo.addMembers(
          group.id,
          creator,
          [a.userId, creator.userId, b.userId, b.userId],
          CAP,
        );
        if ('full' in mixed) throw new Error('unexpectedly full');
        expect(eventsOf(mixed)).toEqual([
          { event: 'members_added', actorId: creator.userId, userIds: [b.userId] },
        ]);
        expect(mixed.group.memberCount).toBe(3);
        expect(await repo.activeRole(group.id, creator.userId)).toBe('creator');

        const none = await repo.addMembers(group.id, creator, [a.userId, b.userId], CAP);
        expect(none).toEqual({ group: expect.objectContaining({ memberCount: 3 }), events: [] });
        expect(await lastSeq(group.id)).toBe(2);
      });

      it('counts only new members against the cap', async () => {
        const [creator, a, b] = await actors(3);
        const { group } = await newGroup(creator, [a]);
        const result = await repo.addMembers(group.id, creator, [a.userId, b.userId], 3);
        expect('full' in result).toBe(false);
        expect((await repo.find(group.id))!.memberCount).toBe(3);
      });

      it('returns full and adds nobody when the cap would be passed', async () => {
        const [creator, a, b, c] = await actors(4);
        const { group } = await newGroup(creator, [a]);
        const outcome = await repo.addMembers(group.id, creator, [b.userId, c.userId], 3);
        expect(outcome).toEqual({ full: true, memberCount: 2 });
        expect(await repo.activeRole(group.id, b.userId)).toBeNull();
        expect(await repo.activeRole(group.id, c.userId)).toBeNull();
        expect((await repo.find(group.id))!.memberCount).toBe(2);
        expect(await lastSeq(group.id)).toBe(1);
        // Exactly at the cap is allowed.
        const fits = await repo.addMembers(group.id, creator, [b.userId], 3);
        expect('full' in fits).toBe(false);
        expect((await repo.find(group.id))!.memberCount).toBe(3);
      });

      it('never passes the cap under concurrent additions, and adds all or nothing of each', async () => {
        const [creator, ...founders] = await actors(5);
        const { group } = await newGroup(creator, founders);
        const batches = await Promise.all(Array.from({ length: 6 }, () => actors(2)));
        // 5 members and a cap of 9: two of the six batches of two fit, whichever comes first.
        const outcomes = await Promise.all(
          batches.map((batch) =>
            repo.addMembers(
              group.id,
              creator,
              batch.map((a) => a.userId),
              9,
            ),
          ),
        );
        const added = outcomes.filter((o) => !('full' in o));
        expect(added).toHaveLength(2);
        expect(outcomes.filter((o) => 'full' in o)).toHaveLength(4);
        expect((await repo.find(group.id))!.memberCount).toBe(9);
        expect(await repo.members(group.id)).toHaveLength(9);
        for (const [i, batch] of batches.entries()) {
          const roles = await Promise.all(batch.map((a) => repo.activeRole(group.id, a.userId)));
          const succeeded = !('full' in outcomes[i]);
          expect(roles).toEqual(succeeded ? ['member', 'member'] : [null, null]);
        }
        // One event per successful addition, at consecutive seqs.
        const stored = await harness.messages(group.id);
        expect(stored.map((m) => m.seq)).toEqual([1, 2, 3]);
        expect(stored.slice(1).map((m) => bodyOf(m).event)).toEqual([
          'members_added',
          'members_added',
        ]);
      });

      it('lets a removed member back in, visible from the new announcement', async () => {
        const [creator, a] = await actors(2);
        const { group } = await newGroup(creator, [a]);
        await repo.removeMember(group.id, creator, a.userId); // seq 2
        const back = await repo.addMembers(group.id, creator, [a.userId], CAP);
        if ('full' in back) throw new Error('unexpectedly full');
        expect(seqsOf(back)).toEqual([3]);
        expect(back.group.memberCount).toBe(2);
        expect(await repo.activeRole(group.id, a.userId)).toBe('member');
        expect(await harness.membership(group.id, a.userId)).toEqual({
          joinedSeq: 2,
          leftSeq: null,
        });
      });

      it('fails for an unknown group', async () => {
        const [actor, a] = await actors(2);
        await expect(repo.addMembers(uuidv7(), actor, [a.userId], CAP)).rejects.toThrow();
      });
    });

    describe('removeMember', () => {
      it('ends a membership at the event announcing it', async () => {
        const [creator, a, b] = await actors(3);
        const { group } = await newGroup(creator, [a, b]);
        const result = await repo.removeMember(group.id, creator, a.userId);
        expect(seqsOf(result)).toEqual([2]);
        expect(eventsOf(result)).toEqual([
          { event: 'member_removed', actorId: creator.userId, userIds: [a.userId] },
        ]);
        expect(result.group.memberCount).toBe(2);
        expect(await repo.activeRole(group.id, a.userId)).toBeNull();
        expect(await harness.membership(group.id, a.userId)).toEqual({ joinedSeq: 0, leftSeq: 2 });
        expect((await repo.members(group.id)).map((m) => m.userId)).toEqual([
          creator.userId,
          b.userId,
        ]);
      });

      it('records leaving as member_left', async () => {
        const [creator, a] = await actors(2);
        const { group } = await newGroup(creator, [a]);
        const result = await repo.removeMember(group.id, a, a.userId);
        expect(eventsOf(result)).toEqual([
          { event: 'member_left', actorId: a.userId, userIds: [a.userId] },
        ]);
        expect(result.events[0]).toMatchObject({ senderId: a.userId, senderDeviceId: a.deviceId });
        expect(await harness.membership(group.id, a.userId)).toEqual({ joinedSeq: 0, leftSeq: 2 });
      });

      it('fails for someone who is not an active member, appending nothing', async () => {
        const [creator, a, stranger] = await actors(3);
        const { group } = await newGroup(creator, [a]);
        await repo.removeMember(group.id, creator, a.userId);
        await expect(repo.removeMember(group.id, creator, a.userId)).rejects.toThrow();
        await expect(repo.removeMember(group.id, creator, stranger.userId)).rejects.toThrow();
        await expect(repo.removeMember(uuidv7(), creator, a.userId)).rejects.toThrow();
        expect(await lastSeq(group.id)).toBe(2);
        expect((await repo.find(group.id))!.memberCount).toBe(1);
      });

      it('makes the longest-standing member admin when the last admin leaves', async () => {
        const [creator, a, b, c, d] = await actors(5);
        const { group } = await newGroup(creator, [a, b, c]);
        await repo.removeMember(group.id, creator, a.userId); // seq 2: a is gone
        await repo.addMembers(group.id, creator, [d.userId], CAP); // seq 3
        const result = await repo.removeMember(group.id, creator, creator.userId);
        expect(seqsOf(result)).toEqual([4, 5]);
        expect(eventsOf(result)).toEqual([
          { event: 'member_left', actorId: creator.userId, userIds: [creator.userId] },
          {
            event: 'admin_assigned',
            actorId: null,
            userIds: [b.userId],
            reason: 'last_admin_left',
          },
        ]);
        expect(await repo.activeRole(group.id, b.userId)).toBe('admin');
        expect(await repo.activeRole(group.id, c.userId)).toBe('member');
        // The leaver's window ends at their own announcement, not at the one after it.
        expect(await harness.membership(group.id, creator.userId)).toEqual({
          joinedSeq: 0,
          leftSeq: 4,
        });
        expect((await harness.messages(group.id)).map((m) => m.seq)).toEqual([1, 2, 3, 4, 5]);

        // The heir leaving hands over to the next in line: c founded the group, d came later.
        const next = await repo.removeMember(group.id, b, b.userId);
        expect(eventsOf(next).map((e) => [e.event, e.userIds])).toEqual([
          ['member_left', [b.userId]],
          ['admin_assigned', [c.userId]],
        ]);
      });

      it('assigns nobody while another admin remains, or when nobody remains', async () => {
        const [creator, a, b] = await actors(3);
        const { group } = await newGroup(creator, [a, b]);
        await repo.setRole(group.id, creator, a.userId, 'admin');
        const creatorLeaves = await repo.removeMember(group.id, creator, creator.userId);
        expect(eventsOf(creatorLeaves).map((e) => e.event)).toEqual(['member_left']);
        expect(await repo.activeRole(group.id, b.userId)).toBe('member');

        const solo = await newGroup(creator, []);
        const last = await repo.removeMember(solo.group.id, creator, creator.userId);
        expect(eventsOf(last).map((e) => e.event)).toEqual(['member_left']);
        expect(last.group.memberCount).toBe(0);
        expect(await repo.members(solo.group.id)).toEqual([]);
      });
    });

    describe('setRole', () => {
      it('promotes and demotes with one role_changed event each', async () => {
        const [creator, a] = await actors(2);
        const { group } = await newGroup(creator, [a]);
        const up = await repo.setRole(group.id, creator, a.userId, 'admin');
        expect(seqsOf(up)).toEqual([2]);
        expect(eventsOf(up)).toEqual([
          { event: 'role_changed', actorId: creator.userId, userIds: [a.userId], role: 'admin' },
        ]);
        expect(await repo.activeRole(group.id, a.userId)).toBe('admin');

        const down = await repo.setRole(group.id, a, a.userId, 'member');
        expect(eventsOf(down)).toEqual([
          { event: 'role_changed', actorId: a.userId, userIds: [a.userId], role: 'member' },
        ]);
        expect(await repo.activeRole(group.id, a.userId)).toBe('member');
      });

      it('changes nothing for the same role, the creator, or a non-member', async () => {
        const [creator, a, stranger] = await actors(3);
        const { group } = await newGroup(creator, [a]);
        expect((await repo.setRole(group.id, creator, a.userId, 'member')).events).toEqual([]);
        expect((await repo.setRole(group.id, creator, creator.userId, 'member')).events).toEqual(
          [],
        );
        expect(await repo.activeRole(group.id, creator.userId)).toBe('creator');
        expect((await repo.setRole(group.id, creator, stranger.userId, 'admin')).events).toEqual(
          [],
        );
        expect(await repo.activeRole(group.id, stranger.userId)).toBeNull();
        expect(await lastSeq(group.id)).toBe(1);
      });

      it('refuses to let the last admin step down, changing nothing', async () => {
        const [creator, a, b] = await actors(3);
        const { group } = await newGroup(creator, [a, b]);
        await repo.removeMember(group.id, creator, creator.userId); // a becomes admin: seqs 2, 3
        expect(await repo.activeRole(group.id, a.userId)).toBe('admin');
        await expect(repo.setRole(group.id, a, a.userId, 'member')).rejects.toThrow();
        expect(await repo.activeRole(group.id, a.userId)).toBe('admin');
        expect(await lastSeq(group.id)).toBe(3);
        // With a second admin, stepping down is fine.
        await repo.setRole(group.id, a, b.userId, 'admin');
        const down = await repo.setRole(group.id, a, a.userId, 'member');
        expect(seqsOf(down)).toEqual([5]);
      });

      it('fails for an unknown group', async () => {
        const [actor, a] = await actors(2);
        await expect(repo.setRole(uuidv7(), actor, a.userId, 'admin')).rejects.toThrow();
      });
    });

    describe('update', () => {
      it('appends one event per kind of change, in a fixed order', async () => {
        const [creator, a] = await actors(2);
        const { group } = await newGroup(creator, [a], 'Old', 'old text');
        const all = await repo.update(group.id, a, {
          onlyAdminsCanSend: true,
          description: 'new text',
          onlyAdminsCanEditInfo: true,
          name: 'New',
        });
        expect(seqsOf(all)).toEqual([2, 3, 4]);
        expect(eventsOf(all)).toEqual([
          { event: 'group_renamed', actorId: a.userId, userIds: [], name: 'New' },
          { event: 'description_changed', actorId: a.userId, userIds: [], description: 'new text' },
          {
            event: 'settings_changed',
            actorId: a.userId,
            userIds: [],
            settings: { onlyAdminsCanSend: true, onlyAdminsCanEditInfo: true },
          },
        ]);
        expect(all.group).toMatchObject({
          name: 'New',
          description: 'new text',
          settings: { onlyAdminsCanSend: true, onlyAdminsCanEditInfo: true },
        });
        expect(await repo.find(group.id)).toEqual(all.group);
      });

      it('announces each field alone, and only the settings that change', async () => {
        const [creator] = await actors(1);
        const { group } = await newGroup(creator, [], 'Name', 'text');
        expect(eventsOf(await repo.update(group.id, creator, { name: 'Renamed' }))).toEqual([
          { event: 'group_renamed', actorId: creator.userId, userIds: [], name: 'Renamed' },
        ]);
        expect(eventsOf(await repo.update(group.id, creator, { description: '' }))).toEqual([
          { event: 'description_changed', actorId: creator.userId, userIds: [], description: '' },
        ]);
        const settings = await repo.update(group.id, creator, {
          onlyAdminsCanSend: true,
          onlyAdminsCanEditInfo: false,
        });
        expect(eventsOf(settings)).toEqual([
          {
            event: 'settings_changed',
            actorId: creator.userId,
            userIds: [],
            settings: { onlyAdminsCanSend: true },
          },
        ]);
        const found = (await repo.find(group.id))!;
        expect(found).toMatchObject({
          name: 'Renamed',
          description: '',
          settings: { onlyAdminsCanSend: true, onlyAdminsCanEditInfo: false },
        });
        expect(await lastSeq(group.id)).toBe(4);
      });

      it('appends nothing for a patch that changes nothing', async () => {
        const [creator] = await actors(1);
        const { group } = await newGroup(creator, [], 'Same', 'same');
        expect((await repo.update(group.id, creator, {})).events).toEqual([]);
        const same = await repo.update(group.id, creator, {
          name: 'Same',
          description: 'same',
          onlyAdminsCanSend: false,
          onlyAdminsCanEditInfo: false,
        });
        expect(same).toEqual({ group: await repo.find(group.id), events: [] });
        expect(await lastSeq(group.id)).toBe(1);
      });

      it('sets, keeps and removes the icon, announcing each change', async () => {
        const [creator] = await actors(1);
        const { group } = await newGroup(creator, [], 'Icons', '');
        const icon = uuidv7();
        const set = await repo.update(group.id, creator, { iconMediaId: icon });
        expect(eventsOf(set)).toEqual([
          { event: 'icon_changed', actorId: creator.userId, userIds: [], hasIcon: true },
        ]);
        expect(set.group.iconMediaId).toBe(icon);
        // Other edits leave the icon alone; the same icon again changes nothing.
        await repo.update(group.id, creator, { name: 'Renamed' });
        expect((await repo.update(group.id, creator, { iconMediaId: icon })).events).toEqual([]);
        expect((await repo.find(group.id))!.iconMediaId).toBe(icon);
        const removed = await repo.update(group.id, creator, { iconMediaId: null });
        expect(eventsOf(removed)).toEqual([
          { event: 'icon_changed', actorId: creator.userId, userIds: [], hasIcon: false },
        ]);
        expect((await repo.find(group.id))!.iconMediaId).toBeNull();
        expect(await lastSeq(group.id)).toBe(4);
      });

      it('fails for an unknown group', async () => {
        const [actor] = await actors(1);
        await expect(repo.update(uuidv7(), actor, { name: 'x' })).rejects.toThrow();
      });
    });

    describe('system events', () => {
      it('take consecutive seqs across every kind of change, stored as returned', async () => {
        const [creator, a, b, c] = await actors(4);
        const results: ChangeResult[] = [];
        const created = await newGroup(creator, [a]);
        const id = created.group.id;
        results.push(created);
        const added = await repo.addMembers(id, creator, [b.userId, c.userId], CAP);
        if ('full' in added) throw new Error('unexpectedly full');
        results.push(added);
        results.push(await repo.setRole(id, creator, a.userId, 'admin'));
        results.push(await repo.update(id, a, { name: 'Renamed', onlyAdminsCanSend: true }));
        results.push(await repo.removeMember(id, a, b.userId));
        results.push(await repo.removeMember(id, c, c.userId));
        results.push(await repo.removeMember(id, a, a.userId));
        results.push(await repo.removeMember(id, creator, creator.userId));

        const returned = results.flatMap((r) => r.events);
        expect(returned.map((m) => m.seq)).toEqual(range(1, returned.length));
        expect(returned.map((m) => bodyOf(m).event)).toEqual([
          'group_created',
          'members_added',
          'role_changed',
          'group_renamed',
          'settings_changed',
          'member_removed',
          'member_left',
          'member_left',
          'member_left',
        ]);
        const stored = await harness.messages(id);
        expect(stored.map((m) => [m.id, m.seq, m.type, m.body])).toEqual(
          returned.map((m) => [m.id, m.seq, 'system', m.body]),
        );
        expect(new Set(stored.map((m) => m.clientMsgId)).size).toBe(stored.length);
      });

      it('stay gapless and unique when changes race', async () => {
        const [creator, ...others] = await actors(9);
        const { group } = await newGroup(creator, others.slice(0, 4));
        const late = others.slice(4);
        const results = await Promise.all([
          ...late.map((a) => repo.addMembers(group.id, creator, [a.userId], CAP)),
          ...others.slice(0, 4).map((a) => repo.removeMember(group.id, a, a.userId)),
          ...[1, 2, 3].map((n) => repo.update(group.id, creator, { name: `Name ${n}` })),
        ]);
        const seqs = results.flatMap((r) => ('full' in r ? [] : r.events.map((m) => m.seq)));
        expect(seqs.sort((x, y) => x - y)).toEqual(range(2, 12));
        const stored = await harness.messages(group.id);
        expect(stored.map((m) => m.seq)).toEqual(range(1, 12));
        expect((await repo.find(group.id))!.memberCount).toBe(5);
        expect((await repo.members(group.id)).map((m) => m.userId).sort()).toEqual(
          [creator.userId, ...late.map((a) => a.userId)].sort(),
        );
      });
    });
  });
}

groupRepositoryContract('postgres', async () => {
  const t = await startTestApp();
  const users = t.app.get(UserRepository, { strict: false });
  const auth = t.app.get(AuthRepository, { strict: false });
  const conversations = t.app.get(ConversationRepository, { strict: false });
  const messages = t.app.get(MessageRepository, { strict: false });
  return {
    repository: t.app.get(GroupRepository, { strict: false }),
    newActor: async () => {
      const { user } = await users.findOrCreateByPhone(uuidv7(), uniquePhone());
      const device = await auth.createDevice({
        id: uuidv7(),
        userId: user.id,
        name: 'Phone',
        platform: 'android',
      });
      return { userId: user.id, deviceId: device.id };
    },
    membership: async (groupId, userId) => {
      const m = await conversations.findMembership(groupId, userId);
      return m ? { joinedSeq: m.joinedSeq, leftSeq: m.leftSeq } : null;
    },
    messages: async (groupId) => {
      const page = await messages.history({
        conversationId: groupId,
        minSeqExclusive: 0,
        maxSeq: Number.MAX_SAFE_INTEGER,
        afterSeq: 0,
        limit: 1000,
        viewerId: uuidv7(),
      });
      return page.messages;
    },
    close: () => t.close(),
  };
});
