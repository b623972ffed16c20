/**
 * UnsortedSegmentSum for the wasm backend (the gradient of `tf.gather`), as a ScatterNd, which
 * adds the updates of repeated indices.
 */
import * as tf from '@tensorflow/tfjs';
import {asTensor, type KernelArgs} from './common.js';

/**
 * out[s, ...] = sum of x[i, ...] over i with segmentIds[i] = s; x [N..., ...rest] with
 * segmentIds [N...] (int32, in [0, numSegments)) giving [numSegments, ...rest].
 */
export function unsortedSegmentSum(x: tf.Tensor, segmentIds: tf.Tensor, numSegments: number): tf.Tensor {
  return tf.tidy(() => {
    const rest = x.shape.slice(segmentIds.rank);
    const n = segmentIds.size;
    const ids = tf.reshape(tf.cast(segmentIds, 'int32'), [n, 1]);
    const upd = tf.reshape(x, [n, ...rest]);
    return tf.scatterND(ids, upd, [numSegments, ...rest]);
  });
}

/** Kernel function for `UnsortedSegmentSum` (inputs x, segmentIds; attr numSegments). */
export function unsortedSegmentSumKernel(args: KernelArgs): tf.TensorInfo {
  const {x, segmentIds} = args.inputs;
  return tf.tidy(() => unsortedSegmentSum(asTensor(x, 'x'), asTensor(segmentIds, 'segmentIds'),
    (args.attrs as {numSegments: number}).numSegments));
}
