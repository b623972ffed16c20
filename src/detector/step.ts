/**
 * One training step's loss: the model's outputs on a batch against the batch targets
 * (targets.ts), classification (focal or BCE) plus the weighted regression loss
 * (smooth L1 on deltas, or GIoU / NWD on decoded boxes), both normalised by the number of
 * positives (focal) or of sampled anchors (BCE).
 */
import * as tf from '@tensorflow/tfjs';
import type {DetectorConfig} from './config.js';
import {decodeTensor, type Stds} from './coder.js';
import {bceLoss, focalLoss, giouLoss, nwdLoss, smoothL1Loss} from './losses.js';
import type {BatchTargets} from './targets.js';

export interface LossParts {
  total: tf.Scalar;
  cls: tf.Scalar;
  reg: tf.Scalar;
}

/** Loss of `model` on `images` [B, H, W, 3]; must run inside a tidy / variableGrads. */
export function detectorLoss(model: tf.LayersModel, images: tf.Tensor4D, t: BatchTargets, cfg: DetectorConfig):
  LossParts {
  const [clsOut, regOut] = model.apply(images, {training: true}) as tf.Tensor[];
  const k = cfg.classes.length;
  const logits = tf.reshape(clsOut, [-1, k]) as tf.Tensor2D;
  const rows = logits.shape[0];
  const targets = tf.tensor2d(t.cls, [rows, k]);
  const weights = tf.tensor2d(t.clsWeight, [rows, 1]);
  const p = t.posRows.length;
  const norm = cfg.loss.cls === 'focal' ? Math.max(1, p) : Math.max(1, t.sampled);
  const clsSum = cfg.loss.cls === 'focal'
    ? focalLoss(logits, targets, weights, cfg.loss.focalAlpha, cfg.loss.focalGamma)
    : bceLoss(logits, targets, weights);
  const cls = tf.div(clsSum, norm) as tf.Scalar;
  let reg: tf.Scalar;
  if (p === 0) {
    reg = tf.mul(tf.sum(regOut), 0) as tf.Scalar;
  } else {
    const pred = tf.gather(tf.reshape(regOut, [-1, 4]), tf.tensor1d(t.posRows, 'int32')) as tf.Tensor2D;
    let sum: tf.Scalar;
    if (cfg.loss.reg === 'smoothl1') {
      sum = smoothL1Loss(pred, tf.tensor2d(t.deltas, [p, 4]));
    } else {
      const boxes = decodeTensor(tf.tensor2d(t.posAnchors, [p, 4]), pred, cfg.coder.stds as Stds);
      const gt = tf.tensor2d(t.posGt, [p, 4]);
      sum = cfg.loss.reg === 'giou' ? giouLoss(boxes, gt) : nwdLoss(boxes, gt, cfg.assign.c);
    }
    reg = tf.mul(tf.div(sum, cfg.loss.cls === 'focal' ? norm : Math.max(1, p)), cfg.loss.regWeight) as tf.Scalar;
  }
  return {total: tf.add(cls, reg) as tf.Scalar, cls, reg};
}
