import { Injectable, Logger, OnApplicationBootstrap, OnModuleDestroy } from '@nestjs/common';
import { AppConfig } from '../config/app-config';
import type { JobName } from './queue-names';

export interface PeriodicJob {
  name: JobName;
  everyMs: number;
  /** Must be safe to run twice and to run on several instances at once. */
  run(): Promise<void>;
}

/**
 * Periodic maintenance jobs registered by the modules that own them. Runs them in this
 * process on instances with the worker role.
 */
@Injectable()
export class PeriodicJobs implements OnApplicationBootstrap, OnModuleDestroy {
  private readonly logger = new Logger(PeriodicJobs.name);
  private readonly jobs: PeriodicJob[] = [];
  private readonly timers: NodeJS.Timeout[] = [];
  private readonly running = new Set<JobName>();

  constructor(private readonly config: AppConfig) {}

  register(job: PeriodicJob): void {
    this.jobs.push(job);
  }

  /** Runs one job now (tests, CLI); skipped if that job is already running here. */
  async runNow(name: JobName): Promise<void> {
    const job = this.jobs.find((j) => j.name === name);
    if (!job) throw new Error(`unknown job ${name}`);
    await this.execute(job);
  }

  onApplicationBootstrap(): void {
    if (!this.config.runsWorkers) return;
    for (const job of this.jobs) {
      const timer = setInterval(() => void this.execute(job), job.everyMs);
      timer.unref();
      this.timers.push(timer);
    }
  }

  private async execute(job: PeriodicJob): Promise<void> {
    if (this.running.has(job.name)) return;
    this.running.add(job.name);
    try {
      await job.run();
    } catch (error) {
      this.logger.error({ err: error, job: job.name }, 'periodic job failed');
    } finally {
      this.running.delete(job.name);
    }
  }

  onModuleDestroy(): void {
    for (const t of this.timers) clearInterval(t);
  }
}
