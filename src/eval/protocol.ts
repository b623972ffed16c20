/**
 * The evaluation protocols: COCO (pycocotools) and AI-TOD (aitodpycocotools) settings, and
 * the summary numbers each one reports.
 */
export const PROTOCOLS = ['coco', 'aitod'] as const;
export type Protocol = (typeof PROTOCOLS)[number];

/** numpy's `linspace(start, stop, n)`: k * step + start, the last value exactly `stop`. */
export function linspace(start: number, stop: number, n: number): number[] {
  if (n === 1) return [start];
  const step = (stop - start) / (n - 1);
  const out = Array.from({length: n}, (_, k) => k * step + start);
  out[n - 1] = stop;
  return out;
}

/** IoU thresholds 0.50:0.05:0.95, bit-identical to pycocotools'. */
export const IOU_THRS = linspace(0.5, 0.95, 10);
/** Recall thresholds 0:0.01:1 (101 points). */
export const REC_THRS = linspace(0, 1, 101);

export interface AreaRange {
  label: string;
  /** Inclusive bounds on the GT `area` (detections: w*h). */
  lo: number;
  hi: number;
}

export interface ProtocolSettings {
  protocol: Protocol;
  iouThrs: number[];
  recThrs: number[];
  areaRanges: AreaRange[];
  /** Ascending. */
  maxDets: number[];
}

const COCO_AREAS: AreaRange[] = [
  {label: 'all', lo: 0, hi: 1e10}, {label: 'small', lo: 0, hi: 32 ** 2},
  {label: 'medium', lo: 32 ** 2, hi: 96 ** 2}, {label: 'large', lo: 96 ** 2, hi: 1e10},
];
const AITOD_AREAS: AreaRange[] = [
  {label: 'all', lo: 0, hi: 1e10}, {label: 'verytiny', lo: 0, hi: 8 ** 2}, {label: 'tiny', lo: 8 ** 2, hi: 16 ** 2},
  {label: 'small', lo: 16 ** 2, hi: 32 ** 2}, {label: 'medium', lo: 32 ** 2, hi: 1e10},
];

/** Default settings of a protocol; `maxDets` (three ascending numbers) may replace the default. */
export function protocolSettings(protocol: Protocol, maxDets?: number[]): ProtocolSettings {
  if (!PROTOCOLS.includes(protocol)) throw new RangeError(`unknown protocol "${protocol}" (coco or aitod)`);
  const md = maxDets ?? (protocol === 'coco' ? [1, 10, 100] : [1, 100, 1500]);
  if (md.length !== 3 || !md.every((x, i) => Number.isInteger(x) && x > 0 && (i === 0 || x > md[i - 1]))) {
    throw new RangeError(`maxDets must be three ascending positive integers, got ${md.join(',')}`);
  }
  return {protocol, iouThrs: IOU_THRS, recThrs: REC_THRS, areaRanges: protocol === 'coco' ? COCO_AREAS : AITOD_AREAS,
    maxDets: md};
}

/** One summary number: AP (precision) or AR (recall) over a threshold, area and maxDet. */
export interface StatSpec {
  key: string;
  kind: 'ap' | 'ar';
  /** A single threshold, or all when undefined. */
  iouThr?: number;
  area: string;
  /** Index into maxDets. */
  maxDet: number;
}

/** The summary numbers, in pycocotools' order, with the keys `nwd eval --json` prints. */
export function statSpecs(protocol: Protocol): StatSpec[] {
  const ap = (key: string, area = 'all', iouThr?: number): StatSpec => ({key, kind: 'ap', iouThr, area, maxDet: 2});
  const ar = (key: string, maxDet: number, area = 'all'): StatSpec => ({key, kind: 'ar', area, maxDet});
  if (protocol === 'coco') {
    return [ap('AP'), ap('AP50', 'all', 0.5), ap('AP75', 'all', 0.75), ap('APs', 'small'), ap('APm', 'medium'),
      ap('APl', 'large'), ar('AR1', 0), ar('AR10', 1), ar('AR100', 2), ar('ARs', 2, 'small'), ar('ARm', 2, 'medium'),
      ar('ARl', 2, 'large')];
  }
  return [ap('AP'), ap('AP50', 'all', 0.5), ap('AP75', 'all', 0.75), ap('APvt', 'verytiny'), ap('APt', 'tiny'),
    ap('APs', 'small'), ap('APm', 'medium'), ar('AR1', 0), ar('AR100', 1), ar('AR1500', 2), ar('ARvt', 2, 'verytiny'),
    ar('ARt', 2, 'tiny'), ar('ARs', 2, 'small'), ar('ARm', 2, 'medium')];
}

/** Keys of the AI-TOD optimal LRP numbers (area all, the largest maxDet, threshold 0.5). */
export const LRP_KEYS = ['oLRP', 'oLRPloc', 'oLRPfp', 'oLRPfn'] as const;
