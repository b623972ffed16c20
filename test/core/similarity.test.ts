import {test, describe} from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import {pairwise, elementwise, METRICS, type Metric} from '../../src/bindings/similarity.js';
import {simdEnabled} from '../../src/bindings/wasm.js';
import {toXyxy, fromXyxy, firstInvalid} from '../../src/geometry/boxes.js';
import {sharedPath, sharedMissing, readJsonFile, assertClose} from '../helpers.js';

/** Float64 reference, written independently of the Rust code from the formulas in the spec. */
function ref(metric: Metric, a: ArrayLike<number>, b: ArrayLike<number>, c = 12.8, eps = 0): number {
  const [ax1, ay1, ax2, ay2] = [a[0], a[1], a[2], a[3]];
  const [bx1, by1, bx2, by2] = [b[0], b[1], b[2], b[3]];
  const dcx = (ax1 + ax2) / 2 - (bx1 + bx2) / 2,
    dcy = (ay1 + ay2) / 2 - (by1 + by2) / 2;
  const centre = dcx * dcx + dcy * dcy;
  const dw = ax2 - ax1 - (bx2 - bx1),
    dh = ay2 - ay1 - (by2 - by1);
  const w2 = Math.sqrt(centre + (dw * dw + dh * dh) / 4 + eps);
  const inter =
    Math.max(0, Math.min(ax2, bx2) - Math.max(ax1, bx1)) * Math.max(0, Math.min(ay2, by2) - Math.max(ay1, by1));
  const union = (ax2 - ax1) * (ay2 - ay1) + (bx2 - bx1) * (by2 - by1) - inter;
  const iou = inter > 0 && union > 0 ? inter / union : 0;
  const ew = Math.max(ax2, bx2) - Math.min(ax1, bx1),
    eh = Math.max(ay2, by2) - Math.min(ay1, by1);
  const diou = iou - centre / (ew * ew + eh * eh + 1e-7);
  switch (metric) {
    case 'iou':
      return iou;
    case 'giou':
      return ew * eh > 0 ? iou - (ew * eh - union) / (ew * eh) : iou;
    case 'diou':
      return diou;
    case 'ciou': {
      const t = Math.atan((bx2 - bx1) / (by2 - by1 + 1e-7)) - Math.atan((ax2 - ax1) / (ay2 - ay1 + 1e-7));
      const v = (4 / Math.PI ** 2) * t * t;
      return diou - (v / (1 - iou + v + 1e-7)) * v;
    }
    case 'nwd':
      return Math.exp(-w2 / c);
    case 'dotd':
      return Math.exp(-Math.sqrt(centre) / c);
    case 'w2':
      return w2;
  }
}

/** Random xyxy boxes in [0, 1000), half of them tiny (< 16 px), as float32. */
function randomBoxes(n: number, seed: number): Float32Array {
  let s = seed >>> 0;
  const rnd = () => (s = (Math.imul(s, 1664525) + 1013904223) >>> 0) / 2 ** 32;
  const out = new Float32Array(4 * n);
  for (let i = 0; i < n; i++) {
    const x = rnd() * 1000,
      y = rnd() * 1000,
      scale = rnd() < 0.5 ? 16 : 300;
    out.set([x, y, x + rnd() * scale, y + rnd() * scale], 4 * i);
  }
  return out;
}

