/** Detections as COCO results records (`bbox` xywh, pixels), as `nwd predict` writes them. */
import {fromXyxy} from '../geometry/boxes.js';
import {f32ToShortest} from '../cli/numbers.js';
import type {DetectorConfig} from './config.js';
import type {Detections} from './postprocess.js';

export interface CocoResult {
  image_id: number | string;
  category_id: number;
  bbox: [number, number, number, number];
  score: number;
}

/** Roughly 1e-3 px: enough for any evaluation, and it keeps files small. */
function round3(x: number): number {
  return Math.round(x * 1000) / 1000;
}

/** COCO results of one image's detections, class indices mapped to the model's category ids. */
export function toCocoResults(imageId: number | string, d: Detections, cfg: DetectorConfig): CocoResult[] {
  const xywh = fromXyxy(d.boxesXyxy, 'xywh');
  return Array.from(d.scores, (score, i) => ({image_id: imageId, category_id: cfg.classes[d.classes[i]].id,
    bbox: [round3(xywh[4 * i]), round3(xywh[4 * i + 1]), round3(xywh[4 * i + 2]), round3(xywh[4 * i + 3])] as
      [number, number, number, number], score: f32ToShortest(score)}));
}
