import { Injectable } from '@nestjs/common';
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

/**
 * One Prometheus registry per app instance (not prom-client's global one), so several
 * apps in one process (tests) never clash over metric names.
 */
@Injectable()
export class MetricsRegistry {
  readonly registry = new Registry();
  private readonly metrics = new Map<string, Counter | Gauge | Histogram>();

  constructor() {
    collectDefaultMetrics({ register: this.registry });
  }

  counter(name: string, help: string, labelNames: string[] = []): Counter {
    return this.getOrCreate(
      name,
      () => new Counter({ name, help, labelNames, registers: [this.registry] }),
    );
  }

  /** `collect` runs on every scrape, for values read from elsewhere (pools, queues). */
  gauge(
    name: string,
    help: string,
    labelNames: string[] = [],
    collect?: (gauge: Gauge) => Promise<void> | void,
  ): Gauge {
    return this.getOrCreate(
      name,
      () =>
        new Gauge({
          name,
          help,
          labelNames,
          registers: [this.registry],
          ...(collect
            ? {
                collect: function (this: Gauge) {
                  return collect(this);
                },
              }
            : {}),
        }),
    );
  }

  histogram(name: string, help: string, labelNames: string[], buckets: number[]): Histogram {
    return this.getOrCreate(
      name,
      () => new Histogram({ name, help, labelNames, buckets, registers: [this.registry] }),
    );
  }

  private getOrCreate<T extends Counter | Gauge | Histogram>(name: string, make: () => T): T {
    const existing = this.metrics.get(name);
    if (existing) return existing as T;
    const created = make();
    this.metrics.set(name, created);
    return created;
  }
}

/** Errors answered to clients, by stable code and by transport (http or socket). */
export function errorCounter(metrics: MetricsRegistry): Counter {
  return metrics.counter('parley_errors_total', 'Errors answered to clients, by code', [
    'code',
    'transport',
  ]);
}
