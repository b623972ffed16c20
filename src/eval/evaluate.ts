/**
 * COCO / AI-TOD AP evaluation as a library: GT (formats/coco.ts) and detections in, the
 * summary numbers, per-class numbers and precision-recall data out. Grouping per image and
 * category happens here; matching and accumulation run in wasm (bindings/eval.ts).
 *
 * Semantics are pycocotools' (and aitodpycocotools' for `protocol: 'aitod'`), including
 * its tie-breaking, to 1e-12. Deliberate differences, each with a switch or a warning:
 * a GT with annotation id 0 is scored like any other (`pycocotools-compat` reproduces
 * pycocotools, which never counts it as matched); an empty detection list gives AP 0 instead
 * of a crash; `honorIgnore` treats `ignore: 1` as ignored (pycocotools overwrites it).
 */
import {UserError} from '../cli/errors.js';
import type {SourcedRecord} from '../formats/json-input.js';
import {open, stat as fileStat} from 'node:fs/promises';
import {readDetections, parseDetection, type Detection, type ImageId} from '../formats/results.js';
import {readJson} from '../formats/json-input.js';
import {sortedImageOrder, type CocoGt} from '../formats/coco.js';
import {assertValidBoxes, toXyxy} from '../geometry/boxes.js';
import {evalCategory, packSettings, GT_CROWD, GT_IGNORE, GT_ID_ZERO} from '../bindings/eval.js';
import {protocolSettings, statSpecs, LRP_KEYS} from './protocol.js';
import type {Protocol, ProtocolSettings, StatSpec} from './protocol.js';
import {meanOfDefined} from './summary.js';

export interface EvalOptions {
  /** `coco` (default) or `aitod`. */
  protocol?: Protocol;
  /** Matching similarity: `iou` (default) or `nwd` thresholds. */
  metric?: 'iou' | 'nwd';
  /** NWD constant in px (default 12.8); only with `metric: 'nwd'`. */
  c?: number;
  /** Three ascending max-detections-per-image values (protocol default otherwise). */
  maxDets?: number[];
  /** Reproduce pycocotools' GT-id-0 behaviour. */
  pycocotoolsCompat?: boolean;
  /** Treat GT `ignore: 1` as ignored (pycocotools does not). */
  honorIgnore?: boolean;
  /** File the detections came from, for messages. */
  dtFile?: string;
  /** Called after each category with (done, total). */
  onProgress?: (done: number, total: number) => void;
}

export interface ClassResult {
  id: number;
  name: string;
  /** Non-ignored GT (area all). */
  gt: number;
  /** Detections of this category. */
  dt: number;
  AP: number;
  AP50: number;
  AP75: number;
  /** Recall over thresholds at the largest maxDet. */
  AR: number;
}

export interface EvalSettings {
  metric: 'iou' | 'nwd';
  c?: number;
  iouThrs: number[];
  maxDets: number[];
  areaRanges: ProtocolSettings['areaRanges'];
  pycocotoolsCompat: boolean;
  honorIgnore: boolean;
}

export interface EvalResult {
  protocol: Protocol;
  settings: EvalSettings;
  /** Summary numbers by key (see protocol.ts); -1 where undefined, as pycocotools. */
  stats: Record<string, number>;
  perClass: ClassResult[];
  /** Precision at the 101 recall thresholds, area all, largest maxDet. */
  curves: {
    recThrs: number[];
    iouThrs: number[];
    /** [T][R]: mean over categories with GT (-1 where none). */
    precision: number[][];
    /** Per category [T][R] (-1 rows for categories without GT). */
    perClass: Array<{id: number; name: string; precision: number[][]}>;
  };
  /** pycocotools' accumulate() arrays (float64, C order). */
  arrays: {
    /** [T][R][K][A][M]. */
    precision: Float64Array;
    /** [T][R][K][A][M]. */
    scores: Float64Array;
    /** [T][K][A][M]. */
    recall: Float64Array;
    /** [4][K][A][M]: oLRP, localisation, FP, FN. */
    lrp: Float64Array;
    dims: {T: number; R: number; K: number; A: number; M: number};
  };
  counts: {images: number; gt: number; dt: number; dtLeftOut: number};
  /** Non-ignored GT per area range label, summed over categories (pycocotools' npig). */
  gtPerArea: Record<string, number>;
  /** Warnings about the input, as sentences (the command prints them on stderr). */
  warnings: string[];
}

