import {test} from 'node:test';
import assert from 'node:assert/strict';
import {writeFileSync} from 'node:fs';
import {join} from 'node:path';
import {runCli, tempDir} from '../helpers.js';

const dir = tempDir();
const a = join(dir, 'a.json'), b = join(dir, 'b.json');
writeFileSync(a, '[[10, 10, 16, 16], [0, 0, 4, 4]]');
writeFileSync(b, '[[12, 12, 18, 18]]');

test('prints the N x M matrix as JSON rows (shortest float32 decimals), from files and stdin', () => {
  const r = runCli(['similarity', a, b]);
  assert.equal(r.status, 0, r.stderr);
  assert.equal(r.stdout, '[[0.80174005],[0.23679659]]\n');
  const piped = runCli(['similarity', '--metric', 'iou', '-', b], {input: '[[10, 10, 16, 16]]'});
  assert.equal(piped.status, 0, piped.stderr);
  assert.deepEqual(JSON.parse(piped.stdout), [[0.2857143]]);
  assert.equal(piped.stderr, '', 'nothing on stderr without --verbose');
});

test('--json, --format xywh, --c and --nwd-form reference', () => {
  const r = runCli(['similarity', '--json', '--format', 'xywh', '--c', '25.6', '--nwd-form', 'reference', a, a]);
  assert.equal(r.status, 0, r.stderr);
  const out = JSON.parse(r.stdout);
  assert.equal(out.format, 'xywh');
  assert.equal(out.c, 25.6);
  assert.equal(out.nwdForm, 'reference');
  assert.ok(out.matrix[0][0] < 1 && out.matrix[0][0] > 0.9999, 'eps form: identical boxes just under 1');
  const v = runCli(['similarity', '--verbose', a, b]);
  assert.match(v.stderr, /SIMD kernel, exact form/);
});

test('bad input names the file and the box, exits 2, prints no stack', () => {
  const bad = join(dir, 'bad.json');
  writeFileSync(bad, '[[10, 40, 20, 20]]');
  const r = runCli(['similarity', bad, b]);
  assert.equal(r.status, 2);
  assert.match(r.stderr, /bad\.json, box 0: .*reversed.*--format xywh/);
  assert.doesNotMatch(r.stderr, /at .*\.js:\d+/);
  writeFileSync(bad, '[[1, 2, 3]]');
  assert.match(runCli(['similarity', bad, b]).stderr, /box 0: box \[1,2,3\] is not 4 numbers/);
  writeFileSync(bad, '[[1, 2, 3, 4],');
  const j = runCli(['similarity', bad, b]);
  assert.equal(j.status, 2);
  assert.match(j.stderr, /bad\.json, byte offset \d+ .*invalid JSON/);
  assert.match(runCli(['similarity', '--c', '-1', a, b]).stderr, /--c must be a positive number/);
  assert.match(runCli(['similarity', '-', '-']).stderr, /only one of A and B/);
});
