import { Client } from 'pg';
import { dataSourceOptions } from '../../src/common/database/data-source-options';
import { createDataSource } from '../../src/common/database/run-migrations';
import { backendFromEnvironment, freshDatabase, startTestApp } from '../utils/test-app';

// Instances share a database only on PostgreSQL; the embedded one belongs to one process.
const onPostgres = backendFromEnvironment().databaseUrl ? describe : describe.skip;

onPostgres('migrations on a shared PostgreSQL (e2e)', () => {
  it('processes starting together on an empty database run each migration once, none failing', async () => {
    const db = await freshDatabase(backendFromEnvironment().databaseUrl!);
    try {
      // What each instance does at startup, without TypeORM's retry-on-failure around it.
      const sources = await Promise.all(
        Array.from({ length: 4 }, () => createDataSource(dataSourceOptions(db.url, 3, true))),
      );
      await Promise.all(sources.map((s) => s.destroy()));
      const client = new Client({ connectionString: db.url });
      await client.connect();
      try {
        const { rows } = await client.query<{ name: string; runs: number }>(
          `SELECT name, count(*)::int AS runs FROM schema_migrations GROUP BY name`,
        );
        expect(rows.length).toBeGreaterThan(0);
        expect(rows.filter((r) => r.runs !== 1)).toEqual([]);
      } finally {
        await client.end();
      }
      // An app starting on the migrated database finds nothing to do and serves.
      const app = await startTestApp({ databaseUrl: db.url });
      const live = await fetch(`${app.url}/health/ready`);
      expect(live.status).toBe(200);
      await app.close();
    } finally {
      await db.drop();
    }
  });
});
