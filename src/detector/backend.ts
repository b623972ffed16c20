/**
 * Picks the TensorFlow.js backend at run time and prepares it for training.
 *
 * Order for `auto`: `@tensorflow/tfjs-node-gpu`, `@tensorflow/tfjs-node` (optional dependencies:
 * absent offline, or present without their native addon after `npm ci --ignore-scripts`, which
 * counts as absent), `@tensorflow/tfjs-backend-wasm` (SIMD, threaded, plus our gradient kernels
 * from `./kernels/`), then the pure-JS `cpu` backend. Every import here is lazy so that
 * `nwd --help` never loads tfjs.
 */
import {createRequire} from 'node:module';
import {dirname, join} from 'node:path';
import {UserError} from '../cli/errors.js';
import {info, verbose, warn} from '../cli/log.js';
import {startThreaded, threadsLabel, wasmThreads} from './wasm-threads.js';

/** The tfjs namespace (`@tensorflow/tfjs`, or tfjs-node, which re-exports it). */
export type Tf = typeof import('@tensorflow/tfjs');

/** Backends we can load, in the order `auto` tries them. */
export const BACKENDS = ['tensorflow-gpu', 'tensorflow', 'wasm', 'cpu'] as const;
export type BackendName = (typeof BACKENDS)[number];
export type BackendChoice = BackendName | 'auto';

export interface SelectedBackend {
  /** Which backend runs: one of BACKENDS. */
  name: BackendName;
  /** The tfjs namespace to use for everything (tensors, layers, io). */
  tf: Tf;
  /** Why each backend tried before `name` was not used, e.g. "tensorflow: not installed". */
  reasons: string[];
}

const cache = new Map<BackendChoice, Promise<SelectedBackend>>();
/** Threads the wasm backend runs with, once started. */
let wasmRunning = 1;

/**
 * Loads and activates a backend: `auto` (default) takes the first that works in BACKENDS order,
 * a named one is forced (UserError `E_BACKEND_UNAVAILABLE` if it cannot load). Logs once per
 * choice which backend runs and why the others did not. Idempotent: the same choice returns the
 * same object (made active again if something switched away); another choice switches the active
 * tfjs backend (tensors made before are copied over when next used, so switch before building a
 * model).
 */
export async function selectBackend(preferred: BackendChoice = 'auto'): Promise<SelectedBackend> {
  if (preferred !== 'auto' && !BACKENDS.includes(preferred)) {
    throw new UserError(`unknown backend '${String(preferred)}'`, {
      code: 'E_BACKEND_UNKNOWN', fix: `use one of auto, ${BACKENDS.join(', ')}`,
    });
  }
  let p = cache.get(preferred);
  if (!p) {
    p = select(preferred);
    cache.set(preferred, p);
    p.catch(() => cache.delete(preferred));
  }
  const sel = await p;
  await activate(sel);
  return sel;
}

/** The tfjs namespace without choosing a backend (for code that only needs types or io). */
export async function loadTf(): Promise<Tf> {
  return import('@tensorflow/tfjs');
}

async function select(preferred: BackendChoice): Promise<SelectedBackend> {
  const order: readonly BackendName[] = preferred === 'auto' ? BACKENDS : [preferred];
  // A bad NWD_THREADS is the user's error, not a reason to fall back to another backend.
  if (order.includes('wasm')) wasmThreads();
  const reasons: string[] = [];
  for (const name of order) {
    const got = await tryLoad(name);
    if (typeof got === 'string') {
      reasons.push(`${name}: ${got}`);
      continue;
    }
    const sel: SelectedBackend = {name, tf: got, reasons};
    const why = reasons.length ? ` (${reasons.join('; ')})` : '';
    const threads = name === 'wasm' ? `, ${threadsLabel(wasmRunning)}` : '';
    const msg = `tfjs backend: ${name}${threads}${preferred === 'auto' ? '' : ' (forced)'}${why}`;
    // One line at normal level: which backend ran matters to anyone reading a training log.
    info(name === 'cpu' && preferred === 'auto' ? `${msg}; training will be very slow` : msg);
    return sel;
  }
  throw new UserError(`tfjs backend '${preferred}' is not usable here: ${reasons.join('; ')}`, {
    code: 'E_BACKEND_UNAVAILABLE',
    fix: preferred.startsWith('tensorflow')
      ? 'install @tensorflow/tfjs-node (needs network for libtensorflow) or use --backend wasm'
      : 'use --backend auto',
  });
}

