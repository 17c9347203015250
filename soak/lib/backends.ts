import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { chownSync, existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir, userInfo } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { childEnv } from '../../bench/lib/env';
import { type Cleanup, freePort, sleep } from '../../bench/lib/procs';

const run = promisify(execFile);

/**
 * PostgreSQL refuses to run as root; when the harness is root, every pg_ctl/initdb call
 * goes through `runuser -u postgres`, and the data directory belongs to that user.
 */
function asPostgres(command: string, args: string[]): [string, string[]] {
  return userInfo().uid === 0
    ? ['runuser', ['-u', 'postgres', '--', command, ...args]]
    : [command, args];
}

function postgresBinDir(): string {
  const root = '/usr/lib/postgresql';
  const versions = existsSync(root)
    ? readdirSync(root)
        .filter((v) => existsSync(join(root, v, 'bin', 'pg_ctl')))
        .sort((a, b) => Number(b) - Number(a))
    : [];
  if (!versions.length) throw new Error(`no PostgreSQL server binaries under ${root}`);
  return join(root, versions[0], 'bin');
}

/** A private PostgreSQL cluster on a free loopback port, in a temporary data directory. */
export class PrivatePostgres {
  private constructor(
    readonly port: number,
    private readonly dataDir: string,
    readonly binDir: string,
  ) {}

  get url(): string {
    return `postgres://postgres@127.0.0.1:${this.port}/postgres`;
  }

  static async start(cleanup: Cleanup): Promise<PrivatePostgres> {
    const bin = postgresBinDir();
    const base = mkdtempSync(join(tmpdir(), `parley-soak-${process.pid}-pg-`));
    cleanup.add('postgres data dir', () => rmSync(base, { recursive: true, force: true }));
    const dataDir = join(base, 'data');
    if (userInfo().uid === 0) {
      const { stdout } = await run('id', ['-u', 'postgres']);
      const { stdout: gid } = await run('id', ['-g', 'postgres']);
      chownSync(base, Number(stdout.trim()), Number(gid.trim()));
    }
    const [cmd, args] = asPostgres(join(bin, 'initdb'), [
      '-D',
      dataDir,
      '-A',
      'trust',
      '-U',
      'postgres',
      '--no-sync',
      '-E',
      'UTF8',
      '--locale=C',
    ]);
    await run(cmd, args, { env: childEnv({}) });
    const pg = new PrivatePostgres(await freePort(), dataDir, bin);
    await pg.startServer();
    cleanup.add('postgres', () => pg.stop('immediate'));
    return pg;
  }

  async startServer(): Promise<void> {
    const options = [
      `-p ${this.port}`,
      `-k ${this.dataDir}`,
      '-c listen_addresses=127.0.0.1',
      '-c max_connections=200',
      '-c shared_buffers=64MB',
    ].join(' ');
    const [cmd, args] = asPostgres(join(this.binDir, 'pg_ctl'), [
      '-D',
      this.dataDir,
      '-o',
      options,
      '-l',
      join(this.dataDir, 'server.log'),
      '-w',
      '-t',
      '60',
      'start',
    ]);
    await run(cmd, args, { env: childEnv({}) });
  }

  async stop(mode: 'fast' | 'immediate'): Promise<void> {
    const [cmd, args] = asPostgres(join(this.binDir, 'pg_ctl'), [
      '-D',
      this.dataDir,
      '-m',
      mode,
      '-w',
      'stop',
    ]);
    await run(cmd, args, { env: childEnv({}) }).catch(() => undefined);
  }
}

/** A private Redis on a free loopback port, without persistence: a restart loses everything. */
export class PrivateRedis {
  private proc?: ChildProcess;

  private constructor(readonly port: number) {}

  get url(): string {
    return `redis://127.0.0.1:${this.port}`;
  }

  static async start(cleanup: Cleanup): Promise<PrivateRedis> {
    const redis = new PrivateRedis(await freePort());
    await redis.startServer();
    cleanup.add('redis', () => redis.stop());
    return redis;
  }

  async startServer(): Promise<void> {
    const child = spawn(
      'redis-server',
      [
        '--port',
        String(this.port),
        '--bind',
        '127.0.0.1',
        '--save',
        '',
        '--appendonly',
        'no',
        '--loglevel',
        'warning',
      ],
      { env: childEnv({}), stdio: 'ignore' },
    );
    this.proc = child;
    const deadline = Date.now() + 15_000;
    while (Date.now() < deadline) {
      if (child.exitCode !== null) throw new Error(`redis-server exited with ${child.exitCode}`);
      if (await redisPing(this.port)) return;
      await sleep(100);
    }
    throw new Error('redis-server did not answer PING within 15 s');
  }

  async stop(): Promise<void> {
    const child = this.proc;
    if (!child || child.exitCode !== null || child.signalCode !== null) return;
    const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
    child.kill('SIGKILL');
    await Promise.race([exited, sleep(5000)]);
  }
}

function redisPing(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    void import('node:net').then(({ createConnection }) => {
      const socket = createConnection({ host: '127.0.0.1', port });
      const done = (ok: boolean) => {
        socket.destroy();
        resolve(ok);
      };
      socket.setTimeout(1000, () => done(false));
      socket.on('error', () => done(false));
      socket.on('connect', () => socket.write('PING\r\n'));
      socket.on('data', (chunk: Buffer) => done(chunk.toString().startsWith('+PONG')));
    });
  });
}
