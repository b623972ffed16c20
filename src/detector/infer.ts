/**
 * Inference on whole images: windows (tiles with overlap for images larger than
 * `input.tile`), each padded to a multiple of the coarsest stride and run through the model,
 * candidates decoded and shifted back, merged, then NMS per class over the whole image.
 */
import * as tf from '@tensorflow/tfjs';
import {generateAnchors, type Anchors} from './anchors.js';
import type {DetectorConfig} from './config.js';
import {roundUp, tiles, writeWindow, type RgbImage, type Window} from './data.js';
import {clipBoxes, concatDetections, selectDetections, topScores, windowCandidates,
  type Detections} from './postprocess.js';
import type {Stds} from './coder.js';
import {nmsDetections} from './nms-glue.js';

export interface InferOptions {
  /** Skip NMS (and the detection cap): every candidate above the score threshold. */
  raw?: boolean;
  /** Overrides of config.postprocess (score threshold, NMS metric/threshold, caps). */
  post?: Partial<DetectorConfig['postprocess']>;
}

/** Runs a detector on images; caches anchors per input size. */
export class Inferencer {
  private readonly anchorCache = new Map<string, Anchors>();
  readonly post: DetectorConfig['postprocess'];

  constructor(readonly model: tf.LayersModel, readonly cfg: DetectorConfig, readonly opts: InferOptions = {}) {
    this.post = {...cfg.postprocess, ...(opts.post ?? {})};
  }

  anchors(w: number, h: number): Anchors {
    const key = `${w}x${h}`;
    let a = this.anchorCache.get(key);
    if (!a) {
      a = generateAnchors(this.cfg.anchors, w, h);
      this.anchorCache.set(key, a);
    }
    return a;
  }

  /** Candidates of one window of `img`. */
  window(img: RgbImage, win: Window): Detections {
    const m = this.cfg.input.multiple;
    const w = roundUp(win.w, m), h = roundUp(win.h, m);
    const buf = new Float32Array(w * h * 3);
    writeWindow(buf, 0, w, h, img, win, this.cfg.input);
    const [probs, deltas] = tf.tidy(() => {
      const [cls, reg] = this.model.predict(tf.tensor4d(buf, [1, h, w, 3])) as tf.Tensor[];
      return [tf.sigmoid(cls), reg];
    });
    const p = probs.dataSync() as Float32Array, d = deltas.dataSync() as Float32Array;
    probs.dispose();
    deltas.dispose();
    return windowCandidates(p, d, this.anchors(w, h).xyxy, this.cfg.classes.length, this.post,
      this.cfg.coder.stds as Stds, win.x, win.y);
  }

  /** Detections of a whole image, sorted by descending score. */
  image(img: RgbImage): Detections {
    const windows = tiles(img.width, img.height, this.cfg.input.tile, this.cfg.input.overlap);
    const parts = windows.map((w) => this.window(img, w));
    const all = concatDetections(parts);
    clipBoxes(all, img.width, img.height);
    if (this.opts.raw) return selectDetections(all, topScores(all.scores, all.scores.length));
    const keep = nmsDetections(all, this.post.nms, this.post.nmsThreshold, this.cfg.assign.c);
    const kept = selectDetections(all, keep);
    return selectDetections(kept, topScores(kept.scores, this.post.maxDetections));
  }
}
