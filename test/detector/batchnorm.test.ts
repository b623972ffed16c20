import {test, describe, before} from 'node:test';
import assert from 'node:assert/strict';
import type * as tfT from '@tensorflow/tfjs';
import {selectBackend, type Tf} from '../../src/detector/backend.js';
import {batchNormTrain, batchNormInfer, FastBatchNormalization, batchNormalization} from
  '../../src/detector/layers/batchnorm.js';
import {assertClose} from '../helpers.js';
import {lcg} from '../../bench/common.js';

let tf: Tf;
before(async () => {
  tf = (await selectBackend('cpu')).tf;
});

function rand(n: number, seed: number, lo = -1, hi = 1): Float32Array {
  const r = lcg(seed);
  return Float32Array.from({length: n}, () => lo + (hi - lo) * r());
}

const SHAPE: [number, number, number, number] = [4, 5, 6, 3];
const N = SHAPE.reduce((a, b) => a * b, 1);
// Offset and spread per element so the mean and variance are not trivial.
const X = rand(N, 1, -2, 5), DY = rand(N, 2), GAMMA = rand(3, 3, 0.5, 2), BETA = rand(3, 4);

/** Values of y and of the gradients of sum(y * DY) in x, gamma, beta, for a batch-norm function. */
function valuesAndGrads(bn: (x: tfT.Tensor, g: tfT.Tensor, b: tfT.Tensor) => tfT.Tensor): Float32Array[] {
  return tf.tidy(() => {
    const x = tf.tensor4d(X, SHAPE), g = tf.tensor1d(GAMMA), b = tf.tensor1d(BETA), dy = tf.tensor4d(DY, SHAPE);
    const y = bn(x, g, b);
    const grads = tf.grads((xx: tfT.Tensor, gg: tfT.Tensor, bb: tfT.Tensor) => tf.sum(tf.mul(bn(xx, gg, bb), dy)))(
      [x, g, b]);
    return [y, ...grads].map((t) => t.dataSync() as Float32Array);
  });
}

const tfjsBatchNorm = (eps: number) => (x: tfT.Tensor, g: tfT.Tensor, b: tfT.Tensor) => {
  const {mean, variance} = tf.moments(x, [0, 1, 2]);
  return tf.batchNorm(x, mean, variance, b, g, eps);
};
const oursTrain = (eps: number) => (x: tfT.Tensor, g: tfT.Tensor, b: tfT.Tensor) => batchNormTrain(x, g, b, eps).y;

describe('arithmetic batch norm', () => {
  test('batchNormTrain: values and gradients equal tf.batchNorm with tf.moments (cpu)', async () => {
    await selectBackend('cpu');
    const want = valuesAndGrads(tfjsBatchNorm(1e-3)), got = valuesAndGrads(oursTrain(1e-3));
    ['y', 'dx', 'dgamma', 'dbeta'].forEach((what, i) => assertClose(got[i], want[i], 2e-5, 1e-5, what));
  });

  test('batchNormTrain on wasm equals tf.batchNorm on cpu', async () => {
    await selectBackend('cpu');
    const want = valuesAndGrads(tfjsBatchNorm(1e-3));
    await selectBackend('wasm');
    const got = valuesAndGrads(oursTrain(1e-3));
    await selectBackend('cpu');
    ['y', 'dx', 'dgamma', 'dbeta'].forEach((what, i) => assertClose(got[i], want[i], 5e-5, 1e-4, what));
  });

  test('batchNormTrain returns batch mean and biased variance; batchNormInfer uses given ones', () => {
    tf.tidy(() => {
      const x = tf.tensor2d([1, 10, 3, 20, 5, 30], [3, 2]);
      const {y, mean, variance} = batchNormTrain(x, null, null, 0);
      assertClose(mean.dataSync(), [3, 20], 1e-6);
      assertClose(variance.dataSync(), [8 / 3, 200 / 3], 1e-5);
      assertClose(y.dataSync(), [-1.224745, -1.224745, 0, 0, 1.224745, 1.224745], 1e-5);
      // Channels on the first axis.
      const t = batchNormTrain(tf.transpose(x), null, null, 0, 0);
      assertClose(t.mean.dataSync(), [3, 20], 1e-6);
      assertClose(t.variance.dataSync(), [8 / 3, 200 / 3], 1e-5);
      assertClose(t.y.dataSync(), [-1.224745, 0, 1.224745, -1.224745, 0, 1.224745], 1e-5);
      const z = batchNormInfer(x, tf.tensor1d([1, 10]), tf.tensor1d([4, 100]), tf.tensor1d([2, 1]),
        tf.tensor1d([0, 1]), 0);
      assertClose(z.dataSync(), [0, 1, 2, 2, 4, 3], 1e-6);
    });
  });

  test('its gradient runs no Tile kernel (tfjs\'s own batch-norm gradient does)', async () => {
    await selectBackend('wasm');
    const kernelsOf = async (bn: (x: tfT.Tensor, g: tfT.Tensor, b: tfT.Tensor) => tfT.Tensor) => {
      const info = await tf.profile(() => {
        valuesAndGrads(bn);
      });
      return new Set(info.kernelNames);
    };
    const builtin = await kernelsOf(tfjsBatchNorm(1e-3));
    const ours = await kernelsOf(oursTrain(1e-3));
    await selectBackend('cpu');
    assert.ok(builtin.has('Tile'), `expected Tile in tfjs's batch-norm gradient: ${[...builtin].join(' ')}`);
    assert.ok(!ours.has('Tile'), `Tile in ours: ${[...ours].join(' ')}`);
  });
});