const OPTION_KEYS = new Set(['protocol', 'metric', 'c', 'maxDets', 'pycocotoolsCompat', 'honorIgnore', 'dtFile',
  'onProgress']);

/** Where detections come from: a results file (records know their line or index) or a list. */
type Source =
  | {kind: 'file'; items: AsyncIterable<{det: Detection; raw: SourcedRecord}>}
  | {kind: 'records'; file: string; records: unknown[]}
  | {kind: 'list'; items: Iterable<Detection> | AsyncIterable<Detection>};

/** Evaluates `dets` (an array or an async stream, e.g. from a model) against `gt`. */
export async function evaluate(gt: CocoGt, dets: Iterable<Detection> | AsyncIterable<Detection>,
  opts: EvalOptions = {}): Promise<EvalResult> {
  return evaluateSource(gt, {kind: 'list', items: dets}, opts);
}

/** Evaluates a COCO results file (array or JSON Lines, streamed; `-` for stdin) against `gt`. */
export async function evaluateFile(gt: CocoGt, dtFile: string, opts: EvalOptions = {}): Promise<EvalResult> {
  // A JSON array that fits in memory is parsed at once and its records checked synchronously
  // (per-record async iteration costs more than the evaluation itself); everything else streams.
  if (dtFile !== '-' && (await firstChar(dtFile)) === '[' && (await fileStat(dtFile)).size <= WHOLE_ARRAY_BYTES) {
    const records = await readJson(dtFile);
    if (!Array.isArray(records)) {
      throw new UserError('expected a JSON array of detections', {code: 'E_SHAPE', file: dtFile});
    }
    return evaluateSource(gt, {kind: 'records', file: dtFile, records}, {...opts, dtFile});
  }
  return evaluateSource(gt, {kind: 'file', items: readDetections(dtFile)}, {...opts, dtFile});
}

/** Results arrays up to this size are parsed whole (as formats/json-input.ts does). */
const WHOLE_ARRAY_BYTES = 256 * 1024 * 1024;

/** The first non-blank character of a file ('' when empty or unreadable: the reader reports why). */
async function firstChar(file: string): Promise<string> {
  const fh = await open(file, 'r').catch(() => undefined);
  if (!fh) return '';
  try {
    const buf = Buffer.alloc(4096);
    for (let pos = 0; ;) {
      const {bytesRead} = await fh.read(buf, 0, buf.length, pos);
      if (bytesRead === 0) return '';
      const text = buf.subarray(0, bytesRead).toString('utf8').replace(/^\uFEFF/, '').trimStart();
      if (text) return text[0];
      pos += bytesRead;
    }
  } finally {
    await fh.close();
  }
}

function checkOptions(opts: EvalOptions): Required<Pick<EvalOptions, 'protocol' | 'metric' | 'c'>> {
  for (const k of Object.keys(opts)) if (!OPTION_KEYS.has(k)) throw new TypeError(`unknown evaluate option "${k}"`);
  const metric = opts.metric ?? 'iou';
  if (metric !== 'iou' && metric !== 'nwd') throw new RangeError(`metric must be iou or nwd, got ${metric}`);
  const c = opts.c ?? 12.8;
  if (!(Number.isFinite(c) && c > 0)) throw new RangeError(`c must be a positive number, got ${c}`);
  if (opts.c !== undefined && metric !== 'nwd') throw new RangeError('c only applies with metric "nwd"');
  return {protocol: opts.protocol ?? 'coco', metric, c};
}

/** Detections as columns, with the image and category as GT indices. */
interface DetColumns {
  n: number;
  imageIndex: Int32Array;
  categoryIndex: Int32Array;
  xywh: Float64Array;
  score: Float64Array;
  leftOut: number;
}

