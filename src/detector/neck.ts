/**
 * The neck: a feature pyramid (FPN) down to stride 4, where tiny objects still cover a few
 * cells. Lateral 1x1 convs bring every backbone map to `channels`; each level adds the
 * nearest-upsampled coarser level, then a 3x3 conv smooths the sum.
 */
import * as tf from '@tensorflow/tfjs';
import {convNormRelu, type BackboneFeatures, type Norm} from './backbone.js';

/** Pyramid outputs: `p2` at stride 4, `p3` at stride 8, both with `channels` channels. */
export interface PyramidFeatures {
  p2: tf.SymbolicTensor;
  p3: tf.SymbolicTensor;
}

function lateral(name: string, channels: number, x: tf.SymbolicTensor): tf.SymbolicTensor {
  return tf.layers.conv2d({name, filters: channels, kernelSize: 1, padding: 'same', kernelInitializer: 'heNormal'})
    .apply(x) as tf.SymbolicTensor;
}

/**
 * Nearest-neighbour x2 upsampling written as a frozen transposed convolution (kernel 2x2, stride 2,
 * identity over channels). Not `upSampling2d`: tfjs-backend-wasm 4.22's ResizeNearestNeighborGrad
 * returns wrong gradients for every batch element after the first, which stalls training.
 */
function upsample2x(name: string, x: tf.SymbolicTensor, channels: number): tf.SymbolicTensor {
  const layer = tf.layers.conv2dTranspose({name, filters: channels, kernelSize: 2, strides: 2, padding: 'same',
    useBias: false, trainable: false, kernelInitializer: tf.initializers.zeros()});
  const y = layer.apply(x) as tf.SymbolicTensor;
  // Kernel [2, 2, out, in]: identity between channels at every one of the 4 positions.
  const eye = tf.tidy(() => tf.tile(tf.reshape(tf.eye(channels), [1, 1, channels, channels]), [2, 2, 1, 1]));
  layer.setWeights([eye]);
  eye.dispose();
  return y;
}

function topDown(name: string, fine: tf.SymbolicTensor, coarse: tf.SymbolicTensor, channels: number):
  tf.SymbolicTensor {
  const up = upsample2x(`${name}_up`, coarse, channels);
  return tf.layers.add({name: `${name}_add`}).apply([fine, up]) as tf.SymbolicTensor;
}

/** Builds the FPN on backbone features (`c4`, when present, feeds context into stride 8). */
export function fpn(feats: BackboneFeatures, channels: number, norm: Norm = 'bn'): PyramidFeatures {
  const smooth = (name: string, ch: number, x: tf.SymbolicTensor) => convNormRelu(x, name, ch, norm);
  let p3 = lateral('neck_lat3', channels, feats.c3);
  if (feats.c4) p3 = topDown('neck_td3', p3, lateral('neck_lat4', channels, feats.c4), channels);
  const p2 = topDown('neck_td2', lateral('neck_lat2', channels, feats.c2), p3, channels);
  return {p2: smooth('neck_out2', channels, p2), p3: smooth('neck_out3', channels, p3)};
}
