import {Flags} from '@oclif/core';
import {NwdCommand} from '../cli/base.js';
import {info} from '../cli/log.js';
import {synthesize, type SynthResult} from '../synth/synth.js';

export default class Synth extends NwdCommand {
  static override summary = 'Generate a deterministic synthetic tiny-object dataset (PNG images + COCO GT).';

  static override description = `Draws textured, noisy scenes with small objects of four classes (square, disc,
cross, triangle; 2-32 px, mostly under 16 px, mean sqrt(w*h) about 9 px) in varied contrast,
and writes OUT/images/*.png, OUT/train.json and OUT/val.json (COCO GT split by image;
file_name is relative to OUT/images; boxes are the exact extent of the drawn pixels,
area = w*h). The same options and seed give the same bytes.`;

  static override examples = [
    {description: 'The default: 100 images of 256x256',
      command: '<%= config.bin %> <%= command.id %> --out data/synth'},
    {description: 'A bigger set with another seed',
      command: '<%= config.bin %> <%= command.id %> --out s --images 1000 --seed 7'},
  ];

  static override flags = {
    out: Flags.string({description: 'output directory', required: true}),
    images: Flags.integer({description: 'number of images', default: 100}),
    seed: Flags.integer({description: 'random seed (0 to 4294967295)', default: 0}),
    size: Flags.integer({description: 'image side in pixels', default: 256}),
    'val-fraction': Flags.string({description: 'fraction of images in val.json', default: '0.2'}),
    'min-size': Flags.integer({description: 'smallest object side in pixels', default: 2}),
    'max-size': Flags.integer({description: 'largest object side in pixels', default: 32}),
  };

  async run(): Promise<SynthResult> {
    const {flags} = await this.parse(Synth);
    const result = await synthesize({
      out: flags.out, images: flags.images, seed: flags.seed, size: flags.size,
      valFraction: Number(flags['val-fraction']), minSize: flags['min-size'], maxSize: flags['max-size'],
    });
    if (!this.jsonEnabled()) {
      info(`wrote ${result.images} images (${result.trainImages} train, ${result.valImages} val), ` +
        `${result.objects} objects, mean sqrt(w*h) ${result.meanSqrtWh.toFixed(2)} px`);
      process.stdout.write(`${result.train}\n${result.val}\n`);
    }
    return result;
  }
}