describe('similarity kernels', () => {
  test('the module runs SIMD kernels', () => {
    assert.equal(simdEnabled(), true);
  });

  test('paper example: NWD 0.80174 and IoU 0.2857 for [10,10,16,16] vs [12,12,18,18]', () => {
    const a = Float32Array.of(10, 10, 16, 16),
      b = Float32Array.of(12, 12, 18, 18);
    assertClose(pairwise('nwd', a, b), [0.80174], 5e-6);
    assertClose(pairwise('nwd', a, b, {c: 6.4}), [0.642787], 5e-6);
    assertClose(pairwise('nwd', a, b, {c: 25.6}), [0.895399], 5e-6);
    assertClose(pairwise('iou', a, b), [0.285714], 5e-6);
    assert.equal(pairwise('nwd', a, a)[0], 1);
    assertClose(pairwise('nwd', a, a, {nwdForm: 'reference'}), [0.999922], 5e-7);
  });

  for (const metric of ['nwd', 'iou', 'giou', 'diou', 'dotd', 'w2', 'ciou'] as Metric[]) {
    test(`${metric}: SIMD pairwise and elementwise match float64 within 2e-5 relative on 0-1000 px boxes`, () => {
      const a = randomBoxes(203, 1),
        b = randomBoxes(157, 2);
      const got = pairwise(metric, a, b);
      const want = new Float64Array(got.length);
      for (let i = 0; i < 203; i++)
        for (let j = 0; j < 157; j++) want[i * 157 + j] = ref(metric, a.subarray(4 * i), b.subarray(4 * j));
      // GIoU/DIoU/CIoU are differences that cancel near 0: there the error is absolute (~1 float32 ulp of 1).
      const atol = ['giou', 'diou', 'ciou'].includes(metric) ? 1e-6 : 1e-37;
      assertClose(got, want, atol, 2e-5, metric);
      const e = elementwise(metric, a.subarray(0, 4 * 157), b);
      assertClose(
        e,
        Array.from({length: 157}, (_, i) => want[i * 157 + i]),
        atol,
        2e-5,
        `${metric} elementwise`,
      );
    });
  }

  test('SIMD lanes and the scalar tail give bit-identical values (so NMS, assignment and similarity agree)', () => {
    // With 5 columns, column 4 runs the scalar kernel; rotating the columns moves it into a SIMD lane.
    const a = randomBoxes(64, 3),
      b = randomBoxes(5, 4);
    const rotated = Float32Array.of(...b.subarray(16, 20), ...b.subarray(0, 16));
    for (const metric of ['nwd', 'iou', 'giou', 'diou', 'dotd', 'w2'] as Metric[]) {
      for (const c of [12.8, 3.3]) {
        const x = pairwise(metric, a, b, {c}),
          y = pairwise(metric, a, rotated, {c});
        for (let i = 0; i < 64; i++) {
          assert.equal(x[i * 5 + 4], y[i * 5], `${metric} C=${c} row ${i}: scalar tail vs SIMD lane`);
          for (let j = 0; j < 4; j++) assert.equal(x[i * 5 + j], y[i * 5 + j + 1], `${metric} row ${i} col ${j}`);
        }
      }
    }
  });

  test('edge cases: zero-area, identical, touching, negative coordinates, empty', () => {
    const line = Float32Array.of(5, 5, 5, 9),
      point = Float32Array.of(3, 3, 3, 3);
    for (const metric of METRICS) {
      const m = pairwise(metric, Float32Array.of(...line, ...point), Float32Array.of(...line, ...point));
      assert.ok(m.every(Number.isFinite), `${metric} finite on zero-area boxes: ${m}`);
    }
    assert.deepEqual(Array.from(pairwise('iou', line, line)), [0]);
    const touching = pairwise('iou', Float32Array.of(0, 0, 2, 2), Float32Array.of(2, 0, 4, 2));
    assert.deepEqual(Array.from(touching), [0]);
    const neg = Float32Array.of(-20, -20, -10, -10),
      neg2 = Float32Array.of(-15, -20, -5, -10);
    assertClose(pairwise('iou', neg, neg2), [1 / 3], 1e-6);
    assert.equal(pairwise('nwd', new Float32Array(0), neg).length, 0);
    assert.equal(pairwise('nwd', neg, new Float32Array(0)).length, 0);
    assert.equal(elementwise('iou', new Float32Array(0), new Float32Array(0)).length, 0);
  });

  test('property: IoU is symmetric, in [0, 1], and 1 only for identical positive-area boxes', () => {
    const box = fc
      .tuple(
        fc.float({min: -500, max: 500, noNaN: true}),
        fc.float({min: -500, max: 500, noNaN: true}),
        fc.float({min: 0, max: 64, noNaN: true}),
        fc.float({min: 0, max: 64, noNaN: true}),
      )
      .map(([x, y, w, h]) => [x, y, x + w, y + h]);
    fc.assert(
      fc.property(box, box, (p, q) => {
        const a = Float32Array.from(p),
          b = Float32Array.from(q);
        if (a[2] < a[0] || a[3] < a[1] || b[2] < b[0] || b[3] < b[1]) return true;
        const ab = pairwise('iou', a, b)[0],
          ba = pairwise('iou', b, a)[0];
        const n = pairwise('nwd', a, b)[0];
        return ab === ba && ab >= 0 && ab <= 1 && n > 0 && n <= 1;
      }),
      {seed: 42, numRuns: 300},
    );
  });
});

