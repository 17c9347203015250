import { envVar } from './env';

/** In the order they run: connections first, on servers that have not served load yet. */
import type { AckMode } from './protocol';

export const SCENARIOS = ['connections', 'statements', 'latency', 'fanout', 'sync'] as const;
export type ScenarioName = (typeof SCENARIOS)[number];

export interface Options {
  scenarios: ScenarioName[];
  mode: 'quick' | 'full';
  embedded: boolean;
  /** The --size given on the command line (meaning depends on the scenario). */
  size?: number;
  /** Fixed 1:1 rates (msg/s) for the product and the baseline. */
  rates: number[];
  /** Seconds each fixed-rate step sends for. */
  stepSeconds: number;
  /** Seconds of discarded warm-up traffic before the first step on each server. */
  warmupSeconds: number;
  /** Sender/receiver pairs for the 1:1 scenario. */
  pairs: number;
  /** What 1:1 recipients ack (the main rows and the search). */
  acks: AckMode;
  /** Recipients ack per conversation once this long after the first unacked message (0: at once)... */
  ackWindowMs: number;
  /** ... or once this many are unacked. */
  ackMaxPending: number;
  /** Other ack modes measured at `variantRates` (fixed steps only). */
  ackVariants: AckMode[];
  variantRates: number[];
  /** Extra steps of the stepped search for the highest sustained rate (0 = no search). */
  searchSteps: number;
  /** Generator processes carrying load (the connections scenario may start more). */
  generators: number;
  /** Most sockets one generator holds (the file-descriptor limit applies per process). */
  socketsPerGenerator: number;
  /** Source addresses in 127.0.0.0/8 the sockets cycle through (127.0.0.2 ...). */
  sourceAddresses: number;
  p99LimitMs: number;
  bodyBytes: number;
  groupSize: number;
  fanoutRepeats: number;
  syncMessages: number;
  syncConversations: number;
  syncRepeats: number;
  connections: number;
  /** Seconds the idle connections are held before the second memory sample. */
  idleSeconds: number;
  statementSends: number;
  statementGroups: number[];
  databaseUrl: string;
  redisUrl: string;
  outDir: string;
  baseline: boolean;
  write: boolean;
  /** Where the Parley server writes a V8 CPU profile when it exits (off when unset). */
  cpuProfileDir?: string;
  /** Where the servers keep message history; cassandra: a fresh keyspace per server. */
  messageStore: 'postgres' | 'cassandra';
  cassandraContactPoints: string;
  /** Extra server settings (KEY=VALUE), recorded with the results. */
  serverEnv: Record<string, string>;
  /** Built server entry point. */
  entry: string;
  /** Seconds to wait for other processes to quieten down before starting (0: do not wait). */
  waitQuietSeconds: number;
  /** How the harness was invoked, for the record. */
  command: string;
}

