/**
 * `nwd convert`: annotations from COCO / YOLO / VisDrone / DOTA to COCO, YOLO or JSON Lines.
 *
 * Everything is read, validated and built in memory first; only then is anything written
 * (each file atomically), so a malformed row leaves no output behind.
 */
import {join} from 'node:path';
import {UserError} from '../cli/errors.js';
import {writeFileAtomic} from '../cli/atomic.js';
import {readText} from '../formats/json-input.js';
import {cocoGtText, gtJsonlText, type GtDataset} from '../formats/coco-write.js';
import {parseClassNames} from '../formats/yolo.js';
import {readCocoGtForConvert} from './coco-read.js';
import {readDotaDataset, readVisDroneDataset, readYoloDataset, type LocatedDataset} from './text-readers.js';
import {validateDataset} from './validate.js';
import {toYoloFiles, writeYoloFiles} from './yolo-write.js';
import type {FindingKind} from './findings.js';

export const INPUT_FORMATS = ['coco', 'yolo', 'visdrone', 'dota'] as const;
export const OUTPUT_FORMATS = ['coco', 'yolo', 'jsonl'] as const;
export type InputFormat = (typeof INPUT_FORMATS)[number];
export type OutputFormat = (typeof OUTPUT_FORMATS)[number];

export interface ConvertOptions {
  from: InputFormat;
  to: OutputFormat;
  /** COCO GT file (`--from coco`). */
  gt?: string;
  /** Folder of label text files (yolo, visdrone, dota). */
  labels?: string;
  /** Folder of the images (yolo, visdrone, dota): sizes come from their headers. */
  images?: string;
  /** Class names: YOLO class index order, or the DOTA category order (ids from 1). */
  classes?: string[];
  /** Output file (coco, jsonl; stdout when absent) or folder (yolo, required). */
  out?: string;
  dropDegenerate?: boolean;
  strict?: boolean;
}

export interface ConvertResult {
  from: InputFormat;
  to: OutputFormat;
  /** Where the output went (`-` for stdout). */
  out: string;
  images: number;
  annotations: number;
  categories: string[];
  /** Validation findings per kind. */
  findings: Record<FindingKind, number>;
  /** One line per kind of finding, with its first example (also printed on stderr). */
  findingLines: string[];
  /** Special handling counted on the way (VisDrone ignored regions, crowd GT left out of YOLO). */
  notes: Record<string, number>;
}

const KEYS = ['from', 'to', 'gt', 'labels', 'images', 'classes', 'out', 'dropDegenerate', 'strict'];

function flagError(msg: string, fix: string): UserError {
  return new UserError(msg, {code: 'E_FLAG', fix});
}

function checkOptions(o: ConvertOptions): void {
  for (const k of Object.keys(o)) if (!KEYS.includes(k)) throw flagError(`unknown convert option "${k}"`,
    `use ${KEYS.join(', ')}`);
  if (!INPUT_FORMATS.includes(o.from)) throw flagError(`unknown --from "${o.from}"`, `use ${INPUT_FORMATS.join(', ')}`);
  if (!OUTPUT_FORMATS.includes(o.to)) throw flagError(`unknown --to "${o.to}"`, `use ${OUTPUT_FORMATS.join(', ')}`);
  if (o.from === 'coco' && !o.gt) throw flagError('--from coco needs --gt FILE', 'pass the COCO ground-truth file');
  if (o.from !== 'coco' && (!o.labels || !o.images)) {
    throw flagError(`--from ${o.from} needs --labels DIR and --images DIR`, 'image sizes come from the image files');
  }
  if (o.classes && o.from !== 'yolo' && o.from !== 'dota') {
    throw flagError('--classes applies to --from yolo or dota', 'leave --classes out');
  }
  if (o.to === 'yolo' && !o.out) throw flagError('--to yolo needs --out DIR', 'pass the folder for the label files');
}

async function yoloNames(o: ConvertOptions): Promise<string[]> {
  if (o.classes) return o.classes;
  const file = join(o.labels as string, 'classes.txt');
  const text = await readText(file).catch(() => {
    throw new UserError('no class names for the YOLO labels', {code: 'E_CLASSES', file,
      fix: 'put classes.txt (one name per line) beside the labels, or pass --classes a,b,c'});
  });
  return parseClassNames(text, file);
}

async function readInput(o: ConvertOptions): Promise<LocatedDataset> {
  if (o.from === 'coco') {
    const {ds, records} = await readCocoGtForConvert(o.gt as string);
    return {ds, where: records.map((record) => ({file: o.gt as string, record})), notes: {}};
  }
  if (o.from === 'yolo') return readYoloDataset(o.labels as string, o.images as string, await yoloNames(o));
  if (o.from === 'visdrone') return readVisDroneDataset(o.labels as string, o.images as string);
  return readDotaDataset(o.labels as string, o.images as string, o.classes);
}

/**
 * Converts as `o` says. `stdout` receives the output text when `o.out` is absent (coco and
 * jsonl). Validation findings are returned, not printed.
 */
export async function convertDataset(o: ConvertOptions, stdout: (text: string) => void = () => {}):
  Promise<ConvertResult> {
  checkOptions(o);
  const located = await readInput(o);
  const findings = validateDataset(located, {clip: o.from === 'yolo' || o.to === 'yolo',
    dropDegenerate: o.dropDegenerate ?? false, strict: o.strict ?? false, file: o.gt ?? o.labels});
  const ds: GtDataset = located.ds;
  if (o.from !== 'coco') ds.annotations.forEach((a, i) => { a.id = i + 1; });
  ds.info = {...(ds.info ?? {}), converted_by: 'nwd convert', from: o.from};
  const notes = {...located.notes};
  if (o.to === 'yolo') {
    const files = toYoloFiles(ds);
    notes.crowdNotInYolo = files.skippedCrowd;
    await writeYoloFiles(o.out as string, files);
  } else {
    const text = o.to === 'coco' ? cocoGtText(ds) : gtJsonlText(ds);
    if (o.out) await writeFileAtomic(o.out, text);
    else stdout(text);
  }
  return {
    from: o.from, to: o.to, out: o.out ?? '-', images: ds.images.length, annotations: ds.annotations.length,
    categories: ds.categories.map((c) => c.name), findings: findings.counts(), findingLines: findings.describe(), notes,
  };
}
