import { signIn, type Session } from '../utils/clients';
import { http } from '../utils/http';
import { startTestApp, type TestApp } from '../utils/test-app';

describe('group adds need consent (e2e)', () => {
  let t: TestApp;

  beforeAll(async () => {
    t = await startTestApp();
  });
  afterAll(async () => {
    await t.close();
  });

  const setGroupAdd = async (s: Session, groupAdd: string) => {
    const res = await http(t.api, 'PUT', '/users/me/privacy', {
      token: s.accessToken,
      body: { lastSeen: 'everyone', readReceipts: true, groupAdd },
    });
    expect(res.status).toBe(200);
    expect(res.body).toEqual({ lastSeen: 'everyone', readReceipts: true, groupAdd });
  };
  const createGroup = (owner: Session, members: Session[]) =>
    http(t.api, 'POST', '/groups', {
      token: owner.accessToken,
      body: { name: 'G', memberIds: members.map((m) => m.userId) },
    });
  const memberIds = (body: { members: Array<{ userId: string }> }) =>
    body.members.map((m) => m.userId).sort();

  it('defaults to everyone, shown in the profile', async () => {
    const s = await signIn(t);
    const me = await http(t.api, 'GET', '/users/me', { token: s.accessToken });
    expect(me.body.privacy).toEqual({
      lastSeen: 'everyone',
      readReceipts: true,
      groupAdd: 'everyone',
    });
    // Clients that do not know the setting keep it as it was.
    await setGroupAdd(s, 'nobody');
    const old = await http(t.api, 'PUT', '/users/me/privacy', {
      token: s.accessToken,
      body: { lastSeen: 'contacts', readReceipts: false },
    });
    expect(old.body).toEqual({ lastSeen: 'contacts', readReceipts: false, groupAdd: 'nobody' });
    const bad = await http(t.api, 'PUT', '/users/me/privacy', {
      token: s.accessToken,
      body: { lastSeen: 'everyone', readReceipts: true, groupAdd: 'strangers' },
    });
    expect(bad.status).toBe(400);
    expect(bad.body.code).toBe('VALIDATION_FAILED');
  });

  it('POST /groups leaves out who refuses the adder or blocked them, and says why', async () => {
    const owner = await signIn(t);
    const open = await signIn(t);
    const nobody = await signIn(t);
    const contactsOnly = await signIn(t);
    const blocker = await signIn(t);
    await setGroupAdd(nobody, 'nobody');
    await setGroupAdd(contactsOnly, 'contacts');
    await http(t.api, 'POST', `/users/${owner.userId}/block`, { token: blocker.accessToken });

    const res = await createGroup(owner, [open, nobody, contactsOnly, blocker]);
    expect(res.status).toBe(201);
    expect(memberIds(res.body)).toEqual([owner.userId, open.userId].sort());
    expect(res.body.notAdded).toEqual(
      expect.arrayContaining([
        { userId: nobody.userId, reason: 'privacy' },
        { userId: contactsOnly.userId, reason: 'privacy' },
        { userId: blocker.userId, reason: 'blocked' },
      ]),
    );
    expect(res.body.notAdded).toHaveLength(3);
  });

  it('contacts lets in those the user has in their contacts', async () => {
    const owner = await signIn(t);
    const friend = await signIn(t);
    await setGroupAdd(friend, 'contacts');
    await http(t.api, 'PUT', '/contacts', {
      token: friend.accessToken,
      body: { phones: [owner.phone] },
    });
    const res = await createGroup(owner, [friend]);
    expect(memberIds(res.body)).toEqual([owner.userId, friend.userId].sort());
    expect(res.body.notAdded).toEqual([]);
  });

  it('POST /groups/{id}/members adds the others and lists the refused, also right after they left', async () => {
    const owner = await signIn(t);
    const a = await signIn(t);
    const b = await signIn(t);
    const group = (await createGroup(owner, [a])).body;
    await setGroupAdd(b, 'nobody');
    const c = await signIn(t);
    const add = await http(t.api, 'POST', `/groups/${group.id}/members`, {
      token: owner.accessToken,
      body: { userIds: [b.userId, c.userId] },
    });
    expect(add.status).toBe(200);
    expect(memberIds(add.body)).toEqual([owner.userId, a.userId, c.userId].sort());
    expect(add.body.notAdded).toEqual([{ userId: b.userId, reason: 'privacy' }]);

    // a leaves and blocks the owner: re-adding is refused.
    await http(t.api, 'DELETE', `/groups/${group.id}/members/${a.userId}`, {
      token: a.accessToken,
    });
    await http(t.api, 'POST', `/users/${owner.userId}/block`, { token: a.accessToken });
    const again = await http(t.api, 'POST', `/groups/${group.id}/members`, {
      token: owner.accessToken,
      body: { userIds: [a.userId] },
    });
    expect(again.status).toBe(200);
    expect(memberIds(again.body)).toEqual([owner.userId, c.userId].sort());
    expect(again.body.notAdded).toEqual([{ userId: a.userId, reason: 'blocked' }]);
  });
});
