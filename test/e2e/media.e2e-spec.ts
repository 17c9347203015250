import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { request as httpRequest } from 'node:http';
import { join } from 'node:path';
import sharp from 'sharp';
import type { Socket } from 'socket.io-client';
import { Db } from '../../src/common/database/db';
import { blobKey } from '../../src/modules/media/domain/media';
import {
  ffmpegAvailable,
  hasGpsPointer,
  jpeg,
  jpegWithExifAndGps,
  mp4,
  pdf,
  png,
  pngBomb,
  sha256,
  wav,
} from '../fixtures/media-files';
import { startLocalS3, type LocalS3 } from '../fixtures/s3-server';
import { collect, connect, nextEvent, request, signIn, type Session } from '../utils/clients';
import { http } from '../utils/http';
import { startTestApp, type TestApp } from '../utils/test-app';
import { uploadMedia as upload } from '../utils/media';
import { eventually as poll } from '../utils/wait';

type Kind = 'image' | 'video' | 'audio' | 'document';

interface TestFile {
  data: Buffer;
  name: string;
  type: string;
  mime: string;
}

interface Download {
  status: number;
  headers: Headers;
  data: Buffer;
  redirected: boolean;
  body: any;
}

const HAS_FFMPEG = ffmpegAvailable();
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

async function makeFile(kind: Kind): Promise<TestFile> {
  switch (kind) {
    case 'image':
      return { data: await jpeg(), name: 'photo.jpg', type: 'image/jpeg', mime: 'image/jpeg' };
    case 'video':
      return { data: mp4(), name: 'clip.mp4', type: 'video/mp4', mime: 'video/mp4' };
    case 'audio':
      return { data: wav(1), name: 'note.wav', type: 'audio/wav', mime: 'audio/vnd.wave' };
    default:
      return {
        data: pdf(20_000),
        name: 'Résumé 2026.pdf',
        type: 'application/pdf',
        mime: 'application/pdf',
      };
  }
}

/** GET (following redirects to the store, without the bearer token, as fetch does). */
async function download(
  t: TestApp,
  token: string,
  path: string,
  headers: Record<string, string> = {},
  redirect: 'follow' | 'manual' = 'follow',
): Promise<Download> {
  const res = await fetch(`${t.api}${path}`, {
    headers: { authorization: `Bearer ${token}`, ...headers },
    redirect,
  });
  const data = Buffer.from(await res.arrayBuffer());
  let body: any;
  try {
    body = JSON.parse(data.toString('utf8'));
  } catch {
    body = undefined;
  }
  return { status: res.status, headers: res.headers, data, redirected: res.redirected, body };
}

/** Media processing runs in background jobs: give it time. */
const eventually = (check: () => void | Promise<void>) => poll(check, 20_000, 50);

const json = async (res: Response): Promise<any> => res.json();

const b64 = (s: string) => Buffer.from(s, 'utf8').toString('base64');

function tusHeaders(token: string, extra: Record<string, string> = {}): Record<string, string> {
  return { authorization: `Bearer ${token}`, 'tus-resumable': '1.0.0', ...extra };
}

/** Starts a PATCH, sends `sent` bytes of a body announced as `total`, then drops the connection. */
function interruptedPatch(
  url: string,
  token: string,
  offset: number,
  total: number,
  sent: Buffer,
): Promise<void> {
  return new Promise((resolve) => {
    const req = httpRequest(url, {
      method: 'PATCH',
      headers: {
        ...tusHeaders(token),
        'upload-offset': String(offset),
        'content-type': 'application/offset+octet-stream',
        'content-length': String(total),
      },
    });
    req.on('error', () => resolve());
    req.on('close', () => resolve());
    req.write(sent, () => setTimeout(() => req.destroy(), 300));
  });
}

async function sendMedia(
  socket: Socket,
  to: { recipientId?: string; conversationId?: string },
  type: Kind,
  mediaId: string,
  extra: Record<string, unknown> = {},
): Promise<any> {
  return request(socket, 'message:send', {
    clientMsgId: randomUUID(),
    ...to,
    type,
    body: '',
    mediaId,
    ...extra,
  });
}

