import { Injectable, type OnApplicationShutdown, type OnModuleInit } from '@nestjs/common';
import type { Client, types } from 'cassandra-driver';
import type { Counter } from 'prom-client';
import { AppConfig } from '../config/app-config';
import { MetricsRegistry } from '../metrics/metrics.registry';
import { consistencyOf, createCassandraClient, runCassandraMigrations } from './cassandra.client';

export type CqlParams = unknown[];

/**
 * The connection to the Cassandra message store, opened only when MESSAGE_STORE=cassandra.
 * Reads and writes take their own consistency level from the settings. Requests are counted
 * so tests and the benchmark can show per-message costs.
 */
@Injectable()
export class CassandraSession implements OnModuleInit, OnApplicationShutdown {
  private client: Client | undefined;
  private counted = 0;
  private readonly requests: Counter;

  constructor(
    private readonly config: AppConfig,
    metrics: MetricsRegistry,
  ) {
    this.requests = metrics.counter(
      'parley_cassandra_requests_total',
      'Requests sent to Cassandra (a batch counts once)',
    );
  }

  get enabled(): boolean {
    return this.config.messageStore === 'cassandra';
  }

  async onModuleInit(): Promise<void> {
    if (!this.enabled) return;
    const settings = this.config.cassandra;
    if (this.config.database.runMigrations) await runCassandraMigrations(settings);
    const client = createCassandraClient(settings, settings.keyspace);
    await client.connect();
    this.client = client;
  }

  async onApplicationShutdown(): Promise<void> {
    await this.client?.shutdown();
    this.client = undefined;
  }

  /** Requests sent since start. */
  get requestCount(): number {
    return this.counted;
  }

  private count(): void {
    this.counted++;
    this.requests.inc();
  }

  private get connected(): Client {
    if (!this.client)
      throw new Error('Cassandra is not connected (MESSAGE_STORE is not cassandra)');
    return this.client;
  }

  async read(
    cql: string,
    params: CqlParams,
    options: { pageState?: string; fetchSize?: number } = {},
  ): Promise<types.ResultSet> {
    this.count();
    return this.connected.execute(cql, params, {
      prepare: true,
      consistency: consistencyOf(this.config.cassandra.readConsistency),
      ...options,
    });
  }

  async write(cql: string, params: CqlParams): Promise<void> {
    this.count();
    await this.connected.execute(cql, params, {
      prepare: true,
      consistency: consistencyOf(this.config.cassandra.writeConsistency),
      isIdempotent: true,
    });
  }

  /** Statements on one partition, sent as one unlogged batch (one request, one mutation). */
  async writePartition(statements: Array<{ query: string; params: CqlParams }>): Promise<void> {
    if (!statements.length) return;
    if (statements.length === 1) return this.write(statements[0].query, statements[0].params);
    this.count();
    await this.connected.batch(statements, {
      prepare: true,
      logged: false,
      consistency: consistencyOf(this.config.cassandra.writeConsistency),
      isIdempotent: true,
    });
  }
}
