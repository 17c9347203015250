import type { Counter } from 'prom-client';
import type { MetricsRegistry } from '../metrics/metrics.registry';

export type JobOutcome = 'completed' | 'retried' | 'failed';

export interface QueueDepth {
  queue: string;
  state: 'waiting' | 'active' | 'delayed' | 'failed';
  count: number;
}

/**
 * What operators watch of background work: job outcomes per job name, and queue depth per
 * queue and state (read when Prometheus scrapes, so a stuck queue shows as a rising depth).
 */
export class JobMetrics {
  private readonly outcomes: Counter;
  private readDepth: () => Promise<QueueDepth[]> = async () => [];

  constructor(metrics: MetricsRegistry) {
    this.outcomes = metrics.counter(
      'parley_jobs_total',
      'Background job runs by outcome: completed, retried (will run again) or failed (for good)',
      ['job', 'outcome'],
    );
    metrics.gauge(
      'parley_queue_jobs',
      'Jobs in each queue by state',
      ['queue', 'state'],
      // A failing read (Redis down) leaves the last values.
      async (depth) => {
        const rows = await this.readDepth().catch(() => undefined);
        if (!rows) return;
        depth.reset();
        for (const r of rows) depth.set({ queue: r.queue, state: r.state }, r.count);
      },
    );
  }

  outcome(job: string, outcome: JobOutcome): void {
    this.outcomes.inc({ job, outcome });
  }

  /** The queue adapter says how to read its depth. */
  depthFrom(read: () => Promise<QueueDepth[]>): void {
    this.readDepth = read;
  }
}
