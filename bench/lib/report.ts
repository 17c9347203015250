import type { ConnectionsResult } from '../scenarios/connections';
import type { FanoutResult } from '../scenarios/fanout';
import type { LatencyResult, LatencySystemResult, RateStep } from '../scenarios/latency';
import type { StatementFigure, StatementsResult } from '../scenarios/statements';
import type { SyncResult } from '../scenarios/sync';
import type { ChartSpec } from './chart';
import type { LatencySummary } from './hist';
import type { MachineInfo } from './machine';
import type { AckMode } from './protocol';

export interface ScenarioResults {
  statements?: StatementsResult;
  latency?: LatencyResult;
  fanout?: FanoutResult;
  sync?: SyncResult;
  connections?: ConnectionsResult;
}

export interface Row {
  figure: string;
  product: string;
  baseline: string;
  /** product / baseline, when both exist. */
  ratio: string;
}

export interface Bar {
  bar: string;
  measured: string;
  /** null when the figure was not measured in this run. */
  pass: boolean | null;
}

export interface BenchReport {
  kind: 'parley-benchmark';
  formatVersion: 1;
  startedAt: string;
  durationSeconds: number;
  command: string;
  mode: 'quick' | 'full';
  shape: 'scaled' | 'embedded' | 'scaled-cassandra' | 'embedded-cassandra';
  machine: MachineInfo;
  packages: Record<string, string>;
  git: { commit?: string; dirty?: boolean };
  setup: Record<string, unknown>;
  scenarios: ScenarioResults;
  table: Row[];
  bars: Bar[];
  errors: Array<{ scenario: string; message: string }>;
}

const dash = '-';

export function fmtMs(v: number | undefined | null): string {
  if (v === undefined || v === null || !Number.isFinite(v)) return dash;
  if (v >= 10_000) return `${(v / 1000).toFixed(1)} s`;
  if (v >= 100) return `${Math.round(v)} ms`;
  if (v >= 10) return `${v.toFixed(1)} ms`;
  return `${v.toFixed(2)} ms`;
}

export function fmtInt(v: number | undefined | null): string {
  if (v === undefined || v === null || !Number.isFinite(v)) return dash;
  return Math.round(v).toLocaleString('en-US');
}

export function fmtBytes(v: number | undefined | null): string {
  if (v === undefined || v === null || !Number.isFinite(v)) return dash;
  if (Math.abs(v) >= 1024 * 1024) return `${(v / 1024 / 1024).toFixed(1)} MiB`;
  if (Math.abs(v) >= 1024) return `${(v / 1024).toFixed(1)} KiB`;
  return `${Math.round(v)} B`;
}

function ratio(p: number | undefined | null, b: number | undefined | null): string {
  if (p === undefined || p === null || b === undefined || b === null) return dash;
  if (!Number.isFinite(p) || !Number.isFinite(b) || b === 0) return dash;
  const r = p / b;
  return `${r >= 10 ? Math.round(r) : r >= 1 ? r.toFixed(1) : r.toFixed(2)}x`;
}

function stepAt(r: LatencySystemResult | undefined, rate: number): RateStep | undefined {
  return r?.steps.find((s) => s.rate === rate && s.kind === 'fixed');
}

function variantAt(
  r: LatencySystemResult | undefined,
  acks: AckMode,
  rate: number,
): RateStep | undefined {
  return r?.variants?.find((s) => s.rate === rate && s.acks === acks);
}

/** How a step's recipients acked, for labels. */
export function ackLabel(acks: AckMode): string {
  return acks === 'none'
    ? 'send-only'
    : acks === 'read'
      ? 'acked delivered + read'
      : 'acked delivered';
}

/** Connects per second over the whole connect phase. */
function connectRate(r: { connected: number; connect: { seconds: number } } | undefined) {
  return r && r.connect.seconds > 0 ? r.connected / r.connect.seconds : null;
}

/** Statements per message of the measurement with delivered and read acks, if it ran. */
function statementsWithAcks(st: StatementsResult | undefined): StatementFigure | undefined {
  return st?.figures.find((f) => f.receiverAcks === 'read');
}

function stepNote(s: RateStep | undefined): string {
  if (!s) return '';
  if (s.aborted) return ' (overloaded)';
  if (s.lost) return ` (${fmtInt(s.lost)} lost)`;
  if (s.errors) return ` (${fmtInt(s.errors)} errors)`;
  return '';
}

function sustainedNote(r: LatencySystemResult | undefined): string {
  if (!r) return '';
  if (r.firstFailingRate) return ` (fails at ${fmtInt(r.firstFailingRate)})`;
  return r.sustainedRate !== null ? ' (highest tried)' : '';
}

