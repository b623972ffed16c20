import {test, before} from 'node:test';
import assert from 'node:assert/strict';
import {join} from 'node:path';
import {mkdirSync, writeFileSync} from 'node:fs';
import * as tf from '@tensorflow/tfjs';
import {loadBackbone} from '../../src/detector/backbone.js';
import {buildDetector} from '../../src/detector/model.js';
import {generateAnchors} from '../../src/detector/anchors.js';
import {makeConfig, PRESET_HYPER} from '../../src/detector/train.js';
import {loadModelDir, saveModelDir} from '../../src/detector/checkpoint.js';
import {tempDir} from '../helpers.js';

before(async () => {
  await tf.setBackend('cpu');
});

/** Writes a user's model (strides 2, 4, 8, 16, one output) as model.json + weights.bin into a new directory. */
async function userModel(): Promise<string> {
  const input = tf.input({shape: [null, null, 3]});
  let x = input;
  for (const [i, f] of [8, 12, 16, 20].entries()) {
    x = tf.layers.conv2d({name: `user_conv${i}`, filters: f, kernelSize: 3, strides: 2, padding: 'same',
      activation: 'relu'}).apply(x) as tf.SymbolicTensor;
  }
  const m = tf.model({inputs: input, outputs: x});
  const dir = join(tempDir(), 'backbone');
  mkdirSync(dir);
  await m.save(tf.io.withSaveHandler(async (art) => {
    writeFileSync(join(dir, 'weights.bin'), new Uint8Array(art.weightData as ArrayBuffer));
    writeFileSync(join(dir, 'model.json'), JSON.stringify({format: 'layers-model', modelTopology: art.modelTopology,
      weightsManifest: [{paths: ['weights.bin'], weights: art.weightSpecs}]}));
    return {modelArtifactsInfo: {dateSaved: new Date(), modelTopologyType: 'JSON'}};
  }));
  return dir;
}

test('--backbone: a user model\'s stride-4 and 8 maps feed the detector, which saves and loads', async () => {
  const dir = await userModel();
  const backbone = await loadBackbone(dir);
  assert.equal(backbone.outputs.length, 2);
  const cfg = makeConfig({data: '', images: '', out: '', backbone: dir}, PRESET_HYPER.smoke, [{id: 1, name: 'a'}], 9);
  const det = buildDetector(cfg, backbone);
  const n = generateAnchors(cfg.anchors, 64, 64).xyxy.length / 4;
  const x = tf.randomUniform([1, 64, 64, 3], 0, 1, 'float32', 3);
  const [cls] = det.predict(x) as tf.Tensor[];
  assert.deepEqual(cls.shape, [1, n, 1]);
  const out = join(tempDir(), 'model');
  await saveModelDir(out, det, cfg);
  const back = await loadModelDir(out);
  const [cls2] = back.model.predict(x) as tf.Tensor[];
  assert.deepEqual(Array.from(cls2.dataSync()), Array.from(cls.dataSync()));
  tf.dispose([x, cls, cls2]);
});

test('--backbone: a model without a stride-4 map is a user error', async () => {
  const input = tf.input({shape: [null, null, 3]});
  const y = tf.layers.conv2d({filters: 4, kernelSize: 3, strides: 8, padding: 'same'})
    .apply(input) as tf.SymbolicTensor;
  const dir = join(tempDir(), 'bad');
  mkdirSync(dir);
  await tf.model({inputs: input, outputs: y}).save(tf.io.withSaveHandler(async (art) => {
    writeFileSync(join(dir, 'weights.bin'), new Uint8Array(art.weightData as ArrayBuffer));
    writeFileSync(join(dir, 'model.json'), JSON.stringify({format: 'layers-model', modelTopology: art.modelTopology,
      weightsManifest: [{paths: ['weights.bin'], weights: art.weightSpecs}]}));
    return {modelArtifactsInfo: {dateSaved: new Date(), modelTopologyType: 'JSON'}};
  }));
  await assert.rejects(loadBackbone(dir), (e: Error & {code?: string}) => e.code === 'E_BACKBONE');
  await assert.rejects(loadBackbone(join(tempDir(), 'missing')),
    (e: Error & {code?: string}) => e.code === 'E_BACKBONE');
});
