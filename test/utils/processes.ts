import { spawn, type ChildProcess } from 'node:child_process';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { processEnvironment } from '../../src/common/config/app-config';
import { redisPrefixFor, TEST_OTP } from './test-app';

export interface ServerProcess {
  url: string;
  api: string;
  port: number;
  child: ChildProcess;
  output: () => string;
  /** SIGKILL: the process dies without draining (a crash). */
  kill(): Promise<void>;
  /** SIGTERM: the process drains and exits. */
  stop(): Promise<number | null>;
}

export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}

const root = join(__dirname, '..', '..');

/**
 * A real Parley process started from source (compiled on the fly by @swc-node/register),
 * so the multi-process tests need no prior build.
 */
export async function startServerProcess(
  env: Record<string, string>,
  readyTimeoutMs = 60000,
  /** How much of the latest output `output()` keeps (a test that scans the whole log raises it). */
  keepOutputChars = 20000,
): Promise<ServerProcess> {
  const port = await freePort();
  const child = spawn(
    process.execPath,
    ['-r', '@swc-node/register', join(root, 'src', 'main.ts')],
    {
      cwd: root,
      env: {
        ...processEnvironment(),
        NODE_ENV: 'test',
        HOST: '127.0.0.1',
        PORT: String(port),
        LOG_LEVEL: 'warn',
        AUTH_TEST_OTP: TEST_OTP,
        JWT_SECRET: 'test-secret-test-secret-test-secret-0123456789',
        MESSAGE_RATE_LIMIT_PER_MINUTE: '0',
        OTP_MAX_PER_WINDOW: '0',
        GROUPS_PER_USER_PER_HOUR: '0',
        CONTACT_UPLOADS_PER_HOUR: '0',
        SHUTDOWN_GRACE_MS: '3000',
        ...(env.DATABASE_URL ? { REDIS_KEY_PREFIX: redisPrefixFor(env.DATABASE_URL) } : {}),
        ...env,
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  );
  let log = '';
  const keep = (d: Buffer) => (log = (log + d.toString()).slice(-keepOutputChars));
  child.stdout.on('data', keep);
  child.stderr.on('data', keep);
  const exited = new Promise<number | null>((resolve) =>
    child.once('exit', (code) => resolve(code)),
  );
  const url = `http://127.0.0.1:${port}`;
  const deadline = Date.now() + readyTimeoutMs;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`server exited early:\n${log}`);
    const ok = await fetch(`${url}/health/ready`)
      .then((r) => r.ok)
      .catch(() => false);
    if (ok) break;
    if (Date.now() > deadline) {
      child.kill('SIGKILL');
      throw new Error(`server not ready in time:\n${log}`);
    }
    await new Promise((r) => setTimeout(r, 200));
  }
  return {
    url,
    api: `${url}/api/v1`,
    port,
    child,
    output: () => log,
    kill: async () => {
      if (child.exitCode === null) child.kill('SIGKILL');
      await exited;
    },
    stop: async () => {
      if (child.exitCode === null) child.kill('SIGTERM');
      return exited;
    },
  };
}
