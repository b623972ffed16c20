/**
 * NMS on clustered boxes (200 centres in a 1024x1024 image, sizes 4-32 px, 10 classes) against a
 * plain JavaScript greedy NMS (sort, then suppress later boxes pairwise) in the same run.
 */
import {nmsDetailed, type NmsMetric} from '../src/nms/nms.js';
import {medianMs, report, lcg} from './common.js';

function clustered(n: number, seed: number): {boxes: Float32Array; scores: Float32Array; classes: Int32Array} {
  const rnd = lcg(seed);
  const centres = Array.from({length: 200}, () => [16 + rnd() * 992, 16 + rnd() * 992]);
  const boxes = new Float32Array(4 * n), scores = new Float32Array(n), classes = new Int32Array(n);
  for (let i = 0; i < n; i++) {
    const [cx, cy] = centres[Math.floor(rnd() * 200)];
    const w = 4 + rnd() * 28, h = 4 + rnd() * 28;
    const x = cx + (rnd() + rnd() - 1) * 24 - w / 2, y = cy + (rnd() + rnd() - 1) * 24 - h / 2;
    boxes.set([x, y, x + w, y + h], 4 * i);
    scores[i] = rnd();
    classes[i] = Math.floor(rnd() * 10);
  }
  return {boxes, scores, classes};
}

function overlap(metric: NmsMetric, b: Float32Array, i: number, j: number, c: number): number {
  const ax1 = b[4 * i], ay1 = b[4 * i + 1], ax2 = b[4 * i + 2], ay2 = b[4 * i + 3];
  const bx1 = b[4 * j], by1 = b[4 * j + 1], bx2 = b[4 * j + 2], by2 = b[4 * j + 3];
  if (metric === 'nwd') {
    const dx = (ax1 + ax2 - bx1 - bx2) / 2, dy = (ay1 + ay2 - by1 - by2) / 2;
    const dw = ax2 - ax1 - (bx2 - bx1), dh = ay2 - ay1 - (by2 - by1);
    return Math.exp(-Math.sqrt(dx * dx + dy * dy + (dw * dw + dh * dh) / 4) / c);
  }
  const iw = Math.min(ax2, bx2) - Math.max(ax1, bx1), ih = Math.min(ay2, by2) - Math.max(ay1, by1);
  if (iw <= 0 || ih <= 0) return 0;
  const inter = iw * ih;
  return inter / ((ax2 - ax1) * (ay2 - ay1) + (bx2 - bx1) * (by2 - by1) - inter);
}

/** Raised when the baseline runs past its time budget. */
class OverBudget extends Error {}

/** Plain greedy NMS over `idx` (already sorted by score): what a JavaScript user writes. */
function plainGreedy(metric: NmsMetric, b: Float32Array, idx: number[], t: number, keep: number[],
  deadline: number): void {
  const removed = new Uint8Array(idx.length);
  for (let p = 0; p < idx.length; p++) {
    if (removed[p]) continue;
    if ((p & 255) === 0 && performance.now() > deadline) throw new OverBudget();
    keep.push(idx[p]);
    for (let q = p + 1; q < idx.length; q++) {
      if (!removed[q] && overlap(metric, b, idx[p], idx[q], 12.8) > t) removed[q] = 1;
    }
  }
}

/** Plain NMS, per class when `cls` is given; undefined when it overran `deadline` (ms, performance.now()). */
function plainNms(metric: NmsMetric, b: Float32Array, s: Float32Array, cls: Int32Array | null, t: number,
  deadline = Infinity): number[] | undefined {
  const order = Array.from(s, (_, i) => i).sort((i, j) => s[j] - s[i] || i - j);
  const keep: number[] = [];
  const groups = new Map<number, number[]>();
  for (const i of order) {
    const k = cls ? cls[i] : 0;
    let g = groups.get(k);
    if (!g) groups.set(k, (g = []));
    g.push(i);
  }
  try {
    for (const g of groups.values()) plainGreedy(metric, b, g, t, keep, deadline);
  } catch (err) {
    if (err instanceof OverBudget) return undefined;
    throw err;
  }
  return keep.sort((i, j) => s[j] - s[i] || i - j);
}

/** Seconds one baseline run may take before it is stopped and reported as a lower bound. */
const BUDGET_S = Number(process.env.NWD_BENCH_BUDGET_S ?? 60);

export function run(): void {
  for (const n of [1000, 10000, 100000]) {
    const {boxes, scores, classes} = clustered(n, 7);
    const cases: Array<[string, NmsMetric, number, boolean]> = [
      ['iou 0.5 per class', 'iou', 0.5, true], ['iou 0.5 agnostic', 'iou', 0.5, false],
      ['nwd 0.85 agnostic', 'nwd', 0.85, false], ['nwd 0.85 per class', 'nwd', 0.85, true]];
    for (const [name, metric, t, perClass] of cases) {
      const cls = perClass ? classes : null;
      const repeats = n >= 100000 ? 3 : n >= 10000 ? 5 : 15;
      let kept = 0, plainKept: number | undefined;
      const ours = medianMs(() => {
        kept = nmsDetailed(boxes, scores, cls, {metric, threshold: t}).keep.length;
      }, repeats);
      // The quadratic baseline takes minutes at 100k: one run there, stopped after the budget.
      const t0 = performance.now();
      const once = () => {
        plainKept = plainNms(metric, boxes, scores, cls, t, performance.now() + BUDGET_S * 1000)?.length;
      };
      const plain = n >= 100000 ? (once(), performance.now() - t0) : medianMs(once, repeats, 1);
      const note = plainKept === undefined
        ? `kept ${kept}; plain js stopped after ${BUDGET_S} s, so baseline_ms and ratio are lower bounds`
        : `kept ${kept} (plain js ${plainKept})`;
      report(`nms ${name} ${n}`, ours, 'plain js greedy', plain, note);
    }
  }
}