describe('box layouts and policy', () => {
  test('torchvision box_convert examples round-trip exactly', (t) => {
    const p = sharedPath('reference/torchvision_box_convert_and_area.json');
    if (!p) return t.skip(sharedMissing('reference'));
    const ref = readJsonFile<{box_convert: Record<'xyxy' | 'xywh' | 'cxcywh', number[][]>}>(p).box_convert;
    const xyxy = ref.xyxy.flat();
    for (const f of ['xywh', 'cxcywh'] as const) {
      assert.deepEqual(Array.from(fromXyxy(xyxy, f)), ref[f].flat(), `xyxy -> ${f}`);
      assert.deepEqual(Array.from(toXyxy(ref[f].flat(), f)), xyxy, `${f} -> xyxy`);
    }
  });

  test('policy rejects reversed corners and non-finite values by index, accepts zero area', () => {
    assert.equal(firstInvalid(Float32Array.of(0, 0, 0, 5, 1, 1, 2, 2)), undefined);
    assert.deepEqual(firstInvalid(Float32Array.of(0, 0, 1, 1, 10, 40, 20, 20)), {index: 1, reason: 'reversed'});
    assert.deepEqual(firstInvalid(Float32Array.of(0, 0, 1, 1, 0, 0, 1, 1, NaN, 0, 1, 1)), {
      index: 2,
      reason: 'non-finite',
    });
  });
});

interface Subcase {
  boxes1: number[][];
  boxes2: number[][];
  expected: number[][];
  atol?: number;
  op?: string;
}