export function buildTable(results: ScenarioResults): Row[] {
  const rows: Row[] = [];
  const push = (
    figure: string,
    p: number | undefined | null,
    b: number | undefined | null,
    format: (v: number | undefined | null) => string,
    notes: { p?: string; b?: string } = {},
  ) =>
    rows.push({
      figure,
      product: format(p) + (notes.p ?? ''),
      baseline: format(b) + (notes.b ?? ''),
      ratio: ratio(p, b),
    });

  const lat = results.latency;
  if (lat) {
    const rates = [
      ...new Set([
        ...lat.product.steps.filter((s) => s.kind === 'fixed').map((s) => s.rate),
        ...(lat.baseline?.steps.filter((s) => s.kind === 'fixed').map((s) => s.rate) ?? []),
      ]),
    ].sort((a, b) => a - b);
    for (const rate of rates) {
      const p = stepAt(lat.product, rate);
      const b = stepAt(lat.baseline, rate);
      const label = `1:1 @ ${fmtInt(rate)} msg/s, ${ackLabel(lat.acks ?? 'none')}`;
      const pick = (k: keyof LatencySummary) => [p?.latency[k], b?.latency[k]] as const;
      push(`${label}: delivery p50`, ...pick('p50'), fmtMs, { p: stepNote(p), b: stepNote(b) });
      push(`${label}: delivery p99`, ...pick('p99'), fmtMs);
      push(`${label}: delivery p99.9`, ...pick('p999'), fmtMs);
      push(`${label}: delivery max`, ...pick('max'), fmtMs);
      push(`${label}: sent tick p50`, p?.ack.p50, b?.ack.p50, fmtMs);
      push(`${label}: sent tick p99`, p?.ack.p99, b?.ack.p99, fmtMs);
      if (lat.acks && lat.acks !== 'none') {
        push(`${label}: receipt p50`, p?.receipt?.p50, b?.receipt?.p50, fmtMs);
        push(`${label}: receipt p99`, p?.receipt?.p99, b?.receipt?.p99, fmtMs);
      }
    }
    const variantKeys = [
      ...new Set((lat.product.variants ?? []).map((v) => `${v.acks}|${v.rate}`)),
    ];
    for (const key of variantKeys) {
      const [acks, rateText] = key.split('|') as [AckMode, string];
      const rate = Number(rateText);
      const p = variantAt(lat.product, acks, rate);
      const b = variantAt(lat.baseline, acks, rate);
      const label = `1:1 @ ${fmtInt(rate)} msg/s, ${ackLabel(acks)}`;
      push(`${label}: delivery p50`, p?.latency.p50, b?.latency.p50, fmtMs, {
        p: stepNote(p),
        b: stepNote(b),
      });
      push(`${label}: delivery p99`, p?.latency.p99, b?.latency.p99, fmtMs);
      push(`${label}: sent tick p99`, p?.ack.p99, b?.ack.p99, fmtMs);
      if (acks !== 'none') push(`${label}: receipt p99`, p?.receipt?.p99, b?.receipt?.p99, fmtMs);
    }
    push(
      `1:1 highest sustained rate, ${ackLabel(lat.acks ?? 'none')} (p99 <= ${lat.p99LimitMs} ms, none lost), msg/s`,
      lat.product.sustainedRate,
      lat.baseline?.sustainedRate,
      fmtInt,
      { p: sustainedNote(lat.product), b: sustainedNote(lat.baseline) },
    );
  }
  const fan = results.fanout;
  if (fan) {
    const label = `group of ${fmtInt(fan.groupSize)}, all online: send to last recipient`;
    push(`${label} p50`, fan.product.toLast.p50, fan.baseline?.toLast.p50, fmtMs, {
      p: fan.product.missing ? ` (${fan.product.missing} missing)` : '',
      b: fan.baseline?.missing ? ` (${fan.baseline.missing} missing)` : '',
    });
    push(`${label} p99`, fan.product.toLast.p99, fan.baseline?.toLast.p99, fmtMs);
    push(`${label} max`, fan.product.toLast.max, fan.baseline?.toLast.max, fmtMs);
  }
  const sync = results.sync;
  if (sync) {
    const label = `offline device, ${fmtInt(sync.messages)} missed: connect to all acked`;
    push(`${label} (median of ${sync.repeats})`, sync.total.p50, null, fmtMs, {
      p: sync.total.count < sync.repeats ? ` (${sync.repeats - sync.total.count} incomplete)` : '',
    });
    if (sync.repeats > 1) push(`${label} (max)`, sync.total.max, null, fmtMs);
  }
  const con = results.connections;
  if (con) {
    push('idle authenticated sockets held', con.product.held, con.baseline?.held, fmtInt, {
      p: con.cappedBy ? ' (fd-capped)' : '',
      b: con.cappedBy && con.baseline ? ' (fd-capped)' : '',
    });
    push(
      'authenticated connects per second (pre-issued tokens, 64 at a time per generator)',
      connectRate(con.product),
      connectRate(con.baseline),
      fmtInt,
    );
    push(
      'heap per idle connection (after GC)',
      con.product.heapBytesPerConnection,
      con.baseline?.heapBytesPerConnection,
      fmtBytes,
    );
    push(
      'RSS per idle connection (after GC)',
      con.product.rssBytesPerConnection,
      con.baseline?.rssBytesPerConnection,
      fmtBytes,
    );
  }
  const st = results.statements;
  if (st) {
    for (const f of st.figures) {
      push(
        `DB statements per ${f.name.startsWith('message:ack') ? 'ack' : 'message'}: ${f.name}`,
        f.perOperation,
        null,
        (v) => (v === undefined || v === null || !Number.isFinite(v) ? dash : v.toFixed(2)),
      );
    }
  }
  return rows;
}

