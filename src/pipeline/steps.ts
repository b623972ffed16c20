/**
 * Steps that are skipped when their inputs did not change. Each step declares its input
 * paths (files or folders) and parameters; their fingerprint is stored in
 * `DIR/steps.json` after the step succeeds. A rerun skips a step whose fingerprint matches
 * and whose outputs still exist; any change reruns it and every step after it that reads
 * its outputs (their fingerprints change with the outputs' contents).
 */
import {createHash} from 'node:crypto';
import {createReadStream, existsSync} from 'node:fs';
import {readFile, readdir, stat} from 'node:fs/promises';
import {join} from 'node:path';
import {writeFileAtomic} from '../cli/atomic.js';
import {info} from '../cli/log.js';

export interface StepSpec {
  name: string;
  /** Files or folders the step reads; folders are fingerprinted by names, sizes and mtimes. */
  inputs: string[];
  /** Everything else the result depends on (flags, seeds); must be JSON-serialisable. */
  params: unknown;
  /** Files or folders the step writes; all must exist for a skip. */
  outputs: string[];
  run: () => Promise<void>;
}

interface Manifest {
  [step: string]: {fingerprint: string; finishedAt: string; seconds: number};
}

async function fileDigest(path: string): Promise<string> {
  const h = createHash('sha256');
  for await (const chunk of createReadStream(path)) h.update(chunk as Buffer);
  return h.digest('hex');
}

async function pathDigest(path: string): Promise<string> {
  const s = await stat(path).catch(() => undefined);
  if (!s) return 'missing';
  if (s.isFile()) return fileDigest(path);
  const entries = (await readdir(path, {recursive: true})).sort();
  const parts: string[] = [];
  for (const e of entries) {
    const es = await stat(join(path, e));
    if (es.isFile()) parts.push(`${e}:${es.size}:${Math.floor(es.mtimeMs)}`);
  }
  return createHash('sha256').update(parts.join('\n')).digest('hex');
}

/** The fingerprint of a step's inputs and parameters. */
export async function fingerprint(spec: Pick<StepSpec, 'inputs' | 'params' | 'name'>): Promise<string> {
  const h = createHash('sha256')
    .update(spec.name)
    .update(JSON.stringify(spec.params ?? null));
  for (const input of spec.inputs) h.update(input).update(await pathDigest(input));
  return h.digest('hex');
}

/** Runs steps in order inside `dir`, skipping the up-to-date ones; returns what ran and what was skipped. */
export class StepRunner {
  private manifest: Manifest = {};
  readonly ran: string[] = [];
  readonly skipped: string[] = [];

  private constructor(
    readonly dir: string,
    private readonly force: boolean,
  ) {}

  static async open(dir: string, force = false): Promise<StepRunner> {
    const r = new StepRunner(dir, force);
    const path = join(dir, 'steps.json');
    if (existsSync(path)) r.manifest = JSON.parse(await readFile(path, 'utf8')) as Manifest;
    return r;
  }

  async step(spec: StepSpec): Promise<'ran' | 'skipped'> {
    const fp = await fingerprint(spec);
    const prev = this.manifest[spec.name];
    if (!this.force && prev?.fingerprint === fp && spec.outputs.every((o) => existsSync(o))) {
      info(`step ${spec.name}: up to date, skipped`);
      this.skipped.push(spec.name);
      return 'skipped';
    }
    info(`step ${spec.name}: running`);
    const t0 = Date.now();
    await spec.run();
    this.manifest[spec.name] = {
      fingerprint: fp,
      finishedAt: new Date().toISOString(),
      seconds: (Date.now() - t0) / 1000,
    };
    await writeFileAtomic(join(this.dir, 'steps.json'), `${JSON.stringify(this.manifest, null, 2)}\n`);
    this.ran.push(spec.name);
    return 'ran';
  }

  /** Seconds each step took when it last ran. */
  timings(): Record<string, number> {
    return Object.fromEntries(Object.entries(this.manifest).map(([k, v]) => [k, v.seconds]));
  }
}
