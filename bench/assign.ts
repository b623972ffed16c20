/**
 * Label assignment of ~52k anchors (the default layout on a 352x352 image) to 100 tiny GTs:
 * nwd-core's max-overlap (NWD, IoU), RKA and ATSS against plain JavaScript doing the same
 * steps on a full Float64Array overlap matrix, in the same run.
 */
import {assignMaxOverlap, assignRka, assignAtss} from '../src/bindings/assign.js';
import {generateAnchors, DEFAULT_ANCHOR_LAYOUT} from '../src/detector/anchors.js';
import {medianMs, report, lcg} from './common.js';

function gts(n: number, seed: number, span: number): Float32Array {
  const rnd = lcg(seed);
  const out = new Float32Array(4 * n);
  for (let i = 0; i < n; i++) {
    const x = rnd() * span, y = rnd() * span;
    out.set([x, y, x + 2 + rnd() * 30, y + 2 + rnd() * 30], 4 * i);
  }
  return out;
}

type Overlap = (a: Float32Array, i: number, b: Float32Array, j: number) => number;

const nwd: Overlap = (a, i, b, j) => {
  const dx = (a[i] + a[i + 2]) / 2 - (b[j] + b[j + 2]) / 2, dy = (a[i + 1] + a[i + 3]) / 2 - (b[j + 1] + b[j + 3]) / 2;
  const dw = a[i + 2] - a[i] - (b[j + 2] - b[j]), dh = a[i + 3] - a[i + 1] - (b[j + 3] - b[j + 1]);
  return Math.exp(-Math.sqrt(dx * dx + dy * dy + (dw * dw + dh * dh) / 4) / 12.8);
};

const iou: Overlap = (a, i, b, j) => {
  const iw = Math.min(a[i + 2], b[j + 2]) - Math.max(a[i], b[j]);
  const ih = Math.min(a[i + 3], b[j + 3]) - Math.max(a[i + 1], b[j + 1]);
  if (iw <= 0 || ih <= 0) return 0;
  const inter = iw * ih;
  return inter / ((a[i + 2] - a[i]) * (a[i + 3] - a[i + 1]) + (b[j + 2] - b[j]) * (b[j + 3] - b[j + 1]) - inter);
};

function matrix(anchors: Float32Array, boxes: Float32Array, ov: Overlap): Float64Array {
  const a = anchors.length / 4, g = boxes.length / 4, out = new Float64Array(a * g);
  for (let i = 0; i < a; i++) for (let j = 0; j < g; j++) out[i * g + j] = ov(anchors, 4 * i, boxes, 4 * j);
  return out;
}

/** mmdet MaxIoUAssigner steps on the full matrix. */
function plainMaxOverlap(anchors: Float32Array, boxes: Float32Array, ov: Overlap): Int32Array {
  const a = anchors.length / 4, g = boxes.length / 4, m = matrix(anchors, boxes, ov);
  const labels = new Int32Array(a), gtMax = new Float64Array(g).fill(-Infinity);
  for (let i = 0; i < a; i++) {
    let best = 0;
    for (let j = 0; j < g; j++) {
      if (m[i * g + j] > m[i * g + best]) best = j;
      if (m[i * g + j] > gtMax[j]) gtMax[j] = m[i * g + j];
    }
    const v = m[i * g + best];
    labels[i] = v >= 0.7 ? best + 1 : v < 0.3 ? 0 : -1;
  }
  for (let j = 0; j < g; j++) {
    if (gtMax[j] < 0.3) continue;
    for (let i = 0; i < a; i++) if (m[i * g + j] === gtMax[j]) labels[i] = j + 1;
  }
  return labels;
}

