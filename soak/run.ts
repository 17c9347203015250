import { writeFileSync } from 'node:fs';
import { closeHttpAgent } from '../bench/lib/http';
import { envVar } from '../bench/lib/env';
import { Cleanup, freePort, sleep } from '../bench/lib/procs';
import { parseSoakArgs, rng, type SoakOptions } from './lib/args';
import { PrivatePostgres, PrivateRedis } from './lib/backends';
import { type ParleyProcess, startCluster } from './lib/cluster';
import type { SoakDevice } from './lib/device';
import { Phases, runFaults } from './lib/faults';
import { Ledger } from './lib/ledger';
import { buildPopulation, type SoakUser } from './lib/population';
import { RoundRobinProxy } from './lib/proxy';
import { failuresOf, faultsForReport, formatResult, type SoakResult } from './lib/report';

const started = Date.now();
const log = (message: string) =>
  process.stdout.write(
    `[${((Date.now() - started) / 1000).toFixed(1).padStart(6)} s] ${message}\n`,
  );

function exponential(mean: number, random: () => number): number {
  return -Math.log(1 - random()) * mean;
}

/**
 * Random churn: a connected device closes after an exponential time; mostly it comes back
 * after a few seconds, sometimes the user switches to another of their devices instead.
 */
class Churn {
  private readonly timers = new Set<NodeJS.Timeout>();
  private stopped = false;

  constructor(
    private readonly meanMs: number,
    private readonly random: () => number,
  ) {}

  private later(ms: number, fn: () => void): void {
    const timer = setTimeout(() => {
      this.timers.delete(timer);
      if (!this.stopped) fn();
    }, ms);
    this.timers.add(timer);
  }

  online(user: SoakUser, device: SoakDevice): void {
    device.goOnline();
    this.later(exponential(this.meanMs, this.random), () => this.leave(user, device));
  }

  private leave(user: SoakUser, device: SoakDevice): void {
    device.goOffline();
    const others = user.devices.filter((d) => d !== device && !d.wantOnline);
    if (others.length && this.random() < 0.3) {
      this.online(user, others[Math.floor(this.random() * others.length)]);
      this.later(8000 + this.random() * 12_000, () => this.online(user, device));
    } else {
      this.later(1000 + this.random() * 7000, () => this.online(user, device));
    }
  }

  stop(): void {
    this.stopped = true;
    for (const t of this.timers) clearTimeout(t);
    this.timers.clear();
  }
}

async function waitUntil(check: () => boolean, timeoutMs: number): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (check()) return true;
    await sleep(250);
  }
  return check();
}

