/** `nwd stats --plot`: the sqrt(w*h) histogram and the IoU vs NWD positives per object, as one SVG. */
import {writeFileAtomic} from '../cli/atomic.js';
import {barChart, grid} from '../report/svg.js';
import {SIZE_BINS} from './sizes.js';
import type {StatsResult} from './stats.js';

const WIDTH = 1000;

/** The histogram of sqrt(w*h) (2 px bins, the last open-ended) as a bar chart. */
export function sizeHistogramSvg(r: StatsResult): string {
  const {lowerEdges, counts} = r.sqrtWh;
  const categories = lowerEdges.map((lo,
    i) => (i === lowerEdges.length - 1 ? `>=${lo}` : `${lo}-${lowerEdges[i + 1]}`));
  return barChart({
    title: `Object sizes (${r.objects} objects, mean sqrt(w*h) = C = ${r.recommendedC.toFixed(2)} px)`,
    xLabel: 'sqrt(w*h), px', yLabel: 'objects', categories, series: [{name: 'objects', values: counts}],
    width: WIDTH, height: 420,
  });
}

/** Positives per object under IoU and NWD assignment, per AI-TOD size bin and overall. */
export function positivesSvg(r: StatsResult): string | undefined {
  const p = r.positives;
  if (!p) return undefined;
  const bins = [...SIZE_BINS, 'all' as const];
  return barChart({
    title: `Positive anchors per object, max-overlap 0.7/0.3 (anchors ${p.anchors})`, width: WIDTH, height: 420,
    xLabel: 'AI-TOD size bin', yLabel: 'positives per object', categories: [...bins],
    series: [
      {name: 'IoU', values: bins.map((b) => p.iou.perBin[b].meanPositives)},
      {name: `NWD (C = ${p.c.toFixed(2)})`, values: bins.map((b) => p.nwd.perBin[b].meanPositives)},
    ],
  });
}

/** Writes the charts of `r` into one SVG file, atomically. */
export async function writeStatsPlot(path: string, r: StatsResult): Promise<void> {
  const charts = [sizeHistogramSvg(r), positivesSvg(r)].filter((c): c is string => c !== undefined);
  await writeFileAtomic(path, charts.length === 1 ? charts[0] : grid(charts, 1));
}
