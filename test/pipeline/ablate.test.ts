import {test} from 'node:test';
import assert from 'node:assert/strict';
import {ablationTable, runAblation, VARIANTS, type AblationRow} from '../../src/pipeline/ablate.js';
import {UserError} from '../../src/cli/errors.js';
import {tempDir} from '../helpers.js';

test('the variants change one NWD choice at a time from the IoU baseline, then all together', () => {
  const base = VARIANTS[0];
  assert.deepEqual([base.assign, base.loss, base.nms], ['iou', 'smoothl1', 'iou']);
  for (const v of VARIANTS.slice(1, -1)) {
    const changed = (['assign', 'loss', 'nms'] as const).filter((k) => v[k] !== base[k]);
    assert.equal(changed.length, 1, `${v.name} changes exactly one thing`);
  }
  const all = VARIANTS[VARIANTS.length - 1];
  assert.deepEqual([all.assign, all.loss, all.nms], ['nwd', 'nwd', 'nwd']);
});

test('ablation table: percentages, "-" for undefined bins, positives per GT', () => {
  const row: AblationRow = {
    ...VARIANTS[0],
    stats: {AP: 0.1234, AP50: 0.5, AP75: 0, APvt: -1, APt: 0.2, APs: 0.3, APm: -1},
    positivesPerGt: 1.234,
    zeroShare: 0.25,
    seconds: 1,
  };
  const lines = ablationTable([row]).split('\n');
  assert.equal(lines.length, 3);
  assert.equal(lines[2], '| iou | iou | smoothl1 | iou | 12.3 | 50.0 | 0.0 | - | 20.0 | 30.0 | - | 1.23 | 25% |');
});

test('an unknown variant is a user error naming the choices', async () => {
  await assert.rejects(
    runAblation({out: tempDir()}, ['iou', 'bogus']),
    (e: unknown) => e instanceof UserError && /bogus/.test(e.message) && /all-nwd/.test(e.fix ?? ''),
  );
});
