/**
 * The training loop behind `nwd train`: loads COCO ground truth and images, builds (or resumes)
 * the detector, and per step draws random crops of image tiles with flips, assigns anchors in
 * wasm, and takes an Adam step on the focal + regression loss (gradient norm clipped). After every
 * epoch: validation (with `val`) and an atomic checkpoint. Ctrl-C (SIGINT) or `signal` stops at
 * the next step boundary after saving.
 */
import {stat} from 'node:fs/promises';
import {join} from 'node:path';
import * as tf from '@tensorflow/tfjs';
import {UserError} from '../cli/errors.js';
import {info, verbose, warn} from '../cli/log.js';
import {startProgress} from '../cli/progress.js';
import {selectBackend, type BackendChoice} from './backend.js';
import {DEFAULT_ANCHOR_LAYOUT, generateAnchors, type AnchorLayout} from './anchors.js';
import {loadBackbone} from './backbone.js';
import {DEFAULT_REG_WEIGHT, type AssignerName, type ClsLoss, type DetectorConfig, type NmsMetric,
  type RegLoss} from './config.js';
import {cropTargets, ImageCache, loadTrainSet, randomCrop, tiles, writeWindow, type CropTargets, type TrainImage,
  type Window} from './data.js';
import {buildDetector, seedWeights} from './model.js';
import {loadModelDir, loadOptimizerState, saveModelDir, type TrainState} from './checkpoint.js';
import {Rng} from '../util/rng.js';
import {detectorLoss} from './step.js';
import {batchTargets} from './targets.js';
import {validate, type ValStats} from './validate.js';

export const PRESETS = ['smoke', 'default'] as const;
export type Preset = (typeof PRESETS)[number];

/** Options of {@link train}; only `data`, `images` and `out` are required. */
export interface TrainOptions {
  /** COCO ground truth of the training images. */
  data: string;
  /** Directory the GT's `file_name`s are relative to. */
  images: string;
  /** Model directory to write (checkpointed after every epoch). */
  out: string;
  /** COCO ground truth for validation after each epoch, and its image directory (default: `images`). */
  val?: string;
  valImages?: string;
  preset?: Preset;
  epochs?: number;
  batch?: number;
  lr?: number;
  /** Tile side for large images; crop side of training samples. */
  tile?: number;
  crop?: number;
  /** Continue from the checkpoint in `out`. */
  resume?: boolean;
  seed?: number;
  assign?: AssignerName;
  loss?: RegLoss;
  clsLoss?: ClsLoss;
  /** Weight of the regression loss (default per loss, see DEFAULT_REG_WEIGHT). */
  regWeight?: number;
  nms?: NmsMetric;
  /** NWD constant C, px (default: the training objects' mean sqrt(w*h)). */
  c?: number;
  anchors?: AnchorLayout;
  backend?: BackendChoice;
  /** A tfjs layers model (model.json path or directory) to use as backbone. */
  backbone?: string;
  /** Advanced: overrides of the preset's hyper-parameters (model widths, crops per tile, ...). */
  hyper?: Partial<Hyper>;
  /** Stops training (after saving) when aborted. */
  signal?: AbortSignal;
  /** Called after each epoch (e.g. by tests). */
  onEpoch?: (e: EpochSummary) => void;
}

export interface EpochSummary {
  epoch: number;
  loss: number;
  cls: number;
  reg: number;
  seconds: number;
  val?: ValStats;
}

export interface TrainResult {
  backend: string;
  out: string;
  preset: Preset;
  params: number;
  epochs: EpochSummary[];
  steps: number;
  seconds: number;
  imagesPerSecond: number;
  interrupted: boolean;
  resumedFromEpoch?: number;
  config: {assign: AssignerName; c: number; loss: RegLoss; clsLoss: ClsLoss; nms: NmsMetric; batch: number; lr: number;
    crop: number; tile: number};
}

export interface Hyper {
  epochs: number;
  batch: number;
  lr: number;
  tile: number;
  crop: number;
  /** Random crops drawn per tile per epoch. */
  cropsPerTile: number;
  widths: [number, number, number, number];
  neckChannels: number;
  headChannels: number;
  headDepth: number;
  norm: 'bn' | 'none';
  /** Channels of a full-resolution stem conv (0: none). */
  stem: number;
  /** Box coder standard deviations (see coder.ts). */
  coderStds: [number, number, number, number];
}

