/**
 * Small self-contained SVG charts (no fonts, scripts or styles from outside the file): line
 * charts, grouped bar charts, and a grid to put several in one file. Each has a title, axes
 * with ticks and labels, and a legend when there is more than one series.
 */

export interface LineSeries {
  name: string;
  /** [x, y] points, drawn in the given order; non-finite points break the line. */
  points: Array<[number, number]>;
}

export interface LineChartOptions {
  title: string;
  xLabel: string;
  yLabel: string;
  series: LineSeries[];
  /** Axis ranges; default: the data's range, widened to nice ticks. */
  xDomain?: [number, number];
  yDomain?: [number, number];
  /** Draw the line as steps (right-continuous), as for precision-recall envelopes. */
  step?: boolean;
  width?: number;
  height?: number;
}

export interface BarSeries {
  name: string;
  /** One value per category. */
  values: number[];
}

export interface BarChartOptions {
  title: string;
  xLabel: string;
  yLabel: string;
  categories: string[];
  series: BarSeries[];
  /** Value axis range; default [min(0, data), max(data)] widened to nice ticks. */
  yDomain?: [number, number];
  width?: number;
  height?: number;
}

/** Ten distinguishable colours (colour-blind friendly order first). */
export const PALETTE = ['#1f77b4', '#ff7f0e', '#2ca02c', '#d62728', '#9467bd', '#8c564b', '#e377c2', '#7f7f7f',
  '#bcbd22', '#17becf'];

/** Clip-path ids stay unique when several charts are inlined in one HTML page. */
let clipSeq = 0;

const FONT = 'font-family="Helvetica, Arial, sans-serif"';

