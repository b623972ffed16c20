import {test, describe, before} from 'node:test';
import assert from 'node:assert/strict';
import {writeFileSync, readFileSync, existsSync} from 'node:fs';
import {join} from 'node:path';
import {ROOT, runCli, tempDir, readJsonFile, sharedPath, sharedMissing} from '../helpers.js';

const COCO_KEYS = ['AP', 'AP50', 'AP75', 'APs', 'APm', 'APl', 'AR1', 'AR10', 'AR100', 'ARs', 'ARm', 'ARl'];
const AITOD_KEYS = ['AP', 'AP50', 'AP75', 'APvt', 'APt', 'APs', 'APm', 'AR1', 'AR100', 'AR1500', 'ARvt', 'ARt', 'ARs',
  'ARm', 'oLRP', 'oLRPloc', 'oLRPfp', 'oLRPfn'];

interface Fixture {
  gt: {images: unknown[]; annotations: unknown[]; categories: unknown[]};
  dt: Array<Record<string, unknown>>;
  expected: Record<'coco' | 'aitod', {stats: Record<string, number>}>;
  expected_ids_shifted?: Record<'coco' | 'aitod', {stats: Record<string, number>}>;
}

let dir = '';
let fx: Fixture;
const p = (name: string) => join(dir, name);

before(() => {
  dir = tempDir('nwd-eval-cli-');
  fx = readJsonFile<Fixture>(join(ROOT, 'test/fixtures/eval/random_mixed.json'));
  writeFileSync(p('gt.json'), JSON.stringify(fx.gt));
  writeFileSync(p('dt.json'), JSON.stringify(fx.dt));
  writeFileSync(p('dt.jsonl'), fx.dt.map((d) => JSON.stringify(d)).join('\n') + '\n');
  writeFileSync(p('empty.json'), '[]');
  const id0 = readJsonFile<Fixture>(join(ROOT, 'test/fixtures/eval/random_id0.json'));
  writeFileSync(p('gt0.json'), JSON.stringify(id0.gt));
  writeFileSync(p('dt0.json'), JSON.stringify(id0.dt));
  writeFileSync(p('id0-expected.json'), JSON.stringify(id0));
  writeFileSync(p('dt-unknown.json'), JSON.stringify([...fx.dt.slice(0, 3), {image_id: 424242, category_id: 1,
    bbox: [1, 1, 2, 2], score: 0.5}, {image_id: 'x9', category_id: 1, bbox: [1, 1, 2, 2], score: 0.5}]));
});

function close(got: Record<string, number>, want: Record<string, number>, what: string): void {
  for (const [k, v] of Object.entries(want)) {
    assert.ok(Math.abs(got[k] - v) <= 1e-12, `${what} ${k}: ${got[k]} vs ${v}`);
  }
}

