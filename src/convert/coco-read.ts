/**
 * Reading a COCO ground-truth file into the dataset `nwd convert` writes, keeping every
 * extra field (DOTA's poly/difficult, VisDrone's truncation...). Only the structure is
 * checked here (each record's types, references between images, annotations and
 * categories); duplicate or zero annotation ids are validation findings, not errors.
 *
 * Not formats/coco.ts on purpose: that reader (for eval and stats) keeps only the fields
 * evaluation needs, as columns, and refuses duplicate annotation ids, whereas a converter
 * must carry every field through and report duplicates so they can be fixed.
 */
import {UserError} from '../cli/errors.js';
import {readJson} from '../formats/json-input.js';
import type {GtAnnotation, GtCategory, GtDataset, GtImage} from '../formats/coco-write.js';

function shapeError(file: string, record: string, what: string, fix: string): UserError {
  return new UserError(what, {code: 'E_SHAPE', file, record, fix});
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function num(v: unknown): v is number {
  return typeof v === 'number' && Number.isFinite(v);
}

function arrayField(root: Record<string, unknown>, key: string, file: string): Record<string, unknown>[] {
  const a = root[key];
  if (!Array.isArray(a)) {
    throw shapeError(file, key, `COCO ground truth needs an "${key}" array`,
      'write {"images", "annotations", "categories"}');
  }
  a.forEach((x, i) => {
    if (!isObject(x)) throw shapeError(file, `${key}[${i}]`, `expected an object, got ${JSON.stringify(x)}`,
      'fix the record');
  });
  return a as Record<string, unknown>[];
}

function readImages(root: Record<string, unknown>, file: string): GtImage[] {
  const seen = new Set<unknown>();
  return arrayField(root, 'images', file).map((im, i) => {
    const where = `images[${i}]`;
    if (!num(im.id)) throw shapeError(file, where, `image "id" must be a number (got ${JSON.stringify(im.id)})`,
      'fix the id');
    if (seen.has(im.id)) throw shapeError(file, where, `image id ${im.id} appears twice`, 'give each image its own id');
    seen.add(im.id);
    if (typeof im.file_name !== 'string') throw shapeError(file, where, 'image needs a "file_name" string', 'add it');
    if (!num(im.width) || !num(im.height) || im.width <= 0 || im.height <= 0) {
      throw shapeError(file, where, `image ${im.id} needs positive "width" and "height"`, 'add the image size');
    }
    return im as GtImage;
  });
}

function readCategories(root: Record<string, unknown>, file: string): GtCategory[] {
  return arrayField(root, 'categories', file).map((c, i) => {
    if (!num(c.id) || typeof c.name !== 'string') {
      throw shapeError(file, `categories[${i}]`, 'category needs a numeric "id" and a "name"', 'fix the category');
    }
    return c as GtCategory;
  });
}

function readAnnotation(a: Record<string, unknown>, where: string, file: string, images: Set<number>,
  cats: Set<number>): GtAnnotation {
  if (!num(a.id)) throw shapeError(file, where, `annotation "id" must be a number (got ${JSON.stringify(a.id)})`,
    'fix it');
  if (!num(a.image_id) || !images.has(a.image_id)) {
    throw shapeError(file, where, `annotation ${a.id}: image_id ${JSON.stringify(a.image_id)} is not in "images"`,
      'add the image or fix the image_id');
  }
  if (!num(a.category_id) || !cats.has(a.category_id)) {
    throw shapeError(file, where,
      `annotation ${a.id}: category_id ${JSON.stringify(a.category_id)} is not in "categories"`,
      'add the category or fix the category_id');
  }
  const b = a.bbox;
  if (!Array.isArray(b) || b.length !== 4 || !b.every((x) => typeof x === 'number' || x === null)) {
    throw shapeError(file, where, `annotation ${a.id}: "bbox" must be [x, y, width, height]`,
      'write the box as COCO xywh');
  }
  const bbox = b.map((x) => (x === null ? NaN : x)) as [number, number, number, number];
  const area = num(a.area) ? a.area : bbox[2] * bbox[3];
  return {...a, bbox, area, iscrowd: a.iscrowd ? 1 : 0} as GtAnnotation;
}

/** Reads a COCO GT file. Returns the dataset and a location (`annotations[i]`) per annotation. */
export async function readCocoGtForConvert(file: string): Promise<{ds: GtDataset; records: string[]}> {
  const root = await readJson(file);
  if (!isObject(root)) throw shapeError(file, 'top level', 'COCO ground truth must be a JSON object',
    'pass a COCO GT file');
  const images = readImages(root, file);
  const categories = readCategories(root, file);
  const imageIds = new Set(images.map((im) => im.id));
  const catIds = new Set(categories.map((c) => c.id));
  const records: string[] = [];
  const annotations = arrayField(root, 'annotations', file).map((a, i) => {
    records.push(`annotations[${i}]`);
    return readAnnotation(a, `annotations[${i}]`, file, imageIds, catIds);
  });
  const info = isObject(root.info) ? root.info : undefined;
  return {ds: {info, images, annotations, categories}, records};
}
