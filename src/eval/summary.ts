/**
 * Means the way numpy computes them, so summary numbers equal pycocotools' to the last bit
 * (np.mean is a pairwise sum divided by the count).
 */

/** numpy's pairwise summation of `v[lo..hi)` (blocks of 128 with 8 accumulators). */
export function pairwiseSum(v: ArrayLike<number>, lo = 0, hi = v.length): number {
  const n = hi - lo;
  if (n < 8) {
    let s = -0;
    for (let i = lo; i < hi; i++) s += v[i];
    return s;
  }
  if (n <= 128) {
    const r = [v[lo], v[lo + 1], v[lo + 2], v[lo + 3], v[lo + 4], v[lo + 5], v[lo + 6], v[lo + 7]];
    let i = 8;
    for (; i < n - (n % 8); i += 8) for (let j = 0; j < 8; j++) r[j] += v[lo + i + j];
    let s = ((r[0] + r[1]) + (r[2] + r[3])) + ((r[4] + r[5]) + (r[6] + r[7]));
    for (; i < n; i++) s += v[lo + i];
    return s;
  }
  let n2 = Math.floor(n / 2);
  n2 -= n2 % 8;
  return pairwiseSum(v, lo, lo + n2) + pairwiseSum(v, lo + n2, hi);
}

/** Mean of the entries > -1 (pycocotools' "defined"), or -1 when there are none. */
export function meanOfDefined(values: ArrayLike<number>): number {
  const kept: number[] = [];
  for (let i = 0; i < values.length; i++) if (values[i] > -1) kept.push(values[i]);
  return kept.length ? pairwiseSum(kept) / kept.length : -1;
}
