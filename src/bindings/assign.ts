/**
 * Typed wrappers over nwd-core's label assigners (crates/nwd-core/src/assign.rs) and a
 * positive-fraction sampler.
 *
 * Inputs: anchors and ground truths as Float32Array, length 4*A and 4*G, xyxy, already
 * satisfying the box policy (geometry/boxes.ts). Every assigner returns, per anchor:
 * - `labels` Int32Array (length A): -1 ignored, 0 negative, k+1 positive for GT k (the
 *   index into `gtXyxy`, counting ignored GTs too; mmdet's convention);
 * - `maxOverlap` Float32Array (length A): for a positive anchor its overlap with the GT it
 *   was assigned to, for the others its largest overlap with any non-ignored GT (0 without GTs).
 *
 * Ignored (crowd) ground truths, `ignoreMask[k] = 1`, never receive anchors. After the
 * assignment, an anchor that came out negative is made ignored (-1) when, for some ignored
 * GT, its overlap (the assigner's metric) is >= `ignoreOverlap` or its intersection over the
 * anchor's own area (IoF) is > `ignoreIof`: near a crowd region the detector is neither
 * rewarded nor punished. Positives of other GTs stay positive (mmdet instead removes such
 * anchors from the assignment altogether).
 *
 * Overlaps are float32 and thresholds are compared in float32 too (as torch does with
 * float32 tensors), so an IoU of exactly 0.7 counts as >= 0.7.
 */
import {withArena, type CoreExports} from './wasm.js';
import {metricCode, similarityParams, DEFAULT_C, type Metric} from './similarity.js';
import {verboseOnce} from '../cli/log.js';

/** The C functions of crates/nwd-core/src/abi/assign.rs. Status: 0 ok, negative an error (see there). */
export interface AssignExports {
  nwd_assign_max_overlap(metric: number, c: number, eps: number, anchors: number, n: number, gts: number, m: number,
    ignore: number, posThr: number, negThr: number, minPos: number, lowQuality: number, ignoreIof: number,
    ignoreOverlap: number, labels: number, maxOverlap: number): number;
  nwd_assign_rka(metric: number, c: number, eps: number, anchors: number, n: number, gts: number, m: number,
    ignore: number, negThr: number, topk: number, ignoreIof: number, ignoreOverlap: number, labels: number,
    maxOverlap: number): number;
  nwd_assign_atss(metric: number, c: number, eps: number, anchors: number, n: number, levelCounts: number,
    levels: number, gts: number, m: number, ignore: number, topk: number, ignoreIof: number, ignoreOverlap: number,
    labels: number, maxOverlap: number): number;
}

/** Overlap measures an assigner can rank anchors by (similarities: larger is closer). */
export const ASSIGN_METRICS = ['iou', 'giou', 'diou', 'ciou', 'nwd', 'dotd'] as const;
export type AssignMetric = (typeof ASSIGN_METRICS)[number];

/** Result of every assigner; see the module comment. */
export interface Assignment {
  /** Int32Array, length A: -1 ignored, 0 negative, k+1 positive for GT k. */
  labels: Int32Array;
  /** Float32Array, length A: overlap with the assigned GT (positives) or the best GT (others). */
  maxOverlap: Float32Array;
}

/** Options every assigner shares. */
export interface CommonAssignOptions {
  /** Overlap measure (required). */
  metric: AssignMetric;
  /** NWD / DotD constant, px (default 12.8). */
  c?: number;
  /** NWD: `exact` (default) or the authors' `reference` eps form. */
  nwdForm?: 'exact' | 'reference';
  /** Uint8Array, length G: 1 marks an ignored (crowd) GT. Default: none ignored. */
  ignoreMask?: Uint8Array;
  /** A negative anchor whose IoF with an ignored GT is above this becomes ignored (default 0.5). */
  ignoreIof?: number;
  /** A negative anchor whose overlap with an ignored GT is >= this becomes ignored (default: negThr, 0.3 for ATSS). */
  ignoreOverlap?: number;
}

