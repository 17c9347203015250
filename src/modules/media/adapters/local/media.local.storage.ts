import { randomBytes } from 'node:crypto';
import {
  access,
  copyFile,
  link,
  mkdir,
  open,
  rename,
  rm,
  stat,
  writeFile,
  constants as fsConstants,
} from 'node:fs/promises';
import { dirname, join } from 'node:path';
import type { Readable } from 'node:stream';
import {
  assertValidKey,
  MediaObjectNotFoundError,
  MediaStorage,
  type ByteRange,
  type ObjectSource,
} from '../../ports/media.storage';

const isMissing = (error: unknown): boolean => (error as { code?: string }).code === 'ENOENT';

/**
 * The embedded default: objects are files under `<root>/<key>`. Writes go to a temporary
 * name next to the target and are renamed into place, so a reader never sees half a file
 * and two writers of the same content-addressed key cannot corrupt it.
 */
export class MediaLocalStorage extends MediaStorage {
  readonly backend = 'local' as const;

  constructor(private readonly root: string) {
    super();
  }

  private pathOf(key: string): string {
    assertValidKey(key);
    return join(this.root, key);
  }

  async put(key: string, source: ObjectSource, _contentType: string): Promise<void> {
    const target = this.pathOf(key);
    if (await this.stat(key)) return;
    await mkdir(dirname(target), { recursive: true });
    const temp = `${target}.${randomBytes(6).toString('hex')}.tmp`;
    try {
      if (Buffer.isBuffer(source)) {
        await writeFile(temp, source, { mode: 0o600 });
      } else {
        // A hard link costs no copy when the source is on the same filesystem.
        await link(source.path, temp).catch(() => copyFile(source.path, temp));
      }
      await rename(temp, target);
    } catch (error) {
      await rm(temp, { force: true });
      throw error;
    }
  }

  async stat(key: string): Promise<{ size: number } | null> {
    try {
      const s = await stat(this.pathOf(key));
      return s.isFile() ? { size: s.size } : null;
    } catch (error) {
      if (isMissing(error)) return null;
      throw error;
    }
  }

  async read(key: string, range?: ByteRange): Promise<Readable> {
    let handle;
    try {
      // Opened first so that a missing object fails here, not later in the stream.
      handle = await open(this.pathOf(key), 'r');
    } catch (error) {
      if (isMissing(error)) throw new MediaObjectNotFoundError(key);
      throw error;
    }
    // autoClose (the default) closes the handle when the stream ends or is destroyed.
    return handle.createReadStream({ start: range?.start, end: range?.end });
  }

  async delete(key: string): Promise<void> {
    await rm(this.pathOf(key), { force: true });
  }

  async presignedGetUrl(): Promise<string | null> {
    return null;
  }

  async ping(): Promise<void> {
    await mkdir(this.root, { recursive: true });
    await access(this.root, fsConstants.R_OK | fsConstants.W_OK);
  }
}
