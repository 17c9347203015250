import { Db } from '../../src/common/database/db';
import { backendFromEnvironment, startTestApp, type TestApp } from '../utils/test-app';

// A connection that PostgreSQL drops (a restart, a failover, an idle killer) while a
// transaction holds it: pg_terminate_backend ends that session from another connection.
// The embedded database has no server sessions to end, so it skips (and says why).
const onPostgres = backendFromEnvironment().databaseUrl ? describe : describe.skip;

onPostgres('database connection lost inside a transaction (e2e, needs DATABASE_URL)', () => {
  let t: TestApp;
  let db: Db;

  beforeAll(async () => {
    t = await startTestApp();
    db = t.app.get(Db, { strict: false });
  });

  afterAll(async () => {
    await t?.close();
  });

  it('fails that transaction only: no crash, and the pool serves the next ones', async () => {
    const outcome = db.transaction(async (tx) => {
      const [{ pid }] = await tx.query<{ pid: number }>('SELECT pg_backend_pid() AS pid');
      await db.query('SELECT pg_terminate_backend($1)', [pid]);
      // Let the closed socket reach the client before the transaction goes on.
      await new Promise((resolve) => setTimeout(resolve, 300));
      return tx.query('SELECT 1 AS one');
    });
    await expect(outcome).rejects.toThrow();
    expect(await db.query('SELECT 1 AS one')).toEqual([{ one: 1 }]);
    for (let i = 0; i < 12; i++) {
      await expect(db.transaction((tx) => tx.query('SELECT 2 AS two'))).resolves.toEqual([
        { two: 2 },
      ]);
    }
  });
});
