import { randomUUID } from 'node:crypto';
import type { BenchContext } from '../lib/context';
import { systems } from '../lib/context';
import { merge, summarize, type LatencySummary } from '../lib/hist';
import type { CpuUsage } from '../lib/cpu';
import { sleep } from '../lib/procs';
import type { AckCounts, AckMode, PairSpec, RateResult, SendResult } from '../lib/protocol';
import type { Generator, ServerUnderTest } from '../lib/servers';
import { closeAll, connectClients } from '../lib/sockets';
import { clientSpec, usersFor } from '../lib/users';

export interface RateStep {
  /** Offered rate, msg/s. */
  rate: number;
  kind: 'fixed' | 'search';
  /** What the recipients acked: `delivered`, `delivered` then `read`, or nothing (send-only). */
  acks: AckMode;
  planned: number;
  sent: number;
  received: number;
  lost: number;
  duplicates: number;
  errors: number;
  errorCodes: Record<string, number>;
  /** Send (intended time) to receive by the recipient. */
  latency: LatencySummary;
  /** Send (intended time) to the sender's ack ("sent" tick). */
  ack: LatencySummary;
  /** The recipient's ack to the sender's `receipt` (empty when nothing was acked). */
  receipt: LatencySummary;
  ackCounts: AckCounts;
  /** How late the generators emitted against the schedule (their own saturation). */
  sendLag: LatencySummary;
  achievedRate: number;
  /** CPU during the step, percent of one core (see lib/cpu.ts). */
  cpu: CpuUsage;
  /** Earlier attempts of this step discarded because other programs were busy (--wait-quiet). */
  disturbedAttempts?: number;
  aborted?: string;
  pass: boolean;
}

export interface LatencySystemResult {
  pairs: number;
  /** Steps with the main ack mode (fixed and search). */
  steps: RateStep[];
  /** Fixed-rate steps with the other ack modes (send-only, read). */
  variants: RateStep[];
  /** Highest offered rate that passed (p99 within the limit, nothing lost); null if none. */
  sustainedRate: number | null;
  /** Lowest rate that failed above it, if one was tried. */
  firstFailingRate: number | null;
}

export interface LatencyResult {
  stepSeconds: number;
  p99LimitMs: number;
  bodyBytes: number;
  acks: AckMode;
  ackWindowMs: number;
  ackMaxPending: number;
  product: LatencySystemResult;
  baseline?: LatencySystemResult;
}

interface Setup {
  server: ServerUnderTest;
  gens: Generator[];
  /** Pairs per generator. */
  pairs: PairSpec[][];
}

async function setUp(ctx: BenchContext, server: ServerUnderTest): Promise<Setup> {
  const { pairs: pairCount } = ctx.options;
  const gens = (await ctx.generators(ctx.options.generators)).slice(0, ctx.options.generators);
  const users = await usersFor(ctx, server, pairCount * 2);
  const assignments = users.map((user, i) => ({
    gen: Math.floor(i / 2) % gens.length,
    client: clientSpec(`l${i}`, user),
  }));
  const connected = await connectClients(gens, server.url, assignments);
  if (connected.failed) {
    throw new Error(`latency: ${connected.failed} sockets failed: ${connected.errors.join('; ')}`);
  }
  const pairs: PairSpec[][] = gens.map(() => []);
  const opening: Array<Promise<void>> = [];
  for (let p = 0; p < pairCount; p++) {
    const gen = p % gens.length;
    const sender = `l${2 * p}`;
    const receiver = `l${2 * p + 1}`;
    if (server.name === 'product') {
      // The first message opens the direct conversation; later sends address it by id.
      opening.push(
        gens[gen]
          .request<SendResult>({
            cmd: 'send',
            key: sender,
            target: { recipientId: users[2 * p + 1].userId },
            count: 1,
            window: 1,
            bodyBytes: ctx.options.bodyBytes,
            switchToConversation: true,
            timeoutMs: 30_000,
          })
          .then((r) => {
            if (!r.conversationId) throw new Error(`latency: opening a conversation failed`);
            pairs[gen].push({ sender, receiver, target: { conversationId: r.conversationId } });
          }),
      );
    } else {
      const room = randomUUID();
      opening.push(
        gens[gen]
          .request<number>({ cmd: 'join', keys: [sender, receiver], room, concurrency: 2 })
          .then(() => {
            pairs[gen].push({ sender, receiver, target: { conversationId: room } });
          }),
      );
    }
    if (opening.length >= 64) await Promise.all(opening.splice(0));
  }
  await Promise.all(opening);
  return { server, gens, pairs };
}

let stepCounter = 0;

/** CPU (percent of one core) other programs may take during a step before it is repeated. */
const DISTURBED_PERCENT = 30;

