/**
 * The latency-against-rate chart, laid out as a list of shapes and rendered to SVG (any
 * browser or `rsvg-convert` makes a PNG of it). Both axes are logarithmic: the product
 * and the baseline differ by orders of magnitude.
 */

export interface ChartPoint {
  rate: number;
  valueMs: number;
  /** The step failed (loss, overload or p99 over the limit): drawn hollow. */
  failed: boolean;
}

export interface ChartSeries {
  label: string;
  color: string;
  dashed: boolean;
  points: ChartPoint[];
}

export interface ChartSpec {
  title: string;
  subtitle: string;
  limitMs: number;
  series: ChartSeries[];
}

type Shape =
  | {
      kind: 'line';
      x1: number;
      y1: number;
      x2: number;
      y2: number;
      color: string;
      width: number;
      dash?: number[];
    }
  | { kind: 'circle'; x: number; y: number; r: number; color: string; hollow: boolean }
  | { kind: 'rect'; x: number; y: number; w: number; h: number; color: string }
  | {
      kind: 'text';
      x: number;
      y: number;
      text: string;
      size: number;
      color: string;
      anchor: 'start' | 'middle' | 'end';
      rotate?: boolean;
      bold?: boolean;
    };

const WIDTH = 960;
const HEIGHT = 600;
const PLOT = { left: 90, right: 930, top: 90, bottom: 520 };

function niceTicks(min: number, max: number): number[] {
  const ticks: number[] = [];
  for (let e = Math.floor(Math.log10(min)) - 1; e <= Math.ceil(Math.log10(max)) + 1; e++) {
    for (const m of [1, 2, 5]) {
      const v = m * 10 ** e;
      if (v >= min * 0.999 && v <= max * 1.001) ticks.push(v);
    }
  }
  return ticks;
}

function formatRate(v: number): string {
  return v >= 1000 ? `${+(v / 1000).toFixed(1)}k` : String(v);
}

function formatMs(v: number): string {
  if (v >= 1000) return `${+(v / 1000).toFixed(1)} s`;
  if (v >= 1) return `${+v.toFixed(1)} ms`;
  return `${+v.toFixed(2)} ms`;
}

