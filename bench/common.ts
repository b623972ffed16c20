/** Benchmark helpers: median of repeats after warm-up, and the JSON line every case prints. */
import {performance} from 'node:perf_hooks';

/** Median wall time in ms of `fn` over `repeats` runs after `warmup` runs. */
export function medianMs(fn: () => unknown, repeats = 7, warmup = 2): number {
  for (let i = 0; i < warmup; i++) fn();
  const times: number[] = [];
  for (let i = 0; i < repeats; i++) {
    const t0 = performance.now();
    fn();
    times.push(performance.now() - t0);
  }
  times.sort((a, b) => a - b);
  return times[Math.floor(times.length / 2)];
}

export interface BenchLine {
  bench: string;
  ours_ms: number;
  baseline: string;
  baseline_ms: number | null;
  ratio: number | null;
  note?: string;
}

/** Prints one JSON line; ratio = baseline_ms / ours_ms (higher is better for us). */
export function report(
  bench: string,
  oursMs: number,
  baseline: string,
  baselineMs: number | null,
  note?: string,
): BenchLine {
  const round = (x: number) => Math.round(x * 1000) / 1000;
  const line: BenchLine = {
    bench,
    ours_ms: round(oursMs),
    baseline,
    baseline_ms: baselineMs === null ? null : round(baselineMs),
    ratio: baselineMs === null ? null : round(baselineMs / oursMs),
  };
  if (note) line.note = note;
  process.stdout.write(`${JSON.stringify(line)}\n`);
  return line;
}

/** Deterministic PRNG in [0, 1) (LCG), for reproducible inputs. */
export function lcg(seed: number): () => number {
  let s = seed >>> 0;
  return () => (s = (Math.imul(s, 1664525) + 1013904223) >>> 0) / 2 ** 32;
}
