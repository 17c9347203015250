import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { connect, signIn } from '../utils/clients';
import { http } from '../utils/http';
import {
  backendFromEnvironment,
  freshDatabase,
  startTestApp,
  type TestApp,
} from '../utils/test-app';

/** Apps as an operator starts them without JWT_SECRET. */
const noSecret = { env: { JWT_SECRET: undefined } };

function headerOf(token: string): { alg?: string; kid?: string } {
  return JSON.parse(Buffer.from(token.split('.')[0], 'base64url').toString('utf8')) as {
    kid?: string;
  };
}

async function expectAccepted(app: TestApp, token: string): Promise<void> {
  const me = await http(app.api, 'GET', '/users/me', { token });
  expect(me.status).toBe(200);
  const socket = await connect(app, token);
  socket.close();
}

describe('access-token signing keys (e2e)', () => {
  it('without JWT_SECRET: tokens carry a kid and survive a restart on the same data', async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'parley-keys-'));
    const backend = backendFromEnvironment();
    const db = backend.databaseUrl ? await freshDatabase(backend.databaseUrl) : undefined;
    try {
      const first = await startTestApp({ ...noSecret, dataDir, databaseUrl: db?.url });
      const session = await signIn(first);
      expect(headerOf(session.accessToken)).toMatchObject({
        alg: 'HS256',
        kid: expect.any(String),
      });
      await expectAccepted(first, session.accessToken);
      await first.close();

      const second = await startTestApp({ ...noSecret, dataDir, databaseUrl: db?.url });
      try {
        await expectAccepted(second, session.accessToken);
        const again = await signIn(second);
        expect(headerOf(again.accessToken).kid).toBe(headerOf(session.accessToken).kid);
      } finally {
        await second.close();
      }
    } finally {
      await db?.drop();
      rmSync(dataDir, { recursive: true, force: true });
    }
  });

  it('a token whose kid is unknown, or which has no kid, is refused', async () => {
    const app = await startTestApp(noSecret);
    try {
      const { accessToken } = await signIn(app);
      const [, payload, signature] = accessToken.split('.');
      const forge = (header: object) =>
        `${Buffer.from(JSON.stringify(header)).toString('base64url')}.${payload}.${signature}`;
      for (const token of [
        forge({ alg: 'HS256', typ: 'JWT', kid: 'not-a-key' }),
        forge({ alg: 'HS256', typ: 'JWT' }),
        forge({ alg: 'HS256', typ: 'JWT', kid: 42 }),
      ]) {
        const res = await http(app.api, 'GET', '/users/me', { token });
        expect(res.status).toBe(401);
        expect(res.body.code).toBe('UNAUTHORIZED');
        await expect(connect(app, token)).rejects.toThrow('UNAUTHORIZED');
      }
    } finally {
      await app.close();
    }
  });

  // Instances share a database only on PostgreSQL; the embedded one belongs to one process.
  const onPostgres = backendFromEnvironment().databaseUrl ? it : it.skip;
  onPostgres(
    'two instances on one database, neither with JWT_SECRET, accept each other’s tokens',
    async () => {
      const db = await freshDatabase(backendFromEnvironment().databaseUrl!);
      // Separate data directories, as two containers have.
      const [a, b] = await Promise.all([
        startTestApp({ ...noSecret, databaseUrl: db.url }),
        startTestApp({ ...noSecret, databaseUrl: db.url }),
      ]);
      try {
        const onA = await signIn(a);
        const onB = await signIn(b);
        await expectAccepted(b, onA.accessToken);
        await expectAccepted(a, onB.accessToken);
        expect(headerOf(onA.accessToken).kid).toBe(headerOf(onB.accessToken).kid);
      } finally {
        await Promise.all([a.close(), b.close()]);
        await db.drop();
      }
    },
  );
});
