import {Args, Flags} from '@oclif/core';
import {NwdCommand} from '../cli/base.js';
import {UserError} from '../cli/errors.js';
import {AtomicWriter} from '../cli/atomic.js';
import {DEFAULT_C} from '../bindings/similarity.js';
import {NMS_METRICS, SOFT_DECAYS, DEFAULT_SIGMA, type NmsMetric, type SoftDecay} from '../nms/options.js';
import {nmsRecords, type NmsRecordsOptions, type NmsRecordsSummary, type RecordsSink} from '../nms/records.js';
import {nmsParams} from '../nms/options.js';

export type NmsCommandResult = NmsRecordsSummary & {output: string | null; records?: unknown[]};

export default class Nms extends NwdCommand {
  static override summary = 'Non-maximum suppression (IoU, GIoU, DIoU or NWD) over COCO detection results, per image.';

  static override description = `Reads COCO detection results - a JSON array
[{image_id, category_id, bbox: [x, y, w, h], score, ...}] or JSON Lines of the same objects,
detected automatically - from FILE or stdin (-), runs greedy NMS per image (per class unless
--class-agnostic) and writes the kept records in the same format on stdout, per image ordered by
score, highest first (images in the order their last detection appears). Records keep every field
as they came: JSON Lines are copied byte for byte; array elements are re-serialised with the same
keys and values. Soft-NMS rewrites only "score", and only where it decayed.

A detection is suppressed when its overlap with a kept one of higher score is strictly greater
than --threshold (ties in score: the earlier record wins). NWD-NMS (the paper uses 0.85 in the
RPN) suits tiny objects, whose IoU collapses under a few pixels of offset.

Memory: the input is read twice (stdin is first copied to a temporary file). When the input is
grouped by image_id, memory holds one image's detections at a time; any other order works too,
holding up to the whole input. Nothing is written unless every record is valid.

Detections with a NaN, infinite or null score are dropped and counted on stderr. Boxes with
NaN/infinite values or negative width/height are errors naming the record. Scores are compared
as float32.

--json prints a summary (images, detections, kept, dropped scores, which pruning ran) with the
kept records under "records", or without them when --output is given.`;

  static override examples = [
    {description: 'Per-class IoU NMS at 0.5 over JSON Lines in a pipe',
      command: 'cat preds.jsonl | <%= config.bin %> <%= command.id %> > kept.jsonl'},
    {description: 'NWD-NMS for tiny objects, class-agnostic, with your dataset\'s C',
      command: '<%= config.bin %> <%= command.id %> --metric nwd --threshold 0.85 --c 9.6 --class-agnostic preds.json'},
    {description: 'Detector post-processing: drop low scores, keep 100 per image',
      command: '<%= config.bin %> <%= command.id %> --score-threshold 0.05 --max-dets 100 preds.json -o dets.json'},
    {description: 'Gaussian Soft-NMS',
      command: '<%= config.bin %> <%= command.id %> --soft gaussian --sigma 0.5 --score-threshold 0.001 preds.jsonl'},
  ];

  static override args = {
    file: Args.string({description: 'COCO results: JSON array or JSON Lines (file, or - for stdin)', default: '-',
      ignoreStdin: true}),
  };

  static override flags = {
    metric: Flags.string({description: 'overlap measure', options: [...NMS_METRICS], default: 'iou'}),
    threshold: Flags.string({
      description: 'suppress when overlap > T [default: 0.5; 0.85 for nwd; unused by --soft gaussian]'}),
    c: Flags.string({description: `NWD constant C in px (the dataset's mean sqrt(w*h)) [default: ${DEFAULT_C}]`}),
    'nwd-form': Flags.string({description: 'NWD: exact formula, or the authors\' reference code with eps 1e-6',
      options: ['exact', 'reference']}),
    'class-agnostic': Flags.boolean({description: 'one NMS over all classes of an image instead of one per class'}),
    'score-threshold': Flags.string({description: 'drop detections scoring below S (with --soft: also after decay)'}),
    'max-dets': Flags.string({description: 'keep at most K detections per image (highest scores)'}),
    soft: Flags.string({description: 'Soft-NMS: decay scores instead of removing boxes', options: [...SOFT_DECAYS]}),
    sigma: Flags.string({description: `Gaussian Soft-NMS width [default: ${DEFAULT_SIGMA}]`, dependsOn: ['soft']}),
    output: Flags.string({char: 'o',
      description: 'write the kept records to this file (atomically) instead of stdout'}),
  };

