/**
 * Validation during training: the detector on every image a COCO GT lists, evaluated with
 * `src/eval` (COCO protocol); returns its summary numbers (AP, AP50, ...).
 */
import {join, isAbsolute} from 'node:path';
import type * as tf from '@tensorflow/tfjs';
import type {DetectorConfig} from './config.js';
import {decodeImage} from './data.js';
import {Inferencer} from './infer.js';
import {toCocoResults} from './results.js';

/** Summary numbers of `nwd eval` by key (AP, AP50, AP75, APs, ...; -1 where undefined). */
export type ValStats = Record<string, number>;

/** Evaluates `model` on the images of `gtFile` (under `imagesDir`). */
export async function validate(model: tf.LayersModel, cfg: DetectorConfig, gtFile: string, imagesDir: string):
  Promise<ValStats> {
  const {loadCocoGt} = await import('../formats/coco.js');
  const {evaluate} = await import('../eval/evaluate.js');
  const gt = await loadCocoGt(gtFile);
  const inf = new Inferencer(model, cfg);
  const dets = [];
  for (const im of gt.images) {
    if (typeof im.fileName !== 'string') continue;
    const img = await decodeImage(isAbsolute(im.fileName) ? im.fileName : join(imagesDir, im.fileName));
    dets.push(...toCocoResults(im.id, inf.image(img), cfg));
  }
  const r = await evaluate(gt, dets.map((d) => ({imageId: d.image_id, categoryId: d.category_id, bbox: d.bbox,
    score: d.score})), {protocol: 'coco'});
  return r.stats;
}
