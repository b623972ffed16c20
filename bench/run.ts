/**
 * `npm run bench [-- SUITE ...]`: runs the named suites (all when none is named) and prints
 * one JSON line per case: {bench, ours_ms, baseline, baseline_ms, ratio}, ratio =
 * baseline_ms / ours_ms measured in the same run.
 */
const suites: Record<string, () => Promise<{run: () => unknown}>> = {
  similarity: () => import('./similarity.js'),
  nms: () => import('./nms.js'),
  eval: () => import('./eval.js'),
  assign: () => import('./assign.js'),
  train: () => import('./train.js'),
};

const names = process.argv.slice(2);
const unknown = names.filter((n) => !(n in suites));
if (unknown.length) {
  process.stderr.write(`unknown bench suite(s): ${unknown.join(', ')}; known: ${Object.keys(suites).join(', ')}\n`);
  process.exit(2);
}
for (const name of names.length ? names : Object.keys(suites)) {
  process.stderr.write(`bench: ${name}\n`);
  await (await suites[name]()).run();
}
