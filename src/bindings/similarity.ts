/**
 * Typed wrappers over nwd-core's similarity kernels. Boxes are xyxy Float32Array of length
 * 4*N and must already satisfy the box policy (see geometry/boxes.ts).
 */
import {withArena, wasm} from './wasm.js';
import {verboseOnce} from '../cli/log.js';

export const METRICS = ['iou', 'giou', 'diou', 'ciou', 'nwd', 'dotd', 'w2'] as const;
export type Metric = (typeof METRICS)[number];

const CODE: Record<Metric, number> = {iou: 0, giou: 1, diou: 2, ciou: 3, nwd: 4, dotd: 5, w2: 6};

/** The authors' epsilon (added under the square root of NWD and W2). */
export const REFERENCE_EPS = 1e-6;
/** NWD's constant for AI-TOD (mean absolute object size, px). */
export const DEFAULT_C = 12.8;

export interface SimilarityOptions {
  /** Normaliser of NWD and DotD, px (default 12.8). */
  c?: number;
  /** NWD/W2: `exact` (default, NWD of identical boxes is 1) or the authors' `reference` eps form. */
  nwdForm?: 'exact' | 'reference';
}

/** Validated numeric parameters for the kernels. */
export function similarityParams(opts: SimilarityOptions = {}): {c: number; eps: number} {
  const allowed = new Set(['c', 'nwdForm']);
  for (const k of Object.keys(opts)) if (!allowed.has(k)) throw new TypeError(`unknown similarity option "${k}"`);
  const c = opts.c ?? DEFAULT_C;
  if (!(Number.isFinite(c) && c > 0)) throw new RangeError(`C must be a positive number, got ${c}`);
  const form = opts.nwdForm ?? 'exact';
  if (form !== 'exact' && form !== 'reference') throw new RangeError(`nwdForm must be exact or reference, got ${form}`);
  return {c, eps: form === 'reference' ? REFERENCE_EPS : 0};
}

export function metricCode(metric: Metric): number {
  const code = CODE[metric];
  if (code === undefined) throw new RangeError(`unknown metric "${metric}" (one of ${METRICS.join(', ')})`);
  return code;
}

function logKernel(metric: Metric, eps: number): void {
  const simd = wasm().nwd_simd_enabled() === 1 && metric !== 'ciou';
  const form =
    metric === 'nwd' || metric === 'w2' ? (eps > 0 ? ', reference-compatible eps form' : ', exact form') : '';
  verboseOnce(`sim:${metric}:${eps}`, `similarity ${metric}: ${simd ? 'SIMD' : 'scalar'} kernel${form}`);
}

/**
 * Pairwise similarity. `a`: xyxy, 4*N; `b`: xyxy, 4*M. Returns Float32Array N*M, row-major
 * (`out[i*M + j]` compares a[i] with b[j]), written into `out` when given (length N*M):
 * reusing it across calls saves allocating and page-faulting a fresh array each time.
 */
export function pairwise(
  metric: Metric,
  a: Float32Array,
  b: Float32Array,
  opts: SimilarityOptions = {},
  out?: Float32Array,
): Float32Array {
  if (out && out.length !== (a.length / 4) * (b.length / 4)) {
    throw new RangeError(`out has length ${out.length}, expected ${(a.length / 4) * (b.length / 4)}`);
  }
  return withPairwise(metric, a, b, opts, (view) => (out ? (out.set(view), out) : view.slice()));
}

/**
 * Pairwise similarity handed to `consume` as a view into wasm memory (same layout as
 * [`pairwise`]), valid only while `consume` runs: no copy of the N*M result, for callers that
 * reduce it at once (a large matrix costs more to copy out than to compute).
 */
export function withPairwise<T>(
  metric: Metric,
  a: Float32Array,
  b: Float32Array,
  opts: SimilarityOptions,
  consume: (view: Float32Array) => T,
): T {
  const {c, eps} = similarityParams(opts);
  const code = metricCode(metric);
  const n = a.length / 4,
    m = b.length / 4;
  logKernel(metric, eps);
  return withArena((arena, core) => {
    const ptr = arena.alloc(4 * n * m);
    core.nwd_similarity_pairwise(code, arena.copyIn(a), n, arena.copyIn(b), m, c, eps, ptr);
    return consume(new Float32Array(core.memory.buffer, ptr, n * m));
  });
}

/** Elementwise similarity. `a`, `b`: xyxy, 4*N each. Returns Float32Array N (`out[i]` compares a[i] with b[i]). */
export function elementwise(
  metric: Metric,
  a: Float32Array,
  b: Float32Array,
  opts: SimilarityOptions = {},
): Float32Array {
  if (a.length !== b.length)
    throw new RangeError(`elementwise needs as many boxes in a (${a.length / 4}) as in b (${b.length / 4})`);
  const {c, eps} = similarityParams(opts);
  const code = metricCode(metric);
  const n = a.length / 4;
  logKernel(metric, eps);
  return withArena((arena, core) => {
    const out = arena.alloc(4 * n);
    core.nwd_similarity_elementwise(code, arena.copyIn(a), arena.copyIn(b), n, c, eps, out);
    return arena.f32(out, n);
  });
}
