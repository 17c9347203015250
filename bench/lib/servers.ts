import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { Client as CassandraClient } from 'cassandra-driver';
import { Client } from 'pg';
import { httpJson, httpText, parseMetrics } from './http';
import { Cleanup, NodeProcess, freePort, sleep, withTimeout } from './procs';
import type { GeneratorEnvelope, GeneratorMessage, GeneratorRequest, RateResult } from './protocol';

/** Node flags for both servers: GC on demand for memory figures, and a 4 GiB old space. */
export const SERVER_NODE_FLAGS = ['--expose-gc', '--max-old-space-size=4096'];

/** Node flags that make the server write a CPU profile into `dir` when it exits. */
export function cpuProfileFlags(dir: string | undefined): string[] {
  return dir ? ['--cpu-prof', `--cpu-prof-dir=${resolve(dir)}`] : [];
}
export const OTP = '123456';

const hooksFile = resolve(__dirname, '..', 'server-hooks.js');

export interface MemorySample {
  heapUsedBytes: number;
  rssBytes: number;
}

/** A server under test (Parley or the relay), read through GET /metrics. */
export abstract class ServerUnderTest {
  abstract readonly name: 'product' | 'baseline';
  abstract readonly url: string;
  protected abstract readonly proc: NodeProcess;

  get pid(): number {
    return this.proc.pid;
  }

  async metrics(): Promise<Map<string, number>> {
    this.assertRunning();
    return parseMetrics(await httpText(this.url, '/metrics'));
  }

  async metric(name: string): Promise<number> {
    const value = (await this.metrics()).get(name);
    if (value === undefined) throw new Error(`${this.name}: no metric ${name} on GET /metrics`);
    return value;
  }

  /** Full GC (SIGUSR2 to the preloaded hook), a settle delay, then heap and RSS. */
  async memoryAfterGc(settleMs = 1500): Promise<MemorySample> {
    this.proc.signal('SIGUSR2');
    await sleep(settleMs);
    this.proc.signal('SIGUSR2');
    await sleep(Math.min(500, settleMs));
    const m = await this.metrics();
    return {
      heapUsedBytes: m.get('nodejs_heap_size_used_bytes') ?? NaN,
      rssBytes: m.get('process_resident_memory_bytes') ?? NaN,
    };
  }

  /** The soft RLIMIT_NOFILE of the server process (Linux), or undefined. */
  openFileLimit(): number | undefined {
    try {
      const limits = readFileSync(`/proc/${this.pid}/limits`, 'utf8');
      const match = /Max open files\s+(\d+)/.exec(limits);
      return match ? Number(match[1]) : undefined;
    } catch {
      return undefined;
    }
  }

  /** Open file descriptors of the server process (Linux), or undefined. */
  openFiles(): number | undefined {
    try {
      return readdirCount(`/proc/${this.pid}/fd`);
    } catch {
      return undefined;
    }
  }

  assertRunning(): void {
    if (this.proc.hasExited) {
      throw new Error(
        `${this.name} server ${this.proc.describeExit()}; last output:\n${this.proc.logTail()}`,
      );
    }
  }

  logTail(): string {
    return this.proc.logTail();
  }

  stop(): Promise<void> {
    return this.proc.stop();
  }
}

function readdirCount(path: string): number {
  return readdirSync(path).length;
}

export async function waitReady(url: string, proc: NodeProcess, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (proc.hasExited) {
      throw new Error(`${proc.name} ${proc.describeExit()} while starting:\n${proc.logTail()}`);
    }
    try {
      const res = await httpJson(url, 'GET', '/health/ready', { timeoutMs: 2000 });
      if (res.status === 200) return;
    } catch {
      // not listening yet
    }
    await sleep(200);
  }
  throw new Error(`${proc.name} not ready after ${timeoutMs} ms:\n${proc.logTail()}`);
}

function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/**
 * Bench databases left by a harness that was killed outright (SIGKILL skips the cleanup):
 * named parley_bench_<time>_<pid>, dropped only when that pid is gone and nobody is
 * connected to them.
 */
async function dropAbandonedDatabases(admin: Client): Promise<void> {
  const res = await admin.query<{ datname: string; connections: string }>(
    `SELECT d.datname, (SELECT count(*) FROM pg_stat_activity a WHERE a.datname = d.datname) AS connections
       FROM pg_database d WHERE d.datname LIKE 'parley\\_bench\\_%'`,
  );
  for (const row of res.rows) {
    const match = /^parley_bench_\d+_(\d+)$/.exec(row.datname);
    if (!match || Number(row.connections) > 0 || processAlive(Number(match[1]))) continue;
    await admin.query(`DROP DATABASE IF EXISTS ${row.datname}`).catch(() => undefined);
  }
}

/** Temporary data directories of killed harness runs (parley-bench-<pid>-*). */
export function removeAbandonedDataDirs(): void {
  for (const entry of readdirSync(tmpdir())) {
    const match = /^parley-bench-(\d+)-/.exec(entry);
    if (!match || processAlive(Number(match[1]))) continue;
    rmSync(join(tmpdir(), entry), { recursive: true, force: true });
  }
}

