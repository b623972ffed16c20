/**
 * The paper's motivating analysis: how many positive anchors each ground truth gets under a
 * given assigner and anchor layout, per AI-TOD size bin (area w*h: very tiny < 8^2, tiny
 * 8^2-16^2, small 16^2-32^2, medium >= 32^2). On AI-TOD the paper reports 0.72 positives per
 * object with IoU and 1.05 with NWD (max-overlap 0.7/0.3 with low-quality matches).
 */
import {assignMaxOverlap, assignRka, assignAtss, type Assignment} from '../bindings/assign.js';
import {DEFAULT_C, REFERENCE_EPS} from '../bindings/similarity.js';
import {generateAnchors, validateAnchorLayout, gridSize, anchorsPerCell, DEFAULT_ANCHOR_LAYOUT, type AnchorLayout,
  type Anchors} from '../detector/anchors.js';
import {toXyxy} from '../geometry/boxes.js';

export const ASSIGNERS = ['iou', 'nwd', 'rka', 'atss-iou', 'atss-nwd'] as const;
/** `iou`/`nwd`: max-overlap; `rka`: NWD-RKA; `atss-iou`/`atss-nwd`: ATSS on that metric. */
export type AssignerName = (typeof ASSIGNERS)[number];

export const SIZE_BINS = ['verytiny', 'tiny', 'small', 'medium'] as const;
export type SizeBin = (typeof SIZE_BINS)[number];

/** The AI-TOD bin of a box of area `area` (= w*h, px^2). */
export function sizeBin(area: number): SizeBin {
  if (area < 64) return 'verytiny';
  if (area < 256) return 'tiny';
  if (area < 1024) return 'small';
  return 'medium';
}

/** One image of the analysis. */
export interface PositivesImage {
  width: number;
  height: number;
  /** Float32Array, length 4*G, xywh (COCO). */
  boxesXywh: Float32Array;
  /** Uint8Array, length G: 1 marks an ignored/crowd GT (not counted, see bindings/assign.ts). */
  ignore?: Uint8Array;
}

export interface PositivesOptions {
  /** Anchor layout (default: the detector's, DEFAULT_ANCHOR_LAYOUT). */
  layout?: AnchorLayout;
  /** Assigner (required). */
  assigner: AssignerName;
  /** NWD constant, px (default 12.8); ignored by the IoU assigners. */
  c?: number;
  /** NWD form (default exact). */
  nwdForm?: 'exact' | 'reference';
  /** Max-overlap thresholds (defaults 0.7 / 0.3 / 0.3, low-quality on). */
  posThr?: number;
  negThr?: number;
  minPos?: number;
  lowQuality?: boolean;
  /** RKA top-k (default 3) or ATSS candidates per level (default 9). */
  topk?: number;
  /**
   * Assign only the anchors near the GTs that decide their positives (default true; the
   * counts are the same, see {@link windowAnchors}); false assigns every anchor of the image
   * (slower, for checking).
   */
  window?: boolean;
  /** Called after each image with (done, total), e.g. for a progress bar. */
  onProgress?: (done: number, total: number) => void;
}

/** Counts of one size bin. */
export interface BinPositives {
  /** Ground truths in the bin (ignored ones excluded). */
  gts: number;
  /** Positive anchors summed over those GTs. */
  positives: number;
  /** positives / gts (0 for an empty bin). */
  meanPositives: number;
  /** Share of the bin's GTs that got no positive anchor (0 for an empty bin). */
  zeroShare: number;
}

export interface PositivesResult {
  assigner: AssignerName;
  /** The anchor layout that ran. */
  layout: AnchorLayout;
  c: number;
  perBin: Record<SizeBin | 'all', BinPositives>;
}

const OPTION_KEYS = ['layout', 'assigner', 'c', 'nwdForm', 'posThr', 'negThr', 'minPos', 'lowQuality', 'topk',
  'window', 'onProgress'];

/**
 * The anchors (a subset of `anchors`, same order) whose centres fall in one of the windows
 * (xyxy px, one list per level), taking whole feature cells.
 */
