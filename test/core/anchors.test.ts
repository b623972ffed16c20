import {test, describe} from 'node:test';
import assert from 'node:assert/strict';
import {
  generateAnchors, parseAnchorLayout, formatAnchorLayout, validateAnchorLayout, anchorsPerCell, gridSize,
  DEFAULT_ANCHOR_LAYOUT, type AnchorLayout,
} from '../../src/detector/anchors.js';
import {UserError} from '../../src/cli/errors.js';

describe('anchor generator', () => {
  test('default layout: stride 4 with 8 and 16 px, stride 8 with 32 px, ratios 0.5, 1, 2', () => {
    assert.deepEqual(DEFAULT_ANCHOR_LAYOUT, {strides: [4, 8], sizes: [[8, 16], [32]], ratios: [0.5, 1, 2]});
    assert.equal(anchorsPerCell(DEFAULT_ANCHOR_LAYOUT, 0), 6);
    assert.equal(anchorsPerCell(DEFAULT_ANCHOR_LAYOUT, 1), 3);
  });

  test('counts per level on a 16x8 image and 17x9 (grid = ceil(size / stride))', () => {
    const a = generateAnchors(DEFAULT_ANCHOR_LAYOUT, 16, 8);
    assert.deepEqual(a.levelCounts, [4 * 2 * 6, 2 * 1 * 3]);
    assert.equal(a.xyxy.length, 4 * 54);
    assert.deepEqual(Array.from(a.level), [...Array(48).fill(0), ...Array(6).fill(1)]);
    assert.deepEqual(gridSize(DEFAULT_ANCHOR_LAYOUT, 0, 17, 9), {w: 5, h: 3});
    assert.deepEqual(generateAnchors(DEFAULT_ANCHOR_LAYOUT, 17, 9).levelCounts, [5 * 3 * 6, 3 * 2 * 3]);
  });

  test('order is level, y, x, size, ratio; centres at (x + 0.5) * stride; area size^2; h/w = ratio', () => {
    const {xyxy} = generateAnchors(DEFAULT_ANCHOR_LAYOUT, 16, 8);
    const box = (i: number) => Array.from(xyxy.subarray(4 * i, 4 * i + 4));
    const r = Math.SQRT1_2; // sqrt(0.5)
    // First cell (x 0, y 0, centre (2, 2)): size 8 ratios 0.5, 1, 2, then size 16.
    const want = [
      [2 - 4 / r, 2 - 4 * r, 2 + 4 / r, 2 + 4 * r], [-2, -2, 6, 6], [2 - 4 * r, 2 - 4 / r, 2 + 4 * r, 2 + 4 / r],
      [2 - 8 / r, 2 - 8 * r, 2 + 8 / r, 2 + 8 * r], [-6, -6, 10, 10], [2 - 8 * r, 2 - 8 / r, 2 + 8 * r, 2 + 8 / r],
    ];
    for (let i = 0; i < 6; i++) {
      box(i).forEach((v, k) => assert.ok(Math.abs(v - want[i][k]) < 1e-5, `anchor ${i}: ${box(i)} vs ${want[i]}`));
    }
    // Anchor 6 is the next x (centre (6, 2)), anchor 4*6 the next row (centre (2, 6)).
    assert.deepEqual(box(7), [2, -2, 10, 6]);
    assert.deepEqual(box(4 * 6 + 1), [-2, 2, 6, 10]);
    // Level 1 starts at 48: stride 8, size 32, centre (4, 4); its ratio-1 anchor is 49.
    assert.deepEqual(box(49), [-12, -12, 20, 20]);
    // The last anchor: level 1, cell (1, 0) centred at (12, 4), size 32, ratio 2.
    const last = [12 - 16 * r, 4 - 16 / r, 12 + 16 * r, 4 + 16 / r];
    box(53).forEach((v, k) => assert.ok(Math.abs(v - last[k]) < 1e-5, `anchor 53: ${box(53)} vs ${last}`));
    for (let i = 0; i < xyxy.length / 4; i++) {
      const [x1, y1, x2, y2] = box(i);
      const size = i < 48 ? (Math.floor(i / 3) % 2 === 0 ? 8 : 16) : 32;
      assert.ok(Math.abs((x2 - x1) * (y2 - y1) - size * size) < 1e-3 * size * size, `area of anchor ${i}`);
      const ratio = DEFAULT_ANCHOR_LAYOUT.ratios[i % 3];
      assert.ok(Math.abs((y2 - y1) / (x2 - x1) - ratio) < 1e-5, `ratio of anchor ${i}`);
    }
  });

  test('the index formula in the module comment holds', () => {
    const layout: AnchorLayout = {strides: [4, 16], sizes: [[8, 12, 20], [40, 64]], ratios: [1, 3]};
    const W = 37, H = 21;
    const {xyxy, levelCounts} = generateAnchors(layout, W, H);
    let offset = 0;
    layout.strides.forEach((stride, l) => {
      const g = gridSize(layout, l, W, H);
      const probes = [[0, 0, 0, 0], [g.w - 1, g.h - 1, layout.sizes[l].length - 1, 1], [1, g.h - 1, 1, 0]];
      for (const [x, y, s, r] of probes) {
        const i = offset + ((y * g.w + x) * layout.sizes[l].length + s) * layout.ratios.length + r;
        const cx = (xyxy[4 * i] + xyxy[4 * i + 2]) / 2, cy = (xyxy[4 * i + 1] + xyxy[4 * i + 3]) / 2;
        assert.ok(Math.abs(cx - (x + 0.5) * stride) < 1e-4 && Math.abs(cy - (y + 0.5) * stride) < 1e-4, `centre ${i}`);
        const w = xyxy[4 * i + 2] - xyxy[4 * i], h = xyxy[4 * i + 3] - xyxy[4 * i + 1];
        const size = layout.sizes[l][s], ratio = layout.ratios[r];
        assert.ok(Math.abs(w - size / Math.sqrt(ratio)) < 1e-4 && Math.abs(h - size * Math.sqrt(ratio)) < 1e-4);
      }
      offset += levelCounts[l];
    });
  });

  test('rejects bad image sizes', () => {
    assert.throws(() => generateAnchors(DEFAULT_ANCHOR_LAYOUT, 0, 8), RangeError);
    assert.throws(() => generateAnchors(DEFAULT_ANCHOR_LAYOUT, 8.5, 8), RangeError);
  });
});