/** The tfjs namespace when `name` works here, else the reason it does not. */
async function tryLoad(name: BackendName): Promise<Tf | string> {
  try {
    if (name === 'tensorflow' || name === 'tensorflow-gpu') return await loadNodeBackend(name);
    const tf = await import('@tensorflow/tfjs');
    if (name === 'wasm') return await startWasm(tf);
    if (!(await tf.setBackend(name))) return 'backend failed to initialise';
    await tf.ready();
    return tf;
  } catch (err) {
    return describeLoadError(err);
  }
}

/** How a package is imported; replaceable in tests to imitate broken installs. */
export type Importer = (pkg: string) => Promise<unknown>;

/**
 * The tfjs namespace of `@tensorflow/tfjs-node` (or `-gpu`) with its 'tensorflow' backend
 * active, or the reason it cannot be used: not installed, installed without the native addon
 * (`npm ci --ignore-scripts`, or offline), or an addon that fails to initialise.
 */
export async function loadNodeBackend(name: 'tensorflow' | 'tensorflow-gpu',
  importer: Importer = (pkg) => import(pkg)): Promise<Tf | string> {
  const pkg = name === 'tensorflow' ? '@tensorflow/tfjs-node' : '@tensorflow/tfjs-node-gpu';
  let mod: (Tf & {default?: Tf}) | undefined;
  try {
    mod = (await importer(pkg)) as Tf & {default?: Tf};
  } catch (err) {
    return describeLoadError(err, pkg);
  }
  const tf = typeof mod?.setBackend === 'function' ? mod : mod?.default;
  if (!tf || typeof tf.setBackend !== 'function') return 'imports but exports no tfjs namespace';
  if (!tf.findBackendFactory('tensorflow')) return 'imports but has no native binding';
  try {
    if (await tf.setBackend('tensorflow')) return tf;
  } catch (err) {
    return describeLoadError(err, pkg);
  }
  return 'native binding failed to initialise';
}

/**
 * Starts tfjs-backend-wasm with `wasmThreads()` threads (the threaded SIMD build when more than
 * one, see wasm-threads.ts) and registers our gradient kernels.
 */
async function startWasm(tf: Tf): Promise<Tf | string> {
  const wasm = await import('@tensorflow/tfjs-backend-wasm');
  const require = createRequire(import.meta.url);
  // main is dist/tf-backend-wasm.node.js; the .wasm files sit beside it.
  const dist = dirname(require.resolve('@tensorflow/tfjs-backend-wasm'));
  wasm.setWasmPaths(`${join(dist, '/')}`);
  const simd = await tf.env().getAsync('WASM_HAS_SIMD_SUPPORT');
  const threads = simd ? wasmThreads() : 1;
  wasmRunning = 1;
  if (threads > 1) {
    try {
      wasmRunning = await startThreaded(tf, wasm, dirname(dist), threads);
    } catch (err) {
      // Each tf.setBackend('wasm') instantiates the module anew, so one thread still works.
      warn(`the threaded wasm backend did not start (${(err as Error).message}); running on one thread ` +
        '(NWD_THREADS=1 skips the attempt)');
    }
  }
  if (wasmRunning === 1) {
    tf.env().set('WASM_HAS_MULTITHREAD_SUPPORT', false);
    if (!(await tf.setBackend('wasm'))) return 'backend failed to initialise';
    await tf.ready();
  }
  (await import('./kernels/register.js')).registerWasmGradients(tf);
  verbose(`wasm backend: SIMD ${simd ? 'on' : 'off'}, ${threadsLabel(wasmRunning)} (NWD_THREADS sets the count)`);
  return tf;
}

function describeLoadError(err: unknown, pkg?: string): string {
  const e = err as {code?: string; message?: string} | undefined;
  const msg = String(e?.message ?? err);
  if (/tfjs_binding|native addon|\.node\b|napi|dlopen|libtensorflow/i.test(msg)) {
    return `installed without a working native binding (${firstLine(msg)})`;
  }
  if ((e?.code === 'ERR_MODULE_NOT_FOUND' || e?.code === 'MODULE_NOT_FOUND') && pkg && msg.includes(pkg)) {
    return 'not installed';
  }
  return `failed to load (${firstLine(msg)})`;
}

function firstLine(msg: string): string {
  const line = msg.split('\n')[0];
  return line.length > 160 ? `${line.slice(0, 157)}...` : line;
}

async function activate(sel: SelectedBackend): Promise<void> {
  const backend = sel.name === 'tensorflow-gpu' ? 'tensorflow' : sel.name;
  if (sel.tf.getBackend() !== backend && !(await sel.tf.setBackend(backend))) {
    throw new Error(`tfjs backend ${backend} loaded before but cannot be activated again`);
  }
}
