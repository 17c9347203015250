/**
 * `npm run bench`: Parley against a bare Socket.IO relay, on this machine, in one run.
 * See docs/benchmarks/README.md for what each figure means and how it is measured.
 */
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { homedir, tmpdir } from 'node:os';
import { dirname, join, relative, resolve } from 'node:path';
import { parseArgs, SCENARIOS, type Options, type ScenarioName } from './lib/args';
import { renderSvg } from './lib/chart';
import type { BenchContext } from './lib/context';
import { closeHttpAgent } from './lib/http';
import { gitState, machineInfo, packageVersions } from './lib/machine';
import { Cleanup, sleep } from './lib/procs';
import { CpuMeter, machineBusy, pidsNamed, postgresPidsFor, type CpuGroups } from './lib/cpu';
import { signInMany, type BenchUser } from './lib/users';
import {
  barsText,
  buildTable,
  chartSpec,
  evaluateBars,
  textTable,
  type BenchReport,
  type ScenarioResults,
} from './lib/report';
import { markdownReport } from './lib/report-markdown';
import {
  Generator,
  postgresVersion,
  ProductServer,
  redactUrl,
  redisVersion,
  RelayServer,
  removeAbandonedDataDirs,
  SERVER_NODE_FLAGS,
  cpuProfileFlags,
  sourceAddresses,
} from './lib/servers';
import { connectionsScenario } from './scenarios/connections';
import { fanoutScenario } from './scenarios/fanout';
import { latencyScenario } from './scenarios/latency';
import { statementsScenario } from './scenarios/statements';
import { syncScenario } from './scenarios/sync';

const started = Date.now();

function log(message: string): void {
  const t = ((Date.now() - started) / 1000).toFixed(1).padStart(6);
  process.stderr.write(`[${t}s] ${message}\n`);
}

/** The project root: the nearest directory above this file with Parley's package.json. */
function projectRoot(): string {
  let dir = __dirname;
  for (let i = 0; i < 6; i++) {
    const pkg = join(dir, 'package.json');
    if (
      existsSync(pkg) &&
      (JSON.parse(readFileSync(pkg, 'utf8')) as { name?: string }).name === 'parley'
    ) {
      return dir;
    }
    dir = dirname(dir);
  }
  return process.cwd();
}

/** Error text for the result files: no machine paths (project root, temp dir, home). */
function withoutPaths(text: string, root: string): string {
  let out = text.split(root).join('.');
  for (const dir of [tmpdir(), homedir()]) if (dir.length > 1) out = out.split(dir).join('~');
  return out.length > 2000 ? `${out.slice(0, 2000)}...` : out;
}

function stamp(date: Date): string {
  const p = (n: number) => String(n).padStart(2, '0');
  return `${date.getFullYear()}-${p(date.getMonth() + 1)}-${p(date.getDate())}-${p(date.getHours())}${p(date.getMinutes())}`;
}

/** Above this (percent of one core) the machine counts as busy before a run. */
const QUIET_PERCENT = 25;

const needsBaseline: ScenarioName[] = ['latency', 'fanout', 'connections'];

