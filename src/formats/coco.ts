/**
 * COCO ground truth (`{images, annotations, categories}`): reading, validation and a compact
 * columnar form that evaluation, statistics and conversion share.
 *
 * Validation follows pycocotools where it is well defined and refuses what it silently
 * mis-handles: duplicate annotation, image or category ids are errors; bad boxes follow the
 * box policy (geometry/boxes.ts). Findings that do not stop the work (missing `area`,
 * annotations on unknown images or categories, `ignore` flags, annotation id 0) are returned
 * as data in `findings`, for the caller to print.
 */
import {createReadStream} from 'node:fs';
import {stat} from 'node:fs/promises';
import {UserError} from '../cli/errors.js';
import {readJson} from './json-input.js';
import {assertValidBoxes, toXyxy} from '../geometry/boxes.js';
import type {ImageId} from './results.js';

export type {ImageId};

export interface CocoImage {
  id: ImageId;
  fileName?: string;
  width?: number;
  height?: number;
}

export interface CocoCategory {
  id: number;
  name: string;
  supercategory?: string;
}

/** Annotations as columns; index `i` is the i-th annotation kept, in file order. */
export interface CocoAnnotations {
  count: number;
  /** Annotation ids. */
  id: Float64Array;
  /** Index into `CocoGt.images`. */
  imageIndex: Int32Array;
  /** Index into `CocoGt.categories`. */
  categoryIndex: Int32Array;
  /** Boxes, xywh (COCO), length 4*count, float64 as written. */
  xywh: Float64Array;
  /** The `area` field (w*h where it was missing). */
  area: Float64Array;
  /** `iscrowd` (0/1). */
  iscrowd: Uint8Array;
  /** The `ignore` field (0/1); pycocotools overwrites it with `iscrowd`. */
  ignore: Uint8Array;
}

/** Something about the GT worth a warning; the data was still usable. */
export interface CocoFinding {
  code: 'W_AREA_MISSING' | 'W_UNKNOWN_IMAGE' | 'W_UNKNOWN_CATEGORY' | 'W_IGNORE_FIELD' | 'W_ID_ZERO';
  message: string;
  /** How many annotations it concerns. */
  count: number;
  /** The first annotation concerned (`annotation 12`). */
  record?: string;
}

export interface CocoGt {
  /** Where it was read from (for messages). */
  file: string;
  images: CocoImage[];
  categories: CocoCategory[];
  annotations: CocoAnnotations;
  /** Image id -> index into `images`. */
  imageIndex: Map<ImageId, number>;
  /** Category id -> index into `categories`. */
  categoryIndex: Map<number, number>;
  findings: CocoFinding[];
}

/** Files larger than this are parsed as a stream (V8 cannot hold their text as one string). */
const STREAM_BYTES = 256 * 1024 * 1024;

/** Reads and validates a COCO GT file (`-` for stdin); large files are streamed. */
export async function loadCocoGt(file: string, opts: {streamAboveBytes?: number} = {}): Promise<CocoGt> {
  for (const k of Object.keys(opts)) if (k !== 'streamAboveBytes') throw new TypeError(`unknown option "${k}"`);
  const limit = opts.streamAboveBytes ?? STREAM_BYTES;
  if (file !== '-') {
    const size = await stat(file).then((s) => s.size, () => -1);
    if (size > limit) return streamCocoGt(file);
  }
  return parseCocoGt(await readJson(file), file);
}

function shapeError(file: string, what: string, record?: string): UserError {
  return new UserError(what, {code: 'E_GT_SHAPE', file, record,
    fix: 'give a COCO ground-truth file: {"images": [...], "annotations": [...], "categories": [...]}'});
}

function isId(v: unknown): v is ImageId {
  return (typeof v === 'number' && Number.isFinite(v)) || typeof v === 'string';
}

/** Builds the GT from parsed JSON (`value`), read from `file` (for messages). */
export function parseCocoGt(value: unknown, file: string): CocoGt {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw shapeError(file, 'expected a JSON object with "images", "annotations" and "categories"');
  }
  const v = value as Record<string, unknown>;
  const b = new GtBuilder(file);
  for (const key of ['images', 'categories'] as const) {
    if (!Array.isArray(v[key])) throw shapeError(file, `missing or invalid "${key}" array`);
  }
  if (v.annotations !== undefined && !Array.isArray(v.annotations)) {
    throw shapeError(file, '"annotations" is not an array');
  }
  (v.images as unknown[]).forEach((x, i) => b.image(x, i));
  (v.categories as unknown[]).forEach((x, i) => b.category(x, i));
  ((v.annotations ?? []) as unknown[]).forEach((x, i) => b.annotation(x, i));
  return b.finish();
}