  async run(): Promise<NmsCommandResult> {
    const {args, flags} = await this.parse(Nms);
    const metric = flags.metric as NmsMetric;
    const opts: NmsRecordsOptions = {metric, classAgnostic: flags['class-agnostic']};
    if (flags.threshold !== undefined) opts.threshold = parseNumber('--threshold', flags.threshold);
    if (flags.c !== undefined) opts.c = parseNumber('--c', flags.c);
    if (flags['nwd-form'] !== undefined) opts.nwdForm = flags['nwd-form'] as 'exact' | 'reference';
    const s = flags['score-threshold'];
    if (s !== undefined) opts.scoreThreshold = parseNumber('--score-threshold', s);
    if (flags['max-dets'] !== undefined) opts.maxDets = parseNumber('--max-dets', flags['max-dets']);
    if (flags.soft !== undefined) opts.soft = flags.soft as SoftDecay;
    if (flags.sigma !== undefined) opts.sigma = parseNumber('--sigma', flags.sigma);
    checkOptions(opts);

    const json = this.jsonEnabled();
    const records: unknown[] | undefined = json && !flags.output ? [] : undefined;
    let writer: AtomicWriter | undefined;
    let sink: RecordsSink;
    if (flags.output) {
      const w = (writer = await AtomicWriter.open(flags.output));
      sink = {write: (t) => w.write(t)};
    } else if (records) {
      sink = {records};
    } else {
      // A closed pipe (`nwd nms ... | head`) ends the run quietly.
      process.stdout.on('error', (err: NodeJS.ErrnoException) => {
        if (err.code === 'EPIPE') process.exit(0);
      });
      sink = {write: writeStdout};
    }
    try {
      const summary = await nmsRecords(args.file, opts, sink);
      await writer?.commit();
      return {...summary, output: flags.output ?? null, ...(records ? {records} : {})};
    } finally {
      await writer?.abort();
    }
  }
}

/** Parses a numeric flag (a user error names the flag). */
function parseNumber(flag: string, text: string): number {
  const v = Number(text);
  if (text.trim() === '' || !Number.isFinite(v)) {
    throw new UserError(`${flag} must be a number, got "${text}"`, {code: 'E_FLAG', fix: `see nwd nms --help`});
  }
  return v;
}

/** Validates the combined options, reporting them as flag errors. */
function checkOptions(opts: NmsRecordsOptions): void {
  const {classAgnostic: _unused, ...rest} = opts;
  if (opts.metric !== 'nwd' && (opts.c !== undefined || opts.nwdForm !== undefined)) {
    throw new UserError(`--c and --nwd-form only apply to --metric nwd, not ${opts.metric}`, {
      code: 'E_FLAG', fix: 'add --metric nwd, or drop them'});
  }
  try {
    nmsParams(rest);
  } catch (err) {
    if (!(err instanceof RangeError || err instanceof TypeError)) throw err;
    const msg = err.message.replace(/^maxDets/, '--max-dets').replace(/^scoreThreshold/, '--score-threshold')
      .replace(/^(threshold|sigma)/, '--$1').replace(/^C must/, '--c must')
      .replace(/soft: gaussian/, '--soft gaussian');
    throw new UserError(msg, {code: 'E_FLAG', fix: 'see nwd nms --help'});
  }
}

/** Writes to stdout, waiting for it to drain when its buffer is full. */
function writeStdout(text: string): Promise<void> | void {
  if (!process.stdout.write(text)) return new Promise((resolve) => process.stdout.once('drain', () => resolve()));
}