const HELP = `Parley benchmark: product vs a bare Socket.IO relay, same run, same machine.

  npm run bench [-- options]

  --quick                 small sizes, finishes in under a minute
  --full                  full sizes (the default)
  --embedded              benchmark the embedded shape (PGlite, no Redis) instead of PostgreSQL + Redis
  --scenario a,b          run only these: ${SCENARIOS.join(', ')} (default: all)
  --size N                the size of the chosen scenario(s):
                            latency      one fixed rate in msg/s (no search)
                            fanout       group size (members, sender included)
                            sync         messages the offline device missed
                            connections  idle authenticated sockets
                            statements   sends per measurement
  --rates 1000,2000,...   fixed 1:1 rates (msg/s)
  --step-seconds S        seconds per fixed-rate step
  --pairs N               1:1 sender/receiver pairs
  --search-steps N        extra steps for the highest sustained rate (0: none)
  --acks MODE             what 1:1 recipients ack: delivered (default), read (delivered, then read), none
  --ack-window-ms MS      recipients ack the highest seq per conversation MS after the first
                          unacked message (default 20; 0: every message at once)
  --ack-max-pending N     ... or once N messages are unacked (default 50)
  --ack-variants a,b      other ack modes run at --variant-rates (default none,read; "" for none)
  --variant-rates R,...   fixed rates for the variants (default 1000 quick, 1000,5000 full)
  --p99-limit-ms MS       the sustained-rate bar (default 250)
  --repeats N             fan-out and sync repetitions
  --sync-conversations N  spread the missed messages over N conversations (default 1)
  --generators N          load-generator processes (default 2)
  --source-addresses N    client source addresses 127.0.0.2 ... (default 8)
  --body-bytes N          message body size (default 100)
  --no-baseline           skip the bare relay
  --no-write              print the table only, write nothing to docs/benchmarks
  --out DIR               output directory (default docs/benchmarks)
  --database-url URL      PostgreSQL server (default $DATABASE_URL or postgres://postgres@127.0.0.1:5432/postgres);
                          the harness creates and drops its own database there
  --redis-url URL         Redis (default $REDIS_URL or redis://127.0.0.1:6379)
  --message-store S       postgres (default) or cassandra: message history in the Cassandra at
                          --cassandra (default $CASSANDRA_CONTACT_POINTS or 127.0.0.1:19042)
  --server-env K=V        extra server setting (repeatable), e.g. DATABASE_POOL_SIZE=20
  --cpu-prof DIR          the Parley server writes a V8 CPU profile (.cpuprofile) into DIR on exit
  --entry FILE            built server entry (default dist/src/main.js)
  --wait-quiet S          before the run and before each measurement, wait up to S seconds
                          for other processes on the machine to go quiet
`;

interface Profile {
  rates: number[];
  variantRates: number[];
  stepSeconds: number;
  warmupSeconds: number;
  pairs: number;
  searchSteps: number;
  groupSize: number;
  fanoutRepeats: number;
  syncMessages: number;
  syncRepeats: number;
  connections: number;
  idleSeconds: number;
  statementSends: number;
  statementGroups: number[];
}

const PROFILES: Record<'quick' | 'full', Profile> = {
  quick: {
    rates: [1000, 5000],
    variantRates: [1000],
    stepSeconds: 2,
    warmupSeconds: 0.5,
    pairs: 100,
    searchSteps: 0,
    groupSize: 1024,
    fanoutRepeats: 5,
    syncMessages: 2000,
    syncRepeats: 1,
    connections: 512,
    idleSeconds: 0,
    statementSends: 50,
    statementGroups: [2, 100, 1024],
  },
  full: {
    rates: [1000, 2000, 5000, 10000],
    variantRates: [1000, 5000],
    stepSeconds: 10,
    warmupSeconds: 3,
    pairs: 500,
    searchSteps: 7,
    groupSize: 1024,
    fanoutRepeats: 20,
    syncMessages: 10000,
    syncRepeats: 3,
    connections: 20000,
    idleSeconds: 10,
    statementSends: 1000,
    statementGroups: [2, 100, 1024],
  },
};

/** A connection URL's password, if any, replaced before the command is written down. */
function hidePassword(arg: string): string {
  return arg.replace(/(\w+:\/\/[^:/@\s]+:)[^@/\s]+@/g, '$1***@');
}

function positiveInt(flag: string, raw: string | undefined): number {
  if (raw === undefined || !/^\d+$/.test(raw) || Number(raw) <= 0) {
    throw new Error(`${flag} needs a positive whole number, got ${JSON.stringify(raw)}`);
  }
  return Number(raw);
}

function wholeInt(flag: string, raw: string | undefined): number {
  if (raw === undefined || !/^\d+$/.test(raw)) {
    throw new Error(`${flag} needs a whole number, got ${JSON.stringify(raw)}`);
  }
  return Number(raw);
}

