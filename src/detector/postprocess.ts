/**
 * Post-processing of the head's outputs for one input window: sigmoid scores, score threshold,
 * top-k candidates, box decoding on the anchors; then, over all windows of an image, NMS per
 * class (`iou` or `nwd` through nwd-core) and the detection cap.
 */
import {decode, type Stds} from './coder.js';
import type {DetectorConfig} from './config.js';

/** Detections of one image (or window): xyxy boxes, scores, class indices. */
export interface Detections {
  /** Float32Array 4*D, xyxy, pixels. */
  boxesXyxy: Float32Array;
  /** Float32Array D. */
  scores: Float32Array;
  /** Int32Array D: class index (into config.classes). */
  classes: Int32Array;
}

/**
 * Candidates of one window: `probs` Float32Array N*K (sigmoid scores), `deltas` N*4, `anchorsXyxy`
 * 4*N. Keeps (anchor, class) pairs scoring above `scoreThreshold`, the best `topk` of them (ties:
 * lower index first), decoded and shifted by (dx, dy).
 */
export function windowCandidates(probs: Float32Array, deltas: Float32Array, anchorsXyxy: Float32Array,
  numClasses: number, cfg: DetectorConfig['postprocess'], stds: Stds, dx = 0, dy = 0): Detections {
  const idx: number[] = [];
  for (let i = 0; i < probs.length; i++) if (probs[i] > cfg.scoreThreshold) idx.push(i);
  idx.sort((a, b) => probs[b] - probs[a] || a - b);
  if (idx.length > cfg.topk) idx.length = cfg.topk;
  const d = idx.length;
  const anc = new Float32Array(4 * d), del = new Float32Array(4 * d);
  const scores = new Float32Array(d), classes = new Int32Array(d);
  idx.forEach((flat, j) => {
    const a = Math.floor(flat / numClasses);
    classes[j] = flat % numClasses;
    scores[j] = probs[flat];
    for (let q = 0; q < 4; q++) {
      anc[4 * j + q] = anchorsXyxy[4 * a + q];
      del[4 * j + q] = deltas[4 * a + q];
    }
  });
  const boxesXyxy = decode(anc, del, stds);
  for (let i = 0; i < boxesXyxy.length; i += 4) {
    boxesXyxy[i] += dx;
    boxesXyxy[i + 1] += dy;
    boxesXyxy[i + 2] += dx;
    boxesXyxy[i + 3] += dy;
  }
  return {boxesXyxy, scores, classes};
}

/** Concatenates detections. */
export function concatDetections(parts: Detections[]): Detections {
  const n = parts.reduce((s, p) => s + p.scores.length, 0);
  const out: Detections = {boxesXyxy: new Float32Array(4 * n), scores: new Float32Array(n), classes: new Int32Array(n)};
  let o = 0;
  for (const p of parts) {
    out.boxesXyxy.set(p.boxesXyxy, 4 * o);
    out.scores.set(p.scores, o);
    out.classes.set(p.classes, o);
    o += p.scores.length;
  }
  return out;
}

/** Clips boxes to the image in place; boxes reduced to nothing keep zero size. */
export function clipBoxes(d: Detections, width: number, height: number): void {
  const b = d.boxesXyxy;
  for (let i = 0; i < b.length; i += 4) {
    b[i] = Math.min(Math.max(b[i], 0), width);
    b[i + 1] = Math.min(Math.max(b[i + 1], 0), height);
    b[i + 2] = Math.min(Math.max(b[i + 2], b[i]), width);
    b[i + 3] = Math.min(Math.max(b[i + 3], b[i + 1]), height);
  }
}

/** The detections at `keep` (indices), in that order. */
export function selectDetections(d: Detections, keep: ArrayLike<number>): Detections {
  const n = keep.length;
  const out: Detections = {boxesXyxy: new Float32Array(4 * n), scores: new Float32Array(n), classes: new Int32Array(n)};
  for (let j = 0; j < n; j++) {
    const i = keep[j];
    out.boxesXyxy.set(d.boxesXyxy.subarray(4 * i, 4 * i + 4), 4 * j);
    out.scores[j] = d.scores[i];
    out.classes[j] = d.classes[i];
  }
  return out;
}

/** Indices of the `max` best scores (ties: lower index first), in descending score order. */
export function topScores(scores: Float32Array, max: number): Int32Array {
  const idx = Array.from(scores.keys()).sort((a, b) => scores[b] - scores[a] || a - b);
  return Int32Array.from(idx.slice(0, max));
}
