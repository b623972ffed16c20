/**
 * YOLO detection labels: one text file per image, rows `class cx cy w h` with the box in
 * cxcywh normalised by the image width and height, class a 0-based index into the class
 * names (`classes.txt`, one name per line).
 */
import {UserError} from '../cli/errors.js';

/** One label row as written (normalised cxcywh), with its 1-based line. */
export interface YoloRow {
  classIndex: number;
  cx: number;
  cy: number;
  w: number;
  h: number;
  line: number;
}

/** Splits text into [1-based line number, trimmed text] of the non-empty lines. */
export function contentLines(text: string): Array<[number, string]> {
  const out: Array<[number, string]> = [];
  const lines = text.replace(/^\uFEFF/, '').split(/\r?\n/);
  for (let i = 0; i < lines.length; i++) {
    const t = lines[i].trim();
    if (t !== '') out.push([i + 1, t]);
  }
  return out;
}

/** Parses a decimal number token; undefined when it is not one (empty, NaN, text). */
export function parseNumber(token: string): number | undefined {
  if (token === '' || !/^[-+]?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?$/.test(token)) return undefined;
  return Number(token);
}

/** Parses a YOLO label file. A malformed row is a UserError naming the file and line. */
export function parseYoloLabels(text: string, file: string): YoloRow[] {
  const rows: YoloRow[] = [];
  for (const [line, t] of contentLines(text)) {
    const tokens = t.split(/\s+/);
    const bad = (what: string) => new UserError(`malformed YOLO row "${t.slice(0, 80)}": ${what}`, {
      code: 'E_ROW', file, record: `line ${line}`,
        fix: 'each row must be "class cx cy w h" (5 numbers, class a 0-based integer)'});
    if (tokens.length !== 5) {
      const seg = tokens.length > 5 ? ' (segmentation polygons are not boxes)' : '';
      throw bad(`expected 5 values, got ${tokens.length}${seg}`);
    }
    const nums = tokens.map(parseNumber);
    const k = nums.findIndex((v) => v === undefined);
    if (k >= 0) throw bad(`value ${k + 1} "${tokens[k]}" is not a number`);
    const [c, cx, cy, w, h] = nums as number[];
    if (!Number.isInteger(c) || c < 0) throw bad(`class "${tokens[0]}" is not a 0-based integer index`);
    if (w < 0 || h < 0) throw bad('negative width or height');
    rows.push({classIndex: c, cx, cy, w, h, line});
  }
  return rows;
}

/** Class names from a `classes.txt` text (one per line; blank lines skipped). */
export function parseClassNames(text: string, file: string): string[] {
  const names = contentLines(text).map(([, t]) => t);
  const seen = new Set<string>();
  for (const n of names) {
    if (seen.has(n)) {
      throw new UserError(`class name "${n}" appears twice`, {code: 'E_CLASSES', file, fix: 'list each class once'});
    }
    seen.add(n);
  }
  return names;
}

/**
 * Decimals for normalised values so that a round trip through the text stays within
 * 1e-3 px on an image whose larger side is `maxSide` px: 6 up to 1333 px, more above.
 */
export function yoloDecimals(maxSide: number): number {
  return Math.max(6, Math.ceil(Math.log10(750 * Math.max(1, maxSide))));
}

/** One row `class cx cy w h` with normalised values at `decimals` places. */
export function formatYoloRow(classIndex: number, cxcywh: readonly number[], decimals = 6): string {
  return [String(classIndex), ...cxcywh.map((v) => (v === 0 ? 0 : v).toFixed(decimals))].join(' ');
}