/**
 * Presets. `smoke`: for `nwd synth` data (256 px images, objects of 2-32 px): 960 steps of 8
 * crops of 128 px, a 0.29M-parameter net (one 32-channel tower conv per level); measured about
 * 4 minutes on the wasm backend with 2 threads (README), val AP50 0.65 (seed 0), 0.62 (seed 1).
 * Box deltas are scaled by the usual RetinaNet stds (0.1, 0.1, 0.2, 0.2) so that sub-pixel
 * errors of tiny boxes are not lost in smooth L1's quadratic zone (in a 24-epoch run of this
 * net: val AP50 0.32 with stds 1, 0.39 with these).
 * `default`: larger crops and tiles, a wider net, for real data (512 px tiles).
 */
export const PRESET_HYPER: Record<Preset, Hyper> = {
  smoke: {epochs: 48, batch: 8, lr: 6e-3, tile: 256, crop: 128, cropsPerTile: 2, widths: [16, 32, 64, 96],
    neckChannels: 32, headChannels: 32, headDepth: 1, norm: 'bn', stem: 8, coderStds: [0.1, 0.1, 0.2, 0.2]},
  default: {epochs: 24, batch: 8, lr: 1e-3, tile: 512, crop: 256, cropsPerTile: 2, widths: [16, 32, 64, 128],
    neckChannels: 64, headChannels: 64, headDepth: 2, norm: 'bn', stem: 16, coderStds: [0.1, 0.1, 0.2, 0.2]},
};

const OPTION_KEYS = ['data', 'images', 'out', 'val', 'valImages', 'preset', 'epochs', 'batch', 'lr', 'tile', 'crop',
  'resume', 'seed', 'assign', 'loss', 'clsLoss', 'regWeight', 'nms', 'c', 'anchors', 'backend', 'backbone', 'signal',
  'onEpoch', 'hyper'];

/** Gradient global-norm cap: early steps on from-scratch weights can spike. */
const CLIP_NORM = 10;

function flagError(msg: string, fix: string): UserError {
  return new UserError(msg, {code: 'E_FLAG', fix});
}

function checkOptions(o: TrainOptions): void {
  for (const k of Object.keys(o)) {
    if (!OPTION_KEYS.includes(k)) throw new TypeError(`unknown train option "${k}"`);
  }
  const posInt = (name: string, v: number | undefined, max: number) => {
    if (v !== undefined && !(Number.isInteger(v) && v >= 1 && v <= max)) {
      throw flagError(`--${name} must be an integer in [1, ${max}], got ${v}`, `pass --${name} between 1 and ${max}`);
    }
  };
  posInt('epochs', o.epochs, 100000);
  posInt('batch', o.batch, 1024);
  posInt('tile', o.tile, 8192);
  posInt('crop', o.crop, 8192);
  if (o.lr !== undefined && !(o.lr > 0 && o.lr < 1)) {
    throw flagError(`--lr must be in (0, 1), got ${o.lr}`, 'e.g. --lr 0.001');
  }
  if (o.c !== undefined && !(o.c > 0 && Number.isFinite(o.c))) {
    throw flagError(`--c must be positive, got ${o.c}`, 'e.g. --c 12.8');
  }
  if (o.seed !== undefined && !(Number.isInteger(o.seed) && o.seed >= 0 && o.seed <= 0xffffffff)) {
    throw flagError(`--seed must be an unsigned 32-bit integer, got ${o.seed}`, 'e.g. --seed 1');
  }
  if (o.preset !== undefined && !PRESETS.includes(o.preset)) {
    throw flagError(`unknown preset "${o.preset}"`, `use one of ${PRESETS.join(', ')}`);
  }
  if (o.regWeight !== undefined && !(o.regWeight >= 0 && Number.isFinite(o.regWeight))) {
    throw flagError(`--reg-weight must be a non-negative number, got ${o.regWeight}`, 'e.g. --reg-weight 2');
  }
}