async function soak(options: SoakOptions, cleanup: Cleanup): Promise<SoakResult> {
  const random = rng(options.seed);
  log(`seed ${options.seed}; starting private PostgreSQL and Redis`);
  const postgres = await PrivatePostgres.start(cleanup);
  const redis = await PrivateRedis.start(cleanup);
  log(
    `PostgreSQL on ${postgres.port}, Redis on ${redis.port}; starting ${options.instances} instances + worker`,
  );
  const { api, worker } = await startCluster(
    {
      entry: options.entry,
      databaseUrl: postgres.url,
      redisUrl: redis.url,
      instances: options.instances,
    },
    cleanup,
  );
  const proxy = await RoundRobinProxy.start(await freePort(), () => api.map((p) => p.port));
  cleanup.add('proxy', () => proxy.close());
  log(`proxy on ${proxy.port} -> ${api.map((p) => p.port).join(', ')}`);

  const phases = new Phases();
  const ledger = new Ledger((t) => phases.at(t));
  const clientEvents = new Map<string, number>();
  const events = {
    log: (m: string) => options.verbose && log(m),
    counter: (name: string) => clientEvents.set(name, (clientEvents.get(name) ?? 0) + 1),
  };
  const { users, conversations } = await buildPopulation({
    url: proxy.url,
    clients: options.clients,
    random,
    ledger,
    events,
  });
  const devices = users.flatMap((u) => u.devices);
  cleanup.add('clients', () => devices.forEach((d) => d.stop()));
  log(`${users.length} users, ${devices.length} devices, ${conversations.length} conversations`);

  // Crashes the harness did not cause: recorded, and the process is started again.
  const restarting = new Set<ParleyProcess>();
  const unexpectedExits: string[] = [];
  let watching = true;
  const watcher = (async () => {
    while (watching) {
      for (const p of [...api, worker]) {
        if (!restarting.has(p) && !p.running) {
          const tail = p.logTail();
          const firstError = tail.split('\n').find((l) => /error/i.test(l)) ?? '';
          unexpectedExits.push(`${p.name} ${p.describe()}: ${firstError.trim().slice(0, 300)}`);
          if (options.verbose) log(tail);
          log(`${p.name} ${p.describe()} unexpectedly; starting it again`);
          restarting.add(p);
          await p.start().catch((e: unknown) => log(`restart of ${p.name} failed: ${String(e)}`));
          restarting.delete(p);
        }
      }
      await sleep(1000);
    }
  })();

  const churn = new Churn(options.churnSec * 1000, random);
  for (const user of users) {
    user.devices.forEach((d, i) => {
      if (i === 0 || random() < 0.5) churn.online(user, d);
    });
  }
  await waitUntil(() => devices.every((d) => !d.wantOnline || d.synced), 60_000);
  log(
    `${devices.filter((d) => d.connected).length} devices online; steady phase for ${options.minutes} min`,
  );

  const steadyStart = Date.now();
  const steadyMs = options.minutes * 60_000;
  let issued = 0;
  let skipped = 0;
  const active = conversations.filter((c) => c.memberUserIds.length > 1);
  const byId = new Map(users.map((u) => [u.userId, u]));
  const sender = setInterval(() => {
    const due = Math.floor((options.rate * (Date.now() - steadyStart)) / 1000) - issued;
    for (let i = 0; i < due; i++) {
      issued++;
      let sent = false;
      for (let attempt = 0; attempt < 5 && !sent; attempt++) {
        const c = active[Math.floor(random() * active.length)];
        const user = byId.get(c.memberUserIds[Math.floor(random() * c.memberUserIds.length)]);
        const online = user?.devices.filter((d) => d.connected) ?? [];
        if (!online.length) continue;
        online[Math.floor(random() * online.length)].send(c.id);
        sent = true;
      }
      if (!sent) skipped++;
    }
  }, 50);
  const progress = setInterval(() => {
    const c = ledger.counts();
    log(
      `sent ${c.sent}, acked ${c.acked}, delivered ${c.delivered}/${c.expectedDeliveries}, ` +
        `online ${devices.filter((d) => d.connected).length}/${devices.length}`,
    );
  }, 15_000);

  let steadyOver = false;
  const faultsDone = runFaults(
    options.faults,
    steadyStart,
    phases,
    {
      api,
      redis,
      postgres,
      downMs: options.downSec * 1000,
      pgStopMode: options.pgStopMode,
      random,
      log,
      restarting,
    },
    () => steadyOver,
  );
  await sleep(steadyMs);
  steadyOver = true;
  clearInterval(sender);
  await faultsDone;
  churn.stop();
  log(`steady phase over (${skipped} sends skipped: no device of the sender online); draining`);

  // Drain: every device comes online, finishes its outbox and syncs.
  for (const d of devices) d.goOnline();
  const drained = await waitUntil(
    () => devices.every((d) => d.connected && d.synced && d.pendingSends === 0),
    options.drainSec * 1000,
  );
  if (!drained) {
    const stuck = devices.filter((d) => !(d.connected && d.synced && d.pendingSends === 0));
    log(`drain: ${stuck.length} devices not settled after ${options.drainSec} s`);
  }
  await sleep(3000);
  // A last sync everywhere collects whatever live delivery missed.
  for (let round = 0; round < 3; round++) {
    const results = await Promise.all(devices.map((d) => d.syncAll()));
    if (results.every(Boolean)) break;
    await sleep(2000);
  }
  clearInterval(progress);
  watching = false;
  await watcher;

  const counts = ledger.counts();
  const failures = failuresOf(counts, unexpectedExits, phases.faults);
  const postgresVersion = postgres.binDir.split('/').slice(-2, -1)[0];
  return {
    command: options.command,
    seed: options.seed,
    startedAt: new Date(started).toISOString(),
    wallSeconds: Math.round((Date.now() - started) / 1000),
    setup: {
      clients: users.length,
      devices: devices.length,
      directConversations: conversations.filter((c) => c.kind === 'direct').length,
      groups: conversations.filter((c) => c.kind === 'group').length,
      instances: api.length,
      workers: 1,
      minutes: options.minutes,
      ratePerSec: options.rate,
      postgres: `PostgreSQL ${postgresVersion} (private cluster, stop mode ${options.pgStopMode})`,
      redis: 'redis-server (private, no persistence)',
    },
    faults: faultsForReport(phases.faults, steadyStart),
    unexpectedExits,
    clientEvents: Object.fromEntries(clientEvents),
    counts,
    pass: failures.length === 0,
    failures,
  };
}

async function main(): Promise<void> {
  const invokedAs =
    envVar('npm_lifecycle_event') === 'soak' ? 'npm run soak --' : 'node dist/soak/run.js';
  const options = parseSoakArgs(process.argv.slice(2), invokedAs);
  if (!options) return;
  const cleanup = new Cleanup();
  const onSignal = () => {
    void cleanup.runAll().then(() => process.exit(130));
  };
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  let result: SoakResult;
  try {
    result = await soak(options, cleanup);
  } finally {
    await cleanup.runAll();
    closeHttpAgent();
  }
  process.stdout.write(`${formatResult(result, options)}\n`);
  if (options.json) {
    writeFileSync(options.json, `${JSON.stringify(result, null, 2)}\n`);
    log(`result written to ${options.json}`);
  }
  process.exitCode = result.pass ? 0 : 1;
}

main().then(
  () => process.exit(),
  (error: unknown) => {
    process.stderr.write(`soak failed: ${error instanceof Error ? error.stack : String(error)}\n`);
    process.exit(2);
  },
);
