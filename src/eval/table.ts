/** The readable text output of `nwd eval`: settings header, summary numbers, per-class table. */
import {Chalk} from 'chalk';
import {statSpecs, LRP_KEYS} from './protocol.js';
import type {EvalResult} from './evaluate.js';

export interface TableInputs {
  gtFile: string;
  dtFile: string;
  perClass: boolean;
  /** Colour on (the caller decides from NO_COLOR and the terminal). */
  color: boolean;
}

const LRP_TEXT: Record<(typeof LRP_KEYS)[number], string> = {
  oLRP: 'optimal LRP (lower is better)', oLRPloc: 'oLRP localisation component',
  oLRPfp: 'oLRP false-positive component',
  oLRPfn: 'oLRP false-negative component',
};

/** Renders the result as text lines for a terminal or a pipe. */
export function renderTable(r: EvalResult, inp: TableInputs): string {
  const c = new Chalk({level: inp.color ? 1 : 0});
  const s = r.settings;
  const how = s.metric === 'nwd' ? `NWD thresholds (C = ${s.c} px), not IoU` : 'IoU';
  const ranges = s.areaRanges.filter((a) => a.label !== 'all')
    .map((a) => `${a.label} ${fmtArea(a.lo)}-${fmtArea(a.hi)}`).join(', ');
  const lines = [
    c.bold(`nwd eval: ${r.protocol === 'aitod' ? 'AI-TOD' : 'COCO'} protocol, matching by ${how}`),
    `  thresholds ${s.iouThrs[0].toFixed(2)}:0.05:${s.iouThrs.at(-1)!.toFixed(2)}, 101 recall points, maxDets ${
      s.maxDets.join('/')}`,
    `  area ranges (GT "area", detections w*h; px^2, inclusive): ${ranges}`,
    `  GT ${inp.gtFile}: ${r.counts.images} images, ${r.counts.gt} annotations, ${r.perClass.length} categories`,
    `  DT ${inp.dtFile}: ${r.counts.dt} detections${r.counts.dtLeftOut ? ` (${r.counts.dtLeftOut} left out)` : ''}`,
    `  GT id 0: ${s.pycocotoolsCompat ? 'as pycocotools (--pycocotools-compat)' : 'scored like any id'}; ` +
      `"ignore" field: ${s.honorIgnore ? 'honoured' : 'not honoured (as pycocotools)'}`,
    '',
  ];
  const last = s.maxDets.at(-1)!;
  const rows: string[][] = statSpecs(r.protocol).map((spec) => {
    const md = s.maxDets[spec.maxDet];
    const thr = spec.iouThr === undefined ? '0.50:0.95' : spec.iouThr.toFixed(2);
    const what = `${spec.kind === 'ap' ? 'precision' : 'recall'} @ ${s.metric === 'nwd' ? 'NWD' : 'IoU'}=${thr}, ` +
      `area ${spec.area}, maxDets ${md}`;
    return [spec.key, value(r.stats[spec.key], c), what];
  });
  if (r.protocol === 'aitod') {
    for (const k of LRP_KEYS) rows.push([k, value(r.stats[k], c), `${LRP_TEXT[k]}, threshold 0.50, maxDets ${last}`]);
  }
  lines.push(...table(['stat', 'value', 'setting'], rows, c));
  if (r.stats.AP === -1 && r.counts.dt > 0) {
    lines.push('', c.dim(`no GT in any category: AP is undefined (-1); the ${r.counts.dt} detections are all false ` +
      `positives (${(r.counts.dt / Math.max(1, r.counts.images)).toFixed(3)} per image)`));
  }
  if (inp.perClass) {
    lines.push('', c.bold(`per class (area all, maxDets ${last})`));
    lines.push(...table(['id', 'name', 'GT', 'DT', 'AP', 'AP50', 'AP75', 'AR'], r.perClass.map((p) => [
      String(p.id), p.name, String(p.gt), String(p.dt), value(p.AP, c), value(p.AP50, c), value(p.AP75, c),
      value(p.AR, c)]), c));
  }
  lines.push('', c.dim('-1: undefined (no GT in that setting), as pycocotools prints it'));
  return `${lines.join('\n')}\n`;
}

function fmtArea(v: number): string {
  return v >= 1e10 ? 'inf' : String(v);
}

function value(v: number, c: InstanceType<typeof Chalk>): string {
  return v === -1 ? c.dim('-1') : v.toFixed(3);
}

/** Left-aligned text columns, numbers right-aligned; widths ignore colour codes. */
function table(head: string[], rows: string[][], c: InstanceType<typeof Chalk>): string[] {
  // eslint-disable-next-line no-control-regex
  const plain = (s: string) => s.replace(/\u001b\[[0-9;]*m/g, '');
  const widths = head.map((h, i) => Math.max(plain(h).length, ...rows.map((r) => plain(r[i]).length)));
  const numeric = head.map((_, i) => rows.length > 0 && rows.every((r) => /^-?[\d.]+$/.test(plain(r[i]))));
  const cell = (s: string, i: number) => {
    const pad = ' '.repeat(widths[i] - plain(s).length);
    return numeric[i] ? pad + s : s + pad;
  };
  return [c.bold(head.map(cell).join('  ').trimEnd()), ...rows.map((r) => r.map(cell).join('  ').trimEnd())];
}
