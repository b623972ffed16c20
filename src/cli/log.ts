/**
 * Logging to stderr: data goes to stdout, everything else (warnings, which implementation
 * ran, timings) goes here. Levels: quiet < normal < verbose (`--verbose` or
 * `DEBUG=nwd`/`DEBUG=nwd:*`).
 */
export type Level = 'quiet' | 'normal' | 'verbose';

let level: Level = /(^|,)nwd(:|,|$)/.test(process.env.DEBUG ?? '') ? 'verbose' : 'normal';
const once = new Set<string>();

export function setLogLevel(l: Level): void {
  level = l;
}

export function logLevel(): Level {
  return level;
}

/** Whether colour is allowed on stderr/stdout: NO_COLOR wins, then chalk's detection. */
export function colorAllowed(): boolean {
  return !('NO_COLOR' in process.env && process.env.NO_COLOR !== '');
}

export function warn(msg: string): void {
  if (level !== 'quiet') process.stderr.write(`warning: ${msg}\n`);
}

export function info(msg: string): void {
  if (level !== 'quiet') process.stderr.write(`${msg}\n`);
}

export function verbose(msg: string): void {
  if (level === 'verbose') process.stderr.write(`[nwd] ${msg}\n`);
}

/** Logs `msg` at verbose level once per process for `key` (e.g. which kernel ran). */
export function verboseOnce(key: string, msg: string): void {
  if (once.has(key)) return;
  once.add(key);
  verbose(msg);
}
