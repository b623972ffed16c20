/** Pairwise NWD and IoU against a plain JavaScript loop over Float64Array, in the same run. */
import {pairwise, withPairwise} from '../src/bindings/similarity.js';
import {medianMs, report, lcg} from './common.js';

function boxes(n: number, seed: number): Float32Array {
  const rnd = lcg(seed);
  const out = new Float32Array(4 * n);
  for (let i = 0; i < n; i++) {
    const x = rnd() * 1000, y = rnd() * 1000;
    out.set([x, y, x + 2 + rnd() * 30, y + 2 + rnd() * 30], 4 * i);
  }
  return out;
}

function plainNwd(a: Float64Array, b: Float64Array, out: Float64Array, c: number): void {
  const m = b.length / 4;
  for (let i = 0, k = 0; i < a.length; i += 4) {
    const acx = (a[i] + a[i + 2]) / 2, acy = (a[i + 1] + a[i + 3]) / 2, aw = a[i + 2] - a[i], ah = a[i + 3] - a[i + 1];
    for (let j = 0; j < 4 * m; j += 4, k++) {
      const dx = acx - (b[j] + b[j + 2]) / 2, dy = acy - (b[j + 1] + b[j + 3]) / 2;
      const dw = aw - (b[j + 2] - b[j]), dh = ah - (b[j + 3] - b[j + 1]);
      out[k] = Math.exp(-Math.sqrt(dx * dx + dy * dy + (dw * dw + dh * dh) / 4) / c);
    }
  }
}

function plainIou(a: Float64Array, b: Float64Array, out: Float64Array): void {
  const m = b.length / 4;
  for (let i = 0, k = 0; i < a.length; i += 4) {
    const areaA = (a[i + 2] - a[i]) * (a[i + 3] - a[i + 1]);
    for (let j = 0; j < 4 * m; j += 4, k++) {
      const iw = Math.min(a[i + 2], b[j + 2]) - Math.max(a[i], b[j]);
      const ih = Math.min(a[i + 3], b[j + 3]) - Math.max(a[i + 1], b[j + 1]);
      if (iw <= 0 || ih <= 0) { out[k] = 0; continue; }
      const inter = iw * ih;
      out[k] = inter / (areaA + (b[j + 2] - b[j]) * (b[j + 3] - b[j + 1]) - inter);
    }
  }
}

export function run(): void {
  for (const [n, m] of [[1000, 1000], [10000, 1000]]) {
    const a = boxes(n, 1), b = boxes(m, 2);
    const a64 = Float64Array.from(a), b64 = Float64Array.from(b), out = new Float64Array(n * m);
    // Both sides write into an output array they reuse across repeats.
    const ours = new Float32Array(n * m);
    const repeats = n * m > 1e6 ? 5 : 9;
    const oursNwd = medianMs(() => pairwise('nwd', a, b, {}, ours), repeats);
    report(`nwd ${n}x${m}`, oursNwd, 'plain js', medianMs(() => plainNwd(a64, b64, out, 12.8), repeats));
    const oursIou = medianMs(() => pairwise('iou', a, b, {}, ours), repeats);
    const plainIouMs = medianMs(() => plainIou(a64, b64, out), repeats);
    report(`iou ${n}x${m}`, oursIou, 'plain js', plainIouMs);
    if (n * m >= 1e7) {
      // The result left in wasm memory for a consumer that reduces it at once (no 40 MB copy out).
      const viewMs = medianMs(() => withPairwise('iou', a, b, {}, (v) => v.length), repeats);
      report(`iou ${n}x${m} (view, no copy out)`, viewMs, 'plain js', plainIouMs);
    }
  }
}