function anchorsInWindows(layout: AnchorLayout, width: number, height: number, anchors: Anchors,
  windows: (level: number) => Array<[number, number, number, number]>): Anchors {
  const keep: number[] = [];
  const levelCounts: number[] = [];
  let offset = 0;
  layout.strides.forEach((stride, l) => {
    const g = gridSize(layout, l, width, height), per = anchorsPerCell(layout, l);
    const marked = new Uint8Array(g.w * g.h);
    for (const [x1, y1, x2, y2] of windows(l)) {
      // Cells whose centre (i + 0.5) * stride lies in [x1, x2] x [y1, y2].
      const i0 = Math.max(0, Math.ceil(x1 / stride - 0.5)), i1 = Math.min(g.w - 1, Math.floor(x2 / stride - 0.5));
      const j0 = Math.max(0, Math.ceil(y1 / stride - 0.5)), j1 = Math.min(g.h - 1, Math.floor(y2 / stride - 0.5));
      for (let j = j0; j <= j1; j++) marked.fill(1, j * g.w + i0, Math.max(j * g.w + i0, j * g.w + i1 + 1));
    }
    const before = keep.length;
    marked.forEach((m, cell) => {
      if (m) for (let t = 0; t < per; t++) keep.push(offset + cell * per + t);
    });
    levelCounts.push(keep.length - before);
    offset += anchors.levelCounts[l];
  });
  const xyxy = new Float32Array(4 * keep.length), level = new Uint8Array(keep.length);
  keep.forEach((i, k) => {
    xyxy.set(anchors.xyxy.subarray(4 * i, 4 * i + 4), 4 * k);
    level[k] = anchors.level[i];
  });
  return {xyxy, level, levelCounts};
}

type Box = [number, number, number, number];

/**
 * At least `m` cells of level `l` (all when the grid has fewer), nearest to (cx, cy) first,
 * as [cell centre x, cell centre y, distance] in px: the cells of the smallest square around
 * the point's cell that holds `m`. The m-th distance bounds the m-th nearest over the grid.
 */
function nearCells(layout: AnchorLayout, l: number, width: number, height: number, cx: number, cy: number,
  m: number): Array<[number, number, number]> {
  const s = layout.strides[l], g = gridSize(layout, l, width, height);
  const ci = Math.min(g.w - 1, Math.max(0, Math.floor(cx / s)));
  const cj = Math.min(g.h - 1, Math.max(0, Math.floor(cy / s)));
  const want = Math.min(m, g.w * g.h);
  for (let q = 0; ; q++) {
    const i0 = Math.max(0, ci - q), i1 = Math.min(g.w - 1, ci + q);
    const j0 = Math.max(0, cj - q), j1 = Math.min(g.h - 1, cj + q);
    if ((i1 - i0 + 1) * (j1 - j0 + 1) < want) continue;
    const cells: Array<[number, number, number]> = [];
    for (let j = j0; j <= j1; j++) {
      for (let i = i0; i <= i1; i++) {
        const x = (i + 0.5) * s, y = (j + 0.5) * s;
        cells.push([x, y, Math.hypot(x - cx, y - cy)]);
      }
    }
    return cells.sort((a, b) => a[2] - b[2]).slice(0, want);
  }
}

/** NWD of an anchor of size `size`, ratio `ratio` centred at (ax, ay) with a GT; f64, the kernels' formula. */
function nwdOf(ax: number, ay: number, size: number, ratio: number, gt: ArrayLike<number>, c: number,
  eps: number): number {
  const w = size / Math.sqrt(ratio), h = size * Math.sqrt(ratio);
  const dx = ax - (gt[0] + gt[2]) / 2, dy = ay - (gt[1] + gt[3]) / 2;
  const dw = w - (gt[2] - gt[0]), dh = h - (gt[3] - gt[1]);
  return Math.exp(-Math.sqrt(dx * dx + dy * dy + (dw * dw + dh * dh) / 4 + eps) / c);
}

/** Margin (px) added to every window for float32 rounding in the kernels. */
const WINDOW_MARGIN = 0.5;

/**
 * The anchors that decide every GT's positives (a subset, in order), or undefined when all
 * of them can (max-overlap with a floor <= 0). Assigning just these gives each non-ignored GT
 * the same positives as assigning every anchor (a test holds all five assigners to that):
 * - max-overlap: anchors that can reach `floor` (the negative threshold, or min-pos when lower
 *   and low-quality matches are on) with some GT. Only they can be positive, and a GT's best
 *   anchor above min-pos is among them. IoU > 0 needs the anchor to intersect the GT; NWD >=
 *   floor needs W2 <= -C ln(floor), and W2 is at least the centre distance.
 * - ATSS: per GT and level the cells as near to its centre as its k nearest anchors (the
 *   candidates; positives and conflicts only involve candidates).
 * - RKA: per GT the anchors within -C ln(t) of its centre, t the k-th largest NWD among the
 *   anchors of its nearest cells (a lower bound of its k-th largest NWD over all anchors).
 */
