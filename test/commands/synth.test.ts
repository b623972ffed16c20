import {test, describe, before} from 'node:test';
import assert from 'node:assert/strict';
import {readFileSync, readdirSync, existsSync} from 'node:fs';
import {createHash} from 'node:crypto';
import {join} from 'node:path';
import sharp from 'sharp';
import {synthesize, valIndices} from '../../src/synth/synth.js';
import {drawBackground, drawScene, shapeMask, SYNTH_CLASSES} from '../../src/synth/scene.js';
import {Rng, subSeed} from '../../src/util/rng.js';
import {UserError} from '../../src/cli/errors.js';
import {runCli, tempDir, readJsonFile} from '../helpers.js';

process.env.NWD_NO_PROGRESS = '1';

interface Gt {
  images: Array<{id: number; file_name: string; width: number; height: number}>;
  annotations: Array<{id: number; image_id: number; category_id: number; bbox: number[]; area: number;
    iscrowd: number}>;
  categories: Array<{id: number; name: string}>;
}

function digest(dir: string): string {
  const h = createHash('sha256');
  for (const f of ['train.json', 'val.json']) h.update(readFileSync(join(dir, f)));
  for (const f of readdirSync(join(dir, 'images')).sort()) h.update(f).update(readFileSync(join(dir, 'images', f)));
  return h.digest('hex');
}

