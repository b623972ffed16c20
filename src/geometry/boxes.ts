/**
 * Box layouts and the policy for bad boxes, on typed arrays.
 *
 * Layouts: `xyxy` (x1, y1, x2, y2), `xywh` (x, y, width, height; COCO), `cxcywh` (centre,
 * width, height). Everything below `src/` works on `xyxy` Float32Array of length 4*N;
 * convert once, at the boundary.
 *
 * Policy (the same in similarity, NMS, assignment and evaluation): every number finite,
 * x2 >= x1 and y2 >= y1 (for xywh/cxcywh: w >= 0, h >= 0). Zero width or height is valid.
 * A box that breaks it is an error naming its index; it is never silently reordered.
 */
import {UserError} from '../cli/errors.js';
import {withArena} from '../bindings/wasm.js';

export const BOX_FORMATS = ['xyxy', 'xywh', 'cxcywh'] as const;
export type BoxFormat = (typeof BOX_FORMATS)[number];

/** Converts boxes (length 4*N, layout `from`) to a new xyxy Float32Array. */
export function toXyxy(boxes: ArrayLike<number>, from: BoxFormat): Float32Array {
  const out = Float32Array.from(boxes);
  if (from === 'xywh') {
    for (let i = 0; i < out.length; i += 4) {
      out[i + 2] += out[i];
      out[i + 3] += out[i + 1];
    }
  } else if (from === 'cxcywh') {
    for (let i = 0; i < out.length; i += 4) {
      const cx = out[i],
        cy = out[i + 1],
        hw = out[i + 2] / 2,
        hh = out[i + 3] / 2;
      out[i] = cx - hw;
      out[i + 1] = cy - hh;
      out[i + 2] = cx + hw;
      out[i + 3] = cy + hh;
    }
  }
  return out;
}

/** Converts xyxy boxes (length 4*N) to a new array in layout `to`. */
export function fromXyxy(xyxy: ArrayLike<number>, to: BoxFormat): Float32Array {
  const out = Float32Array.from(xyxy);
  for (let i = 0; i < out.length; i += 4) {
    const x1 = out[i],
      y1 = out[i + 1],
      x2 = out[i + 2],
      y2 = out[i + 3];
    if (to === 'xywh') {
      out[i + 2] = x2 - x1;
      out[i + 3] = y2 - y1;
    } else if (to === 'cxcywh') {
      out[i] = (x1 + x2) / 2;
      out[i + 1] = (y1 + y2) / 2;
      out[i + 2] = x2 - x1;
      out[i + 3] = y2 - y1;
    }
  }
  return out;
}

/** The first box of xyxy (length 4*N) that breaks the policy, or undefined. */
export function firstInvalid(xyxy: Float32Array): {index: number; reason: 'non-finite' | 'reversed'} | undefined {
  if (xyxy.length === 0) return undefined;
  const code = withArena((arena, core) => core.nwd_first_invalid_xyxy(arena.copyIn(xyxy), xyxy.length / 4));
  if (code < 0n) return undefined;
  return {index: Number(code / 4n), reason: code % 4n === 1n ? 'non-finite' : 'reversed'};
}

/**
 * Throws a UserError naming the box when xyxy breaks the policy. `original` holds the boxes
 * as the user wrote them (layout `format`), to quote the bad value.
 */
export function assertValidBoxes(
  xyxy: Float32Array,
  opts: {file?: string; format?: BoxFormat; original?: ArrayLike<number>; label?: (index: number) => string} = {},
): void {
  const bad = firstInvalid(xyxy);
  if (!bad) return;
  const src = opts.original ?? xyxy;
  const value = Array.from({length: 4}, (_, k) => src[4 * bad.index + k]);
  const format = opts.format ?? 'xyxy';
  const record = opts.label ? opts.label(bad.index) : `box ${bad.index}`;
  if (bad.reason === 'non-finite') {
    throw new UserError(`box [${value.join(', ')}] has a NaN or infinite coordinate`, {
      code: 'E_BOX_NONFINITE',
      file: opts.file,
      record,
      fix: 'remove the box or fix its coordinates',
    });
  }
  const hint =
    format === 'xyxy'
      ? 'x2 < x1 or y2 < y1: if these are COCO [x, y, w, h] boxes pass --format xywh; else swap the corners'
      : 'negative width or height';
  throw new UserError(`box [${value.join(', ')}] (${format}) is reversed: ${hint}`, {
    code: 'E_BOX_REVERSED',
    file: opts.file,
    record,
    fix: 'fix the box or the --format flag',
  });
}
