import { spawn } from 'node:child_process';

export interface ProbeResult {
  durationMs: number | null;
  width: number | null;
  height: number | null;
}

/**
 * ffmpeg's demuxer for each accepted audio/video type. The demuxer is forced rather than
 * guessed from the content: a file that passed our type check is then never read as a
 * playlist or concat script (formats that make ffmpeg open other files or URLs).
 */
const DEMUXER: Record<string, string> = {
  'video/mp4': 'mov',
  'video/quicktime': 'mov',
  'video/3gpp': 'mov',
  'video/x-m4v': 'mov',
  'video/webm': 'matroska',
  'video/x-matroska': 'matroska',
  'audio/mp4': 'mov',
  'audio/x-m4a': 'mov',
  'audio/3gpp': 'mov',
  'audio/webm': 'matroska',
  'audio/mpeg': 'mp3',
  'audio/ogg': 'ogg',
  'audio/opus': 'ogg',
  'audio/aac': 'aac',
  'audio/vnd.wave': 'wav',
  'audio/x-flac': 'flac',
  'audio/amr': 'amr',
};

interface RunResult {
  code: number | null;
  stdout: Buffer;
  stderr: string;
  timedOut: boolean;
}

/** Poster frames and durations through the ffmpeg/ffprobe binaries, each run with a deadline. */
export class FfmpegTools {
  private availability?: Promise<boolean>;

  constructor(
    private readonly ffmpegPath: string,
    private readonly ffprobePath: string,
    private readonly timeoutMs: number,
  ) {}

  /** Whether both binaries run; checked once per process. */
  available(): Promise<boolean> {
    this.availability ??= Promise.all([
      this.run(this.ffmpegPath, ['-hide_banner', '-version'], 1024 * 1024),
      this.run(this.ffprobePath, ['-hide_banner', '-version'], 1024 * 1024),
    ]).then(
      (results) => results.every((r) => r.code === 0),
      () => false,
    );
    return this.availability;
  }

  static demuxerFor(mimeType: string): string | undefined {
    return DEMUXER[mimeType];
  }

  /** Duration and picture size, or null when ffprobe cannot read the file. */
  async probe(path: string, mimeType: string): Promise<ProbeResult | null> {
    const demuxer = DEMUXER[mimeType];
    if (!demuxer) return null;
    const result = await this.run(
      this.ffprobePath,
      [
        '-v',
        'error',
        '-protocol_whitelist',
        'file',
        '-f',
        demuxer,
        '-print_format',
        'json',
        '-show_entries',
        'format=duration:stream=codec_type,width,height,duration',
        path,
      ],
      1024 * 1024,
    );
    if (result.code !== 0) return null;
    try {
      const parsed = JSON.parse(result.stdout.toString('utf8')) as {
        format?: { duration?: string };
        streams?: Array<{ codec_type?: string; width?: number; height?: number }>;
      };
      const seconds = Number(parsed.format?.duration);
      const video = parsed.streams?.find((s) => s.codec_type === 'video' && s.width && s.height);
      return {
        durationMs: Number.isFinite(seconds) && seconds > 0 ? Math.round(seconds * 1000) : null,
        width: video?.width ?? null,
        height: video?.height ?? null,
      };
    } catch {
      return null;
    }
  }

  /**
   * One frame as a JPEG (about a second in, or the first frame of short clips), or null
   * when ffmpeg finds no picture, fails, or runs out of time.
   */
  async posterFrame(path: string, mimeType: string, atMs: number): Promise<Buffer | null> {
    const demuxer = DEMUXER[mimeType];
    if (!demuxer) return null;
    const result = await this.run(
      this.ffmpegPath,
      [
        '-hide_banner',
        '-nostdin',
        '-v',
        'error',
        '-protocol_whitelist',
        'file',
        '-ss',
        (atMs / 1000).toFixed(3),
        '-f',
        demuxer,
        '-i',
        path,
        '-frames:v',
        '1',
        '-an',
        '-f',
        'image2pipe',
        '-c:v',
        'mjpeg',
        '-q:v',
        '3',
        'pipe:1',
      ],
      32 * 1024 * 1024,
    );
    return result.code === 0 && result.stdout.length > 0 ? result.stdout : null;
  }

  /**
   * Runs a binary without a shell, killing it at the deadline or when its output passes
   * `maxOutput` bytes. The child leads its own process group, so the kill reaches
   * anything it started, and the run ends at the kill without waiting for pipes that a
   * stray grandchild could hold open. Never rejects for the child's own failures; rejects
   * only when it cannot be started (missing binary).
   */
  private run(command: string, args: string[], maxOutput: number): Promise<RunResult> {
    return new Promise((resolve, reject) => {
      const child = spawn(command, args, { stdio: ['ignore', 'pipe', 'pipe'], detached: true });
      const out: Buffer[] = [];
      let outBytes = 0;
      let stderr = '';
      let timedOut = false;
      let settled = false;
      const finish = (code: number | null) => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        resolve({ code, stdout: Buffer.concat(out), stderr, timedOut });
      };
      const kill = () => {
        try {
          if (child.pid) process.kill(-child.pid, 'SIGKILL');
        } catch {
          // Already gone.
        }
        child.stdout.destroy();
        child.stderr.destroy();
        finish(null);
      };
      const timer = setTimeout(() => {
        timedOut = true;
        kill();
      }, this.timeoutMs);
      child.stdout.on('data', (chunk: Buffer) => {
        outBytes += chunk.length;
        if (outBytes > maxOutput) kill();
        else out.push(chunk);
      });
      child.stderr.on('data', (chunk: Buffer) => {
        if (stderr.length < 4096) stderr += chunk.toString('utf8');
      });
      child.once('error', (error) => {
        settled = true;
        clearTimeout(timer);
        reject(error);
      });
      child.once('close', (code) => finish(code));
    });
  }
}
