/**
 * `nwd ablate`: the pipeline several times on the same data and budget, changing one NWD
 * choice at a time (assignment, NMS, loss) and then all together, as in the paper's tables.
 */
import {join, resolve} from 'node:path';
import {mkdir, readFile} from 'node:fs/promises';
import {writeFileAtomic} from '../cli/atomic.js';
import {info} from '../cli/log.js';
import {UserError} from '../cli/errors.js';
import {runPipeline, type PipelineOptions} from './pipeline.js';
import type {AssignerName, RegLoss} from '../detector/config.js';
import type {PositivesImage} from '../assign/positives.js';

export interface Variant {
  name: string;
  assign: AssignerName;
  loss: RegLoss;
  nms: 'iou' | 'nwd';
}

/** The paper's comparisons, one change at a time from the IoU baseline, then all NWD together. */
export const VARIANTS: Variant[] = [
  {name: 'iou', assign: 'iou', loss: 'smoothl1', nms: 'iou'},
  {name: 'assign-nwd', assign: 'nwd', loss: 'smoothl1', nms: 'iou'},
  {name: 'assign-rka', assign: 'rka', loss: 'smoothl1', nms: 'iou'},
  {name: 'nms-nwd', assign: 'iou', loss: 'smoothl1', nms: 'nwd'},
  {name: 'loss-nwd', assign: 'iou', loss: 'nwd', nms: 'iou'},
  {name: 'all-nwd', assign: 'nwd', loss: 'nwd', nms: 'nwd'},
];

export const ABLATION_KEYS = ['AP', 'AP50', 'AP75', 'APvt', 'APt', 'APs', 'APm'] as const;

export interface AblationRow extends Variant {
  stats: Record<string, number>;
  /** Positive anchors per training object under this variant's assigner. */
  positivesPerGt: number;
  /** Share of training objects with no positive anchor. */
  zeroShare: number;
  seconds: number;
}

export interface AblationResult {
  out: string;
  protocol: string;
  data: string;
  rows: AblationRow[];
  table: string;
}

/** Per-image boxes of a training GT for the positives analysis, loaded once per file. */
const imagesCache = new Map<string, Promise<PositivesImage[]>>();

function trainImages(trainGt: string): Promise<PositivesImage[]> {
  let cached = imagesCache.get(trainGt);
  if (!cached) {
    cached = (async () => {
      const [{loadCocoGt}, {positivesImages}] = await Promise.all([
        import('../formats/coco.js'),
        import('../stats/stats.js'),
      ]);
      return positivesImages(await loadCocoGt(trainGt)).images;
    })();
    imagesCache.set(trainGt, cached);
  }
  return cached;
}

/** Positives per GT on the training split for one assigner. */
async function positives(trainGt: string, assigner: AssignerName, c: number): Promise<{mean: number; zero: number}> {
  const {positivesPerGt} = await import('../assign/positives.js');
  const images = await trainImages(trainGt);
  const r = positivesPerGt(images, {assigner, ...(assigner === 'iou' || assigner === 'atss-iou' ? {} : {c})});
  return {mean: r.perBin.all.meanPositives, zero: r.perBin.all.zeroShare};
}

/** A Markdown table of the rows (what `nwd ablate` prints and writes to ablation.md). */
export function ablationTable(rows: AblationRow[]): string {
  const fmt = (v: number) => (v < 0 ? '-' : (100 * v).toFixed(1));
  const head = ['variant', 'assign', 'loss', 'NMS', ...ABLATION_KEYS, 'pos/GT', 'no pos'];
  const lines = [
    head,
    head.map(() => '---'),
    ...rows.map((r) => [
      r.name,
      r.assign,
      r.loss,
      r.nms,
      ...ABLATION_KEYS.map((k) => fmt(r.stats[k] ?? -1)),
      r.positivesPerGt.toFixed(2),
      `${(100 * r.zeroShare).toFixed(0)}%`,
    ]),
  ];
  return lines.map((l) => `| ${l.join(' | ')} |`).join('\n');
}

/** Runs every variant (or those named, in the order named) into OUT/<variant>, sharing OUT/data. */
export async function runAblation(base: PipelineOptions, only?: string[]): Promise<AblationResult> {
  const variants = only?.length ? only.flatMap((n) => VARIANTS.filter((v) => v.name === n)) : VARIANTS;
  const unknown = (only ?? []).filter((n) => !VARIANTS.some((v) => v.name === n));
  if (unknown.length) {
    throw new UserError(`unknown variant(s) ${unknown.join(', ')}`, {
      code: 'E_FLAG',
      fix: `choose among ${VARIANTS.map((v) => v.name).join(', ')}`,
    });
  }
  const out = resolve(base.out);
  await mkdir(out, {recursive: true});
  const rows: AblationRow[] = [];
  let prepared = base.prepared;
  for (const v of variants) {
    info(`ablate: variant ${v.name} (assign ${v.assign}, loss ${v.loss}, nms ${v.nms})`);
    const t0 = Date.now();
    const r = await runPipeline({
      ...base,
      out: join(out, v.name),
      assign: v.assign,
      loss: v.loss,
      nms: v.nms,
      ...(prepared ? {prepared} : {}),
    });
    prepared ??= r.data;
    const cfg = JSON.parse(await readFile(join(r.out, 'model', 'config.json'), 'utf8')) as {assign: {c: number}};
    const pos = await positives(r.data.train, v.assign, cfg.assign.c);
    rows.push({...v, stats: r.stats, positivesPerGt: pos.mean, zeroShare: pos.zero, seconds: (Date.now() - t0) / 1000});
  }
  const table = ablationTable(rows);
  const protocol = base.protocol ?? 'aitod';
  const data = base.data ?? 'synthetic (nwd synth)';
  await writeFileAtomic(join(out, 'ablation.json'), `${JSON.stringify({protocol, data, rows}, null, 2)}\n`);
  await writeFileAtomic(join(out, 'ablation.md'), `Ablation on ${data}, ${protocol} protocol, AP in %\n\n${table}\n`);
  return {out, protocol, data, rows, table};
}
