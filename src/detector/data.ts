/**
 * Training and prediction data: COCO ground truth for training, images decoded with sharp
 * to RGB bytes, tiles of large images (with overlap), random crops and flips, and the batch
 * tensor layout the model takes (NHWC float32, normalised).
 */
import {join, isAbsolute} from 'node:path';
import {UserError} from '../cli/errors.js';
import {toXyxy} from '../geometry/boxes.js';
import type {Rng} from '../util/rng.js';

/** A decoded image: RGB bytes, row-major, length width*height*3. */
export interface RgbImage {
  width: number;
  height: number;
  rgb: Uint8Array;
}

/** One training image and its objects. */
export interface TrainImage {
  id: number | string;
  path: string;
  width: number;
  height: number;
  /** Float32Array 4*G, xyxy, pixels. */
  boxesXyxy: Float32Array;
  /** Int32Array G: class index into the dataset's categories. */
  classes: Int32Array;
  /** Uint8Array G: 1 for crowd / ignored objects. */
  ignore: Uint8Array;
}

export interface TrainSet {
  categories: {id: number; name: string}[];
  images: TrainImage[];
  /** Mean sqrt(w*h) over the non-crowd objects (the NWD constant the data suggests), NaN without objects. */
  meanSqrtWh: number;
}

/**
 * Reads COCO ground truth for training (formats/coco.ts); images are looked up under
 * `imagesDir` by `file_name`. `categories` fixes the class order (a resumed model's); by default
 * the file's categories sorted by id.
 */
export async function loadTrainSet(gtFile: string, imagesDir: string, categories?: {id: number; name: string}[]):
  Promise<TrainSet> {
  const {loadCocoGt} = await import('../formats/coco.js');
  const gt = await loadCocoGt(gtFile);
  const cats = categories ?? [...gt.categories].sort((a, b) => a.id - b.id).map((c) => ({id: c.id, name: c.name}));
  const catIndex = new Map(cats.map((c, i) => [c.id, i]));
  const ann = gt.annotations;
  const perImage: number[][] = gt.images.map(() => []);
  for (let i = 0; i < ann.count; i++) {
    const id = gt.categories[ann.categoryIndex[i]].id;
    if (!catIndex.has(id)) {
      throw new UserError(`annotation has category_id ${id}, which the model does not know`, {code: 'E_RECORD',
        file: gtFile, record: `annotation ${ann.id[i]}`,
        fix: `train on the model's categories (${cats.map((c) => c.id)})`});
    }
    perImage[ann.imageIndex[i]].push(i);
  }
  let sum = 0, count = 0;
  const images = gt.images.map((im, j) => {
    const idx = perImage[j];
    const xywh = idx.flatMap((i) => Array.from(ann.xywh.subarray(4 * i, 4 * i + 4)));
    const ignore = Uint8Array.from(idx, (i) => (ann.iscrowd[i] || ann.ignore[i] ? 1 : 0));
    idx.forEach((i, k) => {
      if (!ignore[k]) {
        sum += Math.sqrt(Math.max(0, ann.xywh[4 * i + 2] * ann.xywh[4 * i + 3]));
        count++;
      }
    });
    if (typeof im.fileName !== 'string') {
      throw new UserError('image has no "file_name"', {code: 'E_RECORD', file: gtFile, record: `image ${im.id}`,
        fix: 'add the file name relative to --images'});
    }
    return {id: im.id, path: isAbsolute(im.fileName) ? im.fileName : join(imagesDir, im.fileName),
      width: im.width ?? 0, height: im.height ?? 0, boxesXyxy: toXyxy(xywh, 'xywh'),
      classes: Int32Array.from(idx, (i) => catIndex.get(gt.categories[ann.categoryIndex[i]].id) as number), ignore};
  });
  return {categories: cats, images, meanSqrtWh: count ? sum / count : NaN};
}

/** Decodes an image file (any format sharp reads) to 8-bit RGB. */
export async function decodeImage(path: string): Promise<RgbImage> {
  const sharp = (await import('sharp')).default;
  try {
    const {data, info} = await sharp(path).removeAlpha().toColourspace('srgb').raw()
      .toBuffer({resolveWithObject: true});
    if (info.channels !== 3) throw new Error(`decoded to ${info.channels} channels`);
    return {width: info.width, height: info.height, rgb: new Uint8Array(data.buffer, data.byteOffset, data.length)};
  } catch (err) {
    throw new UserError(`cannot decode image: ${(err as Error).message}`, {code: 'E_IMAGE', file: path,
      fix: 'check the file exists under --images and is a PNG, JPEG, TIFF or WebP image'});
  }
}

/** A decoded-image cache with a byte budget (least recently used out first). */
export class ImageCache {
  private readonly map = new Map<string, RgbImage>();
  private bytes = 0;

  constructor(private readonly budget = 1 << 30) {}

  async get(path: string): Promise<RgbImage> {
    const hit = this.map.get(path);
    if (hit) {
      this.map.delete(path);
      this.map.set(path, hit);
      return hit;
    }
    const img = await decodeImage(path);
    this.map.set(path, img);
    this.bytes += img.rgb.length;
    for (const [k, v] of this.map) {
      if (this.bytes <= this.budget || k === path) break;
      this.map.delete(k);
      this.bytes -= v.rgb.length;
    }
    return img;
  }
}