/** Reads the detections into columns; per-record work stays small (files hold millions). */
async function collect(gt: CocoGt, source: Source, fileName: string | undefined): Promise<{
  cols: DetColumns; warnings: string[]}> {
  let cap = 4096, n = 0;
  let img = new Int32Array(cap), cat = new Int32Array(cap);
  let box = new Float64Array(4 * cap), score = new Float64Array(cap);
  // Where each kept detection came from (line or record index), for messages.
  let where = new Int32Array(cap);
  let lines = false;
  const label = (i: number) =>
    source.kind === 'list' ? `detection ${where[i]}` : lines ? `line ${where[i]}` : `record ${where[i]}`;
  const file = source.kind === 'records' ? source.file : fileName;
  const unknownImages = new Set<ImageId>();
  const unknownCats = new Map<number, number>();
  let leftOut = 0, seen = 0;
  const add = (det: Detection, pos: number): void => {
    const ii = gt.imageIndex.get(det.imageId);
    if (ii === undefined) {
      unknownImages.add(det.imageId);
      return;
    }
    const ci = gt.categoryIndex.get(det.categoryId);
    if (ci === undefined) {
      unknownCats.set(det.categoryId, (unknownCats.get(det.categoryId) ?? 0) + 1);
      leftOut++;
      return;
    }
    if (n === cap) {
      cap *= 2;
      [img, cat, where] = [grow(img, cap), grow(cat, cap), grow(where, cap)];
      [box, score] = [grow(box, 4 * cap), grow(score, cap)];
    }
    img[n] = ii;
    cat[n] = ci;
    const b = det.bbox;
    box[4 * n] = b[0];
    box[4 * n + 1] = b[1];
    box[4 * n + 2] = b[2];
    box[4 * n + 3] = b[3];
    score[n] = det.score;
    where[n] = pos;
    if (Number.isNaN(det.score)) {
      throw new UserError('score is NaN (or null)', {code: 'E_SCORE', file, record: label(n),
        fix: 'give every detection a numeric score'});
    }
    n++;
  };
  if (source.kind === 'file') {
    for await (const {det, raw} of source.items) {
      if (raw.line !== undefined) lines = true;
      add(det, raw.line ?? raw.index);
    }
  } else if (source.kind === 'records') {
    const recs = source.records;
    for (let i = 0; i < recs.length; i++) add(parseDetection(recs[i], source.file, `record ${i}`), i);
  } else if (Array.isArray(source.items)) {
    for (const det of source.items as Detection[]) add(det, seen++);
  } else {
    for await (const det of source.items) add(det, seen++);
  }
  if (unknownImages.size) {
    const ids = [...unknownImages].slice(0, 20).map((v) => JSON.stringify(v)).join(', ');
    throw new UserError(`detections reference ${unknownImages.size} image id(s) not in the GT (${gt.file}): [${ids}${
      unknownImages.size > 20 ? ', ...' : ''}]`, {code: 'E_DT_IMAGE', file,
      fix: 'evaluate against the GT the detections were made for, or drop those detections'});
  }
  const warnings: string[] = [];
  if (unknownCats.size) {
    const list = [...unknownCats].map(([id, k]) => `${id} (${k})`).slice(0, 20).join(', ');
    warnings.push(`${file ?? 'detections'}: ${leftOut} detection(s) with category ids not in the GT left out: ${list}`);
  }
  const xywh = box.subarray(0, 4 * n);
  assertValidBoxes(toXyxy(xywh, 'xywh'), {file, format: 'xywh', original: xywh, label});
  return {cols: {n, imageIndex: img.subarray(0, n), categoryIndex: cat.subarray(0, n), xywh,
    score: score.subarray(0, n),
    leftOut}, warnings};
}

function grow<T extends Int32Array | Float64Array>(a: T, cap: number): T {
  const b = new (a.constructor as new (n: number) => T)(cap);
  b.set(a);
  return b;
}

/** Stable counting sort of `n` items by key (0..keys-1); returns the order and key offsets (keys + 1). */
function groupBy(n: number, key: (i: number) => number, keys: number): {order: Uint32Array; offsets: Uint32Array} {
  const offsets = new Uint32Array(keys + 1);
  for (let i = 0; i < n; i++) offsets[key(i) + 1]++;
  for (let k = 0; k < keys; k++) offsets[k + 1] += offsets[k];
  const pos = offsets.slice(0, keys);
  const order = new Uint32Array(n);
  for (let i = 0; i < n; i++) order[pos[key(i)]++] = i;
  return {order, offsets};
}

function gather(src: Float64Array, order: Uint32Array, width: number): Float64Array {
  const out = new Float64Array(order.length * width);
  for (let i = 0; i < order.length; i++) for (let j = 0; j < width; j++) out[i * width + j] = src[order[i] * width + j];
  return out;
}

