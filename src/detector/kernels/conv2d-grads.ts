/**
 * Conv2D gradients for the wasm backend, written as forward convolutions (which wasm runs
 * through XNNPACK). NHWC, any strides, 'same' / 'valid' / explicit padding, dilation 1.
 */
import * as tf from '@tensorflow/tfjs';
import {asTensor, checkAttrs, flipSpatial, inputGradPads, padOrCrop, pickTaps, zeroUpsample, type KernelArgs, type Pad,
  type Pair} from './common.js';

export interface Conv2DBackpropFilterAttrs {
  strides: Pair;
  pad: Pad;
  dataFormat?: string;
  dimRoundingMode?: 'floor' | 'round' | 'ceil';
  filterShape: [number, number, number, number];
}

export interface Conv2DBackpropInputAttrs {
  strides: Pair;
  pad: Pad;
  dataFormat?: string;
  dimRoundingMode?: 'floor' | 'round' | 'ceil';
  inputShape: [number, number, number, number];
}

/**
 * dW [fh, fw, C, O] of a convolution of x [B, H, W, C] giving dy [B, Ho, Wo, O].
 *
 * dW[i,j,c,o] = sum over b,y,x of xpad[b, y*sh+i, x*sw+j, c] * dy[b,y,x,o]: a stride-1
 * convolution of xpad seen as [C, Hp, Wp, B] (batch and channels swapped) with dy seen as a
 * [Ho, Wo, B, O] filter dilated by the stride. Its output can be larger than the filter when
 * the stride does not divide the padded extent; the extra rows/columns are cut off.
 */
export function conv2dBackpropFilter(x: tf.Tensor4D, dy: tf.Tensor4D, attrs: Conv2DBackpropFilterAttrs): tf.Tensor4D {
  checkAttrs('Conv2DBackpropFilter', attrs.dataFormat, 1);
  const [fh, fw, c, o] = attrs.filterShape;
  const info = tf.backend_util.computeConv2DInfo(x.shape, attrs.filterShape, attrs.strides, 1, attrs.pad,
    attrs.dimRoundingMode);
  const {top, bottom, left, right} = info.padInfo;
  return tf.tidy(() => {
    const xt = tf.transpose(x, [3, 1, 2, 0]);
    const f = tf.transpose(dy, [1, 2, 0, 3]);
    // The forward pass's padding, explicit: wasm's XNNPACK convolution takes it as is.
    const pads: tf.backend_util.ExplicitPadding = [[0, 0], [top, bottom], [left, right], [0, 0]];
    let r = tf.conv2d(xt, f, 1, pads, 'NHWC', [info.strideHeight, info.strideWidth]);
    if (r.shape[1] !== fh || r.shape[2] !== fw) r = tf.slice(r, [0, 0, 0, 0], [c, fh, fw, o]);
    return tf.transpose(r, [1, 2, 0, 3]);
  });
}

/**
 * dx [B, H, W, C] of a convolution with filter [fh, fw, C, O] giving dy [B, Ho, Wo, O].
 *
 * Stride 1 (or unequal strides): a 'valid' correlation of the zero-upsampled, padded dy with
 * the spatially flipped filter whose in/out channels are swapped. Equal strides s > 1: the
 * same result without multiplying zeros (see `stridedInputGrad`); `method: 'upsample'` forces
 * the first construction (tests compare the two).
 */
export function conv2dBackpropInput(dy: tf.Tensor4D, filter: tf.Tensor4D, attrs: Conv2DBackpropInputAttrs,
  method: 'auto' | 'upsample' = 'auto'): tf.Tensor4D {
  checkAttrs('Conv2DBackpropInput', attrs.dataFormat, 1);
  const info = tf.backend_util.computeConv2DInfo(attrs.inputShape, filter.shape, attrs.strides, 1, attrs.pad,
    attrs.dimRoundingMode);
  if (method === 'auto' && info.strideHeight === info.strideWidth && info.strideHeight > 1) {
    return stridedInputGrad(dy, filter, info);
  }
  const [top, bottom, left, right] = inputGradPads(info);
  return tf.tidy(() => {
    const up = zeroUpsample(dy, info.strideHeight, info.strideWidth);
    const w = tf.transpose(flipSpatial(filter), [0, 1, 3, 2]);
    if (top >= 0 && bottom >= 0 && left >= 0 && right >= 0) {
      return tf.conv2d(up, w, 1, [[0, 0], [top, bottom], [left, right], [0, 0]]);
    }
    return tf.conv2d(padOrCrop(up, top, bottom, left, right), w, 1, 'valid');
  });
}

