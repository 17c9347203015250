import { randomUUID } from 'node:crypto';
import type { BenchContext } from '../lib/context';
import { systems } from '../lib/context';
import { summarizeSamples, type LatencySummary } from '../lib/hist';
import { sleep } from '../lib/procs';
import type { FanoutCollectResult, FanoutSendResult } from '../lib/protocol';
import type { ServerUnderTest } from '../lib/servers';
import { closeAll, connectClients } from '../lib/sockets';
import { clientSpec, createGroup, usersFor } from '../lib/users';

export interface FanoutSystemResult {
  members: number;
  repeats: number;
  /** Send to the last recipient's `message:new`, over the repeats. */
  toLast: LatencySummary;
  /** Send to the first recipient. */
  toFirst: LatencySummary;
  /** Send to the sender's ack ("sent" tick). */
  ack: LatencySummary;
  /** Every recipient's delivery time, all repeats together. */
  perRecipient: LatencySummary;
  /** Deliveries missing after the per-repeat timeout. */
  missing: number;
  errors: string[];
}

export interface FanoutResult {
  groupSize: number;
  product: FanoutSystemResult;
  baseline?: FanoutSystemResult;
}

async function runSystem(ctx: BenchContext, server: ServerUnderTest): Promise<FanoutSystemResult> {
  const { groupSize, fanoutRepeats, bodyBytes } = ctx.options;
  const gens = (await ctx.generators(ctx.options.generators)).slice(0, ctx.options.generators);
  ctx.log(`fanout/${server.name}: ${groupSize} members, signing in`);
  const users = await usersFor(ctx, server, groupSize);
  let conversationId: string;
  if (server.name === 'product') {
    conversationId = await createGroup(
      ctx,
      users[0],
      users.slice(1).map((u) => u.userId),
      'bench fan-out',
    );
  } else conversationId = randomUUID();
  // The sender sits in generator 0; recipients are spread over every generator.
  const assignments = users.map((user, i) => ({
    gen: i === 0 ? 0 : i % gens.length,
    client: clientSpec(`f${i}`, user),
  }));
  const expectPerGen = gens.map(
    (_, g) => assignments.filter((a, i) => i > 0 && a.gen === g).length,
  );
  const connected = await connectClients(gens, server.url, assignments);
  if (connected.failed) {
    throw new Error(`fanout: ${connected.failed} sockets failed: ${connected.errors.join('; ')}`);
  }
  try {
    if (server.name === 'baseline') {
      await Promise.all(
        gens.map((g, gi) =>
          g.request<number>({
            cmd: 'join',
            keys: assignments.filter((a) => a.gen === gi).map((a) => a.client.key),
            room: conversationId,
            concurrency: 64,
          }),
        ),
      );
    }
    await sleep(500);
    await ctx.waitQuiet(`fanout/${server.name}`);
    const toLast: number[] = [];
    const toFirst: number[] = [];
    const acks: number[] = [];
    const perRecipient: number[] = [];
    const errors: string[] = [];
    let missing = 0;
    const warmups = 3;
    for (let r = 0; r < warmups + fanoutRepeats; r++) {
      const tag = `${ctx.runId}x${server.name[0]}${r}`;
      await Promise.all(
        gens.map((g, gi) =>
          g.request({
            cmd: 'fanoutArm',
            tag,
            expect: expectPerGen[gi],
            timeoutMs: 10_000,
            acks: ctx.options.acks === 'none' ? 'none' : 'delivered',
          }),
        ),
      );
      const sent = await gens[0].request<FanoutSendResult>({
        cmd: 'fanoutSend',
        tag,
        key: 'f0',
        conversationId,
        bodyBytes,
      });
      const collected = await Promise.all(
        gens.map((g) => g.request<FanoutCollectResult>({ cmd: 'fanoutCollect', tag }, 30_000)),
      );
      if (r < warmups) continue;
      if (!sent.ok) errors.push(sent.error ?? 'send failed');
      const times = collected.flatMap((c) => c.receivedUs).map((us) => (us - sent.sentUs) / 1000);
      missing += groupSize - 1 - times.length;
      if (times.length) {
        toLast.push(Math.max(...times));
        toFirst.push(Math.min(...times));
        perRecipient.push(...times);
      }
      acks.push((sent.ackUs - sent.sentUs) / 1000);
      await sleep(ctx.options.mode === 'quick' ? 100 : 300);
    }
    const result: FanoutSystemResult = {
      members: groupSize,
      repeats: fanoutRepeats,
      toLast: summarizeSamples(toLast),
      toFirst: summarizeSamples(toFirst),
      ack: summarizeSamples(acks),
      perRecipient: summarizeSamples(perRecipient),
      missing,
      errors: errors.slice(0, 5),
    };
    ctx.log(
      `fanout/${server.name}: to last recipient p50 ${result.toLast.p50} ms, p99 ${result.toLast.p99} ms, max ${result.toLast.max} ms, missing ${missing}`,
    );
    return result;
  } finally {
    await closeAll(gens);
  }
}

export async function fanoutScenario(ctx: BenchContext): Promise<FanoutResult> {
  const result: Partial<FanoutResult> = { groupSize: ctx.options.groupSize };
  for (const server of systems(ctx)) {
    const r = await runSystem(ctx, server);
    if (server.name === 'product') result.product = r;
    else result.baseline = r;
  }
  return result as FanoutResult;
}
