/**
 * `nwd similarity` as a library function: two lists of boxes in, an N x M matrix out.
 */
import {UserError} from '../cli/errors.js';
import {f32ToShortest} from '../cli/numbers.js';
import {readJson} from '../formats/json-input.js';
import {assertValidBoxes, toXyxy, type BoxFormat} from '../geometry/boxes.js';
import {pairwise, similarityParams, type Metric, type SimilarityOptions} from '../bindings/similarity.js';

/** Checks that `value` is an array of [a, b, c, d] number arrays; returns them flat (length 4*N). */
export function parseBoxList(value: unknown, file: string): Float64Array {
  const list = Array.isArray(value) ? value : (value as {boxes?: unknown})?.boxes;
  if (!Array.isArray(list)) {
    throw new UserError('expected a JSON array of boxes like [[x1, y1, x2, y2], ...]', {code: 'E_SHAPE', file});
  }
  const flat = new Float64Array(4 * list.length);
  list.forEach((box, i) => {
    if (!Array.isArray(box) || box.length !== 4 || !box.every((v) => typeof v === 'number')) {
      throw new UserError(`box ${JSON.stringify(box)} is not 4 numbers`, {
        code: 'E_SHAPE',
        file,
        record: `box ${i}`,
        fix: 'write each box as [a, b, c, d] in the layout given by --format',
      });
    }
    flat.set(box as number[], 4 * i);
  });
  return flat;
}

export interface SimilarityResult {
  metric: Metric;
  format: BoxFormat;
  c: number;
  nwdForm: 'exact' | 'reference';
  rows: number;
  cols: number;
  /** rows x cols similarities; row i compares box i of A with every box of B. */
  matrix: number[][];
}

/** Reads two box files (or `-`), validates them and computes the pairwise matrix. */
export async function similarityFromFiles(
  fileA: string,
  fileB: string,
  metric: Metric,
  format: BoxFormat,
  opts: SimilarityOptions,
): Promise<SimilarityResult> {
  if (fileA === '-' && fileB === '-') {
    throw new UserError('only one of A and B can be read from stdin', {
      code: 'E_ARGS',
      fix: 'give one of them as a file',
    });
  }
  const {c} = similarityParams(opts);
  const boxes = await Promise.all(
    [fileA, fileB].map(async (file) => {
      const raw = parseBoxList(await readJson(file), file);
      const xyxy = toXyxy(raw, format);
      assertValidBoxes(xyxy, {file, format, original: raw});
      return xyxy;
    }),
  );
  const [a, b] = boxes;
  const flat = pairwise(metric, a, b, opts);
  const rows = a.length / 4,
    cols = b.length / 4;
  const matrix = Array.from({length: rows}, (_, i) =>
    Array.from(flat.subarray(i * cols, (i + 1) * cols), f32ToShortest),
  );
  return {metric, format, c, nwdForm: opts.nwdForm ?? 'exact', rows, cols, matrix};
}
