import { types } from 'pg';
import type { DataSourceOptions } from 'typeorm';
import { allMigrations } from '../../../migrations';

// int8 (counts, seqs) as numbers: every such value in Parley stays far below 2^53.
types.setTypeParser(20, (value: string) => Number.parseInt(value, 10));

export function dataSourceOptions(
  url: string,
  poolSize: number,
  runMigrations: boolean,
): DataSourceOptions {
  return {
    type: 'postgres',
    url,
    entities: [],
    migrations: allMigrations,
    migrationsRun: runMigrations,
    migrationsTableName: 'schema_migrations',
    migrationsTransactionMode: 'each',
    synchronize: false,
    logging: false,
    extra: { max: poolSize, connectionTimeoutMillis: 10000 },
  };
}
