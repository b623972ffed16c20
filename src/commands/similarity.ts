import {Args, Flags} from '@oclif/core';
import {NwdCommand} from '../cli/base.js';
import {positiveFlag} from '../cli/flags.js';
import {METRICS, DEFAULT_C, type Metric} from '../bindings/similarity.js';
import {BOX_FORMATS, type BoxFormat} from '../geometry/boxes.js';
import {similarityFromFiles, type SimilarityResult} from '../similarity/matrix.js';

export default class Similarity extends NwdCommand {
  static override summary = 'Pairwise similarity (NWD, IoU family, DotD, W2) between two lists of boxes.';

  static override description =
    'Reads two JSON arrays of boxes (a file, or - for stdin) and prints the N x M matrix as a JSON array of ' +
    'rows on stdout: row i compares box i of A with every box of B. NWD = exp(-W2 / C), where W2 is the ' +
    "Wasserstein distance between the boxes' Gaussians (Wang et al. 2021). By default the exact form (identical " +
    "boxes give 1); --nwd-form reference adds the authors' eps 1e-6 under the square root (identical boxes give " +
    '0.99992). Boxes with NaN/infinite coordinates or reversed corners are errors naming the box.';

  static override examples = [
    {description: 'NWD with the AI-TOD constant', command: '<%= config.bin %> <%= command.id %> a.json b.json'},
    {
      description: 'IoU of COCO [x, y, w, h] boxes',
      command: '<%= config.bin %> <%= command.id %> --metric iou --format xywh a.json b.json',
    },
    {
      description: "From a pipe, with your dataset's C (see `nwd stats`)",
      command: "echo '[[10,10,16,16]]' | <%= config.bin %> <%= command.id %> --c 9.6 - b.json",
    },
  ];

  static override args = {
    a: Args.string({description: 'JSON array of boxes A (file or -)', required: true}),
    b: Args.string({description: 'JSON array of boxes B (file or -)', required: true}),
  };

  static override flags = {
    metric: Flags.string({description: 'similarity measure', options: [...METRICS], default: 'nwd'}),
    c: Flags.string({
      description: "NWD/DotD constant C in px (the dataset's mean sqrt(w*h); 12.8 for AI-TOD)",
      default: String(DEFAULT_C),
    }),
    format: Flags.string({description: 'box layout of both inputs', options: [...BOX_FORMATS], default: 'xyxy'}),
    'nwd-form': Flags.string({
      description: "exact formula, or the authors' reference code with eps 1e-6",
      options: ['exact', 'reference'],
      default: 'exact',
    }),
  };

  async run(): Promise<SimilarityResult> {
    const {args, flags} = await this.parse(Similarity);
    const result = await similarityFromFiles(args.a, args.b, flags.metric as Metric, flags.format as BoxFormat, {
      c: positiveFlag('c', flags.c, 'use the mean sqrt(w*h) of your objects (`nwd stats` recommends one)'),
      nwdForm: flags['nwd-form'] as 'exact' | 'reference',
    });
    if (!this.jsonEnabled()) process.stdout.write(`${JSON.stringify(result.matrix)}\n`);
    return result;
  }
}
