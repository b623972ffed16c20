import {test, describe} from 'node:test';
import assert from 'node:assert/strict';
import {readFileSync} from 'node:fs';
import {join} from 'node:path';
import {loadCocoGt} from '../../src/formats/coco.js';
import {sizeStats, quantile} from '../../src/stats/sizes.js';
import {datasetStats} from '../../src/stats/stats.js';
import {runCli, tempDir, sharedPath, sharedMissing, assertClose, ROOT} from '../helpers.js';

const GT = join(ROOT, 'test', 'fixtures', 'convert', 'stats_gt.json');

describe('nwd stats: sizes', () => {
  test('per class and per AI-TOD bin on w*h; crowd apart; C = mean sqrt(w*h)', async () => {
    const s = sizeStats(await loadCocoGt(GT));
    assert.equal(s.objects, 4);
    assert.equal(s.crowd, 1);
    assert.equal(s.imagesWithoutObjects, 1);
    // 8x8 has area exactly 8^2: tiny, not very tiny.
    assert.deepEqual(s.bins, {verytiny: 1, tiny: 1, small: 1, medium: 1});
    assert.deepEqual(s.perClass.map((c) => [c.name, c.count, c.bins]), [
      ['a', 2, {verytiny: 0, tiny: 1, small: 1, medium: 0}],
      ['b', 2, {verytiny: 1, tiny: 0, small: 0, medium: 1}],
      ['empty', 0, {verytiny: 0, tiny: 0, small: 0, medium: 0}]]);
    assert.equal(s.recommendedC, (8 + 4 + 20 + 40) / 4);
    assert.equal(s.sqrtWh.median, 14);
    assertClose([s.sqrtWh.p10, s.sqrtWh.p90], [5.2, 34], 1e-12);
    assert.equal(s.sqrtWh.counts.length, s.sqrtWh.lowerEdges.length);
    assert.deepEqual(s.sqrtWh.counts.flatMap((n, i) => (n ? [[s.sqrtWh.lowerEdges[i], n]] : [])), [[4, 1], [8, 1],
      [20, 1], [40, 1]]);
  });

  test('quantile interpolates like numpy', () => {
    assert.equal(quantile([1, 2, 3, 4], 0.5), 2.5);
    assert.equal(quantile([1, 2, 3, 4], 0.1), 1.3);
    assert.ok(Number.isNaN(quantile([], 0.5)));
  });

  const STATS = 'data/STATS.jsonl';
  /** numpy.percentile(sqrt(w*h), [10, 90]) of two of those files. */
  const NUMPY_P10_P90: Record<string, number[]> = {
    'dota_devkit_samples/coco_hbb.json': [23.558437978779494, 52.10374181958726],
    'dota_devkit_samples_x0.25/coco_hbb.json': [5.902785170590387, 13.039656920564047],
  };
  test('matches the statistics published with ../shared/data', async (t) => {
    const p = sharedPath(STATS);
    if (!p) return t.skip(sharedMissing(STATS));
    const lines = readFileSync(p, 'utf8').trim().split('\n').map((l) => JSON.parse(l));
    assert.ok(lines.length >= 5);
    const binKeys = {'verytiny<8': 'verytiny', 'tiny8-16': 'tiny', 'small16-32': 'small',
      'medium>=32': 'medium'} as const;
    for (const want of lines) {
      const s = sizeStats(await loadCocoGt(join(p, '..', want.file)));
      assert.equal(s.objects, want.annotations, want.file);
      assert.equal(s.images, want.images, want.file);
      for (const [k, v] of Object.entries(binKeys)) assert.equal(s.bins[v], want.aitod_bins[k] ?? 0,
        `${want.file} ${k}`);
      assertClose([s.sqrtWh.median, s.sqrtWh.min, s.sqrtWh.max],
        [want.median_sqrt_wh, want.min_sqrt_wh, want.max_sqrt_wh], 1e-9, 0, want.file);
      // STATS.jsonl's p10/p90 interpolate differently in places; ours are numpy's default (linear), checked below.
      assertClose([s.sqrtWh.p10, s.sqrtWh.p90], [want.p10_sqrt_wh, want.p90_sqrt_wh], 0, 0.02, `${want.file} p10/p90`);
      const numpy = NUMPY_P10_P90[want.file];
      if (numpy) assertClose([s.sqrtWh.p10, s.sqrtWh.p90], numpy, 1e-9, 0, `${want.file} numpy.percentile`);
      const perCat = Object.fromEntries(s.perClass.filter((c) => c.count).map((c) => [c.name, c.count]));
      assert.deepEqual(perCat, want.per_category, want.file);
    }
  });

  const QUIRK = 'data/visdrone_sahi_gt/coco_evaluate_dataset.json';
  test('bins come from the boxes, not from a wrong "area" field', async (t) => {
    const p = sharedPath(QUIRK);
    if (!p) return t.skip(sharedMissing(QUIRK));
    const quirk = sizeStats(await loadCocoGt(p));
    const fixed = sizeStats(await loadCocoGt(p.replace('.json', '_area_fixed.json')));
    assert.deepEqual(quirk.bins, fixed.bins);
    assert.ok(quirk.bins.verytiny > 0, 'the quirk file\'s areas would put every object in "medium"');
  });
});