export function windowAnchors(layout: AnchorLayout, width: number, height: number, anchors: Anchors,
  gtXyxy: Float32Array, ignore: Uint8Array, o: PositivesOptions): Anchors | undefined {
  const c = o.c ?? DEFAULT_C, eps = o.nwdForm === 'reference' ? REFERENCE_EPS : 0;
  const gts: Array<Float32Array> = [];
  for (let k = 0; k < gtXyxy.length / 4; k++) if (!ignore[k]) gts.push(gtXyxy.subarray(4 * k, 4 * k + 4));
  const centred = (gt: Float32Array, r: number): Box =>
    [(gt[0] + gt[2]) / 2 - r, (gt[1] + gt[3]) / 2 - r, (gt[0] + gt[2]) / 2 + r, (gt[1] + gt[3]) / 2 + r];
  const reachOf = (t: number) => (t > 0 ? -c * Math.log(t) * (1 + 1e-4) + WINDOW_MARGIN : Infinity);
  let windows: (level: number) => Box[];
  if (o.assigner === 'iou' || o.assigner === 'nwd') {
    const negThr = o.negThr ?? 0.3, minPos = o.minPos ?? 0.3;
    const floor = (o.lowQuality ?? true) ? Math.min(negThr, minPos) : negThr;
    if (!(floor > 0)) return undefined;
    if (o.assigner === 'nwd') {
      const reach = reachOf(floor);
      windows = () => gts.map((gt) => centred(gt, reach));
    } else {
      windows = (l) => {
        // Largest half width and height of the level's anchors: centre offsets that still intersect.
        let hw = 0, hh = 0;
        for (const s of layout.sizes[l]) {
          for (const r of layout.ratios) {
            hw = Math.max(hw, s / Math.sqrt(r) / 2);
            hh = Math.max(hh, (s * Math.sqrt(r)) / 2);
          }
        }
        const m = WINDOW_MARGIN;
        return gts.map((gt): Box => [gt[0] - hw - m, gt[1] - hh - m, gt[2] + hw + m, gt[3] + hh + m]);
      };
    }
  } else if (o.assigner === 'rka') {
    const k = o.topk ?? 3;
    const reach = gts.map((gt) => {
      const cx = (gt[0] + gt[2]) / 2, cy = (gt[1] + gt[3]) / 2;
      const values: number[] = [];
      layout.strides.forEach((_, l) => {
        // The nearest cells hold at least k anchors (or the whole level).
        const cells = nearCells(layout, l, width, height, cx, cy, Math.ceil(k / anchorsPerCell(layout, l)));
        for (const [x, y] of cells) {
          for (const size of layout.sizes[l]) {
            for (const r of layout.ratios) values.push(nwdOf(x, y, size, r, gt, c, eps));
          }
        }
      });
      values.sort((a, b) => b - a);
      return reachOf(values[Math.min(k, values.length) - 1]);
    });
    windows = () => gts.map((gt, j) => centred(gt, reach[j]));
  } else {
    const k = o.topk ?? 9;
    windows = (l) => gts.map((gt) => {
      const m = Math.ceil(k / anchorsPerCell(layout, l));
      const near = nearCells(layout, l, width, height, (gt[0] + gt[2]) / 2, (gt[1] + gt[3]) / 2, m);
      return centred(gt, near[near.length - 1][2] + WINDOW_MARGIN);
    });
  }
  return anchorsInWindows(layout, width, height, anchors, windows);
}

function assignOne(anchors: Anchors, gtXyxy: Float32Array, ignoreMask: Uint8Array, o: PositivesOptions): Assignment {
  const c = o.c ?? DEFAULT_C;
  const nwd = {c, ...(o.nwdForm ? {nwdForm: o.nwdForm} : {})};
  const thr = {
    ...(o.posThr !== undefined ? {posThr: o.posThr} : {}),
    ...(o.negThr !== undefined ? {negThr: o.negThr} : {}),
    ...(o.minPos !== undefined ? {minPos: o.minPos} : {}),
    ...(o.lowQuality !== undefined ? {lowQuality: o.lowQuality} : {}),
  };
  const topk = o.topk !== undefined ? {topk: o.topk} : {};
  switch (o.assigner) {
    case 'iou': return assignMaxOverlap(anchors.xyxy, gtXyxy, {metric: 'iou', ignoreMask, ...thr});
    case 'nwd': return assignMaxOverlap(anchors.xyxy, gtXyxy, {metric: 'nwd', ignoreMask, ...nwd, ...thr});
    case 'rka': return assignRka(anchors.xyxy, gtXyxy, {metric: 'nwd', ignoreMask, ...nwd,
      ...(o.negThr !== undefined ? {negThr: o.negThr} : {}), ...topk});
    case 'atss-iou': return assignAtss(anchors.xyxy, anchors.levelCounts, gtXyxy, {metric: 'iou', ignoreMask, ...topk});
    case 'atss-nwd': return assignAtss(anchors.xyxy, anchors.levelCounts, gtXyxy, {metric: 'nwd', ignoreMask, ...nwd,
      ...topk});
  }
}

