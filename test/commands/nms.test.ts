import {test, describe} from 'node:test';
import assert from 'node:assert/strict';
import {writeFileSync, readFileSync, existsSync, readdirSync} from 'node:fs';
import {join} from 'node:path';
import {runCli, tempDir} from '../helpers.js';
import {batchedNms, nms} from '../../src/nms/nms.js';
import {toXyxy} from '../../src/geometry/boxes.js';

interface Rec {
  image_id: number | string; category_id: number; bbox: number[]; score: number | null; [k: string]: unknown;
}

/** Detections of several images, grouped by image, with extra keys and number spellings to preserve. */
function predictions(): Rec[] {
  let s = 11;
  const rnd = () => ((s = (Math.imul(s, 1664525) + 1013904223) >>> 0) / 2 ** 32);
  const recs: Rec[] = [];
  for (const image of [3, 1, 'img-7', 0]) {
    for (let k = 0; k < 40; k++) {
      const x = 20 + rnd() * 60, y = 20 + rnd() * 60;
      const bbox = [x, y, 4 + rnd() * 20, 4 + rnd() * 20].map((v) => Math.round(v * 100) / 100);
      recs.push({image_id: image, category_id: 1 + Math.floor(rnd() * 3), bbox, score: Math.round(rnd() * 1000) / 1000,
        id: recs.length, note: {k}});
    }
  }
  return recs;
}

/** Expected kept records per image, through the library (itself tested against torchvision). */
function expectedKept(recs: Rec[], opts: {agnostic?: boolean; threshold?: number} = {}): Set<number> {
  const kept = new Set<number>();
  const byImage = new Map<unknown, Rec[]>();
  for (const r of recs) byImage.set(r.image_id, [...(byImage.get(r.image_id) ?? []), r]);
  for (const list of byImage.values()) {
    const live = list.filter((r) => typeof r.score === 'number' && Number.isFinite(r.score));
    const boxes = toXyxy(live.flatMap((r) => r.bbox), 'xywh');
    const scores = Float32Array.from(live.map((r) => r.score as number));
    const o = {threshold: opts.threshold ?? 0.5};
    const keep = opts.agnostic ? nms(boxes, scores, o)
      : batchedNms(boxes, scores, Int32Array.from(live.map((r) => r.category_id)), o);
    for (const k of keep) kept.add(live[k].id as number);
  }
  return kept;
}

const jsonl = (recs: Rec[]) => recs.map((r) => JSON.stringify(r)).join('\n') + '\n';
const ids = (recs: Rec[]) => new Set(recs.map((r) => r.id as number));

