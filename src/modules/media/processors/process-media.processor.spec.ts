import { createHash } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import sharp from 'sharp';
import { MemoryMediaRepository } from '../../../../test/fixtures/media-memory.repository';
import { loadConfig, type AppConfig } from '../../../common/config/app-config';
import type { JobQueue } from '../../../common/queue/job-queue';
import type { RealtimeEmitter } from '../../../common/realtime/realtime.emitter';
import { MediaLocalStorage } from '../adapters/local/media.local.storage';
import { blobKey, type MediaKind, type MediaRecord } from '../domain/media';
import { FfmpegTools } from '../ffmpeg-tools';
import { MediaService } from '../media.service';
import { MediaAudienceRegistry } from '../ports/media-audience';
import { ProcessMediaProcessor } from './process-media.processor';

const sha = (data: Buffer) => createHash('sha256').update(data).digest('hex');

/** ffmpeg that is "installed" but cannot read the file. */
class BrokenFfmpeg extends FfmpegTools {
  constructor() {
    super('ffmpeg', 'ffprobe', 1000);
  }
  override available(): Promise<boolean> {
    return Promise.resolve(true);
  }
  override async probe(): Promise<null> {
    return null;
  }
  override async posterFrame(): Promise<null> {
    return null;
  }
}

describe('ProcessMediaProcessor', () => {
  let dir: string;
  let config: AppConfig;
  let repo: MemoryMediaRepository;
  let storage: MediaLocalStorage;
  let audience: MediaAudienceRegistry;
  let emitted: Array<{ users: readonly string[]; payload: unknown }>;
  let media: MediaService;

  const jobs = {
    process: () => undefined,
    enqueue: async () => undefined,
    repeat: () => undefined,
    drain: async () => undefined,
  } as unknown as JobQueue;

  beforeEach(async () => {
    dir = mkdtempSync(join(tmpdir(), 'parley-process-media-'));
    config = loadConfig({ DATA_DIR: dir });
    repo = new MemoryMediaRepository();
    storage = new MediaLocalStorage(join(dir, 'media'));
    audience = new MediaAudienceRegistry();
    emitted = [];
    const realtime = {
      toUsers: (users: readonly string[], _event: string, payload: unknown) =>
        emitted.push({ users, payload }),
    } as unknown as RealtimeEmitter;
    media = new MediaService(repo, storage, audience, jobs, realtime, config);
    await media.onModuleInit();
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  const processor = (
    ffmpeg = new FfmpegTools('/nonexistent/ffmpeg', '/nonexistent/ffprobe', 1000),
  ) => new ProcessMediaProcessor(jobs, repo, storage, media, ffmpeg, config);

  async function stored(
    kind: MediaKind,
    data: Buffer,
    mimeType: string,
    id = `m-${Math.random()}`,
  ) {
    const record: MediaRecord = {
      id,
      uploaderId: 'uploader',
      kind,
      mimeType,
      size: data.length,
      sha256: sha(data),
      storageKey: blobKey(sha(data)),
      fileName: null,
      width: null,
      height: null,
      durationMs: null,
      status: 'processing',
      thumbnail: null,
      noThumbnailReason: null,
      createdAt: new Date(),
      processedAt: null,
    };
    await storage.put(record.storageKey, data, mimeType);
    await repo.insert(record);
    return record;
  }

  const picture = () =>
    sharp({ create: { width: 800, height: 600, channels: 3, background: '#884422' } })
      .jpeg()
      .toBuffer();

  it('makes an image thumbnail and tells the uploader', async () => {
    const record = await stored('image', await picture(), 'image/jpeg');
    await processor().run(record.id);
    const done = (await repo.findById(record.id))!;
    expect(done.status).toBe('ready');
    expect(done.thumbnail).toMatchObject({ mimeType: 'image/jpeg' });
    const thumb = await sharp(await readAll(done.thumbnail!.key)).metadata();
    expect({ width: thumb.width, height: thumb.height }).toEqual({ width: 320, height: 240 });
    expect(emitted).toEqual([
      {
        users: ['uploader'],
        payload: {
          mediaId: record.id,
          thumbnailUrl: `/api/v1/media/${record.id}/thumbnail`,
          kind: 'image',
        },
      },
    ]);
  });

  it('is safe to run twice, one after the other or at once: one result, one announcement', async () => {
    const record = await stored('image', await picture(), 'image/jpeg');
    const p = processor();
    await Promise.all([p.run(record.id), p.run(record.id)]);
    await p.run(record.id);
    expect(emitted).toHaveLength(1);
    expect((await repo.findById(record.id))!.status).toBe('ready');
  });

  it('reuses the thumbnail of an earlier upload of the same bytes', async () => {
    const bytes = await picture();
    const first = await stored('image', bytes, 'image/jpeg', 'first');
    await processor().run(first.id);
    const second = await stored('image', bytes, 'image/jpeg', 'second');
    await processor().run(second.id);
    const [a, b] = [(await repo.findById('first'))!, (await repo.findById('second'))!];
    expect(b.thumbnail).toEqual(a.thumbnail);
  });

  it('records "no thumbnail" for video without ffmpeg, and for audio and documents', async () => {
    const video = await stored('video', Buffer.from('....ftypisom'), 'video/mp4');
    const audio = await stored('audio', Buffer.from('RIFF....WAVE'), 'audio/vnd.wave');
    const doc = await stored('document', Buffer.from('%PDF-1.4'), 'application/pdf');
    for (const r of [video, audio, doc]) await processor().run(r.id);
    expect((await repo.findById(video.id))!).toMatchObject({
      status: 'ready',
      thumbnail: null,
      noThumbnailReason: 'ffmpeg-unavailable',
    });
    expect((await repo.findById(audio.id))!.noThumbnailReason).toBe('not-applicable');
    expect((await repo.findById(doc.id))!.noThumbnailReason).toBe('not-applicable');
    expect(emitted.map((e) => e.payload)).toEqual([
      {
        mediaId: video.id,
        thumbnailUrl: null,
        noThumbnailReason: 'ffmpeg-unavailable',
        kind: 'video',
      },
      { mediaId: audio.id, thumbnailUrl: null, noThumbnailReason: 'not-applicable', kind: 'audio' },
      {
        mediaId: doc.id,
        thumbnailUrl: null,
        noThumbnailReason: 'not-applicable',
        kind: 'document',
      },
    ]);
  });

  it('records a video ffmpeg cannot read as failed, without throwing (no endless retries)', async () => {
    const video = await stored('video', Buffer.from('....ftypisom garbage'), 'video/mp4');
    await processor(new BrokenFfmpeg()).run(video.id);
    expect((await repo.findById(video.id))!).toMatchObject({
      status: 'ready',
      noThumbnailReason: 'failed',
    });
  });

  it('throws, to be retried, when the record or the stored bytes are missing', async () => {
    await expect(processor().run('no-such-media')).rejects.toThrow(/not found/);
    const record = await stored('image', await picture(), 'image/jpeg');
    await storage.delete(record.storageKey);
    await expect(processor().run(record.id)).rejects.toThrow();
    expect((await repo.findById(record.id))!.status).toBe('processing');
    expect(emitted).toHaveLength(0);
  });

  it('tells members who saw the media, and view-once recipients without a preview', async () => {
    const record = await stored('image', await picture(), 'image/jpeg');
    await repo.addShare({
      mediaId: record.id,
      messageId: 'normal',
      conversationId: 'c1',
      senderId: 'uploader',
      viewOnce: false,
    });
    await repo.addShare({
      mediaId: record.id,
      messageId: 'once',
      conversationId: 'c2',
      senderId: 'uploader',
      viewOnce: true,
    });
    audience.register({
      visibleMessageIds: async () => new Set(),
      audienceOf: async (ids) =>
        ids.includes('normal') ? ['uploader', 'bob'] : ids.includes('once') ? ['carol', 'bob'] : [],
    });
    await processor().run(record.id);
    expect(emitted).toEqual([
      {
        users: ['uploader', 'bob'],
        payload: expect.objectContaining({ thumbnailUrl: expect.any(String) }),
      },
      {
        users: ['carol'],
        payload: expect.objectContaining({ thumbnailUrl: null, noThumbnailReason: 'view-once' }),
      },
    ]);
  });

  async function readAll(key: string): Promise<Buffer> {
    const chunks: Buffer[] = [];
    for await (const c of await storage.read(key)) chunks.push(c as Buffer);
    return Buffer.concat(chunks);
  }
});