function layout(spec: ChartSpec): Shape[] {
  const shapes: Shape[] = [];
  const all = spec.series.flatMap((s) => s.points).filter((p) => p.valueMs > 0);
  const rates = all.map((p) => p.rate);
  const values = [...all.map((p) => p.valueMs), spec.limitMs];
  const xMin = Math.min(...rates) * 0.8;
  const xMax = Math.max(...rates) * 1.25;
  const yMin = 10 ** Math.floor(Math.log10(Math.max(0.05, Math.min(...values) * 0.8)));
  const yMax = 10 ** Math.ceil(Math.log10(Math.max(...values) * 1.2));
  const sx = (v: number) =>
    PLOT.left +
    ((Math.log10(v) - Math.log10(xMin)) / (Math.log10(xMax) - Math.log10(xMin))) *
      (PLOT.right - PLOT.left);
  const sy = (v: number) =>
    PLOT.bottom -
    ((Math.log10(Math.max(v, yMin)) - Math.log10(yMin)) / (Math.log10(yMax) - Math.log10(yMin))) *
      (PLOT.bottom - PLOT.top);

  shapes.push({
    kind: 'text',
    x: WIDTH / 2,
    y: 32,
    text: spec.title,
    size: 18,
    color: '#111111',
    anchor: 'middle',
    bold: true,
  });
  shapes.push({
    kind: 'text',
    x: WIDTH / 2,
    y: 56,
    text: spec.subtitle,
    size: 12,
    color: '#444444',
    anchor: 'middle',
  });

  // Grid and axes.
  for (const t of niceTicks(yMin, yMax)) {
    const y = sy(t);
    shapes.push({
      kind: 'line',
      x1: PLOT.left,
      y1: y,
      x2: PLOT.right,
      y2: y,
      color: '#e3e3e3',
      width: 1,
    });
    shapes.push({
      kind: 'text',
      x: PLOT.left - 8,
      y: y + 4,
      text: formatMs(t),
      size: 11,
      color: '#333333',
      anchor: 'end',
    });
  }
  let xTicks = niceTicks(xMin, xMax);
  if (xTicks.length < 2) xTicks = [...new Set(rates)];
  for (const t of xTicks) {
    const x = sx(t);
    shapes.push({
      kind: 'line',
      x1: x,
      y1: PLOT.top,
      x2: x,
      y2: PLOT.bottom,
      color: '#e3e3e3',
      width: 1,
    });
    shapes.push({
      kind: 'text',
      x,
      y: PLOT.bottom + 18,
      text: formatRate(t),
      size: 11,
      color: '#333333',
      anchor: 'middle',
    });
  }
  shapes.push({
    kind: 'line',
    x1: PLOT.left,
    y1: PLOT.bottom,
    x2: PLOT.right,
    y2: PLOT.bottom,
    color: '#333333',
    width: 1.5,
  });
  shapes.push({
    kind: 'line',
    x1: PLOT.left,
    y1: PLOT.top,
    x2: PLOT.left,
    y2: PLOT.bottom,
    color: '#333333',
    width: 1.5,
  });
  shapes.push({
    kind: 'text',
    x: (PLOT.left + PLOT.right) / 2,
    y: PLOT.bottom + 44,
    text: 'offered rate, messages/s (log scale)',
    size: 13,
    color: '#111111',
    anchor: 'middle',
  });
  shapes.push({
    kind: 'text',
    x: 24,
    y: (PLOT.top + PLOT.bottom) / 2,
    text: 'send-to-receive latency (log scale)',
    size: 13,
    color: '#111111',
    anchor: 'middle',
    rotate: true,
  });

  // The p99 bar.
  const ly = sy(spec.limitMs);
  shapes.push({
    kind: 'line',
    x1: PLOT.left,
    y1: ly,
    x2: PLOT.right,
    y2: ly,
    color: '#c62828',
    width: 1.5,
    dash: [6, 5],
  });
  shapes.push({
    kind: 'text',
    x: PLOT.left + 6,
    y: ly - 6,
    text: `p99 limit ${spec.limitMs} ms`,
    size: 11,
    color: '#c62828',
    anchor: 'start',
  });

  // Series.
  for (const s of spec.series) {
    const points = s.points.filter((p) => p.valueMs > 0).sort((a, b) => a.rate - b.rate);
    for (let i = 1; i < points.length; i++) {
      shapes.push({
        kind: 'line',
        x1: sx(points[i - 1].rate),
        y1: sy(points[i - 1].valueMs),
        x2: sx(points[i].rate),
        y2: sy(points[i].valueMs),
        color: s.color,
        width: 2.5,
        dash: s.dashed ? [8, 5] : undefined,
      });
    }
    for (const p of points) {
      shapes.push({
        kind: 'circle',
        x: sx(p.rate),
        y: sy(p.valueMs),
        r: 4,
        color: s.color,
        hollow: p.failed,
      });
    }
  }

  // Legend.
  let lx = PLOT.left + 10;
  const legendY = 74;
  for (const s of spec.series) {
    shapes.push({
      kind: 'line',
      x1: lx,
      y1: legendY,
      x2: lx + 28,
      y2: legendY,
      color: s.color,
      width: 2.5,
      dash: s.dashed ? [8, 5] : undefined,
    });
    shapes.push({
      kind: 'text',
      x: lx + 34,
      y: legendY + 4,
      text: s.label,
      size: 12,
      color: '#111111',
      anchor: 'start',
    });
    lx += 50 + s.label.length * 9;
  }
  shapes.push({ kind: 'circle', x: lx + 6, y: legendY, r: 4, color: '#555555', hollow: true });
  shapes.push({
    kind: 'text',
    x: lx + 16,
    y: legendY + 4,
    text: 'failed step (hollow)',
    size: 12,
    color: '#111111',
    anchor: 'start',
  });
  return shapes;
}

function escapeXml(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}

export function renderSvg(spec: ChartSpec): string {
  const out: string[] = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${WIDTH}" height="${HEIGHT}" viewBox="0 0 ${WIDTH} ${HEIGHT}" font-family="Helvetica, Arial, sans-serif">`,
    `<rect width="${WIDTH}" height="${HEIGHT}" fill="#ffffff"/>`,
  ];
  const f = (v: number) => +v.toFixed(1);
  for (const s of layout(spec)) {
    if (s.kind === 'line') {
      out.push(
        `<line x1="${f(s.x1)}" y1="${f(s.y1)}" x2="${f(s.x2)}" y2="${f(s.y2)}" stroke="${s.color}" stroke-width="${s.width}"${s.dash ? ` stroke-dasharray="${s.dash.join(' ')}"` : ''} stroke-linecap="round"/>`,
      );
    } else if (s.kind === 'circle') {
      out.push(
        `<circle cx="${f(s.x)}" cy="${f(s.y)}" r="${s.r}" fill="${s.hollow ? '#ffffff' : s.color}" stroke="${s.color}" stroke-width="2"/>`,
      );
    } else if (s.kind === 'rect') {
      out.push(
        `<rect x="${f(s.x)}" y="${f(s.y)}" width="${f(s.w)}" height="${f(s.h)}" fill="${s.color}"/>`,
      );
    } else {
      const transform = s.rotate ? ` transform="rotate(-90 ${f(s.x)} ${f(s.y)})"` : '';
      out.push(
        `<text x="${f(s.x)}" y="${f(s.y)}" font-size="${s.size}" fill="${s.color}" text-anchor="${s.anchor}"${s.bold ? ' font-weight="bold"' : ''}${transform}>${escapeXml(s.text)}</text>`,
      );
    }
  }
  out.push('</svg>', '');
  return out.join('\n');
}