/**
 * The input gradient for stride s > 1 in both directions, by phases: padded-input row
 * R = s*u + p receives dy[u - m] * w[s*m + p] over m, so each of the s*s phases (p, q) is a
 * stride-1 correlation of dy with a sub-filter of ceil(k/s) taps. One convolution computes all
 * phases as s*s*C output channels, DepthToSpace interleaves them, and a slice drops the padding.
 * This does about 1/s^2 of the multiplications of the zero-upsampling construction.
 */
function stridedInputGrad(dy: tf.Tensor4D, filter: tf.Tensor4D, info: tf.backend_util.Conv2DInfo): tf.Tensor4D {
  const s = info.strideHeight;
  const [fh, fw, c, o] = filter.shape;
  const kh = Math.ceil(fh / s), kw = Math.ceil(fw / s);
  const {top, left} = info.padInfo;
  const [b, ho, wo] = dy.shape;
  const u = Math.ceil((top + info.inHeight) / s), v = Math.ceil((left + info.inWidth) / s);
  // Sub-filter tap (th, tw) of phase (p, q) is w[s*(kh-1-th)+p, s*(kw-1-tw)+q], or zero.
  const rows: number[] = [];
  for (let th = 0; th < kh; th++) {
    for (let tw = 0; tw < kw; tw++) {
      for (let p = 0; p < s; p++) {
        for (let q = 0; q < s; q++) {
          const i = s * (kh - 1 - th) + p, j = s * (kw - 1 - tw) + q;
          rows.push(i < fh && j < fw ? i * fw + j : -1);
        }
      }
    }
  }
  return tf.tidy(() => {
    const sub = tf.reshape(pickTaps(tf.reshape(filter, [fh * fw, c * o]), rows), [kh, kw, s * s, c, o]);
    const w = tf.reshape(tf.transpose(sub, [0, 1, 4, 2, 3]), [kh, kw, o, s * s * c]) as tf.Tensor4D;
    const padded = padOrCrop(dy, kh - 1, u - ho, kw - 1, v - wo);
    const phases = tf.conv2d(padded, w, 1, 'valid');
    // DepthToSpace by reshape + transpose: wasm's own DepthToSpace kernel is several times slower.
    const full = tf.reshape(tf.transpose(tf.reshape(phases, [b, u, v, s, s, c]), [0, 1, 3, 2, 4, 5]),
      [b, u * s, v * s, c]) as tf.Tensor4D;
    if (top === 0 && left === 0 && u * s === info.inHeight && v * s === info.inWidth) return full;
    return tf.slice(full, [0, top, left, 0], [b, info.inHeight, info.inWidth, c]);
  });
}

/** Kernel function for `Conv2DBackpropFilter` (inputs x, dy). */
export function conv2dBackpropFilterKernel(args: KernelArgs): tf.TensorInfo {
  const {x, dy} = args.inputs;
  return tf.tidy(() => conv2dBackpropFilter(asTensor(x, 'x'), asTensor(dy, 'dy'),
    args.attrs as unknown as Conv2DBackpropFilterAttrs));
}

/** Kernel function for `Conv2DBackpropInput` (inputs dy, filter). */
export function conv2dBackpropInputKernel(args: KernelArgs): tf.TensorInfo {
  const {dy, filter} = args.inputs;
  return tf.tidy(() => conv2dBackpropInput(asTensor(dy, 'dy'), asTensor(filter, 'filter'),
    args.attrs as unknown as Conv2DBackpropInputAttrs));
}
