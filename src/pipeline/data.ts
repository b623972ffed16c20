/**
 * The pipeline's data step: either `nwd synth` data, or a user's COCO GT split by image into
 * train and val (seeded), keeping every field of every record as it came.
 */
import {join, resolve} from 'node:path';
import {existsSync} from 'node:fs';
import {UserError} from '../cli/errors.js';
import {writeFileAtomic} from '../cli/atomic.js';
import {readJson} from '../formats/json-input.js';
import {Rng} from '../util/rng.js';

export interface PipelineData {
  train: string;
  val: string;
  /** Folder the GT's file_name values are relative to. */
  images: string;
}

interface RawCoco {
  images: Array<{id: unknown; file_name?: unknown} & Record<string, unknown>>;
  annotations: Array<{image_id: unknown} & Record<string, unknown>>;
  categories: unknown[];
  [k: string]: unknown;
}

function asCoco(value: unknown, file: string): RawCoco {
  const v = value as Partial<RawCoco> | null;
  for (const key of ['images', 'annotations', 'categories'] as const) {
    if (!v || !Array.isArray(v[key])) {
      throw new UserError(`not a COCO ground truth: "${key}" is missing or not an array`, {
        code: 'E_SHAPE',
        file,
        fix: 'pass a COCO GT JSON (nwd convert makes one from YOLO, VisDrone or DOTA labels)',
      });
    }
  }
  return v as RawCoco;
}

/**
 * Splits the GT in `file` by image into `dir/train.json` and `dir/val.json`: `valSplit` of the
 * images (at least one, and at least one left for training) go to val.
 */
export async function splitCoco(
  file: string,
  imagesDir: string,
  dir: string,
  valSplit: number,
  seed: number,
): Promise<PipelineData> {
  if (!(valSplit > 0 && valSplit < 1)) {
    throw new UserError(`--val-split must be between 0 and 1 (exclusive), got ${valSplit}`, {code: 'E_FLAG'});
  }
  const gt = asCoco(await readJson(file), file);
  if (gt.images.length < 2) {
    throw new UserError(`only ${gt.images.length} image(s): a train/val split needs at least 2`, {
      code: 'E_DATA',
      file,
      fix: 'add images, or give a separate validation GT with --val',
    });
  }
  checkImages(gt, file, imagesDir);
  const ids = new Rng(seed).shuffle(gt.images.map((im) => im.id));
  const nVal = Math.min(gt.images.length - 1, Math.max(1, Math.round(valSplit * gt.images.length)));
  const valIds = new Set(ids.slice(0, nVal));
  const part = (inVal: boolean) => ({
    ...gt,
    images: gt.images.filter((im) => valIds.has(im.id) === inVal),
    annotations: gt.annotations.filter((a) => valIds.has(a.image_id) === inVal),
  });
  const train = join(dir, 'train.json'),
    val = join(dir, 'val.json');
  await writeFileAtomic(train, JSON.stringify(part(false)));
  await writeFileAtomic(val, JSON.stringify(part(true)));
  return {train, val, images: resolve(imagesDir)};
}

/** Every image the GT lists must exist under `imagesDir`: say which do not. */
export function checkImages(
  gt: {images: Array<{id: unknown; file_name?: unknown}>},
  file: string,
  imagesDir: string,
): void {
  const missing = gt.images.filter(
    (im) => typeof im.file_name !== 'string' || !existsSync(join(imagesDir, im.file_name)),
  );
  if (missing.length) {
    const names = missing
      .slice(0, 5)
      .map((im) => `${String(im.file_name)} (id ${String(im.id)})`)
      .join(', ');
    throw new UserError(
      `${missing.length} image(s) listed in the GT are not in ${imagesDir}: ${names}${
        missing.length > 5 ? ', ...' : ''
      }`,
      {code: 'E_MISSING_IMAGE', file, fix: 'check --images (file_name is relative to it)'},
    );
  }
}

/** Reads the COCO GT in `file` and checks that every image it lists exists under `imagesDir`. */
export async function checkImageFiles(file: string, imagesDir: string): Promise<void> {
  checkImages(asCoco(await readJson(file), file), file, imagesDir);
}
