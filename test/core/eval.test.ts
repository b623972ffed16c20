import {test, describe} from 'node:test';
import assert from 'node:assert/strict';
import {writeFileSync} from 'node:fs';
import {join} from 'node:path';
import {parseCocoGt, loadCocoGt} from '../../src/formats/coco.js';
import {evaluate, evaluateFile, type EvalOptions, type EvalResult} from '../../src/eval/evaluate.js';
import {IOU_THRS, REC_THRS, statSpecs} from '../../src/eval/protocol.js';
import {pairwiseSum} from '../../src/eval/summary.js';
import {prCurvesSvg} from '../../src/eval/plot.js';
import {lineChart, barChart, grid, niceTicks} from '../../src/report/svg.js';
import {UserError} from '../../src/cli/errors.js';
import type {Detection} from '../../src/formats/results.js';
import {ROOT, sharedPath, sharedMissing, readJsonFile, tempDir} from '../helpers.js';

type Raw = {image_id: number; category_id: number; bbox: number[]; score: number};
const TOL = 1e-12;
const COCO_KEYS = ['AP', 'AP50', 'AP75', 'APs', 'APm', 'APl', 'AR1', 'AR10', 'AR100', 'ARs', 'ARm', 'ARl'];
const AITOD_KEYS = ['AP', 'AP50', 'AP75', 'APvt', 'APt', 'APs', 'APm', 'AR1', 'AR100', 'AR1500', 'ARvt', 'ARt', 'ARs',
  'ARm'];

function dets(raw: Raw[]): Detection[] {
  return raw.map((d) => ({imageId: d.image_id, categoryId: d.category_id, bbox: d.bbox as Detection['bbox'],
    score: d.score}));
}

async function run(gt: unknown, raw: Raw[], opts: EvalOptions = {}): Promise<EvalResult> {
  return evaluate(parseCocoGt(gt, 'gt.json'), dets(raw), opts);
}

function assertStats(got: Record<string, number>, want: Record<string, number>, what: string, tol = TOL): void {
  for (const [k, v] of Object.entries(want)) {
    assert.ok(Math.abs(got[k] - v) <= tol, `${what} ${k}: got ${got[k]}, want ${v}`);
  }
}

function fixture(name: string): {gt: unknown; dt: Raw[]; expected: Record<string, {stats: Record<string, number>;
  perClassAP: number[]}>; expected_ids_shifted?: Record<string, {stats: Record<string, number>}>} {
  return readJsonFile(join(ROOT, 'test/fixtures/eval', `${name}.json`));
}

function shared<T = unknown>(rel: string): T | undefined {
  const p = sharedPath(rel);
  return p ? readJsonFile<T>(p) : undefined;
}

