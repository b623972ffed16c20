import {test, describe} from 'node:test';
import assert from 'node:assert/strict';
import {UserError} from '../../src/cli/errors.js';
import {parseDota, polygonXywh} from '../../src/formats/dota.js';
import {assertClose} from '../helpers.js';

describe('DOTA labelTxt', () => {
  test('header lines are kept apart; difficult defaults to 0 when missing', () => {
    const text = 'imagesource:GoogleEarth\ngsd:0.146343590398\n' +
      '1 2 3 2 3 4 1 4 ship 0\n10 10 20 10 20 20 10 20 small-vehicle\n';
    const {header, rows} = parseDota(text, 'P1.txt');
    assert.deepEqual(header, {imagesource: 'GoogleEarth', gsd: '0.146343590398'});
    assert.equal(rows.length, 2);
    assert.deepEqual(rows[0], {poly: [1, 2, 3, 2, 3, 4, 1, 4], name: 'ship', difficult: 0, line: 3});
    assert.equal(rows[1].difficult, 0);
    assert.equal(rows[1].line, 4);
  });

  test('a malformed row names file and line', () => {
    assert.throws(() => parseDota('1 2 3 2 3 4 1 4 ship 0\n1 2 3 2 3 x 1 4 ship 0\n', 'P.txt'),
      (e: unknown) => e instanceof UserError && e.file === 'P.txt' && e.record === 'line 2' &&
        /coordinate 6/.test(e.message));
    assert.throws(() => parseDota('1 2 3 2 3 4 ship 0\n', 'P.txt'),
      (e: unknown) => e instanceof UserError && e.record === 'line 1' && /expected 10 values, got 8/.test(e.message));
  });

  test('horizontal box = min/max over all four points, not two chosen corners', () => {
    // A rotated rectangle: its first and third points are not the extreme ones.
    assert.deepEqual(polygonXywh([937, 913, 921, 912, 923, 874, 940, 875]), [921, 874, 19, 39]);
  });

  test('K27: no +1 on widths, normalised boxes stay below 1', () => {
    const [x1, y1, x2, y2] = [0.23057675, 0.5892799, 0.986047, 0.9310652];
    const [, , w, h] = polygonXywh([x1, y1, x2, y1, x2, y2, x1, y2]);
    assertClose([w, h], [0.75547, 0.341785], 1e-6, 0, 'wh');
    assert.deepEqual(polygonXywh([0, 0, 2, 0, 2, 2, 0, 2]), [0, 0, 2, 2]);
  });
});
