import {test, describe, before} from 'node:test';
import assert from 'node:assert/strict';
import {mkdirSync, writeFileSync, readFileSync, existsSync, readdirSync, copyFileSync} from 'node:fs';
import {join} from 'node:path';
import sharp from 'sharp';
import {pairwise} from '../../src/bindings/similarity.js';
import {synthesize} from '../../src/synth/synth.js';
import {runCli, tempDir, sharedPath, sharedMissing, readJsonFile, assertClose, ROOT} from '../helpers.js';

const FIX = join(ROOT, 'test', 'fixtures', 'convert');

interface Gt {
  images: Array<{id: number; file_name: string; width: number; height: number; [k: string]: unknown}>;
  annotations: Array<{id: number; image_id: number; category_id: number; bbox: number[]; area: number; iscrowd: number;
    ignore?: number; [k: string]: unknown}>;
  categories: Array<{id: number; name: string}>;
}

/** A flat grey PNG of w x h (only its header matters to convert). */
async function png(path: string, w: number, h: number): Promise<void> {
  await sharp({create: {width: w, height: h, channels: 3, background: {r: 90, g: 90, b: 90}}}).png().toFile(path);
}

/** A dataset folder with `images/` and `labels/` holding the given label texts and images of the given sizes. */
async function textDataset(labels: Record<string, string>, sizes: Record<string, [number, number]>): Promise<string> {
  const dir = tempDir('nwd-convert-');
  mkdirSync(join(dir, 'images'));
  mkdirSync(join(dir, 'labels'));
  for (const [name, text] of Object.entries(labels)) writeFileSync(join(dir, 'labels', name), text);
  for (const [name, [w, h]] of Object.entries(sizes)) await png(join(dir, 'images', name), w, h);
  return dir;
}

/** Boxes per (file name, category name), sorted, for comparing datasets whose ids differ. */
function boxesByImage(gt: Gt): Map<string, number[][]> {
  const files = new Map(gt.images.map((im) => [im.id, im.file_name]));
  const names = new Map(gt.categories.map((c) => [c.id, c.name]));
  const out = new Map<string, number[][]>();
  for (const a of gt.annotations) {
    const key = `${files.get(a.image_id)}|${names.get(a.category_id)}`;
    out.set(key, [...(out.get(key) ?? []), a.bbox]);
  }
  for (const v of out.values()) v.sort((p, q) => p[0] - q[0] || p[1] - q[1] || p[2] - q[2] || p[3] - q[3]);
  return out;
}

function assertSameBoxes(got: Gt, want: Gt, atol: number): void {
  const g = boxesByImage(got), w = boxesByImage(want);
  assert.deepEqual([...g.keys()].sort(), [...w.keys()].sort());
  for (const [k, boxes] of w) assertClose(g.get(k)!.flat(), boxes.flat(), atol, 0, k);
}

const K30_GT = {
  images: [{id: 1, file_name: 'img.png', width: 640, height: 480}],
  annotations: [{id: 1, image_id: 1, category_id: 5, bbox: [100, 50, 20, 10], area: 200, iscrowd: 0}],
  categories: [{id: 1, name: 'swimmer'}, {id: 2, name: 'boat'}, {id: 3, name: 'jetski'},
    {id: 4, name: 'life_saving_appliances'}, {id: 5, name: 'buoy'}],
};

