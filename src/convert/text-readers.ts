/**
 * Readers for the one-text-file-per-image formats (YOLO, VisDrone, DOTA) into a COCO
 * dataset. Images come from `--images` (sizes from their headers); label files are matched
 * by stem; a label file without an image is an error naming it. Images without a label
 * file are images without objects. Boxes are xywh in pixels, float64, never +1.
 */
import {join} from 'node:path';
import {UserError} from '../cli/errors.js';
import {readText} from '../formats/json-input.js';
import type {GtAnnotation, GtCategory, GtDataset, GtImage} from '../formats/coco-write.js';
import {parseYoloLabels} from '../formats/yolo.js';
import {parseVisDrone, VISDRONE_CLASSES, VISDRONE_IGNORED_REGION, VISDRONE_OTHERS} from '../formats/visdrone.js';
import {parseDota, polygonXywh, type DotaLabels} from '../formats/dota.js';
import {imageSizes, imagesByStem, listFiles, stemOf} from './images.js';

/** A dataset plus where each annotation came from (same order as `ds.annotations`). */
export interface LocatedDataset {
  ds: GtDataset;
  where: Array<{file: string; record: string}>;
  /** Counts of special handling the summary reports (e.g. VisDrone ignored regions). */
  notes: Record<string, number>;
}

interface LabelFile {
  image: GtImage;
  /** Path of the label file, undefined for an image without one. */
  path?: string;
}

/** Pairs label files (`.txt` in `labelsDir`, except `classes.txt`) with images and reads the image sizes. */
async function pairFiles(labelsDir: string, imagesDir: string): Promise<LabelFile[]> {
  const images = await imagesByStem(imagesDir);
  const labels = (await listFiles(labelsDir, '--labels')).filter((n) => n.endsWith('.txt') && n !== 'classes.txt');
  for (const name of labels) {
    if (!images.has(stemOf(name))) {
      throw new UserError(`label file has no image named ${stemOf(name)}.* in ${imagesDir}`, {
        code: 'E_NO_IMAGE', file: join(labelsDir, name), fix: 'add the image, remove the label file, or fix --images'});
    }
  }
  const labelByStem = new Map(labels.map((n) => [stemOf(n), join(labelsDir, n)]));
  const names = [...images.values()].sort();
  const sizes = await imageSizes(imagesDir, names);
  return names.map((name, i) => ({
    image: {id: i + 1, file_name: name, width: sizes[i].width, height: sizes[i].height},
    path: labelByStem.get(stemOf(name)),
  }));
}

function newLocated(categories: GtCategory[]): LocatedDataset {
  return {ds: {images: [], annotations: [], categories}, where: [], notes: {}};
}

type NewAnnotation = Record<string, unknown> & {image_id: number; category_id: number;
  bbox: [number, number, number, number]; iscrowd: 0 | 1};

function push(out: LocatedDataset, a: NewAnnotation, file: string, line: number): void {
  out.ds.annotations.push({id: out.ds.annotations.length + 1, ...a, area: a.bbox[2] * a.bbox[3]} as GtAnnotation);
  out.where.push({file, record: `line ${line}`});
}

/**
 * YOLO labels; `names` are the class names (index i = category id i + 1). Boxes are
 * converted to pixels here and clipped later by the validation pass.
 */
export async function readYoloDataset(labelsDir: string, imagesDir: string, names: string[]): Promise<LocatedDataset> {
  const out = newLocated(names.map((name, i) => ({id: i + 1, name})));
  for (const {image, path} of await pairFiles(labelsDir, imagesDir)) {
    out.ds.images.push(image);
    if (!path) continue;
    for (const r of parseYoloLabels(await readText(path), path)) {
      if (r.classIndex >= names.length) {
        throw new UserError(`class ${r.classIndex} exceeds the ${names.length} class names`, {
          code: 'E_CLASS', file: path, record: `line ${r.line}`,
          fix: 'class is a 0-based index into classes.txt (or --classes): add the missing names'});
      }
      const {width: W, height: H} = image;
      const bbox: [number, number, number, number] = [(r.cx - r.w / 2) * W, (r.cy - r.h / 2) * H, r.w * W, r.h * H];
      push(out, {image_id: image.id, category_id: r.classIndex + 1, bbox, iscrowd: 0}, path, r.line);
    }
  }
  return out;
}

/**
 * VisDrone-DET: categories 1..10 keep their ids. Ignored regions (0) and 'others' (11) and
 * rows with score 0 become ignore GT (iscrowd 1, ignore 1) in every category, so a
 * detection of any class there is neither a hit nor a false positive, as in VisDrone's own
 * evaluation. Truncation and occlusion are kept as fields.
 */
export async function readVisDroneDataset(labelsDir: string, imagesDir: string): Promise<LocatedDataset> {
  const categories = VISDRONE_CLASSES.map((name, i) => ({id: i + 1, name}));
  const out = newLocated(categories);
  out.notes = {ignoredRegions: 0, others: 0, scoreZero: 0};
  for (const {image, path} of await pairFiles(labelsDir, imagesDir)) {
    out.ds.images.push(image);
    if (!path) continue;
    for (const r of parseVisDrone(await readText(path), path)) {
      const extra = {truncation: r.truncation, occlusion: r.occlusion};
      const region = r.category === VISDRONE_IGNORED_REGION || r.category === VISDRONE_OTHERS;
      if (region) {
        out.notes[r.category === VISDRONE_OTHERS ? 'others' : 'ignoredRegions']++;
        for (const c of categories) {
          push(out, {image_id: image.id, category_id: c.id, bbox: r.bbox, iscrowd: 1, ignore: 1,
            visdrone_category: r.category, ...extra}, path, r.line);
        }
      } else if (r.score === 0) {
        out.notes.scoreZero++;
        push(out, {image_id: image.id, category_id: r.category, bbox: r.bbox, iscrowd: 1, ignore: 1, ...extra},
          path, r.line);
      } else {
        push(out, {image_id: image.id, category_id: r.category, bbox: r.bbox, iscrowd: 0, ...extra}, path, r.line);
      }
    }
  }
  return out;
}

/**
 * DOTA labelTxt: box = min/max of the polygon; `difficult` and the polygon kept as fields,
 * header fields (imagesource, gsd) kept on the image. Categories: `classes` in that order,
 * or the class names found, sorted; ids from 1.
 */
export async function readDotaDataset(labelsDir: string, imagesDir: string,
  classes?: string[]): Promise<LocatedDataset> {
  const files = await pairFiles(labelsDir, imagesDir);
  const parsed: DotaLabels[] = [];
  for (const f of files) parsed.push(f.path ? parseDota(await readText(f.path), f.path) : {header: {}, rows: []});
  const names = classes ?? [...new Set(parsed.flatMap((p) => p.rows.map((r) => r.name)))].sort();
  const ids = new Map(names.map((n, i) => [n, i + 1]));
  const out = newLocated(names.map((name, i) => ({id: i + 1, name})));
  files.forEach(({image, path}, k) => {
    out.ds.images.push({...image, ...parsed[k].header});
    for (const r of parsed[k].rows) {
      const id = ids.get(r.name);
      if (id === undefined) {
        throw new UserError(`class "${r.name}" is not in --classes`, {code: 'E_CLASS', file: path,
          record: `line ${r.line}`,
          fix: 'add it to --classes, or leave --classes out to use the names found'});
      }
      push(out, {image_id: image.id, category_id: id, bbox: polygonXywh(r.poly), iscrowd: 0, difficult: r.difficult,
        poly: r.poly}, path as string, r.line);
    }
  });
  return out;
}
