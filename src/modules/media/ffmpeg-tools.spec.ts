import { spawnSync } from 'node:child_process';
import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import sharp from 'sharp';
import { FfmpegTools } from './ffmpeg-tools';

const installed = ['ffmpeg', 'ffprobe'].every(
  (cmd) => spawnSync(cmd, ['-version'], { stdio: 'ignore', timeout: 10_000 }).status === 0,
);

describe('FfmpegTools', () => {
  let dir: string;
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'parley-ffmpeg-'));
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('is unavailable when the binaries are missing', async () => {
    const tools = new FfmpegTools('/nonexistent/ffmpeg', '/nonexistent/ffprobe', 5000);
    expect(await tools.available()).toBe(false);
  });

  it('kills a run that passes its deadline', async () => {
    const hang = join(dir, 'hang.sh');
    writeFileSync(hang, '#!/bin/sh\nsleep 30\n');
    chmodSync(hang, 0o755);
    const tools = new FfmpegTools(hang, hang, 300);
    const started = Date.now();
    expect(await tools.available()).toBe(false);
    expect(await tools.posterFrame(join(dir, 'any.mp4'), 'video/mp4', 0)).toBeNull();
    expect(await tools.probe(join(dir, 'any.mp4'), 'video/mp4')).toBeNull();
    expect(Date.now() - started).toBeLessThan(5000);
  });

  it('only runs formats it has a fixed demuxer for', async () => {
    const tools = new FfmpegTools('ffmpeg', 'ffprobe', 5000);
    expect(FfmpegTools.demuxerFor('video/mp4')).toBe('mov');
    expect(FfmpegTools.demuxerFor('video/webm')).toBe('matroska');
    expect(FfmpegTools.demuxerFor('application/x-mpegurl')).toBeUndefined();
    expect(await tools.posterFrame(join(dir, 'x'), 'application/x-mpegurl', 0)).toBeNull();
  });

  // Decided on the machine at hand: the poster frame where ffmpeg is installed, the
  // "unavailable" answer where it is not.
  it('reads a poster frame and the duration where ffmpeg is installed', async () => {
    const tools = new FfmpegTools('ffmpeg', 'ffprobe', 30_000);
    expect(await tools.available()).toBe(installed);
    if (!installed) return;
    const clip = join(dir, 'clip.mp4');
    const made = spawnSync('ffmpeg', [
      '-v',
      'error',
      '-f',
      'lavfi',
      '-i',
      'testsrc=duration=3:size=160x120:rate=10',
      '-pix_fmt',
      'yuv420p',
      '-y',
      clip,
    ]);
    expect(made.status).toBe(0);
    expect(await tools.probe(clip, 'video/mp4')).toEqual({
      durationMs: 3000,
      width: 160,
      height: 120,
    });
    const frame = await tools.posterFrame(clip, 'video/mp4', 1000);
    expect(frame).not.toBeNull();
    expect(await sharp(frame!).metadata()).toMatchObject({
      format: 'jpeg',
      width: 160,
      height: 120,
    });

    // A concat script posing as MP4 is read as MP4 (and fails), never followed.
    const script = join(dir, 'evil.mp4');
    writeFileSync(script, `ffconcat version 1.0\nfile '${clip}'\n`);
    expect(await tools.posterFrame(script, 'video/mp4', 0)).toBeNull();
  });
});
