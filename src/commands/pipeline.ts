import {Flags} from '@oclif/core';
import {readFile} from 'node:fs/promises';
import {NwdCommand} from '../cli/base.js';
import {UserError} from '../cli/errors.js';
import {numberFlag} from '../cli/flags.js';
import {parseJson} from '../formats/json-input.js';
import {defined, runPipeline, type PipelineOptions, type PipelineResult} from '../pipeline/pipeline.js';

/** Flags shared by `nwd pipeline` and `nwd ablate`. */
export const pipelineFlags = {
  out: Flags.string({description: 'report folder (created; reruns skip steps whose inputs did not change)',
    required: true}),
  synth: Flags.boolean({description: 'run on generated data (`nwd synth`; the default without --data)'}),
  data: Flags.string({description: 'COCO GT of the dataset (images split into train/val unless --val is given)'}),
  images: Flags.string({description: 'folder the GT\'s file_name values are relative to'}),
  val: Flags.string({description: 'validation COCO GT (images in the same --images folder)'}),
  'val-split': Flags.string({description: 'fraction of images held out for validation when --val is not given',
    default: '0.3'}),
  'synth-images': Flags.integer({description: 'images to generate with --synth', default: 120}),
  seed: Flags.integer({description: 'seed of the split, the synthetic data and training', default: 0}),
  preset: Flags.string({description: 'training budget', options: ['smoke', 'default'], default: 'smoke'}),
  epochs: Flags.integer({description: 'override the preset\'s epochs'}),
  protocol: Flags.string({description: 'evaluation protocol', options: ['aitod', 'coco'], default: 'aitod'}),
  c: Flags.string({description: 'NWD constant C in px (default: mean sqrt(w*h) of the training objects)'}),
  backend: Flags.string({description: 'tfjs backend', options: ['auto', 'tensorflow-gpu', 'tensorflow', 'wasm', 'cpu'],
    default: 'auto'}),
  config: Flags.string({description: 'JSON file with any of these options (camelCase keys); flags given win'}),
  force: Flags.boolean({description: 'rerun every step'}),
};

/** Options from flags, merged over a --config file. */
export async function pipelineOptionsFromFlags(flags: Record<string, unknown>, extra: Partial<PipelineOptions> = {}):
  Promise<PipelineOptions> {
  let fromFile: Partial<PipelineOptions> = {};
  if (flags.config) {
    const file = flags.config as string;
    fromFile = parseJson(await readFile(file, 'utf8'), file) as Partial<PipelineOptions>;
    if (typeof fromFile !== 'object' || fromFile === null || Array.isArray(fromFile)) {
      throw new UserError('the config file must hold one JSON object', {code: 'E_CONFIG', file});
    }
  }
  const num = (name: string) => numberFlag(name, flags[name] as string | undefined);
  return {
    ...fromFile,
    ...defined({
      out: flags.out as string,
      data: flags.data as string | undefined,
      images: flags.images as string | undefined,
      val: flags.val as string | undefined,
      valSplit: num('val-split'),
      seed: flags.seed as number,
      preset: flags.preset as PipelineOptions['preset'],
      epochs: flags.epochs as number | undefined,
      protocol: flags.protocol as PipelineOptions['protocol'],
      c: num('c'),
      backend: flags.backend as PipelineOptions['backend'],
      force: flags.force ? true : undefined,
    }),
    ...(flags.data ? {} : {synth: {images: flags['synth-images'] as number, ...(fromFile.synth ?? {})}}),
    ...extra,
  } as PipelineOptions;
}

export default class Pipeline extends NwdCommand {
  static override summary = 'Annotations to an AP report in one command: data, train, predict, NMS, eval, report.';

  static override description = 'Without --data it generates a synthetic tiny-object dataset (nwd synth) and runs on ' +
    'that. Every step writes into the --out folder (data/, model/, predictions.raw.json, detections.json, ' +
    'metrics.json, pr.svg, sizes.svg, images/, report.html); a rerun skips the steps whose inputs and options did ' +
    'not change. The NWD choices of the paper are switchable: --assign, --loss and --nms.';

  static override examples = [
    {description: 'The bundled default: synthetic data, smoke training, AI-TOD metrics', command:
      '<%= config.bin %> <%= command.id %> --out runs/demo'},
    {description: 'Your COCO data with the paper\'s NWD choices', command: '<%= config.bin %> <%= command.id %> ' +
      '--data gt.json --images imgs/ --assign nwd --loss nwd --nms nwd --out runs/nwd'},
  ];

  static override flags = {
    ...pipelineFlags,
    assign: Flags.string({description: 'label assignment', options: ['iou', 'nwd', 'rka', 'atss-iou', 'atss-nwd']}),
    loss: Flags.string({description: 'box regression loss', options: ['smoothl1', 'giou', 'nwd']}),
    nms: Flags.string({description: 'overlap used by the final NMS', options: ['iou', 'nwd'], default: 'iou'}),
    'nms-threshold': Flags.string({description: 'NMS threshold (default 0.5 for IoU, 0.85 for NWD)'}),
  };

  async run(): Promise<PipelineResult> {
    const {flags} = await this.parse(Pipeline);
    const opts = await pipelineOptionsFromFlags(flags, defined({
      assign: flags.assign as PipelineOptions['assign'], loss: flags.loss as PipelineOptions['loss'],
      nms: flags.nms as PipelineOptions['nms'],
      nmsThreshold: numberFlag('nms-threshold', flags['nms-threshold'])}));
    const r = await runPipeline(opts);
    if (!this.jsonEnabled()) {
      const keys = ['AP', 'AP50', 'AP75', 'APvt', 'APt', 'APs', 'APm'].filter((k) => k in r.stats);
      process.stdout.write(`${keys.map((k) => `${k} ${r.stats[k] < 0 ? '-' : r.stats[k].toFixed(3)}`).join('  ')}\n`);
      process.stdout.write(`report: ${r.report}\n`);
    }
    return r;
  }
}