describe('eval: pycocotools and aitodpycocotools oracle files (1e-12)', () => {
  const sets: Array<[string, string, string]> = [
    ['dota_eval_example', 'data/dota_eval_example/gt_coco_hbb.json', 'data/dota_eval_example/dt_coco_hbb.json'],
    ['dota_x0.25_jitter_seed0', 'data/dota_devkit_samples_x0.25/coco_hbb.json',
      'data/dota_devkit_samples_x0.25/dt_jitter_seed0.json'],
    ['sahi_coco_evaluate', 'data/visdrone_sahi_gt/coco_evaluate_dataset.json',
      'data/visdrone_sahi_gt/coco_evaluate_result.json'],
    ['sahi_coco_evaluate_area_fixed', 'data/visdrone_sahi_gt/coco_evaluate_dataset_area_fixed.json',
      'data/visdrone_sahi_gt/coco_evaluate_result.json'],
  ];
  for (const [name, gtRel, dtRel] of sets) {
    // The oracle folder has no AI-TOD numbers for the GT whose areas are not w*h.
    for (const protocol of name === 'sahi_coco_evaluate' ? ['coco' as const] : ['coco', 'aitod'] as const) {
      const oracleRel = `oracle/${name}.${protocol}.json`;
      test(`${name} ${protocol}`, async (t) => {
        const oracle = shared<{stats: number[]; per_category_AP?: Record<string, number>}>(oracleRel);
        const gtPath = sharedPath(gtRel), dtPath = sharedPath(dtRel);
        if (!oracle || !gtPath || !dtPath) return t.skip(sharedMissing(!oracle ? oracleRel : !gtPath ? gtRel : dtRel));
        const r = await evaluateFile(await loadCocoGt(gtPath), dtPath, {protocol});
        // aitodpycocotools' 19: AP, AP25 (always -1, not reported by nwd), AP50, ..., ARm, 4 x oLRP.
        const want = protocol === 'coco' ? oracle.stats : oracle.stats.filter((_, i) => i !== 1);
        const keys = protocol === 'coco' ? COCO_KEYS : [...AITOD_KEYS, 'oLRP', 'oLRPloc', 'oLRPfp', 'oLRPfn'];
        assert.deepEqual(Object.keys(r.stats), keys);
        assertStats(r.stats, Object.fromEntries(keys.map((k, i) => [k, want[i]])), name);
        if (protocol === 'aitod') assert.equal(oracle.stats[1], -1, 'AP25 is -1 upstream');
        if (oracle.per_category_AP) {
          for (const c of r.perClass) {
            assert.ok(Math.abs(c.AP - oracle.per_category_AP[String(c.id)]) <= TOL, `class ${c.id}`);
          }
        }
      });
    }
  }

  test('cocoapi fake 100 images (12 bbox stats)', async (t) => {
    type Ref = {gt: string; dt_bbox: string; oracle_bbox: number[]};
    const ref = shared<Ref>('reference/coco_eval_cocoapi_fake100.json');
    if (!ref) return t.skip(sharedMissing('reference/coco_eval_cocoapi_fake100.json'));
    const base = sharedPath('reference')!;
    const r = await evaluateFile(await loadCocoGt(join(base, ref.gt)), join(base, ref.dt_bbox));
    assertStats(r.stats, Object.fromEntries(COCO_KEYS.map((k, i) => [k, ref.oracle_bbox[i]])), 'fake100');
  });

  test('crowd region case: pycocotools numbers, not faster-coco-eval\'s', async (t) => {
    const rel = 'reference/coco_eval_crowd_region_divergence.json';
    const ref = shared<{expected_pycocotools: Record<string, number>}>(rel);
    if (!ref) return t.skip(sharedMissing(rel));
    const base = sharedPath('reference/files/fce_ignore')!;
    const gt = await loadCocoGt(join(base, 'gt_ignore_test_intid.json'));
    const r = await evaluateFile(gt, join(base, 'dt_ignore_test_minscore0.1_bbox.json'));
    assertStats(r.stats, ref.expected_pycocotools, 'crowd region');
  });
});

describe('eval: random sets checked against pycocotools (fixtures, 1e-12)', () => {
  for (const name of ['random_mixed', 'random_ties', 'random_many_dets', 'random_crowd_heavy']) {
    for (const protocol of ['coco', 'aitod'] as const) {
      test(`${name} ${protocol}`, async () => {
        const f = fixture(name);
        const r = await run(f.gt, f.dt, {protocol});
        assertStats(r.stats, f.expected[protocol].stats, name);
        r.perClass.forEach((c, k) => assert.ok(Math.abs(c.AP - f.expected[protocol].perClassAP[k]) <= TOL,
          `${name} class ${c.id}: ${c.AP} vs ${f.expected[protocol].perClassAP[k]}`));
      });
    }
  }

  test('detection order does not matter except for ties (shuffled input, same numbers)', async () => {
    const f = fixture('random_mixed');
    const byImage = [...f.dt].sort((a, b) => a.image_id - b.image_id); // stable: keeps order within an image
    const r = await run(f.gt, byImage);
    assertStats(r.stats, f.expected.coco.stats, 'reordered');
  });

  test('GT annotation id 0: correct by default, pycocotools with pycocotoolsCompat', async () => {
    const f = fixture('random_id0');
    for (const protocol of ['coco', 'aitod'] as const) {
      const fixed = await run(f.gt, f.dt, {protocol});
      assertStats(fixed.stats, f.expected_ids_shifted![protocol].stats, `id0 ${protocol} default`);
      assert.ok(fixed.warnings.some((w) => /id 0/.test(w) && /--pycocotools-compat/.test(w)));
      const compat = await run(f.gt, f.dt, {protocol, pycocotoolsCompat: true});
      assertStats(compat.stats, f.expected[protocol].stats, `id0 ${protocol} compat`);
    }
  });
});

