import { PushRegistrationRepository } from '../../src/modules/notifications/ports/push-registration.repository';
import { clientsOf } from '../utils/chat-clients';
import { connect, nextEvent, signIn, type Session } from '../utils/clients';
import { http } from '../utils/http';
import { startTestApp, TEST_OTP, type TestApp } from '../utils/test-app';

describe('account deletion and data export (e2e)', () => {
  let t: TestApp;
  const c = clientsOf(() => t);

  beforeAll(async () => {
    t = await startTestApp();
  });
  afterEach(() => c.closeAll());
  afterAll(async () => {
    await t.close();
  });

  const requestCode = (s: Session) =>
    http(t.api, 'POST', '/auth/otp', { body: { phone: s.phone } });
  const deleteMe = (s: Session, body: unknown) =>
    http(t.api, 'DELETE', '/users/me', { token: s.accessToken, body });

  it('needs a valid code requested after the last sign-in, and changes nothing without one', async () => {
    const s = await signIn(t);
    for (const body of [{}, { code: '12345' }, { code: 'abcdef' }]) {
      const res = await deleteMe(s, body);
      expect([res.status, res.body.code]).toEqual([400, 'VALIDATION_FAILED']);
    }
    // The test code without a fresh request is not enough.
    const stale = await deleteMe(s, { code: TEST_OTP });
    expect([stale.status, stale.body.code]).toEqual([401, 'UNAUTHORIZED']);
    // A code requested before the last sign-in is not either (that sign-in used the newer one).
    await requestCode(s);
    await requestCode(s);
    const later = await signIn(t, s.phone);
    const old = await deleteMe(later, { code: TEST_OTP });
    expect([old.status, old.body.code]).toEqual([401, 'UNAUTHORIZED']);
    expect(old.body.message).toMatch(/older than your last sign-in/);
    await requestCode(s);
    const wrong = await deleteMe(later, { code: '000000' });
    expect([wrong.status, wrong.body.code]).toEqual([401, 'UNAUTHORIZED']);
    expect((await http(t.api, 'GET', '/users/me', { token: s.accessToken })).status).toBe(200);
    expect((await http(t.api, 'GET', '/users/me', { token: later.accessToken })).status).toBe(200);
  });

  it('deletes the account at once; its messages stay, from "Deleted account"; the phone registers anew', async () => {
    const gone = await c.user();
    const other = await c.device(gone);
    const friend = await c.user();
    const groupOwner = await c.user();
    await http(t.api, 'PATCH', '/users/me', {
      token: gone.accessToken,
      body: { displayName: 'Soon gone', about: 'hi' },
    });
    await http(t.api, 'PUT', '/contacts', {
      token: gone.accessToken,
      body: { phones: [friend.phone] },
    });
    await http(t.api, 'POST', `/users/${groupOwner.userId}/block`, { token: gone.accessToken });
    await http(t.api, 'PUT', '/users/me/pin', { token: gone.accessToken, body: { pin: '123123' } });
    const push = await http(t.api, 'PUT', `/devices/${gone.deviceId}/push`, {
      token: gone.accessToken,
      body: { provider: 'fcm', token: 'fcm-token-0123456789abcdef' },
    });
    expect(push.status).toBe(204);
    const group = await http(t.api, 'POST', '/groups', {
      token: friend.accessToken,
      body: { name: 'G', memberIds: [gone.userId] },
    });
    const groupId = group.body.id as string;
    const sg = await c.open(gone);
    const sf = await c.open(friend);
    const conversationId = await c.direct(gone, friend);
    const sent = await c.send(sg, { conversationId, body: 'before I go' });
    const otherSocket = await c.open(other);
    const revoked = [sg, otherSocket].map((s) => nextEvent(s, 'session:revoked'));
    const left = nextEvent(sf, 'message:new', (m: { conversationId: string; type: string }) => {
      return m.conversationId === groupId && m.type === 'system';
    });

    expect((await requestCode(gone)).status).toBe(202);
    const res = await deleteMe(other, { code: TEST_OTP });
    expect(res.status).toBe(204);

    expect((await Promise.all(revoked)).map((e) => e.reason)).toEqual([
      'account_deleted',
      'account_deleted',
    ]);
    await left;
    for (const s of [gone, other]) {
      expect((await http(t.api, 'GET', '/users/me', { token: s.accessToken })).status).toBe(401);
      await expect(connect(t, s.accessToken)).rejects.toThrow('UNAUTHORIZED');
    }
    const pushes = t.app.get(PushRegistrationRepository, { strict: false });
    expect(await pushes.forUsers([gone.userId])).toEqual([]);

    // Others still see the messages, from "Deleted account".
    const history = await c.history(friend, conversationId);
    expect(history.body.messages.map((m: { id: string }) => m.id)).toContain(sent.id);
    const profile = await http(t.api, 'GET', `/users/${gone.userId}`, {
      token: friend.accessToken,
    });
    expect(profile.body).toMatchObject({
      displayName: 'Deleted account',
      about: '',
      photoUrl: null,
    });
    const chat = await c.conversation(friend, conversationId);
    expect(chat.name).toBe('Deleted account');
    const members = await http(t.api, 'GET', `/groups/${groupId}`, { token: friend.accessToken });
    expect(members.body.members.map((m: { userId: string }) => m.userId)).not.toContain(
      gone.userId,
    );
    // Nothing new reaches it, and nobody finds it by its old phone.
    const toGone = await http(t.api, 'POST', '/conversations/direct', {
      token: groupOwner.accessToken,
      body: { userId: gone.userId },
    });
    expect(toGone.body.code).toBe('NOT_FOUND');
    const found = await http(t.api, 'PUT', '/contacts', {
      token: friend.accessToken,
      body: { phones: [gone.phone] },
    });
    expect(found.body).toEqual([]);

    // The phone registers anew: a new, empty account with no PIN.
    const again = await signIn(t, gone.phone);
    expect(again.isNewUser).toBe(true);
    expect(again.userId).not.toBe(gone.userId);
    const exported = await http(t.api, 'GET', '/users/me/export', { token: again.accessToken });
    expect(exported.body).toMatchObject({
      twoStepPin: false,
      contacts: [],
      blocked: [],
      groups: [],
    });
  });

  it('exports the profile, settings, contacts, groups and devices as a JSON file', async () => {
    const me = await signIn(t, undefined, { deviceName: 'Laptop', platform: 'desktop' });
    const friend = await signIn(t);
    const blocked = await signIn(t);
    await http(t.api, 'PATCH', '/users/me', {
      token: me.accessToken,
      body: { displayName: 'Me', about: 'about me' },
    });
    await http(t.api, 'PUT', '/users/me/privacy', {
      token: me.accessToken,
      body: { lastSeen: 'contacts', readReceipts: false, groupAdd: 'contacts' },
    });
    await http(t.api, 'PUT', '/contacts', {
      token: me.accessToken,
      body: { phones: [friend.phone, '+14155550999'] },
    });
    await http(t.api, 'POST', `/users/${blocked.userId}/block`, { token: me.accessToken });
    await http(t.api, 'PUT', '/users/me/pin', { token: me.accessToken, body: { pin: '555555' } });
    const group = await http(t.api, 'POST', '/groups', {
      token: me.accessToken,
      body: { name: 'Book club', memberIds: [friend.userId] },
    });

    const res = await http(t.api, 'GET', '/users/me/export', { token: me.accessToken });
    expect(res.status).toBe(200);
    expect(res.headers.get('content-disposition')).toBe(
      'attachment; filename="parley-export.json"',
    );
    expect(res.body).toEqual({
      exportedAt: expect.any(String),
      profile: expect.objectContaining({
        id: me.userId,
        phone: me.phone,
        displayName: 'Me',
        about: 'about me',
        privacy: { lastSeen: 'contacts', readReceipts: false, groupAdd: 'contacts' },
      }),
      twoStepPin: true,
      contacts: [friend.phone, '+14155550999'].sort(),
      blocked: [blocked.userId],
      groups: [{ id: group.body.id, name: 'Book club', memberCount: 2, left: false }],
      devices: [expect.objectContaining({ id: me.deviceId, name: 'Laptop', platform: 'desktop' })],
    });
    expect((await http(t.api, 'GET', '/users/me/export')).status).toBe(401);
  });
});