/** Escapes text for SVG/XML content and attributes. */
export function esc(s: string): string {
  return s.replace(/[&<>"']/g, (c) => ({'&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;'}[c]!));
}

/** About `count` round tick values covering [lo, hi] (steps 1, 2 or 5 times a power of ten). */
export function niceTicks(lo: number, hi: number, count = 5): number[] {
  if (!(Number.isFinite(lo) && Number.isFinite(hi))) return [0, 1];
  if (hi === lo) {
    const pad = lo === 0 ? 1 : Math.abs(lo) / 2;
    lo -= pad;
    hi += pad;
  }
  const raw = (hi - lo) / count;
  const mag = 10 ** Math.floor(Math.log10(raw));
  const step = [1, 2, 5, 10].map((m) => m * mag).find((s) => s >= raw) ?? 10 * mag;
  const start = Math.floor(lo / step + 1e-9) * step, end = Math.ceil(hi / step - 1e-9) * step;
  const ticks: number[] = [];
  for (let v = start; v <= end + step / 2; v += step) ticks.push(Number(v.toPrecision(12)));
  return ticks;
}

/** A text element (escaped); `extra` holds further attributes (default fill #333). */
function text(x: number, y: number, s: string, anchor: 'start' | 'middle' | 'end', size: number, extra = ''): string {
  const fill = extra.includes('fill=') ? '' : ' fill="#333"';
  return `<text x="${x}" y="${y}" text-anchor="${anchor}" font-size="${size}"${fill}${extra ? ` ${extra}` : ''}>` +
    `${esc(s)}</text>`;
}

function fmt(v: number): string {
  const a = Math.abs(v);
  if (a !== 0 && (a >= 1e5 || a < 1e-3)) return v.toExponential(1);
  return String(Number(v.toPrecision(6)));
}

interface Frame {
  width: number;
  height: number;
  left: number;
  top: number;
  plotW: number;
  plotH: number;
}

function frame(width: number, height: number, legendRows: number): Frame {
  const left = 64, top = 40, right = 16, bottom = 52 + (legendRows > 0 ? 18 * legendRows + 8 : 0);
  return {width, height, left, top, plotW: width - left - right, plotH: height - top - bottom};
}

function open(f: Frame, title: string): string[] {
  return [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${f.width}" height="${f.height}" ` +
      `viewBox="0 0 ${f.width} ${f.height}" ${FONT}>`,
    `<title>${esc(title)}</title>`,
    `<rect width="${f.width}" height="${f.height}" fill="#ffffff"/>`,
    text(f.width / 2, 24, title, 'middle', 15, 'font-weight="bold" fill="#222"'),
  ];
}

function axisLabels(f: Frame, xLabel: string, yLabel: string): string[] {
  const cy = f.top + f.plotH / 2;
  return [
    text(f.left + f.plotW / 2, f.top + f.plotH + 38, xLabel, 'middle', 12),
    text(16, cy, yLabel, 'middle', 12, `transform="rotate(-90 16 ${cy})"`),
    `<rect x="${f.left}" y="${f.top}" width="${f.plotW}" height="${f.plotH}" fill="none" stroke="#444"/>`,
  ];
}

function yAxis(f: Frame, ticks: number[], y: (v: number) => number): string[] {
  return ticks.flatMap((t) => [
    `<line x1="${f.left}" x2="${f.left + f.plotW}" y1="${y(t)}" y2="${y(t)}" stroke="#e5e5e5" stroke-width="1"/>`,
    `<line x1="${f.left - 4}" x2="${f.left}" y1="${y(t)}" y2="${y(t)}" stroke="#444"/>`,
    `<text x="${f.left - 7}" y="${y(t) + 4}" text-anchor="end" font-size="11" fill="#333">${fmt(t)}</text>`,
  ]);
}

/** Legend entries in rows under the x label; returns the SVG lines. */
function legend(f: Frame, names: string[], swatch: 'line' | 'box'): string[] {
  if (names.length < 2) return [];
  const perRow = Math.max(1, Math.floor(f.plotW / 130));
  return names.flatMap((name, i) => {
    const x = f.left + (i % perRow) * 130, y = f.top + f.plotH + 58 + Math.floor(i / perRow) * 18;
    const color = PALETTE[i % PALETTE.length];
    const mark = swatch === 'line'
      ? `<line x1="${x}" x2="${x + 18}" y1="${y - 4}" y2="${y - 4}" stroke="${color}" stroke-width="2.5"/>`
      : `<rect x="${x + 4}" y="${y - 10}" width="10" height="10" fill="${color}"/>`;
    return [mark, text(x + 23, y, name.length > 16 ? `${name.slice(0, 15)}…` : name, 'start', 11)];
  });
}

function legendRows(f: {width: number}, n: number): number {
  if (n < 2) return 0;
  return Math.ceil(n / Math.max(1, Math.floor((f.width - 80) / 130)));
}

/** A line chart as a standalone SVG document. */
export function lineChart(o: LineChartOptions): string {
  const width = o.width ?? 640, height0 = o.height ?? 420;
  const rows = legendRows({width}, o.series.length);
  const f = frame(width, height0 + 18 * rows, rows);
  const pts = o.series.flatMap((s) => s.points).filter(([x, y]) => Number.isFinite(x) && Number.isFinite(y));
  const ext = (i: 0 | 1): [number, number] => pts.length
    ? [Math.min(...pts.map((p) => p[i])), Math.max(...pts.map((p) => p[i]))] : [0, 1];
  const xt = niceTicks(...(o.xDomain ?? ext(0))), yt = niceTicks(...(o.yDomain ?? ext(1)));
  const [x0, x1] = o.xDomain ?? [xt[0], xt[xt.length - 1]];
  const [y0, y1] = o.yDomain ?? [yt[0], yt[yt.length - 1]];
  const x = (v: number) => round(f.left + ((v - x0) / (x1 - x0 || 1)) * f.plotW);
  const y = (v: number) => round(f.top + f.plotH - ((v - y0) / (y1 - y0 || 1)) * f.plotH);
  const out = open(f, o.title);
  out.push(...yAxis(f, yt.filter((t) => t >= y0 - 1e-12 && t <= y1 + 1e-12), y));
  for (const t of xt.filter((v) => v >= x0 - 1e-12 && v <= x1 + 1e-12)) {
    out.push(`<line x1="${x(t)}" x2="${x(t)}" y1="${f.top + f.plotH}" y2="${f.top + f.plotH + 4}" stroke="#444"/>`,
      `<text x="${x(t)}" y="${f.top + f.plotH + 17}" text-anchor="middle" font-size="11" fill="#333">${fmt(t)}</text>`);
  }
  const clip = `nwd-plot-${++clipSeq}`;
  out.push(`<clipPath id="${clip}"><rect x="${f.left}" y="${f.top}" width="${f.plotW}" height="${f.plotH}"/>` +
    '</clipPath>');
  o.series.forEach((s, i) => {
    const color = PALETTE[i % PALETTE.length];
    for (const run of runs(s.points)) {
      const path = run.map(([px, py], j) =>
        j === 0 ? `M${x(px)},${y(py)}` : o.step ? `H${x(px)}V${y(py)}` : `L${x(px)},${y(py)}`).join('');
      out.push(`<path d="${path}" fill="none" stroke="${color}" stroke-width="2" clip-path="url(#${clip})">` +
        `<title>${esc(s.name)}</title></path>`);
    }
  });
  out.push(...axisLabels(f, o.xLabel, o.yLabel), ...legend(f, o.series.map((s) => s.name), 'line'), '</svg>');
  return `${out.join('\n')}\n`;
}

/** Splits points into runs of finite points. */
function runs(points: Array<[number, number]>): Array<Array<[number, number]>> {
  const out: Array<Array<[number, number]>> = [[]];
  for (const p of points) {
    if (Number.isFinite(p[0]) && Number.isFinite(p[1])) out[out.length - 1].push(p);
    else if (out[out.length - 1].length) out.push([]);
  }
  return out.filter((r) => r.length > 0);
}

function round(v: number): number {
  return Math.round(v * 100) / 100;
}

/** A grouped bar chart (one group per category, one bar per series) as a standalone SVG. */
export function barChart(o: BarChartOptions): string {
  for (const s of o.series) {
    if (s.values.length !== o.categories.length) {
      throw new RangeError(`series "${s.name}" has ${s.values.length} values for ${o.categories.length} categories`);
    }
  }
  const width = o.width ?? Math.max(480, Math.min(1600, 80 + o.categories.length * (16 + 14 * o.series.length)));
  const rows = legendRows({width}, o.series.length);
  const rotate = o.categories.some((c) => c.length * 6.5 > (width - 80) / Math.max(1, o.categories.length));
  const extra = rotate ? Math.min(90, 6 * Math.max(...o.categories.map((c) => Math.min(c.length, 14)))) : 0;
  const f = frame(width, (o.height ?? 400) + 18 * rows + extra, rows);
  f.plotH -= extra;
  const vals = o.series.flatMap((s) => s.values).filter(Number.isFinite);
  const yt = niceTicks(...(o.yDomain ?? [Math.min(0, ...vals), vals.length ? Math.max(...vals) : 1]));
  const [y0, y1] = o.yDomain ?? [yt[0], yt[yt.length - 1]];
  const y = (v: number) => round(f.top + f.plotH - ((Math.min(Math.max(v, y0), y1) - y0) / (y1 - y0 || 1)) * f.plotH);
  const out = open(f, o.title);
  out.push(...yAxis(f, yt.filter((t) => t >= y0 - 1e-12 && t <= y1 + 1e-12), y));
  const groupW = f.plotW / Math.max(1, o.categories.length);
  const barW = Math.max(1, (groupW * 0.8) / Math.max(1, o.series.length));
  o.categories.forEach((cat, ci) => {
    const gx = f.left + ci * groupW + groupW * 0.1;
    o.series.forEach((s, si) => {
      const v = s.values[ci];
      if (!Number.isFinite(v)) return;
      const top = y(Math.max(v, 0)), base = y(Math.min(v, 0));
      const h = round(Math.max(0.5, base - top));
      out.push(`<rect x="${round(gx + si * barW)}" y="${top}" width="${round(barW)}" height="${h}" ` +
        `fill="${PALETTE[si % PALETTE.length]}"><title>${esc(`${s.name} ${cat}: ${fmt(v)}`)}</title></rect>`);
    });
    const cx = round(f.left + (ci + 0.5) * groupW), ty = f.top + f.plotH + 15;
    const label = cat.length > 14 ? `${cat.slice(0, 13)}…` : cat;
    out.push(rotate
      ? text(cx, ty, label, 'end', 11, `transform="rotate(-45 ${cx} ${ty})"`)
      : text(cx, ty, label, 'middle', 11));
  });
  const xl = axisLabels(f, o.xLabel, o.yLabel);
  if (extra) xl[0] = xl[0].replace(`y="${f.top + f.plotH + 38}"`, `y="${f.top + f.plotH + 38 + extra}"`);
  out.push(...xl, ...legend({...f, plotH: f.plotH + extra}, o.series.map((s) => s.name), 'box'), '</svg>');
  return `${out.join('\n')}\n`;
}

/** Several SVG documents in one, laid out in a grid of `columns` (charts keep their size). */
export function grid(charts: string[], columns = 2, title?: string): string {
  const sizes = charts.map((c) => {
    const m = /<svg[^>]*width="([\d.]+)"[^>]*height="([\d.]+)"/.exec(c);
    return m ? [Number(m[1]), Number(m[2])] : [640, 420];
  });
  const cellW = Math.max(...sizes.map((s) => s[0]), 1), cellH = Math.max(...sizes.map((s) => s[1]), 1);
  const top = title ? 36 : 0;
  const cols = Math.max(1, Math.min(columns, charts.length));
  const W = cellW * cols, H = top + cellH * Math.ceil(charts.length / cols);
  const body = charts.map((c, i) => {
    const x = (i % cols) * cellW, yy = top + Math.floor(i / cols) * cellH;
    return c.replace('<svg ', `<svg x="${x}" y="${yy}" `);
  });
  const head = title
    ? text(W / 2, 24, title, 'middle', 17, 'font-weight="bold" fill="#222"') : '';
  return `<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" viewBox="0 0 ${W} ${H}" ${FONT}>\n` +
    `<rect width="${W}" height="${H}" fill="#ffffff"/>\n${head}\n${body.join('\n')}</svg>\n`;
}
