import { PGlite } from '@electric-sql/pglite';
import { join } from 'node:path';
import { Client } from 'pg';

/**
 * Every row of every table of a stopped test deployment's database, each as PostgreSQL's
 * text form of the row: for checking what the server kept (e.g. that no plaintext did).
 * `dataDir` is an embedded deployment's DATA_DIR; `databaseUrl` a PostgreSQL database.
 */
export async function allRows(
  source: { databaseUrl: string } | { dataDir: string },
): Promise<Map<string, string[]>> {
  const listTables = `SELECT table_name FROM information_schema.tables
                       WHERE table_schema = 'public' AND table_type = 'BASE TABLE' ORDER BY 1`;
  type Query = <R>(sql: string) => Promise<R[]>;
  const scan = async (query: Query) => {
    const out = new Map<string, string[]>();
    for (const { table_name: name } of await query<{ table_name: string }>(listTables)) {
      const rows = await query<{ row: string }>(`SELECT t::text AS row FROM "${name}" t`);
      out.set(
        name,
        rows.map((r) => r.row),
      );
    }
    return out;
  };
  if ('databaseUrl' in source) {
    const client = new Client({ connectionString: source.databaseUrl });
    await client.connect();
    try {
      return await scan(async <R>(sql: string) => (await client.query(sql)).rows as R[]);
    } finally {
      await client.end();
    }
  }
  const db = await PGlite.create({ dataDir: join(source.dataDir, 'pglite') });
  try {
    return await scan(async <R>(sql: string) => (await db.query<R>(sql)).rows);
  } finally {
    await db.close();
  }
}