describe('nwd convert: YOLO', () => {
  test('K30: class index = position in the sorted category ids; classes.txt; round trip to id 5', async () => {
    const dir = tempDir();
    writeFileSync(join(dir, 'gt.json'), JSON.stringify(K30_GT));
    mkdirSync(join(dir, 'images'));
    await png(join(dir, 'images', 'img.png'), 640, 480);
    const r = runCli(['convert', '--from', 'coco', '--to', 'yolo', '--gt', join(dir, 'gt.json'), '--out', join(dir,
      'yolo')]);
    assert.equal(r.status, 0, r.stderr);
    assert.equal(readFileSync(join(dir, 'yolo', 'img.txt'), 'utf8'), '4 0.171875 0.114583 0.031250 0.020833\n');
    assert.equal(readFileSync(join(dir, 'yolo', 'classes.txt'), 'utf8'),
      `${K30_GT.categories.map((c) => c.name).join('\n')}\n`);
    const back = runCli(['convert', '--from', 'yolo', '--to', 'coco', '--labels', join(dir, 'yolo'), '--images',
      join(dir, 'images')]);
    assert.equal(back.status, 0, back.stderr);
    const gt = JSON.parse(back.stdout) as Gt;
    assert.equal(gt.annotations.length, 1);
    assert.equal(gt.annotations[0].category_id, 5);
    assert.equal(gt.categories.find((c) => c.id === 5)?.name, 'buoy');
    assertClose(gt.annotations[0].bbox, [100, 50, 20, 10], 1e-3, 0, 'bbox');
  });

  test('sparse category ids map to contiguous indices', async () => {
    const dir = tempDir();
    const gt = {...K30_GT, categories: [{id: 90, name: 'z'}, {id: 3, name: 'a'}, {id: 17, name: 'm'}],
      annotations: [{id: 1, image_id: 1, category_id: 90, bbox: [0, 0, 64, 48], area: 3072, iscrowd: 0},
        {id: 2, image_id: 1, category_id: 3, bbox: [0, 0, 64, 48], area: 3072, iscrowd: 0}]};
    writeFileSync(join(dir, 'gt.json'), JSON.stringify(gt));
    const r = runCli(['convert', '--from', 'coco', '--to', 'yolo', '--gt', join(dir, 'gt.json'), '--out', join(dir,
      'y')]);
    assert.equal(r.status, 0, r.stderr);
    assert.equal(readFileSync(join(dir, 'y', 'classes.txt'), 'utf8'), 'a\nm\nz\n');
    assert.deepEqual(readFileSync(join(dir, 'y', 'img.txt'), 'utf8').split('\n').map((l) => l.split(' ')[0]), ['2',
      '0', '']);
  });

  const K29 = ['0 0.50 0.50 0.10 0.10', '1 1.0371 0.50 0.05 0.05', '0 0.99 0.50 0.10 0.10'].join('\n');

  test('K29: out-of-range values are clipped per box, never the whole file dropped', async () => {
    const dir = await textDataset({'img.txt': K29}, {'img.png': [640, 480]});
    const r = runCli(['convert', '--from', 'yolo', '--to', 'coco', '--labels', join(dir, 'labels'), '--images',
      join(dir, 'images'), '--classes', 'a,b', '--out', join(dir, 'gt.json')]);
    assert.equal(r.status, 0, r.stderr);
    const gt = readJsonFile<Gt>(join(dir, 'gt.json'));
    assert.equal(gt.annotations.length, 2);
    assertClose(gt.annotations[1].bbox, [601.6, 216, 38.4, 48], 1e-9, 0, 'clipped box');
    assertClose(gt.annotations[0].bbox, [288, 216, 64, 48], 1e-9, 0, 'inside box');
    assert.match(r.stderr, /1 boxes dropped: nothing left inside the image.*img\.txt, line 2/);
    assert.match(r.stderr, /1 boxes extending outside the image.*line 3.*clipped/);
  });

  test('K29: YOLO -> YOLO writes the clipped row', async () => {
    const dir = await textDataset({'img.txt': K29}, {'img.png': [640, 480]});
    const r = runCli(['convert', '--from', 'yolo', '--to', 'yolo', '--labels', join(dir, 'labels'), '--images',
      join(dir, 'images'), '--classes', 'a,b', '--out', join(dir, 'out')]);
    assert.equal(r.status, 0, r.stderr);
    assert.deepEqual(readFileSync(join(dir, 'out', 'img.txt'), 'utf8').trim().split('\n'),
      ['0 0.500000 0.500000 0.100000 0.100000', '0 0.970000 0.500000 0.060000 0.100000']);
  });

  test('K29 with --strict: an error naming the row, nothing written', async () => {
    const dir = await textDataset({'img.txt': K29}, {'img.png': [640, 480]});
    const out = join(dir, 'gt.json');
    const r = runCli(['convert', '--from', 'yolo', '--to', 'coco', '--labels', join(dir, 'labels'), '--images',
      join(dir, 'images'), '--classes', 'a,b', '--out', out, '--strict']);
    assert.equal(r.status, 2);
    assert.match(r.stderr, /img\.txt, line 2: .*outside.*--strict.*\[E_STRICT\]/);
    assert.equal(existsSync(out), false);
  });

  test('class names come from classes.txt beside the labels; a missing one is an error', async () => {
    const dir = await textDataset({'img.txt': '1 0.5 0.5 0.25 0.25\n', 'classes.txt': 'cat\ndog\n'}, {'img.png': [64,
      32]});
    const r = runCli(['convert', '--from', 'yolo', '--to', 'coco', '--labels', join(dir, 'labels'), '--images',
      join(dir, 'images')]);
    assert.equal(r.status, 0, r.stderr);
    const gt = JSON.parse(r.stdout) as Gt;
    assert.deepEqual(gt.categories, [{id: 1, name: 'cat'}, {id: 2, name: 'dog'}]);
    assert.deepEqual(gt.annotations[0].bbox, [24, 12, 16, 8]);
    assert.equal(gt.annotations[0].category_id, 2);
    const none = await textDataset({'img.txt': '0 0.5 0.5 0.25 0.25\n'}, {'img.png': [64, 32]});
    const e = runCli(['convert', '--from', 'yolo', '--to', 'coco', '--labels', join(none, 'labels'), '--images',
      join(none, 'images')]);
    assert.equal(e.status, 2);
    assert.match(e.stderr, /classes\.txt: no class names.*\[E_CLASSES\]/);
  });

  test('a class index beyond the names is an error naming file and line', async () => {
    const dir = await textDataset({'img.txt': '0 0.5 0.5 0.2 0.2\n2 0.5 0.5 0.2 0.2\n'}, {'img.png': [64, 64]});
    const r = runCli(['convert', '--from', 'yolo', '--to', 'coco', '--labels', join(dir, 'labels'), '--images',
      join(dir, 'images'), '--classes', 'a,b']);
    assert.equal(r.status, 2);
    assert.match(r.stderr, /img\.txt, line 2: class 2 exceeds the 2 class names/);
  });

  test('a malformed row: non-zero exit naming file and line, no output file left', async () => {
    const dir = await textDataset({'a.txt': '0 0.5 0.5 0.2 0.2\n', 'b.txt': '0 0.5 0.5 0.2 0.2\n\n0 0.5 0.5 0.2\n'},
      {'a.png': [64, 64], 'b.png': [64, 64]});
    const out = join(dir, 'out', 'gt.json');
    const r = runCli(['convert', '--from', 'yolo', '--to', 'coco', '--labels', join(dir, 'labels'), '--images',
      join(dir, 'images'), '--classes', 'x', '--out', out]);
    assert.equal(r.status, 2);
    assert.match(r.stderr, /labels\/b\.txt, line 3: malformed YOLO row/);
    assert.doesNotMatch(r.stderr, /at .*\.js:\d+/, 'no stack trace');
    assert.equal(existsSync(out), false);
    assert.deepEqual(existsSync(join(dir, 'out')) ? readdirSync(join(dir, 'out')) : [], []);
  });

  test('a label file without an image is an error naming it', async () => {
    const dir = await textDataset({'a.txt': '0 0.5 0.5 0.2 0.2\n', 'lost.txt': '0 0.5 0.5 0.2 0.2\n'}, {'a.png': [64,
      64]});
    const r = runCli(['convert', '--from', 'yolo', '--to', 'coco', '--labels', join(dir, 'labels'), '--images',
      join(dir, 'images'), '--classes', 'x']);
    assert.equal(r.status, 2);
    assert.match(r.stderr, /labels\/lost\.txt: label file has no image named lost\.\*.*\[E_NO_IMAGE\]/);
    assert.equal(r.stdout, '');
  });

  test('images without a label file are images without objects, counted', async () => {
    const dir = await textDataset({'a.txt': '0 0.5 0.5 0.2 0.2\n'}, {'a.png': [64, 64], 'b.jpg': [32, 16]});
    const r = runCli(['convert', '--from', 'yolo', '--to', 'coco', '--labels', join(dir, 'labels'), '--images',
      join(dir, 'images'), '--classes', 'x', '--json']);
    assert.equal(r.status, 0, r.stderr);
    const res = JSON.parse(r.stdout);
    assert.equal(res.images, 2);
    assert.equal(res.findings['image-without-objects'], 1);
  });
});