/** A fresh config from the options, the preset and the data. */
export function makeConfig(o: TrainOptions, h: Hyper, categories: {id: number; name: string}[], meanSqrtWh: number):
  DetectorConfig {
  const anchors = o.anchors ?? {strides: [...DEFAULT_ANCHOR_LAYOUT.strides],
    sizes: DEFAULT_ANCHOR_LAYOUT.sizes.map((s) => [...s]), ratios: [...DEFAULT_ANCHOR_LAYOUT.ratios]};
  if (JSON.stringify(anchors.strides) !== '[4,8]') {
    throw flagError(`the detector's head has levels at strides 4 and 8, the anchor layout has ${
      anchors.strides.join(', ')}`,
      'give two levels with strides 4 and 8');
  }
  const reg = o.loss ?? 'smoothl1';
  const method = o.assign ?? 'nwd';
  return {
    format: 'nwd-detector', version: 1, classes: categories, anchors,
    assign: {method, c: o.c ?? (Number.isFinite(meanSqrtWh) && meanSqrtWh > 0 ? meanSqrtWh : 12.8),
      posThreshold: 0.7, negThreshold: 0.3, minPosThreshold: 0.3, topk: method.startsWith('atss') ? 9 : 3,
      samples: o.clsLoss === 'bce' ? 256 : 0, posFraction: 0.5},
    loss: {cls: o.clsLoss ?? 'focal', reg, regWeight: o.regWeight ?? DEFAULT_REG_WEIGHT[reg], focalAlpha: 0.25,
      focalGamma: 2},
    coder: {stds: h.coderStds},
    postprocess: {nms: o.nms ?? 'iou', nmsThreshold: o.nms === 'nwd' ? 0.85 : 0.5, scoreThreshold: 0.05, topk: 1000,
      maxDetections: 300},
    input: {tile: h.tile, overlap: Math.min(32, Math.floor(h.tile / 4)), crop: h.crop, multiple: 16,
      mean: [0.485, 0.456, 0.406], std: [0.229, 0.224, 0.225]},
    model: {backbone: o.backbone ? 'user' : 'tiny', widths: h.widths, neckChannels: h.neckChannels,
      headChannels: h.headChannels, headDepth: h.headDepth, norm: h.norm,
      stem: h.stem},
  };
}

/** Learning rate at `step` of `total`: linear warm-up over the first 5% (at most 200 steps), then cosine to 5%. */
export function learningRate(base: number, step: number, total: number): number {
  const warm = Math.max(1, Math.min(200, Math.floor(total * 0.05)));
  if (step < warm) return base * (0.1 + (0.9 * (step + 1)) / warm);
  const t = Math.min(1, (step - warm) / Math.max(1, total - warm));
  return base * (0.05 + 0.95 * 0.5 * (1 + Math.cos(Math.PI * t)));
}

interface Sample {
  image: TrainImage;
  tile: Window;
}

async function exists(p: string): Promise<boolean> {
  return stat(p).then(() => true, () => false);
}

/** Trains a detector; see {@link TrainOptions}. Resolves when done or interrupted (after saving). */
export async function train(opts: TrainOptions): Promise<TrainResult> {
  checkOptions(opts);
  const sel = await selectBackend(opts.backend ?? 'auto');
  if (sel.name === 'cpu') warn('training on the pure-JS cpu backend is very slow; install tfjs-node or use wasm');
  const preset = opts.preset ?? 'default';
  let model: tf.LayersModel;
  let cfg: DetectorConfig;
  let state: TrainState | undefined;
  const resuming = opts.resume === true && (await exists(join(opts.out, 'config.json')));
  if (opts.resume && !resuming) info(`--resume: no checkpoint in ${opts.out} yet, starting fresh`);
  let hyper: Hyper;
  if (resuming) {
    const loaded = await loadModelDir(opts.out);
    ({model, config: cfg, state} = loaded);
    const saved = (state?.options ?? {}) as Partial<Hyper> & {preset?: Preset};
    hyper = {...PRESET_HYPER[saved.preset ?? preset], ...saved, ...pick(opts, ['epochs', 'batch', 'lr'])} as Hyper;
  } else {
    hyper = {...PRESET_HYPER[preset], ...(opts.hyper ?? {}),
      ...pick(opts, ['epochs', 'batch', 'lr', 'tile', 'crop'])} as Hyper;
    if (hyper.crop > hyper.tile) hyper.crop = hyper.tile;
  }
  const set = await loadTrainSet(opts.data, opts.images, resuming ? cfg!.classes : undefined);
  if (!resuming) {
    cfg = makeConfig(opts, hyper, set.categories, set.meanSqrtWh);
    const backbone = opts.backbone ? await loadBackbone(opts.backbone) : undefined;
    model = buildDetector(cfg, backbone);
    seedWeights(model, opts.seed ?? 0);
  }
  verbose(`detector: ${model!.countParams()} parameters, assign ${cfg!.assign.method} ` +
    `(C = ${cfg!.assign.c.toFixed(2)}), ` +
    `loss ${cfg!.loss.cls} + ${cfg!.loss.reg} x ${cfg!.loss.regWeight}, crops ${hyper.crop} px, batch ${hyper.batch}`);
  return runLoop({opts, sel: sel.name, preset, model: model!, cfg: cfg!, state, hyper, set: set.images});
}

