/**
 * Model directories: `model.json` + `weights.bin` (a tfjs layers model, loadable with
 * `tf.loadLayersModel` anywhere), `config.json` (ours, see config.ts), `state.json` (training
 * progress, for `--resume`) and `optimizer.json` + `optimizer.bin` (Adam's moments).
 *
 * A checkpoint is written to a temporary directory beside the target and swapped in by
 * renames, so a crash or Ctrl-C mid-write leaves the previous checkpoint intact.
 */
import {mkdir, readFile, rename, rm, writeFile, readdir, stat} from 'node:fs/promises';
import {basename, dirname, join} from 'node:path';
import {randomBytes} from 'node:crypto';
import * as tf from '@tensorflow/tfjs';
import {UserError} from '../cli/errors.js';
import {parseConfig, type DetectorConfig} from './config.js';
import {fileHandler} from './backbone.js';

/** Training progress saved with each checkpoint. */
export interface TrainState {
  /** Epochs fully done. */
  epoch: number;
  /** Optimizer steps done. */
  step: number;
  /** RNG state at the end of the last finished epoch. */
  rngState: number;
  /** Per finished epoch: mean losses and (with --val) validation stats. */
  history: {epoch: number; loss: number; cls: number; reg: number; seconds: number; val?: Record<string, number>}[];
  /** Training options that must stay the same on resume (epochs, batch, lr, ...). */
  options: Record<string, unknown>;
}

async function exists(p: string): Promise<boolean> {
  return stat(p).then(() => true, () => false);
}

/** Writes a model directory atomically (temp dir + rename). */
export async function saveModelDir(dir: string, model: tf.LayersModel, cfg: DetectorConfig, state?: TrainState,
  optimizer?: tf.Optimizer): Promise<void> {
  const parent = dirname(dir);
  await mkdir(parent, {recursive: true});
  const tag = `${process.pid}-${randomBytes(4).toString('hex')}`;
  const tmp = join(parent, `.${basename(dir)}.tmp-${tag}`);
  await mkdir(tmp);
  try {
    await model.save(tf.io.withSaveHandler(async (art) => {
      const weights = new Uint8Array(art.weightData as ArrayBuffer);
      await writeFile(join(tmp, 'weights.bin'), weights);
      const json = {format: 'layers-model', generatedBy: art.generatedBy, convertedBy: null,
        modelTopology: art.modelTopology, weightsManifest: [{paths: ['weights.bin'], weights: art.weightSpecs}]};
      await writeFile(join(tmp, 'model.json'), JSON.stringify(json));
      return {modelArtifactsInfo: {dateSaved: new Date(), modelTopologyType: 'JSON'}};
    }));
    await writeFile(join(tmp, 'config.json'), `${JSON.stringify(cfg, null, 2)}\n`);
    if (state) await writeFile(join(tmp, 'state.json'), `${JSON.stringify(state, null, 2)}\n`);
    if (optimizer) {
      const named = await optimizer.getWeights();
      const {data, specs} = await tf.io.encodeWeights(named);
      await writeFile(join(tmp, 'optimizer.bin'), new Uint8Array(data));
      await writeFile(join(tmp, 'optimizer.json'), JSON.stringify(specs));
    }
    const old = join(parent, `.${basename(dir)}.old-${tag}`);
    const had = await exists(dir);
    if (had) await rename(dir, old);
    await rename(tmp, dir);
    if (had) await rm(old, {recursive: true, force: true});
  } catch (err) {
    await rm(tmp, {recursive: true, force: true});
    throw err;
  }
}

/**
 * The model directory `dir`; if a crash hit between the two renames of saveModelDir, the
 * previous checkpoint (`.NAME.old-*`) is put back first.
 */
async function recover(dir: string): Promise<void> {
  if (await exists(dir)) return;
  const parent = dirname(dir), prefix = `.${basename(dir)}.old-`;
  const olds = (await readdir(parent).catch(() => [] as string[])).filter((n) => n.startsWith(prefix));
  if (olds.length) await rename(join(parent, olds.sort().at(-1) as string), dir);
}

export interface LoadedModel {
  model: tf.LayersModel;
  config: DetectorConfig;
  state?: TrainState;
}

/** Loads a model directory written by saveModelDir. Throws a UserError when it is missing or broken. */
export async function loadModelDir(dir: string): Promise<LoadedModel> {
  await recover(dir);
  const cfgPath = join(dir, 'config.json');
  let raw: string;
  try {
    raw = await readFile(cfgPath, 'utf8');
  } catch {
    throw new UserError('no config.json: not a model directory', {code: 'E_MODEL', file: dir,
      fix: 'pass the --out directory of `nwd train`'});
  }
  const config = parseConfig(JSON.parse(raw), cfgPath);
  let model: tf.LayersModel;
  try {
    model = await tf.loadLayersModel(fileHandler(join(dir, 'model.json')));
  } catch (err) {
    throw new UserError(`cannot load model.json: ${(err as Error).message}`, {code: 'E_MODEL', file: dir,
      fix: 'retrain, or restore the directory from a copy'});
  }
  const statePath = join(dir, 'state.json');
  const state = (await exists(statePath)) ? (JSON.parse(await readFile(statePath, 'utf8')) as TrainState) : undefined;
  return {model, config, state};
}

/** Restores Adam's moments saved with a checkpoint into `optimizer` (no-op when none were saved). */
export async function loadOptimizerState(dir: string, optimizer: tf.Optimizer): Promise<boolean> {
  const specsPath = join(dir, 'optimizer.json');
  if (!(await exists(specsPath))) return false;
  const specs = JSON.parse(await readFile(specsPath, 'utf8')) as tf.io.WeightsManifestEntry[];
  const buf = await readFile(join(dir, 'optimizer.bin'));
  const data = buf.buffer.slice(buf.byteOffset, buf.byteOffset + buf.byteLength) as ArrayBuffer;
  const map = tf.io.decodeWeights(data, specs);
  await optimizer.setWeights(specs.map((s) => ({name: s.name, tensor: map[s.name]})));
  return true;
}