describe('nwd eval (CLI)', () => {
  test('--json (COCO): protocol, settings and exactly the 12 stats, equal to pycocotools', () => {
    const r = runCli(['eval', '--gt', p('gt.json'), '--dt', p('dt.json'), '--json']);
    assert.equal(r.status, 0, r.stderr);
    const out = JSON.parse(r.stdout);
    assert.deepEqual(Object.keys(out), ['protocol', 'settings', 'stats']);
    assert.equal(out.protocol, 'coco');
    assert.equal(out.settings.metric, 'iou');
    assert.deepEqual(Object.keys(out.stats), COCO_KEYS);
    close(out.stats, fx.expected.coco.stats, 'coco');
  });

  test('--json --protocol aitod --per-class: the AI-TOD keys with oLRP, and per-class rows', () => {
    const r = runCli(['eval', '--gt', p('gt.json'), '--dt', p('dt.jsonl'), '--protocol', 'aitod', '--per-class',
      '--json']);
    assert.equal(r.status, 0, r.stderr);
    const out = JSON.parse(r.stdout);
    assert.equal(out.protocol, 'aitod');
    assert.deepEqual(out.settings.maxDets, [1, 100, 1500]);
    assert.deepEqual(Object.keys(out.stats), AITOD_KEYS);
    close(out.stats, fx.expected.aitod.stats, 'aitod');
    assert.equal(out.perClass.length, 5);
    assert.deepEqual(Object.keys(out.perClass[0]), ['id', 'name', 'gt', 'dt', 'AP', 'AP50', 'AP75', 'AR']);
  });

  test('table: settings header, no colour codes when piped, clean stdout', () => {
    const r = runCli(['eval', '--gt', p('gt.json'), '--dt', p('dt.json'), '--per-class'], {env: {FORCE_COLOR: '1'}});
    assert.equal(r.status, 0, r.stderr);
    assert.ok(!r.stdout.includes('\u001b['), 'no ANSI codes (NO_COLOR is set by runCli)');
    assert.match(r.stdout, /COCO protocol, matching by IoU/);
    assert.match(r.stdout, /maxDets 1\/10\/100/);
    assert.match(r.stdout, new RegExp(`AP\\s+${fx.expected.coco.stats.AP.toFixed(3)}`));
    assert.match(r.stdout, /per class/);
    // stderr: warnings about the GT only (its "ignore" fields), no progress noise.
    assert.ok(r.stderr.trim().split('\n').every((l) => l.startsWith('warning: ')), r.stderr);
  });

  test('--metric nwd says so in the table and in --json', () => {
    const t = runCli(['eval', '--gt', p('gt.json'), '--dt', p('dt.json'), '--metric', 'nwd', '--c', '9.6']);
    assert.equal(t.status, 0, t.stderr);
    assert.match(t.stdout, /matching by NWD thresholds \(C = 9.6 px\)/);
    const j = runCli(['eval', '--gt', p('gt.json'), '--dt', p('dt.json'), '--metric', 'nwd', '--json']);
    const out = JSON.parse(j.stdout);
    assert.deepEqual([out.settings.metric, out.settings.c], ['nwd', 12.8]);
    assert.notEqual(out.stats.AP, fx.expected.coco.stats.AP);
  });

  test('--plot writes a self-contained SVG', () => {
    const svg = p('out/pr.svg');
    const r = runCli(['eval', '--gt', p('gt.json'), '--dt', p('dt.jsonl'), '--plot', svg, '--per-class', '--json']);
    assert.equal(r.status, 0, r.stderr);
    close(JSON.parse(r.stdout).stats, fx.expected.coco.stats, 'jsonl');
    assert.ok(existsSync(svg));
    const text = readFileSync(svg, 'utf8');
    assert.match(text, /^<svg xmlns="http:\/\/www.w3.org\/2000\/svg"/);
    assert.ok(text.includes('Precision-recall') && text.includes('IoU 0.75') && text.includes('c0 (id 1)'));
  });

  test('detections from stdin (--dt -), JSON Lines and array', () => {
    const r = runCli(['eval', '--gt', p('gt.json'), '--dt', '-', '--json'],
      {input: readFileSync(p('dt.jsonl'), 'utf8')});
    assert.equal(r.status, 0, r.stderr);
    close(JSON.parse(r.stdout).stats, fx.expected.coco.stats, 'stdin');
    const asArray = `[${readFileSync(p('dt.jsonl'), 'utf8').trim().split('\n').join(',')}]`;
    const r2 = runCli(['eval', '--gt', p('gt.json'), '--dt', '-', '--json'], {input: asArray});
    assert.equal(r2.status, 0, r2.stderr);
    close(JSON.parse(r2.stdout).stats, fx.expected.coco.stats, 'stdin array');
  });

  test('an empty detection list gives AP 0 (pycocotools crashes)', () => {
    const r = runCli(['eval', '--gt', p('gt.json'), '--dt', p('empty.json'), '--json']);
    assert.equal(r.status, 0, r.stderr);
    const s = JSON.parse(r.stdout).stats;
    assert.equal(s.AP, 0);
    assert.equal(s.AR100, 0);
  });

  test('GT id 0: warning by default, pycocotools numbers with --pycocotools-compat', () => {
    const want = readJsonFile<Fixture>(p('id0-expected.json'));
    const def = runCli(['eval', '--gt', p('gt0.json'), '--dt', p('dt0.json'), '--json']);
    assert.equal(def.status, 0, def.stderr);
    assert.match(def.stderr, /warning: .*id 0.*--pycocotools-compat/);
    close(JSON.parse(def.stdout).stats, want.expected_ids_shifted!.coco.stats, 'default');
    const compat = runCli(['eval', '--gt', p('gt0.json'), '--dt', p('dt0.json'), '--json', '--pycocotools-compat']);
    close(JSON.parse(compat.stdout).stats, want.expected.coco.stats, 'compat');
  });

  test('--max-dets changes the AR columns\' maxDets', () => {
    const r = runCli(['eval', '--gt', p('gt.json'), '--dt', p('dt.json'), '--max-dets', '1,5,100', '--json']);
    assert.equal(r.status, 0, r.stderr);
    const out = JSON.parse(r.stdout);
    assert.deepEqual(out.settings.maxDets, [1, 5, 100]);
    const want = fx.expected.coco.stats;
    close({AP: out.stats.AP, AR1: out.stats.AR1}, {AP: want.AP, AR1: want.AR1}, 'md');
    assert.ok(out.stats.AR10 <= fx.expected.coco.stats.AR10);
  });

  test('user errors exit 2 with the file, the record and no stack trace', () => {
    const unknown = runCli(['eval', '--gt', p('gt.json'), '--dt', p('dt-unknown.json')]);
    assert.equal(unknown.status, 2);
    assert.match(unknown.stderr,
      /dt-unknown\.json: detections reference 2 image id\(s\) not in the GT .*\[424242, "x9"\]/);
    assert.ok(!/\n\s+at /.test(unknown.stderr), 'no stack trace');
    const missing = runCli(['eval', '--gt', p('nope.json'), '--dt', p('dt.json')]);
    assert.equal(missing.status, 2);
    assert.match(missing.stderr, /nope\.json: cannot read: no such file/);
    const cWithoutNwd = runCli(['eval', '--gt', p('gt.json'), '--dt', p('dt.json'), '--c', '3']);
    assert.equal(cWithoutNwd.status, 2);
    assert.match(cWithoutNwd.stderr, /--c only applies with --metric nwd/);
    const md = runCli(['eval', '--gt', p('gt.json'), '--dt', p('dt.json'), '--max-dets', '10,1,100']);
    assert.equal(md.status, 2);
    assert.match(md.stderr, /--max-dets must be three ascending/);
  });

  test('--help shows examples', () => {
    const r = runCli(['eval', '--help']);
    assert.equal(r.status, 0);
    assert.match(r.stdout, /EXAMPLES/);
    assert.match(r.stdout, /--protocol aitod/);
  });

  test('AI-TOD oracle numbers from the CLI (dota_x0.25_jitter_seed0)', (t) => {
    const gt = sharedPath('data/dota_devkit_samples_x0.25/coco_hbb.json');
    const dt = sharedPath('data/dota_devkit_samples_x0.25/dt_jitter_seed0.json');
    const oracle = sharedPath('oracle/dota_x0.25_jitter_seed0.aitod.json');
    if (!gt || !dt || !oracle) return t.skip(sharedMissing('oracle/dota_x0.25_jitter_seed0.aitod.json and its data'));
    const r = runCli(['eval', '--gt', gt, '--dt', dt, '--protocol', 'aitod', '--json']);
    assert.equal(r.status, 0, r.stderr);
    const want = readJsonFile<{stats: number[]}>(oracle).stats.filter((_, i) => i !== 1);
    close(JSON.parse(r.stdout).stats, Object.fromEntries(AITOD_KEYS.map((k, i) => [k, want[i]])), 'aitod oracle');
  });
});
