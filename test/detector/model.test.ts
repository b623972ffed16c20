import {test, before} from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs';
import {buildDetector, seedWeights} from '../../src/detector/model.js';
import {generateAnchors, DEFAULT_ANCHOR_LAYOUT} from '../../src/detector/anchors.js';
import {decode, decodeTensor, encode} from '../../src/detector/coder.js';
import {makeConfig, PRESET_HYPER} from '../../src/detector/train.js';
import {assertClose} from '../helpers.js';

before(async () => {
  await tf.setBackend('cpu');
});

const cats = [{id: 1, name: 'a'}, {id: 7, name: 'b'}, {id: 9, name: 'c'}];

test('head outputs one row per anchor of generateAnchors, in its order of levels', () => {
  const cfg = makeConfig({data: '', images: '', out: ''}, PRESET_HYPER.smoke, cats, 9);
  const model = buildDetector(cfg);
  for (const [w, h] of [[64, 64], [96, 48]]) {
    const [cls, reg] = model.predict(tf.zeros([2, h, w, 3])) as tf.Tensor[];
    const anchors = generateAnchors(DEFAULT_ANCHOR_LAYOUT, w, h);
    const n = anchors.xyxy.length / 4;
    assert.deepEqual(cls.shape, [2, n, 3]);
    assert.deepEqual(reg.shape, [2, n, 4]);
    tf.dispose([cls, reg]);
  }
  const params = model.countParams();
  assert.ok(params > 100_000 && params < 600_000, `smoke model has ${params} parameters`);
  model.dispose();
});

test('the head starts at the focal-loss prior 0.01 and seedWeights is deterministic', () => {
  const cfg = makeConfig({data: '', images: '', out: ''}, PRESET_HYPER.smoke, cats, 9);
  const a = buildDetector(cfg), b = buildDetector(cfg);
  // Seed 0 included: tfjs's random ops treat a seed of 0 as none.
  seedWeights(a, 0);
  seedWeights(b, 0);
  const x = tf.randomUniform([1, 32, 32, 3], -1, 1, 'float32', 1);
  const [ca] = a.predict(x) as tf.Tensor[];
  const [cb] = b.predict(x) as tf.Tensor[];
  assert.deepEqual(Array.from(ca.dataSync()), Array.from(cb.dataSync()));
  const p = tf.tidy(() => tf.mean(tf.sigmoid(ca)).dataSync()[0]);
  assert.ok(Math.abs(p - 0.01) < 0.005, `mean initial probability ${p}`);
  seedWeights(b, 6);
  const [cc] = b.predict(x) as tf.Tensor[];
  assert.notDeepEqual(Array.from(ca.dataSync()), Array.from(cc.dataSync()));
  tf.dispose([x, ca, cb, cc]);
  a.dispose();
  b.dispose();
});

test('box coder: decode(encode(box)) gives the box back; tensor decode agrees; zero-size boxes encode finitely', () => {
  const anchors = Float32Array.from([0, 0, 8, 8, 10, 10, 26, 42, -4, -4, 4, 4]);
  const boxes = Float32Array.from([1, 2, 5, 9, 12, 15, 20, 22, 0, 0, 0, 0]);
  for (const stds of [[1, 1, 1, 1], [0.1, 0.1, 0.2, 0.2]] as [number, number, number, number][]) {
    const d = encode(anchors, boxes, stds);
    assert.ok(d.every(Number.isFinite));
    const back = decode(anchors, d, stds);
    // The zero-size box comes back as a 0.01 px box (the clamp before the log).
    assertClose(back, boxes, 1e-2, 1e-5, 'round trip');
    const t = tf.tidy(() => decodeTensor(tf.tensor2d(anchors, [3, 4]), tf.tensor2d(d, [3, 4]), stds).dataSync());
    assertClose(t, back, 1e-4, 1e-5, 'tensor decode');
  }
});
