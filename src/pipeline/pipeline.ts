/**
 * `nwd pipeline`: data -> train -> predict -> nms -> eval -> report, each step's output kept
 * in the report folder and skipped on a rerun when its inputs did not change.
 *
 * Folder layout (OUT/):
 *   data/            synth images + train.json/val.json, or the split of the user's GT
 *   model/           the trained model (tfjs model.json + weights + config.json)
 *   predictions.raw.json  detections before NMS (COCO results)
 *   detections.json  after NMS
 *   metrics.json     {"protocol", "stats", "perClass", "settings"}
 *   pr.svg, sizes.svg, images/*.png, report.html, steps.json
 */
import {mkdir, readFile} from 'node:fs/promises';
import {join, resolve, relative} from 'node:path';
import {UserError} from '../cli/errors.js';
import {AtomicWriter, writeFileAtomic} from '../cli/atomic.js';
import {info} from '../cli/log.js';
import {StepRunner} from './steps.js';
import {splitCoco, checkImageFiles, type PipelineData} from './data.js';
import type {AssignerName, RegLoss} from '../detector/config.js';
import type {Preset} from '../detector/train.js';
import type {BackendChoice} from '../detector/backend.js';
import type {Protocol} from '../eval/protocol.js';

export interface PipelineOptions {
  out: string;
  /** Run on generated data (`nwd synth`); the default when `data` is not given. */
  synth?: {images?: number; seed?: number; size?: number};
  /** A COCO GT and the folder its file names are relative to. */
  data?: string;
  images?: string;
  /** Validation GT (same image folder); without it `valSplit` of the images are held out. */
  val?: string;
  valSplit?: number;
  seed?: number;
  preset?: Preset;
  epochs?: number;
  assign?: AssignerName;
  loss?: RegLoss;
  nms?: 'iou' | 'nwd';
  nmsThreshold?: number;
  /** NWD constant (default: the training objects' mean sqrt(w*h)). */
  c?: number;
  protocol?: Protocol;
  backend?: BackendChoice;
  /** Rerun every step. */
  force?: boolean;
  /** Validation images drawn in the report (default 6). */
  drawImages?: number;
  /** Reuse an existing data step (ablation runs share one). */
  prepared?: PipelineData;
}

export interface PipelineResult {
  out: string;
  report: string;
  metrics: string;
  protocol: Protocol;
  stats: Record<string, number>;
  data: PipelineData;
  backend?: string;
  ran: string[];
  skipped: string[];
  seconds: Record<string, number>;
}

const KEYS = new Set([
  'out',
  'synth',
  'data',
  'images',
  'val',
  'valSplit',
  'seed',
  'preset',
  'epochs',
  'assign',
  'loss',
  'nms',
  'nmsThreshold',
  'c',
  'protocol',
  'backend',
  'force',
  'drawImages',
  'prepared',
]);

/** Checks options key by key. */
export function checkPipelineOptions(o: PipelineOptions): void {
  for (const k of Object.keys(o)) if (!KEYS.has(k)) throw new TypeError(`unknown pipeline option "${k}"`);
  if (o.data && !o.images) {
    throw new UserError("--data needs --images (the folder the GT's file names are relative to)", {code: 'E_FLAG'});
  }
  if (!o.data && (o.images || o.val)) {
    throw new UserError('--images and --val go with --data', {code: 'E_FLAG', fix: 'add --data GT.json, or drop them'});
  }
  if (o.data && o.synth) throw new UserError('--synth and --data exclude each other', {code: 'E_FLAG'});
}

/** The data step: synth data or the user's GT (split unless a val GT is given). */
async function dataStep(runner: StepRunner, o: PipelineOptions, dir: string): Promise<PipelineData> {
  if (o.prepared) return o.prepared;
  const seed = o.seed ?? 0;
  if (!o.data) {
    const synthOpts = {
      out: dir,
      images: o.synth?.images ?? 120,
      seed: o.synth?.seed ?? seed,
      size: o.synth?.size ?? 256,
    };
    const data = {train: join(dir, 'train.json'), val: join(dir, 'val.json'), images: join(dir, 'images')};
    await runner.step({
      name: 'data',
      inputs: [],
      params: {synth: synthOpts},
      outputs: [data.train, data.val, data.images],
      run: async () => {
        await (await import('../synth/synth.js')).synthesize(synthOpts);
      },
    });
    return data;
  }
  const images = resolve(o.images!);
  if (o.val) {
    for (const f of [o.data, o.val]) await checkImageFiles(f, images);
    return {train: resolve(o.data), val: resolve(o.val), images};
  }
  const split = {train: join(dir, 'train.json'), val: join(dir, 'val.json'), images};
  const valSplit = o.valSplit ?? 0.3;
  await runner.step({
    name: 'data',
    inputs: [o.data],
    params: {valSplit, seed, images},
    outputs: [split.train, split.val],
    run: async () => {
      await splitCoco(o.data!, images, dir, valSplit, seed);
    },
  });
  return split;
}