/** Parses the command line; returns undefined after printing help. */
export function parseArgs(argv: string[]): Options | undefined {
  const flags = new Map<string, string>();
  const serverEnv: Record<string, string> = {};
  const booleans = new Set(['--quick', '--full', '--embedded', '--no-baseline', '--no-write']);
  for (let i = 0; i < argv.length; i++) {
    let arg = argv[i];
    let value: string | undefined;
    const eq = arg.indexOf('=');
    if (arg.startsWith('--') && eq > 0) {
      value = arg.slice(eq + 1);
      arg = arg.slice(0, eq);
    }
    if (arg === '--help' || arg === '-h') {
      process.stdout.write(HELP);
      return undefined;
    }
    if (!arg.startsWith('--')) throw new Error(`unexpected argument ${arg} (see --help)`);
    if (booleans.has(arg)) {
      flags.set(arg, 'true');
      continue;
    }
    if (value === undefined) {
      value = argv[i + 1];
      i++;
      if (value === undefined) throw new Error(`${arg} needs a value`);
    }
    if (arg === '--server-env') {
      const at = value.indexOf('=');
      if (at <= 0) throw new Error('--server-env needs KEY=VALUE');
      serverEnv[value.slice(0, at)] = value.slice(at + 1);
    } else flags.set(arg, value);
  }
  const known = new Set([
    ...booleans,
    '--scenario',
    '--size',
    '--rates',
    '--step-seconds',
    '--pairs',
    '--search-steps',
    '--acks',
    '--ack-window-ms',
    '--ack-max-pending',
    '--ack-variants',
    '--variant-rates',
    '--p99-limit-ms',
    '--repeats',
    '--sync-conversations',
    '--generators',
    '--source-addresses',
    '--body-bytes',
    '--out',
    '--database-url',
    '--redis-url',
    '--message-store',
    '--cassandra',
    '--entry',
    '--wait-quiet',
    '--cpu-prof',
  ]);
  for (const key of flags.keys()) if (!known.has(key)) throw new Error(`unknown option ${key}`);
  if (flags.has('--quick') && flags.has('--full')) throw new Error('--quick or --full, not both');

  const messageStore = flags.get('--message-store') ?? 'postgres';
  if (messageStore !== 'postgres' && messageStore !== 'cassandra')
    throw new Error('--message-store is postgres or cassandra');

  const mode = flags.has('--quick') ? 'quick' : 'full';
  const profile = PROFILES[mode];
  const scenarioFlag = flags.get('--scenario');
  let scenarios: ScenarioName[] = [...SCENARIOS];
  if (scenarioFlag && scenarioFlag !== 'all') {
    scenarios = scenarioFlag.split(',').map((s) => {
      const name = s.trim() as ScenarioName;
      if (!SCENARIOS.includes(name))
        throw new Error(`unknown scenario ${s}; one of ${SCENARIOS.join(', ')}`);
      return name;
    });
  }
  const size = flags.has('--size') ? positiveInt('--size', flags.get('--size')) : undefined;
  const repeats = flags.has('--repeats')
    ? positiveInt('--repeats', flags.get('--repeats'))
    : undefined;
  const rates = flags.has('--rates')
    ? flags
        .get('--rates')!
        .split(',')
        .map((r) => positiveInt('--rates', r.trim()))
    : profile.rates;

  const ackMode = (flag: string, raw: string): AckMode => {
    if (raw !== 'none' && raw !== 'delivered' && raw !== 'read')
      throw new Error(`${flag}: none, delivered or read, got ${JSON.stringify(raw)}`);
    return raw;
  };
  const list = (flag: string) =>
    flags
      .get(flag)!
      .split(',')
      .map((v) => v.trim())
      .filter((v) => v);
  const positiveFlag = (flag: string, fallback: number) =>
    flags.has(flag) ? positiveInt(flag, flags.get(flag)) : fallback;
  const wholeFlag = (flag: string, fallback: number) =>
    flags.has(flag) ? wholeInt(flag, flags.get(flag)) : fallback;
  const acks = flags.has('--acks') ? ackMode('--acks', flags.get('--acks')!) : 'delivered';

  const options: Options = {
    scenarios,
    mode,
    embedded: flags.has('--embedded'),
    size,
    rates: size !== undefined && scenarios.includes('latency') ? [size] : rates,
    stepSeconds: positiveFlag('--step-seconds', profile.stepSeconds),
    warmupSeconds: profile.warmupSeconds,
    pairs: positiveFlag('--pairs', profile.pairs),
    acks,
    ackWindowMs: wholeFlag('--ack-window-ms', 20),
    ackMaxPending: positiveFlag('--ack-max-pending', 50),
    ackVariants: flags.has('--ack-variants')
      ? list('--ack-variants').map((v) => ackMode('--ack-variants', v))
      : size !== undefined
        ? []
        : (['none', 'read'] as AckMode[]).filter((m) => m !== acks),
    variantRates: flags.has('--variant-rates')
      ? list('--variant-rates').map((r) => positiveInt('--variant-rates', r))
      : profile.variantRates,
    searchSteps: flags.has('--search-steps')
      ? wholeInt('--search-steps', flags.get('--search-steps'))
      : size !== undefined
        ? 0
        : profile.searchSteps,
    generators: positiveFlag('--generators', 2),
    socketsPerGenerator: 5000,
    sourceAddresses: positiveFlag('--source-addresses', 8),
    p99LimitMs: positiveFlag('--p99-limit-ms', 250),
    bodyBytes: positiveFlag('--body-bytes', 100),
    groupSize: size !== undefined && scenarios.includes('fanout') ? size : profile.groupSize,
    fanoutRepeats: repeats ?? profile.fanoutRepeats,
    syncMessages: size !== undefined && scenarios.includes('sync') ? size : profile.syncMessages,
    syncConversations: positiveFlag('--sync-conversations', 1),
    syncRepeats: repeats ?? profile.syncRepeats,
    connections:
      size !== undefined && scenarios.includes('connections') ? size : profile.connections,
    idleSeconds: profile.idleSeconds,
    statementSends:
      size !== undefined && scenarios.includes('statements') ? size : profile.statementSends,
    statementGroups: profile.statementGroups,
    databaseUrl:
      flags.get('--database-url') ??
      envVar('DATABASE_URL') ??
      'postgres://postgres@127.0.0.1:5432/postgres',
    redisUrl: flags.get('--redis-url') ?? envVar('REDIS_URL') ?? 'redis://127.0.0.1:6379',
    outDir: flags.get('--out') ?? 'docs/benchmarks',
    baseline: !flags.has('--no-baseline'),
    write: !flags.has('--no-write'),
    messageStore,
    cassandraContactPoints:
      flags.get('--cassandra') ?? envVar('CASSANDRA_CONTACT_POINTS') ?? '127.0.0.1:19042',
    serverEnv,
    cpuProfileDir: flags.get('--cpu-prof'),
    entry: flags.get('--entry') ?? 'dist/src/main.js',
    waitQuietSeconds: wholeFlag('--wait-quiet', 0),
    command: (() => {
      const shown = argv.map(hidePassword);
      return envVar('npm_lifecycle_event') === 'bench'
        ? ['npm run bench', ...(shown.length ? ['--', ...shown] : [])].join(' ')
        : ['node dist/bench/run.js', ...shown].join(' ');
    })(),
  };
  if (options.sourceAddresses > 250) throw new Error('--source-addresses: at most 250');
  if (options.groupSize < 2 || options.groupSize > 1024) {
    throw new Error('fanout size: 2 to 1,024 members (the product caps groups at 1,024)');
  }
  if (options.syncConversations > options.syncMessages) {
    throw new Error('--sync-conversations must not exceed the number of messages');
  }
  return options;
}
