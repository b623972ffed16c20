/**
 * Backbones: the feature extractor of the detector. The default is a small plain conv net
 * trained from scratch; `loadBackbone` wraps a user's tfjs layers model instead. Either way the
 * result is two symbolic feature maps, at stride 4 and stride 8 of the input (NHWC).
 */
import * as tf from '@tensorflow/tfjs';
import {UserError} from '../cli/errors.js';
import {batchNormalization} from './layers/batchnorm.js';

/** Feature maps for the neck: `c2` at stride 4, `c3` at stride 8, `c4` (optional) at stride 16. */
export interface BackboneFeatures {
  c2: tf.SymbolicTensor;
  c3: tf.SymbolicTensor;
  c4?: tf.SymbolicTensor;
}

/** Widths of the default backbone's stages at strides 2, 4, 8, 16. */
export type BackboneWidths = [number, number, number, number];

export const DEFAULT_BACKBONE_WIDTHS: BackboneWidths = [16, 32, 64, 96];

/** Normalisation after each hidden conv: batch norm (saved as tfjs's standard layer) or none. */
export type Norm = 'bn' | 'none';

/**
 * 3x3 conv + (batch norm) + ReLU, He-initialised, applied to `x`. Batch norm's moving averages use
 * momentum 0.9 so they settle within the few hundred steps of a short run.
 */
export function convNormRelu(x: tf.SymbolicTensor, name: string, filters: number, norm: Norm, strides = 1,
  kernelSize = 3): tf.SymbolicTensor {
  if (norm === 'none') {
    return tf.layers.conv2d({name, filters, kernelSize, strides, padding: 'same', activation: 'relu',
      kernelInitializer: 'heNormal'}).apply(x) as tf.SymbolicTensor;
  }
  const y = tf.layers.conv2d({name, filters, kernelSize, strides, padding: 'same', useBias: false,
    kernelInitializer: 'heNormal'}).apply(x) as tf.SymbolicTensor;
  const z = batchNormalization({name: `${name}_bn`, momentum: 0.9}).apply(y) as tf.SymbolicTensor;
  return tf.layers.reLU({name: `${name}_relu`}).apply(z) as tf.SymbolicTensor;
}

/**
 * The default backbone: an optional full-resolution stem conv (`stem` channels, 0 = none), then per
 * stage a stride-2 conv and a stride-1 conv. Input [B, H, W, 3], H and W multiples of 16.
 */
export function tinyBackbone(input: tf.SymbolicTensor, widths: BackboneWidths = DEFAULT_BACKBONE_WIDTHS,
  norm: Norm = 'bn', stem = 0): BackboneFeatures {
  const feats: tf.SymbolicTensor[] = [];
  // A full-resolution conv first: the shape of a 4-8 px object is only visible before any stride.
  let x = stem > 0 ? convNormRelu(input, 'backbone_stem', stem, norm) : input;
  widths.forEach((w, i) => {
    x = convNormRelu(x, `backbone_s${i + 1}_down`, w, norm, 2);
    x = convNormRelu(x, `backbone_s${i + 1}_conv`, w, norm);
    feats.push(x);
  });
  return {c2: feats[1], c3: feats[2], c4: feats[3]};
}

/**
 * Loads a user's tfjs layers model (a directory, a model.json path or a URL) and returns a model
 * with two outputs: its last layer at stride 4 and its last layer at stride 8 (strides found by
 * running it once on a 64x64 input). Throws a UserError when it has none at one of the strides.
 */
export async function loadBackbone(path: string): Promise<tf.LayersModel> {
  const url = /^[a-z]+:\/\//.test(path) ? path : `file://${path.endsWith('.json') ? path : `${path}/model.json`}`;
  let model: tf.LayersModel;
  try {
    model = await tf.loadLayersModel(url.startsWith('file://') ? fileHandler(url.slice(7)) : url);
  } catch (err) {
    throw new UserError(`cannot load the backbone model: ${(err as Error).message}`, {code: 'E_BACKBONE', file: path,
      fix: 'give a tfjs layers model directory (model.json + weights), e.g. from tensorflowjs_converter'});
  }
  const [l4, l8] = [4, 8].map((stride) => lastLayerAtStride(model, stride));
  if (!l4 || !l8) {
    throw new UserError('the backbone has no feature map at stride 4 or at stride 8', {code: 'E_BACKBONE', file: path,
      fix: 'use a backbone whose layers include outputs at 1/4 and 1/8 of the input size'});
  }
  return tf.model({inputs: model.inputs, outputs: [l4.output as tf.SymbolicTensor, l8.output as tf.SymbolicTensor],
    name: 'user_backbone'});
}

/**
 * The last layer of `model` whose output is a 4-D map at `stride`, found by running every
 * layer output once on a 64x64 zero image (symbolic shapes of a fully convolutional model are null).
 */
function lastLayerAtStride(model: tf.LayersModel, stride: number): tf.layers.Layer | undefined {
  const layers = model.layers.filter((l) => !Array.isArray(l.output) && (l.output as tf.SymbolicTensor).rank === 4);
  const channels = model.inputs[0].shape[3] ?? 3;
  const probe = tf.model({inputs: model.inputs, outputs: layers.map((l) => l.output as tf.SymbolicTensor)});
  const outs = tf.tidy(() => {
    const r = probe.predict(tf.zeros([1, 64, 64, channels]));
    return (Array.isArray(r) ? r : [r]).map((t) => t.shape);
  });
  let found: tf.layers.Layer | undefined;
  outs.forEach((shape, i) => {
    if (shape[1] === 64 / stride && shape[2] === 64 / stride) found = layers[i];
  });
  return found;
}

/** A tfjs IO handler reading model.json and its weight files from the local file system. */
export function fileHandler(modelJsonPath: string): tf.io.IOHandler {
  return {
    load: async () => {
      const {readFile} = await import('node:fs/promises');
      const {dirname, join} = await import('node:path');
      const json = JSON.parse(await readFile(modelJsonPath, 'utf8')) as tf.io.ModelJSON;
      const specs: tf.io.WeightsManifestEntry[] = [];
      const buffers: Buffer[] = [];
      for (const group of json.weightsManifest ?? []) {
        specs.push(...group.weights);
        for (const p of group.paths) buffers.push(await readFile(join(dirname(modelJsonPath), p)));
      }
      const all = Buffer.concat(buffers);
      const weightData = all.buffer.slice(all.byteOffset, all.byteOffset + all.byteLength) as ArrayBuffer;
      return {modelTopology: json.modelTopology, weightSpecs: specs, weightData, format: json.format,
        generatedBy: json.generatedBy, convertedBy: json.convertedBy};
    },
  };
}
