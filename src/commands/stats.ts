import {Args, Flags} from '@oclif/core';
import {NwdCommand} from '../cli/base.js';
import {warn} from '../cli/log.js';
import {startProgress} from '../cli/progress.js';
import {parseAnchorLayout} from '../detector/anchors.js';
import {datasetStats, type StatsResult} from '../stats/stats.js';
import {statsText} from '../stats/table.js';
import {positiveFlag} from '../cli/flags.js';

export default class Stats extends NwdCommand {
  static override summary = 'Object sizes of a COCO ground truth, the NWD constant C, and positives per object.';

  static override description = `Counts objects per class and per AI-TOD size bin (on w*h: <8^2, 8^2-16^2, 16^2-32^2,
>=32^2 px^2), the distribution of sqrt(w*h), and the recommended NWD constant C: the mean
sqrt(w*h) over all objects (recommendedC in --json). Crowd/ignore GT is counted apart.

Then the paper's motivating analysis: positive anchors per object under max-overlap
assignment (0.7/0.3 with low-quality matches) with IoU and with NWD, per size bin, for the
detector's anchor layout or --anchors. On AI-TOD the paper reports 0.72 positives per object
with IoU and 1.05 with NWD. --plot writes the size histogram and that comparison as SVG.`;

  static override examples = [
    {description: 'Table on stdout', command: '<%= config.bin %> <%= command.id %> gt.json'},
    {description: 'Machine-readable, with C', command: '<%= config.bin %> <%= command.id %> gt.json --json'},
    {description: 'Another anchor layout and a plot',
      command: '<%= config.bin %> <%= command.id %> gt.json --anchors "4:8;8:16;16:32@1" --plot sizes.svg'},
  ];

  static override args = {
    gt: Args.string({description: 'COCO ground-truth file (or -)', required: true}),
  };

  static override flags = {
    anchors: Flags.string({description: 'anchor layout STRIDE:SIZE,..;..@RATIO,.. (default: the detector\'s)',
      default: 'default'}),
    c: Flags.string({description: 'NWD constant for the NWD assignment, px (default: the recommended C)'}),
    positives: Flags.boolean({description: 'run the positives-per-object analysis', default: true, allowNo: true}),
    plot: Flags.string({description: 'write the size histogram and positives comparison to this SVG file'}),
  };

  async run(): Promise<StatsResult> {
    const {args, flags} = await this.parse(Stats);
    const layout = parseAnchorLayout(flags.anchors);
    const bar = flags.positives ? startProgress('positives', 1) : undefined;
    const result = await datasetStats(args.gt, {
      positives: flags.positives, layout, ...(flags.c !== undefined ? {c: positiveFlag('c', flags.c)!} : {}),
      ...(bar ? {onProgress: (d: number, t: number) => { bar.setTotal(t); bar.update(d); }} : {}),
    });
    bar?.stop();
    for (const f of result.gtFindings) warn(f);
    if (flags.plot) {
      const {writeStatsPlot} = await import('../stats/plot.js');
      await writeStatsPlot(flags.plot, result);
    }
    if (!this.jsonEnabled()) process.stdout.write(statsText(result));
    return result;
  }
}
