import type { BenchContext } from '../lib/context';
import { summarizeSamples, type LatencySummary } from '../lib/hist';
import type { CpuUsage } from '../lib/cpu';
import { sleep } from '../lib/procs';
import type { SendResult, SyncRunResult } from '../lib/protocol';
import { closeAll, connectClients } from '../lib/sockets';
import { clientSpec, signInMany } from '../lib/users';

export interface SyncResult {
  messages: number;
  conversations: number;
  limit: number;
  repeats: number;
  /** Connect to the last ack answered, ms, over the repeats. */
  total: LatencySummary;
  /** Connect to the handshake done, ms. */
  connect: LatencySummary;
  runs: Array<SyncRunResult & { cpu: CpuUsage }>;
  /** How fast the missed messages were written beforehand (window of 64 sends in flight). */
  fillRate: number;
}

const LIMIT = 500;

export async function syncScenario(ctx: BenchContext): Promise<SyncResult> {
  const { syncMessages: total, syncConversations: conversations, syncRepeats } = ctx.options;
  const gens = await ctx.generators(2);
  const runs: SyncResult['runs'] = [];
  const fillRates: number[] = [];
  for (let rep = 0; rep < syncRepeats; rep++) {
    // The offline device registers first, so every message after is pending for it.
    const { users } = await signInMany(ctx, conversations + 1);
    const [receiver, ...senders] = users;
    const assignments = senders.map((user, i) => ({ gen: 0, client: clientSpec(`y${i}`, user) }));
    const connected = await connectClients(gens, ctx.product.url, assignments);
    if (connected.failed) throw new Error(`sync: senders failed to connect`);
    ctx.log(
      `sync: writing ${total} messages in ${conversations} conversation(s) for an offline device`,
    );
    const started = Date.now();
    const sends = await Promise.all(
      senders.map((_, i) =>
        gens[0].request<SendResult>(
          {
            cmd: 'send',
            key: `y${i}`,
            target: { recipientId: receiver.userId },
            count: Math.floor(total / conversations) + (i < total % conversations ? 1 : 0),
            window: Math.max(1, Math.floor(64 / conversations)),
            bodyBytes: ctx.options.bodyBytes,
            switchToConversation: true,
            timeoutMs: 30_000,
          },
          600_000,
        ),
      ),
    );
    const stored = sends.reduce((s, r) => s + r.ok, 0);
    if (stored !== total) {
      throw new Error(
        `sync: only ${stored} of ${total} messages were stored: ${JSON.stringify(sends.map((s) => s.errorCodes))}`,
      );
    }
    fillRates.push(total / ((Date.now() - started) / 1000));
    await sleep(500);
    await ctx.waitQuiet('sync');
    const meter = ctx.cpuMeter(ctx.product);
    meter.start();
    const run = await gens[1].request<SyncRunResult>(
      {
        cmd: 'syncRun',
        url: ctx.product.url,
        token: receiver.token!,
        limit: LIMIT,
        expected: total,
        timeoutMs: 120_000,
      },
      150_000,
    );
    ctx.log(
      `sync: ${run.unique}/${total} messages, ${run.batches} batches, all acked ${run.totalMs.toFixed(1)} ms after connecting${run.error ? ` (error ${run.error})` : ''}`,
    );
    runs.push({ ...run, cpu: meter.stop() });
    await closeAll(gens);
  }
  return {
    messages: total,
    conversations,
    limit: LIMIT,
    repeats: syncRepeats,
    total: summarizeSamples(
      runs.filter((r) => r.complete && r.unique === total).map((r) => r.totalMs),
    ),
    connect: summarizeSamples(runs.map((r) => r.connectMs).filter(Number.isFinite)),
    runs,
    fillRate: Math.round(fillRates.reduce((s, v) => s + v, 0) / fillRates.length),
  };
}