/** Runs the whole pipeline; see the module comment for what lands where. */
export async function runPipeline(o: PipelineOptions): Promise<PipelineResult> {
  checkPipelineOptions(o);
  const out = resolve(o.out);
  await mkdir(out, {recursive: true});
  const runner = await StepRunner.open(out, o.force);
  const data = await dataStep(runner, o, join(out, 'data'));
  const protocol = o.protocol ?? 'aitod';
  const modelDir = join(out, 'model');
  const raw = join(out, 'predictions.raw.json');
  const dets = join(out, 'detections.json');
  const metricsFile = join(out, 'metrics.json');
  const nmsMetric = o.nms ?? 'iou';
  const trainParams = {
    preset: o.preset ?? 'smoke',
    epochs: o.epochs,
    assign: o.assign,
    loss: o.loss,
    nms: nmsMetric,
    c: o.c,
    seed: o.seed ?? 0,
    backend: o.backend,
  };
  let backend: string | undefined;

  await runner.step({
    name: 'train',
    inputs: [data.train, data.images],
    params: trainParams,
    outputs: [join(modelDir, 'config.json')],
    run: async () => {
      const {train} = await import('../detector/train.js');
      const r = await train({
        data: data.train,
        images: data.images,
        out: modelDir,
        preset: trainParams.preset,
        seed: trainParams.seed,
        ...defined({epochs: o.epochs, assign: o.assign, loss: o.loss, nms: nmsMetric, c: o.c, backend: o.backend}),
      });
      backend = r.backend;
      await writeFileAtomic(join(out, 'train.json'), `${JSON.stringify(r, null, 2)}\n`);
    },
  });

  await runner.step({
    name: 'predict',
    inputs: [modelDir, data.val],
    params: {backend: o.backend},
    outputs: [raw],
    run: async () => {
      const {predict} = await import('../detector/predict.js');
      const r = await predict({
        model: modelDir,
        images: [data.images],
        gt: data.val,
        out: raw,
        raw: true,
        ...defined({backend: o.backend}),
      });
      backend ??= r.backend;
    },
  });

  const modelConfig = JSON.parse(await readFile(join(modelDir, 'config.json'), 'utf8')) as {assign: {c: number}};
  const nmsOpts = {metric: nmsMetric, c: modelConfig.assign.c, ...defined({threshold: o.nmsThreshold})};
  await runner.step({
    name: 'nms',
    inputs: [raw],
    params: nmsOpts,
    outputs: [dets],
    run: async () => {
      const {nmsRecords} = await import('../nms/records.js');
      const w = await AtomicWriter.open(dets);
      try {
        await nmsRecords(raw, nmsOpts, {write: (t: string) => w.write(t)});
        await w.commit();
      } finally {
        await w.abort();
      }
    },
  });

  await runner.step({
    name: 'eval',
    inputs: [dets, data.val],
    params: {protocol},
    outputs: [metricsFile, join(out, 'pr.svg')],
    run: async () => {
      const [{loadCocoGt}, {evaluateFile}, {prCurvesSvg}] = await Promise.all([
        import('../formats/coco.js'),
        import('../eval/evaluate.js'),
        import('../eval/plot.js'),
      ]);
      const r = await evaluateFile(await loadCocoGt(data.val), dets, {protocol});
      for (const w of r.warnings) info(`eval: ${w}`);
      await writeFileAtomic(
        metricsFile,
        `${JSON.stringify({protocol, stats: r.stats, perClass: r.perClass, settings: r.settings}, null, 2)}\n`,
      );
      await writeFileAtomic(join(out, 'pr.svg'), prCurvesSvg(r));
    },
  });
  const stats = (JSON.parse(await readFile(metricsFile, 'utf8')) as {stats: Record<string, number>}).stats;

  const report = join(out, 'report.html');
  await runner.step({
    name: 'report',
    inputs: [metricsFile, dets, data.val, data.train, join(out, 'pr.svg')],
    params: {draw: o.drawImages ?? 6, v: 1},
    outputs: [report],
    run: async () => {
      const {writeReport} = await import('./report.js');
      await writeReport({
        out,
        data,
        dets,
        metricsFile,
        drawImages: o.drawImages ?? 6,
        options: o,
        modelConfigFile: join(modelDir, 'config.json'),
      });
    },
  });

  return {
    out,
    report,
    metrics: metricsFile,
    protocol,
    stats,
    data,
    backend,
    ran: runner.ran,
    skipped: runner.skipped,
    seconds: runner.timings(),
  };
}

/** `obj` without its undefined values (so option validators see only what was set). */
export function defined<T extends Record<string, unknown>>(obj: T): Partial<T> {
  return Object.fromEntries(Object.entries(obj).filter(([, v]) => v !== undefined)) as Partial<T>;
}

/** Path of `p` relative to the report folder, with forward slashes, for HTML. */
export function relFrom(out: string, p: string): string {
  return relative(out, p).split('\\').join('/');
}
