/**
 * Errors a user can fix (bad input, bad flags) versus internal ones (bugs).
 *
 * A `UserError` carries a stable code, the file and record it concerns and a suggested fix;
 * commands print it as one paragraph without a stack trace and exit with status 2.
 * Anything else is reported as a bug with its cause chain.
 */
export interface UserErrorInfo {
  /** Stable machine-readable code, e.g. `E_BOX_REVERSED`. */
  code: string;
  /** File the problem is in (`-` for stdin). */
  file?: string;
  /** Record within the file: an index, a line number, an id. */
  record?: string;
  /** What to do about it. */
  fix?: string;
}

export class UserError extends Error {
  readonly code: string;
  readonly file?: string;
  readonly record?: string;
  readonly fix?: string;

  constructor(message: string, info: UserErrorInfo) {
    super(message);
    this.name = 'UserError';
    this.code = info.code;
    this.file = info.file;
    this.record = info.record;
    this.fix = info.fix;
  }

  /** One readable paragraph: where, what, and the fix. */
  describe(): string {
    const where = [this.file, this.record].filter(Boolean).join(', ');
    const fix = this.fix ? `\n  fix: ${this.fix}` : '';
    return `${where ? `${where}: ` : ''}${this.message} [${this.code}]${fix}`;
  }
}

/** Re-throws `err` as a UserError naming `file` when it is a UserError without a file. */
export function withFile(err: unknown, file: string): unknown {
  if (err instanceof UserError && !err.file) {
    return new UserError(err.message, {code: err.code, file, record: err.record, fix: err.fix});
  }
  return err;
}

/** The message and cause chain of an unexpected error, for a bug report. */
export function describeInternal(err: unknown): string {
  const lines: string[] = [];
  let e: unknown = err;
  while (e) {
    lines.push(e instanceof Error ? (e.stack ?? e.message) : String(e));
    e = e instanceof Error ? (e as Error & {cause?: unknown}).cause : undefined;
    if (e) lines.push('caused by:');
  }
  return `internal error (a bug in nwd, please report it with this text):\n${lines.join('\n')}`;
}