describe('--anchors syntax', () => {
  test('parses levels, sizes and ratios; ratios default to 0.5,1,2; "default" is the default layout', () => {
    assert.deepEqual(parseAnchorLayout('4:8,16;8:32@0.5,1,2'), DEFAULT_ANCHOR_LAYOUT);
    assert.deepEqual(parseAnchorLayout(' 4:8, 16 ; 8:32 '), DEFAULT_ANCHOR_LAYOUT);
    assert.deepEqual(parseAnchorLayout('default'), DEFAULT_ANCHOR_LAYOUT);
    assert.deepEqual(parseAnchorLayout('4:8;8:16;16:32@1'),
      {strides: [4, 8, 16], sizes: [[8], [16], [32]], ratios: [1]});
    assert.deepEqual(parseAnchorLayout('2:4.5@1e0'), {strides: [2], sizes: [[4.5]], ratios: [1]});
  });

  test('format round-trips', () => {
    for (const text of ['4:8,16;8:32@0.5,1,2', '4:8;8:16;16:32@1', '2:4.5,6@0.25,4']) {
      const l = parseAnchorLayout(text);
      assert.equal(formatAnchorLayout(l), text);
      assert.deepEqual(parseAnchorLayout(formatAnchorLayout(l)), l);
    }
  });

  test('bad layouts are user errors with code E_ANCHORS naming the bad part', () => {
    for (const [text, part] of [['4:8,x', '"x"'], ['4', '"4"'], ['0:8', 'stride 0'], ['2.5:8', 'stride 2.5'],
      ['4:0', 'size 0'], ['4:8@0', 'ratio 0'], ['4:8@1@2', 'more than one'], ['', 'STRIDE:SIZE'], ['4:8@', '""'],
      ['4:-8', '"-8"']]) {
      assert.throws(() => parseAnchorLayout(text), (e: unknown) => {
        assert.ok(e instanceof UserError, `${text}: ${String(e)}`);
        assert.equal(e.code, 'E_ANCHORS');
        assert.ok(e.message.includes(part), `${text}: message "${e.message}" should mention ${part}`);
        return true;
      });
    }
    assert.throws(() => validateAnchorLayout({strides: [4, 8], sizes: [[8]], ratios: [1]}), /2 strides but 1 size/);
  });
});
