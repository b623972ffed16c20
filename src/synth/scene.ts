/**
 * One synthetic tiny-object scene: a textured, noisy background and small objects of a few
 * shapes drawn without anti-aliasing, so each box is exactly the extent of its drawn pixels.
 */
import {Rng} from '../util/rng.js';

/** The object classes, in category-id order (id = index + 1). */
export const SYNTH_CLASSES = ['square', 'disc', 'cross', 'triangle'] as const;
export type SynthClass = (typeof SYNTH_CLASSES)[number];

export interface SceneOptions {
  /** Image side in pixels. */
  size: number;
  /** Smallest and largest object side in pixels (of sqrt(w*h) before rounding). */
  minSize: number;
  maxSize: number;
  /** Objects per 256x256 area: drawn uniformly from this range, scaled with the image area. */
  objectsPer256: [number, number];
}

export interface SceneObject {
  classIndex: number;
  /** xywh, integer pixels: the tight extent of the drawn pixels. */
  bbox: [number, number, number, number];
  /** Number of drawn pixels. */
  pixels: number;
}

export interface Scene {
  /** RGB, row-major, length size*size*3. */
  rgb: Uint8Array;
  objects: SceneObject[];
}

/** Median object side of the log-normal size law; with sigma 0.5 the mean sqrt(w*h) is about 9 px. */
const SIZE_MEDIAN = 8;
const SIZE_SIGMA = 0.5;

/** Bilinearly upsampled random grid (cell px wide) in [-1, 1]: a smooth texture layer. */
function valueNoise(rng: Rng, size: number, cell: number): Float32Array {
  const g = Math.ceil(size / cell) + 2;
  const grid = Float32Array.from({length: g * g}, () => rng.uniform(-1, 1));
  const out = new Float32Array(size * size);
  for (let y = 0; y < size; y++) {
    const gy = y / cell, y0 = Math.floor(gy), fy = gy - y0;
    for (let x = 0; x < size; x++) {
      const gx = x / cell, x0 = Math.floor(gx), fx = gx - x0;
      const a = grid[y0 * g + x0], b = grid[y0 * g + x0 + 1];
      const c = grid[(y0 + 1) * g + x0], d = grid[(y0 + 1) * g + x0 + 1];
      out[y * size + x] = (a * (1 - fx) + b * fx) * (1 - fy) + (c * (1 - fx) + d * fx) * fy;
    }
  }
  return out;
}

/** The background alone (float RGB, size*size*3): what drawScene draws first from the same rng state. */
export function drawBackground(rng: Rng, size: number): Float32Array {
  const base = [0, 1, 2].map(() => rng.uniform(60, 190));
  const coarse = valueNoise(rng, size, Math.max(8, size / 4));
  const fine = valueNoise(rng, size, 6);
  const ampCoarse = rng.uniform(20, 50), ampFine = rng.uniform(6, 18), grain = rng.uniform(3, 9);
  const tint = [0, 1, 2].map(() => rng.uniform(0.8, 1.2));
  const img = new Float32Array(size * size * 3);
  for (let p = 0; p < size * size; p++) {
    const t = coarse[p] * ampCoarse + fine[p] * ampFine;
    for (let ch = 0; ch < 3; ch++) img[3 * p + ch] = base[ch] + t * tint[ch] + grain * rng.normal();
  }
  return img;
}

/** Mask (w*h, row-major) of a shape filling a w x h box; every row and column holds a pixel. */
export function shapeMask(cls: SynthClass, w: number, h: number): Uint8Array {
  const m = new Uint8Array(w * h);
  for (let j = 0; j < h; j++) {
    for (let i = 0; i < w; i++) {
      const u = (i + 0.5) / w - 0.5, v = (j + 0.5) / h - 0.5;
      let on: boolean;
      if (cls === 'square') on = true;
      else if (cls === 'disc') on = u * u + v * v <= 0.25 + 0.25 / Math.max(w, h);
      else if (cls === 'cross') {
        const tw = Math.max(1, Math.round(w / 3)), th = Math.max(1, Math.round(h / 3));
        on = Math.abs(i + 0.5 - w / 2) <= tw / 2 || Math.abs(j + 0.5 - h / 2) <= th / 2;
      } else {
        const half = Math.max(0.5, (w / 2) * ((j + 0.5) / h));
        on = Math.abs(i + 0.5 - w / 2) <= half;
      }
      m[j * w + i] = on ? 1 : 0;
    }
  }
  return m;
}

