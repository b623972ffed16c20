import {test, describe} from 'node:test';
import assert from 'node:assert/strict';
import {
  assignMaxOverlap, assignRka, assignAtss, samplePositiveFraction, type AssignMetric,
} from '../../src/bindings/assign.js';
import {pairwise} from '../../src/bindings/similarity.js';
import {generateAnchors, parseAnchorLayout, DEFAULT_ANCHOR_LAYOUT} from '../../src/detector/anchors.js';
import {positivesPerGt, sizeBin, type PositivesImage, type PositivesOptions} from '../../src/assign/positives.js';
import {Rng} from '../../src/util/rng.js';
import {readJsonFile, ROOT} from '../helpers.js';

// Plain references, written from the descriptions (mmdet's steps), on the full overlap matrix
// from `pairwise` (the same float32 values the assigners compute, so ties compare exactly).

const f = Math.fround;

function overlaps(metric: AssignMetric, anchors: Float32Array, gts: Float32Array, c = 12.8): number[][] {
  const g = gts.length / 4, flat = pairwise(metric, anchors, gts, {c});
  return Array.from({length: anchors.length / 4}, (_, i) => Array.from(flat.subarray(i * g, (i + 1) * g)));
}

function refMaxOverlap(ov: number[][], g: number, pos = 0.7, neg = 0.3, minPos = 0.3, lowQuality = true): number[] {
  if (g === 0) return ov.map(() => 0);
  const labels = ov.map((row) => {
    let j = 0;
    for (let k = 1; k < g; k++) if (row[k] > row[j]) j = k;
    // Thresholds compare in float32, like the float32 overlaps (and torch's float32 tensors).
    return row[j] >= f(pos) ? j + 1 : row[j] < f(neg) ? 0 : -1;
  });
  if (lowQuality) {
    for (let j = 0; j < g; j++) {
      const best = Math.max(...ov.map((r) => r[j]));
      if (best >= f(minPos)) ov.forEach((r, i) => { if (r[j] === best) labels[i] = j + 1; });
    }
  }
  return labels;
}

function refRka(ov: number[][], g: number, k: number, neg = 0.3): number[] {
  if (g === 0) return ov.map(() => 0);
  const labels: number[] = ov.map((row) => (Math.max(...row) < f(neg) ? 0 : -1));
  for (let j = 0; j < g; j++) {
    const col = ov.map((r) => r[j]).sort((a, b) => b - a);
    const kth = col[Math.min(k, col.length) - 1];
    ov.forEach((r, i) => { if (r[j] >= kth && r[j] > 0) labels[i] = j + 1; });
  }
  return labels;
}


function refAtss(ov: number[][], anchors: Float32Array, levels: number[], gts: Float32Array, k: number): number[] {
  const g = gts.length / 4;
  const centre = (b: Float32Array, i: number) =>
    [f(f(b[4 * i] + b[4 * i + 2]) * 0.5), f(f(b[4 * i + 1] + b[4 * i + 3]) * 0.5)];
  const best: Array<[number, number] | undefined> = ov.map(() => undefined);
  for (let j = 0; j < g; j++) {
    const [gx, gy] = centre(gts, j);
    const cand: number[] = [];
    let first = 0;
    for (const n of levels) {
      const d = (i: number) => {
        const [ax, ay] = centre(anchors, i);
        const dx = f(ax - gx), dy = f(ay - gy);
        return f(f(dx * dx) + f(dy * dy));
      };
      const idx = Array.from({length: n}, (_, t) => first + t).sort((a, b) => d(a) - d(b) || a - b);
      cand.push(...idx.slice(0, k));
      first += n;
    }
    const v = cand.map((i) => ov[i][j]);
    const mean = v.reduce((a, b) => a + b, 0) / v.length;
    const std = v.length < 2 ? 0 : Math.sqrt(v.reduce((a, b) => a + (b - mean) * (b - mean), 0) / (v.length - 1));
    cand.forEach((i, t) => {
      const [cx, cy] = centre(anchors, i);
      const margin = Math.min(f(cx - gts[4 * j]), f(cy - gts[4 * j + 1]), f(gts[4 * j + 2] - cx),
        f(gts[4 * j + 3] - cy));
      const inside = margin > f(0.01);
      const b = best[i];
      if (inside && v[t] >= mean + std && (!b || v[t] > b[0])) best[i] = [v[t], j];
    });
  }
  return best.map((b) => (b ? b[1] + 1 : 0));
}