describe('nwd convert: round trips', () => {
  let synthDir = '';
  before(async () => {
    synthDir = tempDir('nwd-convert-synth-');
    process.env.NWD_NO_PROGRESS = '1';
    await synthesize({out: synthDir, images: 12, size: 128, seed: 3, valFraction: 0});
  });

  test('COCO -> YOLO -> COCO returns the same boxes within 1e-3 px (synth data, boxes touching borders)', () => {
    const dir = tempDir();
    const gt = join(synthDir, 'train.json');
    let r = runCli(['convert', '--from', 'coco', '--to', 'yolo', '--gt', gt, '--out', join(dir, 'yolo')]);
    assert.equal(r.status, 0, r.stderr);
    r = runCli(['convert', '--from', 'yolo', '--to', 'coco', '--labels', join(dir, 'yolo'), '--images',
      join(synthDir, 'images'), '--out', join(dir, 'back.json')]);
    assert.equal(r.status, 0, r.stderr);
    assert.doesNotMatch(r.stderr, /outside/, 'rounding noise is not "outside the image"');
    const want = readJsonFile<Gt>(gt), got = readJsonFile<Gt>(join(dir, 'back.json'));
    assert.ok(want.annotations.length > 20);
    const touching = want.annotations.filter((a) => a.bbox[0] === 0 || a.bbox[1] === 0 ||
      a.bbox[0] + a.bbox[2] === 128 ||
      a.bbox[1] + a.bbox[3] === 128);
    assert.ok(touching.length >= 1, 'the data has a box on the border');
    assert.equal(got.annotations.length, want.annotations.length);
    assert.deepEqual(got.categories, want.categories);
    assertSameBoxes(got, want, 1e-3);
  });

  test('large images get more decimals: fractional boxes on 2400 x 1600 round trip within 1e-3 px', async () => {
    const dir = tempDir();
    mkdirSync(join(dir, 'images'));
    await png(join(dir, 'images', 'big.png'), 2400, 1600);
    const boxes = [[0.123457, 1.987654, 17.3333, 9.1], [2383.7, 1590.25, 16.3, 9.75], [1200.5, 800.5, 2.2, 3.3]];
    const gt = {images: [{id: 1, file_name: 'big.png', width: 2400, height: 1600}],
      annotations: boxes.map((b, i) => ({id: i + 1, image_id: 1, category_id: 1, bbox: b, area: b[2] * b[3],
        iscrowd: 0})),
      categories: [{id: 1, name: 'thing'}]};
    writeFileSync(join(dir, 'gt.json'), JSON.stringify(gt));
    runCli(['convert', '--from', 'coco', '--to', 'yolo', '--gt', join(dir, 'gt.json'), '--out', join(dir, 'y')]);
    assert.match(readFileSync(join(dir, 'y', 'big.txt'), 'utf8'), /^0 0\.\d{7} /);
    const r = runCli(['convert', '--from', 'yolo', '--to', 'coco', '--labels', join(dir, 'y'), '--images', join(dir,
      'images')]);
    assert.equal(r.status, 0, r.stderr);
    assertSameBoxes(JSON.parse(r.stdout) as Gt, gt as Gt, 1e-3);
  });
});

