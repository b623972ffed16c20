/**
 * DOTA labelTxt: optional header lines (`imagesource:...`, `gsd:...`), then rows of four
 * polygon points `x1 y1 x2 y2 x3 y3 x4 y4 class difficult` (difficult may be missing: 0).
 * The horizontal box is the min/max over all four points.
 */
import {UserError} from '../cli/errors.js';
import {contentLines, parseNumber} from './yolo.js';

export interface DotaRow {
  /** Eight numbers: four (x, y) points in pixels. */
  poly: number[];
  name: string;
  difficult: number;
  line: number;
}

export interface DotaLabels {
  /** Header fields (`imagesource`, `gsd`, ...) as strings. */
  header: Record<string, string>;
  rows: DotaRow[];
}

/** Parses a DOTA labelTxt file. A malformed row is a UserError naming the file and line. */
export function parseDota(text: string, file: string): DotaLabels {
  const header: Record<string, string> = {};
  const rows: DotaRow[] = [];
  for (const [line, t] of contentLines(text)) {
    const h = /^([A-Za-z_]+)\s*:\s*(.*)$/.exec(t);
    if (h && rows.length === 0) {
      header[h[1]] = h[2];
      continue;
    }
    const tokens = t.split(/\s+/);
    const bad = (what: string) => new UserError(`malformed DOTA row "${t.slice(0, 80)}": ${what}`, {
      code: 'E_ROW', file, record: `line ${line}`,
      fix: 'each row must be "x1 y1 x2 y2 x3 y3 x4 y4 class difficult"'});
    if (tokens.length !== 9 && tokens.length !== 10) throw bad(`expected 10 values, got ${tokens.length}`);
    const poly = tokens.slice(0, 8).map(parseNumber);
    const k = poly.findIndex((v) => v === undefined);
    if (k >= 0) throw bad(`coordinate ${k + 1} "${tokens[k]}" is not a number`);
    const difficult = tokens.length === 10 ? parseNumber(tokens[9]) : 0;
    if (difficult === undefined || !Number.isInteger(difficult)) {
      throw bad(`difficult "${tokens[9]}" is not an integer`);
    }
    rows.push({poly: poly as number[], name: tokens[8], difficult, line});
  }
  return {header, rows};
}

/** The horizontal box (xywh) of a polygon: min/max over all its points; no +1. */
export function polygonXywh(poly: readonly number[]): [number, number, number, number] {
  let x1 = Infinity, y1 = Infinity, x2 = -Infinity, y2 = -Infinity;
  for (let i = 0; i + 1 < poly.length; i += 2) {
    x1 = Math.min(x1, poly[i]);
    x2 = Math.max(x2, poly[i]);
    y1 = Math.min(y1, poly[i + 1]);
    y2 = Math.max(y2, poly[i + 1]);
  }
  return [x1, y1, x2 - x1, y2 - y1];
}
