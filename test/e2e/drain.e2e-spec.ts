import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { drainAndClose } from '../../src/bootstrap';
import { LifecycleState } from '../../src/common/health/lifecycle.state';
import { connect, nextEvent, request, signIn, sleep } from '../utils/clients';
import { allMessageSeqs } from '../utils/history';
import { http } from '../utils/http';
import { backendFromEnvironment, freshDatabase, startTestApp } from '../utils/test-app';

/** Graceful shutdown with sends in flight, on whichever shape this pass runs. */
describe('drain under load (e2e)', () => {
  it('answers or refuses every send in flight, and keeps every send it acked', async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'parley-drain-'));
    const backend = backendFromEnvironment();
    const db = backend.databaseUrl ? await freshDatabase(backend.databaseUrl) : undefined;
    try {
      const first = await startTestApp({ dataDir, databaseUrl: db?.url });
      const a = await signIn(first);
      const b = await signIn(first);
      const socket = await connect(first, a.accessToken);
      const acked = new Map<string, number>();
      let answered = 0;
      const sends = Array.from({ length: 300 }, (_, i) =>
        request(
          socket,
          'message:send',
          { clientMsgId: randomUUID(), recipientId: b.userId, type: 'text', body: `d${i}` },
          15_000,
        )
          .then((r: { ok: boolean; message?: { id: string; seq: number } }) => {
            answered += 1;
            if (r.ok && r.message) acked.set(r.message.id, r.message.seq);
          })
          .catch(() => undefined),
      );
      while (acked.size < 10) await sleep(1);
      // Listened for only now: on a loaded machine the first acks can take a while.
      const draining = nextEvent(socket, 'server:draining', () => true, 60_000);
      const drained = drainAndClose(first.app, 10_000);
      expect(first.app.get(LifecycleState).isDraining).toBe(true);
      expect(await draining).toEqual({ reconnectInMs: 0 });
      await drained;
      await Promise.all(sends);
      socket.close();
      // drainAndClose closed the app; this removes what the test harness made for it.
      await first.close().catch(() => undefined);
      expect(acked.size).toBeGreaterThanOrEqual(10);
      expect(answered).toBeGreaterThanOrEqual(acked.size);

      const second = await startTestApp({ dataDir, databaseUrl: db?.url });
      try {
        const conversation = await http(second.api, 'POST', '/conversations/direct', {
          token: b.accessToken,
          body: { userId: a.userId },
        });
        const stored = await allMessageSeqs(second.api, b.accessToken, conversation.body.id);
        for (const [id, seq] of acked) expect(stored.get(id)).toBe(seq);
        expect([...stored.values()].sort((x, y) => x - y)).toEqual(
          Array.from({ length: stored.size }, (_, i) => i + 1),
        );
      } finally {
        await second.close();
      }
    } finally {
      await db?.drop();
      rmSync(dataDir, { recursive: true, force: true });
    }
  }, 120_000);
});
