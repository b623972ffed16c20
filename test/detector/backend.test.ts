import {test, describe} from 'node:test';
import assert from 'node:assert/strict';
import {spawnSync} from 'node:child_process';
import {selectBackend, loadNodeBackend, type BackendChoice} from '../../src/detector/backend.js';
import {setLogLevel} from '../../src/cli/log.js';
import {UserError} from '../../src/cli/errors.js';
import {ROOT} from '../helpers.js';

/** Runs `fn` with stderr captured. */
async function captureStderr<T>(fn: () => Promise<T>): Promise<{value: T; stderr: string}> {
  const write = process.stderr.write.bind(process.stderr);
  let stderr = '';
  process.stderr.write = ((chunk: string | Uint8Array) => {
    stderr += String(chunk);
    return true;
  }) as typeof process.stderr.write;
  try {
    return {value: await fn(), stderr};
  } finally {
    process.stderr.write = write;
  }
}

/** Whether tfjs-node can be imported here (it cannot offline; then auto must skip it). */
function tfjsNodeInstalled(): boolean {
  const r = spawnSync(process.execPath, ['-e', "import('@tensorflow/tfjs-node').then(() => process.exit(0), " +
    '() => process.exit(1))'], {cwd: ROOT});
  return r.status === 0;
}

describe('selectBackend', () => {
  // Runs first: the log line is written once per process and choice.
  test('auto picks the first usable backend, logs it once with the reasons for the others', async (t) => {
    if (tfjsNodeInstalled()) return t.skip('tfjs-node works here, so auto picks it; this test covers its absence');
    setLogLevel('verbose');
    const {value: [a, b], stderr} = await captureStderr(async () =>
      [await selectBackend(), await selectBackend('auto')]);
    setLogLevel('normal');
    assert.equal(a, b);
    assert.equal(a.name, 'wasm');
    assert.equal(a.tf.getBackend(), 'wasm');
    assert.deepEqual(a.reasons.map((r) => r.split(':')[0]), ['tensorflow-gpu', 'tensorflow']);
    const lines = stderr.split('\n').filter((l) => l.includes('tfjs backend:'));
    assert.equal(lines.length, 1, stderr);
    assert.match(lines[0], /tfjs backend: wasm, \d+ threads? \(tensorflow-gpu: .+; tensorflow: .+\)/);
    assert.match(stderr, /SIMD on/);
  });

  test('a forced backend is used, and switching back restores the earlier one', async () => {
    const cpu = await selectBackend('cpu');
    assert.equal(cpu.name, 'cpu');
    assert.equal(cpu.tf.getBackend(), 'cpu');
    assert.deepEqual(cpu.reasons, []);
    const wasm = await selectBackend('wasm');
    assert.equal(wasm.tf.getBackend(), 'wasm');
    assert.equal(await selectBackend('cpu'), cpu);
    assert.equal(cpu.tf.getBackend(), 'cpu');
  });

  test('a forced backend that cannot load is a UserError naming why', async (t) => {
    if (tfjsNodeInstalled()) return t.skip('tfjs-node works here');
    await assert.rejects(selectBackend('tensorflow'), (e: unknown) => e instanceof UserError &&
      e.code === 'E_BACKEND_UNAVAILABLE' && /tensorflow: not installed/.test(e.message));
    await assert.rejects(selectBackend('webgl' as BackendChoice), (e: unknown) => e instanceof UserError &&
      e.code === 'E_BACKEND_UNKNOWN');
  });

  test('tfjs-node that imports without its native binding counts as absent', async () => {
    const missingAddon = async () => {
      throw new Error('The Node.js native addon module (tfjs_binding.node) can not be found at path: /x/napi-v8/');
    };
    assert.match(String(await loadNodeBackend('tensorflow', missingAddon)), /without a working native binding/);
    const notFound = async (pkg: string) => {
      throw Object.assign(new Error(`Cannot find package '${pkg}' imported from /x`), {code: 'ERR_MODULE_NOT_FOUND'});
    };
    assert.equal(await loadNodeBackend('tensorflow-gpu', notFound), 'not installed');
    // Imports fine but registered no 'tensorflow' backend (e.g. a stub left by --ignore-scripts).
    const {tf} = await selectBackend('cpu');
    assert.equal(await loadNodeBackend('tensorflow', async () => tf), 'imports but has no native binding');
    assert.equal(await loadNodeBackend('tensorflow', async () => ({})), 'imports but exports no tfjs namespace');
    assert.equal(tf.getBackend(), 'cpu');
  });

  test('importing the module does not load tfjs (the CLI\'s --help stays fast)', () => {
    const code = "await import('./src/detector/backend.ts'); process.stdout.write(String('_tfengine' in globalThis))";
    const r = spawnSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', code], {cwd: ROOT,
      encoding: 'utf8'});
    assert.equal(r.status, 0, r.stderr);
    assert.equal(r.stdout, 'false');
    const loaded = "await import('@tensorflow/tfjs'); process.stdout.write(String('_tfengine' in globalThis))";
    const r2 = spawnSync(process.execPath, ['--input-type=module', '-e', loaded], {cwd: ROOT, encoding: 'utf8'});
    assert.equal(r2.stdout, 'true', 'the probe must see tfjs when it is loaded');
  });
});