/** Max-overlap assigner options (mmdet MaxIoUAssigner semantics; the paper's RPN settings by default). */
export interface MaxOverlapOptions extends CommonAssignOptions {
  /** Positive when the best overlap is >= this (default 0.7). */
  posThr?: number;
  /** Negative when the best overlap is < this (default 0.3). */
  negThr?: number;
  /** Low-quality matches need a GT's best overlap >= this (default 0.3). */
  minPos?: number;
  /** Give every GT its best anchor(s) when that best is >= minPos (default true). */
  lowQuality?: boolean;
}

/** NWD-RKA options. */
export interface RkaOptions extends CommonAssignOptions {
  /** Negative when the best overlap is < this (default 0.3). */
  negThr?: number;
  /** Anchors each GT takes, ties included (default 3; 2 for Faster R-CNN's RPN in the paper). */
  topk?: number;
}

/** ATSS options. */
export interface AtssOptions extends CommonAssignOptions {
  /** Candidates per level and GT, nearest by centre distance (default 9). */
  topk?: number;
}

const COMMON_KEYS = ['metric', 'c', 'nwdForm', 'ignoreMask', 'ignoreIof', 'ignoreOverlap'];

function checkKeys(opts: object, keys: string[], what: string): void {
  const allowed = new Set(keys);
  for (const k of Object.keys(opts)) {
    if (!allowed.has(k)) throw new TypeError(`unknown ${what} option "${k}" (known: ${keys.join(', ')})`);
  }
}

function unitInterval(name: string, v: number | undefined, dflt: number): number {
  const x = v ?? dflt;
  if (!(typeof x === 'number' && Number.isFinite(x) && x >= -1 && x <= 1)) {
    throw new RangeError(`${name} must be a number in [-1, 1], got ${v}`);
  }
  return x;
}

function positiveInt(name: string, v: number | undefined, dflt: number): number {
  const x = v ?? dflt;
  if (!(Number.isInteger(x) && x >= 1 && x <= 1_000_000)) {
    throw new RangeError(`${name} must be a positive integer, got ${v}`);
  }
  return x;
}

interface Common {
  code: number;
  c: number;
  eps: number;
  ignore: Uint8Array;
  ignoreIof: number;
}

function common(anchors: Float32Array, gts: Float32Array, opts: CommonAssignOptions, what: string): Common {
  if (!opts || typeof opts !== 'object') throw new TypeError(`${what} needs an options object with a metric`);
  if (!(ASSIGN_METRICS as readonly string[]).includes(opts.metric)) {
    throw new RangeError(`${what}: metric must be one of ${ASSIGN_METRICS.join(', ')}, got ${String(opts.metric)}`);
  }
  if (anchors.length % 4 !== 0 || gts.length % 4 !== 0) {
    throw new RangeError(`${what}: box arrays need 4 numbers per box (got ${anchors.length} and ${gts.length})`);
  }
  const simOpts: {c?: number; nwdForm?: 'exact' | 'reference'} = {};
  if (opts.c !== undefined) simOpts.c = opts.c;
  if (opts.nwdForm !== undefined) simOpts.nwdForm = opts.nwdForm;
  const {c, eps} = similarityParams(simOpts);
  const g = gts.length / 4;
  const ignore = opts.ignoreMask ?? new Uint8Array(g);
  if (!(ignore instanceof Uint8Array) || ignore.length !== g) {
    throw new RangeError(`${what}: ignoreMask must be a Uint8Array with one entry per GT (${g})`);
  }
  const ignoreIof = opts.ignoreIof ?? 0.5;
  if (!(Number.isFinite(ignoreIof) && ignoreIof >= 0 && ignoreIof <= 1)) {
    throw new RangeError(`${what}: ignoreIof must be in [0, 1], got ${opts.ignoreIof}`);
  }
  verboseOnce(`assign:${what}:${opts.metric}:${eps}`, `${what} assigner on ${opts.metric}` +
    (opts.metric === 'nwd' ? ` (C = ${c}, ${eps > 0 ? 'reference eps' : 'exact'} form)` : ''));
  return {code: metricCode(opts.metric as Metric), c, eps, ignore, ignoreIof};
}

function check(status: number, what: string): void {
  if (status !== 0) throw new Error(`nwd-core ${what} assigner failed with status ${status}`);
}

type Core = CoreExports & AssignExports;

