/**
 * Typed wrapper over nwd-core's `nwd_nms`. Callers validate options first (src/nms/options.ts);
 * this layer only marshals arrays and turns status codes into a typed failure.
 */
import {withArena, type CoreExports} from './wasm.js';

interface NmsExports {
  nwd_nms(boxes: number, scores: number, classes: number, n: number, metric: number, threshold: number, c: number,
    eps: number, scoreThreshold: number, maxKept: number, decay: number, sigma: number, flags: number,
    keepOut: number, scoresOut: number, infoOut: number): number;
}

/** Numeric parameters of one kernel call (codes as in crates/nwd-core/src/abi/nms.rs). */
export interface NmsKernelParams {
  /** Similarity code: IoU 0, GIoU 1, DIoU 2, NWD 4. */
  metric: number;
  threshold: number;
  c: number;
  eps: number;
  /** Drop detections scoring below this; -Infinity for none. */
  scoreThreshold: number;
  /** 0 for no cap. */
  maxKept: number;
  /** 0 hard, 1 linear Soft-NMS, 2 Gaussian Soft-NMS. */
  decay: number;
  sigma: number;
  /** false compares every pair (the reference path; same result). */
  prune: boolean;
}

/** Which pruning ran (the most any class used). */
export const NMS_PATHS = ['plain', 'overlap-grid', 'centre-grid'] as const;
export type NmsPath = (typeof NMS_PATHS)[number];

export interface NmsKernelOutput {
  /** Kept input indices, score descending (ties: lower index first). */
  keep: Int32Array;
  /** Final score of each kept detection (decayed under Soft-NMS), parallel to `keep`. */
  scores: Float32Array;
  /** Detections dropped for a NaN or infinite score. */
  nonFinite: number;
  path: NmsPath;
}

/** A refusal from the kernel: `status` as documented on `nwd_nms`, `index` of the bad input. */
export class NmsKernelError extends Error {
  constructor(readonly status: number, readonly index: number, readonly reason: 'non-finite' | 'reversed' | undefined) {
    super(`nwd_nms returned ${status}${status === -5 || status === -6 ? ` for detection ${index}` : ''}`);
    this.name = 'NmsKernelError';
  }
}

/**
 * Runs NMS in the wasm module. `boxesXyxy`: Float32Array 4*N (xyxy); `scores`: Float32Array N;
 * `classes`: Int32Array N, or null for class-agnostic NMS.
 */
export function nmsKernel(boxesXyxy: Float32Array, scores: Float32Array, classes: Int32Array | null,
  p: NmsKernelParams): NmsKernelOutput {
  const n = scores.length;
  return withArena((arena, core) => {
    const c = core as unknown as CoreExports & NmsExports;
    const keepPtr = arena.alloc(4 * n), scoresPtr = arena.alloc(4 * n), infoPtr = arena.alloc(4 * 5);
    const status = c.nwd_nms(arena.copyIn(boxesXyxy), arena.copyIn(scores), classes ? arena.copyIn(classes) : 0, n,
      p.metric, p.threshold, p.c, p.eps, p.scoreThreshold, p.maxKept, p.decay, p.sigma, p.prune ? 0 : 1,
      keepPtr, scoresPtr, infoPtr);
    const info = arena.u32(infoPtr, 5);
    if (status !== 0) {
      const reason = status === -5 ? (info[3] === 1 ? 'non-finite' : 'reversed') : undefined;
      throw new NmsKernelError(status, info[2], reason);
    }
    const k = info[0];
    return {keep: arena.i32(keepPtr, k), scores: arena.f32(scoresPtr, k), nonFinite: info[1], path: NMS_PATHS[info[4]]};
  });
}
