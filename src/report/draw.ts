/**
 * Images with ground truth (green) and detections (red) drawn on them, for the report.
 * Tiny objects stay visible: the image is enlarged with nearest-neighbour sampling and every
 * box is drawn at least MIN_MARK px wide, centred on the object; ground truth sits GT_PAD px
 * outside its object so that a detection right on it is not hidden.
 */
import {writeFileAtomic} from '../cli/atomic.js';

export interface DrawBox {
  /** COCO xywh in image pixels. */
  bbox: [number, number, number, number];
  /** Detections only; drawn as a label when the box is large enough on screen. */
  score?: number;
}

export interface DrawOptions {
  /** Longest side of the drawn picture in px (the enlargement is an integer factor, 1-8). */
  targetSize?: number;
}

const MIN_MARK = 7;
/** Ground truth is drawn this many screen px outside the object, so a detection on it stays visible. */
const GT_PAD = 3;

function rect(b: DrawBox, scale: number, color: string, width: number, pad: number, dash?: string): string {
  const [x, y, w, h] = b.bbox.map((v) => v * scale);
  const dw = Math.max(w, MIN_MARK) + 2 * pad,
    dh = Math.max(h, MIN_MARK) + 2 * pad;
  const cx = x + w / 2,
    cy = y + h / 2;
  const dasharray = dash ? ` stroke-dasharray="${dash}"` : '';
  return (
    `<rect x="${(cx - dw / 2).toFixed(1)}" y="${(cy - dh / 2).toFixed(1)}" width="${dw.toFixed(1)}" ` +
    `height="${dh.toFixed(1)}" fill="none" stroke="${color}" stroke-width="${width}"${dasharray}/>`
  );
}

/** The integer enlargement that brings the longest side near `target` (1 to 8). */
export function enlargement(width: number, height: number, target = 768): number {
  return Math.max(1, Math.min(8, Math.round(target / Math.max(width, height))));
}

/**
 * Draws `gt` (green, solid) and `dets` (red, dashed) on the image at `imagePath` and writes a
 * PNG to `outPath` (atomically). Returns the drawn size.
 */
export async function drawBoxes(
  imagePath: string,
  gt: DrawBox[],
  dets: DrawBox[],
  outPath: string,
  opts: DrawOptions = {},
): Promise<{width: number; height: number; scale: number}> {
  const sharp = (await import('sharp')).default;
  const meta = await sharp(imagePath).metadata();
  const w0 = meta.width ?? 0,
    h0 = meta.height ?? 0;
  const scale = enlargement(w0, h0, opts.targetSize);
  const width = w0 * scale,
    height = h0 * scale;
  const svg = `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}">${gt
    .map((b) => rect(b, scale, '#22dd44', 2, GT_PAD))
    .join('')}${dets.map((b) => rect(b, scale, '#ff1f1f', 2, 0, '5 2')).join('')}</svg>`;
  const png = await sharp(imagePath)
    .resize(width, height, {kernel: 'nearest'})
    .composite([{input: Buffer.from(svg), top: 0, left: 0}])
    .png()
    .toBuffer();
  await writeFileAtomic(outPath, png);
  return {width, height, scale};
}
