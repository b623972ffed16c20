import {test, before} from 'node:test';
import assert from 'node:assert/strict';
import {existsSync} from 'node:fs';
import {join} from 'node:path';
import {runCli, tempDir} from '../helpers.js';

let data: string;

before(() => {
  data = tempDir();
  const r = runCli(['synth', '--out', data, '--images', '4', '--size', '64', '--seed', '2', '--val-fraction', '0.5']);
  assert.equal(r.status, 0, r.stderr);
});

const base = () => ['train', '--data', join(data, 'train.json'), '--images', join(data, 'images'), '--preset', 'smoke',
  '--crop', '64', '--batch', '2', '--backend', 'wasm'];

test('nwd train --json: one epoch, summary with backend and per-epoch loss and val; checkpoint written', () => {
  const out = join(tempDir(), 'model');
  const r = runCli([...base(), '--out', out, '--epochs', '1', '--val', join(data, 'val.json'), '--json']);
  assert.equal(r.status, 0, r.stderr);
  const s = JSON.parse(r.stdout);
  assert.equal(s.backend, 'wasm');
  assert.equal(s.epochs.length, 1);
  assert.ok(Number.isFinite(s.epochs[0].loss));
  assert.equal(typeof s.epochs[0].val.AP50, 'number');
  assert.equal(s.config.assign, 'nwd');
  for (const f of ['model.json', 'weights.bin', 'config.json']) assert.ok(existsSync(join(out, f)), f);

  const again = runCli([...base(), '--out', out, '--epochs', '2', '--resume', '--json']);
  assert.equal(again.status, 0, again.stderr);
  const s2 = JSON.parse(again.stdout);
  assert.equal(s2.resumedFromEpoch, 1);
  assert.deepEqual(s2.epochs.map((e: {epoch: number}) => e.epoch), [1, 2]);
});

test('nwd train: bad flags are user errors (exit 2, no stack trace)', () => {
  const out = join(tempDir(), 'model');
  for (const [flags, code] of [[['--lr', 'fast'], 'E_FLAG'], [['--lr', '3'], 'E_FLAG'], [['--c', '-1'], 'E_FLAG'],
    [['--anchors', '4:8;16:32'], 'E_FLAG'], [['--anchors', '4:x'], 'E_ANCHORS']] as const) {
    const r = runCli([...base(), '--out', out, ...flags]);
    assert.equal(r.status, 2, `${flags.join(' ')}: ${r.stderr}`);
    assert.match(r.stderr, new RegExp(`\\[${code}\\]`));
    assert.doesNotMatch(r.stderr, /\n\s+at /);
  }
  const missing = runCli(['train', '--data', join(data, 'nope.json'), '--images', data, '--out', out,
    '--backend', 'wasm']);
  assert.equal(missing.status, 2, missing.stderr);
  assert.match(missing.stderr, /nope\.json/);
});

test('nwd train --help is fast to load and shows examples', () => {
  const r = runCli(['train', '--help']);
  assert.equal(r.status, 0);
  assert.match(r.stdout, /--preset smoke/);
  assert.match(r.stdout, /EXAMPLES/);
});

test('nwd train: Ctrl-C (SIGINT) saves a checkpoint and exits with 130', async () => {
  const {spawn} = await import('node:child_process');
  const {ROOT} = await import('../helpers.js');
  const out = join(tempDir(), 'model');
  const child = spawn(process.execPath, [join(ROOT, 'bin', 'run.js'), ...base(), '--out', out, '--epochs', '1000'],
    {env: {...process.env, NO_COLOR: '1', NWD_NO_PROGRESS: '1'}});
  let stderr = '';
  child.stderr.on('data', (d) => (stderr += d));
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  // Wait for the first checkpoint, then interrupt mid-run.
  for (let i = 0; i < 600 && !existsSync(join(out, 'state.json')); i++) await new Promise((r) => setTimeout(r, 100));
  assert.ok(existsSync(join(out, 'state.json')), `no checkpoint appeared: ${stderr}`);
  child.kill('SIGINT');
  const code = await exited;
  assert.equal(code, 130, stderr);
  assert.match(stderr, /interrupted: checkpoint of epoch \d+ saved/);
  const {readFileSync} = await import('node:fs');
  assert.ok(JSON.parse(readFileSync(join(out, 'state.json'), 'utf8')).epoch >= 1);
});
