import {test} from 'node:test';
import assert from 'node:assert/strict';
import {spawnSync} from 'node:child_process';
import {availableParallelism} from 'node:os';
import {join} from 'node:path';
import {MAX_WASM_THREADS, wasmThreads} from '../../src/detector/wasm-threads.js';
import {UserError} from '../../src/cli/errors.js';
import {ROOT} from '../helpers.js';

test('NWD_THREADS: unset means the cores (at most 8), a bad value is a UserError naming it', () => {
  assert.equal(wasmThreads({}), Math.min(availableParallelism(), MAX_WASM_THREADS));
  assert.equal(wasmThreads({NWD_THREADS: ''}), Math.min(availableParallelism(), MAX_WASM_THREADS));
  assert.equal(wasmThreads({NWD_THREADS: '1'}), 1);
  assert.equal(wasmThreads({NWD_THREADS: '8'}), 8);
  for (const bad of ['0', '9', '1.5', 'two', '-1']) {
    assert.throws(() => wasmThreads({NWD_THREADS: bad}), (e: unknown) => e instanceof UserError &&
      e.code === 'E_ENV' && e.message.includes(`'${bad}'`), bad);
  }
});

/** Runs the probe in a child process with NWD_THREADS=n; it must exit on its own (threads unref'd). */
function probe(n: number): {threads: number; loss: number; grads: number[]} {
  const r = spawnSync(process.execPath, ['--import', 'tsx', join('test', 'fixtures', 'detector', 'threads-probe.ts')],
    {cwd: ROOT, env: {...process.env, NWD_THREADS: String(n)}, encoding: 'utf8', timeout: 120_000});
  assert.equal(r.status, 0, `NWD_THREADS=${n}: status ${r.status} signal ${r.signal}\n${r.stderr}`);
  assert.match(r.stderr, new RegExp(`tfjs backend: wasm, ${n} threads? \\(forced\\)`));
  return JSON.parse(r.stdout.trim().split('\n').pop()!);
}

test('the threaded wasm backend starts in Node, exits, and computes what one thread computes', () => {
  const one = probe(1), two = probe(2);
  assert.equal(one.threads, 1);
  assert.equal(two.threads, 2);
  assert.ok(Number.isFinite(one.loss));
  // XNNPACK splits outputs among threads; each value is summed by one thread in one order.
  assert.equal(two.loss, one.loss);
  assert.deepEqual(two.grads, one.grads);
});