describe('nwd synth', () => {
  let a = '';
  before(async () => {
    a = tempDir('nwd-synth-');
    await synthesize({out: a, images: 40, seed: 11});
  });

  test('same seed, same bytes; another seed, other bytes', async () => {
    const b = tempDir('nwd-synth-'), c = tempDir('nwd-synth-');
    await synthesize({out: b, images: 40, seed: 11});
    await synthesize({out: c, images: 40, seed: 12});
    assert.equal(digest(a), digest(b));
    assert.notEqual(digest(a), digest(c));
  });

  test('layout: PNGs of the given size, COCO train/val split by image, area = w*h', async () => {
    const train = readJsonFile<Gt>(join(a, 'train.json')), val = readJsonFile<Gt>(join(a, 'val.json'));
    assert.equal(train.images.length + val.images.length, 40);
    assert.equal(val.images.length, 8);
    const trainIds = new Set(train.images.map((im) => im.id));
    assert.ok(val.images.every((im) => !trainIds.has(im.id)));
    for (const gt of [train, val]) {
      const ids = new Set(gt.images.map((im) => im.id));
      assert.ok(gt.annotations.every((x) => ids.has(x.image_id)), 'annotations stay with their split');
      assert.ok(gt.annotations.every((x) => x.area === x.bbox[2] * x.bbox[3] && x.iscrowd === 0));
      assert.deepEqual(gt.categories.map((c) => c.name), [...SYNTH_CLASSES]);
    }
    const allIds = [...train.annotations, ...val.annotations].map((x) => x.id);
    assert.equal(new Set(allIds).size, allIds.length, 'annotation ids are unique across splits');
    const im = train.images[0];
    const meta = await sharp(join(a, 'images', im.file_name)).metadata();
    assert.deepEqual([meta.format, meta.width, meta.height, meta.channels], ['png', 256, 256, 3]);
  });

  test('objects: 2-32 px, most under 16 px, mean sqrt(w*h) near 9 px, every class present', () => {
    const anns = ['train.json', 'val.json'].flatMap((f) => readJsonFile<Gt>(join(a, f)).annotations);
    assert.ok(anns.length > 300, String(anns.length));
    const s = anns.map((x) => Math.sqrt(x.bbox[2] * x.bbox[3]));
    assert.ok(anns.every((x) => x.bbox[2] >= 2 && x.bbox[3] >= 2 && x.bbox[2] <= 32 && x.bbox[3] <= 32));
    const mean = s.reduce((p, q) => p + q, 0) / s.length;
    assert.ok(mean > 8 && mean < 10.5, `mean sqrt(w*h) ${mean}`);
    assert.ok(s.filter((v) => v < 16).length / s.length > 0.8, 'most under 16 px');
    assert.ok(s.filter((v) => v < 8).length / s.length > 0.25, 'many under 8 px (AI-TOD very tiny)');
    assert.deepEqual(new Set(anns.map((x) => x.category_id)), new Set([1, 2, 3, 4]));
    assert.ok(anns.every((x) => x.bbox.every((v) => Number.isInteger(v)) && x.bbox[0] + x.bbox[2] <= 256));
  });

  test('boxes are exactly the extent of the drawn pixels', () => {
    for (let seed = 0; seed < 5; seed++) {
      const size = 128;
      const bgF = drawBackground(new Rng(seed), size);
      const scene = drawScene(new Rng(seed), {size, minSize: 2, maxSize: 32, objectsPer256: [20, 30]});
      const bg = Uint8Array.from(bgF, (v) => Math.min(255, Math.max(0, Math.round(v))));
      const changed = (x: number, y: number) => [0, 1,
        2].some((ch) => scene.rgb[3 * (y * size + x) + ch] !== bg[3 * (y * size + x) + ch]);
      assert.ok(scene.objects.length > 3);
      for (const {bbox: [x, y, w, h], pixels} of scene.objects) {
        let n = 0, minX = Infinity, minY = Infinity, maxX = -1, maxY = -1;
        for (let j = Math.max(0, y - 1); j < Math.min(size, y + h + 1); j++) {
          for (let i = Math.max(0, x - 1); i < Math.min(size, x + w + 1); i++) {
            if (!changed(i, j)) continue;
            n++;
            minX = Math.min(minX, i); maxX = Math.max(maxX, i); minY = Math.min(minY, j); maxY = Math.max(maxY, j);
          }
        }
        assert.deepEqual([minX, minY, maxX - minX + 1, maxY - minY + 1], [x, y, w, h], `seed ${seed}`);
        assert.equal(n, pixels);
      }
    }
  });

  test('every shape touches all four sides of its box', () => {
    for (const cls of SYNTH_CLASSES) {
      for (const [w, h] of [[2, 2], [2, 5], [3, 3], [7, 4], [9, 9], [16, 31], [32, 32]]) {
        const m = shapeMask(cls, w, h);
        const rows = Array.from({length: h}, (_, j) => m.subarray(j * w, (j + 1) * w).some((v) => v === 1));
        const cols = Array.from({length: w}, (_, i) => rows.some((_, j) => m[j * w + i] === 1));
        assert.ok(rows[0] && rows[h - 1] && cols[0] && cols[w - 1], `${cls} ${w}x${h}`);
      }
    }
  });

  test('val split: a seeded choice, at least one image per side', () => {
    assert.deepEqual(valIndices(10, 0.2, 1), valIndices(10, 0.2, 1));
    assert.equal(valIndices(10, 0.2, 1).size, 2);
    assert.equal(valIndices(2, 0.01, 1).size, 1);
    assert.equal(valIndices(2, 0.99, 1).size, 1);
    assert.equal(valIndices(5, 0, 1).size, 0);
    assert.notEqual(subSeed(1, 0), subSeed(1, 1));
  });

  test('options are validated key by key', async () => {
    await assert.rejects(synthesize({out: tempDir(), images: 0}),
      (e: unknown) => e instanceof UserError && /--images/.test(e.message));
    await assert.rejects(synthesize({out: tempDir(), valFraction: 1}), (e: unknown) => e instanceof UserError);
    await assert.rejects(synthesize({out: tempDir(), minSize: 9, maxSize: 4}), (e: unknown) => e instanceof UserError);
    await assert.rejects(synthesize({out: tempDir(), colour: 1} as never), (e: unknown) => e instanceof UserError &&
      /unknown synth option "colour"/.test(e.message));
  });

  test('CLI: writes the dataset, paths on stdout, summary with --json; bad flags exit 2', () => {
    const dir = tempDir();
    const r = runCli(['synth', '--out', dir, '--images', '3', '--size', '64', '--val-fraction', '0.34']);
    assert.equal(r.status, 0, r.stderr);
    assert.deepEqual(r.stdout.trim().split('\n'), [join(dir, 'train.json'), join(dir, 'val.json')]);
    assert.deepEqual(readdirSync(join(dir, 'images')).sort(), ['000001.png', '000002.png', '000003.png']);
    const j = runCli(['synth', '--out', dir, '--images', '3', '--size', '64', '--json']);
    const res = JSON.parse(j.stdout);
    assert.equal(res.images, 3);
    assert.equal(res.trainImages + res.valImages, 3);
    assert.ok(existsSync(res.val));
    const bad = runCli(['synth', '--out', dir, '--val-fraction', '1.5']);
    assert.equal(bad.status, 2);
    assert.match(bad.stderr, /--val-fraction must be in \[0, 1\)/);
  });
});
