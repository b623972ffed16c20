/** Parsing of numeric flag values (oclif gives strings for non-integer numbers). */
import {UserError} from './errors.js';

/** A finite number from a flag's text (undefined when the flag was not given), or a UserError naming the flag. */
export function numberFlag(name: string, text: string | undefined): number | undefined {
  if (text === undefined) return undefined;
  const x = Number(text);
  if (!Number.isFinite(x) || text.trim() === '') {
    throw new UserError(`--${name} must be a number, got "${text}"`, {code: 'E_FLAG',
      fix: `pass a number to --${name}`});
  }
  return x;
}

/** Like numberFlag, but the number must be > 0. */
export function positiveFlag(name: string, text: string | undefined, fix?: string): number | undefined {
  const x = numberFlag(name, text);
  if (x !== undefined && !(x > 0)) {
    throw new UserError(`--${name} must be a positive number, got "${text}"`, {code: 'E_FLAG',
      fix: fix ?? `pass a number above 0 to --${name}`});
  }
  return x;
}
