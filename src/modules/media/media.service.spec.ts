import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { MemoryMediaRepository } from '../../../test/fixtures/media-memory.repository';
import { loadConfig } from '../../common/config/app-config';
import { AppError } from '../../common/errors';
import type { JobQueue } from '../../common/queue/job-queue';
import type { RealtimeEmitter } from '../../common/realtime/realtime.emitter';
import { MediaLocalStorage } from './adapters/local/media.local.storage';
import type { MediaRecord } from './domain/media';
import { MediaService } from './media.service';
import { MediaAudienceRegistry } from './ports/media-audience';

const HOUR = 3_600_000;

describe('MediaService', () => {
  let dir: string;
  let repo: MemoryMediaRepository;
  let service: MediaService;
  let storage: MediaLocalStorage;
  /** Which message ids each user can see (what the chat module would answer). */
  let visible: Record<string, string[]>;
  const enqueued: string[] = [];

  const jobs = {
    enqueue: async (_name: string, data: { mediaId: string }) => void enqueued.push(data.mediaId),
  } as unknown as JobQueue;
  const realtime = { toUsers: () => undefined } as unknown as RealtimeEmitter;

  beforeEach(async () => {
    dir = mkdtempSync(join(tmpdir(), 'parley-media-service-'));
    repo = new MemoryMediaRepository();
    visible = {};
    const audience = new MediaAudienceRegistry();
    const config = loadConfig({ DATA_DIR: dir, MEDIA_UPLOAD_QUOTA_BYTES_PER_HOUR: '1000' });
    storage = new MediaLocalStorage(join(dir, 'media'));
    service = new MediaService(repo, storage, audience, jobs, realtime, config);
    service.registerAudience({
      visibleMessageIds: async (userId, ids) =>
        new Set(ids.filter((id) => visible[userId]?.includes(id))),
      audienceOf: async () => [],
    });
    await service.onModuleInit();
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  const record = (over: Partial<MediaRecord> = {}): MediaRecord => ({
    id: `m-${Math.random().toString(36).slice(2)}`,
    uploaderId: 'alice',
    kind: 'image',
    mimeType: 'image/jpeg',
    size: 100,
    sha256: 'a'.repeat(64),
    storageKey: 'blobs/aa/aa/x',
    fileName: null,
    width: 10,
    height: 10,
    durationMs: null,
    status: 'ready',
    thumbnail: { key: 'thumbs/t.jpg', sha256: 'b'.repeat(64), size: 5, mimeType: 'image/jpeg' },
    noThumbnailReason: null,
    createdAt: new Date(),
    processedAt: new Date(),
    ...over,
  });

  const code = async (promise: Promise<unknown>): Promise<string> => {
    const error = await promise.then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(AppError);
    return (error as AppError).code;
  };

  describe('upload quota', () => {
    it('counts the last hour of uploads in bytes, and tells when more fits', async () => {
      const now = Date.now();
      await repo.insert(record({ size: 300, createdAt: new Date(now - 50 * 60_000) }));
      await repo.insert(record({ size: 500, createdAt: new Date(now - 10 * 60_000) }));
      await repo.insert(record({ size: 900, createdAt: new Date(now - 2 * HOUR) })); // aged out
      await repo.insert(record({ size: 900, uploaderId: 'bob' }));
      expect(await service.quotaRemaining('alice')).toBe(200);
      // 400 more fit once the 300-byte upload from 50 minutes ago ages out: in ~10 minutes.
      const wait = await service.quotaRetryAfterMs('alice', 400);
      expect(wait).toBeGreaterThan(9 * 60_000);
      expect(wait).toBeLessThanOrEqual(10 * 60_000);
      // 700 more need both to age out: in ~50 minutes.
      expect(await service.quotaRetryAfterMs('alice', 700)).toBeGreaterThan(49 * 60_000);
      // More than the whole quota never fits.
      expect(await service.quotaRetryAfterMs('alice', 5000)).toBe(HOUR);
    });

    it('counts unfinished resumable uploads by their declared length', async () => {
      await repo.createUpload({
        id: 'u1',
        uploaderId: 'alice',
        length: 800,
        offset: 0,
        fileName: null,
        fileType: null,
        mediaId: null,
        createdAt: new Date(),
        expiresAt: new Date(Date.now() + HOUR),
      });
      expect(await service.quotaRemaining('alice')).toBe(200);
    });

    it('refuses at once when the quota is used up', async () => {
      await repo.insert(record({ size: 1000 }));
      const error = await service.limitsFor('alice').catch((e: unknown) => e as AppError);
      expect(error).toBeInstanceOf(AppError);
      expect((error as AppError).toBody()).toMatchObject({ code: 'RATE_LIMITED' });
      expect((error as AppError).toBody().retryAfterMs).toBeGreaterThan(0);
      expect(await service.limitsFor('bob')).toMatchObject({ quotaRemaining: 1000 });
    });

    it('has no quota when the setting is 0', async () => {
      const config = loadConfig({ DATA_DIR: dir, MEDIA_UPLOAD_QUOTA_BYTES_PER_HOUR: '0' });
      const unlimited = new MediaService(
        repo,
        new MediaLocalStorage(join(dir, 'media')),
        new MediaAudienceRegistry(),
        jobs,
        realtime,
        config,
      );
      await repo.insert(record({ size: 10_000_000 }));
      expect(await unlimited.quotaRemaining('alice')).toBeNull();
      expect((await unlimited.limitsFor('alice')).quotaRemaining).toBeNull();
    });
  });

  describe('access', () => {
    it('gives the uploader full access, and nobody else before a share', async () => {
      const m = record();
      await repo.insert(m);
      expect(await service.accessOf('alice', m)).toBe('full');
      expect(await service.accessOf('bob', m)).toBe('none');
      expect(await code(service.accessible('bob', m.id))).toBe('FORBIDDEN');
      expect(await code(service.accessible('bob', 'missing'))).toBe('NOT_FOUND');
    });

    it('follows the messages a user can see', async () => {
      const m = record();
      await repo.insert(m);
      await service.attach('alice', {
        mediaId: m.id,
        type: 'image',
        viewOnce: false,
        messageId: 'msg1',
        conversationId: 'c1',
      });
      visible = { bob: ['msg1'] };
      expect(await service.accessOf('bob', m)).toBe('full');
      // A share whose message the user cannot see (not a member, joined later, blocked).
      expect(await service.accessOf('carol', m)).toBe('none');
    });

    it('opens view-once media once per recipient; HEAD does not use it up', async () => {
      const m = record();
      await repo.insert(m);
      await service.attach('alice', {
        mediaId: m.id,
        type: 'image',
        viewOnce: true,
        messageId: 'once',
        conversationId: 'c1',
      });
      visible = { bob: ['once'] };
      expect(await service.accessOf('bob', m)).toBe('view-once');
      expect((await service.describe('bob', m.id)).thumbnailUrl).toBeUndefined();
      expect((await service.describe('alice', m.id)).thumbnailUrl).toBeDefined();
      expect(await service.openOriginal('bob', m.id, false)).toMatchObject({ viewOnce: true });
      expect(await service.openOriginal('bob', m.id, true)).toMatchObject({ viewOnce: true });
      expect(await code(service.openOriginal('bob', m.id, true))).toBe('FORBIDDEN');
      expect(await code(service.openOriginal('bob', m.id, false))).toBe('FORBIDDEN');
      expect(await code(service.openThumbnail('bob', m.id))).toBe('FORBIDDEN');
      // The uploader is not limited.
      for (let i = 0; i < 3; i++) await service.openOriginal('alice', m.id, true);
    });

    it('lets the same media seen normally elsewhere be opened freely', async () => {
      const m = record();
      await repo.insert(m);
      for (const [messageId, viewOnce] of [
        ['once', true],
        ['normal', false],
      ] as const) {
        await service.attach('alice', {
          mediaId: m.id,
          type: 'image',
          viewOnce,
          messageId,
          conversationId: 'c',
        });
      }
      visible = { bob: ['once', 'normal'] };
      expect(await service.accessOf('bob', m)).toBe('full');
    });
  });

  describe('attach', () => {
    it('checks existence, access and kind before recording the share', async () => {
      const m = record();
      await repo.insert(m);
      const input = { mediaId: m.id, viewOnce: false, messageId: 'x', conversationId: 'c' };
      expect(await code(service.attach('alice', { ...input, type: 'video' }))).toBe(
        'VALIDATION_FAILED',
      );
      expect(await code(service.attach('bob', { ...input, type: 'image' }))).toBe('FORBIDDEN');
      expect(
        await code(service.attach('alice', { ...input, mediaId: 'nope', type: 'image' })),
      ).toBe('NOT_FOUND');
      expect(repo.shares).toHaveLength(0);
      await service.attach('alice', { ...input, type: 'image' });
      await service.attach('alice', { ...input, type: 'image' });
      expect(repo.shares).toHaveLength(1);
    });

    it('does not let a view-once recipient forward the media', async () => {
      const m = record();
      await repo.insert(m);
      await service.attach('alice', {
        mediaId: m.id,
        type: 'image',
        viewOnce: true,
        messageId: 'once',
        conversationId: 'c1',
      });
      visible = { bob: ['once'] };
      expect(
        await code(
          service.attach('bob', {
            mediaId: m.id,
            type: 'image',
            viewOnce: false,
            messageId: 'fwd',
            conversationId: 'c2',
          }),
        ),
      ).toBe('FORBIDDEN');
    });
  });

  it('queues processing again for media stuck in processing', async () => {
    enqueued.length = 0;
    await repo.insert(
      record({ id: 'old', status: 'processing', createdAt: new Date(Date.now() - HOUR) }),
    );
    await repo.insert(record({ id: 'new', status: 'processing' }));
    await repo.insert(record({ id: 'done', createdAt: new Date(Date.now() - HOUR) }));
    expect(await service.requeueStuck(15 * 60_000)).toBe(1);
    expect(enqueued).toEqual(['old']);
  });

  describe('messages deleted for good, and pictures', () => {
    const put = (key: string) => storage.put(key, Buffer.from(key), 'application/octet-stream');
    const share = (mediaId: string, messageId: string) =>
      repo.addShare({
        mediaId,
        messageId,
        conversationId: 'c1',
        senderId: 'alice',
        viewOnce: false,
      });

    it('deletes a media and its bytes once no remaining message shares it', async () => {
      const m = record({ id: 'gone', storageKey: 'blobs/gone', thumbnail: null });
      await repo.insert(m);
      await put(m.storageKey);
      await share(m.id, 'msg-1');
      await share(m.id, 'msg-2');

      expect(await service.releaseMessages(['msg-1'])).toBe(0);
      expect(await repo.findById(m.id)).not.toBeNull();
      expect(await storage.stat(m.storageKey)).not.toBeNull();

      expect(await service.releaseMessages(['msg-2'])).toBe(1);
      expect(await repo.findById(m.id)).toBeNull();
      expect(await storage.stat(m.storageKey)).toBeNull();
      expect(await code(service.describe('alice', m.id))).toBe('NOT_FOUND');
    });

    it('keeps the bytes another record uses, and a picture made of the upload', async () => {
      const m = record({ id: 'sent', storageKey: 'blobs/shared' });
      await repo.insert(m);
      await put(m.storageKey);
      await put(m.thumbnail!.key);
      await share(m.id, 'msg-3');
      const picture = await service.adoptPicture('alice', m.id);

      expect(await service.releaseMessages(['msg-3'])).toBe(1);
      expect(await repo.findById(m.id)).toBeNull();
      expect((await service.openPicture(picture)).storageKey).toBe('blobs/shared');
      expect(await storage.stat('blobs/shared')).not.toBeNull();
      expect(await storage.stat(m.thumbnail!.key)).not.toBeNull();

      await service.releasePicture(picture);
      expect(await code(service.openPicture(picture))).toBe('NOT_FOUND');
      expect(await storage.stat('blobs/shared')).toBeNull();
      expect(await storage.stat(m.thumbnail!.key)).toBeNull();
    });

    it('makes pictures only of images the user uploaded, and changes nothing otherwise', async () => {
      await repo.insert(record({ id: 'img' }));
      await repo.insert(record({ id: 'doc', kind: 'document', mimeType: 'application/pdf' }));
      const before = repo.media.size;
      expect(await code(service.adoptPicture('bob', 'img'))).toBe('VALIDATION_FAILED');
      expect(await code(service.adoptPicture('alice', 'doc'))).toBe('VALIDATION_FAILED');
      expect(await code(service.adoptPicture('alice', 'missing'))).toBe('VALIDATION_FAILED');
      expect(repo.media.size).toBe(before);
    });
  });
});
