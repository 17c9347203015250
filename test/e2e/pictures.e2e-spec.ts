import { randomUUID } from 'node:crypto';
import { jpeg, pdf, sha256 } from '../fixtures/media-files';
import { connect, expectNoEvent, nextEvent, signIn, type Session } from '../utils/clients';
import { http } from '../utils/http';
import { fetchBytes, uploadMedia } from '../utils/media';
import { startTestApp, type TestApp } from '../utils/test-app';

/** Profile photos and group icons: who may set them, and who may see them. */
describe('Pictures: profile photos and group icons', () => {
  let t: TestApp;

  beforeAll(async () => {
    t = await startTestApp();
  });
  afterAll(async () => {
    await t.close();
  });

  const user = () => signIn(t);
  const api = <T = any>(s: Session, method: string, path: string, body?: unknown) =>
    http<T>(t.api, method, path, { token: s.accessToken, body });
  const expectError = (res: { status: number; body: any }, status: number, code: string) => {
    expect({ status: res.status, code: res.body?.code }).toEqual({ status, code });
  };
  /** Uploads an image and returns its media id and the SHA-256 of what Parley stored. */
  const image = async (s: Session, seed: number) => {
    const res = await uploadMedia(t, s.accessToken, await jpeg(80, 60, seed), 'me.jpg');
    expect(res.status).toBe(201);
    return res.body as { mediaId: string; sha256: string };
  };
  const photoUrlSeenBy = async (viewer: Session, owner: Session) => {
    const res = await api(viewer, 'GET', `/users/${owner.userId}`);
    expect(res.status).toBe(200);
    return res.body.photoUrl as string | null;
  };

  describe('profile photos', () => {
    it('shows the photo to others, and not to someone the owner blocked', async () => {
      const alice = await user();
      const bob = await user();
      const carol = await user();
      const upload = await image(alice, 31);

      const set = await api(alice, 'PUT', '/users/me/photo', { mediaId: upload.mediaId });
      expect(set.status).toBe(200);
      const url = set.body.photoUrl as string;
      expect(url).toMatch(new RegExp(`^/api/v1/users/${alice.userId}/photo`));
      expect((await api(alice, 'GET', '/users/me')).body.photoUrl).toBe(url);
      expect(await photoUrlSeenBy(bob, alice)).toBe(url);
      const served = await fetchBytes(t, bob.accessToken, url);
      expect(served.status).toBe(200);
      expect(sha256(served.data)).toBe(upload.sha256);

      expect((await api(alice, 'POST', `/users/${bob.userId}/block`)).status).toBe(204);
      expect(await photoUrlSeenBy(bob, alice)).toBeNull();
      expectError(await fetchBytes(t, bob.accessToken, url), 404, 'NOT_FOUND');
      expect(await photoUrlSeenBy(carol, alice)).toBe(url);
      expect((await fetchBytes(t, carol.accessToken, url)).status).toBe(200);
      // The owner always sees their own photo.
      expect((await fetchBytes(t, alice.accessToken, url)).status).toBe(200);

      expect((await api(alice, 'DELETE', `/users/${bob.userId}/block`)).status).toBe(204);
      expect(await photoUrlSeenBy(bob, alice)).toBe(url);

      expect((await api(alice, 'DELETE', '/users/me/photo')).status).toBe(204);
      expect((await api(alice, 'DELETE', '/users/me/photo')).status).toBe(204);
      expect(await photoUrlSeenBy(carol, alice)).toBeNull();
      expectError(await fetchBytes(t, carol.accessToken, url), 404, 'NOT_FOUND');
      expectError(
        await fetchBytes(t, carol.accessToken, `/api/v1/users/${carol.userId}/photo`),
        404,
        'NOT_FOUND',
      );
    });

    it('replaces the photo; the new URL serves the new image', async () => {
      const alice = await user();
      const bob = await user();
      const first = await image(alice, 32);
      const second = await image(alice, 33);
      const url1 = (await api(alice, 'PUT', '/users/me/photo', { mediaId: first.mediaId })).body
        .photoUrl;
      const url2 = (await api(alice, 'PUT', '/users/me/photo', { mediaId: second.mediaId })).body
        .photoUrl;
      expect(url2).not.toBe(url1);
      const served = await fetchBytes(t, bob.accessToken, url2);
      expect(sha256(served.data)).toBe(second.sha256);
      // The uploads themselves are untouched by becoming (or ceasing to be) a photo.
      expect(
        (await fetchBytes(t, alice.accessToken, `/api/v1/media/${first.mediaId}`)).status,
      ).toBe(200);
    });

    it('takes only an image the caller uploaded, and a refusal changes nothing', async () => {
      const alice = await user();
      const bob = await user();
      const mine = await image(alice, 34);
      const url = (await api(alice, 'PUT', '/users/me/photo', { mediaId: mine.mediaId })).body
        .photoUrl;
      const bobs = await image(bob, 35);
      const document = await uploadMedia(t, alice.accessToken, pdf(), 'cv.pdf');
      expect(document.status).toBe(201);
      for (const body of [
        { mediaId: bobs.mediaId },
        { mediaId: document.body.mediaId },
        { mediaId: randomUUID() },
        { mediaId: 'not-a-uuid' },
        {},
        { mediaId: mine.mediaId, extra: true },
      ]) {
        expectError(await api(alice, 'PUT', '/users/me/photo', body), 400, 'VALIDATION_FAILED');
      }
      expect(await photoUrlSeenBy(bob, alice)).toBe(url);
    });
  });

  describe('group icons', () => {
    it('members set and see the icon; the rights follow name edits', async () => {
      const admin = await user();
      const member = await user();
      const outsider = await user();
      const created = await api(admin, 'POST', '/groups', {
        name: 'With icon',
        memberIds: [member.userId],
      });
      expect(created.status).toBe(201);
      expect(created.body.iconUrl).toBeNull();
      const groupId = created.body.id as string;
      const adminSocket = await connect(t, admin.accessToken);
      try {
        const upload = await image(member, 36);
        const announced = nextEvent(
          adminSocket,
          'message:new',
          (m: { type: string; body: string }) =>
            m.type === 'system' && JSON.parse(m.body).event === 'icon_changed',
        );
        const set = await api(member, 'PATCH', `/groups/${groupId}`, {
          iconMediaId: upload.mediaId,
        });
        expect(set.status).toBe(200);
        const url = set.body.iconUrl as string;
        expect(url).toMatch(new RegExp(`^/api/v1/groups/${groupId}/icon`));
        expect(JSON.parse((await announced).body)).toEqual({
          event: 'icon_changed',
          actorId: member.userId,
          userIds: [],
          hasIcon: true,
        });
        expect((await api(admin, 'GET', `/groups/${groupId}`)).body.iconUrl).toBe(url);
        const served = await fetchBytes(t, admin.accessToken, url);
        expect(served.status).toBe(200);
        expect(sha256(served.data)).toBe(upload.sha256);
        expectError(await fetchBytes(t, outsider.accessToken, url), 403, 'NOT_A_MEMBER');

        // Only admins edit the info now: the member's icon change is refused, nothing moves.
        await api(admin, 'PATCH', `/groups/${groupId}`, { onlyAdminsCanEditInfo: true });
        const other = await image(member, 37);
        const quiet = expectNoEvent(adminSocket, 'message:new', 500);
        expectError(
          await api(member, 'PATCH', `/groups/${groupId}`, { iconMediaId: other.mediaId }),
          403,
          'ADMIN_ONLY',
        );
        expect(await quiet).toBe(true);
        expect((await api(member, 'GET', `/groups/${groupId}`)).body.iconUrl).toBe(url);

        // An admin may not use someone else's upload, nor a document.
        const document = await uploadMedia(t, admin.accessToken, pdf(1), 'x.pdf');
        for (const iconMediaId of [other.mediaId, document.body.mediaId, randomUUID(), 'x']) {
          expectError(
            await api(admin, 'PATCH', `/groups/${groupId}`, { iconMediaId }),
            400,
            'VALIDATION_FAILED',
          );
        }
        expect((await api(member, 'GET', `/groups/${groupId}`)).body.iconUrl).toBe(url);

        const removed = await api(admin, 'PATCH', `/groups/${groupId}`, { iconMediaId: null });
        expect(removed.status).toBe(200);
        expect(removed.body.iconUrl).toBeNull();
        expectError(await fetchBytes(t, member.accessToken, url), 404, 'NOT_FOUND');
      } finally {
        adminSocket.close();
      }
    });
  });
});
