/**
 * Anchor layouts and the anchor generator shared by the detector's head, the assigners and
 * `nwd stats`.
 *
 * A layout has one entry per feature level: its stride (px per feature cell) and its anchor
 * sizes (px, the square root of the anchor's area); the aspect ratios are shared by all
 * levels. For size `s` and ratio `r` (r = height / width) the anchor is
 * `w = s / sqrt(r)`, `h = s * sqrt(r)`, so its area stays `s^2` (mmdet's convention).
 *
 * Anchor order (the detector's head output must use the same one):
 * level, then feature row y, then feature column x, then size, then ratio. Level `l` has a
 * grid of `ceil(imageH / stride) x ceil(imageW / stride)` cells (what a stride-s convolution
 * with 'same' padding gives), and the anchor of cell (x, y) is centred at
 * `((x + 0.5) * stride, (y + 0.5) * stride)`. So the anchor index is
 * `offset[l] + ((y * gridW + x) * sizes[l].length + sizeIndex) * ratios.length + ratioIndex`,
 * where `offset[l]` is the sum of `levelCounts` of the levels before `l`; a head that outputs
 * `[gridH, gridW, sizes.length * ratios.length * K]` per level and is flattened row-major
 * matches it.
 */
import {UserError} from '../cli/errors.js';

/** Strides and sizes per feature level, and the aspect ratios (height / width) all levels share. */
export interface AnchorLayout {
  /** Stride of each level, px (positive integers). */
  strides: number[];
  /** Anchor sizes of each level, px (sqrt of the anchor area); `sizes.length === strides.length`. */
  sizes: number[][];
  /** Aspect ratios height / width, shared by all levels. */
  ratios: number[];
}

/**
 * The project's small single-stage detector: stride 4 with anchors of 8 and 16 px, stride 8
 * with 32 px, ratios 0.5, 1, 2 (the layout of the paper's small replication).
 */
export const DEFAULT_ANCHOR_LAYOUT: Readonly<AnchorLayout> = Object.freeze({
  strides: [4, 8],
  sizes: [[8, 16], [32]],
  ratios: [0.5, 1, 2],
});

/** Generated anchors, in the order described at the top of this module. */
export interface Anchors {
  /** Float32Array, length 4*A, xyxy. */
  xyxy: Float32Array;
  /** Uint8Array, length A: the level of each anchor. */
  level: Uint8Array;
  /** Number of anchors of each level (sum = A); pass it to the ATSS assigner. */
  levelCounts: number[];
}

function bad(message: string, fix: string): UserError {
  return new UserError(message, {code: 'E_ANCHORS', fix});
}

/** Throws a UserError (code E_ANCHORS) unless `layout` is a usable anchor layout. */
export function validateAnchorLayout(layout: AnchorLayout): void {
  const fix = 'give strides as positive integers, sizes and ratios as positive numbers, e.g. "4:8,16;8:32@0.5,1,2"';
  const {strides, sizes, ratios} = layout;
  if (!Array.isArray(strides) || !Array.isArray(sizes) || !Array.isArray(ratios)) {
    throw bad('an anchor layout needs strides, sizes and ratios arrays', fix);
  }
  if (strides.length === 0 || strides.length > 255) {
    throw bad(`an anchor layout needs 1 to 255 levels, got ${strides.length}`, fix);
  }
  if (sizes.length !== strides.length) {
    throw bad(`anchor layout has ${strides.length} strides but ${sizes.length} size lists`, fix);
  }
  for (const s of strides) {
    if (!(Number.isInteger(s) && s > 0)) throw bad(`anchor stride ${s} is not a positive integer`, fix);
  }
  for (const level of sizes) {
    if (!Array.isArray(level) || level.length === 0) throw bad('every anchor level needs at least one size', fix);
    for (const s of level) {
      if (!(Number.isFinite(s) && s > 0)) throw bad(`anchor size ${s} is not a positive number`, fix);
    }
  }
  if (ratios.length === 0) throw bad('an anchor layout needs at least one ratio', fix);
  for (const r of ratios) {
    if (!(Number.isFinite(r) && r > 0)) throw bad(`anchor ratio ${r} is not a positive number`, fix);
  }
}

/** Anchors per feature cell of level `level`: sizes x ratios. */
export function anchorsPerCell(layout: AnchorLayout, level: number): number {
  return layout.sizes[level].length * layout.ratios.length;
}

/** Feature grid of level `level` for an image: `ceil(imageW / stride)` x `ceil(imageH / stride)`. */
export function gridSize(layout: AnchorLayout, level: number, imageW: number, imageH: number): {w: number; h: number} {
  const s = layout.strides[level];
  return {w: Math.ceil(imageW / s), h: Math.ceil(imageH / s)};
}

