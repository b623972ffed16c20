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
});
