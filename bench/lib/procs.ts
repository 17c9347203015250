import { fork, type ChildProcess } from 'node:child_process';
import { createServer } from 'node:net';
import { childEnv } from './env';

type CleanupFn = () => Promise<void> | void;

/**
 * Everything the harness starts registers how to undo it here; the run calls runAll()
 * at the end, on failure and on SIGINT/SIGTERM, last registered first.
 */
export class Cleanup {
  private readonly steps: Array<{ name: string; fn: CleanupFn }> = [];
  private running?: Promise<void>;

  add(name: string, fn: CleanupFn): () => void {
    const step = { name, fn };
    this.steps.push(step);
    return () => {
      const at = this.steps.indexOf(step);
      if (at >= 0) this.steps.splice(at, 1);
    };
  }

  runAll(): Promise<void> {
    this.running ??= (async () => {
      while (this.steps.length) {
        const step = this.steps.pop()!;
        try {
          await withTimeout(Promise.resolve(step.fn()), 20_000, `cleanup ${step.name}`);
        } catch (error) {
          process.stderr.write(`cleanup ${step.name} failed: ${String(error)}\n`);
        }
      }
    })();
    return this.running;
  }
}

export function withTimeout<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`${what}: timed out after ${ms} ms`)), ms);
    promise.then(
      (value) => {
        clearTimeout(timer);
        resolve(value);
      },
      (error: unknown) => {
        clearTimeout(timer);
        reject(error instanceof Error ? error : new Error(String(error)));
      },
    );
  });
}

export const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/** A free TCP port on 127.0.0.1 (bound and released at once). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}

/** A Node child process with an IPC channel, its output kept in a short ring buffer. */
export class NodeProcess {
  readonly child: ChildProcess;
  private readonly tail: string[] = [];
  private exitInfo?: { code: number | null; signal: NodeJS.Signals | null };
  readonly exited: Promise<void>;

  constructor(
    readonly name: string,
    file: string,
    args: string[],
    settings: Record<string, string>,
    execArgv: string[],
    cleanup: Cleanup,
  ) {
    this.child = fork(file, args, {
      env: childEnv(settings),
      execArgv,
      stdio: ['ignore', 'pipe', 'pipe', 'ipc'],
    });
    for (const stream of [this.child.stdout, this.child.stderr]) {
      stream?.setEncoding('utf8');
      stream?.on('data', (chunk: string) => {
        for (const line of chunk.split('\n')) {
          if (!line) continue;
          this.tail.push(line.length > 2000 ? `${line.slice(0, 2000)}...` : line);
          if (this.tail.length > 60) this.tail.shift();
        }
      });
    }
    this.exited = new Promise((resolve) => {
      this.child.once('exit', (code, signal) => {
        this.exitInfo = { code, signal };
        resolve();
      });
    });
    const remove = cleanup.add(name, () => this.stop());
    void this.exited.then(remove);
  }

  get pid(): number {
    return this.child.pid ?? -1;
  }

  get hasExited(): boolean {
    return this.exitInfo !== undefined;
  }

  describeExit(): string {
    if (!this.exitInfo) return 'running';
    return this.exitInfo.signal
      ? `killed by ${this.exitInfo.signal}`
      : `exited with ${this.exitInfo.code}`;
  }

  logTail(lines = 30): string {
    return this.tail.slice(-lines).join('\n');
  }

  signal(signal: NodeJS.Signals): void {
    if (!this.hasExited) this.child.kill(signal);
  }

  /** SIGTERM, then SIGKILL if it has not exited within graceMs. */
  async stop(graceMs = 8000): Promise<void> {
    if (this.hasExited) return;
    this.child.kill('SIGTERM');
    const exited = await Promise.race([this.exited.then(() => true), sleep(graceMs)]);
    if (!exited && !this.hasExited) {
      this.child.kill('SIGKILL');
      await Promise.race([this.exited, sleep(2000)]);
    }
  }
}
