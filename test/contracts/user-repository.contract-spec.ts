import { uuidv7 } from 'uuidv7';
import type { User } from '../../src/modules/users/domain/user';
import { UserRepository } from '../../src/modules/users/ports/user.repository';
import { uniquePhone } from '../utils/clients';
import { startTestApp } from '../utils/test-app';

/** What an adapter under test provides: a repository over empty storage, and a way to release it. */
export interface UserRepositoryHarness {
  repository: UserRepository;
  close(): Promise<void>;
}

const ids = (users: Array<{ id: string }>) => users.map((u) => u.id).sort();
const contactIds = (contacts: Array<{ userId: string }>) => contacts.map((c) => c.userId).sort();

/**
 * The behaviour every UserRepository adapter must have. Run it against each adapter with a
 * factory that returns a fresh repository.
 */
export function userRepositoryContract(
  adapter: string,
  factory: () => Promise<UserRepositoryHarness>,
): void {
  describe(`UserRepository contract: ${adapter}`, () => {
    let harness: UserRepositoryHarness;
    let repo: UserRepository;

    beforeAll(async () => {
      harness = await factory();
      repo = harness.repository;
    });
    afterAll(async () => {
      await harness.close();
    });

    const newUser = async (displayName?: string): Promise<User> => {
      const { user } = await repo.findOrCreateByPhone(uuidv7(), uniquePhone());
      if (displayName === undefined) return user;
      return (await repo.updateProfile(user.id, { displayName }))!;
    };

    describe('findOrCreateByPhone', () => {
      it('creates a user with the given id and the defaults', async () => {
        const id = uuidv7();
        const phone = uniquePhone();
        const before = Date.now();
        const { user, created } = await repo.findOrCreateByPhone(id, phone);
        expect(created).toBe(true);
        expect(user).toEqual({
          id,
          phone,
          displayName: '',
          about: '',
          lastSeenPrivacy: 'everyone',
          readReceipts: true,
          groupAddPrivacy: 'everyone',
          lastSeenAt: null,
          photoMediaId: null,
          createdAt: expect.any(Date),
          deletedAt: null,
        });
        expect(Math.abs(user.createdAt.getTime() - before)).toBeLessThan(60_000);
      });

      it('is idempotent: the same phone returns the existing user, ignoring the new id', async () => {
        const phone = uniquePhone();
        const first = await repo.findOrCreateByPhone(uuidv7(), phone);
        await repo.updateProfile(first.user.id, { displayName: 'Existing' });
        const second = await repo.findOrCreateByPhone(uuidv7(), phone);
        expect(second.created).toBe(false);
        expect(second.user.id).toBe(first.user.id);
        expect(second.user.displayName).toBe('Existing');
        expect(second.user.createdAt.getTime()).toBe(first.user.createdAt.getTime());
      });

      it('creates exactly one user when the same phone signs in concurrently', async () => {
        const phone = uniquePhone();
        const results = await Promise.all(
          Array.from({ length: 5 }, () => repo.findOrCreateByPhone(uuidv7(), phone)),
        );
        expect(results.filter((r) => r.created)).toHaveLength(1);
        expect(new Set(results.map((r) => r.user.id)).size).toBe(1);
      });

      it('gives different phones different users', async () => {
        const a = await repo.findOrCreateByPhone(uuidv7(), uniquePhone());
        const b = await repo.findOrCreateByPhone(uuidv7(), uniquePhone());
        expect(a.user.id).not.toBe(b.user.id);
        expect(b.created).toBe(true);
      });
    });

    describe('findById and findManyByIds', () => {
      it('finds a user by id, and null for an unknown id', async () => {
        const user = await newUser();
        expect(await repo.findById(user.id)).toEqual(user);
        expect(await repo.findById(uuidv7())).toBeNull();
      });

      it('returns the known users among the ids, each once', async () => {
        const a = await newUser();
        const b = await newUser();
        const c = await newUser();
        const found = await repo.findManyByIds([c.id, uuidv7(), a.id, c.id]);
        expect(ids(found)).toEqual([a.id, c.id].sort());
        expect(found.find((u) => u.id === a.id)).toEqual(a);
        expect(ids(await repo.findManyByIds([b.id]))).toEqual([b.id]);
      });

      it('returns an empty list for no ids or only unknown ones', async () => {
        expect(await repo.findManyByIds([])).toEqual([]);
        expect(await repo.findManyByIds([uuidv7(), uuidv7()])).toEqual([]);
      });
    });

    describe('updateProfile', () => {
      it('changes only the fields given and returns the updated user', async () => {
        const user = await newUser();
        const both = await repo.updateProfile(user.id, { displayName: 'Ada', about: 'Engines' });
        expect(both).toEqual({ ...user, displayName: 'Ada', about: 'Engines' });

        const aboutOnly = await repo.updateProfile(user.id, { about: 'Poetry' });
        expect(aboutOnly).toMatchObject({ displayName: 'Ada', about: 'Poetry' });

        const nameOnly = await repo.updateProfile(user.id, { displayName: 'Ada L.' });
        expect(nameOnly).toMatchObject({ displayName: 'Ada L.', about: 'Poetry' });

        const nothing = await repo.updateProfile(user.id, {});
        expect(nothing).toMatchObject({ displayName: 'Ada L.', about: 'Poetry' });

        expect(await repo.findById(user.id)).toEqual(nothing);
      });

      it('can clear a field with an empty string', async () => {
        const user = await newUser('Named');
        await repo.updateProfile(user.id, { about: 'Something' });
        const cleared = await repo.updateProfile(user.id, { about: '' });
        expect(cleared).toMatchObject({ displayName: 'Named', about: '' });
      });

      it('leaves privacy settings alone', async () => {
        const user = await newUser();
        await repo.updatePrivacy(user.id, { lastSeen: 'nobody', readReceipts: false });
        const updated = await repo.updateProfile(user.id, { displayName: 'X' });
        expect(updated).toMatchObject({ lastSeenPrivacy: 'nobody', readReceipts: false });
      });

      it('returns null for an unknown user', async () => {
        expect(await repo.updateProfile(uuidv7(), { displayName: 'Ghost' })).toBeNull();
      });
    });

    describe('updatePrivacy', () => {
      it('stores both settings and returns the updated user', async () => {
        const user = await newUser('Private');
        for (const [lastSeen, readReceipts] of [
          ['nobody', false],
          ['contacts', true],
          ['everyone', false],
        ] as const) {
          const updated = await repo.updatePrivacy(user.id, { lastSeen, readReceipts });
          expect(updated).toEqual({
            ...user,
            lastSeenPrivacy: lastSeen,
            readReceipts,
          });
          expect(await repo.findById(user.id)).toEqual(updated);
        }
      });

      it('stores groupAdd when given and keeps it when absent', async () => {
        const user = await newUser('Picky');
        expect(user.groupAddPrivacy).toBe('everyone');
        for (const groupAdd of ['nobody', 'contacts', 'everyone'] as const) {
          const updated = await repo.updatePrivacy(user.id, {
            lastSeen: 'everyone',
            readReceipts: true,
            groupAdd,
          });
          expect(updated!.groupAddPrivacy).toBe(groupAdd);
        }
        await repo.updatePrivacy(user.id, {
          lastSeen: 'everyone',
          readReceipts: true,
          groupAdd: 'nobody',
        });
        const kept = await repo.updatePrivacy(user.id, {
          lastSeen: 'contacts',
          readReceipts: true,
        });
        expect(kept).toMatchObject({ groupAddPrivacy: 'nobody', lastSeenPrivacy: 'contacts' });
      });

      it('returns null for an unknown user', async () => {
        expect(
          await repo.updatePrivacy(uuidv7(), { lastSeen: 'nobody', readReceipts: false }),
        ).toBeNull();
      });
    });

    describe('setPhoto', () => {
      it('sets, replaces and removes the photo, returning the one it replaced', async () => {
        const user = await newUser('Pic');
        const [first, second] = [uuidv7(), uuidv7()];
        expect(await repo.setPhoto(user.id, first)).toEqual({ previous: null });
        expect((await repo.findById(user.id))!.photoMediaId).toBe(first);
        expect(await repo.setPhoto(user.id, second)).toEqual({ previous: first });
        expect((await repo.findManyByIds([user.id]))[0].photoMediaId).toBe(second);
        expect(await repo.setPhoto(user.id, null)).toEqual({ previous: second });
        expect(await repo.setPhoto(user.id, null)).toEqual({ previous: null });
        expect(await repo.findById(user.id)).toEqual({ ...user, photoMediaId: null });
      });

      it('returns undefined for an unknown user', async () => {
        expect(await repo.setPhoto(uuidv7(), uuidv7())).toBeUndefined();
      });
    });

    describe('setLastSeen', () => {
      it('stores the given time, and a later call replaces it', async () => {
        const user = await newUser();
        const first = new Date('2030-01-02T03:04:05.678Z');
        await repo.setLastSeen(user.id, first);
        expect((await repo.findById(user.id))!.lastSeenAt!.getTime()).toBe(first.getTime());
        const second = new Date('2031-06-07T08:09:10.111Z');
        await repo.setLastSeen(user.id, second);
        expect((await repo.findById(user.id))!.lastSeenAt!.getTime()).toBe(second.getTime());
      });

      it('does nothing for an unknown user', async () => {
        await expect(repo.setLastSeen(uuidv7(), new Date())).resolves.toBeUndefined();
      });
    });

    describe('contacts', () => {
      it('returns the registered users among the phones, without the owner', async () => {
        const owner = await newUser('Owner');
        const bob = await newUser('Bob');
        const carol = await newUser('Carol');
        const result = await repo.replaceContacts(owner.id, [
          bob.phone,
          uniquePhone(),
          owner.phone,
          carol.phone,
        ]);
        expect([...result].sort((x, y) => x.userId.localeCompare(y.userId))).toEqual(
          [
            { userId: bob.id, phone: bob.phone, displayName: 'Bob' },
            { userId: carol.id, phone: carol.phone, displayName: 'Carol' },
          ].sort((x, y) => x.userId.localeCompare(y.userId)),
        );
        expect(contactIds(await repo.listContacts(owner.id))).toEqual(contactIds(result));
      });

      it('returns each registered user once when a phone is repeated', async () => {
        const owner = await newUser();
        const bob = await newUser('Bob');
        const result = await repo.replaceContacts(owner.id, [bob.phone, bob.phone, bob.phone]);
        expect(contactIds(result)).toEqual([bob.id]);
        expect(contactIds(await repo.listContacts(owner.id))).toEqual([bob.id]);
      });

      it('replaces the previous address book, and an empty list clears it', async () => {
        const owner = await newUser();
        const bob = await newUser('Bob');
        const carol = await newUser('Carol');
        const dave = await newUser('Dave');
        await repo.replaceContacts(owner.id, [bob.phone, carol.phone]);
        const replaced = await repo.replaceContacts(owner.id, [carol.phone, dave.phone]);
        expect(contactIds(replaced)).toEqual([carol.id, dave.id].sort());
        expect(contactIds(await repo.listContacts(owner.id))).toEqual([carol.id, dave.id].sort());
        expect(await repo.hasInContacts(owner.id, bob.id)).toBe(false);

        expect(await repo.replaceContacts(owner.id, [])).toEqual([]);
        expect(await repo.listContacts(owner.id)).toEqual([]);
        expect(await repo.hasInContacts(owner.id, carol.id)).toBe(false);
      });

      it('keeps unregistered phones, which show up once their owner registers', async () => {
        const owner = await newUser();
        const laterPhone = uniquePhone();
        expect(await repo.replaceContacts(owner.id, [laterPhone])).toEqual([]);
        const { user: later } = await repo.findOrCreateByPhone(uuidv7(), laterPhone);
        expect(await repo.listContacts(owner.id)).toEqual([
          { userId: later.id, phone: laterPhone, displayName: '' },
        ]);
        expect(await repo.hasInContacts(owner.id, later.id)).toBe(true);
      });

      it('shows the current display name of a contact', async () => {
        const owner = await newUser();
        const bob = await newUser('Bob');
        await repo.replaceContacts(owner.id, [bob.phone]);
        await repo.updateProfile(bob.id, { displayName: 'Robert' });
        expect(await repo.listContacts(owner.id)).toEqual([
          { userId: bob.id, phone: bob.phone, displayName: 'Robert' },
        ]);
      });

      it('keeps address books per owner', async () => {
        const alice = await newUser();
        const bob = await newUser();
        const carol = await newUser();
        await repo.replaceContacts(alice.id, [carol.phone]);
        await repo.replaceContacts(bob.id, [alice.phone]);
        expect(contactIds(await repo.listContacts(alice.id))).toEqual([carol.id]);
        expect(contactIds(await repo.listContacts(bob.id))).toEqual([alice.id]);
        expect(await repo.listContacts(carol.id)).toEqual([]);
      });

      it('hasInContacts is one-way and false for unknown users', async () => {
        const alice = await newUser();
        const bob = await newUser();
        await repo.replaceContacts(alice.id, [bob.phone]);
        expect(await repo.hasInContacts(alice.id, bob.id)).toBe(true);
        expect(await repo.hasInContacts(bob.id, alice.id)).toBe(false);
        expect(await repo.hasInContacts(alice.id, uuidv7())).toBe(false);
        expect(await repo.hasInContacts(uuidv7(), bob.id)).toBe(false);
      });

      it('ownersWithInContacts answers for many owners at once', async () => {
        const alice = await newUser();
        const bob = await newUser();
        const carol = await newUser();
        await repo.replaceContacts(alice.id, [carol.phone]);
        await repo.replaceContacts(bob.id, [alice.phone]);
        expect(await repo.ownersWithInContacts([alice.id, bob.id, uuidv7()], carol.id)).toEqual(
          new Set([alice.id]),
        );
        expect(await repo.ownersWithInContacts([alice.id, bob.id], alice.id)).toEqual(
          new Set([bob.id]),
        );
        expect(await repo.ownersWithInContacts([], carol.id)).toEqual(new Set());
      });

      it('an owner never has themselves as a contact', async () => {
        const alice = await newUser();
        await repo.replaceContacts(alice.id, [alice.phone]);
        expect(await repo.listContacts(alice.id)).toEqual([]);
      });
    });

    describe('blocks', () => {
      it('blocks one way, and unblocks', async () => {
        const alice = await newUser();
        const bob = await newUser();
        expect(await repo.isBlocked(alice.id, bob.id)).toBe(false);
        await repo.block(alice.id, bob.id);
        expect(await repo.isBlocked(alice.id, bob.id)).toBe(true);
        expect(await repo.isBlocked(bob.id, alice.id)).toBe(false);
        expect(await repo.listBlocked(alice.id)).toEqual([bob.id]);
        expect(await repo.listBlocked(bob.id)).toEqual([]);

        await repo.unblock(alice.id, bob.id);
        expect(await repo.isBlocked(alice.id, bob.id)).toBe(false);
        expect(await repo.listBlocked(alice.id)).toEqual([]);
      });

      it('blockersAmong finds who of many blocked one user', async () => {
        const alice = await newUser();
        const bob = await newUser();
        const carol = await newUser();
        await repo.block(bob.id, alice.id);
        await repo.block(alice.id, carol.id);
        expect(await repo.blockersAmong([bob.id, carol.id, uuidv7()], alice.id)).toEqual(
          new Set([bob.id]),
        );
        expect(await repo.blockersAmong([], alice.id)).toEqual(new Set());
      });

      it('is idempotent both ways', async () => {
        const alice = await newUser();
        const bob = await newUser();
        await repo.block(alice.id, bob.id);
        await repo.block(alice.id, bob.id);
        expect(await repo.listBlocked(alice.id)).toEqual([bob.id]);
        await repo.unblock(alice.id, bob.id);
        await repo.unblock(alice.id, bob.id);
        expect(await repo.listBlocked(alice.id)).toEqual([]);
        expect(await repo.isBlocked(alice.id, bob.id)).toBe(false);
      });

      it('unblocking someone never blocked changes nothing', async () => {
        const alice = await newUser();
        const bob = await newUser();
        const carol = await newUser();
        await repo.block(alice.id, carol.id);
        await repo.unblock(alice.id, bob.id);
        expect(await repo.listBlocked(alice.id)).toEqual([carol.id]);
      });

      it('lists every user the blocker blocked, and only those', async () => {
        const alice = await newUser();
        const [b1, b2, b3] = [await newUser(), await newUser(), await newUser()];
        const bystander = await newUser();
        for (const user of [b3, b1, b2]) await repo.block(alice.id, user.id);
        await repo.block(bystander.id, b1.id);
        expect([...(await repo.listBlocked(alice.id))].sort()).toEqual(ids([b1, b2, b3]));
        await repo.unblock(alice.id, b1.id);
        expect([...(await repo.listBlocked(alice.id))].sort()).toEqual(ids([b2, b3]));
        expect(await repo.listBlocked(bystander.id)).toEqual([b1.id]);
        expect(await repo.isBlocked(bystander.id, b1.id)).toBe(true);
      });

      it('a block does not touch contacts', async () => {
        const alice = await newUser();
        const bob = await newUser();
        await repo.replaceContacts(alice.id, [bob.phone]);
        await repo.block(alice.id, bob.id);
        expect(contactIds(await repo.listContacts(alice.id))).toEqual([bob.id]);
      });
    });

    describe('bans', () => {
      it('bans and unbans by id, seen by phone; unknown users are refused', async () => {
        const alice = await newUser();
        const bob = await newUser();
        expect(await repo.isPhoneBanned(alice.phone)).toBe(false);
        expect(await repo.setBanned(alice.id, true)).toBe(true);
        expect(await repo.setBanned(alice.id, true)).toBe(true);
        expect(await repo.isPhoneBanned(alice.phone)).toBe(true);
        expect(await repo.isPhoneBanned(bob.phone)).toBe(false);
        expect(await repo.isPhoneBanned(uniquePhone())).toBe(false);
        expect(await repo.setBanned(alice.id, false)).toBe(true);
        expect(await repo.isPhoneBanned(alice.phone)).toBe(false);
        expect(await repo.setBanned(uuidv7(), true)).toBe(false);
      });
    });
  });
}

userRepositoryContract('postgres', async () => {
  const t = await startTestApp();
  return {
    repository: t.app.get(UserRepository, { strict: false }),
    close: () => t.close(),
  };
});
