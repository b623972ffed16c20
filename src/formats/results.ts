/**
 * COCO detection results: `{image_id, category_id, bbox: [x, y, w, h], score, ...}`, as a JSON
 * array or JSON Lines (see json-input.ts). Used by `nwd nms` and `nwd eval`.
 */
import {UserError} from '../cli/errors.js';
import {readRecords, recordLabel, type RecordsFormat, type SourcedRecord} from './json-input.js';

export type ImageId = number | string;

/** One detection, as read; `bbox` is xywh (COCO). The box policy is applied by the caller. */
export interface Detection {
  imageId: ImageId;
  categoryId: number;
  bbox: [number, number, number, number];
  score: number;
}

function isId(v: unknown): v is ImageId {
  return (typeof v === 'number' && Number.isFinite(v)) || typeof v === 'string';
}

/**
 * Checks the fields of one results record and returns them typed. Throws a UserError naming
 * the file and record for a missing or mistyped field. A non-finite score is returned as is
 * (NMS drops and counts such detections); NaN/negative box sizes are left to the box policy.
 */
export function parseDetection(value: unknown, file: string, where: string): Detection {
  const fail = (what: string, fix: string) => new UserError(what, {code: 'E_RECORD', file, record: where, fix});
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw fail(
      `expected an object like {"image_id", "category_id", "bbox": [x, y, w, h], "score"}, got ${JSON.stringify(
        value,
      )?.slice(0, 80)}`,
      'write one detection object per record',
    );
  }
  const r = value as Record<string, unknown>;
  if (!isId(r.image_id))
    throw fail(`missing or invalid "image_id" (${JSON.stringify(r.image_id)})`, 'add the image id');
  if (typeof r.category_id !== 'number' || !Number.isFinite(r.category_id)) {
    throw fail(`missing or invalid "category_id" (${JSON.stringify(r.category_id)})`, 'add a numeric category id');
  }
  const b = r.bbox;
  if (!Array.isArray(b) || b.length !== 4 || !b.every((x) => typeof x === 'number' || x === null)) {
    throw fail(`"bbox" must be [x, y, width, height] (got ${JSON.stringify(b)})`, 'write the box as COCO xywh');
  }
  // JSON has no NaN: writers emit null for it; keep it NaN so the box policy reports it.
  const bbox = b.map((x) => (x === null ? NaN : x)) as [number, number, number, number];
  const score = r.score === null ? NaN : r.score;
  if (typeof score !== 'number') throw fail(`missing or invalid "score" (${JSON.stringify(r.score)})`, 'add a score');
  return {imageId: r.image_id, categoryId: r.category_id, bbox, score};
}

/** Streams detections from a file or `-`, with the raw record kept beside each. */
export async function* readDetections(
  file: string,
  onFormat?: (f: RecordsFormat) => void,
): AsyncGenerator<{det: Detection; raw: SourcedRecord}> {
  for await (const rec of readRecords(file, onFormat)) {
    yield {det: parseDetection(rec.value, file, recordLabel(rec)), raw: rec};
  }
}
