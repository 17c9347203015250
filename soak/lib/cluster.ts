import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { type Cleanup, NodeProcess, freePort } from '../../bench/lib/procs';
import { OTP, waitReady } from '../../bench/lib/servers';

export interface ClusterOptions {
  entry: string;
  databaseUrl: string;
  redisUrl: string;
  instances: number;
}

/** One Parley process (an API instance or the worker) that can be killed and started again. */
export class ParleyProcess {
  private proc?: NodeProcess;
  restarts = 0;

  constructor(
    readonly name: string,
    readonly port: number,
    private readonly settings: Record<string, string>,
    private readonly entry: string,
    private readonly cleanup: Cleanup,
  ) {}

  get url(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  get running(): boolean {
    return this.proc !== undefined && !this.proc.hasExited;
  }

  async start(): Promise<void> {
    const proc = new NodeProcess(
      this.name,
      resolve(this.entry),
      [],
      this.settings,
      ['--max-old-space-size=1024'],
      this.cleanup,
    );
    this.proc = proc;
    await waitReady(this.url, proc, 120_000);
  }

  /** SIGKILL: no drain, no goodbye to its sockets, in-flight work lost. */
  async kill(): Promise<void> {
    const proc = this.proc;
    if (!proc) return;
    proc.signal('SIGKILL');
    await proc.exited;
  }

  /** Exits the process did not ask for (a crash rather than a kill by the harness). */
  describe(): string {
    return this.proc ? this.proc.describeExit() : 'not started';
  }

  logTail(): string {
    return this.proc?.logTail() ?? '';
  }

  stop(): Promise<void> {
    return this.proc?.stop(5000) ?? Promise.resolve();
  }
}

/**
 * M API instances and one worker on one database and one Redis. No JWT_SECRET: instances
 * on one database share their signing keys through it, which is what the soak relies on
 * when a client signed in on one instance reconnects to another.
 */
export async function startCluster(
  options: ClusterOptions,
  cleanup: Cleanup,
): Promise<{ api: ParleyProcess[]; worker: ParleyProcess }> {
  const base = (role: string, port: number): Record<string, string> => {
    const dataDir = mkdtempSync(join(tmpdir(), `parley-soak-${process.pid}-${role}-`));
    cleanup.add(`${role} data dir`, () => rmSync(dataDir, { recursive: true, force: true }));
    return {
      NODE_ENV: 'development',
      HOST: '127.0.0.1',
      PORT: String(port),
      DATA_DIR: dataDir,
      LOG_LEVEL: 'warn',
      APP_ROLE: role === 'worker' ? 'worker' : 'api',
      DATABASE_URL: options.databaseUrl,
      REDIS_URL: options.redisUrl,
      AUTH_TEST_OTP: OTP,
      // Long enough that no token expires during a run: refresh is not what is soaked.
      JWT_ACCESS_TTL_SEC: '7200',
      MESSAGE_RATE_LIMIT_PER_MINUTE: '0',
      OTP_MAX_PER_WINDOW: '0',
      GROUPS_PER_USER_PER_HOUR: '0',
      CONTACT_UPLOADS_PER_HOUR: '0',
      SHUTDOWN_GRACE_MS: '2000',
    };
  };
  const api: ParleyProcess[] = [];
  for (let i = 0; i < options.instances; i++) {
    const port = await freePort();
    api.push(
      new ParleyProcess(`api-${i + 1}`, port, base(`api${i + 1}`, port), options.entry, cleanup),
    );
  }
  const workerPort = await freePort();
  const worker = new ParleyProcess(
    'worker',
    workerPort,
    base('worker', workerPort),
    options.entry,
    cleanup,
  );
  // The first instance runs the migrations alone; the others then start together.
  await api[0].start();
  await Promise.all([...api.slice(1), worker].map((p) => p.start()));
  return { api, worker };
}
