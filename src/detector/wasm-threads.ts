/**
 * Multi-threaded tfjs-backend-wasm under Node.
 *
 * tfjs-backend-wasm ships a threaded SIMD build (XNNPACK over an Emscripten pthread pool) but in
 * Node 4.22 never uses it, for three reasons this module works around while the backend starts:
 * - the flag `WASM_HAS_MULTITHREAD_SUPPORT` is hard-wired to false under Node: we set it;
 * - the pthread workers are started from `blob:` URLs (the worker script and the module script
 *   are wrapped in `Blob`s), which Node's `Worker` rejects (ERR_WORKER_PATH): while the backend
 *   starts, `Blob` and `URL.createObjectURL` are replaced so that the worker script becomes a
 *   temporary file and the module script is the package's own `wasm-out/*-threaded-simd.js`;
 * - the thread pool is capped at half of `os.cpus().length` (it assumes two hyper-threads per
 *   core): while the backend starts, `os.cpus()` reports enough entries for the count asked.
 * Everything replaced is restored before `startThreaded` returns; the temporary folder is removed
 * once the workers have loaded. Results do not depend on the thread count: XNNPACK splits the
 * output among threads, each output value is summed by one thread in the same order.
 */
import {mkdtempSync, readFileSync, rmSync, writeFileSync} from 'node:fs';
import os from 'node:os';
import {join} from 'node:path';
import {UserError} from '../cli/errors.js';
import type {Tf} from './backend.js';

/** XNNPACK's pool in tfjs-backend-wasm has 8 pre-started workers. */
export const MAX_WASM_THREADS = 8;

/**
 * Threads for the wasm backend: `NWD_THREADS` when set (1 = the single-threaded build), else the
 * cores Node reports, at most MAX_WASM_THREADS. Throws a UserError naming a bad NWD_THREADS.
 */
export function wasmThreads(env: NodeJS.ProcessEnv = process.env): number {
  const raw = env.NWD_THREADS;
  if (raw === undefined || raw === '') return Math.min(os.availableParallelism(), MAX_WASM_THREADS);
  const n = Number(raw);
  if (!Number.isInteger(n) || n < 1 || n > MAX_WASM_THREADS) {
    throw new UserError(`NWD_THREADS must be an integer in [1, ${MAX_WASM_THREADS}], got '${raw}'`, {code: 'E_ENV',
      fix: `unset NWD_THREADS or set it to a count of threads between 1 and ${MAX_WASM_THREADS}`});
  }
  return n;
}

/** "1 thread", "2 threads": for log lines and notes. */
export function threadsLabel(n: number): string {
  return `${n} thread${n === 1 ? '' : 's'}`;
}

/**
 * Emscripten refs a worker while it runs a pthread, and XNNPACK's pool threads run for the life of
 * the process: unref them so that Node can exit when the work is done.
 */
function unrefWorkers(tf: Tf): void {
  const pthread = (tf.backend() as unknown as {wasm?: {PThread?: {runningWorkers: {unref(): void}[]}}}).wasm?.PThread;
  for (const w of pthread?.runningWorkers ?? []) w.unref();
}

/** What `startThreaded` needs of `@tensorflow/tfjs-backend-wasm`. */
export interface WasmModule {
  setThreadsCount(n: number): void;
  getThreadsCount(): number;
}

/**
 * Starts the wasm backend with `threads` threads (> 1) from the package folder `pkgDir`; returns
 * the thread count XNNPACK reports. The caller has set the wasm paths.
 */
export async function startThreaded(tf: Tf, wasm: WasmModule, pkgDir: string, threads: number): Promise<number> {
  const dir = mkdtempSync(join(os.tmpdir(), 'nwd-wasm-'));
  const moduleScript = join(pkgDir, 'wasm-out', 'tfjs-backend-wasm-threaded-simd.js');
  const g = globalThis as unknown as {Blob: unknown};
  const saved = {blob: g.Blob, createObjectURL: URL.createObjectURL, cpus: os.cpus};
  let files = 0;
  // Stands in for Blob: keeps its text in a file (or, for the module script, names the package's).
  class FileBlob {
    readonly path: string;
    constructor(parts: string[]) {
      const text = parts.join('');
      if (text.startsWith('var WasmBackendModuleThreadedSimd')) {
        this.path = moduleScript;
      } else {
        this.path = join(dir, `part${files++}.js`);
        writeFileSync(this.path, text);
      }
    }
  }
  g.Blob = FileBlob;
  // The worker script turns a FileBlob (received as a plain object) back into its path.
  URL.createObjectURL = ((blob: FileBlob) => {
    const worker = `${blob.path}.cjs`;
    const prelude = 'URL.createObjectURL=(o)=>o.path;URL.revokeObjectURL=()=>{};\n';
    writeFileSync(worker, prelude + readFileSync(blob.path, 'utf8'));
    return worker;
  }) as unknown as typeof URL.createObjectURL;
  const cores = saved.cpus();
  (os as {cpus: () => os.CpuInfo[]}).cpus = () => Array.from({length: 2 * threads}, (_, i) => cores[i % cores.length]);
  tf.env().set('WASM_HAS_MULTITHREAD_SUPPORT', true);
  wasm.setThreadsCount(threads);
  try {
    if (!(await tf.setBackend('wasm'))) throw new Error('the threaded wasm backend failed to initialise');
    await tf.ready();
    unrefWorkers(tf);
  } finally {
    g.Blob = saved.blob;
    URL.createObjectURL = saved.createObjectURL;
    (os as {cpus: () => os.CpuInfo[]}).cpus = saved.cpus;
    rmSync(dir, {recursive: true, force: true});
  }
  return wasm.getThreadsCount();
}
