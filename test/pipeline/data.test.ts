import {test} from 'node:test';
import assert from 'node:assert/strict';
import {writeFileSync, readFileSync, mkdirSync} from 'node:fs';
import {join} from 'node:path';
import {splitCoco} from '../../src/pipeline/data.js';
import {UserError} from '../../src/cli/errors.js';
import {tempDir} from '../helpers.js';

function dataset(dir: string, n: number): string {
  mkdirSync(join(dir, 'img'), {recursive: true});
  const images = Array.from({length: n}, (_, i) => ({
    id: i + 1,
    file_name: `${i + 1}.png`,
    width: 10,
    height: 10,
    extra: i,
  }));
  for (const im of images) writeFileSync(join(dir, 'img', im.file_name), '');
  const annotations = images.map((im, k) => ({
    id: k + 1,
    image_id: im.id,
    category_id: 1,
    bbox: [1, 1, 2, 2],
    area: 4,
    iscrowd: 0,
    poly: [k],
  }));
  const file = join(dir, 'gt.json');
  writeFileSync(file, JSON.stringify({info: {x: 1}, images, annotations, categories: [{id: 1, name: 'a'}]}));
  return file;
}

test('splitCoco: seeded split by image, every record kept whole, deterministic', async () => {
  const dir = tempDir();
  const gt = dataset(dir, 10);
  const a = await splitCoco(gt, join(dir, 'img'), join(dir, 'a'), 0.3, 7);
  const b = await splitCoco(gt, join(dir, 'img'), join(dir, 'b'), 0.3, 7);
  const read = (f: string) => JSON.parse(readFileSync(f, 'utf8'));
  const [train, val] = [read(a.train), read(a.val)];
  assert.equal(val.images.length, 3);
  assert.equal(train.images.length, 7);
  assert.deepEqual(read(b.val), val, 'same seed, same split');
  const valIds = new Set(val.images.map((i: {id: number}) => i.id));
  assert.ok(val.annotations.every((x: {image_id: number}) => valIds.has(x.image_id)));
  assert.ok(train.annotations.every((x: {image_id: number}) => !valIds.has(x.image_id)));
  assert.deepEqual(train.info, {x: 1});
  assert.ok('poly' in train.annotations[0] && 'extra' in train.images[0], 'extra fields carried through');
  const c = await splitCoco(gt, join(dir, 'img'), join(dir, 'c'), 0.3, 8);
  assert.notDeepEqual(
    read(c.val).images.map((i: {id: number}) => i.id),
    [...valIds],
    'another seed, another split',
  );
});

test('splitCoco: errors for one image, a bad fraction and missing image files', async () => {
  const dir = tempDir();
  const one = dataset(join(dir, 'one'), 1);
  await assert.rejects(
    splitCoco(one, join(dir, 'one', 'img'), join(dir, 'o'), 0.3, 0),
    (e: unknown) => e instanceof UserError && /at least 2/.test(e.message),
  );
  const gt = dataset(join(dir, 'two'), 3);
  await assert.rejects(splitCoco(gt, join(dir, 'two', 'img'), join(dir, 'o'), 1.5, 0), /between 0 and 1/);
  await assert.rejects(
    splitCoco(gt, dir, join(dir, 'o'), 0.3, 0),
    (e: unknown) => e instanceof UserError && e.code === 'E_MISSING_IMAGE' && /1\.png \(id 1\)/.test(e.message),
  );
});