/**
 * One step; with --wait-quiet, a step during which other programs on the machine took
 * more than DISTURBED_PERCENT of a core is repeated (at most twice) after waiting for quiet.
 * The discarded attempts are counted in the result.
 */
async function runStep(
  ctx: BenchContext,
  setup: Setup,
  rate: number,
  seconds: number,
  kind: RateStep['kind'],
  acks: AckMode = ctx.options.acks,
): Promise<RateStep> {
  let result = await runStepOnce(ctx, setup, rate, seconds, kind, acks);
  let disturbed = 0;
  while (
    ctx.options.waitQuietSeconds > 0 &&
    disturbed < 2 &&
    (result.cpu.other ?? 0) > DISTURBED_PERCENT
  ) {
    disturbed++;
    ctx.log(
      `latency/${setup.server.name}: ${rate} msg/s disturbed (other programs used ${result.cpu.other}% of a core); repeating`,
    );
    result = await runStepOnce(ctx, setup, rate, seconds, kind, acks);
  }
  return { ...result, disturbedAttempts: disturbed };
}

async function runStepOnce(
  ctx: BenchContext,
  setup: Setup,
  rate: number,
  seconds: number,
  kind: RateStep['kind'],
  acks: AckMode = ctx.options.acks,
): Promise<RateStep> {
  const step = ++stepCounter;
  const total = setup.pairs.reduce((s, p) => s + p.length, 0);
  const drainMs = ctx.options.mode === 'quick' ? 10_000 : 20_000;
  await ctx.waitQuiet(`latency/${setup.server.name} ${rate} msg/s`);
  const meter = ctx.cpuMeter(setup.server);
  meter.start();
  const results = await Promise.all(
    setup.gens.map((gen, g) => {
      const share = (rate * setup.pairs[g].length) / total;
      return gen.request<RateResult>(
        {
          cmd: 'rate',
          step,
          ratePerSec: share,
          durationMs: seconds * 1000,
          pairs: setup.pairs[g],
          bodyBytes: ctx.options.bodyBytes,
          drainMs,
          backlogLimit: Math.max(500, Math.round(share)),
          acks,
          ackWindowMs: ctx.options.ackWindowMs,
          ackMaxPending: ctx.options.ackMaxPending,
        },
        seconds * 1000 + drainMs + 60_000,
      );
    }),
  );
  const cpu = meter.stop();
  const latency = merge(results.map((r) => r.histogram));
  const ack = merge(results.map((r) => r.ackHistogram));
  const lag = merge(results.map((r) => r.lagHistogram));
  const receipt = merge(results.map((r) => r.receiptHistogram));
  const ackCounts: AckCounts = { delivered: 0, read: 0, errors: 0, receipts: 0, unanswered: 0 };
  for (const r of results)
    for (const k of Object.keys(ackCounts) as Array<keyof AckCounts>) ackCounts[k] += r.acks[k];
  const sum = (f: (r: RateResult) => number) => results.reduce((s, r) => s + f(r), 0);
  const errorCodes: Record<string, number> = {};
  for (const r of results) {
    for (const [code, n] of Object.entries(r.errorCodes))
      errorCodes[code] = (errorCodes[code] ?? 0) + n;
  }
  const sent = sum((r) => r.sent);
  const received = sum((r) => r.received);
  const aborted = results.find((r) => r.aborted)?.aborted;
  const result: RateStep = {
    rate,
    kind,
    acks,
    planned: sum((r) => r.planned),
    sent,
    received,
    lost: sent - received,
    duplicates: sum((r) => r.duplicates),
    errors: sum((r) => r.ackErrors + r.ackTimeouts),
    errorCodes,
    latency: summarize(latency),
    ack: summarize(ack),
    receipt: summarize(receipt),
    ackCounts,
    sendLag: summarize(lag),
    achievedRate: Math.round(sent / Math.max(...results.map((r) => r.sendSeconds))),
    cpu,
    aborted,
    pass: false,
  };
  latency.destroy();
  ack.destroy();
  lag.destroy();
  receipt.destroy();
  result.pass =
    !aborted &&
    result.sent === result.planned &&
    result.lost === 0 &&
    result.errors === 0 &&
    ackCounts.errors === 0 &&
    result.latency.p99 <= ctx.options.p99LimitMs;
  await settle(ctx, setup.gens);
  return result;
}

/** Waits (bounded) until every send has its ack back, so the next step starts on an idle server. */
async function settle(ctx: BenchContext, gens: Generator[]): Promise<void> {
  const deadline = Date.now() + 90_000;
  while (Date.now() < deadline) {
    const outstanding = await Promise.all(
      gens.map((g) => g.request<number>({ cmd: 'outstanding' })),
    );
    if (outstanding.every((n) => n === 0)) break;
    await sleep(250);
  }
  await sleep(ctx.options.mode === 'quick' ? 200 : 1000);
}

