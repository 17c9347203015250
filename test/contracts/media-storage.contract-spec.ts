import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Readable } from 'node:stream';
import { buffer } from 'node:stream/consumers';
import { loadConfig } from '../../src/common/config/app-config';
import { MediaLocalStorage } from '../../src/modules/media/adapters/local/media.local.storage';
import { MediaS3Storage } from '../../src/modules/media/adapters/s3/media.s3.storage';
import { blobKey } from '../../src/modules/media/domain/media';
import {
  MediaObjectNotFoundError,
  MediaStorage,
} from '../../src/modules/media/ports/media.storage';
import { sha256 } from '../fixtures/media-files';
import { startLocalS3 } from '../fixtures/s3-server';

/** What an adapter under test provides: a store over empty storage, and a way to release it. */
export interface MediaStorageHarness {
  storage: MediaStorage;
  /** Whether the store hands out presigned URLs (S3) or serves through Parley (local). */
  presigns: boolean;
  close(): Promise<void>;
}

const read = async (stream: Readable): Promise<Buffer> => buffer(stream);

/** The behaviour every MediaStorage adapter must have. */
export function mediaStorageContract(
  adapter: string,
  factory: () => Promise<MediaStorageHarness>,
): void {
  describe(`MediaStorage contract: ${adapter}`, () => {
    let harness: MediaStorageHarness;
    let storage: MediaStorage;
    let dir: string;

    beforeAll(async () => {
      harness = await factory();
      storage = harness.storage;
      dir = mkdtempSync(join(tmpdir(), 'parley-storage-contract-'));
    });
    afterAll(async () => {
      await harness.close();
      rmSync(dir, { recursive: true, force: true });
    });

    /** A fresh content-addressed key and the bytes it names. */
    const content = (size = 1000): { key: string; data: Buffer } => {
      const data = randomBytes(size);
      return { key: blobKey(sha256(data)), data };
    };

    const onDisk = (data: Buffer): { path: string; size: number } => {
      const path = join(dir, randomBytes(8).toString('hex'));
      writeFileSync(path, data);
      return { path, size: data.length };
    };

    it('answers ping', async () => {
      await expect(storage.ping()).resolves.toBeUndefined();
    });

    it('stores bytes from memory and reads them back', async () => {
      const { key, data } = content();
      await storage.put(key, data, 'application/octet-stream');
      expect(await storage.stat(key)).toEqual({ size: data.length });
      expect(await read(await storage.read(key))).toEqual(data);
    });

    it('stores a file streamed from disk, byte for byte (3 MiB)', async () => {
      const { key, data } = content(3 * 1024 * 1024);
      await storage.put(key, onDisk(data), 'application/pdf');
      expect(await storage.stat(key)).toEqual({ size: data.length });
      expect(sha256(await read(await storage.read(key)))).toBe(sha256(data));
    });

    it('reads inclusive byte ranges', async () => {
      const { key, data } = content(5000);
      await storage.put(key, data, 'application/octet-stream');
      expect(await read(await storage.read(key, { start: 0, end: 0 }))).toEqual(
        data.subarray(0, 1),
      );
      expect(await read(await storage.read(key, { start: 10, end: 19 }))).toEqual(
        data.subarray(10, 20),
      );
      expect(await read(await storage.read(key, { start: 4990, end: 4999 }))).toEqual(
        data.subarray(4990),
      );
    });

    it('keeps the first object when a key is written again (keys are content-addressed)', async () => {
      const { key, data } = content();
      await storage.put(key, data, 'application/octet-stream');
      await storage.put(key, randomBytes(10), 'application/octet-stream');
      expect(await read(await storage.read(key))).toEqual(data);
    });

    it('survives concurrent writes of the same key', async () => {
      const { key, data } = content(200_000);
      await Promise.all(
        Array.from({ length: 5 }, (_, i) =>
          storage.put(key, i % 2 ? data : onDisk(data), 'application/octet-stream'),
        ),
      );
      expect(sha256(await read(await storage.read(key)))).toBe(sha256(data));
    });

    it('reports a missing object: stat null, read MediaObjectNotFoundError', async () => {
      const { key } = content();
      expect(await storage.stat(key)).toBeNull();
      await expect(storage.read(key)).rejects.toBeInstanceOf(MediaObjectNotFoundError);
      await expect(storage.read(key, { start: 0, end: 1 })).rejects.toBeInstanceOf(
        MediaObjectNotFoundError,
      );
    });

    it('deletes, and deleting a missing object is not an error', async () => {
      const { key, data } = content();
      await storage.put(key, data, 'application/octet-stream');
      await storage.delete(key);
      expect(await storage.stat(key)).toBeNull();
      await expect(storage.delete(key)).resolves.toBeUndefined();
    });

    it('keeps keys apart, nested or not', async () => {
      const a = Buffer.from('first');
      const b = Buffer.from('second');
      const prefix = `uploads/${randomBytes(4).toString('hex')}`;
      await storage.put(`${prefix}/0-aa`, a, 'application/octet-stream');
      await storage.put(`${prefix}/5-bb`, b, 'application/octet-stream');
      expect(await read(await storage.read(`${prefix}/0-aa`))).toEqual(a);
      expect(await read(await storage.read(`${prefix}/5-bb`))).toEqual(b);
      await storage.delete(`${prefix}/0-aa`);
      expect(await storage.stat(`${prefix}/5-bb`)).toEqual({ size: b.length });
    });

    it('refuses keys that could escape the store', async () => {
      for (const key of [
        '../etc/passwd',
        '/abs',
        'a//b',
        'a/../b',
        'a/./b',
        '',
        'sp ace',
        'a\\b',
      ]) {
        await expect(storage.put(key, Buffer.from('x'), 'text/plain')).rejects.toThrow(
          /invalid media storage key/,
        );
        await expect(storage.stat(key)).rejects.toThrow(/invalid media storage key/);
      }
    });

    it('hands out presigned URLs that serve the object and honour Range, or none', async () => {
      const { key, data } = content(4000);
      await storage.put(key, data, 'application/pdf');
      const url = await storage.presignedGetUrl(key, {
        expiresInSec: 60,
        contentType: 'application/pdf',
        cacheControl: 'private, max-age=60',
      });
      if (!harness.presigns) {
        expect(url).toBeNull();
        return;
      }
      expect(url).toEqual(expect.any(String));
      const whole = await fetch(url!);
      expect(whole.status).toBe(200);
      expect(Buffer.from(await whole.arrayBuffer())).toEqual(data);
      const part = await fetch(url!, { headers: { range: 'bytes=100-199' } });
      expect(part.status).toBe(206);
      expect(Buffer.from(await part.arrayBuffer())).toEqual(data.subarray(100, 200));
    });
  });
}

mediaStorageContract('local disk', async () => {
  const root = mkdtempSync(join(tmpdir(), 'parley-media-local-'));
  return {
    storage: new MediaLocalStorage(root),
    presigns: false,
    close: async () => rmSync(root, { recursive: true, force: true }),
  };
});

mediaStorageContract('S3 (s3rver on loopback)', async () => {
  const s3 = await startLocalS3();
  const config = loadConfig({ DATA_DIR: mkdtempSync(join(tmpdir(), 'parley-cfg-')), ...s3.env });
  const storage = new MediaS3Storage(config.s3!);
  return {
    storage,
    presigns: true,
    close: async () => {
      storage.close();
      await s3.close();
      rmSync(config.dataDir, { recursive: true, force: true });
    },
  };
});