/** Random xyxy boxes; `grid` snaps to 2 px so equal overlaps (ties) are common. */
function boxes(n: number, rnd: () => number, span: number, size: number, grid: boolean): Float32Array {
  const q = (x: number) => (grid ? Math.round(x / 2) * 2 : x);
  const out = new Float32Array(4 * n);
  for (let i = 0; i < n; i++) {
    const x = q(rnd() * span), y = q(rnd() * span), w = q(1 + rnd() * size), h = q(1 + rnd() * size);
    out.set([x, y, x + w, y + h], 4 * i);
  }
  return out;
}

const count = (labels: Int32Array, v: number) => labels.reduce((a, l) => a + (l === v ? 1 : 0), 0);

describe('assigners against plain references', () => {
  // 6912 anchors (more than one 4096-anchor block in nwd-core) on a 128x128 image.
  const anchors = generateAnchors(DEFAULT_ANCHOR_LAYOUT, 128, 128);

  for (const metric of ['iou', 'nwd'] as const) {
    test(`max-overlap (${metric}), random GTs with ties, default and loose thresholds, no low-quality`, () => {
      const rng = new Rng(1);
      let positives = 0;
      for (let round = 0; round < 6; round++) {
        const gts = boxes(1 + round * 7, () => rng.next(), 120, round % 2 ? 6 : 30, round % 2 === 0);
        const ov = overlaps(metric, anchors.xyxy, gts);
        const settings = [[0.7, 0.3, 0.3, true], [0.5, 0.4, 0, true], [0.7, 0.3, 0.3, false]] as const;
        for (const [pos, neg, minPos, lq] of settings) {
          const got = assignMaxOverlap(anchors.xyxy, gts, {metric, posThr: pos, negThr: neg, minPos, lowQuality: lq});
          const want = refMaxOverlap(ov, gts.length / 4, pos, neg, minPos, lq);
          assert.deepEqual(Array.from(got.labels), want, `round ${round}`);
          got.labels.forEach((l, i) => {
            const want = l > 0 ? ov[i][l - 1] : Math.max(...ov[i]);
            assert.equal(got.maxOverlap[i], f(want), `maxOverlap of anchor ${i}`);
          });
          positives += got.labels.filter((l) => l > 0).length;
        }
      }
      assert.ok(positives > 100, `the random cases produce positives (${positives})`);
    });

    test(`RKA (${metric}) top-1, 3 and 9`, () => {
      const rng = new Rng(2);
      for (let round = 0; round < 4; round++) {
        const gts = boxes(1 + round * 9, () => rng.next(), 120, 12, round % 2 === 0);
        const ov = overlaps(metric, anchors.xyxy, gts);
        for (const k of [1, 3, 9]) {
          const got = assignRka(anchors.xyxy, gts, {metric, topk: k});
          assert.deepEqual(Array.from(got.labels), refRka(ov, gts.length / 4, k), `round ${round} k ${k}`);
        }
      }
    });

    test(`ATSS (${metric}) over two levels`, () => {
      const rng = new Rng(3);
      let positives = 0;
      for (let round = 0; round < 4; round++) {
        const gts = boxes(1 + round * 9, () => rng.next(), 120, round % 2 ? 8 : 40, round % 2 === 0);
        const ov = overlaps(metric, anchors.xyxy, gts);
        for (const k of [9, 2]) {
          const got = assignAtss(anchors.xyxy, anchors.levelCounts, gts, {metric, topk: k});
          const want = refAtss(ov, anchors.xyxy, anchors.levelCounts, gts, k);
          assert.deepEqual(Array.from(got.labels), want, `round ${round}`);
          positives += got.labels.filter((l) => l > 0).length;
        }
      }
      assert.ok(positives > 20, `the random cases produce positives (${positives})`);
    });
  }
});

