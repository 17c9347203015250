import { Client } from 'cassandra-driver';
import { readProcessEnv } from '../../src/common/config/app-config';

/** The Cassandra that the Cassandra pass runs against (scripts/cassandra/start.sh), if any. */
export function cassandraContactPoints(): string | undefined {
  return readProcessEnv('CASSANDRA_CONTACT_POINTS');
}

/** Why Cassandra-only suites are skipped in this run, for their names; empty when they run. */
export function cassandraSkipReason(): string {
  return cassandraContactPoints() ? '' : ' (skipped: CASSANDRA_CONTACT_POINTS is unset)';
}

/** A keyspace name of its own for one test app; the app's migrations create it. */
export function freshKeyspace(): string {
  return `parley_t_${Date.now().toString(36)}_${Math.random().toString(36).slice(2, 8)}`;
}

/** A CQL client on the test Cassandra, in `keyspace` when given. */
export async function cassandraClient(keyspace?: string): Promise<Client> {
  const points = cassandraContactPoints();
  if (!points) throw new Error('CASSANDRA_CONTACT_POINTS is unset');
  const client = new Client({
    contactPoints: points.split(',').map((p) => p.trim()),
    localDataCenter: readProcessEnv('CASSANDRA_LOCAL_DC') ?? 'datacenter1',
    keyspace,
  });
  await client.connect();
  return client;
}

export async function dropKeyspace(keyspace: string): Promise<void> {
  const client = await cassandraClient();
  try {
    await client.execute(`DROP KEYSPACE IF EXISTS ${keyspace}`);
  } finally {
    await client.shutdown();
  }
}
