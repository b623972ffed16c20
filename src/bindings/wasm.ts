/**
 * The only code that touches the nwd-core WebAssembly module: it loads the module once
 * (lazily, synchronously; safe to call twice), and gives typed helpers that copy typed
 * arrays into module memory and results back out. No pointer into module memory outlives
 * the call that made it, from the caller's point of view.
 */
import {readFileSync, existsSync} from 'node:fs';
import {dirname, resolve} from 'node:path';
import {fileURLToPath} from 'node:url';
import {verboseOnce} from '../cli/log.js';

/** The raw exports of nwd_core.wasm. Sizes are bytes, counts are boxes unless named. */
export interface CoreExports {
  memory: WebAssembly.Memory;
  alloc(size: number): number;
  dealloc(ptr: number, size: number): void;
  nwd_simd_enabled(): number;
  nwd_first_invalid_xyxy(ptr: number, n: number): bigint;
  nwd_similarity_pairwise(metric: number, a: number, n: number, b: number, m: number, c: number, eps: number,
    out: number): number;
  nwd_similarity_elementwise(metric: number, a: number, b: number, n: number, c: number, eps: number,
    out: number): number;
  [name: string]: unknown;
}

let core: CoreExports | undefined;

/** Where the built module is looked for: $NWD_WASM, beside dist/, or the checkout's dist/. */
function wasmPath(): string {
  const here = dirname(fileURLToPath(import.meta.url));
  const candidates = [
    process.env.NWD_WASM,
    resolve(here, '../nwd_core.wasm'), // dist/bindings -> dist
    resolve(here, '../../dist/nwd_core.wasm'), // src/bindings (tsx) -> dist
  ].filter((p): p is string => Boolean(p));
  const found = candidates.find((p) => existsSync(p));
  if (!found) {
    throw new Error(`nwd_core.wasm not found (looked in ${candidates.join(', ')}); run \`npm run build\``);
  }
  return found;
}

/** The module's exports, compiled and instantiated on first use. */
export function wasm(): CoreExports {
  if (core) return core;
  const path = wasmPath();
  const module = new WebAssembly.Module(readFileSync(path));
  core = new WebAssembly.Instance(module, {}).exports as unknown as CoreExports;
  verboseOnce('wasm', `nwd-core loaded from ${path} (${core.nwd_simd_enabled() ? 'SIMD128' : 'scalar'} kernels)`);
  return core;
}

/** Whether the loaded module runs the SIMD kernels. */
export function simdEnabled(): boolean {
  return wasm().nwd_simd_enabled() === 1;
}

type TypedArray = Float32Array | Float64Array | Int32Array | Uint32Array | Uint8Array | BigInt64Array;

/**
 * A scratch arena for one call: allocations are freed together by `free()`. Use through
 * [`withArena`], which frees even when the body throws.
 */
export class Arena {
  private readonly blocks: Array<[number, number]> = [];
  constructor(private readonly core: CoreExports) {}

  /** Allocates `bytes` (16-aligned) and returns the pointer. */
  alloc(bytes: number): number {
    const size = Math.max(bytes, 16);
    const ptr = this.core.alloc(size);
    if (ptr === 0) throw new Error(`nwd-core could not allocate ${bytes} bytes`);
    this.blocks.push([ptr, size]);
    return ptr;
  }

  /** Copies `data` into fresh module memory and returns its pointer. */
  copyIn(data: TypedArray): number {
    const ptr = this.alloc(data.byteLength);
    new Uint8Array(this.core.memory.buffer, ptr, data.byteLength).set(
      new Uint8Array(data.buffer, data.byteOffset, data.byteLength));
    return ptr;
  }

  /** A copy of `length` f32 at `ptr`. */
  f32(ptr: number, length: number): Float32Array {
    return new Float32Array(this.core.memory.buffer, ptr, length).slice();
  }

  /** A copy of `length` f64 at `ptr`. */
  f64(ptr: number, length: number): Float64Array {
    return new Float64Array(this.core.memory.buffer, ptr, length).slice();
  }

  /** A copy of `length` i32 at `ptr`. */
  i32(ptr: number, length: number): Int32Array {
    return new Int32Array(this.core.memory.buffer, ptr, length).slice();
  }

  /** A copy of `length` u32 at `ptr`. */
  u32(ptr: number, length: number): Uint32Array {
    return new Uint32Array(this.core.memory.buffer, ptr, length).slice();
  }

  free(): void {
    for (const [ptr, size] of this.blocks) this.core.dealloc(ptr, size);
    this.blocks.length = 0;
  }
}

/** Runs `body` with a fresh arena over the loaded module and frees it afterwards. */
export function withArena<T>(body: (arena: Arena, core: CoreExports) => T): T {
  const c = wasm();
  const arena = new Arena(c);
  try {
    return body(arena, c);
  } finally {
    arena.free();
  }
}
