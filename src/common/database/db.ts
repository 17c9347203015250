import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import type { Pool, PoolClient } from 'pg';
import type { Counter } from 'prom-client';
import type { DataSource } from 'typeorm';
import type { PostgresDriver } from 'typeorm/driver/postgres/PostgresDriver';
import { MetricsRegistry } from '../metrics/metrics.registry';

/** Anything that can run SQL: the pool, or one transaction's connection. */
export interface SqlRunner {
  query<T = Record<string, unknown>>(sql: string, params?: unknown[]): Promise<T[]>;
}

/**
 * Raw SQL over the pg pool that TypeORM manages. Adapters write SQL by hand (reviewed,
 * batched, index-aware); TypeORM gives the pool and migrations. Statements are counted
 * so tests and the benchmark can prove per-message write costs.
 */
@Injectable()
export class Db implements SqlRunner {
  private readonly statements: Counter;
  private counted = 0;

  constructor(
    @InjectDataSource() private readonly dataSource: DataSource,
    metrics: MetricsRegistry,
  ) {
    this.statements = metrics.counter(
      'parley_db_statements_total',
      'SQL statements sent to the database',
    );
    metrics.gauge(
      'parley_db_pool_connections',
      'Database pool connections: total, idle, and requests waiting for one',
      ['state'],
      (gauge) => {
        if (!this.dataSource.isInitialized) return;
        const pool = this.pool;
        gauge.set({ state: 'total' }, pool.totalCount);
        gauge.set({ state: 'idle' }, pool.idleCount);
        gauge.set({ state: 'waiting' }, pool.waitingCount);
      },
    );
  }

  private get pool(): Pool {
    return (this.dataSource.driver as PostgresDriver).master as Pool;
  }

  /** Statements sent by this instance since it started (BEGIN and COMMIT included). */
  get statementCount(): number {
    return this.counted;
  }

  private count(n = 1): void {
    this.counted += n;
    this.statements.inc(n);
  }

  async query<T = Record<string, unknown>>(sql: string, params: unknown[] = []): Promise<T[]> {
    this.count();
    const result = await this.pool.query(sql, params);
    return result.rows as T[];
  }

  /** Runs fn in one transaction on one connection; rolls back if fn throws. */
  async transaction<T>(fn: (tx: SqlRunner) => Promise<T>): Promise<T> {
    const client: PoolClient = await this.pool.connect();
    // The pool stops listening for errors on a client it lends out. A connection the
    // server drops meanwhile (a restart) emits 'error', which with no listener crashes
    // the process; the pending or next query fails anyway, so note it and discard it.
    let lost = false;
    const onLost = () => {
      lost = true;
    };
    client.on('error', onLost);
    const tx: SqlRunner = {
      query: async <R>(sql: string, params: unknown[] = []) => {
        this.count();
        return (await client.query(sql, params)).rows as R[];
      },
    };
    let broken = false;
    try {
      await tx.query('BEGIN');
      const result = await fn(tx);
      await tx.query('COMMIT');
      return result;
    } catch (error) {
      await client.query('ROLLBACK').catch(() => {
        broken = true;
      });
      throw error;
    } finally {
      // A lost client keeps the listener: a late second error must not crash either.
      if (!lost) client.off('error', onLost);
      client.release(broken || lost);
    }
  }

  async ping(): Promise<void> {
    await this.pool.query('SELECT 1');
  }
}