describe('nwd convert: validation', () => {
  const gtWith = (annotations: object[]) => ({
    images: [{id: 1, file_name: 'a.png', width: 100, height: 100}, {id: 2, file_name: 'b.png', width: 100,
      height: 100}],
    annotations, categories: [{id: 1, name: 'x'}],
  });
  const ann = (id: number, bbox: number[]) => ({id, image_id: 1, category_id: 1, bbox, area: bbox[2] * bbox[3],
    iscrowd: 0});

  test('findings are counted on stderr and in --json; every object kept by default', () => {
    const dir = tempDir();
    writeFileSync(join(dir, 'gt.json'), JSON.stringify(gtWith([ann(0, [1, 1, 0, 5]), ann(3, [90, 90, 20, 5]),
      ann(3, [10, 10, 5, 5])])));
    const r = runCli(['convert', '--from', 'coco', '--to', 'coco', '--gt', join(dir, 'gt.json'), '--out',
      join(dir, 'out.json'), '--json']);
    assert.equal(r.status, 0, r.stderr);
    const res = JSON.parse(r.stdout);
    assert.deepEqual(res.findings, {'degenerate': 1, 'outside-image': 1, 'dropped-outside': 0, 'duplicate-id': 1,
      'zero-id': 1, 'image-without-objects': 1});
    assert.equal(res.annotations, 3);
    assert.equal(readJsonFile<Gt>(join(dir, 'out.json')).annotations.length, 3);
    assert.match(r.stderr, /1 degenerate boxes.*annotations\[0\]/);
    assert.match(r.stderr, /1 duplicate annotation ids/);
    assert.match(r.stderr, /1 annotation ids of 0/);
    assert.match(r.stderr, /1 images without objects.*b\.png/);
    assert.match(r.stderr, /1 boxes extending outside the image/);
  });

  test('--drop-degenerate drops zero-width/height boxes; --strict refuses them', () => {
    const dir = tempDir();
    writeFileSync(join(dir, 'gt.json'), JSON.stringify(gtWith([ann(1, [1, 1, 0, 5]), ann(2, [10, 10, 5, 5]),
      {...ann(3, [20, 20, 5, 0]), image_id: 2}])));
    const r = runCli(['convert', '--from', 'coco', '--to', 'coco', '--gt', join(dir, 'gt.json'), '--drop-degenerate']);
    assert.equal(r.status, 0, r.stderr);
    const gt = JSON.parse(r.stdout) as Gt;
    assert.deepEqual(gt.annotations.map((a) => a.id), [2]);
    const s = runCli(['convert', '--from', 'coco', '--to', 'coco', '--gt', join(dir, 'gt.json'), '--strict',
      '--out', join(dir, 'o.json')]);
    assert.equal(s.status, 2);
    assert.match(s.stderr, /annotations\[0\]: box \[1, 1, 0, 5\] has zero width.*\[E_STRICT\]/);
    assert.equal(existsSync(join(dir, 'o.json')), false);
  });

  test('negative sizes break the box policy: an error naming the annotation', () => {
    const dir = tempDir();
    writeFileSync(join(dir, 'gt.json'), JSON.stringify(gtWith([ann(1, [1, 1, 4, 5]), ann(2, [10, 10, -5, 5])])));
    const r = runCli(['convert', '--from', 'coco', '--to', 'yolo', '--gt', join(dir, 'gt.json'), '--out', join(dir,
      'y')]);
    assert.equal(r.status, 2);
    assert.match(r.stderr, /annotations\[1\] \(annotation 2\).*reversed.*\[E_BOX_REVERSED\]/);
    assert.equal(existsSync(join(dir, 'y')), false);
  });

  test('stdout holds only the data; jsonl has one annotation per line', () => {
    const dir = tempDir();
    writeFileSync(join(dir, 'gt.json'), JSON.stringify(gtWith([ann(1, [1, 1, 4, 5]), ann(2, [10, 10, 5, 5])])));
    const r = runCli(['convert', '--from', 'coco', '--to', 'jsonl', '--gt', join(dir, 'gt.json')]);
    assert.equal(r.status, 0, r.stderr);
    const lines = r.stdout.trim().split('\n').map((l) => JSON.parse(l));
    assert.deepEqual(lines.map((l) => l.id), [1, 2]);
    assert.equal(lines[0].file_name, 'a.png');
    assert.match(r.stderr, /converted coco -> jsonl: 2 images, 2 annotations/);
  });

  test('flag combinations are checked', () => {
    const r = runCli(['convert', '--from', 'yolo', '--to', 'coco', '--labels', 'x']);
    assert.equal(r.status, 2);
    assert.match(r.stderr, /--from yolo needs --labels DIR and --images DIR/);
    const y = runCli(['convert', '--from', 'coco', '--to', 'yolo', '--gt', 'x.json']);
    assert.equal(y.status, 2);
    assert.match(y.stderr, /--to yolo needs --out DIR/);
  });
});

