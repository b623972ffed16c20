import {test, describe} from 'node:test';
import assert from 'node:assert/strict';
import {UserError} from '../../src/cli/errors.js';
import {parseYoloLabels, parseClassNames, formatYoloRow, yoloDecimals, parseNumber} from '../../src/formats/yolo.js';

function userError(fn: () => unknown, check: (e: UserError) => void): void {
  assert.throws(fn, (e: unknown) => {
    assert.ok(e instanceof UserError, String(e));
    check(e);
    return true;
  });
}

describe('YOLO labels', () => {
  test('rows parse with their line numbers; blank lines and CRLF are fine', () => {
    const rows = parseYoloLabels('0 0.5 0.5 0.1 0.2\r\n\r\n3 .25 1e-1 0 0.3\n', 'a.txt');
    assert.deepEqual(rows, [
      {classIndex: 0, cx: 0.5, cy: 0.5, w: 0.1, h: 0.2, line: 1},
      {classIndex: 3, cx: 0.25, cy: 0.1, w: 0, h: 0.3, line: 3},
    ]);
  });

  test('a malformed row is an error naming file and line', () => {
    userError(() => parseYoloLabels('0 0.5 0.5 0.1 0.1\n0 0.5 0.5 0.1\n', 'lab/a.txt'), (e) => {
      assert.equal(e.file, 'lab/a.txt');
      assert.equal(e.record, 'line 2');
      assert.equal(e.code, 'E_ROW');
    });
    userError(() => parseYoloLabels('0 0.5 x 0.1 0.1', 'a.txt'), (e) => assert.match(e.message, /"x" is not a number/));
    userError(() => parseYoloLabels('1.5 0.5 0.5 0.1 0.1', 'a.txt'), (e) => assert.match(e.message, /0-based integer/));
    userError(() => parseYoloLabels('-1 0.5 0.5 0.1 0.1', 'a.txt'), (e) => assert.match(e.message, /0-based integer/));
    userError(() => parseYoloLabels('0 0.5 0.5 -0.1 0.1', 'a.txt'), (e) => assert.match(e.message, /negative/));
    userError(() => parseYoloLabels('0 0.1 0.1 0.2 0.1 0.3 0.3', 'a.txt'), (e) => assert.match(e.message,
      /segmentation/));
  });

  test('numbers: decimal text only', () => {
    assert.equal(parseNumber('1e-3'), 0.001);
    assert.equal(parseNumber('-.5'), -0.5);
    for (const t of ['', 'nan', 'NaN', 'Infinity', '0x10', '1,5']) assert.equal(parseNumber(t), undefined, t);
  });

  test('class names: one per line, duplicates refused', () => {
    assert.deepEqual(parseClassNames('a\nb c\n\n', 'classes.txt'), ['a', 'b c']);
    userError(() => parseClassNames('a\nb\na\n', 'classes.txt'), (e) => assert.equal(e.code, 'E_CLASSES'));
  });

  test('K30: rows are written with 6 decimals', () => {
    assert.equal(formatYoloRow(4, [110 / 640, 55 / 480, 20 / 640, 10 / 480]), '4 0.171875 0.114583 0.031250 0.020833');
  });

  test('decimals keep a round trip within 1e-3 px: 6 up to 1333 px, more above', () => {
    assert.equal(yoloDecimals(640), 6);
    assert.equal(yoloDecimals(1333), 6);
    assert.equal(yoloDecimals(1334), 7);
    assert.equal(yoloDecimals(20000), 8);
    for (const side of [100, 1000, 1333, 1500, 5000, 13000]) {
      // Worst case: cx and w both off by half a unit in the last place.
      assert.ok(0.75 * 10 ** -yoloDecimals(side) * side <= 1e-3, String(side));
    }
  });
});