export function evaluateBars(results: ScenarioResults): Bar[] {
  const bars: Bar[] = [];
  const lat = results.latency;
  if (lat && lat.baseline) {
    const p = lat.product.sustainedRate;
    const b = lat.baseline.sustainedRate;
    // Without a failing step the relay's figure is only a lower bound on its capacity.
    const bKnown = lat.baseline.firstFailingRate !== null;
    let pass: boolean | null;
    if (b === null) pass = null;
    else if (p === null || p < b / 2) pass = false;
    else pass = bKnown ? true : null;
    bars.push({
      bar: `sustained 1:1 throughput with durable storage, ${ackLabel(lat.acks ?? 'none')}, >= 1/2 of the bare relay`,
      measured: `${fmtInt(p)} vs ${fmtInt(b)}${bKnown ? '' : ' or more'} msg/s (${ratio(p, b)})`,
      pass,
    });
    const p1 = stepAt(lat.product, 1000);
    const b1 = stepAt(lat.baseline, 1000);
    bars.push({
      bar: `p99 delivery at 1,000 msg/s, ${ackLabel(lat.acks ?? 'none')}, <= 2x the bare relay`,
      measured:
        p1 && b1
          ? `${fmtMs(p1.latency.p99)}${stepNote(p1)} vs ${fmtMs(b1.latency.p99)} (${ratio(p1.latency.p99, b1.latency.p99)})`
          : 'not measured (1,000 msg/s not among the rates)',
      pass: p1 && b1 ? p1.pass && p1.latency.p99 <= 2 * b1.latency.p99 : null,
    });
    const p5 = stepAt(lat.product, 5000);
    const b5 = stepAt(lat.baseline, 5000);
    bars.push({
      bar: 'p99 at 5,000 msg/s <= 2x the bare relay',
      measured:
        p5 && b5
          ? `${fmtMs(p5.latency.p99)}${stepNote(p5)} vs ${fmtMs(b5.latency.p99)} (${ratio(p5.latency.p99, b5.latency.p99)})`
          : 'not measured (5,000 msg/s not among the rates)',
      pass: p5 && b5 ? p5.pass && p5.latency.p99 <= 2 * b5.latency.p99 : null,
    });
  }
  const fan = results.fanout;
  if (fan) {
    bars.push({
      bar: `group fan-out (${fmtInt(fan.groupSize)} members online): p99 to last recipient < 50 ms`,
      measured: `${fmtMs(fan.product.toLast.p99)} over ${fan.product.repeats} sends${fan.product.missing ? `, ${fan.product.missing} deliveries missing` : ''}`,
      pass: fan.groupSize >= 1024 ? fan.product.toLast.p99 < 50 && fan.product.missing === 0 : null,
    });
  }
  const sync = results.sync;
  if (sync) {
    bars.push({
      bar: `offline sync: ${fmtInt(sync.messages)} missed messages all acked within 500 ms of connecting`,
      measured: `median ${fmtMs(sync.total.p50)}, max ${fmtMs(sync.total.max)} (${sync.total.count}/${sync.repeats} complete)`,
      pass:
        sync.messages >= 10_000 ? sync.total.count === sync.repeats && sync.total.max <= 500 : null,
    });
  }
  const con = results.connections;
  if (con) {
    bars.push({
      bar: '20,000+ authenticated idle sockets on one instance',
      measured: `${fmtInt(con.product.held)} held${con.cappedBy ? ` (tried ${fmtInt(con.tried)}: capped by ${con.cappedBy})` : ''}; heap ${fmtBytes(con.product.heapBytesPerConnection)}/connection vs ${fmtBytes(con.baseline?.heapBytesPerConnection)} bare`,
      pass: con.target >= 20_000 && !con.cappedBy ? con.product.held >= 20_000 : null,
    });
    const rate = connectRate(con.product);
    bars.push({
      bar: 'authenticated connects >= 2,000 per second (pre-issued tokens)',
      measured: `${fmtInt(rate)}/s vs ${fmtInt(connectRate(con.baseline))}/s bare (${ratio(rate, connectRate(con.baseline))})`,
      pass: rate === null ? null : rate >= 2000,
    });
    bars.push({
      bar: 'RSS per idle authenticated socket <= 15 KB',
      measured: `${fmtBytes(con.product.rssBytesPerConnection)} vs ${fmtBytes(con.baseline?.rssBytesPerConnection)} bare (${ratio(con.product.rssBytesPerConnection, con.baseline?.rssBytesPerConnection)})`,
      pass: con.target >= 2000 ? con.product.rssBytesPerConnection <= 15_000 : null,
    });
  }
  const st = results.statements;
  const acked = statementsWithAcks(st);
  if (acked) {
    bars.push({
      bar: 'statements per message including its delivered and read acks <= 1 under load (64 in flight)',
      measured: acked.perOperation.toFixed(2),
      pass: acked.perOperation <= 1,
    });
  }
  if (st) {
    const groups = st.figures.filter((f) => f.groupSize !== undefined);
    if (groups.length >= 2) {
      const small = groups.reduce((a, b) => (a.groupSize! < b.groupSize! ? a : b));
      const large = groups.reduce((a, b) => (a.groupSize! > b.groupSize! ? a : b));
      bars.push({
        bar: 'storage statements per message O(1) in group size',
        measured: groups.map((g) => `${g.groupSize}: ${g.perOperation.toFixed(2)}`).join(', '),
        pass: large.perOperation <= small.perOperation * 1.1 + 0.05,
      });
    }
  }
  return bars;
}

