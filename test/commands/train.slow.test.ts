/**
 * End to end, as a user runs it: nwd synth -> nwd train --preset smoke -> nwd predict --gt ->
 * nwd eval. Minutes on 2 cores (wasm); the smoke preset's promise is AP50 >= 0.5 on the val split.
 */
import {test} from 'node:test';
import assert from 'node:assert/strict';
import {join} from 'node:path';
import {runCli, tempDir} from '../helpers.js';

test('synth -> train --preset smoke -> predict -> eval reaches AP50 >= 0.5', () => {
  const dir = tempDir();
  const data = join(dir, 'synth'), model = join(dir, 'model'), pred = join(dir, 'pred.json');
  let r = runCli(['synth', '--out', data]);
  assert.equal(r.status, 0, r.stderr);
  r = runCli(['train', '--data', join(data, 'train.json'), '--images', join(data, 'images'), '--out', model,
    '--preset', 'smoke', '--json']);
  assert.equal(r.status, 0, r.stderr);
  const summary = JSON.parse(r.stdout);
  assert.ok(summary.epochs.every((e: {loss: number}) => Number.isFinite(e.loss)));
  r = runCli(['predict', '--model', model, '--images', join(data, 'images'), '--gt', join(data, 'val.json'),
    '--out', pred]);
  assert.equal(r.status, 0, r.stderr);
  r = runCli(['eval', '--gt', join(data, 'val.json'), '--dt', pred, '--json']);
  assert.equal(r.status, 0, r.stderr);
  const stats = JSON.parse(r.stdout).stats;
  process.stderr.write(`smoke preset: ${summary.steps} steps in ${summary.seconds.toFixed(0)} s ` +
    `on ${summary.backend}, ` +
    `val AP ${stats.AP.toFixed(3)}, AP50 ${stats.AP50.toFixed(3)}\n`);
  assert.ok(stats.AP50 >= 0.5, `AP50 ${stats.AP50}`);
});
