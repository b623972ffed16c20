/**
 * DepthwiseConv2dNative gradients for the wasm backend, from ops it has. NHWC, any strides,
 * 'same' / 'valid' / explicit padding, dilation 1, channel multiplier m >= 1.
 */
import * as tf from '@tensorflow/tfjs';
import {asTensor, checkAttrs, flipSpatial, inputGradPads, padOrCrop, zeroUpsample, type KernelArgs, type Pad,
  type Pair} from './common.js';

export interface DepthwiseBackpropFilterAttrs {
  strides: Pair;
  dilations?: Pair;
  pad: Pad;
  dimRoundingMode?: 'floor' | 'round' | 'ceil';
  filterShape: [number, number, number, number];
}

export interface DepthwiseBackpropInputAttrs {
  strides: Pair;
  dilations?: Pair;
  pad: Pad;
  dimRoundingMode?: 'floor' | 'round' | 'ceil';
  inputShape: [number, number, number, number];
}

/**
 * dW [fh, fw, C, m] of a depthwise convolution of x [B, H, W, C] giving dy [B, Ho, Wo, C*m].
 *
 * dW[i,j,k] = sum over b,y,x of xpad[b, y*sh+i, x*sw+j, k] * dy[b,y,x,k] (k runs over C*m, x's
 * channels repeated m times). A depthwise convolution sums over space only, so the batch is
 * moved into space: the padded images are stacked into one image, each P rows high (P a multiple
 * of sh), and the dy images into one filter, each P/sh rows high with zero rows after its Ho;
 * a depthwise convolution of the first with the second, dilated by the stride, then reaches
 * image b's rows only through dy's rows of image b. Its first fh x fw outputs are dW.
 * (Elementwise products per filter tap cost several times more on wasm: its Slice is slow.)
 */
export function depthwiseBackpropFilter(x: tf.Tensor4D, dy: tf.Tensor4D, attrs: DepthwiseBackpropFilterAttrs):
  tf.Tensor4D {
  checkAttrs('DepthwiseConv2dNativeBackpropFilter', undefined, attrs.dilations);
  const [fh, fw, c, m] = attrs.filterShape;
  const info = tf.backend_util.computeConv2DInfo(x.shape, attrs.filterShape, attrs.strides, 1, attrs.pad,
    attrs.dimRoundingMode, true);
  const {strideHeight: sh, strideWidth: sw, outHeight: ho} = info;
  const {top, bottom, left, right} = info.padInfo;
  const [b, h] = x.shape;
  const p = Math.max(Math.ceil((h + top + bottom) / sh), ho) * sh;
  return tf.tidy(() => {
    let xp = padOrCrop(x, top, p - h - top, left, right);
    if (m > 1) {
      const [, hh, ww] = xp.shape;
      xp = tf.reshape(tf.tile(tf.expandDims(xp, 4), [1, 1, 1, 1, m]), [b, hh, ww, c * m]);
    }
    const wp = xp.shape[2];
    // fh extra zero rows so the last image's taps below row p stay inside the stacked image.
    const stackedX = tf.pad(tf.reshape(xp, [1, b * p, wp, c * m]), [[0, 0], [0, fh], [0, 0], [0, 0]]) as
      tf.Tensor4D;
    const stackedDy = tf.reshape(tf.pad(dy, [[0, 0], [0, p / sh - ho], [0, 0], [0, 0]]),
      [b * (p / sh), dy.shape[2], c * m, 1]) as tf.Tensor4D;
    const r = tf.depthwiseConv2d(stackedX, stackedDy, 1, 'valid', 'NHWC', [sh, sw]);
    return tf.reshape(tf.slice(r, [0, 0, 0, 0], [1, fh, fw, c * m]), [fh, fw, c, m]);
  });
}

/**
 * dx [B, H, W, C] of a depthwise convolution with filter [fh, fw, C, m] giving
 * dy [B, Ho, Wo, C*m]: a stride-1 depthwise correlation of the zero-upsampled, padded dy with the
 * flipped filter (as [fh, fw, C*m, 1]), then the m outputs of each input channel summed.
 */
export function depthwiseBackpropInput(dy: tf.Tensor4D, filter: tf.Tensor4D, attrs: DepthwiseBackpropInputAttrs):
  tf.Tensor4D {
  checkAttrs('DepthwiseConv2dNativeBackpropInput', undefined, attrs.dilations);
  const [fh, fw, c, m] = filter.shape;
  const info = tf.backend_util.computeConv2DInfo(attrs.inputShape, filter.shape, attrs.strides, 1, attrs.pad,
    attrs.dimRoundingMode, true);
  const [top, bottom, left, right] = inputGradPads(info);
  return tf.tidy(() => {
    const up = zeroUpsample(dy, info.strideHeight, info.strideWidth);
    const w = tf.reshape(flipSpatial(filter), [fh, fw, c * m, 1]) as tf.Tensor4D;
    const r = top >= 0 && bottom >= 0 && left >= 0 && right >= 0
      ? tf.depthwiseConv2d(up, w, 1, [[0, 0], [top, bottom], [left, right], [0, 0]])
      : tf.depthwiseConv2d(padOrCrop(up, top, bottom, left, right), w, 1, 'valid');
    if (m === 1) return r;
    const [b, h, wd] = r.shape;
    return tf.sum(tf.reshape(r, [b, h, wd, c, m]), 4);
  });
}

/** Kernel function for `DepthwiseConv2dNativeBackpropFilter` (inputs x, dy). */
export function depthwiseBackpropFilterKernel(args: KernelArgs): tf.TensorInfo {
  const {x, dy} = args.inputs;
  return tf.tidy(() => depthwiseBackpropFilter(asTensor(x, 'x'), asTensor(dy, 'dy'),
    args.attrs as unknown as DepthwiseBackpropFilterAttrs));
}

/** Kernel function for `DepthwiseConv2dNativeBackpropInput` (inputs dy, filter). */
export function depthwiseBackpropInputKernel(args: KernelArgs): tf.TensorInfo {
  const {dy, filter} = args.inputs;
  return tf.tidy(() => depthwiseBackpropInput(asTensor(dy, 'dy'), asTensor(filter, 'filter'),
    args.attrs as unknown as DepthwiseBackpropInputAttrs));
}