interface TorchReference {
  image: [number, number];
  anchorCount: number;
  levelCounts: number[];
  firstAnchors: number[];
  lastAnchors: number[];
  cases: Array<{name: string; gtXyxy: number[]} & Record<string, string>>;
}

describe('assigners against a float32 torch reference (test/fixtures/assign)', () => {
  const ref = readJsonFile<TorchReference>(`${ROOT}/test/fixtures/assign/torch_reference.json`);
  const anchors = generateAnchors(DEFAULT_ANCHOR_LAYOUT, ...ref.image);
  const decode = (s: string) => Array.from(s, (ch) => (ch === '-' ? -1 : ch === '.' ? 0 : ch.charCodeAt(0) - 64));

  test('the default layout gives the same anchors', () => {
    assert.equal(anchors.xyxy.length / 4, ref.anchorCount);
    assert.deepEqual(anchors.levelCounts, ref.levelCounts);
    assert.deepEqual(Array.from(anchors.xyxy.subarray(0, 24)), ref.firstAnchors);
    assert.deepEqual(Array.from(anchors.xyxy.subarray(anchors.xyxy.length - 12)), ref.lastAnchors);
  });

  for (const c of ref.cases) {
    test(`${c.name}: max-overlap iou/nwd, RKA nwd, ATSS iou/nwd`, () => {
      const gts = Float32Array.from(c.gtXyxy);
      const a = anchors.xyxy;
      const got: Record<string, Int32Array> = {
        max_iou: assignMaxOverlap(a, gts, {metric: 'iou'}).labels,
        max_nwd: assignMaxOverlap(a, gts, {metric: 'nwd'}).labels,
        rka_nwd: assignRka(a, gts, {metric: 'nwd'}).labels,
        atss_iou: assignAtss(a, anchors.levelCounts, gts, {metric: 'iou'}).labels,
        atss_nwd: assignAtss(a, anchors.levelCounts, gts, {metric: 'nwd'}).labels,
      };
      for (const [key, labels] of Object.entries(got)) {
        const want = decode(c[key]);
        assert.ok(want.some((l) => l > 0), `${c.name} ${key}: the case has positives`);
        assert.deepEqual(Array.from(labels), want, `${c.name} ${key}`);
      }
    });
  }
});

