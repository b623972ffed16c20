import {test, describe} from 'node:test';
import assert from 'node:assert/strict';
import {UserError} from '../../src/cli/errors.js';
import {parseVisDrone, VISDRONE_CLASSES} from '../../src/formats/visdrone.js';

describe('VisDrone-DET', () => {
  test('rows parse; a trailing comma is accepted', () => {
    const rows = parseVisDrone('684,8,273,116,0,0,0,0\n406,119,265,70,1,4,0,1,\n', 'v.txt');
    assert.deepEqual(rows[0], {bbox: [684, 8, 273, 116], score: 0, category: 0, truncation: 0, occlusion: 0, line: 1});
    assert.deepEqual(rows[1], {bbox: [406, 119, 265, 70], score: 1, category: 4, truncation: 0, occlusion: 1, line: 2});
  });

  test('categories 1-10 are the classes', () => {
    assert.equal(VISDRONE_CLASSES.length, 10);
    assert.equal(VISDRONE_CLASSES[3], 'car');
    assert.equal(VISDRONE_CLASSES[9], 'motor');
  });

  test('malformed rows name file and line', () => {
    const bad = (text: string, re: RegExp, line = 'line 1') => assert.throws(() => parseVisDrone(text, 'v.txt'),
      (e: unknown) => e instanceof UserError && e.file === 'v.txt' && e.record === line && re.test(e.message));
    bad('1,2,3,4,1,1,0\n', /expected 8/);
    bad('1,2,3,4,1,1,0,0\n1,2,3,4,1,12,0,0\n', /category 12/, 'line 2');
    bad('1,2,-3,4,1,1,0,0\n', /negative/);
    bad('1,2,3,four,1,1,0,0\n', /"four" is not a number/);
  });
});
