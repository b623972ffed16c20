import {test} from 'node:test';
import assert from 'node:assert/strict';
import {cropTargets, tileOffsets, tiles, writeWindow, randomCrop} from '../../src/detector/data.js';
import {Rng} from '../../src/util/rng.js';

const norm = {mean: [0, 0, 0] as [number, number, number], std: [1, 1, 1] as [number, number, number]};

/** A black w x h image with a white rectangle [x1, y1, x2, y2). */
function image(w: number, h: number, r: number[]) {
  const rgb = new Uint8Array(w * h * 3);
  for (let y = r[1]; y < r[3]; y++) {
    for (let x = r[0]; x < r[2]; x++) rgb.fill(255, (y * w + x) * 3, (y * w + x) * 3 + 3);
  }
  return {width: w, height: h, rgb};
}

/** Bounding box [x1, y1, x2, y2] of the white pixels of a slot. */
function whiteBox(buf: Float32Array, w: number, h: number): number[] {
  let x1 = Infinity, y1 = Infinity, x2 = -1, y2 = -1;
  for (let y = 0; y < h; y++) {
    for (let x = 0; x < w; x++) {
      if (buf[(y * w + x) * 3] > 0.5) {
        x1 = Math.min(x1, x);
        y1 = Math.min(y1, y);
        x2 = Math.max(x2, x + 1);
        y2 = Math.max(y2, y + 1);
      }
    }
  }
  return [x1, y1, x2, y2];
}

test('crop targets follow the pixels through crops and flips', () => {
  const rect = [13, 5, 19, 9];
  const img = image(40, 30, rect);
  const im = {boxesXyxy: Float32Array.from(rect), classes: Int32Array.from([2]), ignore: Uint8Array.from([0])};
  for (const win of [{x: 0, y: 0, w: 40, h: 30}, {x: 10, y: 2, w: 16, h: 16}, {x: 17, y: 0, w: 20, h: 20}]) {
    for (const [fx, fy] of [[false, false], [true, false], [false, true], [true, true]]) {
      const buf = new Float32Array(48 * 32 * 3);
      writeWindow(buf, 0, 48, 32, img, win, norm, fx, fy);
      const t = cropTargets(im, win, fx, fy);
      assert.equal(t.classes.length, 1);
      assert.deepEqual(Array.from(t.boxesXyxy), whiteBox(buf, 48, 32),
        `window ${JSON.stringify(win)} flips ${fx} ${fy}`);
      assert.equal(t.ignore[0], win.x === 17 ? 1 : 0, 'an object cut to under half its area is ignored');
    }
  }
});

test('objects outside the window are dropped; padding past the window is black', () => {
  const img = image(40, 30, [1, 1, 3, 3]);
  const im = {boxesXyxy: Float32Array.from([1, 1, 3, 3]), classes: Int32Array.from([0]), ignore: Uint8Array.from([0])};
  assert.equal(cropTargets(im, {x: 10, y: 10, w: 10, h: 10}, false, false).classes.length, 0);
  const buf = new Float32Array(16 * 16 * 3).fill(7);
  writeWindow(buf, 0, 16, 16, img, {x: 30, y: 20, w: 10, h: 10}, norm);
  assert.equal(buf[(15 * 16 + 15) * 3], 0);
});

test('tiles cover the image with at least the overlap; random crops stay inside their tile', () => {
  assert.deepEqual(tileOffsets(100, 128, 32), [0]);
  const offs = tileOffsets(600, 256, 32);
  assert.equal(offs[0], 0);
  assert.equal(offs.at(-1), 600 - 256);
  for (let i = 1; i < offs.length; i++) assert.ok(offs[i - 1] + 256 - offs[i] >= 32);
  assert.equal(tiles(600, 200, 256, 32).length, offs.length);
  const rng = new Rng(3);
  for (let i = 0; i < 50; i++) {
    const c = randomCrop({x: 100, y: 50, w: 256, h: 200}, 128, rng);
    assert.ok(c.x >= 100 && c.y >= 50 && c.x + c.w <= 356 && c.y + c.h <= 250 && c.w === 128);
  }
});