function withDatabase(url: string, database: string): string {
  const u = new URL(url);
  u.pathname = `/${database}`;
  return u.toString();
}

/** Hides a password in a connection URL before it is printed or written down. */
export function redactUrl(url: string): string {
  try {
    const u = new URL(url);
    if (u.password) u.password = '***';
    return u.toString();
  } catch {
    return url;
  }
}

export class ProductServer extends ServerUnderTest {
  readonly name = 'product' as const;

  private constructor(
    readonly url: string,
    protected readonly proc: NodeProcess,
    /** The settings the server ran with (secrets and passwords redacted). */
    readonly settings: Record<string, string>,
    /** The bench database (scaled shape). */
    readonly database?: string,
  ) {
    super();
  }

  static async start(
    options: {
      entry: string;
      embedded: boolean;
      databaseUrl: string;
      redisUrl: string;
      extraEnv: Record<string, string>;
      /** Write a V8 CPU profile of the server here when it exits. */
      cpuProfileDir?: string;
      /** Set: message history in this Cassandra, in a keyspace of its own. */
      cassandra?: string;
    },
    cleanup: Cleanup,
  ): Promise<ProductServer> {
    const dataDir = mkdtempSync(join(tmpdir(), `parley-bench-${process.pid}-`));
    cleanup.add('data dir', () => rmSync(dataDir, { recursive: true, force: true }));
    const port = await freePort();
    const settings: Record<string, string> = {
      NODE_ENV: 'development',
      HOST: '127.0.0.1',
      PORT: String(port),
      DATA_DIR: dataDir,
      LOG_LEVEL: 'warn',
      APP_ROLE: 'all',
      AUTH_TEST_OTP: OTP,
      JWT_SECRET: randomBytes(32).toString('hex'),
      JWT_ACCESS_TTL_SEC: '7200',
      MESSAGE_RATE_LIMIT_PER_MINUTE: '0',
      OTP_MAX_PER_WINDOW: '0',
      GROUPS_PER_USER_PER_HOUR: '0',
      CONTACT_UPLOADS_PER_HOUR: '0',
      SHUTDOWN_GRACE_MS: '2000',
    };
    if (!options.embedded) {
      const database = `parley_bench_${Date.now()}_${process.pid}`;
      const admin = new Client({ connectionString: options.databaseUrl });
      await admin.connect();
      try {
        await dropAbandonedDatabases(admin);
        await admin.query(`CREATE DATABASE ${database}`);
      } finally {
        await admin.end();
      }
      cleanup.add('bench database', async () => {
        const c = new Client({ connectionString: options.databaseUrl });
        await c.connect();
        try {
          await c.query(`DROP DATABASE IF EXISTS ${database} WITH (FORCE)`);
        } finally {
          await c.end();
        }
      });
      settings.DATABASE_URL = withDatabase(options.databaseUrl, database);
      settings.REDIS_URL = options.redisUrl;
    }
    if (options.cassandra) {
      const keyspace = `parley_bench_${Date.now()}_${process.pid}`;
      Object.assign(settings, {
        MESSAGE_STORE: 'cassandra',
        CASSANDRA_CONTACT_POINTS: options.cassandra,
        CASSANDRA_KEYSPACE: keyspace,
      });
      cleanup.add('bench keyspace', async () => {
        const c = new CassandraClient({
          contactPoints: options.cassandra!.split(','),
          localDataCenter: settings.CASSANDRA_LOCAL_DC ?? 'datacenter1',
        });
        try {
          await c.execute(`DROP KEYSPACE IF EXISTS ${keyspace}`);
        } finally {
          await c.shutdown();
        }
      });
    }
    Object.assign(settings, options.extraEnv);
    const proc = new NodeProcess(
      'parley',
      resolve(options.entry),
      [],
      settings,
      [...SERVER_NODE_FLAGS, ...cpuProfileFlags(options.cpuProfileDir), '-r', hooksFile],
      cleanup,
    );
    const url = `http://127.0.0.1:${port}`;
    await waitReady(url, proc, 120_000);
    const database = settings.DATABASE_URL
      ? new URL(settings.DATABASE_URL).pathname.slice(1)
      : undefined;
    const recorded = { ...settings };
    recorded.JWT_SECRET = '(random per run)';
    recorded.DATA_DIR = '(temporary directory)';
    if (recorded.DATABASE_URL) recorded.DATABASE_URL = redactUrl(recorded.DATABASE_URL);
    if (recorded.REDIS_URL) recorded.REDIS_URL = redactUrl(recorded.REDIS_URL);
    return new ProductServer(url, proc, recorded, database);
  }
}

export class RelayServer extends ServerUnderTest {
  readonly name = 'baseline' as const;

  private constructor(
    readonly url: string,
    protected readonly proc: NodeProcess,
  ) {
    super();
  }

