import {test, describe} from 'node:test';
import assert from 'node:assert/strict';
import {readFileSync} from 'node:fs';
import {join} from 'node:path';
import fc from 'fast-check';
import {nms, batchedNms, nmsDetailed, type NmsOptions, type NmsMetric} from '../../src/nms/nms.js';
import {float32Toward} from '../../src/nms/options.js';
import {UserError} from '../../src/cli/errors.js';
import {ROOT, sharedPath, sharedMissing, readJsonFile} from '../helpers.js';

interface TvCase {
  name: string; op: 'nms' | 'batched_nms'; iou_threshold: number; boxes_xyxy: number[][]; scores: number[];
  idxs?: number[]; keep: number[]; public_batched_nms_keep?: number[];
}
const TV = JSON.parse(readFileSync(join(ROOT, 'test/fixtures/nms/torchvision_nms.json'), 'utf8')) as {cases: TvCase[]};

const f32 = (a: number[][]) => Float32Array.from(a.flat());
const keepOf = (b: number[][], s: number[], opts: NmsOptions = {}) =>
  Array.from(nms(f32(b), Float32Array.from(s), opts));

/** float32 arithmetic in JS: every operation rounded with Math.fround, as the kernel computes. */
const r = Math.fround;
function pairF32(metric: NmsMetric, a: ArrayLike<number>, b: ArrayLike<number>, c = 12.8): number {
  const [ax1, ay1, ax2, ay2] = [a[0], a[1], a[2], a[3]];
  const [bx1, by1, bx2, by2] = [b[0], b[1], b[2], b[3]];
  if (metric === 'nwd') {
    const dx = r(r(r(ax1 + ax2) * 0.5) - r(r(bx1 + bx2) * 0.5)), dy = r(r(r(ay1 + ay2) * 0.5) - r(r(by1 + by2) * 0.5));
    const dw = r(r(ax2 - ax1) - r(bx2 - bx1)), dh = r(r(ay2 - ay1) - r(by2 - by1));
    const w2 = r(Math.sqrt(r(r(r(r(dx * dx) + r(dy * dy)) + r(r(r(dw * dw) + r(dh * dh)) * 0.25)) + 0)));
    return r(Math.exp(r(-w2 / r(c))));
  }
  const iw = Math.max(r(Math.min(ax2, bx2) - Math.max(ax1, bx1)), 0);
  const ih = Math.max(r(Math.min(ay2, by2) - Math.max(ay1, by1)), 0);
  const inter = r(iw * ih);
  const union = r(r(r(r(ax2 - ax1) * r(ay2 - ay1)) + r(r(bx2 - bx1) * r(by2 - by1))) - inter);
  const iou = inter > 0 && union > 0 ? r(inter / union) : 0;
  if (metric === 'iou') return iou;
  const ew = r(Math.max(ax2, bx2) - Math.min(ax1, bx1)), eh = r(Math.max(ay2, by2) - Math.min(ay1, by1));
  if (metric === 'giou') {
    const e = r(ew * eh);
    return e > 0 ? r(iou - r(r(e - union) / e)) : iou;
  }
  const dx = r(r(ax1 + ax2) - r(bx1 + bx2)), dy = r(r(ay1 + ay2) - r(by1 + by2));
  const rho2 = r(r(r(dx * dx) + r(dy * dy)) * 0.25);
  return r(iou - r(rho2 / r(r(r(ew * ew) + r(eh * eh)) + r(1e-7))));
}

/** The textbook O(N^2) greedy loop, written independently of the kernel. */
function greedyReference(boxes: Float32Array, scores: Float32Array, metric: NmsMetric, t: number): number[] {
  const n = scores.length;
  const order = Array.from({length: n}, (_, i) => i).sort((i, j) => scores[j] - scores[i] || i - j);
  const kept: number[] = [];
  for (const i of order) {
    const bi = boxes.subarray(4 * i, 4 * i + 4);
    if (kept.every((k) => !(pairF32(metric, boxes.subarray(4 * k, 4 * k + 4), bi) > t))) kept.push(i);
  }
  return kept;
}

