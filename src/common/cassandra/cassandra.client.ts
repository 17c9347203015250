import { auth, Client, policies, types } from 'cassandra-driver';
import { cassandraMigrations } from '../../../migrations/cassandra';
import type { CassandraConsistency, CassandraSettings } from '../config/app-config';

const DEFAULT_PORT = 9042;

const CONSISTENCY: Record<CassandraConsistency, types.consistencies> = {
  ONE: types.consistencies.one,
  LOCAL_ONE: types.consistencies.localOne,
  QUORUM: types.consistencies.quorum,
  LOCAL_QUORUM: types.consistencies.localQuorum,
  EACH_QUORUM: types.consistencies.eachQuorum,
  ALL: types.consistencies.all,
};

export function consistencyOf(level: CassandraConsistency): types.consistencies {
  return CONSISTENCY[level];
}

/**
 * A driver client for the settings: token-aware routing over the local data centre (each
 * request goes straight to a replica of its partition), prepared statements by default.
 * Without `keyspace` it is for creating the keyspace.
 */
export function createCassandraClient(settings: CassandraSettings, keyspace?: string): Client {
  const contactPoints = settings.contactPoints.map((p) =>
    /:\d+$/.test(p) ? p : `${p}:${DEFAULT_PORT}`,
  );
  return new Client({
    contactPoints,
    localDataCenter: settings.localDataCenter,
    keyspace,
    credentials: settings.credentials,
    authProvider: settings.credentials
      ? new auth.PlainTextAuthProvider(settings.credentials.username, settings.credentials.password)
      : undefined,
    policies: {
      loadBalancing: new policies.loadBalancing.TokenAwarePolicy(
        new policies.loadBalancing.DCAwareRoundRobinPolicy(settings.localDataCenter),
      ),
    },
    socketOptions: { readTimeout: settings.requestTimeoutMs },
    queryOptions: {
      prepare: true,
      consistency: consistencyOf(settings.readConsistency),
      fetchSize: settings.pageSize,
    },
  });
}

/** `{'class': 'SimpleStrategy', 'replication_factor': 1}` from the settings' map. */
function replicationCql(replication: CassandraSettings['replication']): string {
  const entries = Object.entries(replication).map(
    ([key, value]) =>
      `'${key.replace(/'/g, "''")}': ${typeof value === 'number' ? value : `'${value.replace(/'/g, "''")}'`}`,
  );
  return `{${entries.join(', ')}}`;
}

/**
 * Creates the keyspace (or sets its replication to the settings') and applies the pending
 * CQL migrations in order; returns the names of those applied.
 */
export async function runCassandraMigrations(settings: CassandraSettings): Promise<string[]> {
  const admin = createCassandraClient(settings);
  const ks = settings.keyspace;
  try {
    await admin.connect();
    const replication = replicationCql(settings.replication);
    await admin.execute(`CREATE KEYSPACE IF NOT EXISTS ${ks} WITH replication = ${replication}`);
    await admin.execute(`ALTER KEYSPACE ${ks} WITH replication = ${replication}`);
    await admin.execute(
      `CREATE TABLE IF NOT EXISTS ${ks}.schema_migrations (id bigint PRIMARY KEY, name text, applied_at timestamp)`,
    );
    const applied = new Set(
      (
        await admin.execute(`SELECT id FROM ${ks}.schema_migrations`, [], { prepare: false })
      ).rows.map((r) => String(r.get('id'))),
    );
    const ran: string[] = [];
    for (const migration of cassandraMigrations) {
      if (applied.has(String(migration.id))) continue;
      for (const statement of migration.statements) {
        await admin.execute(statement.replace(/(TABLE IF NOT EXISTS )/, `$1${ks}.`), [], {
          prepare: false,
        });
      }
      await admin.execute(
        `INSERT INTO ${ks}.schema_migrations (id, name, applied_at) VALUES (?, ?, ?)`,
        [types.Long.fromNumber(migration.id), migration.name, new Date()],
        { consistency: consistencyOf(settings.writeConsistency) },
      );
      ran.push(migration.name);
    }
    return ran;
  } finally {
    await admin.shutdown();
  }
}