describe('nwd nms', () => {
  const recs = predictions();

  test('JSON Lines through a pipe: kept lines byte for byte, per image by score, stdout clean', () => {
    // Spellings JSON.stringify would change: they must come out as they went in.
    const lines = jsonl(recs).split('\n').filter(Boolean);
    lines[0] = lines[0].replace(/"score":([0-9.]+)/, '"score": $1000').replace('"id":0', '"id":0.0');
    const r = runCli(['nms'], {input: lines.join('\n') + '\n'});
    assert.equal(r.status, 0, r.stderr);
    const out = r.stdout.trimEnd().split('\n');
    assert.ok(out.every((l) => lines.includes(l)), 'every output line is an input line, unchanged');
    const got = out.map((l) => JSON.parse(l) as Rec);
    assert.deepEqual(ids(got), expectedKept(recs));
    assert.ok(got.length < recs.length && got.length > 8);
    // Grouped input: images come out in input order, each sorted by score.
    const images = [...new Set(got.map((g) => g.image_id))];
    assert.deepEqual(images, [3, 1, 'img-7', 0]);
    for (let i = 1; i < got.length; i++) {
      if (got[i].image_id === got[i - 1].image_id) assert.ok((got[i].score as number) <= (got[i - 1].score as number));
    }
    assert.equal(r.stderr, '');
  });

  test('a JSON array file gives a JSON array with every field kept', () => {
    const dir = tempDir();
    const file = join(dir, 'preds.json');
    writeFileSync(file, JSON.stringify(recs, null, 1));
    const r = runCli(['nms', file, '--class-agnostic', '--threshold', '0.3']);
    assert.equal(r.status, 0, r.stderr);
    assert.ok(r.stdout.startsWith('[\n'));
    const got = JSON.parse(r.stdout) as Rec[];
    assert.deepEqual(ids(got), expectedKept(recs, {agnostic: true, threshold: 0.3}));
    for (const g of got) assert.deepEqual(g, recs[g.id as number]);
  });

  test('input need not be grouped by image: same kept set', () => {
    const shuffled = [...recs].sort((a, b) => ((a.id as number) * 7919) % 160 - ((b.id as number) * 7919) % 160);
    const r = runCli(['nms', '-'], {input: jsonl(shuffled)});
    assert.equal(r.status, 0, r.stderr);
    assert.deepEqual(ids(r.stdout.trimEnd().split('\n').map((l) => JSON.parse(l))), expectedKept(recs));
  });

  test('NWD, score threshold, max dets; null and NaN-like scores dropped and counted on stderr', () => {
    const withNull = [...recs.slice(0, 40), {...recs[0], id: 999, score: null}];
    const r = runCli(['nms', '--metric', 'nwd', '--threshold', '0.6', '--score-threshold', '0.2', '--max-dets', '5'],
      {input: jsonl(withNull)});
    assert.equal(r.status, 0, r.stderr);
    const got = r.stdout.trimEnd().split('\n').map((l) => JSON.parse(l) as Rec);
    assert.ok(got.length <= 5 && got.length > 0);
    assert.ok(got.every((g) => (g.score as number) >= 0.2 && g.id !== 999));
    assert.match(r.stderr, /dropped 1 detection\(s\) with a NaN, infinite or null score/);
  });

  test('Soft-NMS rewrites only the score, and only where it decayed', () => {
    const r = runCli(['nms', '--soft', 'gaussian', '--sigma', '0.5', '--score-threshold', '0.05'],
      {input: jsonl(recs)});
    assert.equal(r.status, 0, r.stderr);
    const got = r.stdout.trimEnd().split('\n').map((l) => JSON.parse(l) as Rec);
    let decayed = 0;
    for (const g of got) {
      const orig = recs[g.id as number];
      assert.deepEqual({...g, score: orig.score}, orig);
      assert.ok((g.score as number) <= (orig.score as number) + 1e-7);
      if ((g.score as number) < (orig.score as number) - 1e-6) decayed++;
    }
    assert.ok(decayed > 0 && got.length > ids(recs).size / 3);
  });

  test('--output writes the file atomically; --json prints a summary', () => {
    const dir = tempDir();
    const out = join(dir, 'sub', 'kept.jsonl');
    const r = runCli(['nms', '-o', out, '--json'], {input: jsonl(recs)});
    assert.equal(r.status, 0, r.stderr);
    const summary = JSON.parse(r.stdout);
    assert.equal(summary.images, 4);
    assert.equal(summary.detections, recs.length);
    assert.equal(summary.format, 'jsonl');
    assert.equal(summary.kept, expectedKept(recs).size);
    assert.equal(readFileSync(out, 'utf8').trimEnd().split('\n').length, summary.kept);
    assert.deepEqual(readdirSync(join(dir, 'sub')), ['kept.jsonl']);
    const j = runCli(['nms', '--json', '--quiet'], {input: jsonl(recs.slice(0, 40))});
    assert.equal(JSON.parse(j.stdout).records.length, JSON.parse(j.stdout).kept);
  });

  test('empty inputs', () => {
    assert.deepEqual([runCli(['nms'], {input: ''}).stdout, runCli(['nms'], {input: '[]'}).stdout], ['', '[]\n']);
  });

  test('bad input: the line or byte offset, the record, the flag; exit 2, no stack trace, nothing on stdout', () => {
    const lines = jsonl(recs.slice(0, 5)).split('\n');
    const cases: Array<[string[], string, RegExp]> = [
      [['nms'], lines.slice(0, 3).join('\n') + '\n{"image_id": 1,\n', /-, line 4: invalid JSON/],
      [['nms'], '[' + JSON.stringify(recs[0]) + ',\n{"image_id": 1 "x": 2}]',
        /byte offset \d+ \(line 2, column \d+\): invalid JSON/],
      [['nms'], JSON.stringify({...recs[0], category_id: undefined}) + '\n',
        /line 1: missing or invalid "category_id"/],
      [['nms'], lines[0] + '\n' + JSON.stringify({...recs[1], bbox: [1, 2, -3, 4]}) + '\n',
        /line 2: bbox \[1, 2, -3, 4\] has a negative width/],
      [['nms'], JSON.stringify({...recs[1], bbox: [1, null, 3, 4]}) + '\n',
        /line 1: bbox \[1, null, 3, 4\] has a null/],
      [['nms', '--soft', 'linear', '--threshold', '0.3'],
        lines[0] + '\n' + JSON.stringify({...recs[1], score: -0.5}) + '\n',
        /line 2: Soft-NMS needs non-negative scores/],
      [['nms', '--threshold', '1.5'], lines[0], /--threshold must be in \[0, 1\] for iou/],
      [['nms', '--threshold', 'abc'], lines[0], /--threshold must be a number/],
      [['nms', '--sigma', '0.5', '--soft', 'linear'], lines[0], /--sigma only applies to --soft gaussian/],
      [['nms', '--max-dets', '2.5'], lines[0], /--max-dets must be a positive integer/],
      [['nms', '--c', '8'], lines[0], /--c and --nwd-form only apply to --metric nwd/],
    ];
    for (const [args, input, want] of cases) {
      const r = runCli(args, {input});
      assert.equal(r.status, 2, `${args.join(' ')}: ${r.stderr}`);
      assert.match(r.stderr, want);
      assert.doesNotMatch(r.stderr, /\n\s+at /, 'no stack trace');
      assert.equal(r.stdout, '', 'no partial output');
    }
    const missing = runCli(['nms', '/nonexistent/preds.json']);
    assert.equal(missing.status, 2);
    assert.match(missing.stderr, /nonexistent\/preds.json: cannot read: no such file/);
  });

  test('the temporary copy of stdin is removed', () => {
    const dir = tempDir();
    const r = runCli(['nms'], {input: jsonl(recs.slice(0, 3)), env: {TMPDIR: dir}});
    assert.equal(r.status, 0, r.stderr);
    assert.deepEqual(readdirSync(dir), []);
    assert.ok(existsSync(dir));
  });

  test('--help names the flags and the memory behaviour', () => {
    const r = runCli(['nms', '--help']);
    assert.equal(r.status, 0);
    const flags = ['--metric', '--threshold', '--c', '--class-agnostic', '--score-threshold', '--max-dets', '--soft',
      '--sigma'];
    for (const flag of flags) {
      assert.ok(r.stdout.includes(flag), flag);
    }
    assert.match(r.stdout.replace(/\s+/g, ' '), /grouped by image_id, memory holds one image's detections/);
  });
});
