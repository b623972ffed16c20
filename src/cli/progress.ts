import cliProgress from 'cli-progress';
import {logLevel} from './log.js';

/**
 * A progress bar on stderr. On a terminal it redraws; piped, it prints a plain line every
 * few seconds (cli-progress's noTTYOutput) so logs of long runs still show movement.
 * Quiet mode draws nothing.
 */
export interface Progress {
  update(value: number, payload?: Record<string, unknown>): void;
  setTotal(total: number): void;
  stop(): void;
}

const silent: Progress = {update() {}, setTotal() {}, stop() {}};

export function startProgress(label: string, total: number, extraFormat = ''): Progress {
  if (logLevel() === 'quiet' || process.env.NWD_NO_PROGRESS) return silent;
  const bar = new cliProgress.SingleBar(
    {
      stream: process.stderr,
      format: `${label} [{bar}] {percentage}% {value}/{total} eta {eta_formatted}${extraFormat}`,
      noTTYOutput: true,
      notTTYSchedule: 5000,
      hideCursor: false,
      clearOnComplete: false,
    },
    cliProgress.Presets.shades_classic,
  );
  // Placeholders of extraFormat show as '-' until the first update brings their values.
  const blank = Object.fromEntries([...extraFormat.matchAll(/\{(\w+)\}/g)].map((m) => [m[1], '-']));
  bar.start(total, 0, blank);
  return {
    update: (v, payload) => bar.update(v, payload),
    setTotal: (t) => bar.setTotal(t),
    stop: () => bar.stop(),
  };
}
