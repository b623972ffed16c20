import {Flags} from '@oclif/core';
import {NwdCommand} from '../cli/base.js';
import {pipelineFlags, pipelineOptionsFromFlags} from './pipeline.js';
import {runAblation, VARIANTS, type AblationResult} from '../pipeline/ablate.js';

export default class Ablate extends NwdCommand {
  static override summary = 'IoU vs NWD, one change at a time: assignment, NMS, loss, and all NWD together.';

  static override description =
    'Runs the pipeline once per variant on the same data and training budget (the data ' +
    "step is shared) and prints a table like the paper's: AP, AP50, AP75, APvt, APt, APs, APm, plus positive anchors " +
    `per training object under each variant's assigner. Variants: ${VARIANTS.map(
      (v) => `${v.name} (assign ${v.assign}, loss ${v.loss}, nms ${v.nms})`,
    ).join('; ')}. Results: OUT/<variant>/report.html, ` +
    'OUT/ablation.md, OUT/ablation.json. Variants already run with the same inputs are skipped.';

  static override examples = [
    {description: 'On synthetic data', command: '<%= config.bin %> <%= command.id %> --out runs/ablate'},
    {
      description: 'Two variants on your data',
      command:
        '<%= config.bin %> <%= command.id %> --data gt.json ' +
        '--images imgs/ --variants iou,all-nwd --out runs/ablate',
    },
  ];

  static override flags = {
    ...pipelineFlags,
    variants: Flags.string({description: `comma-separated subset of: ${VARIANTS.map((v) => v.name).join(', ')}`}),
  };

  async run(): Promise<AblationResult> {
    const {flags} = await this.parse(Ablate);
    const base = await pipelineOptionsFromFlags(flags);
    const r = await runAblation(
      base,
      flags.variants
        ?.split(',')
        .map((s) => s.trim())
        .filter(Boolean),
    );
    if (!this.jsonEnabled()) process.stdout.write(`${r.table}\n\nwritten: ${r.out}/ablation.md\n`);
    return r;
  }
}
