import type { CpuUsage } from './cpu';
import { barsText, fmtBytes, fmtInt, fmtMs, markdownTable, type BenchReport } from './report';

function cpuCell(cpu: CpuUsage): string {
  const v = (k: string) =>
    cpu[k] === undefined || cpu[k] === null ? '-' : String(Math.round(cpu[k]));
  return ['server', 'postgres', 'redis', 'generators', 'harness', 'interrupts', 'other']
    .map(v)
    .join(' / ');
}

/** A human-readable record of one run, written next to its JSON. */
export function markdownReport(report: BenchReport, chartFile?: string): string {
  const { machine, scenarios: s } = report;
  const out: string[] = [];
  out.push(
    `# Parley benchmark, ${report.startedAt.slice(0, 10)} (${report.shape} shape, ${report.mode})`,
  );
  out.push('');
  out.push(
    `Command: \`${report.command}\` (${report.durationSeconds} s, including server start-up).`,
  );
  out.push('');
  out.push('## Machine');
  out.push('');
  out.push(
    `- CPU: ${machine.cpuModel}, ${machine.cores} cores; memory ${fmtBytes(machine.memoryBytes)}`,
  );
  out.push(`- ${machine.os}; Node ${machine.node}`);
  if (machine.postgres) out.push(`- PostgreSQL ${machine.postgres}; Redis ${machine.redis ?? '?'}`);
  if (machine.openFileLimit)
    out.push(
      `- open files per process: ${machine.openFileLimit}; ephemeral ports ${machine.ephemeralPorts ?? '?'}`,
    );
  out.push(`- ${machine.note}`);
  const busy = (report.setup as { machineBusyBeforeRunPercent?: number | null })
    .machineBusyBeforeRunPercent;
  if (busy !== undefined && busy !== null) {
    out.push(`- Before the run, other processes used ${busy}% of a core (0.5 s sample).`);
  }
  out.push(
    `- Packages: ${Object.entries(report.packages)
      .map(([k, v]) => `${k} ${v}`)
      .join(', ')}`,
  );
  if (report.git.commit) {
    out.push(
      `- Code: commit ${report.git.commit.slice(0, 12)}${report.git.dirty ? ' with uncommitted changes' : ''}`,
    );
  }
  out.push('');
  out.push('Server settings:');
  out.push('');
  out.push('```');
  const setup = report.setup as {
    serverSettings?: Record<string, string>;
    serverNodeFlags?: string[];
  };
  for (const [k, v] of Object.entries(setup.serverSettings ?? {})) out.push(`${k}=${v}`);
  out.push(`node ${(setup.serverNodeFlags ?? []).join(' ')} dist/src/main.js`);
  out.push('```');
  const signIns = (report.setup as { signIns?: { users: number; perSecond: number | null } })
    .signIns;
  if (signIns?.users) {
    out.push('');
    out.push(
      `Users signed in (POST /auth/verify, 48 in parallel): ${fmtInt(signIns.users)} at ${fmtInt(signIns.perSecond)} per second.`,
    );
  }
  out.push('');
  out.push('## Figures');
  out.push('');
  out.push(markdownTable(report.table));
  out.push('');
  out.push('## Bars (docs: DESIGN, "Bars the benchmark reports")');
  out.push('');
  out.push('```');
  out.push(barsText(report.bars));
  out.push('```');
  if (report.errors.length) {
    out.push('');
    out.push('## Scenarios that failed');
    out.push('');
    for (const e of report.errors) out.push(`- ${e.scenario}: ${e.message.split('\n')[0]}`);
  }

  if (s.latency) {
    out.push('');
    out.push('## 1:1 latency steps');
    out.push('');
    if (chartFile) out.push(`![latency against rate](${chartFile})`);
    out.push('');
    out.push(
      `${s.latency.product.pairs} sender/receiver pairs, ${s.latency.stepSeconds} s per step, ${s.latency.bodyBytes}-byte bodies. Latency from the intended send time to \`message:new\` at the receiver; "ack" is to the sender's ack (the sent tick); "receipt" is from the recipient's \`message:ack\` to the sender's \`receipt\`; "lag" is how late the generators emitted against their schedule. Recipients ack like a client: ${s.latency.ackWindowMs ? `per conversation, the highest seq received, ${s.latency.ackWindowMs} ms after the first unacked message or once ${s.latency.ackMaxPending} are unacked` : 'every message at once'}; "acks" says what (delivered; delivered then read; none = send-only).`,
    );
    out.push('');
    out.push(
      'CPU is percent of one core over the step (200 = both cores): server / PostgreSQL (the bench database backends and the shared helpers) / Redis / generators / harness (this process and the idle server) / kernel interrupts (loopback networking) / other (everything else on the machine). Steps repeated because other programs were busy: see `disturbedAttempts` in the JSON.',
    );
    out.push('');
    out.push(
      '| system | rate | kind | acks | sent | received | lost | p50 | p99 | p99.9 | max | ack p99 | receipt p99 | lag p99 | CPU srv / pg / redis / gen / harness / irq / other | result |',
    );
    out.push('|---|---:|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|---|');
    for (const [name, r] of [
      ['Parley', s.latency.product],
      ['relay', s.latency.baseline],
    ] as const) {
      for (const st of [...(r?.steps ?? []), ...(r?.variants ?? [])]) {
        out.push(
          `| ${name} | ${fmtInt(st.rate)} | ${st.kind} | ${st.acks ?? 'none'} | ${fmtInt(st.sent)} | ${fmtInt(st.received)} | ${fmtInt(st.lost)} | ${fmtMs(st.latency.p50)} | ${fmtMs(st.latency.p99)} | ${fmtMs(st.latency.p999)} | ${fmtMs(st.latency.max)} | ${fmtMs(st.ack.p99)} | ${st.acks && st.acks !== 'none' ? fmtMs(st.receipt.p99) : '-'} | ${fmtMs(st.sendLag.p99)} | ${cpuCell(st.cpu)} | ${st.pass ? 'pass' : st.aborted ? 'overloaded' : 'fail'}${st.disturbedAttempts ? ` (after ${st.disturbedAttempts} disturbed attempt(s))` : ''} |`,
        );
      }
    }
  }
  if (s.fanout) {
    out.push('');
    out.push('## Group fan-out');
    out.push('');
    out.push(
      '| system | members | sends | to first p50 | to last p50 | to last p99 | to last max | per recipient p50 | sender ack p50 | missing |',
    );
    out.push('|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|');
    for (const [name, r] of [
      ['Parley', s.fanout.product],
      ['relay', s.fanout.baseline],
    ] as const) {
      if (!r) continue;
      out.push(
        `| ${name} | ${fmtInt(r.members)} | ${r.repeats} | ${fmtMs(r.toFirst.p50)} | ${fmtMs(r.toLast.p50)} | ${fmtMs(r.toLast.p99)} | ${fmtMs(r.toLast.max)} | ${fmtMs(r.perRecipient.p50)} | ${fmtMs(r.ack.p50)} | ${r.missing} |`,
      );
    }
  }
  if (s.sync) {
    out.push('');
    out.push('## Offline sync');
    out.push('');
    out.push(
      `${fmtInt(s.sync.messages)} messages in ${s.sync.conversations} conversation(s), written at ${fmtInt(s.sync.fillRate)} msg/s beforehand; sync limit ${s.sync.limit}, one \`message:ack\` per conversation per batch.`,
    );
    out.push('');
    out.push(
      '| run | connect | first batch acked | all acked | batches | unique messages | in order | complete | CPU srv / pg / redis / gen / harness / irq / other |',
    );
    out.push('|---:|---:|---:|---:|---:|---:|---|---|---|');
    s.sync.runs.forEach((r, i) =>
      out.push(
        `| ${i + 1} | ${fmtMs(r.connectMs)} | ${fmtMs(r.firstBatchMs)} | ${fmtMs(r.totalMs)} | ${r.batches} | ${fmtInt(r.unique)} | ${r.inOrder ? 'yes' : 'no'} | ${r.complete ? 'yes' : `no${r.error ? ` (${r.error})` : ''}`} | ${cpuCell(r.cpu)} |`,
      ),
    );
  }
  if (s.connections) {
    const c = s.connections;
    out.push('');
    out.push('## Idle connections');
    out.push('');
    out.push(
      `Target ${fmtInt(c.target)}, tried ${fmtInt(c.tried)}${c.cappedBy ? ` (capped by ${c.cappedBy})` : ''}; held idle ${c.idleSeconds} s.`,
    );
    out.push(`Method: ${c.method}.`);
    out.push('');
    out.push(
      '| system | connected | held | connect time | handshake p50 / p99 | heap before | heap after | heap after idle | RSS before | RSS after | heap/conn | RSS/conn |',
    );
    out.push('|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|');
    for (const [name, r] of [
      ['Parley', c.product],
      ['relay', c.baseline],
    ] as const) {
      if (!r) continue;
      out.push(
        `| ${name} | ${fmtInt(r.connected)} | ${fmtInt(r.held)} | ${r.connect.seconds.toFixed(1)} s | ${fmtMs(r.connect.handshake.p50)} / ${fmtMs(r.connect.handshake.p99)} | ${fmtBytes(r.before.heapUsedBytes)} | ${fmtBytes(r.after.heapUsedBytes)} | ${fmtBytes(r.afterIdle.heapUsedBytes)} | ${fmtBytes(r.before.rssBytes)} | ${fmtBytes(r.after.rssBytes)} | ${fmtBytes(r.heapBytesPerConnection)} | ${fmtBytes(r.rssBytesPerConnection)} |`,
      );
    }
  }
  if (s.statements) {
    out.push('');
    out.push('## Database statements');
    out.push('');
    out.push(
      `Delta of \`parley_db_statements_total\` (BEGIN and COMMIT included) around ${fmtInt(s.statements.sends)} sends, divided by the sends. Sender and one recipient online, other group members offline. Idle background: ${s.statements.idlePerSecond.toFixed(2)} statements/s.`,
    );
    out.push('');
    out.push('| measurement | operations | statements | per operation | messages stored |');
    out.push('|---|---:|---:|---:|---:|');
    for (const f of s.statements.figures) {
      out.push(
        `| ${f.name} | ${fmtInt(f.operations)} | ${fmtInt(f.statements)} | ${f.perOperation.toFixed(2)} | ${fmtInt(f.stored)} |`,
      );
    }
  }
  out.push('');
  out.push('How to read this: docs/benchmarks/README.md.');
  out.push('');
  return out.join('\n');
}
