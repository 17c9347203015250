import { DataSource, type DataSourceOptions, type Migration } from 'typeorm';

/** One lock id for "migrations are running", the same in every Parley process. */
const MIGRATION_LOCK_KEY = 'parley:migrations';

/**
 * Runs pending migrations, each in its own transaction, while holding a PostgreSQL advisory
 * lock, so that instances starting together run them once: the others wait, then find
 * nothing pending. The lock is held on a connection of its own, which a one-connection
 * pool does not have: the embedded database belongs to one process and needs no lock.
 */
export async function runMigrations(
  dataSource: DataSource,
  options: { lock: boolean },
): Promise<Migration[]> {
  if (!options.lock) return dataSource.runMigrations({ transaction: 'each' });
  const holder = dataSource.createQueryRunner();
  await holder.connect();
  try {
    await holder.query(`SELECT pg_advisory_lock(hashtext($1))`, [MIGRATION_LOCK_KEY]);
    return await dataSource.runMigrations({ transaction: 'each' });
  } finally {
    // Ending the session releases the lock too, if the unlock itself fails.
    await holder
      .query(`SELECT pg_advisory_unlock(hashtext($1))`, [MIGRATION_LOCK_KEY])
      .catch(() => undefined);
    await holder.release();
  }
}

/**
 * Initializes the data source, then runs migrations if the options ask for them (TypeORM
 * itself is told not to, so they run under the lock). A one-connection pool (the embedded
 * database) runs them without it.
 */
export async function createDataSource(options?: DataSourceOptions): Promise<DataSource> {
  if (!options) throw new Error('data source options are required');
  const dataSource = await new DataSource({ ...options, migrationsRun: false }).initialize();
  if (options.migrationsRun) {
    const poolSize = (options.extra as { max?: number } | undefined)?.max ?? 1;
    await runMigrations(dataSource, { lock: poolSize > 1 });
  }
  return dataSource;
}