describe('nwd convert: VisDrone', () => {
  test('ignored regions and others become ignore GT in every category; truncation/occlusion kept', async () => {
    const dir = tempDir();
    mkdirSync(join(dir, 'images'));
    await png(join(dir, 'images', '0000001.jpg'), 1000, 600);
    const r = runCli(['convert', '--from', 'visdrone', '--to', 'coco', '--labels', join(FIX, 'visdrone'), '--images',
      join(dir, 'images'), '--json']);
    assert.equal(r.status, 0, r.stderr);
    assert.deepEqual(JSON.parse(r.stdout).notes, {ignoredRegions: 1, others: 1, scoreZero: 1});
    const c = runCli(['convert', '--from', 'visdrone', '--to', 'coco', '--labels', join(FIX, 'visdrone'), '--images',
      join(dir, 'images')]);
    const gt = JSON.parse(c.stdout) as Gt;
    assert.equal(gt.categories.length, 10);
    assert.deepEqual(gt.categories[3], {id: 4, name: 'car'});
    const car = gt.annotations.find((a) => a.category_id === 4 && !a.iscrowd)!;
    assert.deepEqual([car.bbox, car.truncation, car.occlusion], [[406, 119, 265, 70], 1, 2]);
    const regions = gt.annotations.filter((a) => a.visdrone_category === 0);
    assert.deepEqual(regions.map((a) => a.category_id), [1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);
    assert.ok(regions.every((a) => a.iscrowd === 1 && a.ignore === 1 && a.bbox.join() === '684,8,273,116'));
    assert.equal(gt.annotations.filter((a) => a.visdrone_category === 11).length, 10);
    const zero = gt.annotations.filter((a) => a.iscrowd && a.visdrone_category === undefined);
    assert.deepEqual(zero.map((a) => [a.category_id, a.ignore]), [[1, 1]]);
    assert.equal(gt.annotations.filter((a) => !a.iscrowd).length, 2);
    assert.deepEqual(gt.annotations.map((a) => a.id), gt.annotations.map((_, i) => i + 1));
  });

  test('to YOLO: ignore GT is left out and counted', async () => {
    const dir = tempDir();
    mkdirSync(join(dir, 'images'));
    await png(join(dir, 'images', '0000001.jpg'), 1000, 600);
    const r = runCli(['convert', '--from', 'visdrone', '--to', 'yolo', '--labels', join(FIX, 'visdrone'), '--images',
      join(dir, 'images'), '--out', join(dir, 'y')]);
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stderr, /crowdNotInYolo 21/);
    assert.deepEqual(readFileSync(join(dir, 'y', '0000001.txt'), 'utf8').trim().split('\n').map((l) => l.split(' ')[0]),
      ['3', '9']);
  });
});

