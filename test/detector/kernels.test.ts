import {test, describe, before} from 'node:test';
import assert from 'node:assert/strict';
import type * as tfT from '@tensorflow/tfjs';
import {selectBackend, type Tf} from '../../src/detector/backend.js';
import {WASM_GRADIENT_KERNELS} from '../../src/detector/kernels/register.js';
import {lcg} from '../../bench/common.js';

let tf: Tf;

before(async () => {
  tf = (await selectBackend('wasm')).tf;
});

/** Uniform values in [-1, 1) from a fixed seed. */
function rand(n: number, seed: number): Float32Array {
  const r = lcg(seed);
  return Float32Array.from({length: n}, () => 2 * r() - 1);
}

/** Runs `fn` on `backend` and returns its outputs' values (tensors disposed). */
async function on(backend: 'wasm' | 'cpu', fn: () => tfT.Tensor[]): Promise<Float32Array[]> {
  await selectBackend(backend);
  assert.equal(tf.getBackend(), backend);
  const out = tf.tidy(fn);
  const vals = out.map((t) => t.dataSync() as Float32Array);
  tf.dispose(out);
  return vals;
}

/**
 * float32 sums of up to a few thousand products in a different order than the cpu backend's:
 * ~1e-6 of the terms' scale, so allow 2e-5 of the largest |value| plus 1e-4 relative.
 */
function assertGradClose(got: Float32Array, want: Float32Array, what: string): void {
  assert.equal(got.length, want.length, `${what}: length`);
  const scale = want.reduce((m, v) => Math.max(m, Math.abs(v)), 0);
  assert.ok(scale > 0, `${what}: reference is all zeros, the case tests nothing`);
  for (let i = 0; i < want.length; i++) {
    const tol = 2e-5 * scale + 1e-4 * Math.abs(want[i]);
    if (!(Math.abs(got[i] - want[i]) <= tol)) {
      assert.fail(`${what}[${i}]: wasm ${got[i]}, cpu ${want[i]} (tolerance ${tol.toExponential(2)})`);
    }
  }
}

type Pad = 'same' | 'valid' | [[0, 0], [number, number], [number, number], [0, 0]];
const PADS: Pad[] = [
  'same',
  'valid',
  [
    [0, 0],
    [1, 0],
    [2, 1],
    [0, 0],
  ],
];
const STRIDES: Array<number | [number, number]> = [1, 2, 3, [2, 1]];
/** [B, H, W, C, fh, fw, O or channel multiplier] */
const SHAPES: Array<[number, number, number, number, number, number, number]> = [
  [2, 9, 9, 3, 3, 3, 4],
  [1, 8, 7, 2, 1, 1, 3],
  [2, 11, 10, 4, 5, 5, 2],
  [3, 6, 7, 3, 2, 2, 1],
];

function cases(): Array<{shape: (typeof SHAPES)[number]; stride: number | [number, number]; pad: Pad; name: string}> {
  const out = [];
  for (const shape of SHAPES)
    for (const stride of STRIDES)
      for (const pad of PADS) {
        out.push({
          shape,
          stride,
          pad,
          name:
            `x${shape.slice(0, 4).join('x')} f${shape[4]}x${shape[5]}x${shape[6]} ` +
            `s${String(stride)} ${typeof pad === 'string' ? pad : 'explicit'}`,
        });
      }
  return out;
}