function describe(s: RateStep): string {
  const state = s.pass
    ? 'pass'
    : `FAIL${s.aborted ? ' (overloaded)' : s.lost ? ` (${s.lost} lost)` : ''}`;
  const cpu = Object.entries(s.cpu)
    .map(([k, v]) => `${k} ${v ?? '?'}%`)
    .join(' ');
  const acks =
    s.acks === 'none'
      ? 'send-only'
      : `acks ${s.acks}: receipt p99 ${s.receipt.p99} ms, ${s.ackCounts.errors} ack errors`;
  return `${s.rate} msg/s (${acks}): p50 ${s.latency.p50} ms, p99 ${s.latency.p99} ms, max ${s.latency.max} ms, sent tick p99 ${s.ack.p99} ms, sent ${s.sent}/${s.planned}, received ${s.received} -> ${state}; cpu ${cpu}`;
}

const roundRate = (r: number) => Math.max(50, Math.round(r / 100) * 100);

async function runSystem(ctx: BenchContext, server: ServerUnderTest): Promise<LatencySystemResult> {
  const { options } = ctx;
  ctx.log(`latency/${server.name}: ${options.pairs} pairs, signing in and connecting`);
  const setup = await setUp(ctx, server);
  const steps: RateStep[] = [];
  const variants: RateStep[] = [];
  try {
    // Discarded warm-up (JIT, pools, caches).
    await runStepOnce(ctx, setup, Math.min(1000, options.rates[0]), options.warmupSeconds, 'fixed');
    for (const rate of options.rates) {
      const s = await runStep(ctx, setup, rate, options.stepSeconds, 'fixed');
      ctx.log(`latency/${server.name}: ${describe(s)}`);
      steps.push(s);
    }
    // Stepped search: up by 1.5x until a step fails, then halve the gap (bounded).
    let budget = options.searchSteps;
    const best = () => {
      const passing = steps.filter((s) => s.pass).map((s) => s.rate);
      return passing.length ? Math.max(...passing) : null;
    };
    const firstFail = (above: number | null) => {
      const failing = steps.filter((s) => !s.pass && (above === null || s.rate > above));
      return failing.length ? Math.min(...failing.map((s) => s.rate)) : null;
    };
    while (budget > 0) {
      const lo = best();
      const hi = firstFail(lo);
      let next: number;
      if (lo === null) next = roundRate(Math.min(...steps.map((s) => s.rate)) / 2);
      else if (hi === null) next = roundRate(lo * 1.5);
      else {
        if ((hi - lo) / lo <= 0.1) break;
        next = roundRate((lo + hi) / 2);
      }
      if (steps.some((s) => s.rate === next) || next > 500_000) break;
      budget--;
      const s = await runStep(ctx, setup, next, options.stepSeconds, 'search');
      ctx.log(`latency/${server.name}: search ${describe(s)}`);
      steps.push(s);
      if (lo === null && next <= 50) break;
    }
    // The other ack modes at a few fixed rates: send-only keeps older runs comparable.
    for (const acks of options.ackVariants) {
      for (const rate of options.variantRates) {
        const s = await runStep(ctx, setup, rate, options.stepSeconds, 'fixed', acks);
        ctx.log(`latency/${server.name}: variant ${describe(s)}`);
        variants.push(s);
      }
    }
  } finally {
    await closeAll(setup.gens);
  }
  const sustainedRate = (() => {
    const passing = steps.filter((s) => s.pass).map((s) => s.rate);
    return passing.length ? Math.max(...passing) : null;
  })();
  const failing = steps.filter(
    (s) => !s.pass && (sustainedRate === null || s.rate > sustainedRate),
  );
  return {
    pairs: options.pairs,
    steps: steps.sort((a, b) => a.rate - b.rate),
    variants,
    sustainedRate,
    firstFailingRate: failing.length ? Math.min(...failing.map((s) => s.rate)) : null,
  };
}

export async function latencyScenario(ctx: BenchContext): Promise<LatencyResult> {
  const result: Partial<LatencyResult> = {
    stepSeconds: ctx.options.stepSeconds,
    p99LimitMs: ctx.options.p99LimitMs,
    bodyBytes: ctx.options.bodyBytes,
    acks: ctx.options.acks,
    ackWindowMs: ctx.options.ackWindowMs,
    ackMaxPending: ctx.options.ackMaxPending,
  };
  for (const server of systems(ctx)) {
    const r = await runSystem(ctx, server);
    if (server.name === 'product') result.product = r;
    else result.baseline = r;
  }
  return result as LatencyResult;
}
