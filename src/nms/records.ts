/**
 * `nwd nms` as a library function: COCO detection records (JSON array or JSON Lines) in, the
 * kept records out in the same format, NMS run per image.
 *
 * Two streamed passes over the input: the first validates every record and counts the
 * detections of each image (memory: one counter per image), the second collects each image's
 * detections and runs NMS as soon as its last one arrives, then forgets them. Input grouped by
 * image therefore holds one image in memory; any other order holds at most the input. Standard
 * input is first copied to a temporary file so it can be read twice. Because every record is
 * checked before anything is written, bad input produces no partial output.
 */
import {createWriteStream, rmSync} from 'node:fs';
import {mkdtemp, rm} from 'node:fs/promises';
import {tmpdir} from 'node:os';
import {join} from 'node:path';
import {pipeline} from 'node:stream/promises';
import {UserError} from '../cli/errors.js';
import {f32ToShortest} from '../cli/numbers.js';
import {startProgress, type Progress} from '../cli/progress.js';
import {verbose, warn} from '../cli/log.js';
import {readDetections, type Detection, type ImageId} from '../formats/results.js';
import {recordLabel, type RecordsFormat, type SourcedRecord} from '../formats/json-input.js';
import {toXyxy} from '../geometry/boxes.js';
import type {NmsPath} from '../bindings/nms.js';
import {nmsDetailed} from './nms.js';
import {nmsParams, DEFAULT_THRESHOLD, type NmsOptions} from './options.js';

export interface NmsRecordsOptions extends Omit<NmsOptions, 'prune'> {
  /** One NMS over all classes of an image instead of one per class. */
  classAgnostic?: boolean;
}

export interface NmsRecordsSummary {
  input: string;
  format: RecordsFormat;
  images: number;
  detections: number;
  kept: number;
  /** Detections dropped for a NaN, infinite or null score. */
  nonFiniteScores: number;
  metric: string;
  threshold: number;
  classAgnostic: boolean;
  soft: string | null;
  /** Which pruning the kernel used at most: plain, overlap-grid or centre-grid. */
  path: NmsPath | null;
}

/**
 * Where kept records go, in output order: `write` receives serialised text (with separators and
 * the array brackets); without `write`, the record values are pushed to `records`.
 */
export type RecordsSink = {write(text: string): Promise<void> | void} | {records: unknown[]};

interface Item {
  det: Detection;
  raw: SourcedRecord;
}

/** Progress bar threshold: inputs with at least this many detections show one on stderr. */
const PROGRESS_MIN = 50_000;

/** Copies standard input to a temporary file (so it can be read twice) and returns its path. */
async function spoolStdin(): Promise<{path: string; cleanup: () => Promise<void>}> {
  const dir = await mkdtemp(join(tmpdir(), 'nwd-nms-'));
  const path = join(dir, 'stdin');
  // Also removed when the process ends early: a closed output pipe exits, Ctrl-C, kill.
  const onExit = () => rmSync(dir, {recursive: true, force: true});
  const onSignal = (sig: NodeJS.Signals) => {
    onExit();
    process.kill(process.pid, sig);
  };
  process.once('exit', onExit);
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  const cleanup = async () => {
    process.off('exit', onExit);
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
    await rm(dir, {recursive: true, force: true});
  };
  try {
    await pipeline(process.stdin, createWriteStream(path));
  } catch (err) {
    await cleanup();
    throw err;
  }
  return {path, cleanup};
}

/** Names the user's input (`-` for stdin) in errors raised while reading the spooled copy. */
function relabel(err: unknown, from: string, to: string): unknown {
  if (err instanceof UserError && err.file === from) {
    return new UserError(err.message, {code: err.code, file: to, record: err.record, fix: err.fix});
  }
  return err;
}

/** Throws a UserError naming the record when its bbox (COCO xywh) breaks the box policy. */
function checkBox(det: Detection, raw: SourcedRecord, file: string): void {
  const [x, y, w, h] = det.bbox;
  // The policy as the kernel applies it, on the float32 xyxy box.
  const x1 = Math.fround(x), y1 = Math.fround(y);
  const x2 = Math.fround(x1 + Math.fround(w)), y2 = Math.fround(y1 + Math.fround(h));
  if (Number.isFinite(x1 + y1 + x2 + y2) && x2 >= x1 && y2 >= y1) return;
  const shown = `[${det.bbox.map((v) => (Number.isNaN(v) ? 'null' : v)).join(', ')}]`;
  const nonFinite = !Number.isFinite(x1 + y1 + x2 + y2);
  throw new UserError(nonFinite ? `bbox ${shown} has a null, NaN or infinite value (float32)`
    : `bbox ${shown} has a negative width or height`, {
    code: nonFinite ? 'E_BOX_NONFINITE' : 'E_BOX_REVERSED', file, record: recordLabel(raw),
    fix: 'COCO boxes are [x, y, width, height] with finite numbers and width, height >= 0: fix or drop the record'});
}

/** Serialises kept records in the input's format. */
class RecordWriter {
  private first = true;
  constructor(private readonly format: RecordsFormat, private readonly sink: RecordsSink) {}

  /** The record as it came, or with `score` replaced when Soft-NMS changed it. */
  private value(item: Item, score: number | undefined): unknown {
    const changed = score !== undefined && score !== Math.fround(item.det.score);
    return changed ? {...(item.raw.value as object), score: f32ToShortest(score)} : item.raw.value;
  }

  private text(item: Item, score: number | undefined): string {
    const value = this.value(item, score);
    if (value === item.raw.value && this.format === 'jsonl' && item.raw.text !== undefined) return item.raw.text;
    return JSON.stringify(value);
  }

