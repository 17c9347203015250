import type { NestExpressApplication } from '@nestjs/platform-express';
import { createHash } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Client } from 'pg';
import { createApp } from '../../src/bootstrap';
import { loadConfig, readProcessEnv, type AppConfig } from '../../src/common/config/app-config';
import { cassandraContactPoints, dropKeyspace, freshKeyspace } from './cassandra';

export const TEST_OTP = '246810';

/**
 * The Redis namespace of a test deployment, derived from its database: apps and processes
 * sharing a database share queues and Socket.IO channels; others, even on the same
 * Redis (another suite, a benchmark), never take each other's jobs or events.
 */
export function redisPrefixFor(databaseIdentity: string): string {
  return `t-${createHash('sha1').update(databaseIdentity).digest('hex').slice(0, 12)}`;
}

export interface TestApp {
  app: NestExpressApplication;
  config: AppConfig;
  /** http://127.0.0.1:<port> */
  url: string;
  /** http://127.0.0.1:<port>/api/v1 */
  api: string;
  close(): Promise<void>;
}

/**
 * Which backends the suite runs on: the embedded default, or those named by DATABASE_URL /
 * REDIS_URL; with MESSAGE_STORE=cassandra, message history in the Cassandra at
 * CASSANDRA_CONTACT_POINTS.
 */
export function backendFromEnvironment(): {
  databaseUrl?: string;
  redisUrl?: string;
  cassandra: boolean;
} {
  return {
    databaseUrl: readProcessEnv('DATABASE_URL'),
    redisUrl: readProcessEnv('REDIS_URL'),
    cassandra: readProcessEnv('MESSAGE_STORE') === 'cassandra',
  };
}

/**
 * A fresh, empty database per app: a new PGlite data directory, or a new database on the
 * PostgreSQL server named by DATABASE_URL (dropped again on close).
 */
export async function freshDatabase(
  baseUrl: string,
): Promise<{ url: string; drop: () => Promise<void> }> {
  const name = `parley_test_${Date.now().toString(36)}_${Math.random().toString(36).slice(2, 8)}`;
  const admin = new Client({ connectionString: baseUrl });
  await admin.connect();
  await admin.query(`CREATE DATABASE ${name}`);
  await admin.end();
  const url = new URL(baseUrl);
  url.pathname = `/${name}`;
  return {
    url: url.toString(),
    drop: async () => {
      const c = new Client({ connectionString: baseUrl });
      await c.connect();
      await c.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
      await c.end();
    },
  };
}

export interface TestAppOptions {
  /** Settings over the test defaults; `undefined` removes a default (e.g. JWT_SECRET). */
  env?: Record<string, string | undefined>;
  /** Reuse an existing database instead of making a fresh one. */
  databaseUrl?: string;
  dataDir?: string;
}

export async function startTestApp(options: TestAppOptions = {}): Promise<TestApp> {
  const backend = backendFromEnvironment();
  const dataDir = options.dataDir ?? mkdtempSync(join(tmpdir(), 'parley-test-'));
  let drop: (() => Promise<void>) | undefined;
  let databaseUrl = options.databaseUrl;
  if (!databaseUrl && backend.databaseUrl) {
    const fresh = await freshDatabase(backend.databaseUrl);
    databaseUrl = fresh.url;
    drop = fresh.drop;
  }
  const env: Record<string, string | undefined> = {
    NODE_ENV: 'test',
    PORT: '0',
    HOST: '127.0.0.1',
    DATA_DIR: dataDir,
    LOG_LEVEL: readProcessEnv('TEST_LOG_LEVEL') ?? 'silent',
    AUTH_TEST_OTP: TEST_OTP,
    JWT_SECRET: 'test-secret-test-secret-test-secret-0123456789',
    DATABASE_URL: databaseUrl,
    REDIS_URL: backend.redisUrl,
    REDIS_KEY_PREFIX: redisPrefixFor(databaseUrl ?? dataDir),
    MESSAGE_RATE_LIMIT_PER_MINUTE: '0',
    OTP_MAX_PER_WINDOW: '0',
    GROUPS_PER_USER_PER_HOUR: '0',
    CONTACT_UPLOADS_PER_HOUR: '0',
    ...options.env,
  };
  // Each app gets a keyspace of its own, as it gets a database; seq buckets of 128 make
  // long histories span partitions.
  let keyspace: string | undefined;
  if ((env.MESSAGE_STORE ?? (backend.cassandra ? 'cassandra' : undefined)) === 'cassandra') {
    keyspace = env.CASSANDRA_KEYSPACE ?? freshKeyspace();
    Object.assign(env, {
      MESSAGE_STORE: 'cassandra',
      CASSANDRA_CONTACT_POINTS: env.CASSANDRA_CONTACT_POINTS ?? cassandraContactPoints(),
      CASSANDRA_KEYSPACE: keyspace,
      CASSANDRA_SEQ_BUCKET_SIZE: env.CASSANDRA_SEQ_BUCKET_SIZE ?? '128',
    });
  }
  const config = loadConfig(env);
  const app = await createApp(config);
  await app.listen(0, '127.0.0.1');
  const address = app.getHttpServer().address() as { port: number };
  const url = `http://127.0.0.1:${address.port}`;
  return {
    app,
    config,
    url,
    api: `${url}/api/v1`,
    close: async () => {
      await app.close();
      await drop?.();
      if (keyspace && !options.env?.CASSANDRA_KEYSPACE) await dropKeyspace(keyspace);
      if (!options.dataDir) rmSync(dataDir, { recursive: true, force: true });
    },
  };
}
