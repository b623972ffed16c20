/** The plain-text report `nwd stats` prints on stdout. */
import {SIZE_BINS} from './sizes.js';
import type {StatsResult} from './stats.js';

const BIN_LABELS = ['<8', '8-16', '16-32', '>=32'];

function pad(cells: string[], widths: number[]): string {
  return cells.map((c, i) => (i === 0 ? c.padEnd(widths[i]) : c.padStart(widths[i]))).join('  ').trimEnd();
}

function fmt(x: number, digits = 2): string {
  return Number.isFinite(x) ? x.toFixed(digits) : '-';
}

function classTable(r: StatsResult): string[] {
  const head = ['class', 'id', 'objects', ...BIN_LABELS.map((b) => `${b} px`), 'mean sqrt(wh)'];
  const rows = r.perClass.filter((c) => c.count > 0).map((c) => [c.name, String(c.id), String(c.count),
    ...SIZE_BINS.map((b) => String(c.bins[b])),
    fmt(c.meanSqrtWh)]);
  rows.push(['all', '', String(r.objects), ...SIZE_BINS.map((b) => String(r.bins[b])), fmt(r.recommendedC)]);
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((row) => row[i].length)));
  const empty = r.perClass.filter((c) => c.count === 0).length;
  return [pad(head, widths), ...rows.map((row) => pad(row, widths)),
    ...(empty ? [`(${empty} categories without objects not shown)`] : [])];
}

function positivesTable(r: StatsResult): string[] {
  const p = r.positives;
  if (!p) return [];
  const head = ['size bin', 'objects', 'IoU pos/obj', 'NWD pos/obj', 'IoU none', 'NWD none'];
  const rows = [...SIZE_BINS, 'all' as const].map((b, i) => [
    i < 4 ? `${b} (${BIN_LABELS[i]})` : 'all', String(p.iou.perBin[b].gts), fmt(p.iou.perBin[b].meanPositives),
    fmt(p.nwd.perBin[b].meanPositives), `${fmt(100 * p.iou.perBin[b].zeroShare, 1)}%`,
    `${fmt(100 * p.nwd.perBin[b].zeroShare, 1)}%`]);
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((row) => row[i].length)));
  return [
    '',
    `positive anchors per object: max-overlap 0.7/0.3 with low-quality matches, anchors ${p.anchors}, ` +
      `NWD C = ${fmt(p.c)}`,
    ...(p.imagesWithoutSize ? [`(${p.imagesWithoutSize} images without width/height left out)`] : []),
    pad(head, widths), ...rows.map((row) => pad(row, widths)),
  ];
}

/** The stats report as text lines. */
export function statsText(r: StatsResult): string {
  const d = r.sqrtWh;
  return [
    `${r.file}: ${r.images} images, ${r.objects} objects, ${r.crowd} crowd/ignore, ${r.degenerate} degenerate, ` +
      `${r.imagesWithoutObjects} images without objects`,
    '',
    ...classTable(r),
    '',
    `sqrt(w*h) px: min ${fmt(d.min)}  p10 ${fmt(d.p10)}  median ${fmt(d.median)}  p90 ${fmt(d.p90)}  ` +
      `max ${fmt(d.max)}  mean ${fmt(d.mean)}`,
    `recommended NWD constant C = mean sqrt(w*h) = ${fmt(r.recommendedC)} px`,
    ...positivesTable(r),
  ].join('\n') + '\n';
}
