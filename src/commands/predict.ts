import {Flags} from '@oclif/core';
import {NwdCommand} from '../cli/base.js';
import {numberFlag} from '../cli/flags.js';
import {UserError} from '../cli/errors.js';
import {info} from '../cli/log.js';
import type {PredictResult} from '../detector/predict.js';


export default class Predict extends NwdCommand {
  static override summary = 'Run a trained detector on images and write COCO results.';

  static override description = `Writes [{"image_id", "category_id", "bbox": [x, y, w, h], "score"}, ...]
(or JSON Lines with --jsonl). With --gt, predicts the images the GT lists, with its image ids (so \`nwd eval\` can
score the output); otherwise every image found, with ids from the file names (000123.png -> 123).
Images larger than the model's tile are cut into overlapping tiles and merged. --raw skips NMS so
\`nwd nms\` can run in a pipe. Progress goes to stderr.`;

  static override examples = [
    {description: 'Predict a GT\'s images, then evaluate',
      command: '<%= config.bin %> <%= command.id %> --model m --images s/images --gt s/val.json --out pred.json'},
    {description: 'Raw detections into nwd nms',
      command: '<%= config.bin %> <%= command.id %> --model m --images a.png b.png --raw --jsonl --out - ' +
        '| nwd nms --metric nwd -'},
  ];

  static override flags = {
    model: Flags.string({description: 'model directory written by `nwd train`', required: true}),
    images: Flags.string({description: 'image directory or files', required: true, multiple: true}),
    out: Flags.string({description: 'results file (- for stdout)', required: true}),
    jsonl: Flags.boolean({description: 'write JSON Lines'}),
    raw: Flags.boolean({description: 'skip NMS'}),
    'score-threshold': Flags.string({
      description: 'drop detections scoring at or below this (default: the model\'s, 0.05)'}),
    tile: Flags.integer({description: 'tile side for large images, px (default: the model\'s)'}),
    gt: Flags.string({description: 'COCO GT: predict its images with its ids'}),
    nms: Flags.string({description: 'NMS overlap (default: the model\'s)', options: ['iou', 'nwd']}),
    'nms-threshold': Flags.string({description: 'NMS threshold (default: iou 0.5, nwd 0.85)'}),
    backend: Flags.string({description: 'tfjs backend',
      options: ['auto', 'tensorflow-gpu', 'tensorflow', 'wasm', 'cpu'], default: 'auto'}),
  };

  async run(): Promise<PredictResult> {
    const {flags} = await this.parse(Predict);
    if (flags.out === '-' && this.jsonEnabled()) {
      throw new UserError('--json and --out - would both write to stdout', {code: 'E_FLAG',
        fix: 'write the results to a file with --out FILE, or drop --json'});
    }
    const {predict} = await import('../detector/predict.js');
    const result = await predict({model: flags.model, images: flags.images, out: flags.out, jsonl: flags.jsonl,
      raw: flags.raw, scoreThreshold: numberFlag('score-threshold', flags['score-threshold']), tile: flags.tile,
      gt: flags.gt,
      nms: flags.nms as 'iou' | undefined, nmsThreshold: numberFlag('nms-threshold', flags['nms-threshold']),
      backend: flags.backend as 'auto'});
    if (!this.jsonEnabled() && flags.out !== '-') {
      info(`${result.detections} detections on ${result.images} images ` +
        `(${result.imagesPerSecond.toFixed(1)} images/s, ` +
        `${result.backend}) -> ${result.out}`);
    }
    return result;
  }
}
