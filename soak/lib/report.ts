import type { SoakOptions } from './args';
import type { FaultRecord } from './faults';
import type { SoakCounts } from './ledger';

export interface SoakResult {
  command: string;
  seed: number;
  startedAt: string;
  wallSeconds: number;
  setup: {
    clients: number;
    devices: number;
    directConversations: number;
    groups: number;
    instances: number;
    workers: number;
    minutes: number;
    ratePerSec: number;
    postgres: string;
    redis: string;
  };
  faults: Array<{
    kind: string;
    label: string;
    atSec: number;
    repairSec: number;
    detail: string;
    error?: string;
  }>;
  unexpectedExits: string[];
  clientEvents: Record<string, number>;
  counts: SoakCounts;
  pass: boolean;
  failures: string[];
}

export function faultsForReport(faults: FaultRecord[], start: number): SoakResult['faults'] {
  return faults.map((f) => ({
    kind: f.kind,
    label: f.label,
    atSec: Math.round((f.startedAt - start) / 100) / 10,
    repairSec: Math.round(((f.endedAt ?? f.startedAt) - f.startedAt) / 100) / 10,
    detail: f.detail,
    ...(f.error ? { error: f.error } : {}),
  }));
}

/** What makes a run fail: any loss, visible duplicate, reordering, or a send never acked. */
export function failuresOf(
  counts: SoakCounts,
  unexpectedExits: string[],
  faults: FaultRecord[],
): string[] {
  const failures: string[] = [];
  if (counts.lost) failures.push(`${counts.lost} deliveries lost`);
  if (counts.duplicates) failures.push(`${counts.duplicates} visible duplicates`);
  if (counts.outOfOrder) failures.push(`${counts.outOfOrder} out of order`);
  if (counts.unacked) failures.push(`${counts.unacked} sends never acked`);
  if (counts.acked === 0) failures.push('nothing was acked');
  for (const exit of unexpectedExits) failures.push(`unexpected exit: ${exit}`);
  for (const f of faults) if (f.error) failures.push(`fault ${f.label} failed: ${f.error}`);
  return failures;
}

const num = (n: number) => n.toLocaleString('en-US');
const ms = (v: number) => (Number.isFinite(v) ? `${Math.round(v)} ms` : '-');

export function formatResult(result: SoakResult, options: SoakOptions): string {
  const c = result.counts;
  const lines: string[] = [];
  lines.push('');
  lines.push(
    `Parley soak: ${result.setup.clients} clients (${result.setup.devices} devices), ` +
      `${result.setup.instances} instances + ${result.setup.workers} worker, ` +
      `${options.minutes} min at ${options.rate} msg/s, seed ${result.seed}`,
  );
  lines.push(
    `conversations: ${result.setup.directConversations} direct, ${result.setup.groups} groups`,
  );
  for (const f of result.faults) {
    lines.push(
      `fault ${f.label.padEnd(20)} at ${String(f.atSec).padStart(6)} s, repaired in ${f.repairSec} s${f.error ? ` FAILED: ${f.error}` : ''}`,
    );
  }
  lines.push('');
  const row = (label: string, value: string) => lines.push(`  ${label.padEnd(34)} ${value}`);
  row('sent (distinct clientMsgIds)', num(c.sent));
  row(
    'send attempts (retries included)',
    `${num(c.sendAttempts)} (${num(c.retriedSends)} sends retried)`,
  );
  row('acked', num(c.acked));
  row('never acked', num(c.unacked));
  row('expected deliveries (member devices)', num(c.expectedDeliveries));
  row('delivered', num(c.delivered));
  row('redelivered (same id again, hidden)', num(c.redelivered));
  row('lost', num(c.lost));
  row('visible duplicates', num(c.duplicates));
  row(
    'out of order',
    `${num(c.outOfOrder)} (sync ${c.outOfOrderSync}, gaps ${c.gaps}, sender order ${c.senderOrderBroken}, seq conflicts ${c.seqConflicts})`,
  );
  row('live arrivals below a seq already seen (clients order by seq)', num(c.liveOutOfSeq));
  row('late arrivals (sync behind live)', num(c.lateArrivals));
  row('delivered but never acked', num(c.deliveredButNeverAcked));
  const errors = Object.entries(c.sendErrors)
    .map(([k, v]) => `${k} ${v}`)
    .join(', ');
  row('send errors', errors || 'none');
  lines.push('');
  lines.push('  delivery latency (first send to arrival, devices online at send time)');
  lines.push(
    `    ${'phase'.padEnd(22)} ${'count'.padStart(7)} ${'p50'.padStart(9)} ${'p99'.padStart(9)} ${'max'.padStart(9)}`,
  );
  for (const l of c.latency) {
    lines.push(
      `    ${l.phase.padEnd(22)} ${String(l.count).padStart(7)} ${ms(l.p50).padStart(9)} ${ms(l.p99).padStart(9)} ${ms(l.max).padStart(9)}`,
    );
  }
  if (c.lostExamples.length) {
    lines.push('');
    lines.push('  lost (first 10):');
    for (const l of c.lostExamples) {
      lines.push(
        `    ${l.messageId} conv ${l.conversationId} seq ${l.seq} to ${l.deviceKey} (${l.phase})`,
      );
    }
  }
  if (c.reorderExamples.length) {
    lines.push('');
    lines.push('  live arrivals below a seq already seen (first 10; not failures):');
    for (const r of c.reorderExamples) {
      lines.push(
        `    ${r.deviceKey} ${r.kind} ${r.conversationId} seq ${r.seq} after ${r.afterSeq} ` +
          `(${r.phase}, connected ${r.connectedMs} ms, from device ${r.senderDeviceId})`,
      );
    }
  }
  const events = Object.entries(result.clientEvents)
    .sort((a, b) => b[1] - a[1])
    .map(([k, v]) => `${k} ${v}`)
    .join(', ');
  lines.push('');
  lines.push(`  client events: ${events || 'none'}`);
  if (result.unexpectedExits.length)
    lines.push(`  unexpected exits: ${result.unexpectedExits.join('; ')}`);
  lines.push('');
  lines.push(
    result.pass
      ? `PASS in ${result.wallSeconds} s: 0 lost, 0 visible duplicates, 0 out of order`
      : `FAIL in ${result.wallSeconds} s: ${result.failures.join('; ')}`,
  );
  return lines.join('\n');
}
