import { Queue } from 'bullmq';
import { randomUUID } from 'node:crypto';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Client } from 'pg';
import type { Socket } from 'socket.io-client';
import { loadConfig } from '../../src/common/config/app-config';
import { JobName, QueueName } from '../../src/common/queue/queue-names';
import { collect, connect, nextEvent, request, signIn, sleep } from '../utils/clients';
import { allMessageSeqs } from '../utils/history';
import { http } from '../utils/http';
import { startServerProcess, type ServerProcess } from '../utils/processes';
import { backendFromEnvironment, freshDatabase, redisPrefixFor } from '../utils/test-app';

const backend = backendFromEnvironment();

describe('roles without Redis', () => {
  it('refuses the api and worker roles, which need Redis to reach each other', () => {
    const dir = mkdtempSync(join(tmpdir(), 'parley-role-'));
    for (const role of ['api', 'worker']) {
      expect(() => loadConfig({ DATA_DIR: dir, APP_ROLE: role })).toThrow(/APP_ROLE/);
    }
    expect(
      loadConfig({ DATA_DIR: dir, APP_ROLE: 'worker', REDIS_URL: 'redis://127.0.0.1:6379' }).role,
    ).toBe('worker');
  });
});

// Several processes sharing one PostgreSQL and one Redis: run where both are configured
// (the CI's second pass), reported as skipped, with the reason in its name, elsewhere.
const withPostgresAndRedis = backend.databaseUrl && backend.redisUrl ? describe : describe.skip;
withPostgresAndRedis(
  'scale-out: two API instances and a worker over PostgreSQL and Redis (needs DATABASE_URL and REDIS_URL) (e2e)',
  () => {
    let db: { url: string; drop: () => Promise<void> };
    let s1: ServerProcess;
    let s2: ServerProcess;
    let worker: ServerProcess | undefined;
    const sockets: Socket[] = [];
    const common = (): Record<string, string> => ({
      DATABASE_URL: db.url,
      REDIS_URL: backend.redisUrl!,
      QUEUE_LOCK_MS: '2000',
    });
    const open = async (server: { url: string }, token: string) => {
      const s = await connect(server, token);
      sockets.push(s);
      return s;
    };

    beforeAll(async () => {
      db = await freshDatabase(backend.databaseUrl!);
      // The first instance migrates; the others start once the schema exists.
      s1 = await startServerProcess({ ...common(), APP_ROLE: 'api' });
      [s2, worker] = await Promise.all([
        startServerProcess({ ...common(), APP_ROLE: 'api', DATABASE_RUN_MIGRATIONS: 'false' }),
        startServerProcess({ ...common(), APP_ROLE: 'worker', DATABASE_RUN_MIGRATIONS: 'false' }),
      ]);
    }, 120_000);

    afterAll(async () => {
      for (const s of sockets) s.close();
      await Promise.all([s1?.kill(), s2?.kill(), worker?.kill()]);
      await db?.drop();
    });

    it('delivers 1:1 messages and receipts between users on different instances', async () => {
      const a = await signIn(s1);
      const b = await signIn(s2);
      const sa = await open(s1, a.accessToken);
      const sb = await open(s2, b.accessToken);
      const incoming = nextEvent(sb, 'message:new');
      const sent = await request(sa, 'message:send', {
        clientMsgId: randomUUID(),
        recipientId: b.userId,
        type: 'text',
        body: 'across',
      });
      expect(sent.ok).toBe(true);
      const got = await incoming;
      expect(got).toMatchObject({ id: sent.message.id, body: 'across', seq: 1 });

      const receipt = nextEvent(sa, 'receipt', (r) => r.status === 'read');
      expect(
        await request(sb, 'message:ack', {
          conversationId: got.conversationId,
          seq: 1,
          status: 'read',
        }),
      ).toEqual({ ok: true });
      expect(await receipt).toMatchObject({
        conversationId: got.conversationId,
        userId: b.userId,
        seq: 1,
      });
    });

    it('fans a group message out to members and devices on both instances', async () => {
      const a = await signIn(s1);
      const b = await signIn(s2);
      const c = await signIn(s1);
      const a2 = await signIn(s2, a.phone);
      const group = await http(s1.api, 'POST', '/groups', {
        token: a.accessToken,
        body: { name: 'spread', memberIds: [b.userId, c.userId] },
      });
      expect(group.status).toBe(201);
      const sa = await open(s1, a.accessToken);
      const sa2 = await open(s2, a2.accessToken);
      const sb = await open(s2, b.accessToken);
      const sc = await open(s1, c.accessToken);
      const waits = [sa2, sb, sc].map((s) => nextEvent(s, 'message:new', (m) => m.type === 'text'));
      const quiet = collect(sa, 'message:new');
      const sent = await request(sa, 'message:send', {
        clientMsgId: randomUUID(),
        conversationId: group.body.id,
        type: 'text',
        body: 'hi all',
      });
      for (const got of await Promise.all(waits)) expect(got.id).toBe(sent.message.id);
      await sleep(200);
      quiet.stop();
      expect(quiet.items.filter((m) => m.type === 'text')).toHaveLength(0);
    });

    it('kicks a logged-out device whose socket is on the other instance, which then refuses it', async () => {
      const phone = (await signIn(s1)).phone;
      const d = await signIn(s1, phone);
      const socket = await open(s2, d.accessToken);
      const gone = nextEvent(socket, 'disconnect');
      expect((await http(s1.api, 'POST', '/auth/logout', { token: d.accessToken })).status).toBe(
        204,
      );
      await gone;
      // The other instance had the device cached from the handshake: the revocation reached it.
      await expect(open(s2, d.accessToken)).rejects.toThrow('UNAUTHORIZED');
      expect((await http(s2.api, 'GET', '/users/me', { token: d.accessToken })).status).toBe(401);
    });

    it('loses and duplicates nothing when an instance is killed mid-conversation', async () => {
      const a = await signIn(s2);
      const b = await signIn(s1);
      const sa = await open(s2, a.accessToken);
      let sb = await open(s1, b.accessToken);
      const seen = new Map<number, string>();
      let ackedUpTo = 0;
      let conversationId = '';
      sb.on('message:new', (m: { id: string; seq: number; conversationId: string }) => {
        seen.set(m.seq, m.id);
        conversationId = m.conversationId;
        // A client acks what it received, cumulatively.
        void request(sb, 'message:ack', { conversationId, seq: m.seq, status: 'delivered' })
          .then((r: { ok: boolean }) => {
            if (r.ok) ackedUpTo = Math.max(ackedUpTo, m.seq);
          })
          .catch(() => undefined);
      });

      const total = 150;
      const sentIds: string[] = [];
      for (let i = 0; i < total; i++) {
        const r = await request(sa, 'message:send', {
          clientMsgId: randomUUID(),
          recipientId: b.userId,
          type: 'text',
          body: `m${i}`,
        });
        expect(r.ok).toBe(true);
        sentIds.push(r.message.id);
        if (i === 60) await s1.kill();
      }
      expect(s1.child.exitCode !== null || s1.child.signalCode !== null).toBe(true);

      // B reconnects to the surviving instance and syncs until nothing is pending.
      sb = await open(s2, b.accessToken);
      const synced: Array<{ id: string; seq: number }> = [];
      for (let round = 0; round < 50; round++) {
        const page = await request(sb, 'sync', { limit: 40 });
        expect(page.ok).toBe(true);
        synced.push(...page.messages);
        if (page.messages.length) {
          const last = page.messages[page.messages.length - 1];
          expect(
            await request(sb, 'message:ack', {
              conversationId: last.conversationId,
              seq: last.seq,
              status: 'delivered',
            }),
          ).toEqual({ ok: true });
        }
        if (!page.hasMore) break;
      }
      for (const m of synced) {
        expect(m.seq).toBeGreaterThan(ackedUpTo);
        if (seen.has(m.seq)) expect(seen.get(m.seq)).toBe(m.id);
        seen.set(m.seq, m.id);
      }
      // Every message arrived, once per seq, and it is the message that was sent with that seq.
      expect([...seen.keys()].sort((x, y) => x - y)).toEqual(
        Array.from({ length: total }, (_, i) => i + 1),
      );
      expect(new Set(seen.values())).toEqual(new Set(sentIds));
      expect(new Set(synced.map((m) => m.seq)).size).toBe(synced.length);
    }, 90_000);

    it('finishes a job after its worker is killed mid-run and a worker comes back', async () => {
      const a = await signIn(s2);
      const b = await signIn(s2);
      const conv = await http(s2.api, 'POST', '/conversations/direct', {
        token: a.accessToken,
        body: { userId: b.userId },
      });
      const pg = new Client({ connectionString: db.url });
      await pg.connect();
      const rows = 300_000;
      // Old messages past the retention period: the purge job deletes them in batches.
      await pg.query(
        `INSERT INTO messages (id, conversation_id, seq, sender_id, sender_device_id, client_msg_id, type, body, created_at)
       SELECT gen_random_uuid(), $1, 1000 + g, $2, $3, 'old-' || g, 'text', 'x', now() - interval '40 days'
         FROM generate_series(1, $4) AS g`,
        [conv.body.id, a.userId, a.deviceId, rows],
      );
      const count = async () =>
        Number(
          (
            await pg.query(
              `SELECT count(*)::int AS n FROM messages WHERE conversation_id = $1 AND seq > 1000`,
              [conv.body.id],
            )
          ).rows[0].n,
        );

      const queue = new Queue(QueueName.maintenance, {
        connection: { url: backend.redisUrl! },
        prefix: `${redisPrefixFor(db.url)}:bull`,
      });
      try {
        await queue.add(
          JobName.purgeExpiredMessages,
          {},
          { jobId: `test-${randomUUID()}`, attempts: 5, backoff: { type: 'fixed', delay: 200 } },
        );
        const deadline = Date.now() + 30_000;
        while ((await count()) === rows && Date.now() < deadline) await sleep(20);
        await worker!.kill();
        const leftAfterKill = await count();
        expect(leftAfterKill).toBeGreaterThan(0);
        expect(leftAfterKill).toBeLessThan(rows);

        worker = await startServerProcess({
          ...common(),
          APP_ROLE: 'worker',
          DATABASE_RUN_MIGRATIONS: 'false',
        });
        const until = Date.now() + 45_000;
        while ((await count()) > 0 && Date.now() < until) await sleep(250);
        expect(await count()).toBe(0);
      } finally {
        await queue.close();
        await pg.end();
      }
    }, 120_000);

    it('keeps every send it acked when the instance that acked it is killed right after', async () => {
      const s3 = await startServerProcess({
        ...common(),
        APP_ROLE: 'api',
        DATABASE_RUN_MIGRATIONS: 'false',
      });
      const a = await signIn(s3);
      const b = await signIn(s2);
      const sa = await open(s3, a.accessToken);
      const acked = new Map<string, number>();
      const sends = Array.from({ length: 200 }, (_, i) =>
        request(sa, 'message:send', {
          clientMsgId: randomUUID(),
          recipientId: b.userId,
          type: 'text',
          body: `k${i}`,
        })
          .then((r: { ok: boolean; message?: { id: string; seq: number } }) => {
            if (r.ok && r.message) acked.set(r.message.id, r.message.seq);
          })
          .catch(() => undefined),
      );
      // SIGKILL as soon as a few sends are acked, with the rest still in flight.
      const deadline = Date.now() + 20_000;
      while (acked.size < 20 && Date.now() < deadline) await sleep(2);
      await s3.kill();
      await Promise.all(sends);
      expect(acked.size).toBeGreaterThanOrEqual(20);

      const conversation = await http(s2.api, 'POST', '/conversations/direct', {
        token: b.accessToken,
        body: { userId: a.userId },
      });
      const stored = await allMessageSeqs(s2.api, b.accessToken, conversation.body.id);
      // Each acked send is stored with the seq its ack gave; seqs have no gaps.
      for (const [id, seq] of acked) expect(stored.get(id)).toBe(seq);
      expect([...stored.values()].sort((x, y) => x - y)).toEqual(
        Array.from({ length: stored.size }, (_, i) => i + 1),
      );
    }, 90_000);

    it('drains on SIGTERM: clients are told to reconnect, then the process exits cleanly', async () => {
      const u = await signIn(s2);
      const socket = await open(s2, u.accessToken);
      const draining = nextEvent(socket, 'server:draining');
      const disconnected = nextEvent(socket, 'disconnect');
      const exit = s2.stop();
      expect(await draining).toEqual({ reconnectInMs: 0 });
      expect(await disconnected).toBe('transport close');
      expect(await exit).toBe(0);
    }, 30_000);
  },
);
