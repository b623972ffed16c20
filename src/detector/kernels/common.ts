/**
 * Shared pieces of the gradient kernels: attribute checks, padding geometry and zero-insertion
 * upsampling, all NHWC and built from ops the wasm backend implements.
 */
import * as tf from '@tensorflow/tfjs';

export type Pad = 'same' | 'valid' | number | tf.backend_util.ExplicitPadding;
export type Pair = number | [number, number];
/** What tfjs hands a kernel function (the backend is not used: these kernels are made of ops). */
export type KernelArgs = {inputs: tf.NamedTensorInfoMap; attrs?: tf.NamedAttrMap};

/**
 * Kernel inputs arrive as Tensors when called from gradients; bare TensorInfos are wrapped (call
 * inside a tidy, which releases the wrapper).
 */
export function asTensor<R extends tf.Rank>(t: tf.TensorInfo | undefined, name = 'input'): tf.Tensor<R> {
  if (t === undefined) throw new Error(`nwd wasm kernel: missing ${name}`);
  if (t instanceof tf.Tensor) return t as tf.Tensor<R>;
  return tf.engine().makeTensorFromTensorInfo(t) as tf.Tensor<R>;
}

/** Throws for layouts and dilations these kernels do not implement (they never fall back silently). */
export function checkAttrs(kernel: string, dataFormat: string | undefined, dilations: Pair | undefined): void {
  if (dataFormat !== undefined && dataFormat !== 'NHWC' && dataFormat !== 'channelsLast') {
    throw new Error(`${kernel} on wasm (nwd kernel): only NHWC is implemented, got ${dataFormat}`);
  }
  const d = dilations === undefined ? [1, 1] : typeof dilations === 'number' ? [dilations, dilations] : dilations;
  if (d[0] !== 1 || d[1] !== 1) {
    throw new Error(`${kernel} on wasm (nwd kernel): only dilation 1 is implemented, got ${d.join('x')}`);
  }
}

/**
 * Inserts `s-1` zeros after every row/column of `dy` [B, Ho, Wo, C], giving [B, Ho*sh, Wo*sw, C]
 * (the trailing zeros are accounted for by the caller's padding).
 */
export function zeroUpsample(dy: tf.Tensor4D, sh: number, sw: number): tf.Tensor4D {
  if (sh === 1 && sw === 1) return dy;
  const [b, h, w, c] = dy.shape;
  const t = tf.reshape(dy, [b, h, 1, w, 1, c]);
  const p = tf.pad(t, [[0, 0], [0, 0], [0, sh - 1], [0, 0], [0, sw - 1], [0, 0]]);
  return tf.reshape(p, [b, h * sh, w * sw, c]);
}

/**
 * Pads (or, for negative amounts, crops) the spatial axes of `t` [B, H, W, C]:
 * `[top, bottom, left, right]`.
 */
export function padOrCrop(t: tf.Tensor4D, top: number, bottom: number, left: number, right: number): tf.Tensor4D {
  const [b, h, w, c] = t.shape;
  const ct = Math.max(0, -top), cb = Math.max(0, -bottom), cl = Math.max(0, -left), cr = Math.max(0, -right);
  let r = t;
  if (ct || cb || cl || cr) r = tf.slice(r, [0, ct, cl, 0], [b, h - ct - cb, w - cl - cr, c]);
  const pt = Math.max(0, top), pb = Math.max(0, bottom), pl = Math.max(0, left), pr = Math.max(0, right);
  if (pt || pb || pl || pr) r = tf.pad(r, [[0, 0], [pt, pb], [pl, pr], [0, 0]]);
  return r;
}

/**
 * The input-gradient geometry shared by conv and depthwise: how much to pad the zero-upsampled
 * output gradient (which already carries `s-1` trailing zeros per row) so that a stride-1
 * 'valid' correlation with the flipped filter has the input's spatial size.
 */
export function inputGradPads(info: tf.backend_util.Conv2DInfo): [number, number, number, number] {
  const {filterHeight: fh, filterWidth: fw, strideHeight: sh, strideWidth: sw} = info;
  const [h, w] = [info.inHeight, info.inWidth];
  const top = fh - 1 - info.padInfo.top, left = fw - 1 - info.padInfo.left;
  const bottom = h + fh - 1 - info.outHeight * sh - top;
  const right = w + fw - 1 - info.outWidth * sw - left;
  return [top, bottom, left, right];
}

/**
 * Filter taps picked by a 0/1 matrix product: row r of the result is row `rows[r]` of
 * `taps` [T, K] (or zeros where `rows[r]` is -1). wasm's Reverse and GatherV2 kernels take
 * about a millisecond even on a 3x3 filter; a small matMul takes a fifth of that.
 */
export function pickTaps(taps: tf.Tensor2D, rows: number[]): tf.Tensor2D {
  const t = taps.shape[0];
  const m = new Float32Array(rows.length * t);
  rows.forEach((src, r) => {
    if (src >= 0) m[r * t + src] = 1;
  });
  return tf.matMul(tf.tensor2d(m, [rows.length, t]), taps);
}

/** `filter` [fh, fw, ...rest] flipped along both spatial axes. */
export function flipSpatial(filter: tf.Tensor4D): tf.Tensor4D {
  const [fh, fw, a, b] = filter.shape;
  const rows = Array.from({length: fh * fw}, (_, i) => fh * fw - 1 - i);
  return tf.reshape(pickTaps(tf.reshape(filter, [fh * fw, a * b]), rows), [fh, fw, a, b]);
}
