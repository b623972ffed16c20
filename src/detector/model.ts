/**
 * Assembles the single-stage detector: backbone -> FPN (strides 4 and 8) -> one dense head per
 * level. The tfjs layers model maps an image batch [B, H, W, 3] (normalised, H and W multiples of
 * `input.multiple`) to two outputs: `cls` logits [B, N, K] and `reg` deltas [B, N, 4], where N runs
 * over the stride-4 anchors then the stride-8 anchors, each level in (y, x, anchor) order.
 */
import * as tf from '@tensorflow/tfjs';
import {tinyBackbone, type BackboneFeatures} from './backbone.js';
import {fpn} from './neck.js';
import {denseHead} from './head.js';
import {anchorsPerCell} from './anchors.js';
import type {DetectorConfig} from './config.js';
import {subSeed} from '../util/rng.js';

/** Builds the detector. `backbone` is a user's model with outputs at strides 4 and 8 (see loadBackbone). */
export function buildDetector(cfg: DetectorConfig, backbone?: tf.LayersModel): tf.LayersModel {
  const input = tf.input({shape: [null, null, 3], name: 'image'});
  let feats: BackboneFeatures;
  if (backbone) {
    const [c2, c3] = backbone.apply(input) as tf.SymbolicTensor[];
    feats = {c2, c3};
  } else {
    feats = tinyBackbone(input, cfg.model.widths, cfg.model.norm ?? 'none', cfg.model.stem ?? 0);
  }
  const {p2, p3} = fpn(feats, cfg.model.neckChannels, cfg.model.norm ?? 'none');
  const [a2, a3] = [0, 1].map((l) => anchorsPerCell(cfg.anchors, l));
  const common = {numClasses: cfg.classes.length, channels: cfg.model.headChannels, depth: cfg.model.headDepth,
    prior: 0.01};
  const h2 = denseHead('head_s4', p2, {...common, anchors: a2});
  const h3 = denseHead('head_s8', p3, {...common, anchors: a3});
  const cls = tf.layers.concatenate({name: 'cls', axis: 1}).apply([h2.cls, h3.cls]) as tf.SymbolicTensor;
  const reg = tf.layers.concatenate({name: 'reg', axis: 1}).apply([h2.reg, h3.reg]) as tf.SymbolicTensor;
  return tf.model({inputs: input, outputs: [cls, reg], name: 'nwd_detector'});
}

/**
 * Re-initialises our layers' kernels from `seed` so a run is reproducible (tfjs's initialisers
 * draw from an unseeded generator): He normal for hidden convs, N(0, 0.01) for the output convs.
 * Biases keep their initial constants; layers of a user's backbone are left alone.
 */
export function seedWeights(model: tf.LayersModel, seed: number): void {
  let index = 0;
  for (const layer of model.layers) {
    if (!/^(backbone|neck|head)_/.test(layer.name) || layer.getClassName() !== 'Conv2D') continue;
    // getWeights hands out the live variables: read shapes only, never dispose them.
    const weights = layer.getWeights();
    if (weights.length === 0) continue;
    const [kernel, ...rest] = weights;
    const shape = kernel.shape;
    const fanIn = shape.slice(0, -1).reduce((a, b) => a * b, 1);
    const std = /_(cls|reg)$/.test(layer.name) ? 0.01 : Math.sqrt(2 / fanIn);
    // tfjs treats a seed of 0 as none (it falls back to Math.random): keep per-layer seeds >= 1.
    const fresh = tf.randomNormal(shape, 0, std, 'float32', subSeed(seed, index++) || 1);
    layer.setWeights([fresh, ...rest]);
    fresh.dispose();
  }
}
