import {test} from 'node:test';
import assert from 'node:assert/strict';
import {writeFileSync, readFileSync} from 'node:fs';
import {join} from 'node:path';
import {StepRunner} from '../../src/pipeline/steps.js';
import {setLogLevel} from '../../src/cli/log.js';
import {tempDir} from '../helpers.js';

test('a step reruns only when an input or a parameter changes, or its output is gone', async () => {
  setLogLevel('quiet');
  const dir = tempDir();
  const input = join(dir, 'in.txt'), output = join(dir, 'out.txt');
  writeFileSync(input, 'a');
  let runs = 0;
  const spec = (param: number) => ({
    name: 'copy', inputs: [input], params: {param}, outputs: [output],
    run: async () => { runs++; writeFileSync(output, readFileSync(input, 'utf8') + param); },
  });
  const once = async (param: number) => (await StepRunner.open(dir)).step(spec(param));
  assert.equal(await once(1), 'ran');
  assert.equal(await once(1), 'skipped');
  writeFileSync(input, 'b');
  assert.equal(await once(1), 'ran');
  assert.equal(await once(2), 'ran');
  assert.equal(await once(2), 'skipped');
  writeFileSync(output, '');
  assert.equal(await once(2), 'skipped', 'contents of outputs are not checked, only their presence');
  (await import('node:fs')).rmSync(output);
  assert.equal(await once(2), 'ran');
  assert.equal(runs, 4);
  assert.equal(await (await StepRunner.open(dir, true)).step(spec(2)), 'ran', '--force reruns');
});