  static async start(cleanup: Cleanup): Promise<RelayServer> {
    const proc = new NodeProcess(
      'relay',
      resolve(__dirname, '..', 'relay.js'),
      ['0', '127.0.0.1'],
      {},
      [...SERVER_NODE_FLAGS, '-r', hooksFile],
      cleanup,
    );
    const port = await withTimeout(
      new Promise<number>((resolvePort, reject) => {
        proc.child.on('message', (m: { kind?: string; port?: number }) => {
          if (m.kind === 'listening' && typeof m.port === 'number') resolvePort(m.port);
        });
        void proc.exited.then(() => reject(new Error(`relay ${proc.describeExit()}`)));
      }),
      30_000,
      'relay start',
    );
    const url = `http://127.0.0.1:${port}`;
    await waitReady(url, proc, 30_000);
    return new RelayServer(url, proc);
  }
}

/** One load-generator process and a request/response channel to it. */
export class Generator {
  private nextId = 1;
  private readonly waiting = new Map<
    number,
    { resolve: (v: unknown) => void; reject: (e: Error) => void }
  >();

  private constructor(
    readonly index: number,
    private readonly proc: NodeProcess,
  ) {
    proc.child.on('message', (m: GeneratorMessage) => {
      if (m.kind !== 'response') return;
      const w = this.waiting.get(m.id);
      if (!w) return;
      this.waiting.delete(m.id);
      if (m.ok) w.resolve(m.result);
      else w.reject(new Error(`generator ${this.index}: ${m.error}`));
    });
    void proc.exited.then(() => {
      for (const w of this.waiting.values()) {
        w.reject(new Error(`generator ${this.index} ${proc.describeExit()}:\n${proc.logTail()}`));
      }
      this.waiting.clear();
    });
  }

  static async start(index: number, addresses: string[], cleanup: Cleanup): Promise<Generator> {
    const proc = new NodeProcess(
      `generator ${index}`,
      resolve(__dirname, '..', 'generator.js'),
      [String(index), addresses.join(',')],
      {},
      ['--max-old-space-size=4096'],
      cleanup,
    );
    await withTimeout(
      new Promise<void>((ready, reject) => {
        proc.child.on('message', (m: GeneratorMessage) => {
          if (m.kind === 'ready') ready();
        });
        void proc.exited.then(() => reject(new Error(`generator ${index} ${proc.describeExit()}`)));
      }),
      30_000,
      `generator ${index} start`,
    );
    return new Generator(index, proc);
  }

  request<T>(request: GeneratorRequest, timeoutMs = 120_000): Promise<T> {
    if (this.proc.hasExited) {
      return Promise.reject(new Error(`generator ${this.index} ${this.proc.describeExit()}`));
    }
    const id = this.nextId++;
    const result = new Promise<T>((resolvePromise, reject) => {
      this.waiting.set(id, { resolve: resolvePromise as (v: unknown) => void, reject });
    });
    const envelope: GeneratorEnvelope = { id, request };
    this.proc.child.send(envelope);
    return withTimeout(result, timeoutMs, `generator ${this.index} ${request.cmd}`).finally(() =>
      this.waiting.delete(id),
    );
  }

  get pid(): number {
    return this.proc.pid;
  }

  stop(): Promise<void> {
    return this.proc.stop(3000);
  }
}

export type { RateResult };

/** Source addresses 127.0.0.2 ... 127.0.0.(n+1): each gives its own ephemeral port range. */
export function sourceAddresses(n: number): string[] {
  return Array.from({ length: n }, (_, i) => `127.0.0.${i + 2}`);
}

/** The PostgreSQL server version, or undefined if unreachable. */
export async function postgresVersion(databaseUrl: string): Promise<string | undefined> {
  const client = new Client({ connectionString: databaseUrl });
  try {
    await client.connect();
    const res = await client.query<{ server_version: string }>('SHOW server_version');
    return res.rows[0]?.server_version;
  } catch {
    return undefined;
  } finally {
    await client.end().catch(() => undefined);
  }
}

/** The Redis server version via a bare INFO command, or undefined if unreachable. */
export async function redisVersion(redisUrl: string): Promise<string | undefined> {
  const { createConnection } = await import('node:net');
  const u = new URL(redisUrl);
  return new Promise((resolveVersion) => {
    const socket = createConnection({ host: u.hostname, port: Number(u.port || 6379) });
    let data = '';
    const done = (v: string | undefined) => {
      socket.destroy();
      resolveVersion(v);
    };
    socket.setTimeout(3000, () => done(undefined));
    socket.on('error', () => done(undefined));
    socket.on('connect', () => {
      if (u.password) {
        const pass = decodeURIComponent(u.password);
        socket.write(`*2\r\n$4\r\nAUTH\r\n$${Buffer.byteLength(pass)}\r\n${pass}\r\n`);
      }
      socket.write('*2\r\n$4\r\nINFO\r\n$6\r\nserver\r\n');
    });
    socket.on('data', (chunk: Buffer) => {
      data += chunk.toString('utf8');
      const match = /redis_version:([^\r\n]+)/.exec(data);
      if (match) done(match[1]);
    });
  });
}