describe('nwd stats: positives per object', () => {
  test('IoU leaves a 4x4 object without anchors where NWD gives it some', async () => {
    const r = await datasetStats(GT, {layout: {strides: [4], sizes: [[8]], ratios: [1]}});
    const p = r.positives!;
    assert.equal(p.anchors, '4:8@1');
    assert.equal(p.c, 18);
    // The 8x8 box equals one anchor exactly (IoU 1); its neighbours reach only 1/3.
    assert.equal(p.iou.perBin.tiny.positives, 1);
    // The 4x4 box: best IoU 0.25 < 0.3, not even a low-quality match.
    assert.deepEqual([p.iou.perBin.verytiny.gts, p.iou.perBin.verytiny.positives, p.iou.perBin.verytiny.zeroShare],
      [1, 0, 1]);
    assert.ok(p.nwd.perBin.verytiny.positives >= 1);
    assert.equal(p.iou.perBin.all.gts, 4, 'crowd GT not counted');
    assert.equal(p.imagesWithoutSize, 0);
  });

  test('CLI: table and C on stdout; --json; --no-positives; --c; bad --anchors', () => {
    const r = runCli(['stats', GT]);
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stdout, /4 objects, 1 crowd\/ignore/);
    assert.match(r.stdout, /^a\s+1\s+2\s+0\s+1\s+1\s+0\s+14\.00$/m);
    assert.match(r.stdout, /^all\s+4\s+1\s+1\s+1\s+1\s+18\.00$/m);
    assert.match(r.stdout, /recommended NWD constant C = mean sqrt\(w\*h\) = 18\.00 px/);
    assert.match(r.stdout, /anchors 4:8,16;8:32@0\.5,1,2, NWD C = 18\.00/);
    assert.match(r.stdout, /^verytiny \(<8\)\s+1\s/m);
    assert.match(r.stdout, /1 categories without objects not shown/);
    const j = JSON.parse(runCli(['stats', GT, '--json', '--c', '5', '--anchors', '4:8@1']).stdout);
    assert.equal(j.recommendedC, 18);
    assert.equal(j.positives.c, 5);
    assert.equal(j.positives.iou.perBin.tiny.positives, 1);
    const n = JSON.parse(runCli(['stats', GT, '--json', '--no-positives']).stdout);
    assert.equal(n.positives, undefined);
    assert.equal(n.objects, 4);
    const dir = tempDir();
    const withPlot = runCli(['stats', GT, '--plot', join(dir, 'sizes.svg')]);
    assert.equal(withPlot.status, 0, withPlot.stderr);
    const svg = readFileSync(join(dir, 'sizes.svg'), 'utf8');
    assert.match(svg, /^<svg[^>]*xmlns="http:\/\/www.w3.org\/2000\/svg"/);
    assert.match(svg, /Object sizes \(4 objects, mean sqrt\(w\*h\) = C = 18\.00 px\)/);
    assert.match(svg, /Positive anchors per object/);
    runCli(['stats', GT, '--no-positives', '--plot', join(dir, 'only.svg')]);
    assert.doesNotMatch(readFileSync(join(dir, 'only.svg'), 'utf8'), /Positive anchors/);
    const bad = runCli(['stats', GT, '--anchors', '4:x']);
    assert.equal(bad.status, 2);
    assert.match(bad.stderr, /E_ANCHORS/);
  });
});
