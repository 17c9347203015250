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
  const out = new Map<string, string[]>();
  if ('databaseUrl' in source) {
    const client = new Client({ connectionString: source.databaseUrl });
    await client.connect();
    try {
      const tables = await client.query<{ table_name: string }>(listTables);
      for (const { table_name: name } of tables.rows) {
        const rows = await client.query<{ row: string }>(`SELECT t::text AS row FROM "${name}" t`);
        out.set(
          name,
          rows.rows.map((r) => r.row),
        );
      }
    } finally {
      await client.end();
    }
    return out;
  }
  const db = await PGlite.create({ dataDir: join(source.dataDir, 'pglite') });
  try {
    const tables = await db.query<{ table_name: string }>(listTables);
    for (const { table_name: name } of tables.rows) {
      const rows = await db.query<{ row: string }>(`SELECT t::text AS row FROM "${name}" t`);
      out.set(
        name,
        rows.rows.map((r) => r.row),
      );
    }
  } finally {
    await db.close();
  }
  return out;
}