function pick<T extends object, K extends keyof T>(o: T, keys: K[]): Partial<T> {
  const out: Partial<T> = {};
  for (const k of keys) if (o[k] !== undefined) out[k] = o[k];
  return out;
}

interface LoopInput {
  opts: TrainOptions;
  sel: string;
  preset: Preset;
  model: tf.LayersModel;
  cfg: DetectorConfig;
  state?: TrainState;
  hyper: Hyper;
  set: TrainImage[];
}

async function runLoop(inp: LoopInput): Promise<TrainResult> {
  const {opts, model, cfg, hyper} = inp;
  const samples: Sample[] = [];
  const cache = new ImageCache();
  for (const image of inp.set) {
    if (!image.width || !image.height) {
      const img = await cache.get(image.path);
      image.width = img.width;
      image.height = img.height;
    }
    for (const tile of tiles(image.width, image.height, cfg.input.tile, cfg.input.overlap)) {
      for (let r = 0; r < hyper.cropsPerTile; r++) samples.push({image, tile});
    }
  }
  if (samples.length === 0) throw new UserError('no training images', {code: 'E_INPUT', file: opts.data,
    fix: 'pass a COCO file with images'});
  const stepsPerEpoch = Math.ceil(samples.length / hyper.batch);
  const totalSteps = stepsPerEpoch * hyper.epochs;
  const startEpoch = inp.state?.epoch ?? 0;
  let step = inp.state?.step ?? 0;
  const rng = new Rng(inp.state?.rngState ?? opts.seed ?? 0);
  const optimizer = tf.train.adam(hyper.lr);
  if (inp.state) await loadOptimizerState(opts.out, optimizer);
  const history = [...(inp.state?.history ?? [])] as EpochSummary[];
  const side = Math.ceil(hyper.crop / cfg.input.multiple) * cfg.input.multiple;
  const anchors = generateAnchors(cfg.anchors, side, side);
  const vars = model.trainableWeights.map((w) => w.read() as tf.Variable);
  let interrupted = false;
  const onSigint = () => {
    interrupted = true;
  };
  process.once('SIGINT', onSigint);
  opts.signal?.addEventListener('abort', onSigint);
  const stateOf = (epoch: number): TrainState => ({epoch, step, rngState: rng.seedState, history,
    options: {preset: inp.preset, ...hyper}});
  const started = Date.now();
  let images = 0;
  const bar = startProgress('train', totalSteps,
    ' | epoch {epoch} | loss {loss} (cls {cls}, reg {reg}) | {ips} img/s');
  bar.update(step, {epoch: `${startEpoch + 1}/${hyper.epochs}`, loss: '-', cls: '-', reg: '-', ips: '-'});
  try {
    for (let epoch = startEpoch; epoch < hyper.epochs && !interrupted; epoch++) {
      const t0 = Date.now();
      const epochRngState = rng.seedState;
      const order = rng.shuffle([...samples]);
      let sum = 0, sumCls = 0, sumReg = 0, n = 0;
      for (let s = 0; s < stepsPerEpoch && !interrupted; s++) {
        const batch = order.slice(s * hyper.batch, (s + 1) * hyper.batch);
        const {x, gts} = await makeBatch(batch, side, cache, cfg, rng);
        const targets = batchTargets(anchors, gts, cfg, rng);
        setLearningRate(optimizer, learningRate(hyper.lr, step, totalSteps));
        const [loss, cls, reg] = trainStep(model, optimizer, vars, x, batch.length, side, targets, cfg);
        step++;
        images += batch.length;
        if (!Number.isFinite(loss)) {
          throw new Error(`training diverged: loss ${loss} at step ${step} (cls ${cls}, reg ${reg})`);
        }
        sum += loss;
        sumCls += cls;
        sumReg += reg;
        n++;
        const ips = images / ((Date.now() - started) / 1000);
        bar.update(step, {epoch: `${epoch + 1}/${hyper.epochs}`, loss: (sum / n).toFixed(3),
          cls: (sumCls / n).toFixed(3), reg: (sumReg / n).toFixed(3), ips: ips.toFixed(1)});
      }
      if (interrupted) {
        // Resume restarts this epoch: put the RNG back to where the epoch began.
        rng.restore(epochRngState);
        break;
      }
      const summary: EpochSummary = {epoch: epoch + 1, loss: sum / n, cls: sumCls / n, reg: sumReg / n,
        seconds: (Date.now() - t0) / 1000};
      if (opts.val) summary.val = await validate(model, cfg, opts.val, opts.valImages ?? opts.images);
      history.push(summary);
      opts.onEpoch?.(summary);
      await saveModelDir(opts.out, model, cfg, stateOf(epoch + 1), optimizer);
    }
    if (interrupted) {
      const done = history.length ? history[history.length - 1].epoch : 0;
      await saveModelDir(opts.out, model, cfg, {...stateOf(done), step: done * stepsPerEpoch}, optimizer);
      info(`interrupted: checkpoint of epoch ${done} saved in ${opts.out}; continue with --resume`);
    }
  } finally {
    bar.stop();
    process.removeListener('SIGINT', onSigint);
    opts.signal?.removeEventListener('abort', onSigint);
    optimizer.dispose();
  }
  const seconds = (Date.now() - started) / 1000;
  return {backend: inp.sel, out: opts.out, preset: inp.preset, params: model.countParams(), epochs: history,
    steps: step,
    seconds, imagesPerSecond: images / Math.max(seconds, 1e-9), interrupted,
    resumedFromEpoch: inp.state ? startEpoch : undefined,
    config: {assign: cfg.assign.method, c: cfg.assign.c, loss: cfg.loss.reg, clsLoss: cfg.loss.cls,
      nms: cfg.postprocess.nms, batch: hyper.batch, lr: hyper.lr, crop: hyper.crop, tile: cfg.input.tile}};
}

