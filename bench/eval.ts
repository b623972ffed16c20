/**
 * `nwd eval` against pycocotools, whole processes (start-up and JSON parsing included), in the
 * same run: 500 images x 50 GT x 100 detections, 10 classes. The pycocotools row is skipped
 * with a note when no Python with pycocotools is found.
 */
import {spawnSync} from 'node:child_process';
import {mkdtempSync, writeFileSync, rmSync} from 'node:fs';
import {tmpdir} from 'node:os';
import {join, resolve, dirname} from 'node:path';
import {fileURLToPath} from 'node:url';
import {performance} from 'node:perf_hooks';
import {report, lcg} from './common.js';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');

/** GT and detections: boxes of 4-64 px, detections jittered copies of GT or random boxes. */
function dataset(images: number, gtPer: number, dtPer: number, classes: number, seed: number):
  {gt: unknown; dt: unknown[]} {
  const rnd = lcg(seed);
  const imgs = [], anns = [], dets = [];
  let id = 1;
  for (let i = 1; i <= images; i++) {
    imgs.push({id: i, width: 1024, height: 1024, file_name: `${i}.jpg`});
    const own: number[][] = [];
    for (let g = 0; g < gtPer; g++) {
      const s = 4 + rnd() * 60, w = s * (0.7 + rnd() * 0.6), h = (s * s) / w;
      const box = [rnd() * 960, rnd() * 960, w, h], cat = 1 + Math.floor(rnd() * classes);
      own.push([...box, cat]);
      anns.push({id: id++, image_id: i, category_id: cat, bbox: box, area: w * h, iscrowd: rnd() < 0.02 ? 1 : 0});
    }
    for (let d = 0; d < dtPer; d++) {
      const src = own[Math.floor(rnd() * own.length)];
      const box = rnd() < 0.6
        ? [src[0] + (rnd() - 0.5) * 4, src[1] + (rnd() - 0.5) * 4, src[2] * (0.85 + rnd() * 0.3),
          src[3] * (0.85 + rnd() * 0.3)]
        : [rnd() * 960, rnd() * 960, 4 + rnd() * 60, 4 + rnd() * 60];
      const cat = rnd() < 0.9 ? src[4] : 1 + Math.floor(rnd() * classes);
      dets.push({image_id: i, category_id: cat, bbox: box, score: Math.round(rnd() * 1000) / 1000});
    }
  }
  const categories = Array.from({length: classes}, (_, k) => ({id: k + 1, name: `class${k + 1}`}));
  return {gt: {images: imgs, annotations: anns, categories}, dt: dets};
}

const PYCOCO = `
import sys, io, contextlib, json
from pycocotools.coco import COCO
from pycocotools.cocoeval import COCOeval
with contextlib.redirect_stdout(io.StringIO()):
    gt = COCO(sys.argv[1]); dt = gt.loadRes(sys.argv[2])
    e = COCOeval(gt, dt, 'bbox'); e.evaluate(); e.accumulate(); e.summarize()
print(json.dumps(list(e.stats)))
`;

function timed(cmd: string, args: string[]): {ms: number; status: number | null; stdout: string; stderr: string} {
  const t0 = performance.now();
  const r = spawnSync(cmd, args, {encoding: 'utf8', maxBuffer: 1 << 26, env: {...process.env, NWD_NO_PROGRESS: '1'}});
  return {ms: performance.now() - t0, status: r.status, stdout: r.stdout ?? '', stderr: r.stderr ?? ''};
}

function findPython(): string | undefined {
  for (const py of [process.env.NWD_BENCH_PYTHON, 'python3', 'python'].filter((x): x is string => Boolean(x))) {
    const r = spawnSync(py, ['-c', 'import pycocotools'], {encoding: 'utf8'});
    if (r.status === 0) return py;
  }
  return undefined;
}

export function run(): void {
  const dir = mkdtempSync(join(tmpdir(), 'nwd-bench-eval-'));
  try {
    const {gt, dt} = dataset(500, 50, 100, 10, 7);
    const gtFile = join(dir, 'gt.json'), dtFile = join(dir, 'dt.json');
    writeFileSync(gtFile, JSON.stringify(gt));
    writeFileSync(dtFile, JSON.stringify(dt));
    const cli = join(ROOT, 'bin', 'run.js');
    const args = [cli, 'eval', '--gt', gtFile, '--dt', dtFile, '--json'];
    timed(process.execPath, args); // warm the file cache
    const ours = [0, 1, 2].map(() => timed(process.execPath, args));
    const failed = ours.find((r) => r.status !== 0);
    if (failed) throw new Error(`nwd eval failed: ${failed.stderr}`);
    const oursMs = ours.map((r) => r.ms).sort((a, b) => a - b)[1];
    const oursStats = Object.values(JSON.parse(ours[0].stdout).stats) as number[];
    const bench = 'eval coco 500 img x 50 gt x 100 dt, 10 classes (whole process)';
    const py = findPython();
    if (!py) {
      report(bench, oursMs, 'pycocotools', null, 'skipped: no python with pycocotools found (set NWD_BENCH_PYTHON)');
      return;
    }
    const base = timed(py, ['-c', PYCOCO, gtFile, dtFile]);
    if (base.status !== 0) {
      report(bench, oursMs, 'pycocotools', null, `skipped: pycocotools failed: ${base.stderr.slice(-200)}`);
      return;
    }
    const theirs = JSON.parse(base.stdout) as number[];
    const maxDiff = Math.max(...theirs.map((v, i) => Math.abs(v - oursStats[i])));
    report(bench, oursMs, `pycocotools (${py}, one run)`, base.ms,
      `ours: median of 3; max |stat difference| ${maxDiff.toExponential(1)}`);
  } finally {
    rmSync(dir, {recursive: true, force: true});
  }
}
