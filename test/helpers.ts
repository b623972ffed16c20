/** Shared test helpers: running the built CLI as a subprocess, temp dirs, ../shared lookup. */
import {spawnSync} from 'node:child_process';
import {mkdtempSync, existsSync, readFileSync} from 'node:fs';
import {tmpdir} from 'node:os';
import {join, resolve, dirname} from 'node:path';
import {fileURLToPath} from 'node:url';

export const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');
/** ../shared beside the checkout (read-only), or $NWD_SHARED. */
export const SHARED = process.env.NWD_SHARED ?? resolve(ROOT, '..', 'shared');

export interface CliResult {
  status: number | null;
  stdout: string;
  stderr: string;
}

/** Runs `node bin/run.js ...args` (the built CLI) with optional stdin; never throws on exit codes. */
export function runCli(
  args: string[],
  opts: {input?: string; cwd?: string; env?: Record<string, string>} = {},
): CliResult {
  const r = spawnSync(process.execPath, [join(ROOT, 'bin', 'run.js'), ...args], {
    input: opts.input ?? '',
    cwd: opts.cwd ?? ROOT,
    env: {...process.env, NO_COLOR: '1', NWD_NO_PROGRESS: '1', ...opts.env},
    encoding: 'utf8',
    maxBuffer: 1 << 28,
  });
  return {status: r.status, stdout: r.stdout, stderr: r.stderr};
}

/** A fresh temporary directory. */
export function tempDir(prefix = 'nwd-test-'): string {
  return mkdtempSync(join(tmpdir(), prefix));
}

/**
 * Path under ../shared, or undefined after printing why the caller's test is skipped.
 * Use as: `const p = shared('data/x.json'); if (!p) return t.skip('...')`.
 */
export function sharedPath(rel: string): string | undefined {
  const p = join(SHARED, rel);
  return existsSync(p) ? p : undefined;
}

/** Skip message for tests that need ../shared. */
export function sharedMissing(rel: string): string {
  return `needs ${join(SHARED, rel)} (the project's shared folder), which is absent here`;
}

export function readJsonFile<T = unknown>(path: string): T {
  return JSON.parse(readFileSync(path, 'utf8')) as T;
}

/** Asserts |got - want| <= atol + rtol*|want| elementwise, with a message naming the index. */
export function assertClose(got: ArrayLike<number>, want: ArrayLike<number>, atol: number, rtol = 0, what = ''): void {
  if (got.length !== want.length) throw new Error(`${what}: length ${got.length} != ${want.length}`);
  for (let i = 0; i < want.length; i++) {
    const tol = atol + rtol * Math.abs(want[i]);
    if (!(Math.abs(got[i] - want[i]) <= tol)) {
      throw new Error(`${what}[${i}]: got ${got[i]}, want ${want[i]} (tolerance ${tol})`);
    }
  }
}
