/**
 * Options of NMS, validated key by key into the kernel's numeric parameters.
 */
import {metricCode, similarityParams, DEFAULT_C} from '../bindings/similarity.js';
import type {NmsKernelParams} from '../bindings/nms.js';

export const NMS_METRICS = ['iou', 'giou', 'diou', 'nwd'] as const;
export type NmsMetric = (typeof NMS_METRICS)[number];
export const SOFT_DECAYS = ['linear', 'gaussian'] as const;
export type SoftDecay = (typeof SOFT_DECAYS)[number];

/** Threshold used when none is given: IoU 0.5 for the IoU family, NWD 0.85 (the paper's RPN setting). */
export const DEFAULT_THRESHOLD: Record<NmsMetric, number> = {iou: 0.5, giou: 0.5, diou: 0.5, nwd: 0.85};
/** Gaussian Soft-NMS width when none is given (the Soft-NMS paper's value). */
export const DEFAULT_SIGMA = 0.5;

export interface NmsOptions {
  /** Overlap measure (default `iou`). */
  metric?: NmsMetric;
  /**
   * A box is suppressed when its overlap with a kept box is strictly greater than this.
   * IoU and NWD: [0, 1]; GIoU and DIoU: [-1, 1]; linear Soft-NMS: [0, 1]; unused by Gaussian
   * Soft-NMS. Default: `DEFAULT_THRESHOLD[metric]`.
   */
  threshold?: number;
  /** NWD constant C in px (default 12.8, AI-TOD); validated, and ignored by the other metrics. */
  c?: number;
  /** NWD formula: `exact` (default) or the authors' `reference` form with eps 1e-6. */
  nwdForm?: 'exact' | 'reference';
  /** Detections scoring below this are dropped (in Soft-NMS also after decaying). Default: none. */
  scoreThreshold?: number;
  /** Keep at most this many boxes (a positive integer). Default: all. */
  maxDets?: number;
  /** Soft-NMS decay instead of hard suppression; scores must then be >= 0. */
  soft?: SoftDecay;
  /** Width of the Gaussian decay (> 0, default 0.5); only with `soft: 'gaussian'`. */
  sigma?: number;
  /** Prune pairs with a spatial grid (default true). false compares every pair: same result, for tests. */
  prune?: boolean;
}

const KEYS = new Set(['metric', 'threshold', 'c', 'nwdForm', 'scoreThreshold', 'maxDets', 'soft', 'sigma', 'prune']);

const f32 = new Float32Array(1), u32 = new Uint32Array(f32.buffer);

/**
 * The largest float32 <= x (or the smallest >= x, `up`): the kernel compares float32 values, and
 * for a float32 v, `v > x` equals `v > down(x)` and `v >= x` equals `v >= up(x)` exactly.
 */
export function float32Toward(x: number, up: boolean): number {
  f32[0] = x;
  const r = f32[0];
  if (r === x || !Number.isFinite(x)) return r;
  if ((r > x) === up) return r;
  // Step one float32 toward x's other side (x is finite and not representable, so r != 0 or x tiny).
  if (r === 0) return up ? 1.401298464324817e-45 : -1.401298464324817e-45;
  u32[0] += (r > 0) === up ? 1 : -1;
  return f32[0];
}

function finite(name: string, v: unknown): number {
  if (typeof v !== 'number' || !Number.isFinite(v)) throw new RangeError(`${name} must be a finite number, got ${v}`);
  return v;
}

/** Checks `opts` key by key and returns the kernel's parameters. Throws TypeError/RangeError. */
export function nmsParams(opts: NmsOptions = {}): NmsKernelParams {
  if (typeof opts !== 'object' || opts === null) throw new TypeError('NMS options must be an object');
  for (const k of Object.keys(opts)) {
    if (!KEYS.has(k)) throw new TypeError(`unknown NMS option "${k}" (known: ${[...KEYS].join(', ')})`);
  }
  const metric = opts.metric ?? 'iou';
  if (!NMS_METRICS.includes(metric)) {
    throw new RangeError(`metric must be one of ${NMS_METRICS.join(', ')}, got ${metric}`);
  }
  const soft = opts.soft;
  if (soft !== undefined && !SOFT_DECAYS.includes(soft)) {
    throw new RangeError(`soft must be one of ${SOFT_DECAYS.join(', ')}, got ${soft}`);
  }
  const threshold = finite('threshold', opts.threshold ?? DEFAULT_THRESHOLD[metric]);
  const [lo, hi] = soft === 'linear' || metric === 'iou' || metric === 'nwd' ? [0, 1] : [-1, 1];
  if (soft !== 'gaussian' && !(threshold >= lo && threshold <= hi)) {
    const what = soft === 'linear' ? 'linear Soft-NMS' : metric;
    throw new RangeError(`threshold must be in [${lo}, ${hi}] for ${what}, got ${threshold}`);
  }
  if (opts.sigma !== undefined && soft !== 'gaussian') throw new RangeError('sigma only applies to soft: gaussian');
  const sigma = finite('sigma', opts.sigma ?? DEFAULT_SIGMA);
  if (!(sigma > 0)) throw new RangeError(`sigma must be > 0, got ${sigma}`);
  const scoreThreshold = opts.scoreThreshold === undefined ? -Infinity : finite('scoreThreshold', opts.scoreThreshold);
  const maxDets = opts.maxDets ?? 0;
  if (opts.maxDets !== undefined && !(Number.isInteger(maxDets) && maxDets >= 1 && maxDets <= 0xffffffff)) {
    throw new RangeError(`maxDets must be a positive integer, got ${opts.maxDets}`);
  }
  if (opts.prune !== undefined && typeof opts.prune !== 'boolean') throw new TypeError('prune must be a boolean');
  const {c, eps} = similarityParams({c: opts.c ?? DEFAULT_C, nwdForm: opts.nwdForm ?? 'exact'});
  return {
    metric: metricCode(metric), threshold: float32Toward(threshold, false), c, eps,
    scoreThreshold: float32Toward(scoreThreshold, true), maxKept: maxDets,
    decay: soft === undefined ? 0 : soft === 'linear' ? 1 : 2, sigma, prune: opts.prune ?? true,
  };
}