/**
 * Max-overlap assigner (mmdet MaxIoUAssigner semantics). Per anchor the best GT (ties: the
 * lowest GT index): negative if its overlap < negThr, positive if >= posThr, else ignored.
 * With lowQuality, each GT (in index order, so a later GT overwrites an earlier one) then
 * takes every anchor whose overlap equals its best overlap, if that best is >= minPos.
 * No GTs: every anchor is negative. Defaults: posThr 0.7, negThr 0.3, minPos 0.3, lowQuality on.
 */
export function assignMaxOverlap(anchorsXyxy: Float32Array, gtXyxy: Float32Array, opts: MaxOverlapOptions): Assignment {
  checkKeys(opts, [...COMMON_KEYS, 'posThr', 'negThr', 'minPos', 'lowQuality'], 'assignMaxOverlap');
  const k = common(anchorsXyxy, gtXyxy, opts, 'max-overlap');
  const posThr = unitInterval('posThr', opts.posThr, 0.7);
  const negThr = unitInterval('negThr', opts.negThr, 0.3);
  const minPos = unitInterval('minPos', opts.minPos, 0.3);
  if (negThr > posThr) throw new RangeError(`negThr (${negThr}) must not exceed posThr (${posThr})`);
  const lowQuality = opts.lowQuality ?? true;
  if (typeof lowQuality !== 'boolean') throw new TypeError(`lowQuality must be a boolean, got ${String(lowQuality)}`);
  const ignoreOverlap = unitInterval('ignoreOverlap', opts.ignoreOverlap, negThr);
  const n = anchorsXyxy.length / 4, m = gtXyxy.length / 4;
  return withArena((arena, core) => {
    const c = core as Core;
    const labels = arena.alloc(4 * n), maxOv = arena.alloc(4 * n);
    check(c.nwd_assign_max_overlap(k.code, k.c, k.eps, arena.copyIn(anchorsXyxy), n, arena.copyIn(gtXyxy), m,
      arena.copyIn(k.ignore), posThr, negThr, minPos, lowQuality ? 1 : 0, k.ignoreIof, ignoreOverlap, labels, maxOv),
    'max-overlap');
    return {labels: arena.i32(labels, n), maxOverlap: arena.f32(maxOv, n)};
  });
}

/**
 * NWD-RKA, the ranking assigner: every anchor starts ignored; anchors whose best overlap is
 * < negThr become negative; then each GT (in index order, a later GT overwriting an earlier
 * one) takes as positives every anchor whose overlap is >= its top-k-th overlap and > 0
 * (ties included, so a GT can get more than k). Defaults: metric as given (the paper: nwd),
 * negThr 0.3, topk 3.
 */
export function assignRka(anchorsXyxy: Float32Array, gtXyxy: Float32Array, opts: RkaOptions): Assignment {
  checkKeys(opts, [...COMMON_KEYS, 'negThr', 'topk'], 'assignRka');
  const k = common(anchorsXyxy, gtXyxy, opts, 'rka');
  const negThr = unitInterval('negThr', opts.negThr, 0.3);
  const topk = positiveInt('topk', opts.topk, 3);
  const ignoreOverlap = unitInterval('ignoreOverlap', opts.ignoreOverlap, negThr);
  const n = anchorsXyxy.length / 4, m = gtXyxy.length / 4;
  return withArena((arena, core) => {
    const c = core as Core;
    const labels = arena.alloc(4 * n), maxOv = arena.alloc(4 * n);
    check(c.nwd_assign_rka(k.code, k.c, k.eps, arena.copyIn(anchorsXyxy), n, arena.copyIn(gtXyxy), m,
      arena.copyIn(k.ignore), negThr, topk, k.ignoreIof, ignoreOverlap, labels, maxOv), 'rka');
    return {labels: arena.i32(labels, n), maxOverlap: arena.f32(maxOv, n)};
  });
}

/**
 * ATSS. For each GT, per level the `topk` anchors whose centres are nearest to the GT's
 * centre (ties: the lower anchor index) are candidates; the threshold is the mean plus the
 * standard deviation (n-1 denominator, as torch.std; 0 for a single candidate) of their
 * overlaps; a candidate is positive when its overlap is >= the threshold and its centre lies
 * inside the GT by more than 0.01 px. An anchor claimed by several GTs goes to the one it
 * overlaps most (ties: the lowest GT index). Every other anchor is negative.
 * `levelCounts` (from generateAnchors) splits the anchors into levels and must sum to A.
 */
