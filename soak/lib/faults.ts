import { sleep } from '../../bench/lib/procs';
import type { FaultKind, PlannedFault } from './args';
import type { PrivatePostgres, PrivateRedis } from './backends';
import type { ParleyProcess } from './cluster';

/** After a fault ends, sends still count towards it while clients reconnect and catch up. */
export const SETTLE_MS = 10_000;

export interface FaultRecord {
  kind: FaultKind;
  label: string;
  plannedAtSec: number;
  startedAt: number;
  /** When the fault was repaired (the backend or instance answers again). */
  endedAt?: number;
  detail: string;
  error?: string;
}

/** The phase a send belongs to: "steady", or the fault it was sent during. */
export class Phases {
  readonly faults: FaultRecord[] = [];

  at(t: number): string {
    for (const f of this.faults) {
      if (t >= f.startedAt && t <= (f.endedAt ?? Infinity) + SETTLE_MS) return f.label;
    }
    return 'steady';
  }
}

export interface FaultTargets {
  api: ParleyProcess[];
  redis: PrivateRedis;
  postgres: PrivatePostgres;
  downMs: number;
  pgStopMode: 'fast' | 'immediate';
  random: () => number;
  log: (message: string) => void;
  /** Processes the harness is restarting on purpose (the crash watcher leaves them alone). */
  restarting: Set<ParleyProcess>;
}

async function inject(kind: FaultKind, t: FaultTargets): Promise<string> {
  switch (kind) {
    case 'instance-kill': {
      const victim = t.api[Math.floor(t.random() * t.api.length)];
      t.restarting.add(victim);
      try {
        await victim.kill();
        await sleep(t.downMs);
        await victim.start();
        victim.restarts++;
      } finally {
        t.restarting.delete(victim);
      }
      return `SIGKILL ${victim.name}, restarted after ${t.downMs} ms`;
    }
    case 'redis-restart':
      await t.redis.stop();
      await sleep(t.downMs);
      await t.redis.startServer();
      return `Redis killed (no persistence: all its data gone), back after ${t.downMs} ms`;
    case 'postgres-restart':
      await t.postgres.stop(t.pgStopMode);
      await sleep(t.downMs);
      await t.postgres.startServer();
      return `PostgreSQL stopped (${t.pgStopMode}), started after ${t.downMs} ms`;
  }
}

/** Runs the planned faults at their times (relative to `start`); resolves when all are done. */
export async function runFaults(
  plan: PlannedFault[],
  start: number,
  phases: Phases,
  targets: FaultTargets,
  stopped: () => boolean,
): Promise<void> {
  const seen = new Map<FaultKind, number>();
  for (const planned of plan) {
    const wait = start + planned.atSec * 1000 - Date.now();
    if (wait > 0) await sleep(wait);
    if (stopped()) return;
    const n = (seen.get(planned.kind) ?? 0) + 1;
    seen.set(planned.kind, n);
    const record: FaultRecord = {
      kind: planned.kind,
      label: n > 1 ? `${planned.kind} #${n}` : planned.kind,
      plannedAtSec: planned.atSec,
      startedAt: Date.now(),
      detail: '',
    };
    phases.faults.push(record);
    targets.log(`fault: ${record.label} at ${((record.startedAt - start) / 1000).toFixed(1)} s`);
    try {
      record.detail = await inject(planned.kind, targets);
    } catch (error) {
      record.error = error instanceof Error ? error.message : String(error);
      targets.log(`fault ${record.label} failed: ${record.error}`);
    }
    record.endedAt = Date.now();
    targets.log(
      `fault: ${record.label} repaired after ${((record.endedAt - record.startedAt) / 1000).toFixed(1)} s: ${record.detail}`,
    );
  }
}