/** Boxes around a few centres, with exact duplicates, zero-width boxes and coarse (tied) scores. */
function clustered(n: number, seed: number, extent = 300):
  {boxes: Float32Array; scores: Float32Array; classes: Int32Array} {
  let s = seed >>> 0;
  const rnd = () => ((s = (Math.imul(s, 1664525) + 1013904223) >>> 0) / 2 ** 32);
  const centres = Array.from({length: 1 + Math.floor(n / 25)}, () => [rnd() * extent - 40, rnd() * extent - 40]);
  const boxes = new Float32Array(4 * n), scores = new Float32Array(n), classes = new Int32Array(n);
  for (let i = 0; i < n; i++) {
    if (i > 0 && rnd() < 0.1) {
      const j = Math.floor(rnd() * i);
      boxes.copyWithin(4 * i, 4 * j, 4 * j + 4);
      scores[i] = rnd() < 0.5 ? scores[j] : Math.floor(rnd() * 10) / 10;
      classes[i] = classes[j];
      continue;
    }
    const [cx, cy] = centres[Math.floor(rnd() * centres.length)];
    const x = cx + (rnd() - 0.5) * 20, y = cy + (rnd() - 0.5) * 20;
    const w = rnd() < 0.05 ? 0 : 2 + rnd() * 28, h = 2 + rnd() * 28;
    boxes.set([x, y, x + w, y + h], 4 * i);
    scores[i] = Math.floor(rnd() * 10) / 10;
    classes[i] = Math.floor(rnd() * 3);
  }
  return {boxes, scores, classes};
}

describe('nms against torchvision', () => {
  for (const c of TV.cases) {
    test(`${c.op}: ${c.name}`, () => {
      const boxes = f32(c.boxes_xyxy), scores = Float32Array.from(c.scores);
      // Same set; order score descending with ties by lower index. torchvision.ops.nms sorts stably
      // (its lists already are in this order); batched_nms merges classes with an unstable sort.
      const want = [...c.keep].sort((i, j) => scores[j] - scores[i] || i - j);
      if (c.op === 'nms') assert.deepEqual(want, c.keep);
      for (const prune of [true, false]) {
        const opts = {threshold: c.iou_threshold, prune};
        const got = c.op === 'nms' ? nms(boxes, scores, opts)
          : batchedNms(boxes, scores, Int32Array.from(c.idxs!), opts);
        assert.deepEqual(Array.from(got), want, `prune ${prune}`);
      }
      if (c.public_batched_nms_keep) {
        // torchvision's coordinate-offset trick (used for small inputs) loses boxes with negative coordinates.
        assert.notDeepEqual([...c.public_batched_nms_keep].sort(), [...c.keep].sort());
      }
    });
  }

  test('reference/torchvision_nms_float16_boxes.json', (t) => {
    const p = sharedPath('reference/torchvision_nms_float16_boxes.json');
    if (!p) return t.skip(sharedMissing('reference'));
    const ref = readJsonFile<{boxes_xyxy: number[][]; scores: number[]; iou_threshold: number;
      expected_keep: number[]}>(p);
    assert.deepEqual(keepOf(ref.boxes_xyxy, ref.scores, {threshold: ref.iou_threshold}), ref.expected_keep);
  });
});