  /** Writes one image's kept records; `scores` are the final scores (Soft-NMS) or undefined. */
  async write(items: Item[], scores: Float32Array | undefined): Promise<void> {
    if (items.length === 0) return;
    if ('records' in this.sink) {
      items.forEach((item, j) => (this.sink as {records: unknown[]}).records.push(this.value(item, scores?.[j])));
      return;
    }
    const records = items.map((item, j) => this.text(item, scores?.[j]));
    let out: string;
    if (this.format === 'jsonl') {
      out = `${records.join('\n')}\n`;
    } else {
      out = `${this.first ? '[\n' : ',\n'}${records.join(',\n')}`;
    }
    this.first = false;
    await (this.sink as {write(text: string): Promise<void> | void}).write(out);
  }

  async end(): Promise<void> {
    if (this.format === 'array' && 'write' in this.sink) await this.sink.write(this.first ? '[]\n' : '\n]\n');
  }
}

/**
 * Runs NMS per image over the detections in `file` (`-` for stdin) and writes the kept records,
 * each exactly as it came (Soft-NMS rewrites only `score`), to `sink`, per image in output order
 * (score descending). Throws UserError for bad input, naming the line or record.
 */
export async function nmsRecords(file: string, opts: NmsRecordsOptions, sink: RecordsSink): Promise<NmsRecordsSummary> {
  const {classAgnostic = false, ...nmsOpts} = opts;
  nmsParams(nmsOpts);
  let source = file, cleanup = async () => {};
  if (file === '-') ({path: source, cleanup} = await spoolStdin());
  try {
    return await twoPasses(file, source, classAgnostic, nmsOpts, sink);
  } catch (err) {
    throw relabel(err, source, file);
  } finally {
    await cleanup();
  }
}

async function twoPasses(file: string, source: string, classAgnostic: boolean, nmsOpts: NmsOptions,
  sink: RecordsSink): Promise<NmsRecordsSummary> {
  const t0 = performance.now();
  const counts = new Map<ImageId, number>();
  let format: RecordsFormat = 'jsonl', detections = 0;
  const soft = nmsOpts.soft !== undefined, minScore = nmsOpts.scoreThreshold ?? -Infinity;
  for await (const {det, raw} of readDetections(source, (f) => { format = f; })) {
    checkBox(det, raw, file);
    if (soft && det.score < 0 && det.score >= minScore) {
      throw new UserError(`Soft-NMS needs non-negative scores, got ${det.score}`, {code: 'E_SCORE_NEGATIVE', file,
        record: recordLabel(raw), fix: 'use hard NMS, raise --score-threshold, or map the scores to [0, 1] first'});
    }
    counts.set(det.imageId, (counts.get(det.imageId) ?? 0) + 1);
    detections++;
  }
  verbose(`nms: read ${detections} detections of ${counts.size} images (${format}) in ${
    Math.round(performance.now() - t0)} ms`);

  const summary: NmsRecordsSummary = {
    input: file, format, images: counts.size, detections, kept: 0, nonFiniteScores: 0,
    metric: nmsOpts.metric ?? 'iou', threshold: nmsOpts.threshold ?? DEFAULT_THRESHOLD[nmsOpts.metric ?? 'iou'],
    classAgnostic, soft: nmsOpts.soft ?? null, path: null,
  };
  const writer = new RecordWriter(format, sink);
  const progress: Progress | undefined = detections >= PROGRESS_MIN ? startProgress('nms', detections) : undefined;
  const open = new Map<ImageId, Item[]>();
  let done = 0;
  try {
    for await (const item of readDetections(source)) {
      const id = item.det.imageId;
      let list = open.get(id);
      if (!list) open.set(id, (list = []));
      list.push(item);
      if (list.length < counts.get(id)!) continue;
      open.delete(id);
      await runImage(list, file, classAgnostic, nmsOpts, writer, summary);
      done += list.length;
      progress?.update(done);
    }
  } finally {
    progress?.stop();
  }
  await writer.end();
  if (summary.nonFiniteScores > 0) {
    warn(`dropped ${summary.nonFiniteScores} detection(s) with a NaN, infinite or null score`);
  }
  verbose(`nms: kept ${summary.kept} of ${detections} detections in ${Math.round(performance.now() - t0)} ms`);
  return summary;
}

/** NMS over one image's detections; writes its kept records. */
async function runImage(list: Item[], file: string, classAgnostic: boolean, nmsOpts: NmsOptions, writer: RecordWriter,
  summary: NmsRecordsSummary): Promise<void> {
  const n = list.length;
  const xywh = new Float64Array(4 * n), scores = new Float32Array(n);
  let classes: Int32Array | null = null;
  if (!classAgnostic) {
    classes = new Int32Array(n);
    const dense = new Map<number, number>();
    list.forEach(({det}, i) => {
      let c = dense.get(det.categoryId);
      if (c === undefined) dense.set(det.categoryId, (c = dense.size));
      classes![i] = c;
    });
  }
  list.forEach(({det}, i) => {
    xywh.set(det.bbox, 4 * i);
    scores[i] = det.score;
  });
  const res = nmsDetailed(toXyxy(xywh, 'xywh'), scores, classes, nmsOpts,
    {file, label: (i) => recordLabel(list[i].raw)});
  summary.kept += res.keep.length;
  summary.nonFiniteScores += res.nonFinite;
  const order = ['plain', 'overlap-grid', 'centre-grid'];
  if (summary.path === null || order.indexOf(res.path) > order.indexOf(summary.path)) summary.path = res.path;
  await writer.write(Array.from(res.keep, (k) => list[k]), nmsOpts.soft !== undefined ? res.scores : undefined);
}