async function evaluateSource(gt: CocoGt, source: Source, opts: EvalOptions): Promise<EvalResult> {
  const {protocol, metric, c} = checkOptions(opts);
  const ps = protocolSettings(protocol, opts.maxDets);
  const compat = opts.pycocotoolsCompat ?? false, honorIgnore = opts.honorIgnore ?? false;
  const {cols: dt, warnings} = await collect(gt, source, opts.dtFile);
  warnings.unshift(...gtWarnings(gt, compat, honorIgnore));

  const I = gt.images.length, K = gt.categories.length;
  const order = sortedImageOrder(gt);
  const rank = new Int32Array(I);
  order.forEach((img, r) => (rank[img] = r));
  const ann = gt.annotations;
  const g = groupBy(ann.count, (i) => ann.categoryIndex[i] * I + rank[ann.imageIndex[i]], K * I);
  const d = groupBy(dt.n, (i) => dt.categoryIndex[i] * I + rank[dt.imageIndex[i]], K * I);
  const gtXywh = gather(ann.xywh, g.order, 4), gtArea = gather(ann.area, g.order, 1);
  const gtFlags = Uint8Array.from(g.order, (i) =>
    (ann.iscrowd[i] ? GT_CROWD | GT_IGNORE : 0) | (honorIgnore && ann.ignore[i] ? GT_IGNORE : 0) |
    (ann.id[i] === 0 ? GT_ID_ZERO : 0));
  const dtXywh = gather(dt.xywh, d.order, 4), dtScore = gather(dt.score, d.order, 1);

  const settings = packSettings({iouThrs: ps.iouThrs, recThrs: ps.recThrs,
    areaRanges: ps.areaRanges.map((r) => [r.lo, r.hi] as [number, number]), maxDets: ps.maxDets, metric, c,
    idZeroUnmatched: compat});
  const T = ps.iouThrs.length, R = ps.recThrs.length, A = ps.areaRanges.length, M = ps.maxDets.length;
  const arrays = {precision: new Float64Array(T * R * K * A * M), scores: new Float64Array(T * R * K * A * M),
    recall: new Float64Array(T * K * A * M), lrp: new Float64Array(4 * K * A * M), dims: {T, R, K, A, M}};
  const npigAll = new Float64Array(K);
  const gtPerArea: Record<string, number> = Object.fromEntries(ps.areaRanges.map((a) => [a.label, 0]));
  const dtPerClass = new Float64Array(K);
  for (let k = 0; k < K; k++) {
    const [g0, g1] = [g.offsets[k * I], g.offsets[(k + 1) * I]];
    const [d0, d1] = [d.offsets[k * I], d.offsets[(k + 1) * I]];
    dtPerClass[k] = d1 - d0;
    const out = evalCategory(settings, {
      gtOffsets: Uint32Array.from(g.offsets.subarray(k * I, (k + 1) * I + 1), (x) => x - g0),
      gtXywh: gtXywh.subarray(4 * g0, 4 * g1), gtArea: gtArea.subarray(g0, g1), gtFlags: gtFlags.subarray(g0, g1),
      dtOffsets: Uint32Array.from(d.offsets.subarray(k * I, (k + 1) * I + 1), (x) => x - d0),
      dtXywh: dtXywh.subarray(4 * d0, 4 * d1), dtScore: dtScore.subarray(d0, d1)});
    scatter(out.precision, arrays.precision, T * R, K, k, A * M);
    scatter(out.scores, arrays.scores, T * R, K, k, A * M);
    scatter(out.recall, arrays.recall, T, K, k, A * M);
    scatter(out.lrp, arrays.lrp, 4, K, k, A * M);
    npigAll[k] = out.npig[0];
    ps.areaRanges.forEach((a, i) => (gtPerArea[a.label] += out.npig[i]));
    if (opts.onProgress) {
      opts.onProgress(k + 1, K);
      await new Promise((resolve) => setImmediate(resolve)); // lets a progress bar redraw
    }
  }
  const stats = summarize(arrays, ps);
  const perClass = gt.categories.map((cat, k) =>
    classResult(arrays, ps, k, cat.id, cat.name, npigAll[k], dtPerClass[k]));
  return {
    protocol,
    settings: {metric, ...(metric === 'nwd' ? {c} : {}), iouThrs: ps.iouThrs, maxDets: ps.maxDets,
      areaRanges: ps.areaRanges, pycocotoolsCompat: compat, honorIgnore},
    stats, perClass, curves: curves(arrays, ps, gt), arrays,
    counts: {images: I, gt: ann.count, dt: dt.n, dtLeftOut: dt.leftOut}, gtPerArea, warnings,
  };
}