describe('assigners: hand cases', () => {
  // Three 8x8 anchors along x (centres (4,4), (8,4), (12,4)).
  const row = Float32Array.of(0, 0, 8, 8, 4, 0, 12, 8, 8, 0, 16, 8);

  test('a 2x2 GT at an anchor centre: IoU 0.0625 gives nothing, NWD 0.718 (C 12.8) gives a positive', () => {
    const gt = Float32Array.of(3, 3, 5, 5);
    const iou = assignMaxOverlap(row, gt, {metric: 'iou'});
    assert.deepEqual(Array.from(iou.labels), [0, 0, 0]);
    assert.ok(Math.abs(iou.maxOverlap[0] - 0.0625) < 1e-7);
    const nwd = assignMaxOverlap(row, gt, {metric: 'nwd'});
    assert.equal(nwd.labels[0], 1);
    assert.ok(Math.abs(nwd.maxOverlap[0] - Math.exp(-Math.sqrt(18) / 12.8)) < 1e-6);
    // With a smaller C the same pair falls below 0.7 but stays a low-quality match (>= 0.3).
    const small = assignMaxOverlap(row, gt, {metric: 'nwd', c: 8, lowQuality: false});
    assert.equal(small.labels[0], -1);
    assert.equal(assignMaxOverlap(row, gt, {metric: 'nwd', c: 8}).labels[0], 1);
  });

  test('low-quality rule: best IoU 0.5 is taken when >= minPos, ignored when below; ties all taken', () => {
    const gt = Float32Array.of(0, 0, 8, 4);
    assert.deepEqual(Array.from(assignMaxOverlap(row, gt, {metric: 'iou'}).labels), [1, 0, 0]);
    assert.deepEqual(Array.from(assignMaxOverlap(row, gt, {metric: 'iou', minPos: 0.6}).labels), [-1, 0, 0]);
    assert.deepEqual(Array.from(assignMaxOverlap(row, gt, {metric: 'iou', lowQuality: false}).labels), [-1, 0, 0]);
    assert.deepEqual(Array.from(assignMaxOverlap(row, Float32Array.of(4, 0, 8, 8), {metric: 'iou'}).labels), [1, 1, 0]);
    // Two GTs with the same best anchor: the later GT keeps it.
    const two = Float32Array.of(0, 0, 8, 4, 0, 4, 8, 8);
    assert.deepEqual(Array.from(assignMaxOverlap(row, two, {metric: 'iou'}).labels), [2, 0, 0]);
  });

  test('empty GT: all negative; empty anchors: empty result', () => {
    for (const r of [assignMaxOverlap(row, new Float32Array(0), {metric: 'nwd'}), assignRka(row, new Float32Array(0),
      {metric: 'nwd'}), assignAtss(row, [3], new Float32Array(0), {metric: 'iou'})]) {
      assert.deepEqual(Array.from(r.labels), [0, 0, 0]);
      assert.deepEqual(Array.from(r.maxOverlap), [0, 0, 0]);
    }
    const gt = Float32Array.of(0, 0, 8, 8);
    assert.equal(assignMaxOverlap(new Float32Array(0), gt, {metric: 'iou'}).labels.length, 0);
    assert.equal(assignRka(new Float32Array(0), gt, {metric: 'nwd'}).labels.length, 0);
    assert.equal(assignAtss(new Float32Array(0), [0, 0], gt, {metric: 'nwd'}).labels.length, 0);
  });

  test('RKA: ties included (four anchors around a GT all take top-1), far anchors negative, between ignored', () => {
    const quad = Float32Array.of(0, 0, 8, 8, 4, 0, 12, 8, 0, 4, 8, 12, 4, 4, 12, 12, 40, 40, 48, 48, 12, 12, 20, 20);
    const r = assignRka(quad, Float32Array.of(5, 5, 7, 7), {metric: 'nwd', topk: 1});
    // NWD of the last anchor: W2 = sqrt(8^2 + 8^2 + 18) -> exp(-12.1/12.8) = 0.389: not < 0.3, so ignored.
    assert.deepEqual(Array.from(r.labels), [1, 1, 1, 1, 0, -1]);
  });

  test('ATSS: mean + std threshold picks the centred anchor; tiny GT without an anchor centre gets none', () => {
    const gt = Float32Array.of(4, 0, 12, 8);
    const r = assignAtss(row, [3], gt, {metric: 'iou', topk: 3});
    assert.deepEqual(Array.from(r.labels), [0, 1, 0]);
    assert.deepEqual(Array.from(assignAtss(row, [3], Float32Array.of(1, 1, 2, 2), {metric: 'nwd'}).labels), [0, 0, 0]);
    // Candidates are per level: levels [1, 2] with k 2 take anchor 0, then 1 and 2: as above.
    assert.deepEqual(Array.from(assignAtss(row, [1, 2], gt, {metric: 'iou', topk: 2}).labels), [0, 1, 0]);
    // With k 1 the candidates are anchors 0 and 1 (1/3 and 1): with two values the sample
    // std (|a - b| / sqrt 2) exceeds half the gap, so neither reaches mean + std.
    assert.deepEqual(Array.from(assignAtss(row, [1, 2], gt, {metric: 'iou', topk: 1}).labels), [0, 0, 0]);
  });

  test('ignored GTs get no anchors and turn nearby negatives into ignored anchors', () => {
    const anchors = Float32Array.of(0, 0, 8, 8, 8, 0, 16, 8, 40, 40, 48, 48, 100, 0, 108, 8);
    const gts = Float32Array.of(0, 0, 16, 8, 40, 40, 48, 48);
    const ignoreMask = Uint8Array.of(1, 0);
    for (const r of [assignMaxOverlap(anchors, gts, {metric: 'iou', ignoreMask}),
      assignRka(anchors, gts, {metric: 'iou', ignoreMask, topk: 1}),
      assignAtss(anchors, [4], gts, {metric: 'iou', ignoreMask})]) {
      assert.deepEqual(Array.from(r.labels), [-1, -1, 2, 0]);
    }
    // A small crowd box inside an anchor: IoF 0.25 and IoU 0.25 keep it negative by default,
    // ignoreIof 0.2 or ignoreOverlap 0.2 make it ignored.
    const tiny = Float32Array.of(2, 2, 6, 6);
    const one = Float32Array.of(0, 0, 8, 8);
    const crowd = Uint8Array.of(1);
    assert.deepEqual(Array.from(assignMaxOverlap(one, tiny, {metric: 'iou', ignoreMask: crowd}).labels), [0]);
    assert.deepEqual(Array.from(assignMaxOverlap(one, tiny, {metric: 'iou', ignoreMask: Uint8Array.of(1),
      ignoreIof: 0.2}).labels), [-1]);
    assert.deepEqual(Array.from(assignMaxOverlap(one, tiny, {metric: 'iou', ignoreMask: Uint8Array.of(1),
      ignoreOverlap: 0.2}).labels), [-1]);
  });

  test('options are validated key by key', () => {
    const gt = Float32Array.of(0, 0, 8, 8);
    assert.throws(() => assignMaxOverlap(row, gt, {metric: 'iou', topk: 3} as never),
      /unknown assignMaxOverlap option "topk"/);
    assert.throws(() => assignRka(row, gt, {metric: 'nwd', posThr: 0.7} as never), /unknown assignRka option "posThr"/);
    assert.throws(() => assignAtss(row, [3], gt, {metric: 'iou', negThr: 0.3} as never), /unknown assignAtss option/);
    assert.throws(() => assignMaxOverlap(row, gt, {metric: 'w2'} as never), /metric must be one of/);
    assert.throws(() => assignMaxOverlap(row, gt, {} as never), /metric must be one of/);
    assert.throws(() => assignMaxOverlap(row, gt, {metric: 'iou', posThr: 1.5}), /posThr/);
    assert.throws(() => assignMaxOverlap(row, gt, {metric: 'iou', posThr: 0.3, negThr: 0.4}), /must not exceed/);
    assert.throws(() => assignMaxOverlap(row, gt, {metric: 'iou', lowQuality: 1 as never}), /boolean/);
    assert.throws(() => assignMaxOverlap(row, gt, {metric: 'nwd', c: 0}), /C must be a positive/);
    assert.throws(() => assignRka(row, gt, {metric: 'nwd', topk: 0}), /topk/);
    assert.throws(() => assignAtss(row, [2], gt, {metric: 'iou'}), /sum to 2 but there are 3/);
    assert.throws(() => assignMaxOverlap(row, gt, {metric: 'iou', ignoreMask: new Uint8Array(2)}), /ignoreMask/);
    assert.throws(() => assignMaxOverlap(row.subarray(0, 5), gt, {metric: 'iou'}), /4 numbers per box/);
  });
});

