import {Flags} from '@oclif/core';
import {NwdCommand} from '../cli/base.js';
import {info, warn} from '../cli/log.js';
import {convertDataset, INPUT_FORMATS, OUTPUT_FORMATS, type ConvertResult, type InputFormat,
  type OutputFormat} from '../convert/convert.js';

export default class Convert extends NwdCommand {
  static override summary = 'Convert annotations between COCO, YOLO, VisDrone-DET, DOTA and JSON Lines.';

  static override description = `Reads COCO GT (--gt) or per-image label files (--labels, with --images for the image
sizes, read from the image headers) and writes COCO GT, YOLO labels (+ classes.txt) or one
annotation per line (jsonl). Boxes are never shifted by +1.

Every object is kept by default, degenerate ones included; a validation summary goes to
stderr (degenerate boxes, boxes outside the image, duplicate or zero annotation ids, images
without objects). --drop-degenerate drops zero-width/height boxes; --strict makes every
finding an error. A malformed row is an error naming the file and line; nothing is written.

YOLO: class index = position of the category id in the sorted id list; coordinates outside
the image are clipped with a warning (a box with nothing left inside is dropped); crowd and
ignore GT are left out. DOTA: box = min/max of the polygon; categories are the names found,
sorted, ids from 1 (or --classes in your order); difficult, the polygon and the header
(imagesource, gsd) are kept. VisDrone: categories 1-10 keep their ids; ignored regions (0)
and 'others' (11) become ignore GT (iscrowd 1, ignore 1) in every category.`;

  static override examples = [
    {description: 'DOTA labelTxt to COCO',
      command: '<%= config.bin %> <%= command.id %> --from dota --to coco --labels labelTxt --images images ' +
        '--out gt.json'},
    {description: 'COCO to YOLO (writes classes.txt too)',
      command: '<%= config.bin %> <%= command.id %> --from coco --to yolo --gt gt.json --out labels'},
    {description: 'YOLO back to COCO',
      command: '<%= config.bin %> <%= command.id %> --from yolo --to coco --labels labels --images images ' +
        '--out gt.json'},
    {description: 'VisDrone to COCO on stdout, strict',
      command: '<%= config.bin %> <%= command.id %> --from visdrone --to coco --labels annotations ' +
        '--images images --strict'},
  ];

  static override flags = {
    from: Flags.string({description: 'input format', options: [...INPUT_FORMATS], required: true}),
    to: Flags.string({description: 'output format', options: [...OUTPUT_FORMATS], required: true}),
    gt: Flags.string({description: 'COCO ground-truth file (--from coco)'}),
    labels: Flags.string({description: 'folder of label .txt files (yolo, visdrone, dota)'}),
    images: Flags.string({description: 'folder of the images (their headers give the sizes)'}),
    classes: Flags.string({description: 'class names a,b,c: YOLO index order or DOTA category order'}),
    out: Flags.string({description: 'output file (coco, jsonl; default stdout) or folder (yolo)'}),
    'drop-degenerate': Flags.boolean({description: 'drop boxes of zero width or height'}),
    strict: Flags.boolean({description: 'make every validation finding an error'}),
  };

  async run(): Promise<ConvertResult> {
    const {flags} = await this.parse(Convert);
    const toStdout = !this.jsonEnabled();
    const result = await convertDataset({
      from: flags.from as InputFormat, to: flags.to as OutputFormat, gt: flags.gt, labels: flags.labels,
      images: flags.images, out: flags.out, dropDegenerate: flags['drop-degenerate'], strict: flags.strict,
      ...(flags.classes ? {classes: flags.classes.split(',').map((s) => s.trim()).filter(Boolean)} : {}),
    }, (text) => { if (toStdout) process.stdout.write(text); });
    for (const line of result.findingLines) warn(line);
    const notes = Object.entries(result.notes).filter(([, n]) => n > 0).map(([k, n]) => `${k} ${n}`);
    info(`converted ${result.from} -> ${result.to}: ${result.images} images, ${result.annotations} annotations, ` +
      `${result.categories.length} categories${notes.length ? `; ${notes.join(', ')}` : ''}${
        result.findingLines.length ? '' : '; no validation findings'}`);
    return result;
  }
}