/** Copies a per-category block [outer][inner] into [outer][K][inner] at category k. */
function scatter(src: Float64Array, dst: Float64Array, outer: number, K: number, k: number, inner: number): void {
  for (let o = 0; o < outer; o++) dst.set(src.subarray(o * inner, (o + 1) * inner), (o * K + k) * inner);
}

function gtWarnings(gt: CocoGt, compat: boolean, honorIgnore: boolean): string[] {
  return gt.findings.map((f) => {
    let msg = `${gt.file}: ${f.message} (first: ${f.record})`;
    if (f.code === 'W_ID_ZERO') {
      msg += compat ? '; --pycocotools-compat: reproducing that (their detections count as false positives)'
        : '; nwd scores them correctly, so AP can differ from pycocotools (--pycocotools-compat reproduces it)';
    }
    if (f.code === 'W_IGNORE_FIELD') {
      msg += honorIgnore ? '; honoured (--honor-ignore)' : '; pass --honor-ignore to honour it';
    }
    return msg;
  });
}

function thresholdIndices(ps: ProtocolSettings, iouThr: number | undefined): number[] {
  return ps.iouThrs.flatMap((t, i) => (iouThr === undefined || t === iouThr ? [i] : []));
}

/** One summary number as pycocotools' `_summarize` (mean of the defined entries, C order). */
function stat(arr: EvalResult['arrays'], ps: ProtocolSettings, spec: StatSpec, k?: number): number {
  const {R, K, A, M} = arr.dims;
  const a = ps.areaRanges.findIndex((r) => r.label === spec.area);
  const m = spec.maxDet;
  const ks = k === undefined ? Array.from({length: K}, (_, i) => i) : [k];
  const vals: number[] = [];
  for (const t of thresholdIndices(ps, spec.iouThr)) {
    if (spec.kind === 'ap') {
      for (let r = 0; r < R; r++) {
        for (const kk of ks) vals.push(arr.precision[(((t * R + r) * K + kk) * A + a) * M + m]);
      }
    } else {
      for (const kk of ks) vals.push(arr.recall[((t * K + kk) * A + a) * M + m]);
    }
  }
  return meanOfDefined(vals);
}

function summarize(arr: EvalResult['arrays'], ps: ProtocolSettings): Record<string, number> {
  const stats: Record<string, number> = {};
  for (const spec of statSpecs(ps.protocol)) stats[spec.key] = stat(arr, ps, spec);
  if (ps.protocol === 'aitod') {
    const {K, A, M} = arr.dims;
    LRP_KEYS.forEach((key, j) => {
      const vals = Array.from({length: K}, (_, k) => arr.lrp[((j * K + k) * A + 0) * M + (M - 1)]);
      stats[key] = meanOfDefined(vals.filter((v) => !Number.isNaN(v)));
    });
  }
  return stats;
}

function classResult(arr: EvalResult['arrays'], ps: ProtocolSettings, k: number, id: number, name: string, gt: number,
  dt: number): ClassResult {
  const last = ps.maxDets.length - 1;
  const ap = (iouThr?: number) => stat(arr, ps, {key: '', kind: 'ap', iouThr, area: 'all', maxDet: last}, k);
  return {id, name, gt, dt, AP: ap(), AP50: ap(0.5), AP75: ap(0.75),
    AR: stat(arr, ps, {key: '', kind: 'ar', area: 'all', maxDet: last}, k)};
}

function curves(arr: EvalResult['arrays'], ps: ProtocolSettings, gt: CocoGt): EvalResult['curves'] {
  const {T, R, K, A, M} = arr.dims;
  const at = (t: number, r: number, k: number) => arr.precision[(((t * R + r) * K + k) * A + 0) * M + (M - 1)];
  const precision = Array.from({length: T}, (_, t) => Array.from({length: R}, (_, r) =>
    meanOfDefined(Array.from({length: K}, (_, k) => at(t, r, k)))));
  const perClass = gt.categories.map((cat, k) => ({id: cat.id, name: cat.name,
    precision: Array.from({length: T}, (_, t) => Array.from({length: R}, (_, r) => at(t, r, k)))}));
  return {recThrs: ps.recThrs, iouThrs: ps.iouThrs, precision, perClass};
}
