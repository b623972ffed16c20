import {stat} from 'node:fs/promises';
import v8 from 'node:v8';
import {Flags} from '@oclif/core';
import {NwdCommand} from '../cli/base.js';
import {UserError} from '../cli/errors.js';
import {colorAllowed, info, verbose, warn} from '../cli/log.js';
import {startProgress} from '../cli/progress.js';
import {writeFileAtomic} from '../cli/atomic.js';
import {positiveFlag} from '../cli/flags.js';
import {PROTOCOLS, type Protocol} from '../eval/protocol.js';

/** What `nwd eval --json` prints: the protocol, the settings that ran, and the numbers. */
export interface EvalJson {
  protocol: Protocol;
  settings: {metric: 'iou' | 'nwd'; c?: number; maxDets: number[]; pycocotoolsCompat: boolean; honorIgnore: boolean};
  stats: Record<string, number>;
  perClass?: Array<{id: number; name: string; gt: number; dt: number; AP: number; AP50: number; AP75: number;
    AR: number}>;
}

export default class Eval extends NwdCommand {
  static override summary = 'COCO or AI-TOD AP of detections against COCO ground truth (pycocotools numbers, fast).';

  static override description = `Matches detections to ground truth per image and category and prints the 12 COCO
numbers (AP, AP50, AP75, APs, APm, APl, AR1, AR10, AR100, ARs, ARm, ARl) or the AI-TOD ones
(AP, AP50, AP75, APvt, APt, APs, APm, AR1, AR100, AR1500, ARvt, ARt, ARs, ARm and the
optimal LRP). The numbers equal pycocotools' (aitodpycocotools' for --protocol aitod) to
1e-12; -1 means undefined (no GT in that setting).

Differences from pycocotools, on purpose: an empty detection list gives AP 0 (not a crash);
a GT annotation with id 0 is scored like any other (pycocotools never counts it as matched;
--pycocotools-compat reproduces that); duplicate annotation ids are an error.
Detections on images absent from the GT are an error listing the ids; detections of unknown
categories are left out with a warning; a GT without "area" uses w*h with a warning.
--metric nwd matches with NWD >= threshold instead of IoU (research on tiny objects).`;

  static override examples = [
    {description: 'COCO AP of a results file',
      command: '<%= config.bin %> <%= command.id %> --gt val.json --dt dets.json'},
    {description: 'AI-TOD protocol with per-class AP and PR curves',
      command: '<%= config.bin %> <%= command.id %> --gt aitod_test.json --dt dets.jsonl --protocol aitod ' +
        '--per-class --plot pr.svg'},
    {description: 'Match by NWD instead of IoU, JSON output',
      command: '<%= config.bin %> <%= command.id %> --gt gt.json --dt dets.json --metric nwd --c 12.8 --json'},
    {description: 'Detections from a pipe',
      command: 'cat dets.jsonl | <%= config.bin %> <%= command.id %> --gt gt.json --dt -'},
  ];

  static override flags = {
    gt: Flags.string({description: 'COCO ground-truth JSON', required: true}),
    dt: Flags.string({description: 'COCO results: JSON array or JSON Lines (- for stdin), streamed', required: true}),
    protocol: Flags.string({description: 'evaluation settings', options: [...PROTOCOLS], default: 'coco'}),
    metric: Flags.string({description: 'similarity used for matching', options: ['iou', 'nwd'], default: 'iou'}),
    c: Flags.string({description: 'NWD constant C in px (with --metric nwd; default 12.8, AI-TOD)'}),
    'per-class': Flags.boolean({description: 'also print (and plot) AP per category'}),
    'max-dets': Flags.string({description: 'three ascending max detections per image, e.g. 1,10,100'}),
    'pycocotools-compat': Flags.boolean({
      description: 'reproduce pycocotools\' GT-id-0 bug (its detection counts as FP)'}),
    'honor-ignore': Flags.boolean({
      description: 'treat GT "ignore": 1 as ignored (pycocotools overwrites it with iscrowd)'}),
    plot: Flags.string({description: 'write precision-recall curves to this SVG file'}),
  };

