/**
 * NMS of an image's detections per class through nwd-core (src/nms), with IoU or NWD as the
 * overlap (`--nms`); NWD uses the model's C.
 */
import {batchedNms} from '../nms/nms.js';
import type {Detections} from './postprocess.js';
import type {NmsMetric} from './config.js';

/** Indices of the detections kept by class-wise NMS (suppress when overlap > threshold), by descending score. */
export function nmsDetections(d: Detections, metric: NmsMetric, threshold: number, c: number): Int32Array {
  if (d.scores.length === 0) return new Int32Array(0);
  return batchedNms(d.boxesXyxy, d.scores, d.classes, metric === 'nwd' ? {metric, threshold, c} : {metric, threshold});
}