describe('positive-fraction sampler', () => {
  const labels = Int32Array.from({length: 1000}, (_, i) => (i % 10 === 0 ? 1 + (i % 3) : i % 10 === 1 ? -1 : 0));

  test('at most num * posFraction positives, negatives fill up to num, the rest ignored', () => {
    const rng = new Rng(9);
    const s = samplePositiveFraction(labels, 256, 0.25, () => rng.next());
    assert.equal(s.posIndices.length, 64);
    assert.equal(s.negIndices.length, 192);
    assert.equal(count(s.labels, -1), 1000 - 256);
    for (const i of s.posIndices) assert.equal(s.labels[i], labels[i]);
    for (const i of s.negIndices) assert.equal(labels[i], 0);
    assert.deepEqual(Array.from(s.posIndices), Array.from(s.posIndices).sort((a, b) => a - b));
  });

  test('few positives: all taken, negatives fill the rest; deterministic with a seed', () => {
    const few = new Int32Array(100);
    few[3] = 1;
    few[50] = 2;
    const s = samplePositiveFraction(few, 10, 0.5, () => new Rng(1).next());
    assert.deepEqual(Array.from(s.posIndices), [3, 50]);
    assert.equal(s.negIndices.length, 8);
    const a = new Rng(4), b = new Rng(4), c = new Rng(5);
    const x = samplePositiveFraction(labels, 64, 0.5, () => a.next());
    assert.deepEqual(samplePositiveFraction(labels, 64, 0.5, () => b.next()), x);
    assert.notDeepEqual(samplePositiveFraction(labels, 64, 0.5, () => c.next()).negIndices, x.negIndices);
    assert.throws(() => samplePositiveFraction(labels, 10, 1.5, Math.random), /posFraction/);
  });
});