export function assignAtss(anchorsXyxy: Float32Array, levelCounts: ArrayLike<number>, gtXyxy: Float32Array,
  opts: AtssOptions): Assignment {
  checkKeys(opts, [...COMMON_KEYS, 'topk'], 'assignAtss');
  const k = common(anchorsXyxy, gtXyxy, opts, 'atss');
  const topk = positiveInt('topk', opts.topk, 9);
  const ignoreOverlap = unitInterval('ignoreOverlap', opts.ignoreOverlap, 0.3);
  const n = anchorsXyxy.length / 4, m = gtXyxy.length / 4;
  const counts = Uint32Array.from(levelCounts);
  let sum = 0;
  for (const x of Array.from(levelCounts)) {
    if (!(Number.isInteger(x) && x >= 0)) throw new RangeError(`levelCounts must be non-negative integers, got ${x}`);
    sum += x;
  }
  if (sum !== n) throw new RangeError(`levelCounts sum to ${sum} but there are ${n} anchors`);
  return withArena((arena, core) => {
    const c = core as Core;
    const labels = arena.alloc(4 * n), maxOv = arena.alloc(4 * n);
    check(c.nwd_assign_atss(k.code, k.c, k.eps, arena.copyIn(anchorsXyxy), n, arena.copyIn(counts), counts.length,
      arena.copyIn(gtXyxy), m, arena.copyIn(k.ignore), topk, k.ignoreIof, ignoreOverlap, labels, maxOv), 'atss');
    return {labels: arena.i32(labels, n), maxOverlap: arena.f32(maxOv, n)};
  });
}

/** Anchors kept by {@link samplePositiveFraction}. */
export interface Sample {
  /** Int32Array, length A: the input labels with every anchor not sampled set to -1. */
  labels: Int32Array;
  /** Int32Array: indices of the sampled positives, ascending. */
  posIndices: Int32Array;
  /** Int32Array: indices of the sampled negatives, ascending. */
  negIndices: Int32Array;
}

/** Picks `count` of `indices` uniformly without replacement (partial Fisher-Yates), sorted ascending. */
function pick(indices: number[], count: number, rng: () => number): Int32Array {
  const k = Math.min(count, indices.length);
  for (let i = 0; i < k; i++) {
    const j = i + Math.floor(rng() * (indices.length - i));
    [indices[i], indices[j]] = [indices[j], indices[i]];
  }
  return Int32Array.from(indices.slice(0, k)).sort();
}

/**
 * Random sampler with a positive fraction (mmdet RandomSampler): at most
 * `floor(num * posFraction)` positives (labels > 0) drawn uniformly, then negatives
 * (labels 0) fill the rest up to `num`. `rng` returns uniform numbers in [0, 1) (e.g.
 * `() => rng.next()` of detector/rng.ts), so the draw is reproducible from a seed.
 * The paper's RPN: num 256, posFraction 0.5.
 */
export function samplePositiveFraction(labels: Int32Array, num: number, posFraction: number,
  rng: () => number): Sample {
  if (!(Number.isInteger(num) && num >= 0)) throw new RangeError(`num must be a non-negative integer, got ${num}`);
  if (!(Number.isFinite(posFraction) && posFraction >= 0 && posFraction <= 1)) {
    throw new RangeError(`posFraction must be in [0, 1], got ${posFraction}`);
  }
  const pos: number[] = [], neg: number[] = [];
  labels.forEach((l, i) => {
    if (l > 0) pos.push(i);
    else if (l === 0) neg.push(i);
  });
  const posIndices = pick(pos, Math.floor(num * posFraction), rng);
  const negIndices = pick(neg, num - posIndices.length, rng);
  const out = new Int32Array(labels.length).fill(-1);
  for (const i of posIndices) out[i] = labels[i];
  for (const i of negIndices) out[i] = 0;
  return {labels: out, posIndices, negIndices};
}

export {DEFAULT_C};
