import {test, describe} from 'node:test';
import assert from 'node:assert/strict';
import {cocoGtText, gtJsonlText, round6, type GtDataset} from '../../src/formats/coco-write.js';

const ds: GtDataset = {
  images: [{id: 1, file_name: 'a.png', width: 640, height: 480, gsd: '0.1'}],
  annotations: [{difficult: 1, id: 7, image_id: 1, category_id: 2, bbox: [601.6000000000001, 216, 38.4, 48],
    area: 38.4 * 48, iscrowd: 0}],
  categories: [{id: 2, name: 'boat'}],
};

describe('COCO GT writer', () => {
  test('standard keys first, extras kept, float noise rounded away', () => {
    const parsed = JSON.parse(cocoGtText(ds));
    assert.deepEqual(Object.keys(parsed.annotations[0]), ['id', 'image_id', 'category_id', 'bbox', 'area', 'iscrowd',
      'difficult']);
    assert.deepEqual(parsed.annotations[0].bbox, [601.6, 216, 38.4, 48]);
    assert.equal(parsed.annotations[0].area, 1843.2);
    assert.deepEqual(parsed.images[0], {id: 1, file_name: 'a.png', width: 640, height: 480, gsd: '0.1'});
    assert.deepEqual(parsed.categories, [{id: 2, name: 'boat'}]);
  });

  test('same dataset, same bytes', () => {
    assert.equal(cocoGtText(ds), cocoGtText(structuredClone(ds)));
  });

  test('JSON Lines: one annotation per line with its image and category name', () => {
    const lines = gtJsonlText(ds).trim().split('\n');
    assert.equal(lines.length, 1);
    const r = JSON.parse(lines[0]);
    assert.equal(r.category, 'boat');
    assert.equal(r.file_name, 'a.png');
    assert.equal(r.width, 640);
  });

  test('round6', () => {
    assert.equal(round6(-0.0000001), 0);
    assert.equal(round6(1.23456789), 1.234568);
  });
});