/** Offsets of tiles of side `tile` with at least `overlap` px shared, covering [0, size). */
export function tileOffsets(size: number, tile: number, overlap: number): number[] {
  if (size <= tile) return [0];
  const step = Math.max(1, tile - overlap);
  const n = Math.ceil((size - tile) / step) + 1;
  return Array.from({length: n}, (_, i) => Math.round((i * (size - tile)) / (n - 1)));
}

/** A window of an image: x, y, width, height in pixels. */
export interface Window {
  x: number;
  y: number;
  w: number;
  h: number;
}

/** Tiles of an image (one window when it fits in `tile`). */
export function tiles(width: number, height: number, tile: number, overlap: number): Window[] {
  const out: Window[] = [];
  for (const y of tileOffsets(height, tile, overlap)) {
    for (const x of tileOffsets(width, tile, overlap)) {
      out.push({x, y, w: Math.min(tile, width), h: Math.min(tile, height)});
    }
  }
  return out;
}

/** The normalisation of config.input. */
export interface Normalisation {
  mean: [number, number, number];
  std: [number, number, number];
}

/**
 * Copies window `win` of `img` into `dst` (float32, an NHWC slot `slotW` wide and `slotH` high, black
 * past the window), normalised, optionally flipped (horizontal `fx`, vertical `fy`, in the window's frame).
 */
export function writeWindow(dst: Float32Array, offset: number, slotW: number, slotH: number, img: RgbImage, win: Window,
  norm: Normalisation, fx = false, fy = false): void {
  const pad = [0, 1, 2].map((c) => (0 - norm.mean[c]) / norm.std[c]);
  const scale = [0, 1, 2].map((c) => 1 / 255 / norm.std[c]);
  const shift = [0, 1, 2].map((c) => -norm.mean[c] / norm.std[c]);
  for (let y = 0; y < slotH; y++) {
    for (let x = 0; x < slotW; x++) {
      const o = offset + (y * slotW + x) * 3;
      const sx = fx ? win.w - 1 - x : x, sy = fy ? win.h - 1 - y : y;
      if (x >= win.w || y >= win.h) {
        dst[o] = pad[0];
        dst[o + 1] = pad[1];
        dst[o + 2] = pad[2];
        continue;
      }
      const s = ((win.y + sy) * img.width + (win.x + sx)) * 3;
      dst[o] = img.rgb[s] * scale[0] + shift[0];
      dst[o + 1] = img.rgb[s + 1] * scale[1] + shift[1];
      dst[o + 2] = img.rgb[s + 2] * scale[2] + shift[2];
    }
  }
}

/** Objects of a crop: boxes in crop coordinates, classes, and the ignore mask. */
export interface CropTargets {
  boxesXyxy: Float32Array;
  classes: Int32Array;
  ignore: Uint8Array;
}

/**
 * Boxes of `im` inside window `win`, clipped and flipped like writeWindow. An object keeping
 * less than `minVisible` of its area in the window becomes ignored (neither positive nor negative).
 */
export function cropTargets(im: Pick<TrainImage, 'boxesXyxy' | 'classes' | 'ignore'>, win: Window, fx: boolean,
  fy: boolean, minVisible = 0.5): CropTargets {
  const boxes: number[] = [], classes: number[] = [], ignore: number[] = [];
  for (let k = 0; k < im.classes.length; k++) {
    const b = im.boxesXyxy.subarray(4 * k, 4 * k + 4);
    const x1 = Math.max(b[0], win.x) - win.x, y1 = Math.max(b[1], win.y) - win.y;
    const x2 = Math.min(b[2], win.x + win.w) - win.x, y2 = Math.min(b[3], win.y + win.h) - win.y;
    if (x2 < x1 || y2 < y1) continue;
    const area = (b[2] - b[0]) * (b[3] - b[1]);
    // An object with an area that the window cuts down to a line or a point is outside it.
    if (area > 0 && (x2 === x1 || y2 === y1)) continue;
    const visible = area > 0 ? ((x2 - x1) * (y2 - y1)) / area : 1;
    const bx1 = fx ? win.w - x2 : x1, bx2 = fx ? win.w - x1 : x2;
    const by1 = fy ? win.h - y2 : y1, by2 = fy ? win.h - y1 : y2;
    boxes.push(bx1, by1, bx2, by2);
    classes.push(im.classes[k]);
    ignore.push(im.ignore[k] || visible < minVisible ? 1 : 0);
  }
  return {boxesXyxy: Float32Array.from(boxes), classes: Int32Array.from(classes), ignore: Uint8Array.from(ignore)};
}

/** A random `crop`x`crop` window inside `tile` (the whole tile when it is smaller). */
export function randomCrop(tile: Window, crop: number, rng: Rng): Window {
  const w = Math.min(crop, tile.w), h = Math.min(crop, tile.h);
  return {x: tile.x + rng.below(tile.w - w + 1), y: tile.y + rng.below(tile.h - h + 1), w, h};
}

/** Rounds `n` up to a multiple of `m`. */
export function roundUp(n: number, m: number): number {
  return Math.ceil(n / m) * m;
}
