import { randomUUID } from 'node:crypto';
import { signIn, uniquePhone, type Session } from '../utils/clients';
import { http } from '../utils/http';
import { startTestApp, type TestApp } from '../utils/test-app';

describe('users, contacts, privacy and blocks (e2e)', () => {
  let t: TestApp;

  beforeAll(async () => {
    t = await startTestApp();
  });
  afterAll(async () => {
    await t.close();
  });

  const me = (s: Session) => http(t.api, 'GET', '/users/me', { token: s.accessToken });
  const patchMe = (s: Session, body: unknown) =>
    http(t.api, 'PATCH', '/users/me', { token: s.accessToken, body });
  const expectValidationFailed = (res: { status: number; body: any }) => {
    expect(res.status).toBe(400);
    expect(res.body).toMatchObject({ statusCode: 400, code: 'VALIDATION_FAILED' });
    expect(typeof res.body.message).toBe('string');
    expect(res.body.message.length).toBeGreaterThan(0);
  };
  const byUserId = (a: { userId: string }, b: { userId: string }) =>
    a.userId.localeCompare(b.userId);

  describe('GET/PATCH /users/me', () => {
    it('returns the own profile of a new user with default privacy', async () => {
      const s = await signIn(t);
      const res = await me(s);
      expect(res.status).toBe(200);
      expect(res.body).toEqual({
        id: s.userId,
        phone: s.phone,
        displayName: '',
        about: '',
        photoUrl: null,
        privacy: { lastSeen: 'everyone', readReceipts: true, groupAdd: 'everyone' },
        createdAt: expect.any(String),
      });
      expect(new Date(res.body.createdAt).toISOString()).toBe(res.body.createdAt);
      expect(Math.abs(Date.now() - Date.parse(res.body.createdAt))).toBeLessThan(60_000);
    });

    it('updates displayName and about, each independently', async () => {
      const s = await signIn(t);
      const first = await patchMe(s, { displayName: 'Ada', about: 'Counting engines' });
      expect(first.status).toBe(200);
      expect(first.body).toMatchObject({
        id: s.userId,
        phone: s.phone,
        displayName: 'Ada',
        about: 'Counting engines',
      });

      // A field left out keeps its value.
      const second = await patchMe(s, { about: 'Poetical science' });
      expect(second.status).toBe(200);
      expect(second.body).toMatchObject({ displayName: 'Ada', about: 'Poetical science' });

      const third = await patchMe(s, { displayName: 'Ada L.' });
      expect(third.body).toMatchObject({ displayName: 'Ada L.', about: 'Poetical science' });

      // The change is stored, and visible from another device of the same user.
      const other = await signIn(t, s.phone);
      expect((await me(other)).body).toMatchObject({
        displayName: 'Ada L.',
        about: 'Poetical science',
      });
    });

    it('accepts a 64-character displayName and a 256-character about', async () => {
      const s = await signIn(t);
      const res = await patchMe(s, { displayName: 'd'.repeat(64), about: 'a'.repeat(256) });
      expect(res.status).toBe(200);
      expect(res.body.displayName).toBe('d'.repeat(64));
      expect(res.body.about).toBe('a'.repeat(256));
    });

    it('refuses too-long values, unknown fields and wrong types, changing nothing', async () => {
      const s = await signIn(t);
      expect((await patchMe(s, { displayName: 'Grace', about: 'Compilers' })).status).toBe(200);
      const before = (await me(s)).body;

      for (const body of [
        { displayName: 'x'.repeat(65) },
        { about: 'x'.repeat(257) },
        { displayName: 'Valid', about: 'y'.repeat(257) },
        { displayName: 'Valid', nickname: 'Gracie' },
        { phone: uniquePhone() },
        { id: randomUUID() },
        { displayName: 42 },
        { displayName: ['Grace'] },
        { about: { text: 'hi' } },
        { about: true },
      ]) {
        const res = await patchMe(s, body);
        expectValidationFailed(res);
      }
      const malformed = await http(t.api, 'PATCH', '/users/me', {
        token: s.accessToken,
        rawBody: '{"displayName":',
      });
      expectValidationFailed(malformed);

      expect((await me(s)).body).toEqual(before);
    });

    it('names the offending field in the error', async () => {
      const s = await signIn(t);
      const res = await patchMe(s, { displayName: 'x'.repeat(65) });
      expectValidationFailed(res);
      expect(res.body.message).toMatch(/displayName/);
      const unknown = await patchMe(s, { nickname: 'x' });
      expectValidationFailed(unknown);
      expect(unknown.body.message).toMatch(/nickname/);
    });

    it('requires a valid access token', async () => {
      expect((await http(t.api, 'GET', '/users/me')).status).toBe(401);
      const res = await http(t.api, 'PATCH', '/users/me', { body: { displayName: 'x' } });
      expect(res.status).toBe(401);
      expect(res.body).toMatchObject({ statusCode: 401, code: 'UNAUTHORIZED' });
    });
  });

  describe('GET /users/{id}', () => {
    it('returns the public profile of another user, without phone or privacy', async () => {
      const alice = await signIn(t);
      const bob = await signIn(t);
      await patchMe(bob, { displayName: 'Bob', about: 'Builder' });
      const res = await http(t.api, 'GET', `/users/${bob.userId}`, { token: alice.accessToken });
      expect(res.status).toBe(200);
      expect(res.body).toEqual({
        id: bob.userId,
        displayName: 'Bob',
        about: 'Builder',
        photoUrl: null,
      });
    });

    it('accepts an upper-case id', async () => {
      const alice = await signIn(t);
      const bob = await signIn(t);
      const res = await http(t.api, 'GET', `/users/${bob.userId.toUpperCase()}`, {
        token: alice.accessToken,
      });
      expect(res.status).toBe(200);
      expect(res.body.id).toBe(bob.userId);
    });

    it('answers 404 NOT_FOUND for an unknown uuid', async () => {
      const alice = await signIn(t);
      const res = await http(t.api, 'GET', `/users/${randomUUID()}`, { token: alice.accessToken });
      expect(res.status).toBe(404);
      expect(res.body).toEqual({ statusCode: 404, code: 'NOT_FOUND', message: expect.any(String) });
    });

    it('answers 400 VALIDATION_FAILED for an id that is not a uuid', async () => {
      const alice = await signIn(t);
      for (const id of ['123', 'not-a-uuid', `${alice.userId}x`, "1'%20OR%20'1'='1"]) {
        const res = await http(t.api, 'GET', `/users/${id}`, { token: alice.accessToken });
        expectValidationFailed(res);
      }
    });

    it('requires a valid access token', async () => {
      const bob = await signIn(t);
      expect((await http(t.api, 'GET', `/users/${bob.userId}`)).status).toBe(401);
    });
  });

  describe('contacts', () => {
    const putContacts = (s: Session, phones: unknown) =>
      http(t.api, 'PUT', '/contacts', { token: s.accessToken, body: { phones } });
    const getContacts = (s: Session) => http(t.api, 'GET', '/contacts', { token: s.accessToken });

    it('starts empty', async () => {
      const s = await signIn(t);
      const res = await getContacts(s);
      expect(res.status).toBe(200);
      expect(res.body).toEqual([]);
    });

    it('discovers only the registered users among the phones, never yourself', async () => {
      const alice = await signIn(t);
      const bob = await signIn(t);
      const carol = await signIn(t);
      await patchMe(bob, { displayName: 'Bob' });
      await patchMe(carol, { displayName: 'Carol' });
      const stranger = uniquePhone();

      const res = await putContacts(alice, [
        bob.phone,
        stranger,
        alice.phone,
        carol.phone,
        bob.phone,
      ]);
      expect(res.status).toBe(200);
      const expected = [
        { userId: bob.userId, phone: bob.phone, displayName: 'Bob' },
        { userId: carol.userId, phone: carol.phone, displayName: 'Carol' },
      ].sort(byUserId);
      expect([...res.body].sort(byUserId)).toEqual(expected);

      const listed = await getContacts(alice);
      expect(listed.status).toBe(200);
      expect([...listed.body].sort(byUserId)).toEqual(expected);

      // Contact lists are per user: Bob's is untouched.
      expect((await getContacts(bob)).body).toEqual([]);
    });

    it('replaces the previous list on every PUT', async () => {
      const alice = await signIn(t);
      const bob = await signIn(t);
      const carol = await signIn(t);
      const dave = await signIn(t);
      await putContacts(alice, [bob.phone, carol.phone]);

      const replaced = await putContacts(alice, [carol.phone, dave.phone]);
      expect(replaced.status).toBe(200);
      expect(replaced.body.map((c: { userId: string }) => c.userId).sort()).toEqual(
        [carol.userId, dave.userId].sort(),
      );
      expect(
        (await getContacts(alice)).body.map((c: { userId: string }) => c.userId).sort(),
      ).toEqual([carol.userId, dave.userId].sort());

      const emptied = await putContacts(alice, []);
      expect(emptied.status).toBe(200);
      expect(emptied.body).toEqual([]);
      expect((await getContacts(alice)).body).toEqual([]);
    });

    it('shows a phone that registers after the upload, with its current display name', async () => {
      const alice = await signIn(t);
      const laterPhone = uniquePhone();
      expect((await putContacts(alice, [laterPhone])).body).toEqual([]);

      const later = await signIn(t, laterPhone);
      await patchMe(later, { displayName: 'Late Larry' });
      expect((await getContacts(alice)).body).toEqual([
        { userId: later.userId, phone: laterPhone, displayName: 'Late Larry' },
      ]);
    });

    it('refuses bad input with VALIDATION_FAILED and keeps the previous list', async () => {
      const alice = await signIn(t);
      const bob = await signIn(t);
      await putContacts(alice, [bob.phone]);

      for (const body of [
        { phones: [bob.phone, '4155550101'] },
        { phones: ['+0123456789'] },
        { phones: [14155550101] },
        { phones: bob.phone },
        { phones: Array.from({ length: 5001 }, (_, i) => `+1555${String(i).padStart(7, '0')}`) },
        { phones: [bob.phone], extra: true },
        {},
      ]) {
        const res = await http(t.api, 'PUT', '/contacts', { token: alice.accessToken, body });
        expectValidationFailed(res);
      }

      expect((await getContacts(alice)).body.map((c: { userId: string }) => c.userId)).toEqual([
        bob.userId,
      ]);
    });

    it('requires a valid access token', async () => {
      expect((await http(t.api, 'GET', '/contacts')).status).toBe(401);
      expect((await http(t.api, 'PUT', '/contacts', { body: { phones: [] } })).status).toBe(401);
    });
  });

  describe('PUT /users/me/privacy', () => {
    const putPrivacy = (s: Session, body: unknown) =>
      http(t.api, 'PUT', '/users/me/privacy', { token: s.accessToken, body });

    it('stores every valid combination and shows it in the own profile', async () => {
      const s = await signIn(t);
      for (const [lastSeen, readReceipts] of [
        ['nobody', false],
        ['contacts', true],
        ['everyone', false],
        ['everyone', true],
      ] as const) {
        const res = await putPrivacy(s, { lastSeen, readReceipts });
        expect(res.status).toBe(200);
        expect(res.body).toEqual({ lastSeen, readReceipts, groupAdd: 'everyone' });
        expect((await me(s)).body.privacy).toEqual({
          lastSeen,
          readReceipts,
          groupAdd: 'everyone',
        });
      }
    });

    it('does not expose privacy settings on the public profile', async () => {
      const alice = await signIn(t);
      const bob = await signIn(t);
      await putPrivacy(bob, { lastSeen: 'nobody', readReceipts: false });
      const res = await http(t.api, 'GET', `/users/${bob.userId}`, { token: alice.accessToken });
      expect(Object.keys(res.body).sort()).toEqual(['about', 'displayName', 'id', 'photoUrl']);
    });

    it('refuses invalid values with VALIDATION_FAILED and changes nothing', async () => {
      const s = await signIn(t);
      expect((await putPrivacy(s, { lastSeen: 'contacts', readReceipts: false })).status).toBe(200);

      for (const body of [
        { lastSeen: 'friends', readReceipts: true },
        { lastSeen: 'EVERYONE', readReceipts: true },
        { lastSeen: 'everyone', readReceipts: 'true' },
        { lastSeen: 'everyone', readReceipts: 1 },
        { lastSeen: 'everyone' },
        { readReceipts: true },
        { lastSeen: null, readReceipts: true },
        { lastSeen: 'everyone', readReceipts: true, online: 'nobody' },
        {},
      ]) {
        const res = await putPrivacy(s, body);
        expectValidationFailed(res);
      }

      expect((await me(s)).body.privacy).toEqual({
        lastSeen: 'contacts',
        readReceipts: false,
        groupAdd: 'everyone',
      });
    });
  });

  describe('blocks', () => {
    const block = (s: Session, id: string) =>
      http(t.api, 'POST', `/users/${id}/block`, { token: s.accessToken });
    const unblock = (s: Session, id: string) =>
      http(t.api, 'DELETE', `/users/${id}/block`, { token: s.accessToken });
    const blocked = async (s: Session): Promise<string[]> => {
      const res = await http(t.api, 'GET', '/users/me/blocked', { token: s.accessToken });
      expect(res.status).toBe(200);
      return res.body;
    };

    it('blocks and unblocks with 204, reflected in GET /users/me/blocked', async () => {
      const alice = await signIn(t);
      const bob = await signIn(t);
      const carol = await signIn(t);
      expect(await blocked(alice)).toEqual([]);

      const res = await block(alice, bob.userId);
      expect(res.status).toBe(204);
      expect(res.body).toBeUndefined();
      expect(await blocked(alice)).toEqual([bob.userId]);

      expect((await block(alice, carol.userId)).status).toBe(204);
      expect((await blocked(alice)).sort()).toEqual([bob.userId, carol.userId].sort());

      // Blocking is one-way.
      expect(await blocked(bob)).toEqual([]);

      const removed = await unblock(alice, bob.userId);
      expect(removed.status).toBe(204);
      expect(removed.body).toBeUndefined();
      expect(await blocked(alice)).toEqual([carol.userId]);
    });

    it('is idempotent both ways', async () => {
      const alice = await signIn(t);
      const bob = await signIn(t);
      expect((await block(alice, bob.userId)).status).toBe(204);
      expect((await block(alice, bob.userId)).status).toBe(204);
      expect(await blocked(alice)).toEqual([bob.userId]);

      expect((await unblock(alice, bob.userId)).status).toBe(204);
      expect((await unblock(alice, bob.userId)).status).toBe(204);
      expect(await blocked(alice)).toEqual([]);

      // Unblocking someone never blocked is fine too.
      const carol = await signIn(t);
      expect((await unblock(alice, carol.userId)).status).toBe(204);
      expect(await blocked(alice)).toEqual([]);
    });

    it('accepts an upper-case id and stores the canonical one', async () => {
      const alice = await signIn(t);
      const bob = await signIn(t);
      expect((await block(alice, bob.userId.toUpperCase())).status).toBe(204);
      expect(await blocked(alice)).toEqual([bob.userId]);
      expect((await unblock(alice, bob.userId.toUpperCase())).status).toBe(204);
      expect(await blocked(alice)).toEqual([]);
    });

    it('refuses to block yourself with 400 VALIDATION_FAILED', async () => {
      const alice = await signIn(t);
      expectValidationFailed(await block(alice, alice.userId));
      expect(await blocked(alice)).toEqual([]);
    });

    it('answers 404 NOT_FOUND for an unknown user and 400 for a non-uuid', async () => {
      const alice = await signIn(t);
      const unknown = randomUUID();
      for (const res of [await block(alice, unknown), await unblock(alice, unknown)]) {
        expect(res.status).toBe(404);
        expect(res.body).toEqual({
          statusCode: 404,
          code: 'NOT_FOUND',
          message: expect.any(String),
        });
      }
      expectValidationFailed(await block(alice, 'nobody'));
      expectValidationFailed(await unblock(alice, 'nobody'));
      expect(await blocked(alice)).toEqual([]);
    });

    it('requires a valid access token', async () => {
      const bob = await signIn(t);
      expect((await http(t.api, 'POST', `/users/${bob.userId}/block`)).status).toBe(401);
      expect((await http(t.api, 'DELETE', `/users/${bob.userId}/block`)).status).toBe(401);
      expect((await http(t.api, 'GET', '/users/me/blocked')).status).toBe(401);
    });
  });
});