/**
 * Anchors of `layout` for an image of `imageW` x `imageH` px, in the order level, y, x, size,
 * ratio (see the module comment). Anchors may reach outside the image; none are dropped.
 */
export function generateAnchors(layout: AnchorLayout, imageW: number, imageH: number): Anchors {
  validateAnchorLayout(layout);
  if (!(Number.isInteger(imageW) && imageW > 0 && Number.isInteger(imageH) && imageH > 0)) {
    throw new RangeError(`image size must be positive integers, got ${imageW} x ${imageH}`);
  }
  const levelCounts = layout.strides.map((_, l) => {
    const g = gridSize(layout, l, imageW, imageH);
    return g.w * g.h * anchorsPerCell(layout, l);
  });
  const total = levelCounts.reduce((a, b) => a + b, 0);
  const xyxy = new Float32Array(4 * total);
  const level = new Uint8Array(total);
  let k = 0;
  layout.strides.forEach((stride, l) => {
    // Half extents per (size, ratio), in output order.
    const half: Array<[number, number]> = [];
    for (const s of layout.sizes[l]) {
      for (const r of layout.ratios) half.push([s / Math.sqrt(r) / 2, (s * Math.sqrt(r)) / 2]);
    }
    const g = gridSize(layout, l, imageW, imageH);
    for (let y = 0; y < g.h; y++) {
      const cy = (y + 0.5) * stride;
      for (let x = 0; x < g.w; x++) {
        const cx = (x + 0.5) * stride;
        for (const [hw, hh] of half) {
          xyxy[4 * k] = cx - hw;
          xyxy[4 * k + 1] = cy - hh;
          xyxy[4 * k + 2] = cx + hw;
          xyxy[4 * k + 3] = cy + hh;
          level[k++] = l;
        }
      }
    }
  });
  return {xyxy, level, levelCounts};
}

/**
 * Parses the `--anchors` syntax: levels separated by `;`, each `STRIDE:SIZE[,SIZE...]`,
 * optionally followed by `@RATIO[,RATIO...]` (ratios height/width, shared by all levels;
 * default 0.5,1,2). The word `default` gives {@link DEFAULT_ANCHOR_LAYOUT}. Spaces are
 * ignored. Examples: `4:8,16;8:32@0.5,1,2` (the default), `4:8;8:16;16:32@1`.
 * Throws a UserError (code E_ANCHORS) naming the bad part.
 */
export function parseAnchorLayout(text: string): AnchorLayout {
  const src = text.replace(/\s+/g, '');
  const fix = 'write levels as STRIDE:SIZE,SIZE separated by ";", then optionally @RATIO,RATIO, ' +
    'e.g. "4:8,16;8:32@0.5,1,2"';
  if (src === 'default') {
    return {strides: [...DEFAULT_ANCHOR_LAYOUT.strides], sizes: DEFAULT_ANCHOR_LAYOUT.sizes.map((s) => [...s]),
      ratios: [...DEFAULT_ANCHOR_LAYOUT.ratios]};
  }
  const parts = src.split('@');
  if (parts.length > 2) throw bad(`anchor layout "${text}" has more than one "@"`, fix);
  const num = (s: string, what: string): number => {
    if (!/^[0-9]*\.?[0-9]+(e[-+]?[0-9]+)?$/i.test(s)) {
      throw bad(`anchor ${what} "${s}" in "${text}" is not a number`, fix);
    }
    return Number(s);
  };
  const strides: number[] = [];
  const sizes: number[][] = [];
  for (const level of parts[0].split(';')) {
    const m = /^([^:]*):(.*)$/.exec(level);
    if (!m) throw bad(`anchor level "${level}" in "${text}" is not STRIDE:SIZE[,SIZE...]`, fix);
    strides.push(num(m[1], 'stride'));
    sizes.push(m[2].split(',').map((s) => num(s, 'size')));
  }
  const ratios = parts.length === 2
    ? parts[1].split(',').map((s) => num(s, 'ratio'))
    : [...DEFAULT_ANCHOR_LAYOUT.ratios];
  const layout = {strides, sizes, ratios};
  validateAnchorLayout(layout);
  return layout;
}

/** The `--anchors` text of a layout; `parseAnchorLayout(formatAnchorLayout(l))` equals `l`. */
export function formatAnchorLayout(layout: AnchorLayout): string {
  const levels = layout.strides.map((s, l) => `${s}:${layout.sizes[l].join(',')}`);
  return `${levels.join(';')}@${layout.ratios.join(',')}`;
}