describe('nms cases from ../shared/cases', () => {
  const load = (id: string) => {
    const p = sharedPath(`cases/${id}.json`);
    return p ? readJsonFile<{input: Record<string, any>; expected: Record<string, any>}>(p) : undefined;
  };

  test('K17: a reversed box is rejected at the boundary, naming it', (t) => {
    const k = load('K17');
    if (!k) return t.skip(sharedMissing('cases'));
    assert.throws(() => keepOf(k.input.boxes, k.input.scores, {threshold: k.input.iou_threshold}),
      (e: unknown) => e instanceof UserError && e.code === 'E_BOX_REVERSED' && e.record === 'box 1');
    // Canonicalised by the caller, the twin is suppressed (expected nms_keep).
    const fixed = [k.input.boxes[0], [0, 0, 10, 10]];
    assert.deepEqual(keepOf(fixed, k.input.scores, {threshold: k.input.iou_threshold}), k.expected.nms_keep);
  });

  test('K18: diagonal boxes do not suppress each other', (t) => {
    const k = load('K18');
    if (!k) return t.skip(sharedMissing('cases'));
    assert.deepEqual(keepOf([k.input.a, k.input.b], k.input.scores, {threshold: k.input.iou_threshold}),
      k.expected.nms_keep_a_b);
  });

  test('K19: zero-width boxes are kept (IoU 0); the inverted box of the torchvision pair is rejected', (t) => {
    const k = load('K19');
    if (!k) return t.skip(sharedMissing('cases'));
    const zw = k.input.zero_width_box_xyxy;
    assert.deepEqual(keepOf([zw, zw], [0.9, 0.8], {threshold: k.input.iou_threshold}), [0, 1]);
    assert.throws(() => keepOf(k.input.nms_boxes, k.input.scores, {threshold: k.input.iou_threshold}),
      (e: unknown) => e instanceof UserError && e.record === 'box 1');
  });

  test('K20: strict >, threshold 0, tied scores decided by index', (t) => {
    const k = load('K20');
    if (!k) return t.skip(sharedMissing('cases'));
    const tf = k.input.tf_case;
    // yxyx boxes given consistently: IoU does not change when both axes are swapped for every box.
    assert.deepEqual(keepOf(tf.boxes_yxyx, tf.scores, {threshold: tf.iou_threshold}), k.expected.tf_case_keep);
    const tv = k.input.torchvision_case;
    assert.deepEqual(keepOf(tv.boxes_xyxy, tv.scores, {threshold: 0}), k.expected.torchvision_keep_thr_0);
    assert.deepEqual(keepOf(tv.boxes_xyxy, tv.scores, {threshold: 0.1}), k.expected['torchvision_keep_thr_0.1']);
  });

  test('K22: distinct indices, at most N, zero-area boxes kept', (t) => {
    const k = load('K22');
    if (!k) return t.skip(sharedMissing('cases'));
    for (const [name, want] of [['line_box', 'line_box_keep'], ['zero_boxes', 'zero_boxes_keep']]) {
      const c = k.input[name];
      const got = keepOf(c.boxes_yxyx, c.scores, {threshold: c.iou_threshold, maxDets: c.max_output});
      assert.deepEqual(got, k.expected[want], name);
      assert.equal(new Set(got).size, got.length);
    }
  });

  test('K23: NaN and infinite scores are dropped and counted; NaN coordinates are rejected', (t) => {
    const k = load('K23');
    if (!k) return t.skip(sharedMissing('cases'));
    const boxes = f32(k.input.boxes);
    const num = (v: number | string) => Number(v);
    const nan = nmsDetailed(boxes, Float32Array.from(k.input.scores_nan_first.map(num)), null, {threshold: 0.5});
    assert.deepEqual([Array.from(nan.keep), nan.nonFinite], [k.expected.nan_score_keep_if_dropped, 1]);
    // Policy (issue 3): every non-finite score is dropped, +Infinity included, so box 1 survives
    // where the case's optional "+Inf may sort first" would keep box 0.
    const inf = nmsDetailed(boxes, Float32Array.from(k.input.scores_inf_first.map(num)), null, {threshold: 0.5});
    assert.deepEqual([Array.from(inf.keep), inf.nonFinite], [[1, 2], 1]);
    const nanBoxes = Float32Array.from(k.input.nan_coord_boxes.flat().map(num));
    assert.throws(() => nms(nanBoxes, Float32Array.from(k.input.nan_coord_scores), {threshold: 0.5}),
      (e: unknown) => e instanceof UserError && e.code === 'E_BOX_NONFINITE' && e.record === 'box 1');
  });

  test('K32: boxes with negative coordinates that do not overlap are both kept', (t) => {
    const k = load('K32');
    if (!k) return t.skip(sharedMissing('cases'));
    assert.deepEqual(keepOf(k.input.tfjs_report_boxes, [0.9, 0.8], {threshold: 0.3}),
      k.expected['tfjs_report_keep_thr_0.3']);
    const {A_xyxy: a, B_xyxy: b} = k.input.consistency;
    // IoU 0.9: suppressed at 0.89, kept at 0.9 (strict >).
    assert.deepEqual(keepOf([a, b], [0.9, 0.8], {threshold: 0.89}), [0]);
    assert.deepEqual(keepOf([a, b], [0.9, 0.8], {threshold: 0.9}), [0, 1]);
  });
});

