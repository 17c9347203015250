import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir, userInfo } from 'node:os';
import { join } from 'node:path';
import { clientsOf, type Message } from '../utils/chat-clients';
import { backendFromEnvironment, startTestApp, type TestApp } from '../utils/test-app';

/**
 * The embedded database's disk fills up: sends fail with a retryable SERVICE_UNAVAILABLE
 * (never INTERNAL, never a crash), work again once there is room, and a restart finds
 * every acked message intact. The disk is a small tmpfs, which takes root to mount.
 */
const canRun = !backendFromEnvironment().databaseUrl && userInfo().uid === 0;
const suite = canRun ? describe : describe.skip;

suite(
  'disk full under the embedded database (needs the embedded shape and root to mount a tmpfs) (e2e)',
  () => {
    const mountPoint = mkdtempSync(join(tmpdir(), 'parley-small-disk-'));
    const dataDir = join(mountPoint, 'data');
    const filler = join(mountPoint, 'filler');
    let t: TestApp | undefined;
    const c = clientsOf(() => t!);
    const embedded = { DATABASE_URL: undefined, REDIS_URL: undefined };

    beforeAll(() => {
      execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=96m', 'tmpfs', mountPoint]);
      mkdirSync(dataDir);
    });

    afterAll(async () => {
      c.closeAll();
      await t?.close();
      execFileSync('umount', [mountPoint]);
      rmSync(mountPoint, { recursive: true, force: true });
    });

    it('answers SERVICE_UNAVAILABLE while full, recovers when space is freed, and keeps every acked message', async () => {
      t = await startTestApp({ dataDir, env: embedded });
      const [alice, bob] = [await c.user(), await c.user()];
      const socket = await c.open(alice);
      const conversationId = await c.direct(alice, bob);
      const acked: Message[] = [await c.send(socket, { conversationId, body: 'before' })];

      // Take every free byte: dd writes until the disk refuses (and exits non-zero then).
      try {
        execFileSync('dd', ['if=/dev/zero', `of=${filler}`, 'bs=1M'], { stdio: 'ignore' });
      } catch {
        // expected: the disk is now full
      }

      const codes = new Set<string>();
      // PGlite buffers pages in memory, so the first refusals come when a file must grow.
      for (let i = 0; i < 500 && codes.size === 0; i++) {
        const res = await c.trySend(socket, { conversationId, body: `${'x'.repeat(4000)} ${i}` });
        if (res.ok) acked.push(res.message as Message);
        else codes.add(res.error.code as string);
      }
      expect([...codes]).toEqual(['SERVICE_UNAVAILABLE']);
      expect(socket.connected).toBe(true);

      rmSync(filler);
      acked.push(await c.send(socket, { conversationId, body: 'after' }));

      // A restart on the same files: nothing acked is missing, nothing is there twice.
      c.closeAll();
      await t.close();
      t = await startTestApp({ dataDir, env: embedded });
      const stored: Message[] = [];
      let query = '?limit=100';
      for (;;) {
        const page = await c.history(alice, conversationId, query);
        expect(page.status).toBe(200);
        stored.push(...page.body.messages);
        if (!page.body.hasMore) break;
        query = `?limit=100&beforeSeq=${Math.min(...page.body.messages.map((m) => m.seq))}`;
      }
      const ids = stored.map((m) => m.id);
      expect(new Set(ids).size).toBe(ids.length);
      expect(ids.sort()).toEqual(acked.map((m) => m.id).sort());
    }, 180_000);
  },
);
