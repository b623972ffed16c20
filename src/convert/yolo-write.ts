/**
 * COCO dataset -> YOLO label files: class index = position of the category id in the sorted
 * list of category ids (never the id itself), class names in `classes.txt` beside the labels.
 * Boxes must already be clipped to their images (the validation pass does it).
 */
import {join} from 'node:path';
import {UserError} from '../cli/errors.js';
import {writeFileAtomic} from '../cli/atomic.js';
import type {GtDataset} from '../formats/coco-write.js';
import {formatYoloRow, yoloDecimals} from '../formats/yolo.js';
import {stemOf} from './images.js';

export interface YoloFiles {
  /** Label file name (`<image stem>.txt`) -> text. */
  labels: Map<string, string>;
  /** Class names in index order. */
  names: string[];
  /** Crowd/ignore GT, which YOLO cannot express, left out. */
  skippedCrowd: number;
}

/** Builds the YOLO label texts of a dataset in memory (nothing is written). */
export function toYoloFiles(ds: GtDataset): YoloFiles {
  const cats = [...ds.categories].sort((a, b) => a.id - b.id);
  const index = new Map(cats.map((c, i) => [c.id, i]));
  const rows = new Map<number, string[]>(ds.images.map((im) => [im.id, []]));
  const images = new Map(ds.images.map((im) => [im.id, im]));
  let skippedCrowd = 0;
  for (const a of ds.annotations) {
    if (a.iscrowd || a.ignore) {
      skippedCrowd++;
      continue;
    }
    const im = images.get(a.image_id)!;
    const [x, y, w, h] = a.bbox;
    const norm = [(x + w / 2) / im.width, (y + h / 2) / im.height, w / im.width, h / im.height];
    rows.get(a.image_id)!.push(formatYoloRow(index.get(a.category_id)!, norm, yoloDecimals(Math.max(im.width,
      im.height))));
  }
  const labels = new Map<string, string>();
  for (const im of ds.images) {
    const name = `${stemOf(im.file_name)}.txt`;
    if (labels.has(name) || name === 'classes.txt') {
      throw new UserError(`two images map to the label file ${name}`, {code: 'E_NAME_CLASH', record: `image ${im.id}`,
        fix: 'YOLO names label files after the image: give images distinct names'});
    }
    const r = rows.get(im.id)!;
    labels.set(name, r.length ? `${r.join('\n')}\n` : '');
  }
  return {labels, names: cats.map((c) => c.name), skippedCrowd};
}

/** Writes the label files and `classes.txt` into `dir`, each file atomically. */
export async function writeYoloFiles(dir: string, files: YoloFiles): Promise<void> {
  await writeFileAtomic(join(dir, 'classes.txt'), `${files.names.join('\n')}\n`);
  for (const [name, text] of files.labels) await writeFileAtomic(join(dir, name), text);
}
