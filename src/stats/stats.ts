/**
 * `nwd stats`: size statistics of a COCO ground truth and the paper's positives-per-object
 * analysis (max-overlap assignment, 0.7/0.3 with low-quality matches, under IoU and under
 * NWD) for an anchor layout.
 */
import {UserError} from '../cli/errors.js';
import {loadCocoGt, type CocoGt} from '../formats/coco.js';
import {positivesPerGt, type PositivesImage, type PositivesResult} from '../assign/positives.js';
import {DEFAULT_ANCHOR_LAYOUT, formatAnchorLayout, type AnchorLayout} from '../detector/anchors.js';
import {sizeStats, type SizeStats} from './sizes.js';

export interface StatsOptions {
  /** Run the positives analysis (default true). */
  positives?: boolean;
  /** Anchor layout (default: the detector's). */
  layout?: AnchorLayout;
  /** NWD constant for the NWD assignment, px (default: the dataset's recommended C). */
  c?: number;
  /** Called after each image of each assignment pass. */
  onProgress?: (done: number, total: number) => void;
}

export interface PositivesComparison {
  /** The anchor layout in `--anchors` syntax. */
  anchors: string;
  /** C used by the NWD assignment. */
  c: number;
  /** Images left out because the GT gives no width/height for them. */
  imagesWithoutSize: number;
  iou: PositivesResult;
  nwd: PositivesResult;
}

export interface StatsResult extends SizeStats {
  file: string;
  /** Warnings the GT reader found (missing areas, unknown ids, ...). */
  gtFindings: string[];
  positives?: PositivesComparison;
}

const KEYS = ['positives', 'layout', 'c', 'onProgress'];

/** Per image: xywh boxes and the ignore mask, for the images whose size the GT gives. */
export function positivesImages(gt: CocoGt): {images: PositivesImage[]; withoutSize: number} {
  const boxes: number[][] = gt.images.map(() => []);
  const ignore: number[][] = gt.images.map(() => []);
  const a = gt.annotations;
  for (let k = 0; k < a.count; k++) {
    const i = a.imageIndex[k];
    for (let j = 0; j < 4; j++) boxes[i].push(a.xywh[4 * k + j]);
    ignore[i].push(a.iscrowd[k] || a.ignore[k] ? 1 : 0);
  }
  const images: PositivesImage[] = [];
  let withoutSize = 0;
  gt.images.forEach((im, i) => {
    if (!im.width || !im.height || !Number.isInteger(im.width) || !Number.isInteger(im.height)) {
      withoutSize++;
      return;
    }
    images.push({width: im.width, height: im.height, boxesXywh: Float32Array.from(boxes[i]),
      ignore: Uint8Array.from(ignore[i])});
  });
  return {images, withoutSize};
}

function comparePositives(gt: CocoGt, c: number, o: StatsOptions): PositivesComparison {
  const layout = o.layout ?? DEFAULT_ANCHOR_LAYOUT;
  const {images, withoutSize} = positivesImages(gt);
  const progress = o.onProgress ? {onProgress: (d: number, t: number) => o.onProgress!(d, 2 * t)} : {};
  const iou = positivesPerGt(images, {assigner: 'iou', layout, ...progress});
  const nwd = positivesPerGt(images, {assigner: 'nwd', layout, c,
    ...(o.onProgress ? {onProgress: (d: number, t: number) => o.onProgress!(t + d, 2 * t)} : {})});
  return {anchors: formatAnchorLayout(layout), c, imagesWithoutSize: withoutSize, iou, nwd};
}

/** Statistics of the COCO GT in `file`. */
export async function datasetStats(file: string, o: StatsOptions = {}): Promise<StatsResult> {
  for (const k of Object.keys(o)) if (!KEYS.includes(k)) throw new TypeError(`unknown stats option "${k}"`);
  if (o.c !== undefined && !(Number.isFinite(o.c) && o.c > 0)) {
    throw new UserError(`C must be a positive number of pixels, got ${o.c}`, {code: 'E_FLAG',
      fix: 'pass e.g. --c 12.8'});
  }
  const gt = await loadCocoGt(file);
  const sizes = sizeStats(gt);
  const result: StatsResult = {file, ...sizes, gtFindings: gt.findings.map((f) => f.message)};
  if (o.positives ?? true) {
    const c = o.c ?? (sizes.recommendedC > 0 ? sizes.recommendedC : 12.8);
    result.positives = comparePositives(gt, c, o);
  }
  return result;
}
