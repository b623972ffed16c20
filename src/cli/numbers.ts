/** The shortest decimal that reads back as the same float32 (so 0.80174005 prints, not 0.8017400503158569). */
export function f32ToShortest(x: number): number {
  if (!Number.isFinite(x) || x === 0) return x;
  for (let p = 6; p < 9; p++) {
    const c = Number(x.toPrecision(p));
    if (Math.fround(c) === x) return c;
  }
  return Number(x.toPrecision(9));
}