  async run(): Promise<EvalJson> {
    const {flags} = await this.parse(Eval);
    if (flags.c !== undefined && flags.metric !== 'nwd') {
      throw new UserError('--c only applies with --metric nwd', {code: 'E_FLAG', fix: 'add --metric nwd or drop --c'});
    }
    const maxDets = flags['max-dets'] === undefined ? undefined : parseMaxDets(flags['max-dets']);
    await preferBaselineWasm(flags.dt);
    const [{loadCocoGt}, {evaluateFile}] = await Promise.all([
      import('../formats/coco.js'), import('../eval/evaluate.js')]);
    const t0 = performance.now();
    const gt = await loadCocoGt(flags.gt);
    verbose(`read GT ${flags.gt} in ${(performance.now() - t0).toFixed(0)} ms`);
    // Small jobs finish in well under a second: a bar would only add noise.
    const big = gt.annotations.count > 200_000;
    const bar = big ? startProgress('eval categories', Math.max(1, gt.categories.length)) : undefined;
    let result;
    try {
      result = await evaluateFile(gt, flags.dt, {
        protocol: flags.protocol as Protocol, metric: flags.metric as 'iou' | 'nwd', maxDets,
        ...(flags.metric === 'nwd' ? {c: flags.c === undefined ? 12.8 : positiveFlag('c', flags.c)!} : {}),
        pycocotoolsCompat: flags['pycocotools-compat'], honorIgnore: flags['honor-ignore'],
        ...(bar ? {onProgress: (done: number) => bar.update(done)} : {}),
      });
    } finally {
      bar?.stop();
    }
    verbose(`evaluated in ${(performance.now() - t0).toFixed(0)} ms (matching and accumulation in wasm, float64)`);
    for (const w of result.warnings) warn(w);
    if (flags.metric === 'nwd' && this.jsonEnabled()) {
      info(`nwd eval: matched by NWD thresholds (C = ${result.settings.c})`);
    }
    if (flags.plot) {
      const {prCurvesSvg} = await import('../eval/plot.js');
      await writeFileAtomic(flags.plot, prCurvesSvg(result, {perClass: flags['per-class']}));
      info(`wrote ${flags.plot}`);
    }
    if (!this.jsonEnabled()) {
      const {renderTable} = await import('../eval/table.js');
      process.stdout.write(renderTable(result, {gtFile: flags.gt, dtFile: flags.dt, perClass: flags['per-class'],
        color: colorAllowed() && Boolean(process.stdout.isTTY)}));
    }
    const s = result.settings;
    return {
      protocol: result.protocol,
      settings: {metric: s.metric, ...(s.c !== undefined ? {c: s.c} : {}), maxDets: s.maxDets,
        pycocotoolsCompat: s.pycocotoolsCompat, honorIgnore: s.honorIgnore},
      stats: result.stats,
      ...(flags['per-class'] ? {perClass: result.perClass} : {}),
    };
  }
}

/** Detection files below this size are evaluated with V8's baseline wasm compiler only. */
const BASELINE_WASM_BYTES = 64 * 1024 * 1024;

/**
 * For small inputs, keeps V8 from optimising the wasm kernels: in a short process the optimising
 * compile costs more CPU than it saves (measured on 50k detections: kernel CPU 160 ms with
 * tier-up, 90 ms baseline only). Large inputs keep tier-up. Must run before the module loads.
 */
async function preferBaselineWasm(dtFile: string): Promise<void> {
  const size = dtFile === '-' ? Infinity : await stat(dtFile).then((s) => s.size, () => Infinity);
  if (size >= BASELINE_WASM_BYTES) return;
  v8.setFlagsFromString('--liftoff-only');
  verbose('wasm: baseline compiler only (small input)');
}

/** Parses --max-dets: three ascending positive integers. */
export function parseMaxDets(text: string): number[] {
  const v = text.split(',').map((x) => Number(x.trim()));
  if (v.length !== 3 || !v.every((x, i) => Number.isInteger(x) && x > 0 && (i === 0 || x > v[i - 1]))) {
    throw new UserError(`--max-dets must be three ascending positive integers, got "${text}"`, {code: 'E_FLAG',
      fix: 'e.g. --max-dets 1,10,100 (COCO) or 1,100,1500 (AI-TOD)'});
  }
  return v;
}
