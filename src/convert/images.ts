/**
 * Image files of a dataset folder and their sizes, read from the file headers with sharp
 * (loaded lazily). Label files are matched to images by stem (name without extension).
 */
import {readdir} from 'node:fs/promises';
import {extname, join, basename} from 'node:path';
import {UserError} from '../cli/errors.js';

const IMAGE_EXTENSIONS = new Set(['.png', '.jpg', '.jpeg', '.bmp', '.tif', '.tiff', '.webp', '.gif']);

/** Name without its last extension. */
export function stemOf(file: string): string {
  const b = basename(file);
  const e = extname(b);
  return e ? b.slice(0, -e.length) : b;
}

/** Files of `dir` (not recursive), sorted by name; a missing folder is a UserError naming it. */
export async function listFiles(dir: string, flag: string): Promise<string[]> {
  try {
    const entries = await readdir(dir, {withFileTypes: true});
    return entries.filter((e) => e.isFile() && !e.name.startsWith('.')).map((e) => e.name).sort();
  } catch (err) {
    throw new UserError(`cannot read folder: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`, {
      code: 'E_READ', file: dir, fix: `check the ${flag} path`});
  }
}

/** Image files of `dir` by stem. Two images with the same stem are an error. */
export async function imagesByStem(dir: string): Promise<Map<string, string>> {
  const out = new Map<string, string>();
  for (const name of await listFiles(dir, '--images')) {
    if (!IMAGE_EXTENSIONS.has(extname(name).toLowerCase())) continue;
    const stem = stemOf(name);
    const prev = out.get(stem);
    if (prev) {
      throw new UserError(`two images share the name "${stem}": ${prev} and ${name}`, {
        code: 'E_IMAGES', file: dir, fix: 'keep one image per label file name'});
    }
    out.set(stem, name);
  }
  return out;
}

/** Width and height of each image (from its header), in the order given; `concurrency` files at a time. */
export async function imageSizes(dir: string, names: string[], concurrency = 8):
  Promise<Array<{width: number; height: number}>> {
  const {default: sharp} = await import('sharp');
  const out: Array<{width: number; height: number}> = new Array(names.length);
  let next = 0;
  const worker = async () => {
    for (let i = next++; i < names.length; i = next++) {
      const file = join(dir, names[i]);
      let meta;
      try {
        meta = await sharp(file).metadata();
      } catch (err) {
        throw new UserError(`cannot read the image size: ${(err as Error).message}`, {
          code: 'E_IMAGE', file, fix: 'check that the image is a readable PNG/JPEG/TIFF/WebP file'});
      }
      if (!meta.width || !meta.height) {
        throw new UserError('image header has no size', {code: 'E_IMAGE', file, fix: 'check the image file'});
      }
      out[i] = {width: meta.width, height: meta.height};
    }
  };
  await Promise.all(Array.from({length: Math.min(concurrency, names.length)}, worker));
  return out;
}