describe('positives per GT', () => {
  test('AI-TOD bins on w*h', () => {
    assert.deepEqual([1, 63.9, 64, 255, 256, 1023, 1024].map(sizeBin),
      ['verytiny', 'verytiny', 'tiny', 'tiny', 'small', 'small', 'medium']);
  });

  // One level of 8x8 anchors at stride 4 on a 16x16 image (centres 2, 6, 10, 14). GTs (xywh):
  // A 2x2 at (6,6), B 8x8 exactly on the anchor at (10,10), C 1x1 at (0.5,0.5).
  const layout = parseAnchorLayout('4:8@1');
  const images: PositivesImage[] = [
    {width: 16, height: 16, boxesXywh: Float32Array.of(5, 5, 2, 2, 6, 6, 8, 8, 0, 0, 1, 1)},
    {width: 16, height: 16, boxesXywh: new Float32Array(0)},
  ];

  test('hand-computed counts: IoU 0/1/0, NWD 1/5/1, RKA 1/5/3, ATSS-IoU 1/1/0 for A/B/C', () => {
    // IoU: A 0.0625 and C 1/64 are below min-pos; B has IoU 1 with one anchor (neighbours 1/3).
    const iou = positivesPerGt(images, {layout, assigner: 'iou'}).perBin;
    assert.deepEqual(iou.verytiny, {gts: 2, positives: 0, meanPositives: 0, zeroShare: 1});
    assert.deepEqual(iou.tiny, {gts: 1, positives: 1, meanPositives: 1, zeroShare: 0});
    assert.deepEqual(iou.all, {gts: 3, positives: 1, meanPositives: 1 / 3, zeroShare: 2 / 3});
    assert.deepEqual(iou.small, {gts: 0, positives: 0, meanPositives: 0, zeroShare: 0});
    // NWD (C 12.8): A's centred anchor 0.718; B's own anchor 1 and its 4 neighbours
    // exp(-4/12.8) = 0.732; C's nearest anchor 0.657 is a low-quality match.
    const nwd = positivesPerGt(images, {layout, assigner: 'nwd'}).perBin;
    assert.deepEqual(nwd.verytiny, {gts: 2, positives: 2, meanPositives: 1, zeroShare: 0});
    assert.deepEqual(nwd.tiny, {gts: 1, positives: 5, meanPositives: 5, zeroShare: 0});
    assert.deepEqual(nwd.all.positives, 7);
    // RKA top-3 (ties included): A takes its anchor and 4 tied neighbours, B (later) takes two
    // of those back, C (later still) the other two -> A 1, B 5, C 3.
    const rka = positivesPerGt(images, {layout, assigner: 'rka'}).perBin;
    assert.deepEqual([rka.verytiny.positives, rka.tiny.positives], [4, 5]);
    // ATSS-IoU: A and B contain an anchor centre that passes mean + std; C contains none.
    const atss = positivesPerGt(images, {layout, assigner: 'atss-iou'}).perBin;
    assert.deepEqual([atss.verytiny.positives, atss.verytiny.zeroShare, atss.tiny.positives], [1, 0.5, 1]);
  });

  test('ignored GTs are not counted', () => {
    const withIgnore = [{...images[0], ignore: Uint8Array.of(0, 1, 0)}];
    const r = positivesPerGt(withIgnore, {layout, assigner: 'nwd'}).perBin;
    assert.equal(r.tiny.gts, 0);
    assert.equal(r.all.gts, 2);
  });

  test('on synthetic tiny objects NWD gives more positives per GT than IoU, fewer GTs without any', () => {
    const rng = new Rng(21);
    const synth: PositivesImage[] = Array.from({length: 8}, () => {
      const n = 30, b = new Float32Array(4 * n);
      for (let i = 0; i < n; i++) {
        const w = 2 + rng.next() * 14, h = 2 + rng.next() * 14;
        b.set([rng.next() * (128 - w), rng.next() * (128 - h), w, h], 4 * i);
      }
      return {width: 128, height: 128, boxesXywh: b};
    });
    let done = 0;
    const iou = positivesPerGt(synth, {assigner: 'iou', c: 8.8, onProgress: (d) => { done = d; }}).perBin;
    const nwd = positivesPerGt(synth, {assigner: 'nwd', c: 8.8}).perBin;
    assert.equal(done, 8);
    assert.equal(iou.all.gts, 240);
    assert.ok(nwd.all.meanPositives > iou.all.meanPositives,
      `NWD ${nwd.all.meanPositives} vs IoU ${iou.all.meanPositives} positives per GT`);
    assert.ok(nwd.verytiny.meanPositives > iou.verytiny.meanPositives);
    assert.ok(nwd.verytiny.zeroShare < iou.verytiny.zeroShare);
  });

  test('counts are the same with the anchor windows as with every anchor, for every assigner', () => {
    const rng = new Rng(33);
    const scenes: PositivesImage[] = Array.from({length: 6}, (_, n) => {
      const width = 96 + 13 * n, height = 80 + 7 * n, count = 4 + 5 * n, b = new Float32Array(4 * count);
      for (let i = 0; i < count; i++) {
        // Mostly tiny boxes, some large (up to 70 px), some touching or crossing the border.
        const big = rng.next() < 0.15;
        const w = (big ? 20 + 50 * rng.next() : 1 + 15 * rng.next()) * (rng.next() < 0.1 ? 0 : 1);
        const h = big ? 20 + 50 * rng.next() : 1 + 15 * rng.next();
        b.set([rng.next() * width - 4, rng.next() * height - 4, w, h], 4 * i);
      }
      return {width, height, boxesXywh: b, ignore: Uint8Array.from({length: count}, () => (rng.next() < 0.1 ? 1 : 0))};
    });
    const maxSettings: Array<Partial<PositivesOptions>> = [{}, {c: 6}, {c: 20, nwdForm: 'reference'}, {negThr: 0.2},
      {minPos: 0.1}, {lowQuality: false}, {posThr: 0.5, negThr: 0.4, minPos: 0.45}];
    const rankSettings: Array<Partial<PositivesOptions>> = [{}, {topk: 1}, {topk: 20}, {c: 5, topk: 2}];
    for (const assigner of ['iou', 'nwd', 'rka', 'atss-iou', 'atss-nwd'] as const) {
      for (const extra of assigner === 'iou' || assigner === 'nwd' ? maxSettings : rankSettings) {
        if (assigner.endsWith('iou') && (extra.c || extra.nwdForm)) continue;
        const opts = {assigner, ...extra};
        const fast = positivesPerGt(scenes, opts), full = positivesPerGt(scenes, {...opts, window: false});
        assert.deepEqual(fast.perBin, full.perBin, `${assigner} ${JSON.stringify(extra)}`);
        assert.ok(full.perBin.all.positives > 0 || (assigner.startsWith('atss') && extra.topk === 1),
          `${assigner} ${JSON.stringify(extra)} has positives`);
      }
    }
  });

  test('options are validated', () => {
    assert.throws(() => positivesPerGt(images, {assigner: 'iou', window: 1} as never), /window must be a boolean/);
    assert.throws(() => positivesPerGt(images, {assigner: 'giou'} as never), /assigner must be one of/);
    assert.throws(() => positivesPerGt(images, {assigner: 'iou', extra: 1} as never), /unknown positivesPerGt option/);
    assert.throws(() => positivesPerGt(images, {assigner: 'atss-nwd', posThr: 0.5}), /only apply/);
    assert.throws(() => positivesPerGt(images, {assigner: 'nwd', topk: 3}), /topk applies/);
  });
});