/** Ranking assigner steps on the full matrix (sorting each GT's column). */
function plainRka(anchors: Float32Array, boxes: Float32Array, k: number): Int32Array {
  const a = anchors.length / 4, g = boxes.length / 4, m = matrix(anchors, boxes, nwd);
  const labels = new Int32Array(a);
  for (let i = 0; i < a; i++) {
    let best = -Infinity;
    for (let j = 0; j < g; j++) best = Math.max(best, m[i * g + j]);
    labels[i] = best < 0.3 ? 0 : -1;
  }
  const col = new Float64Array(a);
  for (let j = 0; j < g; j++) {
    for (let i = 0; i < a; i++) col[i] = m[i * g + j];
    col.sort();
    const kth = col[a - k];
    for (let i = 0; i < a; i++) if (m[i * g + j] >= kth && m[i * g + j] > 0) labels[i] = j + 1;
  }
  return labels;
}

/** ATSS steps: per level sort by centre distance, mean + std of the top k, inside test, best GT wins. */
function plainAtss(anchors: Float32Array, levelCounts: number[], boxes: Float32Array, k: number): Int32Array {
  const a = anchors.length / 4, g = boxes.length / 4;
  const best = new Float64Array(a).fill(-Infinity), labels = new Int32Array(a);
  for (let j = 0; j < g; j++) {
    const gx = (boxes[4 * j] + boxes[4 * j + 2]) / 2, gy = (boxes[4 * j + 1] + boxes[4 * j + 3]) / 2;
    const cand: number[] = [];
    let first = 0;
    for (const n of levelCounts) {
      const d = new Float64Array(n);
      for (let t = 0; t < n; t++) {
        const i = 4 * (first + t);
        d[t] = ((anchors[i] + anchors[i + 2]) / 2 - gx) ** 2 + ((anchors[i + 1] + anchors[i + 3]) / 2 - gy) ** 2;
      }
      const idx = Array.from({length: n}, (_, t) => t).sort((x, y) => d[x] - d[y] || x - y);
      cand.push(...idx.slice(0, k).map((t) => first + t));
      first += n;
    }
    const v = cand.map((i) => nwd(anchors, 4 * i, boxes, 4 * j));
    const mean = v.reduce((s, x) => s + x, 0) / v.length;
    const thr = mean + Math.sqrt(v.reduce((s, x) => s + (x - mean) ** 2, 0) / (v.length - 1));
    cand.forEach((i, t) => {
      const cx = (anchors[4 * i] + anchors[4 * i + 2]) / 2, cy = (anchors[4 * i + 1] + anchors[4 * i + 3]) / 2;
      const margin = Math.min(cx - boxes[4 * j], cy - boxes[4 * j + 1], boxes[4 * j + 2] - cx, boxes[4 * j + 3] - cy);
      const inside = margin > 0.01;
      if (inside && v[t] >= thr && v[t] > best[i]) {
        best[i] = v[t];
        labels[i] = j + 1;
      }
    });
  }
  return labels;
}

export function run(): void {
  const anchors = generateAnchors(DEFAULT_ANCHOR_LAYOUT, 352, 352);
  const boxes = gts(100, 3, 330);
  const a = anchors.xyxy.length / 4;
  const shape = `${a}x100`;
  report(`assign max-overlap nwd ${shape}`, medianMs(() => assignMaxOverlap(anchors.xyxy, boxes, {metric: 'nwd'}), 5),
    'plain js', medianMs(() => plainMaxOverlap(anchors.xyxy, boxes, nwd), 3, 1));
  report(`assign max-overlap iou ${shape}`, medianMs(() => assignMaxOverlap(anchors.xyxy, boxes, {metric: 'iou'}), 5),
    'plain js', medianMs(() => plainMaxOverlap(anchors.xyxy, boxes, iou), 3, 1));
  report(`assign rka nwd top-3 ${shape}`, medianMs(() => assignRka(anchors.xyxy, boxes, {metric: 'nwd'}), 5),
    'plain js', medianMs(() => plainRka(anchors.xyxy, boxes, 3), 3, 1));
  report(`assign atss nwd ${shape}`,
    medianMs(() => assignAtss(anchors.xyxy, anchors.levelCounts, boxes, {metric: 'nwd'}), 5),
    'plain js', medianMs(() => plainAtss(anchors.xyxy, anchors.levelCounts, boxes, 9), 3, 1));
}