export function chartSpec(lat: LatencyResult, subtitle: string): ChartSpec {
  const series = (r: LatencySystemResult | undefined, name: string, color: string) =>
    r
      ? [
          {
            label: `${name} p50`,
            color,
            dashed: false,
            points: r.steps.map((s) => ({ rate: s.rate, valueMs: s.latency.p50, failed: !s.pass })),
          },
          {
            label: `${name} p99`,
            color,
            dashed: true,
            points: r.steps.map((s) => ({ rate: s.rate, valueMs: s.latency.p99, failed: !s.pass })),
          },
        ]
      : [];
  return {
    title: '1:1 send-to-receive latency against offered rate (open loop)',
    subtitle,
    limitMs: lat.p99LimitMs,
    series: [
      ...series(lat.product, 'Parley', '#1565c0'),
      ...series(lat.baseline, 'bare relay', '#ef6c00'),
    ],
  };
}

function pad(text: string, width: number): string {
  return text.length >= width ? text : text + ' '.repeat(width - text.length);
}

/** The table as aligned plain text (stdout). */
export function textTable(rows: Row[]): string {
  const head: Row = { figure: 'figure', product: 'Parley', baseline: 'bare relay', ratio: 'ratio' };
  const all = [head, ...rows];
  const w = {
    figure: Math.max(...all.map((r) => r.figure.length)),
    product: Math.max(...all.map((r) => r.product.length)),
    baseline: Math.max(...all.map((r) => r.baseline.length)),
    ratio: Math.max(...all.map((r) => r.ratio.length)),
  };
  const line = (r: Row) =>
    `${pad(r.figure, w.figure)}  ${pad(r.product, w.product)}  ${pad(r.baseline, w.baseline)}  ${r.ratio}`;
  const rule = '-'.repeat(w.figure + w.product + w.baseline + w.ratio + 6);
  return [line(head), rule, ...rows.map(line)].join('\n');
}

function mdCell(text: string): string {
  return text.replace(/\|/g, '\\|');
}

export function markdownTable(rows: Row[]): string {
  return [
    '| figure | Parley | bare relay | ratio (Parley / relay) |',
    '|---|---:|---:|---:|',
    ...rows.map(
      (r) => `| ${mdCell(r.figure)} | ${mdCell(r.product)} | ${mdCell(r.baseline)} | ${r.ratio} |`,
    ),
  ].join('\n');
}

export function barsText(bars: Bar[]): string {
  return bars
    .map((b) => `${b.pass === null ? 'n/a ' : b.pass ? 'PASS' : 'FAIL'}  ${b.bar}: ${b.measured}`)
    .join('\n');
}
