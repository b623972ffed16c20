/**
 * The pipeline's report folder: size histogram, drawn validation images and report.html.
 */
import {readFile} from 'node:fs/promises';
import {join} from 'node:path';
import {writeFileAtomic} from '../cli/atomic.js';
import {readJson} from '../formats/json-input.js';
import {renderReport, type ReportTable} from '../report/html.js';
import {drawBoxes, type DrawBox} from '../report/draw.js';
import {relFrom, type PipelineOptions} from './pipeline.js';
import type {PipelineData} from './data.js';

interface ReportArgs {
  out: string;
  data: PipelineData;
  dets: string;
  metricsFile: string;
  modelConfigFile: string;
  drawImages: number;
  options: PipelineOptions;
}

interface RawGt {
  images: Array<{id: number | string; file_name: string; width?: number; height?: number}>;
  annotations: Array<{image_id: number | string; bbox: [number, number, number, number]; iscrowd?: number}>;
  categories: Array<{id: number; name: string}>;
}

type RawDet = {image_id: number | string; bbox: [number, number, number, number]; score: number; category_id: number};

/** Detections drawn on report images: at most this many per image, above this score. */
const DRAW_MAX_DETS = 300;
const DRAW_MIN_SCORE = 0.3;

/** The summary numbers as two or three short tables (AP, AR, LRP) that fit a page. */
function statsTables(protocol: string, stats: Record<string, number>): ReportTable[] {
  const groups: Array<[string, (k: string) => boolean]> = [
    ['Average precision', (k) => k.startsWith('AP')],
    ['Average recall', (k) => k.startsWith('AR')],
    ['Optimal LRP (lower is better)', (k) => k.startsWith('oLRP')],
  ];
  const name = protocol === 'aitod' ? 'AI-TOD' : 'COCO';
  return groups
    .map(([title, pick]) => Object.keys(stats).filter(pick))
    .map((keys, i) => ({
      title: `${groups[i][0]} (${name} protocol, validation split)`,
      columns: keys,
      rows: [keys.map((k) => stats[k])],
      note:
        i === 0
          ? 'IoU 0.50:0.95 unless named; ' +
            (protocol === 'aitod'
              ? 'vt/t/s/m = very tiny (<8 px), tiny (8-16), small (16-32), medium (>=32) by sqrt(area)'
              : 's/m/l = small (<32 px), medium (32-96), large (>=96) by sqrt(area)') +
            '; "–" where the split has no such objects.'
          : undefined,
    }))
    .filter((t) => t.columns.length > 0);
}

async function drawValImages(a: ReportArgs, gt: RawGt): Promise<Array<{src: string; caption: string}>> {
  const dets = (await readJson(a.dets)) as RawDet[];
  const byImage = new Map<string, RawDet[]>();
  for (const d of dets) {
    const k = String(d.image_id);
    if (!byImage.has(k)) byImage.set(k, []);
    byImage.get(k)!.push(d);
  }
  const gtByImage = new Map<string, DrawBox[]>();
  for (const an of gt.annotations) {
    const k = String(an.image_id);
    if (!gtByImage.has(k)) gtByImage.set(k, []);
    gtByImage.get(k)!.push({bbox: an.bbox});
  }
  const out: Array<{src: string; caption: string}> = [];
  for (const im of gt.images.slice(0, a.drawImages)) {
    const k = String(im.id);
    const shown = (byImage.get(k) ?? [])
      .filter((d) => d.score >= DRAW_MIN_SCORE)
      .sort((x, y) => y.score - x.score)
      .slice(0, DRAW_MAX_DETS);
    const file = join(a.out, 'images', `val_${k.replace(/[^\w.-]/g, '_')}.png`);
    const g = gtByImage.get(k) ?? [];
    await drawBoxes(
      join(a.data.images, im.file_name),
      g,
      shown.map((d) => ({bbox: d.bbox, score: d.score})),
      file,
    );
    out.push({
      src: relFrom(a.out, file),
      caption: `${im.file_name}: ${g.length} objects, ${shown.length} detections ` + `with score >= ${DRAW_MIN_SCORE}`,
    });
  }
  return out;
}

/** Writes sizes.svg, images/*.png and report.html into `a.out`. */
export async function writeReport(a: ReportArgs): Promise<void> {
  const metrics = JSON.parse(await readFile(a.metricsFile, 'utf8')) as {
    protocol: string;
    stats: Record<string, number>;
    perClass?: Array<{name: string; gt: number; dt: number; AP: number; AP50: number}>;
  };
  const cfg = JSON.parse(await readFile(a.modelConfigFile, 'utf8')) as {
    assign: {method: string; c: number};
    loss: {reg: string};
    postprocess: {nms: string; nmsThreshold: number};
  };
  const [{datasetStats}, {sizeHistogramSvg}] = await Promise.all([
    import('../stats/stats.js'),
    import('../stats/plot.js'),
  ]);
  const sizes = await datasetStats(a.data.train, {positives: false});
  const sizesSvg = sizeHistogramSvg(sizes);
  await writeFileAtomic(join(a.out, 'sizes.svg'), sizesSvg);
  const gt = (await readJson(a.data.val)) as RawGt;
  const images = await drawValImages(a, gt);
  const prSvg = await readFile(join(a.out, 'pr.svg'), 'utf8');
  let train: {backend?: string; seconds?: number; epochs?: unknown[]; preset?: string} = {};
  try {
    train = JSON.parse(await readFile(join(a.out, 'train.json'), 'utf8'));
  } catch {
    /* trained by an earlier version of the folder: no summary */
  }
  const tables: ReportTable[] = statsTables(metrics.protocol, metrics.stats);
  if (metrics.perClass?.length) {
    tables.push({
      title: 'Per class',
      columns: ['class', 'GT', 'detections', 'AP', 'AP50'],
      rows: metrics.perClass.map((c) => [c.name, c.gt, c.dt, c.AP, c.AP50]),
    });
  }
  const html = renderReport({
    title: 'nwd pipeline report',
    subtitle: `${a.options.data ? `data ${a.options.data}` : 'synthetic data (nwd synth)'} · ${
      new Date().toISOString()}`,
    settings: [
      ['training split', `${sizes.images} images, ${sizes.objects} objects (${a.data.train})`],
      ['validation split', `${gt.images.length} images, ${gt.annotations.length} objects (${a.data.val})`],
      ['assignment', cfg.assign.method],
      ['regression loss', cfg.loss.reg],
      ['NMS', `${cfg.postprocess.nms} > ${cfg.postprocess.nmsThreshold}`],
      ['NWD constant C', `${cfg.assign.c.toFixed(2)} px`],
      ['backend', train.backend ?? 'unknown'],
      [
        'training',
        train.seconds !== undefined
          ? `${train.epochs?.length ?? '?'} epochs, ${train.seconds.toFixed(0)} s` + ` (preset ${train.preset ?? '?'})`
          : 'unknown',
      ],
    ],
    tables,
    figures: [
      {svg: prSvg, caption: 'Precision-recall curves per IoU threshold (validation split).'},
      {svg: sizesSvg, caption: 'Object sizes of the training split: sqrt(w*h) in px.'},
    ],
    images,
  });
  await writeFileAtomic(join(a.out, 'report.html'), html);
}
