import { Injectable, Logger, OnApplicationBootstrap, OnModuleDestroy } from '@nestjs/common';
import { Queue, Worker, type Job } from 'bullmq';
import { AppConfig } from '../config/app-config';
import { RedisConnections } from '../redis/redis.connections';
import type { JobMetrics, QueueDepth } from './job-metrics';
import { JobQueue, type EnqueueOptions, type JobHandler } from './job-queue';
import { queueOf, type JobName, type JobPayloads, type QueueName } from './queue-names';

/**
 * BullMQ over Redis: jobs survive restarts, failed ones retry with exponential backoff,
 * jobs of a worker that died are picked up again (stalled-job recovery), and repeatable
 * jobs are scheduled once for the whole deployment by a fixed scheduler id.
 */
@Injectable()
export class BullMqJobQueue extends JobQueue implements OnApplicationBootstrap, OnModuleDestroy {
  private readonly logger = new Logger('Jobs');
  private readonly queues = new Map<QueueName, Queue>();
  private readonly workers: Worker[] = [];
  private readonly handlers = new Map<JobName, JobHandler<JobName>>();
  private readonly repeats: Array<{ name: JobName; everyMs: number; data: unknown }> = [];

  constructor(
    private readonly config: AppConfig,
    private readonly redis: RedisConnections,
    private readonly metrics: JobMetrics,
  ) {
    super();
    metrics.depthFrom(async () => {
      const rows: QueueDepth[] = [];
      for (const [name, queue] of this.queues) {
        const counts = await queue.getJobCounts('waiting', 'active', 'delayed', 'failed');
        for (const state of ['waiting', 'active', 'delayed', 'failed'] as const)
          rows.push({ queue: name, state, count: counts[state] ?? 0 });
      }
      return rows;
    });
  }

  private get bullPrefix(): string {
    return `${this.config.redis.keyPrefix}:bull`;
  }

  private queue(name: QueueName): Queue {
    let queue = this.queues.get(name);
    if (!queue) {
      queue = new Queue(name, {
        prefix: this.bullPrefix,
        connection: this.redis.create(`queue:${name}`, { maxRetriesPerRequest: null }),
        defaultJobOptions: {
          attempts: this.config.queue.attempts,
          backoff: { type: 'exponential', delay: 1000 },
          removeOnComplete: { count: 1000 },
          removeOnFail: { count: 5000 },
        },
      });
      this.queues.set(name, queue);
    }
    return queue;
  }

  async enqueue<N extends JobName>(
    name: N,
    data: JobPayloads[N],
    options: EnqueueOptions = {},
  ): Promise<void> {
    await this.queue(queueOf[name]).add(name, data, {
      jobId: options.jobId,
      delay: options.delayMs,
    });
  }

  process<N extends JobName>(name: N, handler: JobHandler<N>): void {
    this.handlers.set(name, handler as unknown as JobHandler<JobName>);
  }

  repeat<N extends JobName>(name: N, everyMs: number, data: JobPayloads[N]): void {
    this.repeats.push({ name, everyMs, data });
  }

  async onApplicationBootstrap(): Promise<void> {
    if (!this.config.runsWorkers) return;
    for (const r of this.repeats) {
      await this.queue(queueOf[r.name]).upsertJobScheduler(
        `every:${r.name}`,
        { every: r.everyMs },
        {
          name: r.name,
          data: r.data,
        },
      );
    }
    const queueNames = new Set([...this.handlers.keys()].map((n) => queueOf[n]));
    for (const queueName of queueNames) {
      const worker = new Worker(queueName, (job: Job) => this.handle(job), {
        prefix: this.bullPrefix,
        connection: this.redis.create(`worker:${queueName}`, { maxRetriesPerRequest: null }),
        concurrency: this.config.queue.concurrency,
        // A job whose worker died is taken up again once its lock lapses.
        lockDuration: this.config.queue.lockMs,
        stalledInterval: this.config.queue.lockMs,
      });
      worker.on('completed', (job) => this.metrics.outcome(job.name, 'completed'));
      worker.on('failed', (job, error) => {
        const final = !job || job.attemptsMade >= (job.opts.attempts ?? 1);
        if (job) this.metrics.outcome(job.name, final ? 'failed' : 'retried');
        this.logger.warn({ err: error, job: job?.name, attempt: job?.attemptsMade }, 'job failed');
      });
      worker.on('error', (error) => this.logger.warn({ err: error }, 'worker error'));
      this.workers.push(worker);
    }
  }

  private async handle(job: Job): Promise<void> {
    const handler = this.handlers.get(job.name as JobName);
    if (!handler) throw new Error(`no handler for job ${job.name}`);
    await handler(job.data as never, { attempt: job.attemptsMade + 1 });
  }

  async drain(): Promise<void> {
    // Worker.close waits for the jobs in progress to finish.
    await Promise.all(this.workers.splice(0).map((w) => w.close()));
  }

  async onModuleDestroy(): Promise<void> {
    await this.drain();
    await Promise.all([...this.queues.values()].map((q) => q.close()));
    this.queues.clear();
  }
}
