/**
 * The detector's configuration: everything besides weights that a model directory needs to be
 * used again (classes, anchors, assignment, losses, NMS, input handling, normalisation). Stored
 * as `config.json` beside tfjs's `model.json`.
 */
import {UserError} from '../cli/errors.js';
import {validateAnchorLayout, type AnchorLayout} from './anchors.js';

export const ASSIGNERS = ['iou', 'nwd', 'rka', 'atss-iou', 'atss-nwd'] as const;
export type AssignerName = (typeof ASSIGNERS)[number];
export const REG_LOSSES = ['smoothl1', 'giou', 'nwd'] as const;
export type RegLoss = (typeof REG_LOSSES)[number];
export const CLS_LOSSES = ['focal', 'bce'] as const;
export type ClsLoss = (typeof CLS_LOSSES)[number];
export const NMS_METRICS = ['iou', 'nwd'] as const;
export type NmsMetric = (typeof NMS_METRICS)[number];

/**
 * Regression loss weights by default. NWD: the paper used 10 in Faster R-CNN's RPN (averaged
 * over 256 sampled anchors) and 2 in ATSS, a single-stage detector like ours whose regression
 * loss is averaged over positives; 2 is our default. GIoU: 2 (as in ATSS). Smooth L1: 1.
 */
export const DEFAULT_REG_WEIGHT: Record<RegLoss, number> = {smoothl1: 1, giou: 2, nwd: 2};

export interface DetectorConfig {
  format: 'nwd-detector';
  version: 1;
  /** Categories in output order: class index i predicts category `classes[i].id`. */
  classes: {id: number; name: string}[];
  /** Anchor layout (see anchors.ts); the head needs strides [4, 8]. */
  anchors: AnchorLayout;
  assign: {
    method: AssignerName;
    /** NWD constant C in px (mean sqrt(w*h) of the training objects unless given). */
    c: number;
    posThreshold: number;
    negThreshold: number;
    minPosThreshold: number;
    /** Top-k of NWD-RKA and of ATSS (per level). */
    topk: number;
    /** Anchors sampled per image and positive fraction; 0 samples = use all (focal loss). */
    samples: number;
    posFraction: number;
  };
  loss: {cls: ClsLoss; reg: RegLoss; regWeight: number; focalAlpha: number; focalGamma: number};
  /** Box coder: deltas (dx, dy, dw, dh) are divided by these standard deviations. */
  coder: {stds: [number, number, number, number]};
  postprocess: {nms: NmsMetric; nmsThreshold: number; scoreThreshold: number; topk: number; maxDetections: number};
  input: {
    /** Images larger than this are tiled (with `overlap`) in training and prediction. */
    tile: number;
    overlap: number;
    /** Training crop side (<= tile). */
    crop: number;
    /** Input sides are padded to a multiple of this (the coarsest stride). */
    multiple: number;
    /** Pixel value v (0-255) enters the net as (v / 255 - mean[c]) / std[c]. */
    mean: [number, number, number];
    std: [number, number, number];
  };
  model: {backbone: 'tiny' | 'user'; widths: [number, number, number, number]; neckChannels: number;
    headChannels: number; headDepth: number; /** Batch norm after hidden convs of backbone and neck (absent: none). */
    norm?: 'bn' | 'none'; /** Channels of the full-resolution stem conv (absent or 0: none). */ stem?: number};
}

/** Checks a parsed config.json and returns it typed; throws a UserError naming `file`. */
export function parseConfig(value: unknown, file: string): DetectorConfig {
  const v = value as Partial<DetectorConfig>;
  const bad = (what: string) => new UserError(`not a model directory config: ${what}`, {code: 'E_MODEL_CONFIG', file,
    fix: 'point --model at a directory written by `nwd train`'});
  if (!v || typeof v !== 'object' || v.format !== 'nwd-detector') throw bad('"format" is not "nwd-detector"');
  if (v.version !== 1) throw bad(`unsupported version ${JSON.stringify(v.version)}`);
  if (!Array.isArray(v.classes) || v.classes.length === 0) throw bad('"classes" must be a non-empty array');
  if (!v.anchors || JSON.stringify(v.anchors.strides) !== '[4,8]') throw bad('"anchors" must have strides [4, 8]');
  validateAnchorLayout(v.anchors);
  for (const key of ['assign', 'loss', 'coder', 'postprocess', 'input', 'model'] as const) {
    if (!v[key] || typeof v[key] !== 'object') throw bad(`"${key}" is missing`);
  }
  return v as DetectorConfig;
}
