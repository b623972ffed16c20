/**
 * VisDrone-DET annotations: one text file per image, rows
 * `x,y,w,h,score,category,truncation,occlusion` (box xywh in pixels). In ground truth,
 * score 1 marks an object to evaluate and 0 one to ignore; category 0 is an ignored region
 * and 11 is "others".
 */
import {UserError} from '../cli/errors.js';
import {contentLines, parseNumber} from './yolo.js';

/** VisDrone category ids 1..10 and their names (0 = ignored region, 11 = others are not classes). */
export const VISDRONE_CLASSES = ['pedestrian', 'people', 'bicycle', 'car', 'van', 'truck', 'tricycle',
  'awning-tricycle', 'bus', 'motor'] as const;
export const VISDRONE_IGNORED_REGION = 0;
export const VISDRONE_OTHERS = 11;

export interface VisDroneRow {
  /** xywh, pixels. */
  bbox: [number, number, number, number];
  score: number;
  category: number;
  truncation: number;
  occlusion: number;
  line: number;
}

/** Parses a VisDrone-DET annotation file. A malformed row is a UserError naming the file and line. */
export function parseVisDrone(text: string, file: string): VisDroneRow[] {
  const rows: VisDroneRow[] = [];
  for (const [line, t] of contentLines(text)) {
    const tokens = t.replace(/,$/, '').split(',').map((s) => s.trim());
    const bad = (what: string) => new UserError(`malformed VisDrone row "${t.slice(0, 80)}": ${what}`, {
      code: 'E_ROW', file, record: `line ${line}`,
      fix: 'each row must be "x,y,w,h,score,category,truncation,occlusion" (8 numbers)'});
    if (tokens.length !== 8) throw bad(`expected 8 comma-separated values, got ${tokens.length}`);
    const nums = tokens.map(parseNumber);
    const k = nums.findIndex((v) => v === undefined);
    if (k >= 0) throw bad(`value ${k + 1} "${tokens[k]}" is not a number`);
    const [x, y, w, h, score, category, truncation, occlusion] = nums as number[];
    if (!Number.isInteger(category) || category < 0 || category > VISDRONE_OTHERS) {
      throw bad(`category ${tokens[5]} is not an integer in 0..11`);
    }
    if (w < 0 || h < 0) throw bad('negative width or height');
    rows.push({bbox: [x, y, w, h], score, category, truncation, occlusion, line});
  }
  return rows;
}