function validate(o: PositivesOptions): void {
  if (!o || typeof o !== 'object') throw new TypeError('positivesPerGt needs an options object with an assigner');
  for (const k of Object.keys(o)) {
    if (!OPTION_KEYS.includes(k)) {
      throw new TypeError(`unknown positivesPerGt option "${k}" (known: ${OPTION_KEYS.join(', ')})`);
    }
  }
  if (!(ASSIGNERS as readonly string[]).includes(o.assigner)) {
    throw new RangeError(`assigner must be one of ${ASSIGNERS.join(', ')}, got ${String(o.assigner)}`);
  }
  const given = o as unknown as Record<string, unknown>;
  const maxOnly = ['posThr', 'minPos', 'lowQuality'].filter((k) => given[k] !== undefined);
  if (maxOnly.length && o.assigner !== 'iou' && o.assigner !== 'nwd') {
    throw new RangeError(`${maxOnly.join(', ')} only apply to the iou and nwd (max-overlap) assigners, ` +
      `not ${o.assigner}`);
  }
  if (o.topk !== undefined && (o.assigner === 'iou' || o.assigner === 'nwd')) {
    throw new RangeError(`topk applies to the rka and atss assigners, not ${o.assigner}`);
  }
  if (o.negThr !== undefined && o.assigner.startsWith('atss')) throw new RangeError('negThr does not apply to ATSS');
  if (o.window !== undefined && typeof o.window !== 'boolean') {
    throw new TypeError(`window must be a boolean, got ${o.window}`);
  }
}

/**
 * Positive anchors per ground truth over `images`, per AI-TOD size bin and overall. Anchors
 * are generated per image size (cached per size); boxes must satisfy the box policy.
 * Ignored GTs are neither counted nor given anchors.
 */
export function positivesPerGt(images: PositivesImage[], opts: PositivesOptions): PositivesResult {
  validate(opts);
  const layout = opts.layout ?? DEFAULT_ANCHOR_LAYOUT;
  validateAnchorLayout(layout);
  const counts = Object.fromEntries([...SIZE_BINS, 'all'].map((b) => [b, {gts: 0, positives: 0, zero: 0}])) as
    Record<SizeBin | 'all', {gts: number; positives: number; zero: number}>;
  const anchorCache = new Map<string, Anchors>();
  images.forEach((img, index) => {
    const g = img.boxesXywh.length / 4;
    if (g > 0) {
      const key = `${img.width}x${img.height}`;
      let anchors = anchorCache.get(key);
      if (!anchors) {
        anchors = generateAnchors(layout, img.width, img.height);
        anchorCache.set(key, anchors);
      }
      const ignore = img.ignore ?? new Uint8Array(g);
      const gtXyxy = toXyxy(img.boxesXywh, 'xywh');
      const subset = opts.window === false ? undefined
        : windowAnchors(layout, img.width, img.height, anchors, gtXyxy, ignore, opts);
      const {labels} = assignOne(subset ?? anchors, gtXyxy, ignore, opts);
      const perGt = new Uint32Array(g);
      for (const l of labels) if (l > 0) perGt[l - 1]++;
      for (let k = 0; k < g; k++) {
        if (ignore[k]) continue;
        const bin = sizeBin(img.boxesXywh[4 * k + 2] * img.boxesXywh[4 * k + 3]);
        for (const b of [counts[bin], counts.all]) {
          b.gts++;
          b.positives += perGt[k];
          if (perGt[k] === 0) b.zero++;
        }
      }
    }
    opts.onProgress?.(index + 1, images.length);
  });
  const perBin = Object.fromEntries(Object.entries(counts).map(([b, x]) => [b, {
    gts: x.gts, positives: x.positives,
    meanPositives: x.gts ? x.positives / x.gts : 0,
    zeroShare: x.gts ? x.zero / x.gts : 0,
  }])) as Record<SizeBin | 'all', BinPositives>;
  return {assigner: opts.assigner, layout: {strides: [...layout.strides], sizes: layout.sizes.map((s) => [...s]),
    ratios: [...layout.ratios]}, c: opts.c ?? DEFAULT_C, perBin};
}
