import { execFileSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';

/**
 * CPU used by each part of the system during a measurement, from /proc (Linux only;
 * elsewhere every figure is null). 100 means one core busy for the whole window.
 */

let clockTicks: number | undefined;

function ticksPerSecond(): number {
  if (clockTicks === undefined) {
    try {
      clockTicks = Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim()) || 100;
    } catch {
      clockTicks = 100;
    }
  }
  return clockTicks;
}

/** utime + stime of one process, in clock ticks; 0 if it is gone. */
function processTicks(pid: number): number {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // The command name may contain spaces: fields are counted after its closing parenthesis.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return Number(fields[11]) + Number(fields[12]);
  } catch {
    return 0;
  }
}

/** Pids of every process whose command name is one of `names` (e.g. postgres backends). */
export function pidsNamed(names: string[]): number[] {
  const pids: number[] = [];
  let entries: string[];
  try {
    entries = readdirSync('/proc');
  } catch {
    return pids;
  }
  for (const entry of entries) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const comm = readFileSync(`/proc/${entry}/comm`, 'utf8').trim();
      if (names.includes(comm)) pids.push(Number(entry));
    } catch {
      // gone meanwhile
    }
  }
  return pids;
}

/**
 * PostgreSQL processes that work for this run: the backends (and autovacuum workers) of
 * the bench database, plus the server's shared helpers (checkpointer, WAL writer, ...).
 * Backends of other databases on the same server (someone else's tests) are left out.
 */
export function postgresPidsFor(database: string | undefined): number[] {
  return pidsNamed(['postgres']).filter((pid) => {
    let title: string;
    try {
      title = readFileSync(`/proc/${pid}/cmdline`, 'utf8').replace(/\0/g, ' ');
    } catch {
      return false;
    }
    if (database && title.includes(database)) return true;
    const backend =
      /\d+\.\d+\.\d+\.\d+\(\d+\)|\[local\]|\[[0-9a-f:]+\]\(\d+\)|autovacuum worker/.test(title);
    return !backend;
  });
}

export type CpuGroups = Record<string, () => number[]>;
export type CpuUsage = Record<string, number | null>;

/** Busy ticks of the whole machine, all cores together, and its interrupt part (/proc/stat). */
function machineTicks(): { busy: number; interrupts: number } | undefined {
  try {
    const line = readFileSync('/proc/stat', 'utf8').split('\n')[0];
    const f = line.trim().split(/\s+/).slice(1).map(Number);
    // user nice system idle iowait irq softirq steal
    return { busy: f[0] + f[1] + f[2] + f[5] + f[6] + (f[7] ?? 0), interrupts: f[5] + f[6] };
  } catch {
    return undefined;
  }
}

/**
 * Samples the CPU ticks of named groups of processes; stop() gives percent of one core
 * per group, plus `machine` (everything on the machine, this harness and any other
 * load included), `interrupts` (kernel irq and softirq time, where loopback networking
 * is done) and `other` (machine minus the groups and interrupts).
 */
export class CpuMeter {
  private startTicks = new Map<string, Map<number, number>>();
  private startedAt = 0;
  private machineStart: { busy: number; interrupts: number } | undefined;

  constructor(private readonly groups: CpuGroups) {}

  start(): void {
    this.startedAt = Date.now();
    this.machineStart = machineTicks();
    this.startTicks = new Map();
    for (const [name, pids] of Object.entries(this.groups)) {
      this.startTicks.set(name, new Map(pids().map((pid) => [pid, processTicks(pid)])));
    }
  }

  stop(): CpuUsage {
    const seconds = (Date.now() - this.startedAt) / 1000;
    const usage: CpuUsage = {};
    const hz = ticksPerSecond();
    for (const [name, pids] of Object.entries(this.groups)) {
      const before = this.startTicks.get(name) ?? new Map<number, number>();
      let ticks = 0;
      let seen = false;
      for (const pid of new Set([...before.keys(), ...pids()])) {
        const now = processTicks(pid);
        if (now === 0 && !before.has(pid)) continue;
        seen = true;
        // A process that ended meanwhile reads 0: count nothing rather than a negative.
        ticks += Math.max(0, now - (before.get(pid) ?? 0));
      }
      usage[name] = seen && seconds > 0 ? Math.round((ticks / hz / seconds) * 1000) / 10 : null;
    }
    const machineEnd = machineTicks();
    if (this.machineStart !== undefined && machineEnd !== undefined && seconds > 0) {
      const percent = (ticks: number) => Math.round((ticks / hz / seconds) * 1000) / 10;
      const machine = percent(machineEnd.busy - this.machineStart.busy);
      const interrupts = percent(machineEnd.interrupts - this.machineStart.interrupts);
      const groups = Object.values(usage).reduce<number>((s, v) => s + (v ?? 0), 0);
      usage.machine = machine;
      // Kernel interrupt work (loopback networking runs in softirq) belongs to no process.
      usage.interrupts = interrupts;
      usage.other = Math.max(0, Math.round((machine - groups - interrupts) * 10) / 10);
    }
    return usage;
  }
}

/** Percent of one core the whole machine used over `ms` (everything running, not just us). */
export async function machineBusy(ms: number): Promise<number | null> {
  const before = machineTicks();
  const started = Date.now();
  await new Promise((resolve) => setTimeout(resolve, ms));
  const after = machineTicks();
  if (before === undefined || after === undefined) return null;
  const seconds = (Date.now() - started) / 1000;
  return Math.round(((after.busy - before.busy) / ticksPerSecond() / seconds) * 10) / 10;
}
