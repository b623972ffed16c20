/** Precision-recall curves of an evaluation as SVG (report/svg.ts). */
import {grid, lineChart} from '../report/svg.js';
import type {EvalResult} from './evaluate.js';

function label(r: EvalResult): string {
  const how = r.settings.metric === 'nwd' ? `NWD (C=${r.settings.c})` : 'IoU';
  return `${r.protocol === 'aitod' ? 'AI-TOD' : 'COCO'}, ${how}, area all, maxDets ${r.settings.maxDets.at(-1)}`;
}

/**
 * Points of a [R] precision row at the recall thresholds, ending at the highest recall reached
 * (pycocotools fills the thresholds beyond it with 0); undefined (-1) rows give no points.
 */
function points(recThrs: number[], row: number[]): Array<[number, number]> {
  let end = row.length;
  while (end > 0 && row[end - 1] <= 0) end--;
  return recThrs.slice(0, end).map((r, i) => [r, row[i]] as [number, number]);
}

/**
 * One SVG: mean precision over categories at each threshold; with `perClass`, a chart per
 * category with GT follows (thresholds 0.50 and 0.75 and the mean over all thresholds).
 */
export function prCurvesSvg(r: EvalResult, opts: {perClass?: boolean} = {}): string {
  const {recThrs, iouThrs} = r.curves;
  const thr = (t: number) => `${r.settings.metric === 'nwd' ? 'NWD' : 'IoU'} ${t.toFixed(2)}`;
  const main = lineChart({
    title: `Precision-recall (${label(r)})`, xLabel: 'recall', yLabel: 'precision (mean over classes)',
    xDomain: [0, 1], yDomain: [0, 1], step: true,
    series: iouThrs.map((t, i) => ({name: thr(t), points: points(recThrs, r.curves.precision[i])})),
  });
  if (!opts.perClass) return main;
  const withGt = r.curves.perClass.filter((c) => c.precision[0].some((v) => v > -1));
  const charts = withGt.map((c) => {
    const meanRow = recThrs.map((_, ri) => {
      const v = c.precision.map((row) => row[ri]).filter((x) => x > -1);
      return v.length ? v.reduce((a, b) => a + b, 0) / v.length : -1;
    });
    const pick = [0.5, 0.75].map((t) => iouThrs.indexOf(t)).filter((i) => i >= 0);
    return lineChart({
      title: `${c.name} (id ${c.id})`, xLabel: 'recall',
      yLabel: 'precision', xDomain: [0, 1], yDomain: [0, 1], step: true, width: 480, height: 340,
      series: [...pick.map((i) => ({name: thr(iouThrs[i]), points: points(recThrs, c.precision[i])})),
        {name: `mean ${iouThrs[0].toFixed(2)}:${iouThrs.at(-1)!.toFixed(2)}`, points: points(recThrs, meanRow)}],
    });
  });
  return grid([main, ...charts], 2, `nwd eval: precision-recall per class (${label(r)})`);
}