describe('nwd convert: DOTA', () => {
  test('polygon min/max boxes, sorted class names, difficult and header kept', async () => {
    const dir = tempDir();
    mkdirSync(join(dir, 'images'));
    await png(join(dir, 'images', 'P0001.png'), 1000, 1000);
    const r = runCli(['convert', '--from', 'dota', '--to', 'coco', '--labels', join(FIX, 'dota'), '--images',
      join(dir, 'images')]);
    assert.equal(r.status, 0, r.stderr);
    const gt = JSON.parse(r.stdout) as Gt;
    assert.deepEqual(gt.categories, [{id: 1, name: 'harbor'}, {id: 2, name: 'ship'}, {id: 3, name: 'small-vehicle'}]);
    assert.deepEqual(gt.annotations.map((a) => [a.category_id, a.bbox, a.difficult, a.area]), [
      [3, [921, 874, 19, 39], 0, 741], [2, [10, 10, 20, 10], 1, 200], [3, [5, 5, 0, 20], 2, 0], [1, [40, 40, 20, 10],
        0, 200]]);
    assert.equal(gt.images[0].gsd, '0.25');
    assert.match(r.stderr, /1 degenerate boxes/);
  });

  test('K27: converters never add +1 (normalised widths stay the box extent)', async () => {
    const dir = tempDir();
    mkdirSync(join(dir, 'images'));
    mkdirSync(join(dir, 'labels'));
    await png(join(dir, 'images', 'n.png'), 1000, 1000);
    const [x1, y1, x2, y2] = [0.23057675, 0.5892799, 0.986047, 0.9310652].map((v) => v * 1000);
    writeFileSync(join(dir, 'labels', 'n.txt'), `${x1} ${y1} ${x2} ${y1} ${x2} ${y2} ${x1} ${y2} thing 0\n`);
    const r = runCli(['convert', '--from', 'dota', '--to', 'yolo', '--labels', join(dir, 'labels'), '--images',
      join(dir, 'images'), '--out', join(dir, 'y')]);
    assert.equal(r.status, 0, r.stderr);
    const [, , , w, h] = readFileSync(join(dir, 'y', 'n.txt'), 'utf8').trim().split(' ').map(Number);
    assertClose([w, h], [0.75547, 0.341785], 1e-6, 0, 'normalised wh');
    // The modern (continuous) IoU the case expects for the same pixel boxes.
    const pairs = [[[0, 0, 2, 2], [1, 0, 3, 2], 1 / 3], [[0, 0, 2, 2], [2, 0, 4, 2], 0], [[0, 0, 10, 10], [5, 0, 15,
      10], 1 / 3]];
    for (const [a, b, want] of pairs) {
      const iou = pairwise('iou', Float32Array.from(a as number[]), Float32Array.from(b as number[]));
      assertClose([iou[0]], [want as number], 1e-6, 0, `iou ${JSON.stringify(a)} ${JSON.stringify(b)}`);
    }
  });

  test('an unknown class with --classes is an error naming the row', async () => {
    const dir = tempDir();
    mkdirSync(join(dir, 'images'));
    await png(join(dir, 'images', 'P0001.png'), 1000, 1000);
    const r = runCli(['convert', '--from', 'dota', '--to', 'coco', '--labels', join(FIX, 'dota'), '--images',
      join(dir, 'images'), '--classes', 'ship,small-vehicle']);
    assert.equal(r.status, 2);
    assert.match(r.stderr, /P0001\.txt, line 6: class "harbor" is not in --classes/);
  });

  const SAMPLE = 'data/dota_devkit_samples';
  const DOTA_CLASSES = ['plane', 'baseball-diamond', 'bridge', 'ground-track-field', 'small-vehicle', 'large-vehicle',
    'ship', 'tennis-court', 'basketball-court', 'storage-tank', 'soccer-ball-field', 'roundabout', 'harbor',
    'swimming-pool', 'helicopter', 'container-crane'];

  test('the DOTA devkit sample gives exactly the 1187 boxes of its coco_hbb.json', (t) => {
    const root = sharedPath(SAMPLE);
    if (!root) return t.skip(sharedMissing(SAMPLE));
    const want = readJsonFile<Gt>(join(root, 'coco_hbb.json'));
    const r = runCli(['convert', '--from', 'dota', '--to', 'coco', '--labels', join(root, 'labelTxt'), '--images',
      join(root, 'images'), '--classes', DOTA_CLASSES.join(',')]);
    assert.equal(r.status, 0, r.stderr);
    const got = JSON.parse(r.stdout) as Gt;
    assert.equal(got.annotations.length, 1187);
    assert.deepEqual(got.images.map((im) => [im.file_name, im.width, im.height, im.gsd]),
      want.images.map((im) => [im.file_name, im.width, im.height, im.gsd]));
    const strip = (g: Gt) => g.annotations.map((a) => [a.image_id, a.category_id, a.bbox, a.area, a.difficult, a.poly]);
    assert.deepEqual(strip(got), strip(want));
    assert.deepEqual(got.categories.map((c) => [c.id, c.name]), want.categories.map((c) => [c.id, c.name]));
    // Without --classes: the names found, sorted, ids from 1; the same boxes.
    const s = runCli(['convert', '--from', 'dota', '--to', 'coco', '--labels', join(root, 'labelTxt'), '--images',
      join(root, 'images')]);
    const sorted = JSON.parse(s.stdout) as Gt;
    assert.deepEqual(sorted.categories.map((c) => c.name), ['harbor', 'large-vehicle', 'ship', 'small-vehicle']);
    assertSameBoxes(sorted, want, 0);
    assert.match(s.stderr, /2 degenerate boxes/);
  });

  test('the DOTA sample through YOLO and back keeps every box inside its image within 1e-3 px', (t) => {
    const root = sharedPath(SAMPLE);
    if (!root) return t.skip(sharedMissing(SAMPLE));
    const dir = tempDir();
    copyFileSync(join(root, 'coco_hbb_clean.json'), join(dir, 'gt.json'));
    let r = runCli(['convert', '--from', 'coco', '--to', 'yolo', '--gt', join(dir, 'gt.json'), '--out', join(dir,
      'y')]);
    assert.equal(r.status, 0, r.stderr);
    r = runCli(['convert', '--from', 'yolo', '--to', 'coco', '--labels', join(dir, 'y'), '--images', join(root,
      'images')]);
    assert.equal(r.status, 0, r.stderr);
    const want = readJsonFile<Gt>(join(dir, 'gt.json'));
    const inside = want.annotations.filter((a) => {
      const im = want.images.find((i) => i.id === a.image_id)!;
      return a.bbox[0] + a.bbox[2] <= im.width && a.bbox[1] + a.bbox[3] <= im.height;
    });
    assert.ok(inside.length >= 1180);
    const got = JSON.parse(r.stdout) as Gt;
    assert.equal(got.annotations.length, want.annotations.length);
    const keep = new Set(inside);
    want.annotations = want.annotations.filter((a) => keep.has(a));
    const gotInside = boxesByImage(got), wantInside = boxesByImage(want);
    for (const [k, boxes] of wantInside) {
      for (const b of boxes) {
        assert.ok(gotInside.get(k)!.some((g) => g.every((v, i) => Math.abs(v - b[i]) <= 1e-3)), `${k} ${b}`);
      }
    }
  });
});