/** Adam's learning rate is fixed at construction in tfjs's types; the field is plain JS. */
function setLearningRate(optimizer: tf.Optimizer, lr: number): void {
  (optimizer as unknown as {learningRate: number}).learningRate = lr;
}

/** Images (normalised, NHWC) and crop targets of a batch: random crop in each tile, random flips. */
async function makeBatch(batch: Sample[], side: number, cache: ImageCache, cfg: DetectorConfig, rng: Rng):
  Promise<{x: Float32Array; gts: CropTargets[]}> {
  const x = new Float32Array(batch.length * side * side * 3);
  const gts: CropTargets[] = [];
  for (let b = 0; b < batch.length; b++) {
    const {image, tile} = batch[b];
    const img = await cache.get(image.path);
    const win = randomCrop(tile, cfg.input.crop, rng);
    const fx = rng.next() < 0.5, fy = rng.next() < 0.5;
    writeWindow(x, b * side * side * 3, side, side, img, win, cfg.input, fx, fy);
    gts.push(cropTargets(image, win, fx, fy));
  }
  return {x, gts};
}

/** One optimizer step; returns [total, cls, reg] losses. Leaves no tensors behind. */
export function trainStep(model: tf.LayersModel, optimizer: tf.Optimizer, vars: tf.Variable[], x: Float32Array,
  batch: number, side: number, targets: ReturnType<typeof batchTargets>, cfg: DetectorConfig):
  [number, number, number] {
  let parts: tf.Scalar[] = [];
  const {value, grads} = tf.variableGrads(() => {
    const images = tf.tensor4d(x, [batch, side, side, 3]);
    const l = detectorLoss(model, images, targets, cfg);
    parts = [tf.keep(l.cls), tf.keep(l.reg)];
    return l.total;
  }, vars);
  tf.tidy(() => {
    const names = Object.keys(grads);
    const norm = Math.sqrt(tf.addN(names.map((k) => tf.sum(tf.square(grads[k])))).dataSync()[0]);
    const scale = Number.isFinite(norm) && norm > CLIP_NORM ? CLIP_NORM / norm : 1;
    const scaled: tf.NamedTensorMap = {};
    for (const k of names) scaled[k] = scale === 1 ? grads[k] : tf.mul(grads[k], scale);
    optimizer.applyGradients(scaled);
  });
  const out: [number, number, number] = [value.dataSync()[0], parts[0].dataSync()[0], parts[1].dataSync()[0]];
  tf.dispose([value, ...parts, ...Object.values(grads)]);
  return out;
}