describe('FastBatchNormalization layer', () => {
  /** A built-in and a fast layer with the same (random) weights. */
  function pair(args: Parameters<typeof batchNormalization>[0]): [tfT.layers.Layer, tfT.layers.Layer] {
    const a = tf.layers.batchNormalization(args), b = batchNormalization(args);
    for (const l of [a, b]) l.build(SHAPE);
    const w = [GAMMA, BETA, rand(3, 9), rand(3, 10, 0.5, 2)].map((v) => tf.tensor1d(v));
    a.setWeights(w);
    b.setWeights(w);
    tf.dispose(w);
    return [a, b];
  }

  test('training step: same output, gradients and moving statistics as tf.layers.batchNormalization', async () => {
    const [builtin, fast] = pair({momentum: 0.9, epsilon: 1e-3});
    const run = (layer: tfT.layers.Layer) => tf.tidy(() => {
      const x = tf.tensor4d(X, SHAPE), dy = tf.tensor4d(DY, SHAPE);
      const y = layer.apply(x, {training: true}) as tfT.Tensor;
      const f = () => tf.sum(tf.mul(layer.apply(x, {training: true}) as tfT.Tensor, dy)) as tfT.Scalar;
      const {grads} = tf.variableGrads(f, layer.trainableWeights.map((w) => (w as unknown as {val: tfT.Variable}).val));
      const dx = tf.grad((xx: tfT.Tensor) => tf.sum(tf.mul(layer.apply(xx, {training: true}) as tfT.Tensor, dy)))(x);
      return [y, dx, ...Object.values(grads), ...layer.getWeights().slice(2)].map((t) => t.dataSync() as Float32Array);
    });
    let want: Float32Array[] = [], got: Float32Array[] = [];
    const kBuiltin = (await tf.profile(() => void (want = run(builtin)))).kernelNames;
    const kFast = (await tf.profile(() => void (got = run(fast)))).kernelNames;
    assert.ok(kBuiltin.includes('FusedBatchNorm') && !kFast.includes('FusedBatchNorm'), kFast.join(' '));
    assert.equal(got.length, 6);
    ['y', 'dx', 'dgamma', 'dbeta', 'moving_mean', 'moving_variance'].forEach((what, i) =>
      assertClose(got[i], want[i], 2e-5, 1e-5, what));
  });

  test('inference uses the moving statistics like the built-in layer', () => {
    const [builtin, fast] = pair({epsilon: 1e-2});
    const [want, got] = [builtin, fast].map((l) => tf.tidy(() =>
      (l.apply(tf.tensor4d(X, SHAPE), {training: false}) as tfT.Tensor).dataSync()));
    assertClose(got, want, 1e-5, 1e-5, 'y');
  });

  test('training with the layer leaks no tensors and moves the statistics', async () => {
    await selectBackend('wasm');
    const input = tf.input({shape: [6, 6, 3]});
    const bn = batchNormalization({name: 'bn', momentum: 0.5});
    const out = tf.layers.globalAveragePooling2d({}).apply(bn.apply(
      tf.layers.conv2d({filters: 3, kernelSize: 3, padding: 'same'}).apply(input))) as tfT.SymbolicTensor;
    const model = tf.model({inputs: input, outputs: out});
    const x = tf.tensor4d(X.slice(0, 2 * 6 * 6 * 3), [2, 6, 6, 3]), y = tf.tensor2d(DY.slice(0, 6), [2, 3]);
    const opt = tf.train.sgd(0.1);
    const counts: number[] = [];
    for (let i = 0; i < 4; i++) {
      opt.minimize(() => tf.losses.meanSquaredError(y, model.apply(x, {training: true}) as tfT.Tensor) as tfT.Scalar);
      counts.push(tf.memory().numTensors);
    }
    assert.deepEqual(counts, counts.map(() => counts[0]));
    const movingMean = bn.getWeights()[2].dataSync();
    assert.ok(movingMean.some((v) => v !== 0), 'moving mean still at its initial zeros');
    tf.dispose([x, y]);
    model.dispose();
    opt.dispose();
    await selectBackend('cpu');
  });

  test('saves as a standard BatchNormalization and reloads as FastBatchNormalization', async () => {
    const input = tf.input({shape: [5, 6, 3]});
    const output = batchNormalization({name: 'bn'}).apply(input) as tfT.SymbolicTensor;
    const model = tf.model({inputs: input, outputs: output});
    model.getLayer('bn').setWeights([GAMMA, BETA, rand(3, 11), rand(3, 12, 0.5, 2)].map((v) => tf.tensor1d(v)));
    let saved: tfT.io.ModelArtifacts | undefined;
    await model.save(tf.io.withSaveHandler(async (a) => {
      saved = a;
      return {modelArtifactsInfo: {dateSaved: new Date(), modelTopologyType: 'JSON'}};
    }));
    assert.ok(saved);
    assert.match(JSON.stringify(saved.modelTopology), /"class_name":"BatchNormalization"/);
    const loaded = await tf.loadLayersModel(tf.io.fromMemory(saved));
    assert.ok(loaded.getLayer('bn') instanceof FastBatchNormalization);
    const x = tf.tensor4d(X, SHAPE);
    const [a, b] = [model, loaded].map((m) => tf.tidy(() => (m.predict(x) as tfT.Tensor).dataSync()));
    assertClose(b, a, 0, 0, 'reloaded prediction');
    x.dispose();
  });
});
