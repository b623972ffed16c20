/**
 * The box coder: regression targets are deltas of a box relative to its anchor,
 * `dx = (cx - acx) / aw / s0`, `dy = (cy - acy) / ah / s1`, `dw = log(w / aw) / s2`,
 * `dh = log(h / ah) / s3` (s = the config's `coder.stds`). Encoding runs on typed arrays (targets
 * are built in JS), decoding both on typed arrays and on tensors (the GIoU/NWD losses decode).
 */
import * as tf from '@tensorflow/tfjs';

export type Stds = [number, number, number, number];

/** Widths and heights below this (px) are clamped before the log, so zero-size boxes encode finitely. */
const MIN_SIDE = 1e-2;
/** Largest decoded log-scale: a box at most 1000/16 times its anchor (as in torchvision). */
export const MAX_LOG_SCALE = Math.log(1000 / 16);

/** Deltas of `boxesXyxy` against `anchorsXyxy` (both Float32Array 4*N, xyxy). Returns Float32Array 4*N. */
export function encode(anchorsXyxy: Float32Array, boxesXyxy: Float32Array, stds: Stds): Float32Array {
  const out = new Float32Array(anchorsXyxy.length);
  for (let i = 0; i < out.length; i += 4) {
    const aw = anchorsXyxy[i + 2] - anchorsXyxy[i], ah = anchorsXyxy[i + 3] - anchorsXyxy[i + 1];
    const acx = anchorsXyxy[i] + aw / 2, acy = anchorsXyxy[i + 1] + ah / 2;
    const w = Math.max(boxesXyxy[i + 2] - boxesXyxy[i], MIN_SIDE);
    const h = Math.max(boxesXyxy[i + 3] - boxesXyxy[i + 1], MIN_SIDE);
    const cx = (boxesXyxy[i] + boxesXyxy[i + 2]) / 2, cy = (boxesXyxy[i + 1] + boxesXyxy[i + 3]) / 2;
    out[i] = (cx - acx) / aw / stds[0];
    out[i + 1] = (cy - acy) / ah / stds[1];
    out[i + 2] = Math.log(w / aw) / stds[2];
    out[i + 3] = Math.log(h / ah) / stds[3];
  }
  return out;
}

/** Boxes (Float32Array 4*N, xyxy) from deltas (4*N) on anchors (4*N, xyxy). */
export function decode(anchorsXyxy: Float32Array, deltas: ArrayLike<number>, stds: Stds): Float32Array {
  const out = new Float32Array(anchorsXyxy.length);
  for (let i = 0; i < out.length; i += 4) {
    const aw = anchorsXyxy[i + 2] - anchorsXyxy[i], ah = anchorsXyxy[i + 3] - anchorsXyxy[i + 1];
    const acx = anchorsXyxy[i] + aw / 2, acy = anchorsXyxy[i + 1] + ah / 2;
    const cx = acx + deltas[i] * stds[0] * aw, cy = acy + deltas[i + 1] * stds[1] * ah;
    const w = aw * Math.exp(Math.min(deltas[i + 2] * stds[2], MAX_LOG_SCALE));
    const h = ah * Math.exp(Math.min(deltas[i + 3] * stds[3], MAX_LOG_SCALE));
    out[i] = cx - w / 2;
    out[i + 1] = cy - h / 2;
    out[i + 2] = cx + w / 2;
    out[i + 3] = cy + h / 2;
  }
  return out;
}

/** Tensor decode: anchors [N, 4] xyxy, deltas [N, 4] -> boxes [N, 4] xyxy (differentiable in deltas). */
export function decodeTensor(anchorsXyxy: tf.Tensor2D, deltas: tf.Tensor2D, stds: Stds): tf.Tensor2D {
  return tf.tidy(() => {
    const [ax1, ay1, ax2, ay2] = tf.split(anchorsXyxy, 4, 1);
    const [dx, dy, dw, dh] = tf.split(deltas, 4, 1);
    const aw = tf.sub(ax2, ax1), ah = tf.sub(ay2, ay1);
    const cx = tf.add(tf.add(ax1, tf.div(aw, 2)), tf.mul(tf.mul(dx, stds[0]), aw));
    const cy = tf.add(tf.add(ay1, tf.div(ah, 2)), tf.mul(tf.mul(dy, stds[1]), ah));
    const hw = tf.div(tf.mul(aw, tf.exp(tf.minimum(tf.mul(dw, stds[2]), MAX_LOG_SCALE))), 2);
    const hh = tf.div(tf.mul(ah, tf.exp(tf.minimum(tf.mul(dh, stds[3]), MAX_LOG_SCALE))), 2);
    return tf.concat([tf.sub(cx, hw), tf.sub(cy, hh), tf.add(cx, hw), tf.add(cy, hh)], 1) as tf.Tensor2D;
  });
}
