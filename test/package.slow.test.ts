/**
 * `npm pack` makes a package that installs with npm into a clean folder and runs `nwd`
 * there without Rust (the built wasm is inside) and without the optional tfjs-node packages.
 */
import {test} from 'node:test';
import assert from 'node:assert/strict';
import {execFileSync, spawnSync} from 'node:child_process';
import {writeFileSync, readdirSync} from 'node:fs';
import {join} from 'node:path';
import {ROOT, tempDir} from './helpers.js';

test('npm pack -> npm install in a clean folder -> nwd runs', {timeout: 600_000}, () => {
  const dir = tempDir('nwd-pack-');
  execFileSync('npm', ['pack', '--pack-destination', dir, '--ignore-scripts'], {
    cwd: ROOT,
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  const tgz = readdirSync(dir).find((f) => f.endsWith('.tgz'));
  assert.ok(tgz, 'npm pack wrote a tarball');
  const app = join(dir, 'app');
  execFileSync('mkdir', ['-p', app]);
  writeFileSync(join(app, 'package.json'), '{"name": "pack-check", "private": true}');
  const install = spawnSync('npm', ['install', '--no-audit', '--no-fund', join(dir, tgz)], {
    cwd: app,
    encoding: 'utf8',
  });
  assert.equal(install.status, 0, install.stderr);
  const env = {...process.env, PATH: `/nonexistent-rust:${process.env.PATH}`, NO_COLOR: '1'};
  const nwd = join(app, 'node_modules', '.bin', 'nwd');
  const help = spawnSync(nwd, ['--help'], {cwd: app, encoding: 'utf8', env});
  assert.equal(help.status, 0, help.stderr);
  assert.match(help.stdout, /similarity/);
  writeFileSync(join(app, 'a.json'), '[[10,10,16,16]]');
  writeFileSync(join(app, 'b.json'), '[[12,12,18,18]]');
  const sim = spawnSync(nwd, ['similarity', 'a.json', 'b.json'], {cwd: app, encoding: 'utf8', env});
  assert.equal(sim.status, 0, sim.stderr);
  assert.deepEqual(JSON.parse(sim.stdout), [[0.80174005]]);
  // The detector from the installed package: tfjs-backend-wasm's threaded build loads its
  // worker scripts from there, and the process exits when done.
  const synth = spawnSync(nwd, ['synth', '--out', 's', '--images', '4'], {cwd: app, encoding: 'utf8', env});
  assert.equal(synth.status, 0, synth.stderr);
  const trainArgs = ['train', '--data', 's/train.json', '--images', 's/images', '--out', 'm', '--preset', 'smoke',
    '--epochs', '1', '--json'];
  const trained = spawnSync(nwd, trainArgs, {cwd: app, encoding: 'utf8', env: {...env, NWD_THREADS: '2'},
    timeout: 300_000});
  assert.equal(trained.status, 0, trained.stderr);
  assert.match(trained.stderr, /tfjs backend: wasm, 2 threads/);
  assert.equal(JSON.parse(trained.stdout).epochs.length, 1);
});
