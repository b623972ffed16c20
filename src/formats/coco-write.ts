/**
 * Writing COCO ground truth (and its JSON Lines form) from the in-memory dataset that
 * `nwd convert` and `nwd synth` build. Boxes are COCO xywh in pixels, float64.
 *
 * Output is deterministic: keys in a fixed order, coordinates rounded to 1e-6 px (enough
 * for any round trip, and it hides float noise such as 601.6000000000001).
 */
import {writeFileAtomic} from '../cli/atomic.js';

/** An image record; extra fields (e.g. DOTA's `gsd`) are written after the standard ones. */
export interface GtImage {
  id: number;
  file_name: string;
  width: number;
  height: number;
  [extra: string]: unknown;
}

/** One object; `bbox` is xywh in pixels. `ignore` is written only when set. */
export interface GtAnnotation {
  id: number;
  image_id: number;
  category_id: number;
  /** xywh, pixels. */
  bbox: [number, number, number, number];
  area: number;
  iscrowd: 0 | 1;
  ignore?: 0 | 1;
  [extra: string]: unknown;
}

export interface GtCategory {
  id: number;
  name: string;
  [extra: string]: unknown;
}

/** A COCO ground-truth dataset as nwd writes it. */
export interface GtDataset {
  info?: Record<string, unknown>;
  images: GtImage[];
  annotations: GtAnnotation[];
  categories: GtCategory[];
}

/** Rounds to 1e-6 (pixels or normalised units), turning -0 into 0. */
export function round6(x: number): number {
  const r = Math.round(x * 1e6) / 1e6;
  return r === 0 ? 0 : r;
}

function ordered<T extends object>(obj: T, first: readonly string[]): Record<string, unknown> {
  const src = obj as Record<string, unknown>;
  const out: Record<string, unknown> = {};
  for (const k of first) if (src[k] !== undefined) out[k] = src[k];
  for (const k of Object.keys(src)) if (!(k in out) && src[k] !== undefined) out[k] = src[k];
  return out;
}

const IMAGE_KEYS = ['id', 'file_name', 'width', 'height'] as const;
const ANN_KEYS = ['id', 'image_id', 'category_id', 'bbox', 'area', 'iscrowd', 'ignore'] as const;

/** One annotation as a plain object with fixed key order and rounded numbers. */
export function annotationRecord(a: GtAnnotation): Record<string, unknown> {
  return ordered({...a, bbox: a.bbox.map(round6), area: round6(a.area)}, ANN_KEYS);
}

/** The dataset as COCO JSON text: one line per image, annotation and category (diffs stay readable). */
export function cocoGtText(ds: GtDataset): string {
  const rows = (items: object[]) => items.map((x) => `  ${JSON.stringify(x)}`).join(',\n');
  const parts = [
    `"info": ${JSON.stringify(ds.info ?? {})}`,
    `"images": [\n${rows(ds.images.map((im) => ordered(im, IMAGE_KEYS)))}\n]`,
    `"annotations": [\n${rows(ds.annotations.map(annotationRecord))}\n]`,
    `"categories": [\n${rows(ds.categories.map((c) => ordered(c, ['id', 'name'])))}\n]`,
  ];
  return `{\n${parts.join(',\n')}\n}\n`;
}

/**
 * JSON Lines: one annotation per line with its image's `file_name`, `width`, `height` and
 * its category's name added (images without objects do not appear).
 */
export function gtJsonlText(ds: GtDataset): string {
  const images = new Map(ds.images.map((im) => [im.id, im]));
  const names = new Map(ds.categories.map((c) => [c.id, c.name]));
  let out = '';
  for (const a of ds.annotations) {
    const im = images.get(a.image_id);
    out += `${JSON.stringify({...annotationRecord(a), category: names.get(a.category_id), file_name: im?.file_name,
      width: im?.width, height: im?.height})}\n`;
  }
  return out;
}

/** Writes the dataset as COCO JSON to `path` atomically. */
export async function writeCocoGt(path: string, ds: GtDataset): Promise<void> {
  await writeFileAtomic(path, cocoGtText(ds));
}