describe('eval: user-reported cases (../shared/cases)', () => {
  function kase(id: string): any { // eslint-disable-line @typescript-eslint/no-explicit-any
    return shared(`cases/${id}.json`);
  }

  test('K01: an empty detection list scores 0, -1 where there is no GT', async (t) => {
    const k = kase('K01');
    if (!k) return t.skip(sharedMissing('cases/K01.json'));
    const r = await run(k.input.gt, k.input.detections);
    for (const [key, v] of Object.entries(k.expected as Record<string, unknown>)) {
      if (typeof v === 'number') assert.equal(r.stats[key], v, key);
    }
  });

  test('K03: no GT gives -1 everywhere; only-small GT gives -1 for medium and large', async (t) => {
    const k = kase('K03');
    if (!k) return t.skip(sharedMissing('cases/K03.json'));
    const a = await run(k.input.case_a_no_gt.gt, k.input.case_a_no_gt.detections);
    for (const key of COCO_KEYS) assert.equal(a.stats[key], -1, key);
    const b = await run(k.input.case_b_only_small_gt.gt, k.input.case_b_only_small_gt.detections);
    assertStats(b.stats, k.expected.case_b, 'K03 b', 1e-15);
  });

  test('K04: detections on image ids absent from the GT are an error listing them', async (t) => {
    const k = kase('K04');
    if (!k) return t.skip(sharedMissing('cases/K04.json'));
    await assert.rejects(run(k.input.gt, k.input.detections), (e: unknown) =>
      e instanceof UserError && e.code === 'E_DT_IMAGE' && /\[2\]/.test(e.message));
  });

  test('K06: area ranges use the GT "area" field; a missing area is w*h with a warning', async (t) => {
    const k = kase('K06');
    if (!k) return t.skip(sharedMissing('cases/K06.json'));
    const r900 = await run(k.input.gt, k.input.detections);
    assertStats(r900.stats, k.expected.area_900, 'area 900', 1e-15);
    const gt1600 = structuredClone(k.input.gt);
    gt1600.annotations[0].area = 1600;
    assertStats((await run(gt1600, k.input.detections)).stats, k.expected.area_1600, 'area 1600', 1e-15);
    const noArea = structuredClone(k.input.gt);
    delete noArea.annotations[0].area;
    const r = await run(noArea, k.input.detections);
    assertStats(r.stats, k.expected.area_1600, 'no area -> w*h = 1600', 1e-15);
    assert.ok(r.warnings.some((w) => /without "area"/.test(w) && /annotation 0/.test(w)));
  });

  test('K08: a duplicate annotation id is an error naming the id and both images', async (t) => {
    const k = kase('K08');
    if (!k) return t.skip(sharedMissing('cases/K08.json'));
    assert.throws(() => parseCocoGt(k.input.gt, 'gt.json'), (e: unknown) =>
      e instanceof UserError && e.code === 'E_GT_DUPLICATE' && /annotation id 5/.test(e.message) &&
      /images 1 and 2/.test(e.message));
  });

  test('K09: "ignore" is not honoured by default (pycocotools), honoured with honorIgnore', async (t) => {
    const k = kase('K09');
    if (!k) return t.skip(sharedMissing('cases/K09.json'));
    const plain = await run(k.input.gt, k.input.detections);
    assert.ok(Math.abs(plain.stats.AP - 51 / 101) < 1e-12);
    assert.ok(Math.abs(plain.stats.AP - k.expected.pycocotools_compatible.AP) < 1e-5); // the case rounds to 5 digits
    assert.equal(plain.stats.AR100, k.expected.pycocotools_compatible.AR100);
    assert.ok(plain.warnings.some((w) => /ignore/.test(w) && /--honor-ignore/.test(w)));
    const honoured = await run(k.input.gt, k.input.detections, {honorIgnore: true});
    assertStats(honoured.stats, k.expected.ignore_honoured, 'honoured', 1e-15);
    const variant = await run(k.input.gt, k.input.variant_also_detect_ignored);
    assert.ok(Math.abs(variant.stats.AP - k.how_references_behave.pycocotools.variant_AP) < 1e-15);
  });

  test('K12: ties break by file order within an image and by image id across images', async (t) => {
    const k = kase('K12');
    if (!k) return t.skip(sharedMissing('cases/K12.json'));
    const w = k.input.within_image;
    assertStats((await run(w.gt, w.order_fp_first)).stats, k.expected.within_fp_first, 'fp first', 1e-15);
    assertStats((await run(w.gt, w.order_tp_first)).stats, k.expected.within_tp_first, 'tp first', 1e-15);
    const x = k.input.across_images_data;
    assertStats((await run(x.gt_on_image_2, x.detections)).stats, k.expected.across_gt_on_img2, 'gt on 2', 1e-15);
    assertStats((await run(x.gt_on_image_1, x.detections)).stats, k.expected.across_gt_on_img1, 'gt on 1', 1e-15);
  });

  test('K13: AI-TOD ranges are inclusive at both ends (boundary boxes count in two)', async (t) => {
    const k = kase('K13');
    if (!k) return t.skip(sharedMissing('cases/K13.json'));
    const r = await run(k.input.data.gt, k.input.data.detections, {protocol: 'aitod'});
    const expected = k.expected.gt_ids_per_range as Record<string, number[]>;
    const labels = r.settings.areaRanges.map((a) => a.label);
    assert.deepEqual(labels, k.input.areaRngLbl);
    assert.deepEqual(r.settings.areaRanges.map((a) => [a.lo, a.hi]), k.input.areaRng);
    assert.deepEqual(r.settings.maxDets, k.input.maxDets);
    // Per range: the number of non-ignored GT, and perfect detections give AP 1 in every range.
    for (const [label, ids] of Object.entries(expected)) {
      assert.equal(r.gtPerArea[label], ids.length, label);
    }
    for (const key of ['APvt', 'APt', 'APs', 'APm', 'ARvt', 'ARt', 'ARs', 'ARm']) {
      assert.ok(Math.abs(r.stats[key] - 1) < 1e-15, key);
    }
    // AP at 0.25 is not computed from 0.50:0.95 data: there is no such threshold or stat.
    assert.ok(!IOU_THRS.includes(0.25));
    assert.ok(!('AP25' in r.stats));
  });

  test('K15: 101-point interpolated AP of given TP sequences', async (t) => {
    const k = kase('K15');
    if (!k) return t.skip(sharedMissing('cases/K15.json'));
    const seqs = k.input.per_category_tp_sequences_sorted_by_score as Array<{tp: number[]; n_gt: number}>;
    // One category per sequence on one image: TPs hit a fresh GT, FPs land far away.
    const gt = {images: [{id: 1}], categories: seqs.map((_, c) => ({id: c + 1, name: `c${c}`})),
      annotations: [] as unknown[]};
    const raw: Raw[] = [];
    let id = 1;
    seqs.forEach((s, c) => {
      for (let g = 0; g < s.n_gt; g++) {
        gt.annotations.push({id: id++, image_id: 1, category_id: c + 1, bbox: [g * 50, c * 50, 20, 20], area: 400});
      }
      let used = 0;
      s.tp.forEach((tp, i) => raw.push({image_id: 1, category_id: c + 1, score: 1 - i * 0.1,
        bbox: tp ? [used++ * 50, c * 50, 20, 20] : [900, 900, 20, 20]}));
    });
    const r = await run(gt, raw);
    const want = k.expected.pycocotools_101pt as number[];
    r.perClass.forEach((p, c) => assert.ok(Math.abs(p.AP - want[c]) < 5e-7, `sequence ${c}: ${p.AP} vs ${want[c]}`));
    assert.ok(Math.abs(r.perClass[2].AP - 67 / 101) < 1e-15);
  });
});

