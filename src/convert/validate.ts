/**
 * The validation pass of `nwd convert`: the box policy (NaN/infinite or negative sizes are
 * errors), clipping for YOLO, and the findings of the summary (degenerate boxes, boxes
 * outside the image, duplicate or zero annotation ids, images without objects).
 */
import {assertValidBoxes, toXyxy} from '../geometry/boxes.js';
import type {GtAnnotation, GtImage} from '../formats/coco-write.js';
import {Findings} from './findings.js';
import type {LocatedDataset} from './text-readers.js';

export interface ValidateOptions {
  /** Clip boxes to the image (YOLO in or out): a box with nothing left inside is dropped. */
  clip: boolean;
  /** Drop boxes of zero width or height. */
  dropDegenerate: boolean;
  /** Every finding is an error. */
  strict: boolean;
  /** Source file, for findings without a location of their own. */
  file?: string;
}

/**
 * Boxes past the border by less than this many pixels are not "outside": YOLO text keeps 6
 * decimals, so a box touching the border of a 256 px image reads back up to 2e-4 px past it.
 * In clip mode they are clipped silently.
 */
const EPS = 1e-3;

function assertPolicy(located: LocatedDataset, file?: string): void {
  const anns = located.ds.annotations;
  const xywh = new Float64Array(anns.length * 4);
  anns.forEach((a, i) => xywh.set(a.bbox, 4 * i));
  assertValidBoxes(toXyxy(xywh, 'xywh'), {format: 'xywh', original: xywh, file,
    label: (i) => {
      const w = located.where[i];
      return `${w.file === file || !file ? '' : `${w.file}, `}${w.record} (annotation ${anns[i].id})`;
    }});
}

/** Clips `a` to the image; returns false when nothing is left (the box lies outside). */
function clipBox(a: GtAnnotation, im: GtImage): boolean {
  const [x, y, w, h] = a.bbox;
  const x1 = Math.max(0, x), y1 = Math.max(0, y), x2 = Math.min(im.width, x + w), y2 = Math.min(im.height, y + h);
  const nw = Math.max(0, x2 - x1), nh = Math.max(0, y2 - y1);
  if ((nw === 0 && w > 0) || (nh === 0 && h > 0) || x1 > im.width || y1 > im.height || x2 < 0 || y2 < 0) return false;
  a.bbox = [Math.min(x1, im.width), Math.min(y1, im.height), nw, nh];
  a.area = nw * nh;
  return true;
}

function isOutside(a: GtAnnotation, im: GtImage): boolean {
  const [x, y, w, h] = a.bbox;
  return x < -EPS || y < -EPS || x + w > im.width + EPS || y + h > im.height + EPS;
}

function checkIds(located: LocatedDataset, findings: Findings): void {
  const seen = new Set<number>();
  located.ds.annotations.forEach((a, i) => {
    const {file, record} = located.where[i];
    if (a.id === 0) findings.add({kind: 'zero-id', file, record,
      message: 'annotation id 0 (some tools treat 0 as "none")'});
    if (seen.has(a.id)) findings.add({kind: 'duplicate-id', file, record,
      message: `annotation id ${a.id} appears again`});
    seen.add(a.id);
  });
}

/**
 * Validates and, as asked, clips and drops boxes in place. Returns the findings; in strict
 * mode the first finding throws a UserError naming its file and record.
 */
export function validateDataset(located: LocatedDataset, o: ValidateOptions): Findings {
  const findings = new Findings(o.strict);
  assertPolicy(located, o.file);
  checkIds(located, findings);
  const images = new Map(located.ds.images.map((im) => [im.id, im]));
  const keep: boolean[] = [];
  located.ds.annotations.forEach((a, i) => {
    const {file, record} = located.where[i];
    const im = images.get(a.image_id) as GtImage;
    let kept = true;
    if (o.clip && !isOutside(a, im)) clipBox(a, im);
    if (isOutside(a, im)) {
      const before = `[${a.bbox.join(', ')}]`;
      if (o.clip) {
        kept = clipBox(a, im);
        findings.add(kept
          ? {kind: 'outside-image', file, record,
            message: `box ${before} extends outside ${im.width}x${im.height}: clipped`}
          : {kind: 'dropped-outside', file, record,
            message: `box ${before} lies outside ${im.width}x${im.height}: dropped`});
      } else {
        findings.add({kind: 'outside-image', file, record,
          message: `box ${before} extends outside ${im.width}x${im.height}`});
      }
    }
    if (kept && (a.bbox[2] === 0 || a.bbox[3] === 0)) {
      findings.add({kind: 'degenerate', file, record,
        message: `box [${a.bbox.join(', ')}] has zero ${a.bbox[2] === 0 ? 'width' : 'height'}` +
          (o.dropDegenerate ? ': dropped' : '')});
      if (o.dropDegenerate) kept = false;
    }
    keep.push(kept);
  });
  located.ds.annotations = located.ds.annotations.filter((_, i) => keep[i]);
  located.where = located.where.filter((_, i) => keep[i]);
  const withObjects = new Set(located.ds.annotations.map((a) => a.image_id));
  for (const im of located.ds.images) {
    if (!withObjects.has(im.id)) {
      findings.add({kind: 'image-without-objects', file: o.file, record: `image ${im.id}`,
        message: `image ${im.file_name} has no objects`});
    }
  }
  return findings;
}