/** Streams a large GT file: images and categories first or last, annotations in any order. */
async function streamCocoGt(file: string): Promise<CocoGt> {
  const [{parser}, {pick}, {streamValues}, {chain}] = await Promise.all([
    import('stream-json'), import('stream-json/filters/pick.js'), import('stream-json/streamers/stream-values.js'),
    import('stream-chain')]);
  // Which top-level array each picked element came from, in pick order.
  const keys: string[] = [];
  const filter = (stack: readonly (string | number | null)[]) => {
    const ok = stack.length === 2 && typeof stack[1] === 'number' &&
      (stack[0] === 'images' || stack[0] === 'annotations' || stack[0] === 'categories');
    if (ok && stack[1] !== lastIndex.get(stack[0] as string)) {
      lastIndex.set(stack[0] as string, stack[1] as number);
      keys.push(stack[0] as string);
    }
    return ok;
  };
  const lastIndex = new Map<string, number>();
  const pipeline = chain([createReadStream(file), parser(), pick({filter}), streamValues()]);
  const images: unknown[] = [], categories: unknown[] = [], anns: unknown[] = [];
  try {
    for await (const item of pipeline as AsyncIterable<{key: number; value: unknown}>) {
      const key = keys.shift();
      (key === 'images' ? images : key === 'categories' ? categories : anns).push(item.value);
    }
  } catch (err) {
    throw new UserError(`invalid JSON: ${(err as Error).message}`, {code: 'E_JSON', file, fix: 'fix the JSON syntax'});
  }
  return parseCocoGt({images, categories, annotations: anns}, file);
}

/** Growable float64/int columns for annotations. */
class GtBuilder {
  private images: CocoImage[] = [];
  private categories: CocoCategory[] = [];
  private imageIndex = new Map<ImageId, number>();
  private categoryIndex = new Map<number, number>();
  private annIds = new Map<number, number>();
  private cap = 1024;
  private n = 0;
  private cols = GtBuilder.alloc(1024);
  private counts = new Map<CocoFinding['code'], {count: number; record: string; extra: Set<string>}>();

  constructor(private readonly file: string) {}

  private static alloc(cap: number): Omit<CocoAnnotations, 'count'> {
    return {id: new Float64Array(cap), imageIndex: new Int32Array(cap), categoryIndex: new Int32Array(cap),
      xywh: new Float64Array(4 * cap), area: new Float64Array(cap), iscrowd: new Uint8Array(cap),
      ignore: new Uint8Array(cap)};
  }

  private note(code: CocoFinding['code'], record: string, extra?: string): void {
    const c = this.counts.get(code) ?? {count: 0, record, extra: new Set<string>()};
    c.count++;
    if (extra !== undefined && c.extra.size < 20) c.extra.add(extra);
    this.counts.set(code, c);
  }

  image(x: unknown, i: number): void {
    const r = x as Record<string, unknown>;
    if (typeof x !== 'object' || x === null || !isId(r.id)) {
      throw shapeError(this.file, 'image without a valid "id"', `image ${i}`);
    }
    if (this.imageIndex.has(r.id)) {
      throw new UserError(`duplicate image id ${JSON.stringify(r.id)}`, {code: 'E_GT_DUPLICATE', file: this.file,
        record: `image ${i}`, fix: 'give every image a unique id'});
    }
    this.imageIndex.set(r.id, this.images.length);
    this.images.push({id: r.id, fileName: typeof r.file_name === 'string' ? r.file_name : undefined,
      width: typeof r.width === 'number' ? r.width : undefined,
      height: typeof r.height === 'number' ? r.height : undefined});
  }

  category(x: unknown, i: number): void {
    const r = x as Record<string, unknown>;
    if (typeof x !== 'object' || x === null || typeof r.id !== 'number' || !Number.isFinite(r.id)) {
      throw shapeError(this.file, 'category without a numeric "id"', `category ${i}`);
    }
    if (this.categoryIndex.has(r.id)) {
      throw new UserError(`duplicate category id ${r.id}`, {code: 'E_GT_DUPLICATE', file: this.file,
        record: `category ${i}`, fix: 'give every category a unique id'});
    }
    this.categoryIndex.set(r.id, this.categories.length);
    this.categories.push({id: r.id, name: typeof r.name === 'string' ? r.name : String(r.id),
      supercategory: typeof r.supercategory === 'string' ? r.supercategory : undefined});
  }

