import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort } from './processes';

export interface TurnServer {
  /** turn:127.0.0.1:<port>?transport=udp */
  url: string;
  secret: string;
  realm: string;
  output: () => string;
  stop(): Promise<void>;
}

/**
 * The path of coturn's `turnserver`. A machine without it fails the suite with a clear
 * message rather than skipping: the CI installs Debian's coturn package.
 */
export function turnserverPath(): string {
  const found = spawnSync('sh', ['-c', 'command -v turnserver'], { encoding: 'utf8' });
  const path = found.stdout.trim();
  if (found.status !== 0 || !path) {
    throw new Error('turnserver not found: install coturn (apt-get install -y coturn)');
  }
  return path;
}

/**
 * A real coturn on loopback with the TURN REST API scheme (`use-auth-secret`), as
 * docs/operations.md configures it, plus `allow-loopback-peers` so two peers on this host
 * can be relayed to each other.
 */
export async function startTurnServer(secret: string, realm = 'parley.test'): Promise<TurnServer> {
  const port = await freePort();
  const dir = mkdtempSync(join(tmpdir(), 'parley-turn-'));
  const minPort = 40_000 + Math.floor(Math.random() * 20_000);
  const child: ChildProcess = spawn(
    turnserverPath(),
    [
      '-n',
      '--use-auth-secret',
      `--static-auth-secret=${secret}`,
      `--realm=${realm}`,
      '--listening-ip=127.0.0.1',
      '--relay-ip=127.0.0.1',
      `--listening-port=${port}`,
      `--min-port=${minPort}`,
      `--max-port=${minPort + 200}`,
      '--allow-loopback-peers',
      '--no-cli',
      '--no-tls',
      '--no-dtls',
      '--fingerprint',
      '--log-file=stdout',
      '--simple-log',
      `--pidfile=${join(dir, 'turnserver.pid')}`,
      `--userdb=${join(dir, 'turndb')}`,
    ],
    { stdio: ['ignore', 'pipe', 'pipe'] },
  );
  let output = '';
  child.stdout?.on('data', (chunk: Buffer) => (output += chunk.toString()));
  child.stderr?.on('data', (chunk: Buffer) => (output += chunk.toString()));
  await new Promise<void>((resolve, reject) => {
    const deadline = setTimeout(
      () => reject(new Error(`turnserver did not start:\n${output}`)),
      10_000,
    );
    const check = setInterval(() => {
      if (output.includes('Total General servers')) {
        clearInterval(check);
        clearTimeout(deadline);
        resolve();
      }
    }, 50);
    child.once('exit', (code) => {
      clearInterval(check);
      clearTimeout(deadline);
      reject(new Error(`turnserver exited with ${code}:\n${output}`));
    });
  });
  return {
    url: `turn:127.0.0.1:${port}?transport=udp`,
    secret,
    realm,
    output: () => output,
    stop: async () => {
      if (child.exitCode === null) {
        const exited = new Promise((r) => child.once('exit', r));
        child.kill('SIGKILL');
        await exited;
      }
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
