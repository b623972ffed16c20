/**
 * `nwd synth`: a deterministic tiny-object dataset (the project's bundled default data).
 *
 * Layout: `OUT/images/000001.png ...`, `OUT/train.json`, `OUT/val.json` (COCO GT; `file_name`
 * is relative to `OUT/images`; area = w*h; split by image). Same options and seed, same bytes.
 */
import {mkdir, writeFile} from 'node:fs/promises';
import {join} from 'node:path';
import {UserError} from '../cli/errors.js';
import {startProgress} from '../cli/progress.js';
import {writeCocoGt, type GtAnnotation, type GtDataset, type GtImage} from '../formats/coco-write.js';
import {Rng, subSeed} from '../util/rng.js';
import {drawScene, SYNTH_CLASSES, type SceneObject} from './scene.js';

export interface SynthOptions {
  /** Output directory. */
  out: string;
  /** Number of images (default 100). */
  images?: number;
  /** Seed (default 0), an unsigned 32-bit integer. */
  seed?: number;
  /** Image side in pixels (default 256). */
  size?: number;
  /** Fraction of images in val.json (default 0.2). */
  valFraction?: number;
  /** Object side range in pixels (default 2 and 32). */
  minSize?: number;
  maxSize?: number;
}

export interface SynthResult {
  out: string;
  imagesDir: string;
  train: string;
  val: string;
  images: number;
  trainImages: number;
  valImages: number;
  objects: number;
  /** Objects per class name. */
  perClass: Record<string, number>;
  /** Mean sqrt(w*h) over all objects (the NWD constant C this data suggests). */
  meanSqrtWh: number;
  seed: number;
}

const KEYS = ['out', 'images', 'seed', 'size', 'valFraction', 'minSize', 'maxSize'];

function flagError(msg: string, fix: string): UserError {
  return new UserError(msg, {code: 'E_FLAG', fix});
}

function checkInt(name: string, v: number, lo: number, hi: number): void {
  if (Number.isInteger(v) && v >= lo && v <= hi) return;
  throw flagError(`${name} must be an integer in [${lo}, ${hi}], got ${v}`,
    `pass ${name} between ${lo} and ${hi}`);
}

/** Validates options key by key and fills defaults. */
export function resolveSynthOptions(opts: SynthOptions): Required<SynthOptions> {
  for (const k of Object.keys(opts)) {
    if (!KEYS.includes(k)) throw flagError(`unknown synth option "${k}"`, `use one of ${KEYS.join(', ')}`);
  }
  const o = {images: 100, seed: 0, size: 256, valFraction: 0.2, minSize: 2, maxSize: 32, ...opts};
  if (typeof o.out !== 'string' || o.out === '') throw flagError('--out is required', 'pass --out DIR');
  checkInt('--images', o.images, 1, 1_000_000);
  checkInt('--seed', o.seed, 0, 0xffffffff);
  checkInt('--size', o.size, 16, 8192);
  checkInt('--min-size', o.minSize, 1, o.size);
  checkInt('--max-size', o.maxSize, o.minSize, o.size);
  if (!(o.valFraction >= 0 && o.valFraction < 1)) {
    throw flagError(`--val-fraction must be in [0, 1), got ${o.valFraction}`, 'pass e.g. --val-fraction 0.2');
  }
  return o;
}

/** Image indices of the val split: a seeded shuffle, at least one image each side when there are two. */
export function valIndices(n: number, fraction: number, seed: number): Set<number> {
  let k = Math.round(n * fraction);
  if (fraction > 0 && n >= 2) k = Math.min(n - 1, Math.max(1, k));
  const order = Array.from({length: n}, (_, i) => i);
  const rng = new Rng(subSeed(seed, 0x7fffffff));
  for (let i = n - 1; i > 0; i--) {
    const j = rng.int(0, i);
    [order[i], order[j]] = [order[j], order[i]];
  }
  return new Set(order.slice(0, k));
}

function annotations(objects: SceneObject[], imageId: number, firstId: number): GtAnnotation[] {
  return objects.map((ob, k) => ({
    id: firstId + k, image_id: imageId, category_id: ob.classIndex + 1, bbox: ob.bbox,
    area: ob.bbox[2] * ob.bbox[3], iscrowd: 0 as const,
  }));
}

/** Generates the dataset and writes it under `opts.out`. */
export async function synthesize(opts: SynthOptions): Promise<SynthResult> {
  const o = resolveSynthOptions(opts);
  const imagesDir = join(o.out, 'images');
  await mkdir(imagesDir, {recursive: true});
  const {default: sharp} = await import('sharp');
  const val = valIndices(o.images, o.valFraction, o.seed);
  const categories = SYNTH_CLASSES.map((name, i) => ({id: i + 1, name}));
  const info = {description: 'nwd synth: synthetic tiny objects', seed: o.seed, size: o.size, images: o.images};
  const train: GtDataset = {info: {...info, split: 'train'}, images: [], annotations: [], categories};
  const valDs: GtDataset = {info: {...info, split: 'val'}, images: [], annotations: [], categories};
  const progress = startProgress('synth', o.images);
  let nextAnn = 1;
  const pending: Promise<void>[] = [];
  for (let i = 0; i < o.images; i++) {
    const scene = drawScene(new Rng(subSeed(o.seed, i)), {size: o.size, minSize: o.minSize, maxSize: o.maxSize,
      objectsPer256: [4, 24]});
    const fileName = `${String(i + 1).padStart(6, '0')}.png`;
    const image: GtImage = {id: i + 1, file_name: fileName, width: o.size, height: o.size};
    const ds = val.has(i) ? valDs : train;
    ds.images.push(image);
    ds.annotations.push(...annotations(scene.objects, image.id, nextAnn));
    nextAnn += scene.objects.length;
    pending.push(sharp(scene.rgb, {raw: {width: o.size, height: o.size, channels: 3}}).png().toBuffer()
      .then((buf) => writeFile(join(imagesDir, fileName), buf)));
    if (pending.length >= 4) await pending.shift();
    progress.update(i + 1);
  }
  await Promise.all(pending);
  progress.stop();
  const trainPath = join(o.out, 'train.json'), valPath = join(o.out, 'val.json');
  await writeCocoGt(trainPath, train);
  await writeCocoGt(valPath, valDs);
  return summarize(o, {imagesDir, trainPath, valPath}, train, valDs);
}

function summarize(o: Required<SynthOptions>, paths: {imagesDir: string; trainPath: string; valPath: string},
  train: GtDataset, val: GtDataset): SynthResult {
  const all = [...train.annotations, ...val.annotations];
  const perClass: Record<string, number> = Object.fromEntries(SYNTH_CLASSES.map((c) => [c, 0]));
  let sum = 0;
  for (const a of all) {
    perClass[SYNTH_CLASSES[a.category_id - 1]]++;
    sum += Math.sqrt(a.bbox[2] * a.bbox[3]);
  }
  return {
    out: o.out, imagesDir: paths.imagesDir, train: paths.trainPath, val: paths.valPath, images: o.images,
    trainImages: train.images.length, valImages: val.images.length, objects: all.length, perClass,
    meanSqrtWh: all.length ? sum / all.length : 0, seed: o.seed,
  };
}