  annotation(x: unknown, i: number): void {
    const where = `annotation ${i}`;
    const r = x as Record<string, unknown>;
    if (typeof x !== 'object' || x === null) throw shapeError(this.file, 'annotation is not an object', where);
    if (typeof r.id !== 'number' || !Number.isFinite(r.id)) {
      throw shapeError(this.file, `annotation without a numeric "id" (${JSON.stringify(r.id)})`, where);
    }
    const bb = r.bbox;
    if (!Array.isArray(bb) || bb.length !== 4 || !bb.every((c) => typeof c === 'number' || c === null)) {
      throw new UserError(`"bbox" must be [x, y, width, height] (got ${JSON.stringify(bb)})`, {code: 'E_RECORD',
        file: this.file, record: `${where} (id ${r.id})`, fix: 'write the box as COCO xywh'});
    }
    const img = this.imageIndex.get(r.image_id as ImageId);
    const cat = this.categoryIndex.get(r.category_id as number);
    if (img === undefined) return this.note('W_UNKNOWN_IMAGE', where, JSON.stringify(r.image_id));
    if (cat === undefined) return this.note('W_UNKNOWN_CATEGORY', where, JSON.stringify(r.category_id));
    const prev = this.annIds.get(r.id);
    if (prev !== undefined) {
      const imgs = [this.images[this.cols.imageIndex[prev]].id, r.image_id].map((v) => JSON.stringify(v)).join(' and ');
      throw new UserError(`duplicate annotation id ${r.id} (images ${imgs}); pycocotools would silently mis-evaluate`,
        {code: 'E_GT_DUPLICATE', file: this.file, record: where, fix: 'renumber the annotations with unique ids'});
    }
    if (this.n === this.cap) this.grow();
    const k = this.n++;
    this.annIds.set(r.id, k);
    const c = this.cols;
    c.id[k] = r.id;
    c.imageIndex[k] = img;
    c.categoryIndex[k] = cat;
    for (let j = 0; j < 4; j++) c.xywh[4 * k + j] = bb[j] === null ? NaN : (bb[j] as number);
    if (typeof r.area === 'number' && Number.isFinite(r.area)) c.area[k] = r.area;
    else {
      c.area[k] = c.xywh[4 * k + 2] * c.xywh[4 * k + 3];
      this.note('W_AREA_MISSING', where);
    }
    c.iscrowd[k] = r.iscrowd ? 1 : 0;
    c.ignore[k] = r.ignore ? 1 : 0;
    if (c.ignore[k] && !c.iscrowd[k]) this.note('W_IGNORE_FIELD', where);
    if (r.id === 0) this.note('W_ID_ZERO', where);
  }

  private grow(): void {
    const next = GtBuilder.alloc(this.cap * 2);
    for (const key of Object.keys(next) as (keyof typeof next)[]) {
      (next[key] as Float64Array).set(this.cols[key] as Float64Array);
    }
    this.cols = next;
    this.cap *= 2;
  }

  finish(): CocoGt {
    const n = this.n;
    const c = this.cols;
    const annotations: CocoAnnotations = {count: n, id: c.id.slice(0, n), imageIndex: c.imageIndex.slice(0, n),
      categoryIndex: c.categoryIndex.slice(0, n), xywh: c.xywh.slice(0, 4 * n), area: c.area.slice(0, n),
      iscrowd: c.iscrowd.slice(0, n), ignore: c.ignore.slice(0, n)};
    const xyxy = toXyxy(annotations.xywh, 'xywh');
    assertValidBoxes(xyxy, {file: this.file, format: 'xywh', original: annotations.xywh,
      label: (k) => `annotation id ${annotations.id[k]}`});
    return {file: this.file, images: this.images, categories: this.categories, annotations,
      imageIndex: this.imageIndex, categoryIndex: this.categoryIndex, findings: this.findings()};
  }

  private findings(): CocoFinding[] {
    const text: Record<CocoFinding['code'], (n: number, extra: string) => string> = {
      W_AREA_MISSING: (n) => `${n} annotation(s) without "area": using w*h of the box`,
      W_UNKNOWN_IMAGE: (n, e) => `${n} annotation(s) on image ids not in "images" (${e}) left out`,
      W_UNKNOWN_CATEGORY: (n, e) => `${n} annotation(s) with category ids not in "categories" (${e}) left out`,
      W_IGNORE_FIELD: (n) => `${n} annotation(s) have "ignore": 1 without "iscrowd": 1; pycocotools does not ` +
        'honour "ignore" (it is overwritten by iscrowd)',
      W_ID_ZERO: (n) => `${n} annotation(s) have id 0, which pycocotools never counts as matched`,
    };
    return [...this.counts].map(([code, v]) => ({code, count: v.count, record: v.record,
      message: text[code](v.count, [...v.extra].join(', '))}));
  }
}

/** Image indices of `gt` in pycocotools' evaluation order: ids sorted ascending (numbers before strings). */
export function sortedImageOrder(gt: CocoGt): Int32Array {
  const idx = Int32Array.from(gt.images.keys());
  const ids = gt.images.map((im) => im.id);
  idx.sort((a, b) => compareIds(ids[a], ids[b]));
  return idx;
}

function compareIds(a: ImageId, b: ImageId): number {
  if (typeof a === 'number' && typeof b === 'number') return a - b;
  if (typeof a === 'number') return -1;
  if (typeof b === 'number') return 1;
  return a < b ? -1 : a > b ? 1 : 0;
}