describe.each(['local', 's3'] as const)('media on %s storage (e2e)', (adapter) => {
  let t: TestApp;
  let s3: LocalS3 | undefined;
  const sockets: Socket[] = [];

  beforeAll(async () => {
    if (adapter === 's3') s3 = await startLocalS3();
    t = await startTestApp({ env: { ...(s3?.env ?? {}), MEDIA_URL_EXPIRY_SEC: '60' } });
  });
  afterAll(async () => {
    for (const s of sockets) s.close();
    await t.close();
    await s3?.close();
  });

  const online = async (session: Session): Promise<Socket> => {
    const socket = await connect(t, session.accessToken);
    sockets.push(socket);
    return socket;
  };

  it.each(['image', 'video', 'audio', 'document'] as const)(
    '%s: upload, send, receive message:new, download, media:ready',
    async (kind) => {
      const alice = await signIn(t);
      const bob = await signIn(t);
      const aliceSocket = await online(alice);
      const bobSocket = await online(bob);
      const aliceReady = collect(aliceSocket, 'media:ready');
      const bobReady = collect(bobSocket, 'media:ready');
      const file = await makeFile(kind);

      const up = await upload(t, alice.accessToken, file.data, file.name, file.type);
      expect(up.status).toBe(201);
      const media = up.body;
      expect(media).toMatchObject({ kind, mimeType: file.mime, status: 'processing' });
      expect(media.mediaId).toMatch(UUID);
      expect(media.sha256).toMatch(/^[0-9a-f]{64}$/);
      if (kind === 'image') {
        // Re-encoded: new bytes, same picture size.
        expect(media).toMatchObject({ width: 640, height: 480 });
      } else {
        expect(media.sha256).toBe(sha256(file.data));
        expect(media.size).toBe(file.data.length);
      }
      if (kind === 'document') expect(media.fileName).toBe('Résumé 2026.pdf');

      const received = nextEvent(bobSocket, 'message:new', (m) => m.mediaId === media.mediaId);
      const ack = await sendMedia(aliceSocket, { recipientId: bob.userId }, kind, media.mediaId);
      expect(ack.ok).toBe(true);
      expect(ack.message).toMatchObject({ type: kind, mediaId: media.mediaId, viewOnce: false });
      expect(await received).toEqual(ack.message);

      const got = await download(t, bob.accessToken, `/media/${media.mediaId}`);
      expect(got.status).toBe(200);
      expect(got.redirected).toBe(adapter === 's3');
      expect(got.data.length).toBe(media.size);
      expect(sha256(got.data)).toBe(media.sha256);
      expect(got.headers.get('content-type')).toBe(file.mime);

      await eventually(() => {
        expect(aliceReady.items.find((e) => e.mediaId === media.mediaId)).toBeDefined();
        expect(bobReady.items.find((e) => e.mediaId === media.mediaId)).toBeDefined();
      });
      const ready = aliceReady.items.find((e) => e.mediaId === media.mediaId);
      expect(bobReady.items.find((e) => e.mediaId === media.mediaId)).toEqual(ready);
      const thumbnailUrl = `/api/v1/media/${media.mediaId}/thumbnail`;
      const expectsThumbnail = kind === 'image' || (kind === 'video' && HAS_FFMPEG);
      if (expectsThumbnail) {
        expect(ready).toMatchObject({ thumbnailUrl, kind });
        const thumb = await download(t, bob.accessToken, `/media/${media.mediaId}/thumbnail`);
        expect(thumb.status).toBe(200);
        expect(thumb.headers.get('content-type')).toBe('image/jpeg');
        const meta = await sharp(thumb.data).metadata();
        expect(meta.format).toBe('jpeg');
        expect(Math.max(meta.width, meta.height)).toBeLessThanOrEqual(320);
      } else {
        const reason = kind === 'video' ? 'ffmpeg-unavailable' : 'not-applicable';
        expect(ready).toMatchObject({ thumbnailUrl: null, noThumbnailReason: reason });
        const thumb = await download(t, bob.accessToken, `/media/${media.mediaId}/thumbnail`);
        expect(thumb.status).toBe(404);
        expect(thumb.body.code).toBe('NOT_FOUND');
      }
      if (HAS_FFMPEG && kind === 'video') {
        expect(ready.durationMs).toBeGreaterThan(1500);
        expect(ready).toMatchObject({ width: 320, height: 240 });
      }
      if (HAS_FFMPEG && kind === 'audio') expect(ready.durationMs).toBe(1000);

      const info = await http(t.api, 'GET', `/media/${media.mediaId}/info`, {
        token: bob.accessToken,
      });
      expect(info.status).toBe(200);
      expect(info.body).toMatchObject({ mediaId: media.mediaId, kind, status: 'ready' });
      if (expectsThumbnail) expect(info.body.thumbnailUrl).toBe(thumbnailUrl);
    },
  );

  it('serves byte ranges with ETag and private caching (a presigned redirect on S3)', async () => {
    const alice = await signIn(t);
    const data = pdf(50_000);
    const { body: media } = await upload(t, alice.accessToken, data, 'big.pdf');
    const path = `/media/${media.mediaId}`;
    const size = data.length;

    if (adapter === 's3') {
      const redirect = await download(t, alice.accessToken, path, {}, 'manual');
      expect(redirect.status).toBe(302);
      expect(redirect.headers.get('cache-control')).toBe('private, no-store');
      const location = new URL(redirect.headers.get('location')!);
      expect(location.origin).toBe(s3!.endpoint);
      expect(location.searchParams.get('X-Amz-Expires')).toBe('60');
      expect(location.searchParams.get('X-Amz-Signature')).toMatch(/^[0-9a-f]{64}$/);
      const ranged = await fetch(location, { headers: { range: 'bytes=0-9' } });
      expect(ranged.status).toBe(206);
      expect(Buffer.from(await ranged.arrayBuffer())).toEqual(data.subarray(0, 10));
      return;
    }

    const full = await download(t, alice.accessToken, path);
    expect(full.status).toBe(200);
    expect(full.headers.get('etag')).toBe(`"${media.sha256}"`);
    expect(full.headers.get('cache-control')).toMatch(/^private/);
    expect(full.headers.get('accept-ranges')).toBe('bytes');
    expect(full.headers.get('content-disposition')).toBe(
      'attachment; filename="big.pdf"; filename*=UTF-8\'\'big.pdf',
    );
    expect(full.headers.get('x-content-type-options')).toBe('nosniff');

    const head = await download(t, alice.accessToken, path, { range: 'bytes=0-9' });
    expect(head.status).toBe(206);
    expect(head.headers.get('content-range')).toBe(`bytes 0-9/${size}`);
    expect(head.data).toEqual(data.subarray(0, 10));

    const middle = await download(t, alice.accessToken, path, { range: 'bytes=100-' });
    expect(middle.status).toBe(206);
    expect(middle.headers.get('content-range')).toBe(`bytes 100-${size - 1}/${size}`);
    expect(middle.data).toEqual(data.subarray(100));

    const tail = await download(t, alice.accessToken, path, { range: 'bytes=-7' });
    expect(tail.status).toBe(206);
    expect(tail.data).toEqual(data.subarray(size - 7));

    const beyond = await download(t, alice.accessToken, path, { range: `bytes=${size}-` });
    expect(beyond.status).toBe(416);
    expect(beyond.headers.get('content-range')).toBe(`bytes */${size}`);

    const cached = await download(t, alice.accessToken, path, {
      'if-none-match': `"${media.sha256}"`,
    });
    expect(cached.status).toBe(304);
    expect(cached.data.length).toBe(0);
  });

  it('resumes an interrupted upload where it stopped (tus)', async () => {
    const alice = await signIn(t);
    const stranger = await signIn(t);
    const data = pdf(3 * 1024 * 1024);
    const created = await fetch(`${t.api}/media/uploads`, {
      method: 'POST',
      headers: tusHeaders(alice.accessToken, {
        'upload-length': String(data.length),
        'upload-metadata': `filename ${b64('report.pdf')},filetype ${b64('application/pdf')}`,
      }),
    });
    expect(created.status).toBe(201);
    expect(created.headers.get('tus-resumable')).toBe('1.0.0');
    const location = created.headers.get('location')!;
    expect(location).toMatch(/^\/api\/v1\/media\/uploads\/[0-9a-f-]{36}$/);
    const url = `${t.url}${location}`;

    // The connection drops after about a megabyte of a body announced as the whole file.
    await interruptedPatch(url, alice.accessToken, 0, data.length, data.subarray(0, 1_000_000));
    let offset = 0;
    await eventually(async () => {
      const head = await fetch(url, { method: 'HEAD', headers: tusHeaders(alice.accessToken) });
      expect(head.status).toBe(200);
      expect(head.headers.get('upload-length')).toBe(String(data.length));
      expect(head.headers.get('cache-control')).toBe('no-store');
      offset = Number(head.headers.get('upload-offset'));
      expect(offset).toBeGreaterThan(0);
    });
    expect(offset).toBeLessThanOrEqual(1_000_000);

    // Only the uploader sees the upload; a PATCH at the wrong offset is a conflict.
    const foreign = await fetch(url, { method: 'HEAD', headers: tusHeaders(stranger.accessToken) });
    expect(foreign.status).toBe(404);
    const wrongOffset = await fetch(url, {
      method: 'PATCH',
      headers: tusHeaders(alice.accessToken, {
        'upload-offset': '0',
        'content-type': 'application/offset+octet-stream',
      }),
      body: new Uint8Array(data.subarray(0, 10)),
    });
    expect(wrongOffset.status).toBe(409);
    expect((await json(wrongOffset)).code).toBe('CONFLICT');

    const rest = await fetch(url, {
      method: 'PATCH',
      headers: tusHeaders(alice.accessToken, {
        'upload-offset': String(offset),
        'content-type': 'application/offset+octet-stream',
      }),
      body: new Uint8Array(data.subarray(offset)),
    });
    expect(rest.status).toBe(204);
    expect(rest.headers.get('upload-offset')).toBe(String(data.length));
    const mediaId = rest.headers.get('media-id')!;
    expect(mediaId).toMatch(UUID);

    const info = await http(t.api, 'GET', `/media/${mediaId}/info`, { token: alice.accessToken });
    expect(info.body).toMatchObject({
      kind: 'document',
      mimeType: 'application/pdf',
      size: data.length,
      sha256: sha256(data),
      fileName: 'report.pdf',
    });
    const got = await download(t, alice.accessToken, `/media/${mediaId}`);
    expect(got.status).toBe(200);
    expect(sha256(got.data)).toBe(sha256(data));

    // Finished: asking again reports the end and the media.
    const done = await fetch(url, { method: 'HEAD', headers: tusHeaders(alice.accessToken) });
    expect(done.headers.get('upload-offset')).toBe(String(data.length));
    expect(done.headers.get('media-id')).toBe(mediaId);
  });

  it('view-once media opens once for each recipient, and cannot be forwarded', async () => {
    const alice = await signIn(t);
    const bob = await signIn(t);
    const carol = await signIn(t);
    const aliceSocket = await online(alice);
    const bobSocket = await online(bob);
    const { body: media } = await upload(t, alice.accessToken, await jpeg(300, 200, 9), 'x.jpg');

    const received = nextEvent(bobSocket, 'message:new', (m) => m.mediaId === media.mediaId);
    const ack = await sendMedia(aliceSocket, { recipientId: bob.userId }, 'image', media.mediaId, {
      viewOnce: true,
    });
    expect(ack.ok).toBe(true);
    expect(ack.message.viewOnce).toBe(true);
    expect((await received).viewOnce).toBe(true);

    const info = await http(t.api, 'GET', `/media/${media.mediaId}/info`, {
      token: bob.accessToken,
    });
    expect(info.status).toBe(200);
    expect(info.body.thumbnailUrl).toBeUndefined();

    const first = await download(t, bob.accessToken, `/media/${media.mediaId}`);
    expect(first.status).toBe(200);
    expect(first.redirected).toBe(false);
    expect(first.headers.get('cache-control')).toBe('private, no-store');
    expect(sha256(first.data)).toBe(media.sha256);

    const second = await download(t, bob.accessToken, `/media/${media.mediaId}`);
    expect(second.status).toBe(403);
    expect(second.body.code).toBe('FORBIDDEN');
    const thumb = await download(t, bob.accessToken, `/media/${media.mediaId}/thumbnail`);
    expect(thumb.status).toBe(403);

    // The sender keeps their own media.
    for (let i = 0; i < 2; i++) {
      expect((await download(t, alice.accessToken, `/media/${media.mediaId}`)).status).toBe(200);
    }
    const forward = await sendMedia(
      bobSocket,
      { recipientId: carol.userId },
      'image',
      media.mediaId,
    );
    expect(forward).toEqual({ ok: false, error: expect.objectContaining({ code: 'FORBIDDEN' }) });
  });

  it('lets the uploader and members who saw the message download, and nobody else', async () => {
    const alice = await signIn(t);
    const bob = await signIn(t);
    const carol = await signIn(t);
    const stranger = await signIn(t);
    const late = await signIn(t);
    const aliceSocket = await online(alice);
    const { body: media } = await upload(t, alice.accessToken, await png(), 'p.png');
    const path = `/media/${media.mediaId}`;

    // Before it is shared, only the uploader may fetch it.
    expect((await download(t, alice.accessToken, path)).status).toBe(200);
    expect((await download(t, bob.accessToken, path)).status).toBe(403);

    const group = await http(t.api, 'POST', '/groups', {
      token: alice.accessToken,
      body: { name: 'Media', memberIds: [bob.userId, carol.userId] },
    });
    expect(group.status).toBe(201);
    const sent = await sendMedia(
      aliceSocket,
      { conversationId: group.body.id },
      'image',
      media.mediaId,
    );
    expect(sent.ok).toBe(true);

    for (const member of [bob, carol]) {
      expect((await download(t, member.accessToken, path)).status).toBe(200);
    }
    for (const outsider of [stranger]) {
      for (const p of [path, `${path}/thumbnail`, `${path}/info`]) {
        const res = await download(t, outsider.accessToken, p);
        expect(res.status).toBe(403);
        expect(res.body.code).toBe('FORBIDDEN');
      }
    }
    // A member who joined after the message does not see it, nor its media.
    const added = await http(t.api, 'POST', `/groups/${group.body.id}/members`, {
      token: alice.accessToken,
      body: { userIds: [late.userId] },
    });
    expect(added.status).toBe(200);
    expect((await download(t, late.accessToken, path)).status).toBe(403);

    // A recipient may pass it on; the new recipient may then fetch it.
    const bobSocket = await online(bob);
    const forwarded = await sendMedia(
      bobSocket,
      { recipientId: stranger.userId },
      'image',
      media.mediaId,
    );
    expect(forwarded.ok).toBe(true);
    expect((await download(t, stranger.accessToken, path)).status).toBe(200);

    const missing = await download(t, alice.accessToken, `/media/${randomUUID()}`);
    expect(missing.status).toBe(404);
    expect(missing.body.code).toBe('NOT_FOUND');
    expect((await download(t, alice.accessToken, '/media/not-an-id')).status).toBe(400);
  });
});

