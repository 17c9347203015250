import type { JobName, JobPayloads } from './queue-names';

export interface EnqueueOptions {
  /** Same id, same job: a second enqueue while the first is pending is ignored. */
  jobId?: string;
  delayMs?: number;
}

export interface JobContext {
  /** 1 on the first try. */
  attempt: number;
}

export type JobHandler<N extends JobName> = (
  data: JobPayloads[N],
  ctx: JobContext,
) => Promise<void>;

/**
 * Background jobs. With REDIS_URL: BullMQ (durable, retried with backoff, stalled jobs
 * recovered, processed by instances with the worker role). Without: the same handlers run
 * in this process with the same retry policy. Handlers must be safe to run twice.
 */
export abstract class JobQueue {
  abstract enqueue<N extends JobName>(
    name: N,
    data: JobPayloads[N],
    options?: EnqueueOptions,
  ): Promise<void>;
  /** Registers the handler of a job; called by the module that owns the job. */
  abstract process<N extends JobName>(name: N, handler: JobHandler<N>): void;
  /** Runs a job every `everyMs`, scheduled once across all instances. */
  abstract repeat<N extends JobName>(name: N, everyMs: number, data: JobPayloads[N]): void;
  /** Stops taking jobs and waits for the running ones (graceful shutdown). */
  abstract drain(): Promise<void>;
}