describe('eval: inputs, options and NWD matching', () => {
  const gt1 = {images: [{id: 7}, {id: 3}], categories: [{id: 1, name: 'a'}, {id: 2, name: 'b'}], annotations: [
    {id: 1, image_id: 7, category_id: 1, bbox: [10, 10, 12, 12], area: 144},
    {id: 2, image_id: 3, category_id: 1, bbox: [50, 50, 8, 8], area: 64},
  ]};

  test('NWD thresholds instead of IoU: a shifted tiny box matches by NWD but not by IoU', async () => {
    // 8x8 box shifted by 3 px: IoU 0.45 (< 0.5); NWD exp(-3/12.8) = 0.79.
    const raw: Raw[] = [{image_id: 3, category_id: 1, bbox: [53, 50, 8, 8], score: 0.9}];
    const gt = {...gt1, annotations: [gt1.annotations[1]]};
    const iou = await run(gt, raw);
    assert.equal(iou.stats.AP50, 0);
    const nwd = await run(gt, raw, {metric: 'nwd', c: 12.8});
    assert.equal(nwd.settings.metric, 'nwd');
    assert.equal(nwd.settings.c, 12.8);
    // NWD 0.791: matched at thresholds 0.50..0.75 (6 of 10).
    assert.ok(Math.abs(nwd.stats.AP - 0.6 * (1 / (1 + 2.220446049250313e-16))) < 1e-12, String(nwd.stats.AP));
    assert.ok(Math.abs(nwd.stats.AP50 - 1) < 1e-15);
    assert.equal(nwd.stats.AP75 > 0.99, true);
    assert.equal(nwd.stats.AP > 0.59 && nwd.stats.AP < 0.61, true);
  });

  test('unknown detection categories are left out with a warning naming them', async () => {
    const r = await run(gt1, [{image_id: 7, category_id: 99, bbox: [10, 10, 12, 12], score: 0.5},
      {image_id: 7, category_id: 1, bbox: [10, 10, 12, 12], score: 0.4}]);
    assert.equal(r.counts.dtLeftOut, 1);
    assert.ok(r.warnings.some((w) => /category ids not in the GT/.test(w) && /99 \(1\)/.test(w)));
    assert.ok(Math.abs(r.stats.AP50 - 51 / 101) < 1e-12); // 1 of 2 GT found: 51 of 101 recall points
  });

  test('bad boxes and NaN scores are errors naming the record', async () => {
    await assert.rejects(run(gt1, [{image_id: 7, category_id: 1, bbox: [10, 10, -1, 12], score: 0.5}]),
      (e: unknown) => e instanceof UserError && e.code === 'E_BOX_REVERSED' && e.record === 'detection 0');
    await assert.rejects(run(gt1, [{image_id: 7, category_id: 1, bbox: [10, 10, 1, 12], score: NaN}]),
      (e: unknown) => e instanceof UserError && e.code === 'E_SCORE');
    const bad = structuredClone(gt1);
    bad.annotations[1].bbox = [1, 1, 2, -2];
    assert.throws(() => parseCocoGt(bad, 'gt.json'), (e: unknown) => e instanceof UserError && /annotation id 2/.test(
      e.record ?? ''));
  });

  test('options are validated key by key', async () => {
    const gt = parseCocoGt(gt1, 'gt.json');
    await assert.rejects(evaluate(gt, [], {iou: 0.5} as unknown as EvalOptions), /unknown evaluate option "iou"/);
    await assert.rejects(evaluate(gt, [], {metric: 'giou' as 'iou'}), /metric must be iou or nwd/);
    await assert.rejects(evaluate(gt, [], {c: 10}), /c only applies with metric "nwd"/);
    await assert.rejects(evaluate(gt, [], {maxDets: [1, 10]}), /maxDets must be three ascending/);
  });

  test('async iterables, JSON Lines files and streamed GT give the same numbers', async () => {
    const f = fixture('random_ties');
    async function* stream() {
      for (const d of dets(f.dt)) yield d;
    }
    const gt = parseCocoGt(f.gt, 'gt.json');
    const a = await evaluate(gt, stream());
    assertStats(a.stats, f.expected.coco.stats, 'async');
    const dir = tempDir();
    writeFileSync(join(dir, 'dt.jsonl'), f.dt.map((d) => JSON.stringify(d)).join('\n'));
    writeFileSync(join(dir, 'gt.json'), JSON.stringify(f.gt));
    const streamedGt = await loadCocoGt(join(dir, 'gt.json'), {streamAboveBytes: 0});
    assert.equal(streamedGt.annotations.count, gt.annotations.count);
    assert.deepEqual(streamedGt.annotations.xywh, gt.annotations.xywh);
    const b = await evaluateFile(streamedGt, join(dir, 'dt.jsonl'));
    assertStats(b.stats, f.expected.coco.stats, 'jsonl');
  });

  test('the result carries per-class numbers, PR curves and the accumulate arrays', async () => {
    const f = fixture('random_mixed');
    const r = await run(f.gt, f.dt, {protocol: 'aitod'});
    const {T, R, K, A, M} = r.arrays.dims;
    assert.deepEqual([T, R, K, A, M], [10, 101, 5, 5, 3]);
    assert.equal(r.curves.precision.length, 10);
    assert.equal(r.curves.precision[0].length, 101);
    assert.deepEqual(r.curves.recThrs, REC_THRS);
    // The category without GT (last) has -1 everywhere.
    assert.equal(r.perClass[4].AP, -1);
    assert.equal(r.perClass[4].gt, 0);
    assert.deepEqual(statSpecs('aitod').map((s) => s.key), AITOD_KEYS);
  });

  test('numpy\'s pairwise sum (the mean pycocotools takes)', () => {
    // np.sum(np.full(300, 0.1)) == 29.999999999999996; a left-to-right sum gives another number.
    const v = Array.from({length: 300}, () => 0.1);
    let naive = 0;
    for (const x of v) naive += x;
    assert.equal(pairwiseSum(v), 29.999999999999996);
    assert.notEqual(naive, 29.999999999999996);
    assert.equal(pairwiseSum([1, 2, 3]), 6);
  });
});