describe('media checks, limits and quota (e2e)', () => {
  let t: TestApp;
  const sockets: Socket[] = [];

  beforeAll(async () => {
    t = await startTestApp({
      env: {
        MEDIA_MAX_IMAGE_BYTES: '60000',
        MEDIA_UPLOAD_QUOTA_BYTES_PER_HOUR: '500000',
        // No ffmpeg here whatever the machine has: the "no thumbnail" path, always.
        MEDIA_FFMPEG_PATH: '/nonexistent/ffmpeg',
        MEDIA_FFPROBE_PATH: '/nonexistent/ffprobe',
      },
    });
  });
  afterAll(async () => {
    for (const s of sockets) s.close();
    await t.close();
  });

  const expectError = (res: { status: number; body: any }, status: number, code: string) => {
    expect({ status: res.status, code: res.body?.code }).toEqual({ status, code });
    expect(typeof res.body.message).toBe('string');
  };

  it('reads the type from the bytes: a text file named .jpg with image/jpeg is refused', async () => {
    const s = await signIn(t);
    const text = Buffer.from('this is not a picture, only words.\n'.repeat(50));
    expectError(
      await upload(t, s.accessToken, text, 'photo.jpg', 'image/jpeg'),
      400,
      'VALIDATION_FAILED',
    );
    // A real PNG that claims to be a PDF is refused too: declaration and bytes disagree.
    expectError(
      await upload(t, s.accessToken, await png(), 'doc.pdf', 'application/pdf'),
      400,
      'VALIDATION_FAILED',
    );
    // Bytes of no accepted type, an empty file, and a file in the wrong field.
    const elf = Buffer.concat([
      Buffer.from([0x7f, 0x45, 0x4c, 0x46, 2, 1, 1]),
      Buffer.alloc(5000, 1),
    ]);
    expectError(await upload(t, s.accessToken, elf, 'tool'), 400, 'VALIDATION_FAILED');
    expectError(
      await upload(t, s.accessToken, Buffer.alloc(0), 'empty.pdf'),
      400,
      'VALIDATION_FAILED',
    );
    expectError(
      await upload(t, s.accessToken, pdf(10), 'a.pdf', 'application/pdf', 'attachment'),
      400,
      'VALIDATION_FAILED',
    );
    const notMultipart = await http(t.api, 'POST', '/media', { token: s.accessToken, body: {} });
    expectError(notMultipart, 400, 'VALIDATION_FAILED');
  });

  it('refuses files over the kind’s size limit with PAYLOAD_TOO_LARGE', async () => {
    const s = await signIn(t);
    const big = await jpeg(640, 480, 11);
    expect(big.length).toBeGreaterThan(60_000);
    expectError(
      await upload(t, s.accessToken, big, 'big.jpg', 'image/jpeg'),
      413,
      'PAYLOAD_TOO_LARGE',
    );
    // A document of the same size is fine: limits are per kind.
    expect((await upload(t, s.accessToken, pdf(big.length), 'same.pdf')).status).toBe(201);
    // The resumable upload refuses a declared length over the limit before any byte.
    const created = await fetch(`${t.api}/media/uploads`, {
      method: 'POST',
      headers: tusHeaders(s.accessToken, {
        'upload-length': '70000',
        'upload-metadata': `filetype ${b64('image/jpeg')}`,
      }),
    });
    expect(created.status).toBe(413);
    expect((await json(created)).code).toBe('PAYLOAD_TOO_LARGE');
  });

  it('refuses corrupt images and decompression bombs without decoding them', async () => {
    const s = await signIn(t);
    const whole = await jpeg(200, 150, 12);
    const truncated = whole.subarray(0, Math.floor(whole.length * 0.6));
    expectError(
      await upload(t, s.accessToken, truncated, 'cut.jpg', 'image/jpeg'),
      400,
      'VALIDATION_FAILED',
    );
    const garbage = Buffer.concat([whole.subarray(0, 4), Buffer.alloc(5000, 0x41)]);
    expectError(await upload(t, s.accessToken, garbage, 'junk.jpg'), 400, 'VALIDATION_FAILED');

    const bomb = pngBomb(50_000, 50_000);
    expect(bomb.length).toBeLessThan(200);
    const rssBefore = process.memoryUsage().rss;
    const started = Date.now();
    const res = await upload(t, s.accessToken, bomb, 'bomb.png', 'image/png');
    expectError(res, 400, 'VALIDATION_FAILED');
    expect(res.body.message).toMatch(/pixels/);
    // 50,000 x 50,000 RGB would be 7.5 GB; nothing of the sort was allocated.
    expect(Date.now() - started).toBeLessThan(5000);
    expect(process.memoryUsage().rss - rssBefore).toBeLessThan(200 * 1024 * 1024);
  });

  it('stores images without their EXIF and GPS metadata', async () => {
    const s = await signIn(t);
    const original = await jpegWithExifAndGps();
    const before = await sharp(original).metadata();
    expect(before.exif).toBeDefined();
    expect(hasGpsPointer(before.exif!)).toBe(true);
    expect(original.includes('SpyCam')).toBe(true);

    const { status, body: media } = await upload(
      t,
      s.accessToken,
      original,
      'gps.jpg',
      'image/jpeg',
    );
    expect(status).toBe(201);
    // The stored object itself (local disk here), and what a download returns.
    const stored = readFileSync(join(t.config.dataDir, 'media', blobKey(media.sha256)));
    const downloaded = (await download(t, s.accessToken, `/media/${media.mediaId}`)).data;
    expect(downloaded).toEqual(stored);
    for (const bytes of [stored, downloaded]) {
      const meta = await sharp(bytes).metadata();
      expect(meta.exif).toBeUndefined();
      expect(meta.xmp).toBeUndefined();
      expect(bytes.includes('SpyCam')).toBe(false);
      expect(bytes.includes('SecretSoft')).toBe(false);
      expect(bytes.includes('Exif')).toBe(false);
      expect({ width: meta.width, height: meta.height }).toEqual({ width: 320, height: 240 });
    }
  });

  it('refuses a resumable upload whose first bytes are of no accepted type', async () => {
    const s = await signIn(t);
    const text = Buffer.from('plain words, posing as a photo\n'.repeat(200));
    const created = await fetch(`${t.api}/media/uploads`, {
      method: 'POST',
      headers: tusHeaders(s.accessToken, {
        'upload-length': String(text.length * 5),
        'upload-metadata': `filename ${b64('photo.jpg')},filetype ${b64('image/jpeg')}`,
      }),
    });
    expect(created.status).toBe(201);
    const url = `${t.url}${created.headers.get('location')}`;
    const patch = await fetch(url, {
      method: 'PATCH',
      headers: tusHeaders(s.accessToken, {
        'upload-offset': '0',
        'content-type': 'application/offset+octet-stream',
      }),
      body: new Uint8Array(text),
    });
    expect(patch.status).toBe(400);
    expect((await json(patch)).code).toBe('VALIDATION_FAILED');
    // The upload is gone.
    expect((await fetch(url, { method: 'HEAD', headers: tusHeaders(s.accessToken) })).status).toBe(
      404,
    );

    // Protocol errors: no Tus-Resumable, wrong content type.
    const noVersion = await fetch(`${t.api}/media/uploads`, {
      method: 'POST',
      headers: { authorization: `Bearer ${s.accessToken}`, 'upload-length': '10' },
    });
    expect(noVersion.status).toBe(412);
    expect(noVersion.headers.get('tus-version')).toBe('1.0.0');
    const again = await fetch(`${t.api}/media/uploads`, {
      method: 'POST',
      headers: tusHeaders(s.accessToken, { 'upload-length': '10' }),
    });
    const wrongType = await fetch(`${t.url}${again.headers.get('location')}`, {
      method: 'PATCH',
      headers: tusHeaders(s.accessToken, { 'upload-offset': '0', 'content-type': 'text/plain' }),
      body: 'hello',
    });
    expect(wrongType.status).toBe(415);
    const terminated = await fetch(`${t.url}${again.headers.get('location')}`, {
      method: 'DELETE',
      headers: tusHeaders(s.accessToken),
    });
    expect(terminated.status).toBe(204);
  });

  it('limits uploads per user and hour (RATE_LIMITED with retryAfterMs)', async () => {
    const s = await signIn(t);
    const other = await signIn(t);
    expect((await upload(t, s.accessToken, pdf(200_000, 21), 'a.pdf')).status).toBe(201);
    expect((await upload(t, s.accessToken, pdf(200_000, 22), 'b.pdf')).status).toBe(201);
    const third = await upload(t, s.accessToken, pdf(200_000, 23), 'c.pdf');
    expectError(third, 429, 'RATE_LIMITED');
    expect(third.body.retryAfterMs).toBeGreaterThan(0);
    expect(third.body.retryAfterMs).toBeLessThanOrEqual(3_600_000);
    const resumable = await fetch(`${t.api}/media/uploads`, {
      method: 'POST',
      headers: tusHeaders(s.accessToken, { 'upload-length': '200000' }),
    });
    expect(resumable.status).toBe(429);
    expect((await json(resumable)).retryAfterMs).toBeGreaterThan(0);
    // Another user has their own quota.
    expect((await upload(t, other.accessToken, pdf(200_000, 24), 'd.pdf')).status).toBe(201);
  });

  it('records one share per stored message: resends and refused sends leave no rows', async () => {
    const db = t.app.get(Db, { strict: false });
    const alice = await signIn(t);
    const bob = await signIn(t);
    const carol = await signIn(t);
    const aliceSocket = await connect(t, alice.accessToken);
    const bobSocket = await connect(t, bob.accessToken);
    sockets.push(aliceSocket, bobSocket);
    const { body: image } = await upload(t, alice.accessToken, await png(48, 48, 41), 'r.png');
    const shares = async () =>
      Number(
        (
          await db.query<{ n: string }>(
            'SELECT count(*) AS n FROM media_shares WHERE media_id = $1',
            [image.mediaId],
          )
        )[0].n,
      );

    const clientMsgId = randomUUID();
    const send = () =>
      request(aliceSocket, 'message:send', {
        clientMsgId,
        recipientId: bob.userId,
        type: 'image',
        body: '',
        mediaId: image.mediaId,
      });
    const first = await send();
    expect(first.ok).toBe(true);
    for (let i = 0; i < 10; i++) expect((await send()).message.id).toBe(first.message.id);
    await Promise.all(Array.from({ length: 5 }, () => send()));
    // A conversation Alice is not in.
    const elsewhere = await request(bobSocket, 'message:send', {
      clientMsgId: randomUUID(),
      recipientId: carol.userId,
      type: 'text',
      body: 'hi',
    });
    for (let i = 0; i < 5; i++) {
      const refused = await sendMedia(
        aliceSocket,
        { conversationId: elsewhere.message.conversationId },
        'image',
        image.mediaId,
      );
      expect(refused.error.code).toBe('NOT_A_MEMBER');
    }
    expect(await shares()).toBe(1);
  });

  it('checks access to shared media in a fixed number of statements, however often it was shared', async () => {
    const db = t.app.get(Db, { strict: false });
    const alice = await signIn(t);
    const bob = await signIn(t);
    const socket = await connect(t, alice.accessToken);
    sockets.push(socket);
    const { body: image } = await upload(t, alice.accessToken, await png(48, 48, 43), 's.png');
    await sendMedia(socket, { recipientId: bob.userId }, 'image', image.mediaId);
    // The fewest of a few tries: background jobs (thumbnails) also run statements.
    const statementsForBob = async () => {
      const counts: number[] = [];
      for (let i = 0; i < 3; i++) {
        const before = db.statementCount;
        const info = await download(t, bob.accessToken, `/media/${image.mediaId}/info`);
        expect(info.status).toBe(200);
        counts.push(db.statementCount - before);
      }
      return Math.min(...counts);
    };
    const once = await statementsForBob();
    for (let i = 0; i < 12; i++) {
      const other = await signIn(t);
      await sendMedia(socket, { recipientId: other.userId }, 'image', image.mediaId);
    }
    expect(await statementsForBob()).toBe(once);
  });

  it('checks media in message:send', async () => {
    const alice = await signIn(t);
    const bob = await signIn(t);
    const stranger = await signIn(t);
    const socket = await connect(t, alice.accessToken);
    sockets.push(socket);
    const { body: image } = await upload(t, alice.accessToken, await png(64, 64, 31), 'i.png');
    const { body: foreign } = await upload(t, stranger.accessToken, await png(64, 64, 32), 'f.png');
    const to = { recipientId: bob.userId };
    const failure = (code: string) => ({ ok: false, error: expect.objectContaining({ code }) });

    const noMedia = await request(socket, 'message:send', {
      clientMsgId: randomUUID(),
      ...to,
      type: 'image',
      body: '',
    });
    expect(noMedia).toEqual(failure('VALIDATION_FAILED'));
    expect(await sendMedia(socket, to, 'video', image.mediaId)).toEqual(
      failure('VALIDATION_FAILED'),
    );
    expect(await sendMedia(socket, to, 'image', randomUUID())).toEqual(failure('NOT_FOUND'));
    expect(await sendMedia(socket, to, 'image', foreign.mediaId)).toEqual(failure('FORBIDDEN'));
    const textWithMedia = await request(socket, 'message:send', {
      clientMsgId: randomUUID(),
      ...to,
      type: 'text',
      body: 'hi',
      mediaId: image.mediaId,
    });
    expect(textWithMedia).toEqual(failure('VALIDATION_FAILED'));
    const textViewOnce = await request(socket, 'message:send', {
      clientMsgId: randomUUID(),
      ...to,
      type: 'text',
      body: 'hi',
      viewOnce: true,
    });
    expect(textViewOnce).toEqual(failure('VALIDATION_FAILED'));
    // REST takes the same checks.
    const rest = await http(t.api, 'POST', '/messages', {
      token: alice.accessToken,
      body: { clientMsgId: randomUUID(), ...to, type: 'document', body: '' },
    });
    expectError(rest, 400, 'VALIDATION_FAILED');
    const ok = await sendMedia(socket, to, 'image', image.mediaId, { body: 'a caption' });
    expect(ok.ok).toBe(true);
    expect(ok.message).toMatchObject({ body: 'a caption', mediaId: image.mediaId });
  });

  it('says "no thumbnail" for video when ffmpeg is not available', async () => {
    const s = await signIn(t);
    const socket = await connect(t, s.accessToken);
    sockets.push(socket);
    const ready = collect(socket, 'media:ready');
    const { status, body: media } = await upload(t, s.accessToken, mp4(), 'v.mp4', 'video/mp4');
    expect(status).toBe(201);
    await eventually(() =>
      expect(ready.items.find((e) => e.mediaId === media.mediaId)).toBeDefined(),
    );
    expect(ready.items.find((e) => e.mediaId === media.mediaId)).toMatchObject({
      thumbnailUrl: null,
      noThumbnailReason: 'ffmpeg-unavailable',
      kind: 'video',
    });
    const info = await http(t.api, 'GET', `/media/${media.mediaId}/info`, { token: s.accessToken });
    expect(info.body).toMatchObject({ status: 'ready', noThumbnailReason: 'ffmpeg-unavailable' });
    expect(info.body.thumbnailUrl).toBeUndefined();
  });
});
