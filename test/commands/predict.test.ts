import {test, before} from 'node:test';
import assert from 'node:assert/strict';
import {readFileSync, copyFileSync, mkdirSync} from 'node:fs';
import {join} from 'node:path';
import {runCli, tempDir} from '../helpers.js';

let data: string;
let model: string;

before(() => {
  data = tempDir();
  let r = runCli(['synth', '--out', data, '--images', '4', '--size', '96', '--seed', '5', '--val-fraction', '0.5']);
  assert.equal(r.status, 0, r.stderr);
  model = join(tempDir(), 'model');
  r = runCli(['train', '--data', join(data, 'train.json'), '--images', join(data, 'images'), '--out', model,
    '--preset', 'smoke', '--crop', '64', '--batch', '2', '--epochs', '1', '--backend', 'wasm']);
  assert.equal(r.status, 0, r.stderr);
});

interface Rec {
  image_id: number | string;
  category_id: number;
  bbox: number[];
  score: number;
}

function checkRecords(recs: Rec[], ids: Set<number | string>, cats: Set<number>, maxScore = 1): void {
  for (const d of recs) {
    assert.deepEqual(Object.keys(d).sort(), ['bbox', 'category_id', 'image_id', 'score']);
    assert.ok(ids.has(d.image_id), `image id ${d.image_id}`);
    assert.ok(cats.has(d.category_id), `category ${d.category_id}`);
    assert.equal(d.bbox.length, 4);
    assert.ok(d.bbox.every(Number.isFinite) && d.bbox[2] >= 0 && d.bbox[3] >= 0);
    assert.ok(d.score > 0 && d.score <= maxScore);
  }
}

test('predict --gt: COCO results with the GT\'s image and category ids; --score-threshold 0 raises the count', () => {
  const gt = JSON.parse(readFileSync(join(data, 'val.json'), 'utf8'));
  const out = join(tempDir(), 'pred.json');
  const r = runCli(['predict', '--model', model, '--images', join(data, 'images'), '--gt', join(data, 'val.json'),
    '--out', out, '--score-threshold', '0.001', '--json']);
  assert.equal(r.status, 0, r.stderr);
  const summary = JSON.parse(r.stdout);
  assert.equal(summary.images, gt.images.length);
  const recs = JSON.parse(readFileSync(out, 'utf8')) as Rec[];
  assert.equal(recs.length, summary.detections);
  assert.ok(recs.length > 0);
  checkRecords(recs, new Set(gt.images.map((i: {id: number}) => i.id)),
    new Set(gt.categories.map((c: {id: number}) => c.id)));
  const ev = runCli(['eval', '--gt', join(data, 'val.json'), '--dt', out, '--json']);
  assert.equal(ev.status, 0, ev.stderr);
  assert.equal(typeof JSON.parse(ev.stdout).stats.AP50, 'number');
});

test('predict without --gt: ids from file names, JSON Lines, --raw keeps at least as many', () => {
  const dir = tempDir();
  mkdirSync(join(dir, 'imgs'));
  copyFileSync(join(data, 'images', '000001.png'), join(dir, 'imgs', '000042.png'));
  copyFileSync(join(data, 'images', '000002.png'), join(dir, 'imgs', 'scene-b.png'));
  const nms = runCli(['predict', '--model', model, '--images', join(dir, 'imgs'), '--out', '-', '--jsonl',
    '--score-threshold', '0.001']);
  assert.equal(nms.status, 0, nms.stderr);
  const lines = nms.stdout.trim().split('\n').filter(Boolean).map((l) => JSON.parse(l) as Rec);
  assert.ok(lines.length > 0);
  const cats = new Set((JSON.parse(readFileSync(join(model, 'config.json'), 'utf8')).classes as {id: number}[])
    .map((c) => c.id));
  checkRecords(lines, new Set([42, 'scene-b']), cats);
  const raw = runCli(['predict', '--model', model, '--images', join(dir, 'imgs', '000042.png'),
    join(dir, 'imgs', 'scene-b.png'), '--out', '-', '--jsonl', '--raw', '--score-threshold', '0.001']);
  assert.equal(raw.status, 0, raw.stderr);
  assert.ok(raw.stdout.trim().split('\n').length >= lines.length);
});

test('predict tiles images larger than --tile and still finds boxes inside the image', () => {
  const out = join(tempDir(), 'pred.json');
  const r = runCli(['predict', '--model', model, '--images', join(data, 'images', '000001.png'), '--tile', '48',
    '--out', out, '--score-threshold', '0.001']);
  assert.equal(r.status, 0, r.stderr);
  const recs = JSON.parse(readFileSync(out, 'utf8')) as Rec[];
  assert.ok(recs.length > 0);
  for (const d of recs) assert.ok(d.bbox[0] >= 0 && d.bbox[1] >= 0 && d.bbox[0] + d.bbox[2] <= 96.001);
});

test('predict: a missing model directory is a user error', () => {
  const r = runCli(['predict', '--model', join(tempDir(), 'none'), '--images', data, '--out', '-']);
  assert.equal(r.status, 2, r.stderr);
  assert.match(r.stderr, /E_MODEL/);
});
