import 'reflect-metadata';
import { DataSource, MigrationExecutor } from 'typeorm';
import { runCassandraMigrations } from '../common/cassandra/cassandra.client';
import { loadConfigFromProcess } from '../common/config/app-config';
import { dataSourceOptions } from '../common/database/data-source-options';
import { EmbeddedPostgres } from '../common/database/embedded-postgres';
import { runMigrations } from '../common/database/run-migrations';

/**
 * `npm run migration:run [-- --show]`: runs pending SQL migrations (each in its own
 * transaction) against DATABASE_URL, or against the embedded database under DATA_DIR when
 * DATABASE_URL is unset (stop the server first: an embedded database belongs to one process).
 * With MESSAGE_STORE=cassandra it then applies the pending CQL migrations (creating the
 * keyspace with CASSANDRA_REPLICATION). `--show` lists applied and pending SQL migrations
 * and changes nothing.
 * Exit codes: 0 done, 1 failed, 2 bad arguments.
 */

const USAGE = 'usage: npm run migration:run [-- --show]';

type Mode = 'run' | 'show';

function parseArgs(argv: string[]): Mode | 'help' {
  let mode: Mode = 'run';
  for (const arg of argv) {
    if (arg === '--show') mode = 'show';
    else if (arg === '--help' || arg === '-h') return 'help';
    else throw new UsageError(`Unknown argument ${JSON.stringify(arg)}`);
  }
  return mode;
}

class UsageError extends Error {}

/** The URL without credentials, for the log. */
function describeUrl(url: string): string {
  try {
    const u = new URL(url);
    return `${u.protocol}//${u.host}${u.pathname}`;
  } catch {
    return 'the configured database';
  }
}

async function show(dataSource: DataSource): Promise<void> {
  const executor = new MigrationExecutor(dataSource);
  // Neither call creates the migrations table: --show only reads.
  const applied = await executor.getExecutedMigrations();
  const pending = await executor.getPendingMigrations();
  const inBuild = new Set(dataSource.migrations.map((m) => m.name ?? m.constructor.name));
  for (const m of [...applied].sort((a, b) => a.timestamp - b.timestamp)) {
    console.log(`[X] ${m.name}${inBuild.has(m.name) ? '' : ' (applied, but not in this build)'}`);
  }
  for (const m of pending) console.log(`[ ] ${m.name}`);
  console.log(`${applied.length} applied, ${pending.length} pending`);
}

/** `lock`: on a shared PostgreSQL, so instances starting meanwhile wait for this run. */
async function run(dataSource: DataSource, lock: boolean): Promise<void> {
  const ran = await runMigrations(dataSource, { lock });
  if (!ran.length) {
    console.log('No pending migrations: the schema is up to date.');
    return;
  }
  for (const m of ran) console.log(`Ran ${m.name}`);
  console.log(`${ran.length} migration${ran.length === 1 ? '' : 's'} applied.`);
}

async function main(argv: string[]): Promise<number> {
  let mode: Mode | 'help';
  try {
    mode = parseArgs(argv);
  } catch (error) {
    console.error(`${(error as Error).message}\n${USAGE}`);
    return 2;
  }
  if (mode === 'help') {
    console.log(USAGE);
    return 0;
  }

  let embedded: EmbeddedPostgres | undefined;
  let dataSource: DataSource | undefined;
  try {
    const config = loadConfigFromProcess();
    let url = config.database.url;
    let poolSize = config.database.poolSize;
    if (url) {
      console.log(`Database: ${describeUrl(url)}`);
    } else {
      embedded = new EmbeddedPostgres(config.dataDir, config.database.embeddedMaxConnections);
      url = await embedded.start();
      poolSize = config.database.embeddedMaxConnections;
      console.log(`Database: embedded PostgreSQL (PGlite) in ${config.dataDir}`);
    }
    dataSource = new DataSource(dataSourceOptions(url, poolSize, false));
    await dataSource.initialize();
    if (mode === 'show') await show(dataSource);
    else await run(dataSource, Boolean(config.database.url));
    if (mode === 'run' && config.messageStore === 'cassandra') {
      const { keyspace, contactPoints } = config.cassandra;
      console.log(`Cassandra: keyspace ${keyspace} on ${contactPoints.join(', ')}`);
      const ran = await runCassandraMigrations(config.cassandra);
      for (const name of ran) console.log(`Ran ${name}`);
      console.log(
        ran.length
          ? `${ran.length} CQL migration${ran.length === 1 ? '' : 's'} applied.`
          : 'No pending CQL migrations: the keyspace is up to date.',
      );
    }
    return 0;
  } catch (error) {
    console.error(`Migration failed: ${error instanceof Error ? error.message : String(error)}`);
    return 1;
  } finally {
    if (dataSource?.isInitialized) await dataSource.destroy().catch(() => undefined);
    // Stopping PGlite flushes its files; exit only after it has closed.
    await embedded?.stop();
  }
}

void main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (error: unknown) => {
    console.error(error);
    process.exit(1);
  },
);
