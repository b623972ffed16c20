/**
 * Greedy NMS as a library: typed arrays in, kept indices out. Used by `nwd nms`, the
 * detector's post-processing and the pipeline.
 *
 * Semantics (see crates/nwd-core/src/nms.rs): order by score descending, ties by lower index;
 * a box is suppressed when its overlap with a kept box is strictly greater than the threshold;
 * class-wise NMS runs per class and merges by score. Detections with a NaN or infinite score
 * are dropped and counted. Boxes follow the box policy (src/geometry/boxes.ts): a NaN or
 * infinite coordinate or reversed corners is an error naming the box. Scores are compared as
 * float32; thresholds are applied exactly to those float32 values.
 */
import {nmsKernel, NmsKernelError, type NmsPath} from '../bindings/nms.js';
import {assertValidBoxes} from '../geometry/boxes.js';
import {UserError} from '../cli/errors.js';
import {verboseOnce} from '../cli/log.js';
import {nmsParams, type NmsOptions} from './options.js';

export {NMS_METRICS, SOFT_DECAYS, DEFAULT_THRESHOLD, DEFAULT_SIGMA, type NmsMetric, type SoftDecay,
  type NmsOptions} from './options.js';

export interface NmsResult {
  /** Kept input indices, score descending (ties: lower index first). Int32Array K. */
  keep: Int32Array;
  /** Final scores of the kept detections (Soft-NMS decays them), parallel to `keep`. Float32Array K. */
  scores: Float32Array;
  /** Detections dropped because their score was NaN or infinite. */
  nonFinite: number;
  /** Which pruning ran: `plain` (every pair), `overlap-grid` or `centre-grid`. */
  path: NmsPath;
}

export interface NmsCallContext {
  /** Names detection `index` in error messages (default `box <index>`). */
  label?: (index: number) => string;
  /** File named in error messages. */
  file?: string;
}

function checkArrays(boxesXyxy: Float32Array, scores: Float32Array, classes: Int32Array | null): void {
  if (!(boxesXyxy instanceof Float32Array)) throw new TypeError('boxesXyxy must be a Float32Array (4*N, xyxy)');
  if (!(scores instanceof Float32Array)) throw new TypeError('scores must be a Float32Array (N)');
  if (boxesXyxy.length !== 4 * scores.length) {
    throw new RangeError(
      `boxesXyxy has length ${boxesXyxy.length}, expected 4 * ${scores.length} (one xyxy box per score)`);
  }
  if (classes !== null) {
    if (!(classes instanceof Int32Array)) throw new TypeError('classes must be an Int32Array (N)');
    if (classes.length !== scores.length) {
      throw new RangeError(`classes has length ${classes.length}, expected ${scores.length}`);
    }
  }
}

/**
 * NMS with every detail. `boxesXyxy`: Float32Array 4*N (xyxy); `scores`: Float32Array N;
 * `classes`: Int32Array N for class-wise NMS, or null for class-agnostic.
 * Throws a UserError naming the detection for a box that breaks the policy or a negative score
 * under Soft-NMS, and RangeError/TypeError for bad options or shapes.
 */
export function nmsDetailed(boxesXyxy: Float32Array, scores: Float32Array, classes: Int32Array | null,
  opts: NmsOptions = {}, ctx: NmsCallContext = {}): NmsResult {
  const p = nmsParams(opts);
  checkArrays(boxesXyxy, scores, classes);
  try {
    const out = nmsKernel(boxesXyxy, scores, classes, p);
    verboseOnce(`nms:${out.path}`, `nms: ${out.path === 'plain' ? 'every pair compared' : out.path} (scalar kernel)`);
    return out;
  } catch (err) {
    if (!(err instanceof NmsKernelError)) throw err;
    const name = ctx.label ? ctx.label(err.index) : `detection ${err.index}`;
    if (err.status === -5) assertValidBoxes(boxesXyxy, {file: ctx.file, label: ctx.label});
    if (err.status === -6) {
      throw new UserError(`Soft-NMS needs non-negative scores, got ${scores[err.index]}`, {
        code: 'E_SCORE_NEGATIVE', file: ctx.file, record: name,
        fix: 'use hard NMS, or map the scores to [0, 1] first'});
    }
    throw new Error(`NMS kernel refused validated options (status ${err.status})`, {cause: err});
  }
}

/**
 * Class-agnostic greedy NMS. `boxesXyxy`: Float32Array 4*N (xyxy); `scores`: Float32Array N.
 * Returns the kept indices (Int32Array), score descending, ties by lower index.
 */
export function nms(boxesXyxy: Float32Array, scores: Float32Array, opts: NmsOptions = {}): Int32Array {
  return nmsDetailed(boxesXyxy, scores, null, opts).keep;
}

/**
 * Class-wise greedy NMS: boxes only suppress boxes of their own class (`classes`: Int32Array N).
 * Returns the kept indices of all classes merged, score descending, ties by lower index;
 * `maxDets` caps the merged list.
 */
export function batchedNms(boxesXyxy: Float32Array, scores: Float32Array, classes: Int32Array,
  opts: NmsOptions = {}): Int32Array {
  if (!(classes instanceof Int32Array)) throw new TypeError('classes must be an Int32Array (N)');
  return nmsDetailed(boxesXyxy, scores, classes, opts).keep;
}
