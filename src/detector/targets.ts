/**
 * Assignment glue: per image, labels every anchor with nwd-core's assigners (wasm) and turns
 * the labels into the dense training targets of a batch. The assigner is the config's
 * `assign.method`: `iou` / `nwd` max-overlap (thresholds pos/neg/min-pos, low-quality matches),
 * `rka` (NWD-RKA, top-k by NWD), `atss-iou` / `atss-nwd`.
 */
import {assignAtss, assignMaxOverlap, assignRka, samplePositiveFraction, type Assignment} from '../bindings/assign.js';
import type {Anchors} from './anchors.js';
import {encode, type Stds} from './coder.js';
import type {DetectorConfig} from './config.js';
import type {CropTargets} from './data.js';
import type {Rng} from '../util/rng.js';

/** Labels of one image's anchors (see bindings/assign.ts: -1 ignored, 0 negative, k+1 positive for GT k). */
export function assignImage(anchors: Anchors, gt: CropTargets, cfg: DetectorConfig['assign']): Assignment {
  const common = {c: cfg.c, ignoreMask: gt.ignore};
  switch (cfg.method) {
    case 'iou':
    case 'nwd':
      return assignMaxOverlap(anchors.xyxy, gt.boxesXyxy, {...common, metric: cfg.method, posThr: cfg.posThreshold,
        negThr: cfg.negThreshold, minPos: cfg.minPosThreshold, lowQuality: true});
    case 'rka':
      return assignRka(anchors.xyxy, gt.boxesXyxy, {...common, metric: 'nwd', negThr: cfg.negThreshold,
        topk: cfg.topk});
    case 'atss-iou':
    case 'atss-nwd':
      return assignAtss(anchors.xyxy, anchors.levelCounts, gt.boxesXyxy,
        {...common, metric: cfg.method === 'atss-iou' ? 'iou' : 'nwd', topk: cfg.topk});
    default:
      throw new RangeError(`unknown assigner ${String(cfg.method)}`);
  }
}

/**
 * Dense targets of a batch of B images sharing one anchor set of N anchors, K classes.
 * Anchor rows are numbered b*N + i.
 */
export interface BatchTargets {
  /** Float32Array B*N*K: 1 at (row, class of its GT) for positives. */
  cls: Float32Array;
  /** Float32Array B*N: 1 for rows in the classification loss (positives and negatives kept), else 0. */
  clsWeight: Float32Array;
  /** Int32Array P: rows of the positives. */
  posRows: Int32Array;
  /** Float32Array 4*P: delta targets of the positives. */
  deltas: Float32Array;
  /** Float32Array 4*P: the positives' anchors and their GT boxes, xyxy (for GIoU/NWD losses). */
  posAnchors: Float32Array;
  posGt: Float32Array;
  /** Rows counted by the classification loss (for BCE's normaliser). */
  sampled: number;
  /** Positives per non-ignored GT, summed (for the positives-per-GT statistic). */
  gts: number;
}

/** Assigns every image of a batch and builds its targets. `rng` drives the sampler when `assign.samples` > 0. */
export function batchTargets(anchors: Anchors, gts: CropTargets[], cfg: DetectorConfig, rng: Rng): BatchTargets {
  const n = anchors.xyxy.length / 4, k = cfg.classes.length;
  const cls = new Float32Array(gts.length * n * k), clsWeight = new Float32Array(gts.length * n);
  const posRows: number[] = [], posAnchors: number[] = [], posGt: number[] = [];
  let sampled = 0, gtCount = 0;
  gts.forEach((gt, b) => {
    let {labels} = assignImage(anchors, gt, cfg.assign);
    if (cfg.assign.samples > 0) {
      labels = samplePositiveFraction(labels, cfg.assign.samples, cfg.assign.posFraction, () => rng.next()).labels;
    }
    gtCount += gt.ignore.reduce((s, x) => s + (x ? 0 : 1), 0);
    for (let i = 0; i < n; i++) {
      const l = labels[i];
      if (l < 0) continue;
      const row = b * n + i;
      clsWeight[row] = 1;
      sampled++;
      if (l === 0) continue;
      const g = l - 1;
      cls[row * k + gt.classes[g]] = 1;
      posRows.push(row);
      for (let j = 0; j < 4; j++) {
        posAnchors.push(anchors.xyxy[4 * i + j]);
        posGt.push(gt.boxesXyxy[4 * g + j]);
      }
    }
  });
  const pa = Float32Array.from(posAnchors), pg = Float32Array.from(posGt);
  return {cls, clsWeight, posRows: Int32Array.from(posRows), deltas: encode(pa, pg, cfg.coder.stds as Stds),
    posAnchors: pa, posGt: pg, sampled, gts: gtCount};
}
