/**
 * `nwd pipeline` end to end on a small synthetic set with a one-epoch budget: every step's
 * output lands in the report folder, a rerun skips every step, and bad flags fail cleanly.
 */
import {test} from 'node:test';
import assert from 'node:assert/strict';
import {existsSync, readFileSync} from 'node:fs';
import {join} from 'node:path';
import {runCli, tempDir} from '../helpers.js';

const AITOD_KEYS = [
  'AP',
  'AP50',
  'AP75',
  'APvt',
  'APt',
  'APs',
  'APm',
  'AR1',
  'AR100',
  'AR1500',
  'ARvt',
  'ARt',
  'ARs',
  'ARm',
];

test(
  'pipeline on synth data: report folder, metrics keys, and a rerun that skips every step',
  {timeout: 900_000},
  () => {
    const out = join(tempDir(), 'run');
    const args = ['pipeline', '--out', out, '--synth-images', '24', '--epochs', '1', '--json'];
    const first = runCli(args);
    assert.equal(first.status, 0, first.stderr);
    const r = JSON.parse(first.stdout) as {
      ran: string[];
      skipped: string[];
      stats: Record<string, number>;
      report: string;
    };
    assert.deepEqual(r.ran, ['data', 'train', 'predict', 'nms', 'eval', 'report']);
    for (const f of [
      'report.html',
      'metrics.json',
      'pr.svg',
      'sizes.svg',
      'detections.json',
      'predictions.raw.json',
      'model/config.json',
      'model/model.json',
      'data/train.json',
      'data/val.json',
    ]) {
      assert.ok(existsSync(join(out, f)), `${f} written`);
    }
    const metrics = JSON.parse(readFileSync(join(out, 'metrics.json'), 'utf8')) as {protocol: string; stats: object};
    assert.equal(metrics.protocol, 'aitod');
    for (const k of AITOD_KEYS) assert.ok(k in metrics.stats, `metrics.json has ${k}`);
    const html = readFileSync(join(out, 'report.html'), 'utf8');
    assert.match(html, /<svg/);
    const pngs = [...html.matchAll(/<img src="([^"]+)"/g)].map((m) => m[1]);
    assert.ok(pngs.length > 0, 'the report shows validation images');
    for (const p of pngs) assert.ok(existsSync(join(out, p)), `${p} exists`);

    const second = runCli(args);
    assert.equal(second.status, 0, second.stderr);
    const r2 = JSON.parse(second.stdout) as {ran: string[]; skipped: string[]; stats: Record<string, number>};
    assert.deepEqual(r2.ran, []);
    assert.equal(r2.skipped.length, 6);
    assert.deepEqual(r2.stats, r.stats);
  },
);

test('pipeline flag errors name the problem and exit 2', () => {
  const out = join(tempDir(), 'run');
  const r = runCli(['pipeline', '--out', out, '--images', 'somewhere']);
  assert.equal(r.status, 2);
  assert.match(r.stderr, /--images and --val go with --data/);
  const r2 = runCli(['pipeline', '--out', out, '--data', '/nonexistent/gt.json', '--images', '/tmp']);
  assert.equal(r2.status, 2);
  assert.match(r2.stderr, /nonexistent\/gt\.json.*cannot read/);
});