/** Tight xywh of the set pixels of a w x h mask placed at (x0, y0). */
function maskBox(m: Uint8Array, w: number, h: number, x0: number, y0: number): [number, number, number, number] {
  let x1 = w, y1 = h, x2 = -1, y2 = -1;
  for (let j = 0; j < h; j++) {
    for (let i = 0; i < w; i++) {
      if (!m[j * w + i]) continue;
      if (i < x1) x1 = i;
      if (i > x2) x2 = i;
      if (j < y1) y1 = j;
      if (j > y2) y2 = j;
    }
  }
  return [x0 + x1, y0 + y1, x2 - x1 + 1, y2 - y1 + 1];
}

function overlaps(a: number[], b: number[], margin: number): boolean {
  return a[0] < b[0] + b[2] + margin && b[0] < a[0] + a[2] + margin &&
    a[1] < b[1] + b[3] + margin && b[1] < a[1] + a[3] + margin;
}

function objectSides(rng: Rng, o: SceneOptions): [number, number] {
  const s = Math.min(o.maxSize, Math.max(o.minSize, SIZE_MEDIAN * Math.exp(SIZE_SIGMA * rng.normal())));
  const r = Math.exp(rng.uniform(-0.4, 0.4));
  const clampSide = (x: number) => Math.min(o.maxSize, Math.max(o.minSize, Math.round(x)));
  return [clampSide(s * Math.sqrt(r)), clampSide(s / Math.sqrt(r))];
}

function paint(img: Float32Array, size: number, m: Uint8Array, w: number, h: number, x0: number, y0: number,
  rng: Rng): void {
  let mean = [0, 0, 0], n = 0;
  for (let j = 0; j < h; j++) {
    for (let i = 0; i < w; i++) {
      const p = 3 * ((y0 + j) * size + x0 + i);
      mean = mean.map((s, ch) => s + img[p + ch]);
      n++;
    }
  }
  const sign = rng.next() < 0.5 ? -1 : 1;
  const contrast = rng.uniform(30, 110);
  const colour = mean.map((s) => {
    const c = s / n + sign * contrast * rng.uniform(0.7, 1.3);
    // Keep the contrast when the background is near the end of the range: flip to the other side.
    return c < 0 || c > 255 ? s / n - sign * contrast : c;
  });
  for (let j = 0; j < h; j++) {
    for (let i = 0; i < w; i++) {
      if (!m[j * w + i]) continue;
      const p = 3 * ((y0 + j) * size + x0 + i);
      for (let ch = 0; ch < 3; ch++) img[p + ch] = colour[ch] + 3 * rng.normal();
    }
  }
}

/** Draws one scene. Same rng state, same scene. */
export function drawScene(rng: Rng, o: SceneOptions): Scene {
  const img = drawBackground(rng, o.size);
  const areaScale = (o.size * o.size) / (256 * 256);
  const count = Math.round(rng.int(o.objectsPer256[0], o.objectsPer256[1]) * areaScale);
  const objects: SceneObject[] = [];
  for (let k = 0; k < count; k++) {
    const classIndex = rng.int(0, SYNTH_CLASSES.length - 1);
    const [w, h] = objectSides(rng, o);
    if (w > o.size || h > o.size) continue;
    for (let attempt = 0; attempt < 20; attempt++) {
      const x0 = rng.int(0, o.size - w), y0 = rng.int(0, o.size - h);
      if (objects.some((ob) => overlaps(ob.bbox, [x0, y0, w, h], 2))) continue;
      const m = shapeMask(SYNTH_CLASSES[classIndex], w, h);
      paint(img, o.size, m, w, h, x0, y0, rng);
      objects.push({classIndex, bbox: maskBox(m, w, h, x0, y0), pixels: m.reduce((s, v) => s + v, 0)});
      break;
    }
  }
  const rgb = new Uint8Array(img.length);
  for (let i = 0; i < img.length; i++) rgb[i] = Math.min(255, Math.max(0, Math.round(img[i])));
  return {rgb, objects};
}
