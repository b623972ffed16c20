/**
 * Detector losses on tensors. Classification: sigmoid focal loss or binary cross-entropy per
 * anchor and class. Regression (on positives only): smooth L1 on deltas, or 1 - GIoU, or
 * 1 - NWD on decoded xyxy boxes. Each returns the SUM over its rows; the caller normalises.
 */
import * as tf from '@tensorflow/tfjs';

/**
 * eps added under the square root of the NWD loss: d sqrt(x)/dx is infinite at x = 0 (identical
 * boxes), which would make the gradient NaN; with eps it is finite (and 0 there, as d(W2^2) is 0).
 */
export const NWD_LOSS_EPS = 1e-6;
/** eps of the GIoU loss's divisions (a zero-area union or enclosing box stays finite). */
export const GIOU_EPS = 1e-7;

/** Numerically stable BCE with logits, elementwise: max(x, 0) - x*t + log(1 + exp(-|x|)). */
function bceWithLogits(logits: tf.Tensor, targets: tf.Tensor): tf.Tensor {
  return tf.add(tf.sub(tf.relu(logits), tf.mul(logits, targets)), tf.log1p(tf.exp(tf.neg(tf.abs(logits)))));
}

/**
 * Sigmoid focal loss (Lin et al.), summed. logits, targets: [M, K] (targets 0/1); weights: [M, 1]
 * (0 drops an anchor, e.g. ignored ones).
 */
export function focalLoss(logits: tf.Tensor2D, targets: tf.Tensor2D, weights: tf.Tensor2D, alpha = 0.25, gamma = 2):
  tf.Scalar {
  return tf.tidy(() => {
    const p = tf.sigmoid(logits);
    const ce = bceWithLogits(logits, targets);
    const pt = tf.add(tf.mul(p, targets), tf.mul(tf.sub(1, p), tf.sub(1, targets)));
    const at = tf.add(tf.mul(targets, alpha), tf.mul(tf.sub(1, targets), 1 - alpha));
    const mod = gamma === 2 ? tf.square(tf.sub(1, pt)) : tf.pow(tf.sub(1, pt), gamma);
    return tf.sum(tf.mul(tf.mul(tf.mul(at, mod), ce), weights));
  });
}

/** Binary cross-entropy on sigmoid logits, summed; shapes as focalLoss. */
export function bceLoss(logits: tf.Tensor2D, targets: tf.Tensor2D, weights: tf.Tensor2D): tf.Scalar {
  return tf.tidy(() => tf.sum(tf.mul(bceWithLogits(logits, targets), weights)));
}

/** Smooth L1 (Huber with transition `beta`), summed over [P, 4] deltas. */
export function smoothL1Loss(pred: tf.Tensor2D, target: tf.Tensor2D, beta = 1 / 9): tf.Scalar {
  return tf.tidy(() => {
    // 0.5 m^2 / beta + (d - m) with m = min(d, beta): the two branches without a select.
    const d = tf.abs(tf.sub(pred, target));
    const m = tf.minimum(d, beta);
    return tf.sum(tf.add(tf.div(tf.mul(0.5, tf.square(m)), beta), tf.sub(d, m)));
  });
}

/** Sum over boxes of 1 - GIoU; pred, target: [P, 4] xyxy. */
export function giouLoss(pred: tf.Tensor2D, target: tf.Tensor2D): tf.Scalar {
  return tf.tidy(() => {
    const [px1, py1, px2, py2] = tf.split(pred, 4, 1);
    const [tx1, ty1, tx2, ty2] = tf.split(target, 4, 1);
    const area = (x1: tf.Tensor, y1: tf.Tensor, x2: tf.Tensor, y2: tf.Tensor) =>
      tf.mul(tf.relu(tf.sub(x2, x1)), tf.relu(tf.sub(y2, y1)));
    const inter = area(tf.maximum(px1, tx1), tf.maximum(py1, ty1), tf.minimum(px2, tx2), tf.minimum(py2, ty2));
    const union = tf.sub(tf.add(area(px1, py1, px2, py2), area(tx1, ty1, tx2, ty2)), inter);
    const hull = area(tf.minimum(px1, tx1), tf.minimum(py1, ty1), tf.maximum(px2, tx2), tf.maximum(py2, ty2));
    const iou = tf.div(inter, tf.add(union, GIOU_EPS));
    const giou = tf.sub(iou, tf.div(tf.sub(hull, union), tf.add(hull, GIOU_EPS)));
    return tf.sum(tf.sub(1, giou));
  });
}

/**
 * Sum over boxes of 1 - NWD, NWD = exp(-sqrt(W2^2 + eps) / c) with
 * W2^2 = dcx^2 + dcy^2 + (dw^2 + dh^2) / 4; pred, target: [P, 4] xyxy. Finite value and gradient
 * for identical boxes and for zero-size boxes (eps, see NWD_LOSS_EPS).
 */
export function nwdLoss(pred: tf.Tensor2D, target: tf.Tensor2D, c: number, eps = NWD_LOSS_EPS): tf.Scalar {
  return tf.tidy(() => tf.sum(tf.sub(1, nwdElementwise(pred, target, c, eps))));
}

/** NWD per row of two [P, 4] xyxy tensors, with eps under the square root. Returns [P, 1]. */
export function nwdElementwise(pred: tf.Tensor2D, target: tf.Tensor2D, c: number, eps = NWD_LOSS_EPS): tf.Tensor2D {
  return tf.tidy(() => {
    const [px1, py1, px2, py2] = tf.split(pred, 4, 1);
    const [tx1, ty1, tx2, ty2] = tf.split(target, 4, 1);
    // Differences of centres and of sizes, written on corners: cx_p - cx_t = ((px1 - tx1) + (px2 - tx2)) / 2.
    const d1x = tf.sub(px1, tx1), d2x = tf.sub(px2, tx2), d1y = tf.sub(py1, ty1), d2y = tf.sub(py2, ty2);
    const dcx = tf.div(tf.add(d1x, d2x), 2), dcy = tf.div(tf.add(d1y, d2y), 2);
    const dw = tf.sub(d2x, d1x), dh = tf.sub(d2y, d1y);
    const w2sq = tf.add(tf.add(tf.square(dcx), tf.square(dcy)), tf.div(tf.add(tf.square(dw), tf.square(dh)), 4));
    return tf.exp(tf.div(tf.neg(tf.sqrt(tf.add(w2sq, eps))), c)) as tf.Tensor2D;
  });
}
