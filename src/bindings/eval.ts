/**
 * Typed wrapper over nwd-core's evaluation kernel (crates/nwd-core/src/eval.rs): one category
 * at a time, float64 throughout.
 */
import {withArena, type CoreExports} from './wasm.js';

interface EvalExports {
  nwd_eval_category(settings: number, nSettings: number, images: number, gtOffsets: number, gtXywh: number,
    gtArea: number, gtFlags: number, dtOffsets: number, dtXywh: number, dtScore: number, out: number): number;
}

/** GT flags of the kernel. */
export const GT_CROWD = 1;
export const GT_IGNORE = 2;
export const GT_ID_ZERO = 4;

export interface KernelSettings {
  iouThrs: number[];
  recThrs: number[];
  /** Inclusive [lo, hi] per area range. */
  areaRanges: Array<[number, number]>;
  /** Ascending. */
  maxDets: number[];
  /** Matching similarity: IoU, or NWD with constant `c`. */
  metric: 'iou' | 'nwd';
  c: number;
  /** Treat GT id 0 as pycocotools does (never matched). */
  idZeroUnmatched: boolean;
}

/**
 * One category's boxes grouped by image (images in evaluation order). Offsets: Uint32Array,
 * length images + 1; image i owns GT `gtOffsets[i]..gtOffsets[i+1]` (annotation-file order)
 * and detections likewise (results-file order). Boxes: Float64Array xywh, 4 per box.
 */
export interface KernelCategory {
  gtOffsets: Uint32Array;
  gtXywh: Float64Array;
  gtArea: Float64Array;
  gtFlags: Uint8Array;
  dtOffsets: Uint32Array;
  dtXywh: Float64Array;
  dtScore: Float64Array;
}

/** Per-category results; layouts are pycocotools' with the category axis removed. */
export interface KernelOutput {
  /** [T][R][A][M], -1 without GT. */
  precision: Float64Array;
  /** [T][R][A][M], score where each recall threshold is reached. */
  scores: Float64Array;
  /** [T][A][M], -1 without GT. */
  recall: Float64Array;
  /** [4][A][M]: oLRP, localisation, FP, FN (-1 without GT, NaN where undefined). */
  lrp: Float64Array;
  /** [A]: non-ignored GT count. */
  npig: Float64Array;
}

/** Flattened settings in the kernel's layout. */
export function packSettings(s: KernelSettings): Float64Array {
  const head = [s.iouThrs.length, s.recThrs.length, s.areaRanges.length, s.maxDets.length,
    s.metric === 'nwd' ? 1 : 0, s.c, s.idZeroUnmatched ? 1 : 0];
  return Float64Array.from([...head, ...s.iouThrs, ...s.recThrs, ...s.areaRanges.flat(), ...s.maxDets]);
}

/** Evaluates one category in wasm. */
export function evalCategory(settings: Float64Array, cat: KernelCategory): KernelOutput {
  const [t, r, a, m] = [settings[0], settings[1], settings[2], settings[3]];
  const images = cat.gtOffsets.length - 1;
  const n = 2 * t * r * a * m + t * a * m + 4 * a * m + a;
  return withArena((arena, core) => {
    const c = core as unknown as CoreExports & EvalExports;
    const out = arena.alloc(8 * n);
    const status = c.nwd_eval_category(arena.copyIn(settings), settings.length, images, arena.copyIn(cat.gtOffsets),
      arena.copyIn(cat.gtXywh), arena.copyIn(cat.gtArea), arena.copyIn(cat.gtFlags), arena.copyIn(cat.dtOffsets),
      arena.copyIn(cat.dtXywh), arena.copyIn(cat.dtScore), out);
    if (status !== 0) throw new Error(`nwd_eval_category rejected its settings (status ${status})`);
    const all = arena.f64(out, n);
    let o = 0;
    const take = (len: number) => all.subarray(o, (o += len));
    return {precision: take(t * r * a * m), scores: take(t * r * a * m), recall: take(t * a * m), lrp: take(4 * a * m),
      npig: take(a)};
  });
}
