/**
 * Object-size statistics of a COCO ground truth: counts per class and per AI-TOD size bin,
 * the distribution of sqrt(w*h), and the NWD constant C it suggests (the mean sqrt(w*h)).
 * Sizes come from the boxes (w*h), never from the `area` field, which some files get wrong.
 */
import {SIZE_BINS, sizeBin, type SizeBin} from '../assign/positives.js';
import type {CocoGt} from '../formats/coco.js';

export {SIZE_BINS, sizeBin, type SizeBin};

/** Objects per AI-TOD bin (area w*h: < 8^2, 8^2-16^2, 16^2-32^2, >= 32^2). */
export type BinCounts = Record<SizeBin, number>;

function zeroBins(): BinCounts {
  return {verytiny: 0, tiny: 0, small: 0, medium: 0};
}

export interface ClassStats {
  id: number;
  name: string;
  count: number;
  bins: BinCounts;
  meanSqrtWh: number;
}

export interface SizeDistribution {
  min: number;
  p10: number;
  median: number;
  p90: number;
  max: number;
  mean: number;
  /**
   * Histogram of sqrt(w*h): `lowerEdges` (px) and `counts`, same length; bin i is
   * [lowerEdges[i], lowerEdges[i + 1]), the last is open-ended.
   */
  lowerEdges: number[];
  counts: number[];
}

export interface SizeStats {
  images: number;
  /** Objects counted (crowd and ignore GT excluded). */
  objects: number;
  /** Crowd or ignore GT, not counted in the rest. */
  crowd: number;
  /** Objects of zero width or height. */
  degenerate: number;
  imagesWithoutObjects: number;
  bins: BinCounts;
  perClass: ClassStats[];
  sqrtWh: SizeDistribution;
  /** Mean sqrt(w*h) over all objects: the NWD constant C this dataset suggests. */
  recommendedC: number;
}

/** Quantile q of sorted values, linear interpolation (numpy's default). */
export function quantile(sorted: ArrayLike<number>, q: number): number {
  if (sorted.length === 0) return NaN;
  const pos = (sorted.length - 1) * q;
  const lo = Math.floor(pos), hi = Math.ceil(pos);
  return sorted[lo] + (sorted[hi] - sorted[lo]) * (pos - lo);
}

/** Lower edges of the sqrt(w*h) histogram: 2 px wide bins up to 64 px, then one open bin. */
const LOWER_EDGES = Array.from({length: 33}, (_, i) => 2 * i);

function distribution(values: Float64Array): SizeDistribution {
  const sorted = Float64Array.from(values).sort();
  const counts = new Array(LOWER_EDGES.length).fill(0);
  let sum = 0;
  for (const v of sorted) {
    sum += v;
    counts[Math.min(Math.floor(v / 2), counts.length - 1)]++;
  }
  const n = sorted.length;
  return {
    min: n ? sorted[0] : NaN, p10: quantile(sorted, 0.1), median: quantile(sorted, 0.5), p90: quantile(sorted, 0.9),
    max: n ? sorted[n - 1] : NaN, mean: n ? sum / n : NaN, lowerEdges: [...LOWER_EDGES], counts,
  };
}

/** Size statistics of a ground truth (boxes xywh in pixels). */
export function sizeStats(gt: CocoGt): SizeStats {
  const a = gt.annotations;
  const perClass = gt.categories.map(() => ({count: 0, bins: zeroBins(), sum: 0}));
  const bins = zeroBins();
  const sizes: number[] = [];
  const withObjects = new Set<number>();
  let degenerate = 0, crowd = 0;
  for (let k = 0; k < a.count; k++) {
    if (a.iscrowd[k] || a.ignore[k]) {
      crowd++;
      continue;
    }
    const w = a.xywh[4 * k + 2], h = a.xywh[4 * k + 3];
    const bin = sizeBin(w * h);
    const s = Math.sqrt(w * h);
    sizes.push(s);
    if (w === 0 || h === 0) degenerate++;
    bins[bin]++;
    const pc = perClass[a.categoryIndex[k]];
    pc.count++;
    pc.bins[bin]++;
    pc.sum += s;
    withObjects.add(a.imageIndex[k]);
  }
  const dist = distribution(Float64Array.from(sizes));
  const order = gt.categories.map((_, i) => i).sort((x, y) => gt.categories[x].id - gt.categories[y].id);
  return {
    images: gt.images.length, objects: sizes.length, crowd, degenerate,
    imagesWithoutObjects: gt.images.length - withObjects.size, bins,
    perClass: order.map((i) => ({id: gt.categories[i].id, name: gt.categories[i].name, count: perClass[i].count,
      bins: perClass[i].bins, meanSqrtWh: perClass[i].count ? perClass[i].sum / perClass[i].count : NaN})),
    sqrtWh: dist, recommendedC: dist.mean,
  };
}
