/**
 * `nwd predict` as a library: runs a model directory on images and writes COCO results
 * (`[{image_id, category_id, bbox: [x, y, w, h], score}]`, or JSON Lines). Image ids come from
 * a COCO GT (`gt`, which also chooses the images) or from the file names (`000123.png` -> 123,
 * other names -> the name without extension).
 */
import {readdir, stat} from 'node:fs/promises';
import {basename, extname, isAbsolute, join} from 'node:path';
import {AtomicWriter} from '../cli/atomic.js';
import {UserError} from '../cli/errors.js';
import {startProgress} from '../cli/progress.js';
import {verbose} from '../cli/log.js';
import {selectBackend, type BackendChoice} from './backend.js';
import {loadModelDir} from './checkpoint.js';
import {NMS_METRICS, type NmsMetric} from './config.js';
import {decodeImage} from './data.js';
import {Inferencer} from './infer.js';
import {toCocoResults} from './results.js';

export interface PredictOptions {
  /** Model directory written by `nwd train`. */
  model: string;
  /** Image files and/or directories (with `gt`: one directory the GT's file names are relative to). */
  images: string[];
  /** Output file (`-` for stdout). */
  out: string;
  /** JSON Lines instead of one JSON array. */
  jsonl?: boolean;
  /** Skip NMS (for `nwd nms` in a pipe). */
  raw?: boolean;
  scoreThreshold?: number;
  /** Tile side for large images (default: the model's). */
  tile?: number;
  /** COCO GT: predict the images it lists, with its ids. */
  gt?: string;
  nms?: NmsMetric;
  nmsThreshold?: number;
  backend?: BackendChoice;
}

export interface PredictResult {
  backend: string;
  out: string;
  images: number;
  detections: number;
  seconds: number;
  imagesPerSecond: number;
}

const IMAGE_EXT = new Set(['.png', '.jpg', '.jpeg', '.tif', '.tiff', '.webp', '.bmp', '.gif']);
const KEYS = ['model', 'images', 'out', 'jsonl', 'raw', 'scoreThreshold', 'tile', 'gt', 'nms', 'nmsThreshold',
  'backend'];

/** Image id from a file name: digits only -> a number, else the name without extension. */
export function imageIdFromName(path: string): number | string {
  const stem = basename(path, extname(path));
  return /^\d+$/.test(stem) && Number.isSafeInteger(Number(stem)) ? Number(stem) : stem;
}

/** The (id, path) pairs to predict. */
export async function listImages(images: string[], gt?: string): Promise<{id: number | string; path: string}[]> {
  if (gt) {
    const {loadCocoGt} = await import('../formats/coco.js');
    const g = await loadCocoGt(gt);
    if (images.length !== 1) {
      throw new UserError('with --gt give one --images directory (the GT\'s file names are relative to it)',
        {code: 'E_FLAG', fix: 'pass --images DIR once'});
    }
    return g.images.filter((im) => typeof im.fileName === 'string').map((im) => ({id: im.id,
      path: isAbsolute(im.fileName as string) ? (im.fileName as string) : join(images[0], im.fileName as string)}));
  }
  const out: {id: number | string; path: string}[] = [];
  for (const p of images) {
    const s = await stat(p).catch(() => undefined);
    if (!s) {
      throw new UserError('no such file or directory', {code: 'E_INPUT', file: p, fix: 'check the --images path'});
    }
    if (s.isDirectory()) {
      const names = (await readdir(p)).filter((n) => IMAGE_EXT.has(extname(n).toLowerCase())).sort();
      for (const n of names) out.push({id: imageIdFromName(n), path: join(p, n)});
    } else {
      out.push({id: imageIdFromName(p), path: p});
    }
  }
  const seen = new Map<number | string, string>();
  for (const {id, path} of out) {
    const prev = seen.get(id);
    if (prev) {
      throw new UserError(`two images get the id ${JSON.stringify(id)}: ${prev} and ${path}`, {code: 'E_IMAGE_ID',
        file: path, fix: 'rename one, or pass --gt with explicit image ids'});
    }
    seen.set(id, path);
  }
  return out;
}