describe('peer reference values', () => {
  const files: Array<[string, Metric]> = [
    ['reference/torchvision_box_iou.json', 'iou'],
    ['reference/torchvision_generalized_box_iou.json', 'giou'],
  ];
  for (const [rel, metric] of files) {
    test(`${rel}`, (t) => {
      const p = sharedPath(rel);
      if (!p) return t.skip(sharedMissing(rel));
      const subcases = readJsonFile<{subcases: Subcase[]}>(p).subcases;
      assert.ok(subcases.length > 0);
      for (const s of subcases) {
        const got = pairwise(metric, Float32Array.from(s.boxes1.flat()), Float32Array.from(s.boxes2.flat()));
        assertClose(got, s.expected.flat(), Math.max(s.atol ?? 1e-4, 1e-4), 0, rel);
      }
    });
  }

  test('reference/torchvision_distance_and_complete_box_iou.json', (t) => {
    const p = sharedPath('reference/torchvision_distance_and_complete_box_iou.json');
    if (!p) return t.skip(sharedMissing('reference'));
    const subcases = readJsonFile<{subcases: Subcase[]}>(p).subcases;
    for (const s of subcases) {
      const got = pairwise(s.op as Metric, Float32Array.from(s.boxes1.flat()), Float32Array.from(s.boxes2.flat()));
      assertClose(got, s.expected.flat(), s.atol ?? 1e-4, 0, s.op);
    }
  });

  test('reference/nwd_reference_formula.json: exact and eps forms', (t) => {
    const p = sharedPath('reference/nwd_reference_formula.json');
    if (!p) return t.skip(sharedMissing('reference'));
    const r = readJsonFile<Record<string, unknown> & {boxes1: number[][]; boxes2: number[][]; C: number}>(p);
    const a = Float32Array.from(r.boxes1.flat()),
      b = Float32Array.from(r.boxes2.flat());
    assertClose(pairwise('nwd', a, b, {c: r.C}), (r.expected_paper_eps0 as number[][]).flat(), 1e-30, 2e-5, 'exact');
    const epsKey = Object.keys(r).find(
      (k) => k.startsWith('expected_') && k !== 'expected_paper_eps0' && !k.includes('C'),
    );
    assert.ok(epsKey, `eps expectation present among ${Object.keys(r)}`);
    assertClose(
      pairwise('nwd', a, b, {c: r.C, nwdForm: 'reference'}),
      (r[epsKey] as number[][]).flat(),
      1e-30,
      2e-5,
      epsKey,
    );
  });

  test('cases K25 (NWD), K18/K19 (IoU clamping), K27 (modern IoU), K32 (negative coordinates)', (t) => {
    const p = sharedPath('cases/K25.json');
    if (!p) return t.skip(sharedMissing('cases'));
    const k25 = readJsonFile<{input: Record<string, number[]>; expected: Record<string, number>}>(p);
    const {A, B, D} = k25.input;
    const nwd = (x: number[], y: number[], c = 12.8) =>
      pairwise('nwd', Float32Array.from(x), Float32Array.from(y), {c})[0];
    const iou = (x: number[], y: number[]) => pairwise('iou', Float32Array.from(x), Float32Array.from(y))[0];
    assertClose(
      [nwd(A, B), nwd(A, A), nwd(A, D), iou(A, B), iou(A, D), nwd(A, B, 6.4), nwd(A, B, 25.6)],
      [
        k25.expected.NWD_A_B,
        k25.expected.NWD_A_A_paper,
        k25.expected.NWD_A_D,
        k25.expected.IoU_A_B,
        k25.expected.IoU_A_D,
        k25.expected['NWD_A_B_C6.4'],
        k25.expected['NWD_A_B_C25.6'],
      ],
      1e-5,
      0,
      'K25',
    );
    const k18 = readJsonFile<{input: Record<string, number[]>; expected: Record<string, number>}>(
      sharedPath('cases/K18.json')!,
    );
    assert.equal(iou(k18.input.a, k18.input.b), k18.expected.iou_a_b);
    assert.equal(iou(k18.input.a, k18.input.c), k18.expected.iou_a_c);
    const k19 = readJsonFile<{input: Record<string, number[]>; expected: Record<string, number>}>(
      sharedPath('cases/K19.json')!,
    );
    assert.equal(
      iou(k19.input.zero_width_box_xyxy, k19.input.zero_width_box_xyxy),
      k19.expected.iou_zero_width_with_itself,
    );
    const k27 = readJsonFile<{
      input: {pairs_xyxy: Record<string, number[][]>};
      expected: {modern_iou: Record<string, number>};
    }>(sharedPath('cases/K27.json')!);
    for (const [name, [x, y]] of Object.entries(k27.input.pairs_xyxy)) {
      assertClose([iou(x, y)], [k27.expected.modern_iou[name]], 1e-6, 0, `K27 ${name}`);
    }
    const k32 = readJsonFile<{
      input: {tfjs_report_boxes: number[][]; consistency: Record<string, number[]>};
      expected: Record<string, number>;
    }>(sharedPath('cases/K32.json')!);
    assert.equal(iou(k32.input.tfjs_report_boxes[0], k32.input.tfjs_report_boxes[1]), k32.expected.tfjs_report_iou);
    assertClose([iou(k32.input.consistency.A_xyxy, k32.input.consistency.B_xyxy)], [k32.expected.A_B_iou_xyxy], 1e-6);
  });

  test('cases K26 (CIoU/NWD degenerate inputs stay finite) and K16 (reversed boxes rejected)', (t) => {
    const p = sharedPath('cases/K26.json');
    if (!p) return t.skip(sharedMissing('cases'));
    const k = readJsonFile<{
      input: Record<string, {pred?: number[]; target?: number[]; pred_xyxy?: number[]; target_xyxy?: number[]}>;
      expected: Record<string, number>;
    }>(p);
    const ciou = (x: number[], y: number[]) => pairwise('ciou', Float32Array.from(x), Float32Array.from(y))[0];
    assertClose(
      [ciou(k.input.ciou_identical.pred!, k.input.ciou_identical.target!)],
      [k.expected.ciou_identical],
      1e-6,
    );
    assertClose(
      [ciou(k.input.ciou_padding.pred_xyxy!, k.input.ciou_padding.target_xyxy!)],
      [k.expected.ciou_padding_eps1e7 ?? k.expected['ciou_padding_eps1e-7']],
      1e-5,
    );
    assertClose(
      [ciou(k.input.ciou_point_pred.pred!, k.input.ciou_point_pred.target!)],
      [k.expected['ciou_point_pred_eps1e-7']],
      1e-6,
    );
    const k16 = readJsonFile<{input: {boxes1_xyxy: number[][]; boxes2_xyxy: number[][]}}>(
      sharedPath('cases/K16.json')!,
    );
    assert.deepEqual(firstInvalid(Float32Array.from(k16.input.boxes1_xyxy.flat())), {index: 0, reason: 'reversed'});
    const asXywh = pairwise(
      'iou',
      toXyxy(k16.input.boxes1_xyxy.flat(), 'xywh'),
      toXyxy(k16.input.boxes2_xyxy.flat(), 'xywh'),
    );
    assert.deepEqual(Array.from(asXywh), [0]);
  });
});