describe('report/svg and PR plot', () => {
  test('lineChart: standalone SVG with title, axes, ticks, labels and legend', () => {
    const svg = lineChart({title: 'PR <curves>', xLabel: 'recall', yLabel: 'precision', xDomain: [0, 1],
      yDomain: [0, 1],
      series: [{name: 'a', points: [[0, 1], [0.5, 0.8], [1, 0.2]]}, {name: 'b & c', points: [[0, 0.5], [1, 0.1]]}]});
    assert.match(svg, /^<svg xmlns="http:\/\/www.w3.org\/2000\/svg"/);
    assert.ok(svg.includes('PR &lt;curves&gt;') && svg.includes('b &amp; c') && svg.includes('>recall<'));
    assert.ok(!/<script|href=|@import|url\(http/.test(svg));
    assert.equal((svg.match(/<path /g) ?? []).length, 2);
    for (const tick of ['0', '0.2', '0.4', '0.6', '0.8', '1']) assert.ok(svg.includes(`>${tick}</text>`), tick);
  });

  test('barChart: grouped bars, one per value, and a mismatch is an error', () => {
    const svg = barChart({title: 'sizes', xLabel: 'px', yLabel: 'count', categories: ['0-8', '8-16', '16-32'],
      series: [{name: 'train', values: [3, 10, 5]}, {name: 'val', values: [1, 4, 2]}]});
    assert.equal((svg.match(/<rect x=/g) ?? []).length, 6 + 1 + 2); // bars + plot frame + legend swatches
    assert.ok(svg.includes('>train<') && svg.includes('>16-32<'));
    const bad = {title: '', xLabel: '', yLabel: '', categories: ['a'], series: [{name: 's', values: []}]};
    assert.throws(() => barChart(bad),
      /has 0 values for 1 categories/);
    assert.deepEqual(niceTicks(0, 1), [0, 0.2, 0.4, 0.6, 0.8, 1]);
    assert.ok(grid([svg, svg], 2).includes('x="0" y="0"'));
  });

  test('prCurvesSvg: a curve per threshold, per-class charts for classes with GT', async () => {
    const f = fixture('random_mixed');
    const r = await run(f.gt, f.dt);
    const svg = prCurvesSvg(r);
    assert.ok(svg.includes('IoU 0.50') && svg.includes('IoU 0.95'));
    const per = prCurvesSvg(r, {perClass: true});
    for (const c of ['c0', 'c1', 'c2', 'c3']) assert.ok(per.includes(`${c} (id`), c);
    assert.ok(!per.includes('c4 (id'), 'class without GT has no chart');
  });
});
