import { Injectable, Logger, OnApplicationBootstrap, OnModuleDestroy } from '@nestjs/common';
import { AppConfig } from '../config/app-config';
import { JobMetrics } from './job-metrics';
import { JobQueue, type EnqueueOptions, type JobHandler } from './job-queue';
import type { JobName, JobPayloads } from './queue-names';

interface PendingJob {
  name: JobName;
  data: unknown;
  attempt: number;
  jobId?: string;
}

const BACKOFF_BASE_MS = 500;

/** The embedded default: jobs run in this process, with retries and bounded concurrency. */
@Injectable()
export class InProcessJobQueue extends JobQueue implements OnApplicationBootstrap, OnModuleDestroy {
  private readonly logger = new Logger('Jobs');
  private readonly handlers = new Map<JobName, JobHandler<JobName>>();
  private readonly waiting: PendingJob[] = [];
  private readonly pendingIds = new Set<string>();
  private readonly timers = new Set<NodeJS.Timeout>();
  private readonly repeats: Array<{ name: JobName; everyMs: number; data: unknown }> = [];
  private running = 0;
  private stopped = false;
  private idle: Array<() => void> = [];

  constructor(
    private readonly config: AppConfig,
    private readonly metrics: JobMetrics,
  ) {
    super();
    metrics.depthFrom(async () => [
      { queue: 'in-process', state: 'waiting', count: this.waiting.length },
      { queue: 'in-process', state: 'active', count: this.running },
      { queue: 'in-process', state: 'delayed', count: this.timers.size },
    ]);
  }

  async enqueue<N extends JobName>(
    name: N,
    data: JobPayloads[N],
    options: EnqueueOptions = {},
  ): Promise<void> {
    if (this.stopped) return;
    if (options.jobId) {
      if (this.pendingIds.has(options.jobId)) return;
      this.pendingIds.add(options.jobId);
    }
    const job: PendingJob = { name, data, attempt: 1, jobId: options.jobId };
    if (options.delayMs) this.later(options.delayMs, () => this.push(job));
    else this.push(job);
  }

  process<N extends JobName>(name: N, handler: JobHandler<N>): void {
    this.handlers.set(name, handler as unknown as JobHandler<JobName>);
    this.pump();
  }

  repeat<N extends JobName>(name: N, everyMs: number, data: JobPayloads[N]): void {
    this.repeats.push({ name, everyMs, data });
  }

  onApplicationBootstrap(): void {
    if (!this.config.runsWorkers) return;
    for (const r of this.repeats) {
      const timer = setInterval(
        () => void this.enqueue(r.name, r.data as never, { jobId: `repeat:${r.name}` }),
        r.everyMs,
      );
      timer.unref();
      this.timers.add(timer);
    }
  }

  async drain(): Promise<void> {
    this.stopped = true;
    for (const t of this.timers) clearTimeout(t);
    this.timers.clear();
    if (!this.running) return;
    await new Promise<void>((resolve) => this.idle.push(resolve));
  }

  onModuleDestroy(): Promise<void> {
    return this.drain();
  }

  private later(ms: number, fn: () => void): void {
    const timer = setTimeout(() => {
      this.timers.delete(timer);
      fn();
    }, ms);
    timer.unref();
    this.timers.add(timer);
  }

  private push(job: PendingJob): void {
    this.waiting.push(job);
    this.pump();
  }

  private pump(): void {
    while (!this.stopped && this.running < this.config.queue.concurrency) {
      const index = this.waiting.findIndex((j) => this.handlers.has(j.name));
      if (index < 0) return;
      const [job] = this.waiting.splice(index, 1);
      this.running++;
      void this.run(job).finally(() => {
        this.running--;
        if (!this.running) for (const resolve of this.idle.splice(0)) resolve();
        this.pump();
      });
    }
  }

  private async run(job: PendingJob): Promise<void> {
    const handler = this.handlers.get(job.name)!;
    try {
      await handler(job.data as never, { attempt: job.attempt });
      if (job.jobId) this.pendingIds.delete(job.jobId);
      this.metrics.outcome(job.name, 'completed');
    } catch (error) {
      if (job.attempt >= this.config.queue.attempts || this.stopped) {
        if (job.jobId) this.pendingIds.delete(job.jobId);
        this.metrics.outcome(job.name, 'failed');
        this.logger.error(
          { err: error, job: job.name, attempt: job.attempt },
          'job failed for good',
        );
        return;
      }
      this.metrics.outcome(job.name, 'retried');
      this.logger.warn({ err: error, job: job.name, attempt: job.attempt }, 'job failed; retrying');
      this.later(BACKOFF_BASE_MS * 2 ** (job.attempt - 1), () =>
        this.push({ ...job, attempt: job.attempt + 1 }),
      );
    }
  }
}
