/**
 * The dense (RetinaNet-style) head of one pyramid level: a small conv tower, then a
 * classification conv (A*K sigmoid logits per cell) and a regression conv (A*4 box deltas per
 * cell). Outputs are flattened to [B, H*W*A, K] and [B, H*W*A, 4] in (y, x, anchor) order,
 * the order of `generateAnchors` within a level.
 */
import * as tf from '@tensorflow/tfjs';

export interface HeadOptions {
  /** Anchors per cell at this level (sizes x ratios). */
  anchors: number;
  numClasses: number;
  /** Width of the tower convs. */
  channels: number;
  /** Tower depth (3x3 conv + ReLU layers) before the output convs. */
  depth: number;
  /** Prior probability of a positive at initialisation (focal loss's 0.01). */
  prior: number;
}

export interface HeadOutputs {
  cls: tf.SymbolicTensor;
  reg: tf.SymbolicTensor;
}

/** Builds the head for one level; layer names carry `name` (e.g. `head_s4`). */
export function denseHead(name: string, x: tf.SymbolicTensor, o: HeadOptions): HeadOutputs {
  let t = x;
  for (let i = 0; i < o.depth; i++) {
    t = tf.layers.conv2d({name: `${name}_tower${i}`, filters: o.channels, kernelSize: 3, padding: 'same',
      activation: 'relu', kernelInitializer: 'heNormal'}).apply(t) as tf.SymbolicTensor;
  }
  const bias = -Math.log((1 - o.prior) / o.prior);
  const cls = tf.layers.conv2d({name: `${name}_cls`, filters: o.anchors * o.numClasses, kernelSize: 3, padding: 'same',
    kernelInitializer: tf.initializers.randomNormal({stddev: 0.01}),
    biasInitializer: tf.initializers.constant({value: bias}),
  }).apply(t) as tf.SymbolicTensor;
  const reg = tf.layers.conv2d({name: `${name}_reg`, filters: o.anchors * 4, kernelSize: 3, padding: 'same',
    kernelInitializer: tf.initializers.randomNormal({stddev: 0.01})}).apply(t) as tf.SymbolicTensor;
  return {
    cls: tf.layers.reshape({name: `${name}_cls_flat`, targetShape: [-1, o.numClasses]}).apply(cls) as tf.SymbolicTensor,
    reg: tf.layers.reshape({name: `${name}_reg_flat`, targetShape: [-1, 4]}).apply(reg) as tf.SymbolicTensor,
  };
}