function check(o: PredictOptions): void {
  for (const k of Object.keys(o)) if (!KEYS.includes(k)) throw new TypeError(`unknown predict option "${k}"`);
  if (o.scoreThreshold !== undefined && !(o.scoreThreshold >= 0 && o.scoreThreshold < 1)) {
    throw new UserError(`--score-threshold must be in [0, 1), got ${o.scoreThreshold}`, {code: 'E_FLAG',
      fix: 'e.g. --score-threshold 0.05'});
  }
  if (o.tile !== undefined && !(Number.isInteger(o.tile) && o.tile >= 16)) {
    throw new UserError(`--tile must be an integer >= 16, got ${o.tile}`, {code: 'E_FLAG', fix: 'e.g. --tile 512'});
  }
  if (o.nms !== undefined && !NMS_METRICS.includes(o.nms)) {
    throw new UserError(`--nms must be iou or nwd, got ${o.nms}`, {code: 'E_FLAG', fix: 'use --nms iou or --nms nwd'});
  }
  if (o.nmsThreshold !== undefined && !(o.nmsThreshold > 0 && o.nmsThreshold <= 1)) {
    throw new UserError(`--nms-threshold must be in (0, 1], got ${o.nmsThreshold}`, {code: 'E_FLAG',
      fix: 'e.g. 0.5 for IoU, 0.85 for NWD'});
  }
}

/** Runs the model on the images and writes the results. */
export async function predict(opts: PredictOptions): Promise<PredictResult> {
  check(opts);
  const sel = await selectBackend(opts.backend ?? 'auto');
  const {model, config} = await loadModelDir(opts.model);
  if (opts.tile) config.input.tile = opts.tile;
  const post: Record<string, unknown> = {};
  if (opts.scoreThreshold !== undefined) post.scoreThreshold = opts.scoreThreshold;
  if (opts.nms) {
    post.nms = opts.nms;
    post.nmsThreshold = opts.nmsThreshold ?? (opts.nms === 'nwd' ? 0.85 : 0.5);
  }
  if (opts.nmsThreshold !== undefined) post.nmsThreshold = opts.nmsThreshold;
  const inf = new Inferencer(model, config, {raw: opts.raw, post});
  const list = await listImages(opts.images, opts.gt);
  verbose(`predict: ${list.length} images, tile ${config.input.tile}, ${opts.raw ? 'raw (no NMS)' :
    `NMS ${inf.post.nms} > ${inf.post.nmsThreshold}`}`);
  const started = Date.now();
  const bar = startProgress('predict', list.length, ' | {dets} detections');
  const toStdout = opts.out === '-';
  const writer = toStdout ? undefined : await AtomicWriter.open(opts.out);
  const write = async (s: string) => (writer ? writer.write(s) : void process.stdout.write(s));
  let count = 0;
  try {
    if (!opts.jsonl) await write('[');
    for (let i = 0; i < list.length; i++) {
      const img = await decodeImage(list[i].path);
      const recs = toCocoResults(list[i].id, inf.image(img), config);
      for (const r of recs) {
        await write(opts.jsonl ? `${JSON.stringify(r)}\n` : `${count ? ',' : ''}\n${JSON.stringify(r)}`);
        count++;
      }
      bar.update(i + 1, {dets: count});
    }
    if (!opts.jsonl) await write(count ? '\n]\n' : ']\n');
    await writer?.commit();
  } catch (err) {
    await writer?.abort();
    throw err;
  } finally {
    bar.stop();
    model.dispose();
  }
  const seconds = (Date.now() - started) / 1000;
  return {backend: sel.name, out: opts.out, images: list.length, detections: count, seconds,
    imagesPerSecond: list.length / Math.max(seconds, 1e-9)};
}
