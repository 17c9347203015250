import { parseArgs } from 'node:util';

export const FAULT_KINDS = ['instance-kill', 'redis-restart', 'postgres-restart'] as const;
export type FaultKind = (typeof FAULT_KINDS)[number];

export interface PlannedFault {
  kind: FaultKind;
  /** Seconds after the steady phase starts. */
  atSec: number;
}

export interface SoakOptions {
  clients: number;
  instances: number;
  minutes: number;
  /** Total messages per second over all clients. */
  rate: number;
  seed: number;
  faults: PlannedFault[];
  /** How long a restarted backend stays down before it comes back. */
  downSec: number;
  pgStopMode: 'fast' | 'immediate';
  /** Quiet period at the end: every device reconnects and syncs; nothing new is sent. */
  drainSec: number;
  /** Mean seconds between a connected device's random disconnects. */
  churnSec: number;
  json?: string;
  entry: string;
  verbose: boolean;
  command: string;
}

const HELP = `Parley chaos soak: clients on several devices over several instances behind a
round-robin proxy, while instances are SIGKILLed and Redis and PostgreSQL restart.
It starts private Redis and PostgreSQL servers on free loopback ports.

  npm run soak -- [options]

  --short                  2 instances, 100 clients, 2 minutes, one fault of each kind
  --clients N              simulated users, each with 1-3 devices (default 100)
  --instances M            API instances behind the proxy (default 2); one worker besides
  --minutes T              length of the steady phase (default 2)
  --rate R                 total messages per second over all clients (default 20)
  --seed S                 random seed: same seed, same users, groups, sends and fault times
  --faults LIST            kind@seconds,... e.g. instance-kill@30,redis-restart@60
                           (kinds: ${FAULT_KINDS.join(', ')}); default: one of each kind at
                           random times, more on longer runs (one of each per 10 minutes)
  --no-faults              run without faults
  --down-seconds S         how long Redis / PostgreSQL / a killed instance stay down (default 3)
  --pg-stop-mode MODE      fast or immediate (default immediate: a crash, then recovery)
  --drain-seconds S        quiet period at the end (default 30)
  --churn-seconds S        mean seconds between a device's random disconnects (default 40)
  --json FILE              also write the result as JSON
  --entry FILE             built server entry (default dist/src/main.js)
  --verbose                print every fault step and client error
`;

/** A small deterministic generator (mulberry32): the seed fixes the whole run's choices. */
export function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function number(flag: string, raw: string | undefined, fallback: number, min: number): number {
  if (raw === undefined) return fallback;
  const value = Number(raw);
  if (!Number.isFinite(value) || value < min) {
    throw new Error(`--${flag} needs a number of at least ${min}, got ${JSON.stringify(raw)}`);
  }
  return value;
}

function parseFaultList(raw: string, steadySec: number): PlannedFault[] {
  return raw
    .split(',')
    .filter((s) => s.trim())
    .map((item) => {
      const [kind, at] = item.trim().split('@');
      if (!(FAULT_KINDS as readonly string[]).includes(kind)) {
        throw new Error(`--faults: unknown kind ${kind}; one of ${FAULT_KINDS.join(', ')}`);
      }
      const atSec = Number(at);
      if (!Number.isFinite(atSec) || atSec < 0 || atSec >= steadySec) {
        throw new Error(`--faults: ${item} needs a time in seconds within the steady phase`);
      }
      return { kind: kind as FaultKind, atSec };
    })
    .sort((a, b) => a.atSec - b.atSec);
}

/**
 * One of each kind per 10 minutes (at least one each), in random order, each at a random
 * time inside its own slot so that one fault has settled before the next begins.
 */
export function randomFaults(steadySec: number, random: () => number): PlannedFault[] {
  const rounds = Math.max(1, Math.floor(steadySec / 600));
  const kinds: FaultKind[] = [];
  for (let r = 0; r < rounds; r++) {
    const round = [...FAULT_KINDS];
    for (let i = round.length - 1; i > 0; i--) {
      const j = Math.floor(random() * (i + 1));
      [round[i], round[j]] = [round[j], round[i]];
    }
    kinds.push(...round);
  }
  // Leave the first 10 s as a steady baseline and the last 10 s to settle.
  const start = Math.min(10, steadySec * 0.1);
  const slot = (steadySec - start - Math.min(10, steadySec * 0.1)) / kinds.length;
  return kinds.map((kind, i) => ({
    kind,
    atSec: Math.round((start + slot * i + random() * slot * 0.4) * 10) / 10,
  }));
}

/** Parses the command line; returns undefined after printing help. */
export function parseSoakArgs(argv: string[], invokedAs: string): SoakOptions | undefined {
  const { values } = parseArgs({
    args: argv,
    strict: true,
    allowPositionals: false,
    options: {
      help: { type: 'boolean', short: 'h' },
      short: { type: 'boolean' },
      clients: { type: 'string' },
      instances: { type: 'string' },
      minutes: { type: 'string' },
      rate: { type: 'string' },
      seed: { type: 'string' },
      faults: { type: 'string' },
      'no-faults': { type: 'boolean' },
      'down-seconds': { type: 'string' },
      'pg-stop-mode': { type: 'string' },
      'drain-seconds': { type: 'string' },
      'churn-seconds': { type: 'string' },
      json: { type: 'string' },
      entry: { type: 'string' },
      verbose: { type: 'boolean' },
    },
  });
  if (values.help) {
    process.stdout.write(HELP);
    return undefined;
  }
  if (values.short && (values.clients || values.instances || values.minutes)) {
    throw new Error('--short fixes --clients, --instances and --minutes; give one or the other');
  }
  const clients = Math.floor(number('clients', values.clients, 100, 2));
  const instances = Math.floor(number('instances', values.instances, 2, 1));
  const minutes = number('minutes', values.minutes, 2, 0.25);
  const seed = Math.floor(number('seed', values.seed, Date.now() % 1_000_000, 0));
  const steadySec = minutes * 60;
  const mode = values['pg-stop-mode'] ?? 'immediate';
  if (mode !== 'fast' && mode !== 'immediate') {
    throw new Error('--pg-stop-mode: fast or immediate');
  }
  if (values.faults !== undefined && values['no-faults']) {
    throw new Error('--faults or --no-faults, not both');
  }
  const faults = values['no-faults']
    ? []
    : values.faults !== undefined
      ? parseFaultList(values.faults, steadySec)
      : randomFaults(steadySec, rng(seed ^ 0x5eed));
  return {
    clients,
    instances,
    minutes,
    rate: number('rate', values.rate, 20, 0.1),
    seed,
    faults,
    downSec: number('down-seconds', values['down-seconds'], 3, 0),
    pgStopMode: mode,
    drainSec: number('drain-seconds', values['drain-seconds'], 30, 5),
    churnSec: number('churn-seconds', values['churn-seconds'], 40, 2),
    json: values.json,
    entry: values.entry ?? 'dist/src/main.js',
    verbose: values.verbose ?? false,
    command: `${invokedAs} ${argv.join(' ')}`.trim(),
  };
}
