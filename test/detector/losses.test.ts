import {test, before} from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs';
import {readFileSync} from 'node:fs';
import {focalLoss, bceLoss, smoothL1Loss, giouLoss, nwdLoss, NWD_LOSS_EPS} from '../../src/detector/losses.js';
import {sharedPath, sharedMissing} from '../helpers.js';

before(async () => {
  await tf.setBackend('cpu');
});

const val = (t: tf.Tensor) => {
  const v = t.dataSync()[0];
  t.dispose();
  return v;
};

test('focal loss matches the closed form at logit 0', () => {
  // p = 0.5: positive -> 0.25 * 0.5^2 * ln 2; negative -> 0.75 * 0.5^2 * ln 2.
  const l = focalLoss(tf.tensor2d([[0, 0]]), tf.tensor2d([[1, 0]]), tf.tensor2d([[1]]));
  assert.ok(Math.abs(val(l) - (0.25 + 0.75) * 0.25 * Math.LN2) < 1e-6);
});

test('focal loss: weight 0 drops an anchor; large confident logits are finite', () => {
  const l = focalLoss(tf.tensor2d([[100, -100], [3, 1]]), tf.tensor2d([[1, 0], [0, 1]]), tf.tensor2d([[1], [0]]));
  const v = val(l);
  assert.ok(Number.isFinite(v) && v >= 0 && v < 1e-6, String(v));
  const wrong = val(focalLoss(tf.tensor2d([[-100]]), tf.tensor2d([[1]]), tf.tensor2d([[1]])));
  assert.ok(Math.abs(wrong - 0.25 * 100) < 1e-3, String(wrong));
});

test('BCE with logits is stable and matches -log(sigmoid)', () => {
  const v = val(bceLoss(tf.tensor2d([[2]]), tf.tensor2d([[1]]), tf.tensor2d([[1]])));
  assert.ok(Math.abs(v - Math.log1p(Math.exp(-2))) < 1e-6);
});

test('smooth L1 below and above beta = 1/9', () => {
  const v = val(smoothL1Loss(tf.tensor2d([[0.05, 1, 0, 0]]), tf.tensor2d([[0, 0, 0, 0]])));
  assert.ok(Math.abs(v - (0.5 * 0.0025 * 9 + (1 - 0.5 / 9))) < 1e-6, String(v));
});

test('GIoU loss: 0 for identical boxes, 1 - (IoU - hull term) for disjoint ones', () => {
  assert.ok(Math.abs(val(giouLoss(tf.tensor2d([[10, 10, 20, 20]]), tf.tensor2d([[10, 10, 20, 20]])))) < 1e-6);
  // [0,0,1,1] vs [2,0,3,1]: IoU 0, hull 3, union 2 -> GIoU = -1/3, loss 4/3.
  const v = val(giouLoss(tf.tensor2d([[0, 0, 1, 1]]), tf.tensor2d([[2, 0, 3, 1]])));
  assert.ok(Math.abs(v - 4 / 3) < 1e-5, String(v));
});

test('NWD loss: the spec example (C = 12.8: NWD 0.80174) and identical boxes (K26)', () => {
  const v = val(nwdLoss(tf.tensor2d([[10, 10, 16, 16]]), tf.tensor2d([[12, 12, 18, 18]]), 12.8));
  assert.ok(Math.abs(v - (1 - 0.80174)) < 1e-5, String(v));
  const same = val(nwdLoss(tf.tensor2d([[10, 10, 16, 16]]), tf.tensor2d([[10, 10, 16, 16]]), 12.8));
  // exp(-sqrt(eps)/C) with eps 1e-6: 1 - NWD = 7.8e-5, not NaN and not exactly 0.
  assert.ok(Math.abs(same - (1 - Math.exp(-Math.sqrt(NWD_LOSS_EPS) / 12.8))) < 1e-6, String(same));
});

function gradOf(f: (p: tf.Tensor2D) => tf.Scalar, pred: number[]): Float32Array {
  return tf.tidy(() => tf.grad((p: tf.Tensor) => f(p as tf.Tensor2D))(tf.tensor2d([pred])).dataSync() as Float32Array);
}

test('NWD and GIoU losses: finite value and gradient for identical and zero-size boxes (K26)', (t) => {
  const p = sharedPath('cases/K26.json');
  if (!p) return t.skip(sharedMissing('cases/K26.json'));
  const k26 = JSON.parse(readFileSync(p, 'utf8')) as {input: Record<string, {pred?: number[]; target?: number[];
    pred_xyxy?: number[]; target_xyxy?: number[]}>};
  const pairs: Array<[string, number[], number[]]> = Object.entries(k26.input).map(([name, c]) =>
    [name, (c.pred ?? c.pred_xyxy) as number[], (c.target ?? c.target_xyxy) as number[]]);
  pairs.push(['both zero-size', [5, 5, 5, 5], [5, 5, 5, 5]]);
  for (const [name, pred, target] of pairs) {
    const tgt = tf.tensor2d([target]);
    const losses = [['nwd', (x: tf.Tensor2D) => nwdLoss(x, tgt, 12.8)],
      ['giou', (x: tf.Tensor2D) => giouLoss(x, tgt)]] as const;
    for (const [loss, f] of losses) {
      const v = val(f(tf.tensor2d([pred])));
      assert.ok(Number.isFinite(v), `${loss} value on ${name}: ${v}`);
      const g = gradOf(f, pred);
      assert.ok(g.every(Number.isFinite), `${loss} gradient on ${name}: ${Array.from(g)}`);
    }
    tgt.dispose();
  }
});

test('NWD loss gradient matches finite differences', () => {
  const target = tf.tensor2d([[12, 12, 18, 18]]);
  const pred = [10, 10, 16, 17];
  const f = (x: tf.Tensor2D) => nwdLoss(x, target, 12.8);
  const g = gradOf(f, pred);
  const h = 1e-2;
  for (let i = 0; i < 4; i++) {
    const up = [...pred], dn = [...pred];
    up[i] += h;
    dn[i] -= h;
    const fd = (val(f(tf.tensor2d([up]))) - val(f(tf.tensor2d([dn])))) / (2 * h);
    assert.ok(Math.abs(fd - g[i]) < 1e-3, `coordinate ${i}: fd ${fd}, grad ${g[i]}`);
  }
  target.dispose();
});

test('without eps the NWD gradient at identical boxes is not finite (why NWD_LOSS_EPS exists)', () => {
  const target = tf.tensor2d([[10, 10, 16, 16]]);
  const g = gradOf((x) => nwdLoss(x, target, 12.8, 0), [10, 10, 16, 16]);
  assert.ok(!g.every(Number.isFinite), `expected NaN/inf, got ${Array.from(g)}`);
  target.dispose();
});
