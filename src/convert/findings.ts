/**
 * Validation findings of a conversion, as data: each has a kind, where it is, and what was
 * done. `nwd convert` prints a summary on stderr; `--strict` turns the first one into an error.
 */
import {UserError} from '../cli/errors.js';

export const FINDING_KINDS = ['degenerate', 'outside-image', 'dropped-outside', 'duplicate-id', 'zero-id',
  'image-without-objects'] as const;
export type FindingKind = (typeof FINDING_KINDS)[number];

export interface Finding {
  kind: FindingKind;
  file?: string;
  record?: string;
  message: string;
}

const DESCRIBE: Record<FindingKind, string> = {
  'degenerate': 'degenerate boxes (zero width or height)',
  'outside-image': 'boxes extending outside the image',
  'dropped-outside': 'boxes dropped: nothing left inside the image after clipping',
  'duplicate-id': 'duplicate annotation ids',
  'zero-id': 'annotation ids of 0',
  'image-without-objects': 'images without objects',
};

/** Collects findings; in strict mode the first one throws. */
export class Findings {
  readonly list: Finding[] = [];

  constructor(private readonly strict = false) {}

  add(f: Finding): void {
    if (this.strict) {
      throw new UserError(`${f.message} (--strict makes every validation finding an error)`, {
        code: 'E_STRICT', file: f.file, record: f.record,
          fix: 'fix the input, or run without --strict to convert anyway'});
    }
    this.list.push(f);
  }

  count(kind: FindingKind): number {
    return this.list.filter((f) => f.kind === kind).length;
  }

  /** Counts per kind (every kind present, 0 when none). */
  counts(): Record<FindingKind, number> {
    const c = Object.fromEntries(FINDING_KINDS.map((k) => [k, 0])) as Record<FindingKind, number>;
    for (const f of this.list) c[f.kind]++;
    return c;
  }

  /** One line per kind that occurred, with its first example. */
  describe(): string[] {
    const out: string[] = [];
    for (const kind of FINDING_KINDS) {
      const fs = this.list.filter((f) => f.kind === kind);
      if (fs.length === 0) continue;
      const first = fs[0];
      const where = [first.file, first.record].filter(Boolean).join(', ');
      out.push(`${fs.length} ${DESCRIBE[kind]}; first: ${where ? `${where}: ` : ''}${first.message}`);
    }
    return out;
  }
}
