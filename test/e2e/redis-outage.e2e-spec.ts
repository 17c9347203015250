import { randomUUID } from 'node:crypto';
import type { Socket } from 'socket.io-client';
import { Cleanup } from '../../bench/lib/procs';
import { PrivateRedis } from '../../soak/lib/backends';
import { connect, nextEvent, request, signIn, type Session } from '../utils/clients';
import { eventually, type Message, type SyncPage } from '../utils/chat-clients';
import { http } from '../utils/http';
import { startServerProcess, type ServerProcess } from '../utils/processes';
import { backendFromEnvironment, freshDatabase } from '../utils/test-app';

const backend = backendFromEnvironment();

// Redis is taken down for real here, so the suite runs its own Redis server next to the
// PostgreSQL named by DATABASE_URL; without it, it is reported as skipped with the reason.
const withPostgres = backend.databaseUrl ? describe : describe.skip;
withPostgres(
  'Redis outage: two instances lose and regain their Redis (needs DATABASE_URL) (e2e)',
  () => {
    const cleanup = new Cleanup();
    let redis: PrivateRedis;
    let a: ServerProcess;
    let b: ServerProcess;
    let alice: Session;
    let bob: Session;
    let aliceSocket: Socket;
    let bobSocket: Socket;

    const send = (body: string) =>
      request<{ ok: boolean; message: Message }>(
        aliceSocket,
        'message:send',
        { clientMsgId: randomUUID(), recipientId: bob.userId, type: 'text', body },
        15_000,
      );

    beforeAll(async () => {
      redis = await PrivateRedis.start(cleanup);
      const db = await freshDatabase(backend.databaseUrl!);
      cleanup.add('database', () => db.drop());
      const env = { DATABASE_URL: db.url, REDIS_URL: redis.url };
      a = await startServerProcess(env);
      cleanup.add('instance a', () => a.kill());
      b = await startServerProcess({ ...env, DATABASE_RUN_MIGRATIONS: 'false' });
      cleanup.add('instance b', () => b.kill());
      alice = await signIn(a);
      bob = await signIn(b);
      aliceSocket = await connect(a, alice.accessToken);
      bobSocket = await connect(b, bob.accessToken);
      cleanup.add('sockets', () => {
        aliceSocket.close();
        bobSocket.close();
      });
      const first = nextEvent<Message>(bobSocket, 'message:new');
      expect((await send('before')).ok).toBe(true);
      expect((await first).body).toBe('before');
    }, 120_000);

    afterAll(() => cleanup.runAll());

    it('keeps storing and acking sends while Redis is down, and catches the other instance up by sync and live delivery once it is back', async () => {
      await redis.stop();

      // The sent tick still means stored: the ack comes, and history holds the message.
      const during = await send('while redis is down');
      expect(during.ok).toBe(true);
      const page = await http<{ messages: Message[] }>(
        a.api,
        'GET',
        `/conversations/${during.message.conversationId}/messages`,
        { token: alice.accessToken },
      );
      expect(page.body.messages.map((m) => m.body)).toContain('while redis is down');
      expect(a.child.exitCode).toBeNull();
      expect(b.child.exitCode).toBeNull();

      await redis.startServer();

      // Bob's instance never saw the live event: sync offers it.
      const synced = await request<SyncPage>(bobSocket, 'sync', {});
      expect(synced.messages.map((m) => m.body)).toContain('while redis is down');

      // Cross-instance delivery resumes once the adapters have reconnected.
      await eventually(async () => {
        const next = nextEvent<Message>(bobSocket, 'message:new', (m) => m.body === 'after', 1000);
        expect((await send('after')).ok).toBe(true);
        await next;
      }, 30_000);

      // Neither instance fell into a crash loop: both still serve.
      for (const server of [a, b]) {
        expect(server.child.exitCode).toBeNull();
        expect((await fetch(`${server.url}/health/live`)).status).toBe(200);
      }
    }, 120_000);
  },
);