async function run(
  options: Options,
  cleanup: Cleanup,
  interrupted: () => boolean,
): Promise<number> {
  const root = projectRoot();
  const entry = resolve(root, options.entry);
  if (!existsSync(entry)) throw new Error(`${options.entry} not found: run npm run build first`);
  const shape: BenchReport['shape'] = options.embedded
    ? options.messageStore === 'cassandra'
      ? 'embedded-cassandra'
      : 'embedded'
    : options.messageStore === 'cassandra'
      ? 'scaled-cassandra'
      : 'scaled';
  const runId = Date.now().toString(36).slice(-5);

  let pg: string | undefined;
  let redis: string | undefined;
  if (!options.embedded) {
    pg = await postgresVersion(options.databaseUrl);
    if (!pg) throw new Error(`PostgreSQL not reachable at ${redactUrl(options.databaseUrl)}`);
    redis = await redisVersion(options.redisUrl);
    if (!redis) throw new Error(`Redis not reachable at ${redactUrl(options.redisUrl)}`);
  }
  const machine = machineInfo({ postgres: pg, redis });
  // Other processes on the machine skew every figure: say so, and optionally wait them out.
  const waitQuiet = async (label: string, waitSeconds: number): Promise<number | null> => {
    let busy = await machineBusy(500);
    const deadline = Date.now() + waitSeconds * 1000;
    let said = false;
    while (busy !== null && busy > QUIET_PERCENT && Date.now() < deadline) {
      if (!said) log(`${label}: machine busy (${busy}% of a core used by others); waiting`);
      said = true;
      await sleep(3000);
      busy = await machineBusy(500);
    }
    if (busy !== null && busy > QUIET_PERCENT) {
      log(`${label}: warning: other processes use ${busy}% of a core; figures will be noisy`);
    }
    return busy;
  };
  const busy = await waitQuiet('start', options.waitQuietSeconds);
  log(
    `${shape} shape, ${options.mode} mode, scenarios ${options.scenarios.join(', ')}; ${machine.cores} cores (${machine.cpuModel}), Node ${machine.node}`,
  );

  removeAbandonedDataDirs();
  log('starting Parley');
  const product = await ProductServer.start(
    {
      entry,
      embedded: options.embedded,
      databaseUrl: options.databaseUrl,
      redisUrl: options.redisUrl,
      extraEnv: options.serverEnv,
      cpuProfileDir: options.cpuProfileDir,
      cassandra: options.messageStore === 'cassandra' ? options.cassandraContactPoints : undefined,
    },
    cleanup,
  );
  let baseline: RelayServer | undefined;
  if (options.baseline && options.scenarios.some((s) => needsBaseline.includes(s))) {
    log('starting the bare Socket.IO relay');
    baseline = await RelayServer.start(cleanup);
  }

  const addresses = sourceAddresses(options.sourceAddresses);
  const gens: Generator[] = [];
  const pool: BenchUser[] = [];
  const signIns = { users: 0, seconds: 0 };
  const ctx: BenchContext = {
    options,
    cleanup,
    product,
    baseline,
    runId,
    log,
    async users(count: number) {
      if (pool.length < count) {
        const more = count - pool.length;
        const { users, ms } = await signInMany(ctx, more);
        pool.push(...users);
        signIns.users += more;
        signIns.seconds += ms / 1000;
        log(
          `signed in ${more} users in ${(ms / 1000).toFixed(1)} s (${Math.round(more / (ms / 1000))}/s)`,
        );
      }
      return pool.slice(0, count);
    },
    waitQuiet(label: string) {
      return options.waitQuietSeconds > 0
        ? waitQuiet(label, options.waitQuietSeconds)
        : Promise.resolve(null);
    },
    cpuMeter(server) {
      const idle = server === product ? baseline : product;
      const groups: CpuGroups = {
        server: () => [server.pid],
        generators: () => gens.map((g) => g.pid),
        // This process and the server not under test (idle meanwhile).
        harness: () => (idle ? [process.pid, idle.pid] : [process.pid]),
      };
      if (!options.embedded) {
        groups.postgres = () => postgresPidsFor(product.database);
        groups.redis = () => pidsNamed(['redis-server']);
      }
      return new CpuMeter(groups);
    },
    async generators(count: number) {
      while (gens.length < count) gens.push(await Generator.start(gens.length, addresses, cleanup));
      return gens;
    },
  };
  await ctx.generators(options.generators);

  const results: ScenarioResults = {};
  const errors: BenchReport['errors'] = [];
  const order = SCENARIOS.filter((s) => options.scenarios.includes(s));
  for (const scenario of order) {
    if (interrupted()) throw new Error('interrupted');
    const t0 = Date.now();
    log(`--- ${scenario}`);
    try {
      product.assertRunning();
      if (scenario === 'statements') results.statements = await statementsScenario(ctx);
      if (scenario === 'latency') results.latency = await latencyScenario(ctx);
      if (scenario === 'fanout') results.fanout = await fanoutScenario(ctx);
      if (scenario === 'sync') results.sync = await syncScenario(ctx);
      if (scenario === 'connections') results.connections = await connectionsScenario(ctx);
    } catch (error) {
      const message = error instanceof Error ? error.message : String(error);
      log(`${scenario} FAILED: ${message}`);
      const tail = product
        .logTail()
        .split('\n')
        .slice(-6)
        .map((line) => (line.length > 400 ? `${line.slice(0, 400)}...` : line))
        .join('\n');
      if (tail.trim()) log(`last Parley output:\n${tail}`);
      errors.push({ scenario, message: withoutPaths(message, root) });
      // Leave no sockets behind for the next scenario.
      await Promise.all(
        gens.map((g) => g.request({ cmd: 'close' }, 30_000).catch(() => undefined)),
      );
    }
    log(`--- ${scenario} done in ${((Date.now() - t0) / 1000).toFixed(1)} s`);
  }

  if (interrupted()) throw new Error('interrupted');
  const table = buildTable(results);
  const bars = evaluateBars(results);
  const report: BenchReport = {
    kind: 'parley-benchmark',
    formatVersion: 1,
    startedAt: new Date(started).toISOString(),
    durationSeconds: Math.round((Date.now() - started) / 100) / 10,
    command: options.command,
    mode: options.mode,
    shape,
    machine,
    packages: packageVersions(root),
    git: gitState(root),
    setup: {
      serverSettings: product.settings,
      serverNodeFlags: [
        ...SERVER_NODE_FLAGS,
        ...cpuProfileFlags(options.cpuProfileDir),
        '-r dist/bench/server-hooks.js',
      ],
      baseline: baseline
        ? 'bare Socket.IO relay (bench/relay.ts): same socket.io, same server options, no auth, no storage'
        : 'not run',
      generators: gens.length,
      sourceAddresses: `${addresses[0]} .. ${addresses[addresses.length - 1]}`,
      bodyBytes: options.bodyBytes,
      pairs: options.pairs,
      stepSeconds: options.stepSeconds,
      warmupSeconds: options.warmupSeconds,
      transport: 'websocket only, loopback',
      machineBusyBeforeRunPercent: busy,
      signIns: {
        users: signIns.users,
        seconds: Math.round(signIns.seconds * 10) / 10,
        perSecond: signIns.seconds ? Math.round(signIns.users / signIns.seconds) : null,
        inParallel: 48,
      },
    },
    scenarios: results,
    table,
    bars,
    errors,
  };

  process.stdout.write(`\n${textTable(table)}\n\n${barsText(bars)}\n`);
  if (errors.length) {
    process.stdout.write(
      `\nScenarios that failed:\n${errors.map((e) => `  ${e.scenario}: ${e.message}`).join('\n')}\n`,
    );
  }

  if (options.write && errors.length === order.length) {
    log('every scenario failed: no result files written');
  } else if (options.write) {
    const outDir = resolve(root, options.outDir);
    mkdirSync(outDir, { recursive: true });
    const suffix = order.length === SCENARIOS.length ? '' : `-${order.join('-')}`;
    const base = `${stamp(new Date(started))}-${shape}-${options.mode}${suffix}`;
    const written: string[] = [];
    let chartFile: string | undefined;
    if (results.latency) {
      const spec = chartSpec(
        results.latency,
        `${new Date(started).toISOString().slice(0, 10)}, ${shape} shape, ${machine.cores} cores shared by servers, databases and generators, ${results.latency.stepSeconds} s per step`,
      );
      writeFileSync(join(outDir, `${base}.svg`), renderSvg(spec));
      written.push(`${base}.svg`);
      chartFile = `${base}.svg`;
    }
    writeFileSync(join(outDir, `${base}.json`), `${JSON.stringify(report, null, 2)}\n`);
    written.push(`${base}.json`);
    writeFileSync(join(outDir, `${base}.md`), markdownReport(report, chartFile));
    written.push(`${base}.md`);
    log(`wrote ${written.map((f) => relative(root, join(outDir, f))).join(', ')}`);
  }
  log(`finished in ${((Date.now() - started) / 1000).toFixed(1)} s`);
  return errors.length ? 1 : 0;
}

async function main(): Promise<void> {
  let options: Options | undefined;
  try {
    options = parseArgs(process.argv.slice(2));
  } catch (error) {
    process.stderr.write(`${error instanceof Error ? error.message : String(error)}\n`);
    process.exit(2);
  }
  if (!options) return;
  const cleanup = new Cleanup();
  let interrupted = false;
  const onSignal = (signal: NodeJS.Signals) => {
    if (interrupted) return;
    interrupted = true;
    log(`${signal}: stopping everything`);
    void cleanup.runAll().finally(() => process.exit(130));
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  let code = 1;
  try {
    code = await run(options, cleanup, () => interrupted);
  } catch (error) {
    log(`benchmark failed: ${error instanceof Error ? error.message : String(error)}`);
  } finally {
    log('stopping servers and generators, dropping the bench database');
    await cleanup.runAll();
    closeHttpAgent();
  }
  process.exit(code);
}

void main();
