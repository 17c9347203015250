import type { BenchContext } from '../lib/context';
import { systems } from '../lib/context';
import { sleep } from '../lib/procs';
import type { StatsResult } from '../lib/protocol';
import type { MemorySample, ServerUnderTest } from '../lib/servers';
import { closeAll, connectClients, type ConnectSummary } from '../lib/sockets';
import { clientSpec, usersFor } from '../lib/users';

export interface ConnectionsSystemResult {
  requested: number;
  connected: number;
  /** Still connected after the idle hold. */
  held: number;
  disconnects: number;
  connect: ConnectSummary;
  /** After GC, before the sockets (users already signed in). */
  before: MemorySample;
  /** After GC, all sockets open. */
  after: MemorySample;
  /** After GC, at the end of the idle hold. */
  afterIdle: MemorySample;
  heapBytesPerConnection: number;
  rssBytesPerConnection: number;
}

export interface ConnectionsResult {
  target: number;
  /** The number actually tried, after the open-file cap. */
  tried: number;
  cappedBy?: string;
  idleSeconds: number;
  method: string;
  product: ConnectionsSystemResult;
  baseline?: ConnectionsSystemResult;
}

const FD_HEADROOM = 150;

async function runSystem(
  ctx: BenchContext,
  server: ServerUnderTest,
  count: number,
): Promise<ConnectionsSystemResult> {
  const perGen = ctx.options.socketsPerGenerator;
  const gens = await ctx.generators(Math.max(ctx.options.generators, Math.ceil(count / perGen)));
  ctx.log(`connections/${server.name}: ${count} idle sockets`);
  const users = await usersFor(ctx, server, count);
  const settleMs = ctx.options.mode === 'quick' ? 300 : 1500;
  const before = await server.memoryAfterGc(settleMs);
  const assignments = users.map((user, i) => ({
    gen: i % gens.length,
    client: clientSpec(`c${i}`, user),
  }));
  let connect: ConnectSummary;
  try {
    connect = await connectClients(gens, server.url, assignments, 64);
    ctx.log(
      `connections/${server.name}: ${connect.connected}/${count} connected in ${connect.seconds.toFixed(1)} s${connect.failed ? ` (${connect.failed} failed: ${connect.errors[0]})` : ''}`,
    );
    await sleep(ctx.options.mode === 'quick' ? 500 : 2000);
    const after = await server.memoryAfterGc(settleMs);
    let afterIdle = after;
    if (ctx.options.idleSeconds > 0) {
      await sleep(ctx.options.idleSeconds * 1000);
      afterIdle = await server.memoryAfterGc(settleMs);
    }
    const stats = await Promise.all(gens.map((g) => g.request<StatsResult>({ cmd: 'stats' })));
    const held = stats.reduce((s, r) => s + r.sockets, 0);
    const disconnects = stats.reduce((s, r) => s + r.disconnects, 0);
    const n = Math.max(1, connect.connected);
    return {
      requested: count,
      connected: connect.connected,
      held,
      disconnects,
      connect,
      before,
      after,
      afterIdle,
      heapBytesPerConnection: Math.round((after.heapUsedBytes - before.heapUsedBytes) / n),
      rssBytesPerConnection: Math.round((after.rssBytes - before.rssBytes) / n),
    };
  } finally {
    await closeAll(gens);
    await sleep(ctx.options.mode === 'quick' ? 300 : 1000);
  }
}

export async function connectionsScenario(ctx: BenchContext): Promise<ConnectionsResult> {
  const target = ctx.options.connections;
  let tried = target;
  let cappedBy: string | undefined;
  // Every socket is a file descriptor in the server; the hard limit cannot be raised here.
  for (const server of systems(ctx)) {
    const limit = server.openFileLimit();
    const open = server.openFiles() ?? 0;
    if (limit !== undefined && limit - open - FD_HEADROOM < tried) {
      tried = limit - open - FD_HEADROOM;
      cappedBy = `the ${server.name} server's open-file limit (RLIMIT_NOFILE ${limit}, ${open} already open, ${FD_HEADROOM} kept spare)`;
    }
  }
  if (cappedBy) ctx.log(`connections: capped at ${tried} by ${cappedBy}`);
  const result: Partial<ConnectionsResult> = {
    target,
    tried,
    cappedBy,
    idleSeconds: ctx.options.idleSeconds,
    method:
      'heap and RSS from GET /metrics (nodejs_heap_size_used_bytes, process_resident_memory_bytes) ' +
      'after a forced full GC (server started with --expose-gc; SIGUSR2 to a preloaded hook runs gc() twice, ' +
      'then a settle of 2 s, 0.6 s with --quick), before the sockets and with all sockets open; per connection = difference / connected',
  };
  for (const server of systems(ctx)) {
    const r = await runSystem(ctx, server, tried);
    ctx.log(
      `connections/${server.name}: heap ${r.heapBytesPerConnection} B/conn, RSS ${r.rssBytesPerConnection} B/conn, ${r.held} held after ${ctx.options.idleSeconds} s`,
    );
    if (server.name === 'product') result.product = r;
    else result.baseline = r;
  }
  return result as ConnectionsResult;
}