describe('nms semantics', () => {
  test('NWD-NMS equals the textbook greedy loop with float32 NWD; IoU-family too', () => {
    for (let seed = 1; seed <= 12; seed++) {
      const {boxes, scores} = clustered(250, seed);
      for (const [metric, t] of [['nwd', 0.85], ['nwd', 0.6], ['iou', 0.5], ['giou', 0.2], ['diou', 0.3]] as const) {
        const want = greedyReference(boxes, scores, metric, Math.fround(t));
        assert.deepEqual(Array.from(nms(boxes, scores, {metric, threshold: t})), want, `${metric} ${t} seed ${seed}`);
      }
    }
  });

  test('property: pruned and plain paths agree on random boxes, ties and duplicates, every option', () => {
    const box = fc.tuple(fc.integer({min: -60, max: 200}), fc.integer({min: -60, max: 200}),
      fc.integer({min: 0, max: 40}), fc.integer({min: 0, max: 40}), fc.integer({min: 0, max: 5}),
      fc.integer({min: 0, max: 2}))
      .map(([x, y, w, h, s, c]) => ({b: [x / 2, y / 2, (x + w) / 2, (y + h) / 2], s: s / 5, c}));
    const opt = fc.record({
      metric: fc.constantFrom<NmsMetric>('iou', 'giou', 'diou', 'nwd'),
      threshold: fc.constantFrom(0, 0.3, 0.5, 0.85, 1),
      soft: fc.constantFrom<undefined | 'linear' | 'gaussian'>(undefined, 'linear', 'gaussian'),
      scoreThreshold: fc.constantFrom(undefined, 0.2),
      maxDets: fc.constantFrom(undefined, 3),
      agnostic: fc.boolean(),
    });
    fc.assert(fc.property(fc.array(box, {maxLength: 80}), fc.integer({min: 0, max: 79}), opt, (items, dupOf, o) => {
      if (items.length > 1) items.push({...items[dupOf % items.length]});
      const boxes = Float32Array.from(items.flatMap((i) => i.b)), scores = Float32Array.from(items.map((i) => i.s));
      const classes = o.agnostic ? null : Int32Array.from(items.map((i) => i.c));
      const base: NmsOptions = {metric: o.metric, threshold: o.threshold, scoreThreshold: o.scoreThreshold,
        maxDets: o.maxDets};
      if (o.soft) base.soft = o.soft;
      const fast = nmsDetailed(boxes, scores, classes, {...base, prune: true});
      const plain = nmsDetailed(boxes, scores, classes, {...base, prune: false});
      assert.deepEqual(Array.from(fast.keep), Array.from(plain.keep));
      assert.deepEqual(Array.from(fast.scores), Array.from(plain.scores));
      assert.equal(new Set(fast.keep).size, fast.keep.length);
    }), {seed: 3, numRuns: 400});
  });

  test('pruned equals plain on 3000 clustered boxes (the grids run)', () => {
    const {boxes, scores, classes} = clustered(3000, 99, 1000);
    const paths = new Set<string>();
    for (const metric of ['iou', 'giou', 'diou', 'nwd'] as const) {
      for (const soft of [undefined, 'linear', 'gaussian'] as const) {
        const opts: NmsOptions = {metric, threshold: metric === 'nwd' ? 0.85 : 0.5, ...(soft ? {soft} : {})};
        for (const cls of [null, classes]) {
          const fast = nmsDetailed(boxes, scores, cls, opts);
          const plain = nmsDetailed(boxes, scores, cls, {...opts, prune: false});
          assert.deepEqual(Array.from(fast.keep), Array.from(plain.keep), `${metric} ${soft}`);
          assert.deepEqual(Array.from(fast.scores), Array.from(plain.scores), `${metric} ${soft}`);
          paths.add(fast.path);
          assert.equal(plain.path, 'plain');
        }
      }
    }
    assert.deepEqual([...paths].sort(), ['centre-grid', 'overlap-grid']);
  });

  test('class-wise: classes never suppress each other; merged by score; maxDets caps the merge', () => {
    const b = f32([[0, 0, 10, 10], [0, 0, 10, 10], [1, 0, 11, 10], [100, 100, 110, 110]]);
    const s = Float32Array.of(0.5, 0.9, 0.7, 0.6);
    assert.deepEqual(Array.from(batchedNms(b, s, Int32Array.of(1, 2, 1, 2))), [1, 2, 3]);
    assert.deepEqual(Array.from(batchedNms(b, s, Int32Array.of(1, 2, 1, 2), {maxDets: 2})), [1, 2]);
    assert.deepEqual(Array.from(nms(b, s)), [1, 3]);
    // Negative class ids and coordinates are fine.
    const neg = f32([[-50, -50, -40, -40], [-50, -50, -40, -40]]);
    assert.deepEqual(Array.from(batchedNms(neg, Float32Array.of(0.4, 0.5), Int32Array.of(-3, 7))), [1, 0]);
  });

  test('soft-NMS: linear and Gaussian decay, score threshold, order by decayed score', () => {
    const b = f32([[0, 0, 10, 10], [0, 0, 10, 5], [50, 50, 60, 60]]);
    const s = Float32Array.of(0.9, 0.8, 0.7);
    const lin = nmsDetailed(b, s, null, {soft: 'linear', threshold: 0.3});
    assert.deepEqual(Array.from(lin.keep), [0, 2, 1]);
    assert.deepEqual(Array.from(lin.scores), [Math.fround(0.9), Math.fround(0.7), Math.fround(Math.fround(0.8) * 0.5)]);
    const gau = nmsDetailed(b, s, null, {soft: 'gaussian', sigma: 0.5});
    assert.ok(Math.abs(gau.scores[2] - 0.8 * Math.exp(-0.25 / 0.5)) < 1e-6);
    assert.deepEqual(Array.from(nms(b, s, {soft: 'linear', threshold: 0.5})), [0, 1, 2], 'IoU 0.5 is not > 0.5');
    assert.deepEqual(Array.from(nms(b, s, {soft: 'linear', threshold: 0.3, scoreThreshold: 0.5})), [0, 2]);
    assert.throws(() => nms(b, Float32Array.of(0.9, -0.1, 0.3), {soft: 'linear'}),
      (e: unknown) => e instanceof UserError && e.code === 'E_SCORE_NEGATIVE' && e.record === 'detection 1');
  });

  test('thresholds apply exactly to float32 overlaps (no rounding of the threshold)', () => {
    // IoU of these boxes is the float32 nearest 0.3 (0.30000001192...), which is > 0.3: suppressed,
    // as torchvision compares the float IoU with a double threshold.
    const b = f32([[0, 0, 10, 10], [0, 0, 10, 3]]);
    assert.equal(pairF32('iou', b.subarray(0, 4), b.subarray(4)), Math.fround(0.3));
    assert.deepEqual(keepOf([[0, 0, 10, 10], [0, 0, 10, 3]], [0.9, 0.8], {threshold: 0.3}), [0]);
    assert.equal(float32Toward(0.3, false) < 0.3 && float32Toward(0.3, false) === Math.fround(0.29999998), true);
    assert.equal(float32Toward(0.7, true), Math.fround(0.70000005));
    assert.equal(float32Toward(0.5, true), 0.5);
    // Scores at the threshold are kept; below it dropped.
    assert.deepEqual(keepOf([[0, 0, 1, 1], [5, 5, 6, 6]], [0.3, 0.2], {scoreThreshold: 0.3}), [0]);
  });

  test('empty input, single box, all suppressed; options validated key by key', () => {
    assert.deepEqual(Array.from(nms(new Float32Array(0), new Float32Array(0))), []);
    assert.deepEqual(Array.from(nms(f32([[1, 1, 2, 2]]), Float32Array.of(0.1), {metric: 'nwd'})), [0]);
    const same = f32([[1, 1, 5, 5], [1, 1, 5, 5], [1, 1, 5, 5]]);
    assert.deepEqual(Array.from(nms(same, Float32Array.of(0.2, 0.2, 0.2))), [0]);
    const b = f32([[0, 0, 1, 1]]), s = Float32Array.of(1);
    assert.throws(() => nms(b, s, {bogus: 1} as NmsOptions), /unknown NMS option "bogus"/);
    assert.throws(() => nms(b, s, {threshold: 1.5}), /threshold must be in \[0, 1\] for iou/);
    assert.throws(() => nms(b, s, {metric: 'giou', threshold: -1.5}), /\[-1, 1\]/);
    assert.throws(() => nms(b, s, {metric: 'ciou' as NmsMetric}), /metric must be one of/);
    assert.throws(() => nms(b, s, {sigma: 0.3}), /sigma only applies/);
    assert.throws(() => nms(b, s, {soft: 'gaussian', sigma: 0}), /sigma must be > 0/);
    assert.throws(() => nms(b, s, {maxDets: 0}), /positive integer/);
    assert.deepEqual(Array.from(nms(b, s, {c: 8})), [0], 'c is accepted (and unused) with IoU');
    assert.throws(() => nms(b, s, {c: -1}), /C must be a positive number/);
    assert.throws(() => nms(b, s, {threshold: NaN}), /finite/);
    assert.throws(() => nms(f32([[0, 0, 1, 1]]), Float32Array.of(1, 2)), /expected 4 \* 2/);
    assert.throws(() => batchedNms(b, s, Int32Array.of(1, 2)), /classes has length 2/);
    assert.deepEqual(Array.from(nms(b, s, {metric: 'giou', threshold: -0.5})), [0]);
  });
});