describe('wasm gradient kernels', () => {
  test('our kernels are the ones registered for wasm', async () => {
    const {conv2dBackpropFilterKernel} = await import('../../src/detector/kernels/conv2d-grads.js');
    for (const name of WASM_GRADIENT_KERNELS) assert.ok(tf.getKernel(name, 'wasm'), name);
    assert.equal(tf.getKernel('Conv2DBackpropFilter', 'wasm').kernelFunc, conv2dBackpropFilterKernel);
  });

  test('conv2d dx and dW match the cpu backend (shapes x strides x paddings)', async () => {
    let seed = 1;
    for (const {
      shape: [b, h, w, c, fh, fw, o],
      stride,
      pad,
      name,
    } of cases()) {
      const x = rand(b * h * w * c, seed++),
        f = rand(fh * fw * c * o, seed++);
      const outShape = tf.tidy(
        () =>
          tf.conv2d(tf.zeros([b, h, w, c]) as tfT.Tensor4D, tf.zeros([fh, fw, c, o]) as tfT.Tensor4D, stride, pad)
            .shape,
      );
      const dy = rand(
        outShape.reduce((p, q) => p * q, 1),
        seed++,
      );
      const grads = () => {
        const g = tf.grads((xx: tfT.Tensor, ff: tfT.Tensor) =>
          tf.conv2d(xx as tfT.Tensor4D, ff as tfT.Tensor4D, stride, pad),
        );
        return g([tf.tensor4d(x, [b, h, w, c]), tf.tensor4d(f, [fh, fw, c, o])], tf.tensor(dy, outShape));
      };
      const [wdx, wdw] = await on('wasm', grads);
      const [cdx, cdw] = await on('cpu', grads);
      assertGradClose(wdx, cdx, `${name} dx`);
      assertGradClose(wdw, cdw, `${name} dW`);
    }
  });

  test('depthwise dx and dW match the cpu backend (shapes x strides x paddings, multiplier 1-4)', async () => {
    let seed = 1000;
    for (const {
      shape: [b, h, w, c, fh, fw, m],
      stride,
      pad,
      name,
    } of cases()) {
      // tfjs's depthwiseConv2d wants equal strides unless dilation is 1: it is 1 here, both allowed.
      const x = rand(b * h * w * c, seed++),
        f = rand(fh * fw * c * m, seed++);
      const outShape = tf.tidy(
        () =>
          tf.depthwiseConv2d(
            tf.zeros([b, h, w, c]) as tfT.Tensor4D,
            tf.zeros([fh, fw, c, m]) as tfT.Tensor4D,
            stride,
            pad,
          ).shape,
      );
      const dy = rand(
        outShape.reduce((p, q) => p * q, 1),
        seed++,
      );
      const grads = () => {
        const g = tf.grads((xx: tfT.Tensor, ff: tfT.Tensor) =>
          tf.depthwiseConv2d(xx as tfT.Tensor4D, ff as tfT.Tensor4D, stride, pad),
        );
        return g([tf.tensor4d(x, [b, h, w, c]), tf.tensor4d(f, [fh, fw, c, m])], tf.tensor(dy, outShape));
      };
      const [wdx, wdw] = await on('wasm', grads);
      const [cdx, cdw] = await on('cpu', grads);
      assertGradClose(wdx, cdx, `depthwise ${name} dx`);
      assertGradClose(wdw, cdw, `depthwise ${name} dW`);
    }
  });

  test('conv2dTranspose (which runs Conv2DBackpropInput forward) and its gradients match the cpu backend', async () => {
    let seed = 500;
    for (const [k, s, pad] of [
      [2, 2, 'same'],
      [3, 2, 'same'],
      [3, 2, 'valid'],
      [4, 2, 'same'],
      [3, 1, 'same'],
    ] as const) {
      const x = rand(2 * 5 * 6 * 4, seed++),
        f = rand(k * k * 3 * 4, seed++);
      const outShape: [number, number, number, number] =
        pad === 'same' ? [2, 5 * s, 6 * s, 3] : [2, 4 * s + k, 5 * s + k, 3];
      const dy = rand(
        outShape.reduce((p, q) => p * q, 1),
        seed++,
      );
      const run = () => {
        const xx = tf.tensor4d(x, [2, 5, 6, 4]),
          ff = tf.tensor4d(f, [k, k, 3, 4]);
        const fn = (a: tfT.Tensor, b: tfT.Tensor) =>
          tf.conv2dTranspose(a as tfT.Tensor4D, b as tfT.Tensor4D, outShape, s, pad);
        return [fn(xx, ff), ...tf.grads(fn)([xx, ff], tf.tensor4d(dy, outShape))];
      };
      const w = await on('wasm', run),
        c = await on('cpu', run);
      ['y', 'dx', 'dW'].forEach((what, i) => assertGradClose(w[i], c[i], `transpose k${k} s${s} ${pad} ${what}`));
    }
  });

  test('strided input gradient: the phase construction equals zero-upsampling', async () => {
    const {conv2dBackpropInput} = await import('../../src/detector/kernels/conv2d-grads.js');
    await selectBackend('wasm');
    for (const [h, s, pad] of [
      [9, 2, 'same'],
      [11, 3, 'valid'],
      [
        8,
        2,
        [
          [0, 0],
          [2, 0],
          [1, 2],
          [0, 0],
        ],
      ],
    ] as const) {
      const attrs = {strides: s, pad: pad as Pad, inputShape: [2, h, h + 1, 3] as [number, number, number, number]};
      const [a, b] = tf.tidy(() => {
        const f = tf.tensor4d(rand(3 * 3 * 3 * 4, h), [3, 3, 3, 4]);
        const outShape = tf.conv2d(tf.zeros(attrs.inputShape) as tfT.Tensor4D, f, s, pad as Pad).shape;
        const dy = tf.tensor4d(
          rand(
            outShape.reduce((p, q) => p * q, 1),
            h + 1,
          ),
          outShape,
        );
        return [conv2dBackpropInput(dy, f, attrs).dataSync(), conv2dBackpropInput(dy, f, attrs, 'upsample').dataSync()];
      });
      assertGradClose(a as Float32Array, b as Float32Array, `h ${h} stride ${s}`);
    }
  });

  test('gather gradient (UnsortedSegmentSum) adds repeated indices like the cpu backend', async () => {
    const params = rand(7 * 3, 5),
      idx = [0, 3, 3, 6, 0, 0, 2];
    const dy = rand(idx.length * 3, 6);
    const grad = () => [
      tf.grad((p: tfT.Tensor) => tf.gather(p, tf.tensor1d(idx, 'int32')))(
        tf.tensor2d(params, [7, 3]),
        tf.tensor2d(dy, [idx.length, 3]),
      ),
    ];
    const [w] = await on('wasm', grad);
    const [c] = await on('cpu', grad);
    assertGradClose(w, c, 'gather grad');
    // Row 0 collects three updates, row 1 none.
    assert.ok(Math.abs(w[0] - (dy[0] + dy[12] + dy[15])) < 1e-6);
    assert.deepEqual(Array.from(w.slice(3, 6)), [0, 0, 0]);
  });

  test('dilation other than 1 is refused, not computed wrongly', async () => {
    await selectBackend('wasm');
    const attrs = {strides: 1, pad: 'same', dilations: 2, filterShape: [3, 3, 2, 1]};
    assert.throws(
      () =>
        tf.tidy(() =>
          tf
            .engine()
            .runKernel(
              'DepthwiseConv2dNativeBackpropFilter',
              {x: tf.ones([1, 8, 8, 2]), dy: tf.ones([1, 8, 8, 2])},
              attrs,
            ),
        ),
      /only dilation 1/,
    );
    assert.throws(
      () =>
        tf.tidy(() =>
          tf
            .engine()
            .runKernel(
              'Conv2DBackpropFilter',
              {x: tf.ones([1, 8, 8, 2]), dy: tf.ones([1, 8, 8, 2])},
              {...attrs, dataFormat: 'NCHW'},
            ),
        ),
      /only NHWC/,
    );
  });

  test('a small conv net trains on wasm: loss falls, tensor count stays constant', async () => {
    await selectBackend('wasm');
    const init = (seed: number) => tf.initializers.glorotUniform({seed});
    const model = tf.sequential({
      layers: [
        tf.layers.conv2d({
          inputShape: [16, 16, 3],
          filters: 8,
          kernelSize: 3,
          padding: 'same',
          activation: 'relu',
          kernelInitializer: init(1),
        }),
        tf.layers.depthwiseConv2d({
          kernelSize: 3,
          strides: 2,
          padding: 'same',
          activation: 'relu',
          depthwiseInitializer: init(2),
        }),
        tf.layers.conv2d({
          filters: 8,
          kernelSize: 3,
          strides: 2,
          padding: 'valid',
          activation: 'relu',
          kernelInitializer: init(3),
        }),
        tf.layers.globalAveragePooling2d({}),
        tf.layers.dense({units: 2, kernelInitializer: init(4)}),
      ],
    });
    const xs = tf.tensor4d(rand(4 * 16 * 16 * 3, 77), [4, 16, 16, 3]);
    const ys = tf.tensor2d(rand(8, 78), [4, 2]);
    const opt = tf.train.adam(0.01);
    const losses: number[] = [],
      counts: number[] = [];
    for (let step = 0; step < 20; step++) {
      const loss = opt.minimize(
        () => tf.losses.meanSquaredError(ys, model.apply(xs) as tfT.Tensor) as tfT.Scalar,
        true,
      ) as tfT.Scalar;
      losses.push(loss.dataSync()[0]);
      loss.dispose();
      counts.push(tf.memory().numTensors);
    }
    assert.ok(losses[19] < 0.5 * losses[0], `loss ${losses[0]} -> ${losses[19]}`);
    // Adam's moment slots appear at step 0; from then on nothing may accumulate.
    assert.deepEqual(
      counts.slice(1),
      counts.slice(1).map(() => counts[1]),
    );
    tf.dispose([xs, ys]);
    model.dispose();
    opt.dispose();
  });
});
