/**
 * Reading JSON input from a file or stdin (`-`), with errors that name the file and the
 * position. Large result files are read as streams: a top-level array through stream-json,
 * JSON Lines line by line.
 */
import {createReadStream} from 'node:fs';
import {readFile, stat, open} from 'node:fs/promises';
import {createInterface} from 'node:readline';
import {Readable} from 'node:stream';
import {UserError} from '../cli/errors.js';

/** Whole text of a file, or of stdin for `-`. */
export async function readText(file: string): Promise<string> {
  if (file === '-') {
    const chunks: Buffer[] = [];
    for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
    return Buffer.concat(chunks).toString('utf8');
  }
  try {
    return await readFile(file, 'utf8');
  } catch (err) {
    throw notReadable(file, err);
  }
}

function notReadable(file: string, err: unknown): UserError {
  const code = (err as NodeJS.ErrnoException).code;
  const why =
    code === 'ENOENT' ? 'no such file' : code === 'EISDIR' ? 'is a directory' : String((err as Error).message);
  return new UserError(`cannot read: ${why}`, {code: 'E_READ', file, fix: 'check the path'});
}

/** Parses JSON text, turning a syntax error into a UserError with line and column. */
export function parseJson(text: string, file: string): unknown {
  try {
    return JSON.parse(text);
  } catch (err) {
    const msg = (err as Error).message;
    const pos = /position (\d+)/.exec(msg);
    let record = `byte offset ${Buffer.byteLength(text)} (end of input: the JSON is cut short)`;
    if (pos) {
      const offset = Number(pos[1]);
      const before = text.slice(0, offset);
      const line = before.split('\n').length;
      record = `byte offset ${Buffer.byteLength(before)} (line ${line}, column ${offset - before.lastIndexOf('\n')})`;
    }
    throw new UserError(`invalid JSON: ${msg}`, {code: 'E_JSON', file, record, fix: 'fix the JSON syntax'});
  }
}

/** Reads and parses a whole JSON file (or stdin). */
export async function readJson(file: string): Promise<unknown> {
  return parseJson(await readText(file), file);
}

/** One record of a stream of records, with where it came from (for error messages). */
export interface SourcedRecord {
  value: unknown;
  /** 0-based index among the records. */
  index: number;
  /** 1-based line for JSON Lines, undefined for arrays. */
  line?: number;
  /** JSON Lines: the record's text as read (without the newline), to copy it out unchanged. */
  text?: string;
}

/** Describes a record's place for messages: `record 12` or `line 13`. */
export function recordLabel(r: SourcedRecord): string {
  return r.line !== undefined ? `line ${r.line}` : `record ${r.index}`;
}

const SMALL_ARRAY_BYTES = 256 * 1024 * 1024;

/** The first non-whitespace character of the input, and how to stream all of it (opened only if needed). */
interface Peeked {
  first: string;
  open: () => Readable;
}

async function peek(file: string): Promise<Peeked> {
  if (file !== '-') {
    const fh = await open(file, 'r').catch((err) => {
      throw notReadable(file, err);
    });
    try {
      const buf = Buffer.alloc(4096);
      let pos = 0;
      for (;;) {
        const {bytesRead} = await fh.read(buf, 0, buf.length, pos);
        if (bytesRead === 0) return {first: '', open: () => createReadStream(file)};
        const s = buf
          .subarray(0, bytesRead)
          .toString('utf8')
          .replace(/^\uFEFF/, '')
          .trimStart();
        if (s) return {first: s[0], open: () => createReadStream(file)};
        pos += bytesRead;
      }
    } finally {
      await fh.close();
    }
  }
  return peekStdin();
}

/**
 * Reads stdin just far enough to see its first non-whitespace character, then puts what it
 * read back (unshift), so the caller streams stdin from its start. (Leaving a `for await`
 * loop early would destroy stdin.)
 */
async function peekStdin(): Promise<Peeked> {
  const stdin = process.stdin;
  const head: Buffer[] = [];
  for (;;) {
    const chunk = stdin.read() as Buffer | null;
    if (chunk !== null) {
      head.push(chunk);
      const s = Buffer.concat(head)
        .toString('utf8')
        .replace(/^\uFEFF/, '')
        .trimStart();
      if (s) {
        stdin.unshift(Buffer.concat(head));
        return {first: s[0], open: () => stdin};
      }
      continue;
    }
    if (stdin.readableEnded) return {first: '', open: () => Readable.from([])};
    await new Promise<void>((resolve) => {
      const done = () => {
        stdin.off('readable', done);
        stdin.off('end', done);
        resolve();
      };
      stdin.on('readable', done);
      stdin.on('end', done);
    });
  }
}

/** The detected layout of a records input. */
export type RecordsFormat = 'array' | 'jsonl';

/**
 * Streams records from a JSON array or JSON Lines (detected from the first character),
 * from a file or stdin. Calls `onFormat` once before the first record.
 */
export async function* readRecords(file: string, onFormat?: (f: RecordsFormat) => void): AsyncGenerator<SourcedRecord> {
  const {first, open: openInput} = await peek(file);
  if (first === '') {
    onFormat?.('jsonl');
    return;
  }
  if (first === '[') {
    onFormat?.('array');
    if (file !== '-' && (await stat(file)).size <= SMALL_ARRAY_BYTES) {
      const all = parseJson(await readText(file), file);
      if (!Array.isArray(all)) throw new UserError('expected a JSON array of records', {code: 'E_SHAPE', file});
      for (let i = 0; i < all.length; i++) yield {value: all[i], index: i};
      return;
    }
    yield* streamArrayRecords(openInput(), file);
    return;
  }
  onFormat?.('jsonl');
  const lines = createInterface({input: openInput(), crlfDelay: Infinity});
  let line = 0,
    index = 0;
  for await (const text of lines) {
    line++;
    const t = line === 1 ? text.replace(/^\uFEFF/, '') : text;
    if (t.trim() === '') continue;
    let value: unknown;
    try {
      value = JSON.parse(t);
    } catch (err) {
      throw new UserError(`invalid JSON: ${(err as Error).message}`, {
        code: 'E_JSON',
        file,
        record: `line ${line}`,
        fix: 'each line must hold one complete JSON object',
      });
    }
    yield {value, index: index++, line, text: t};
  }
}

async function* streamArrayRecords(stream: Readable, file: string): AsyncGenerator<SourcedRecord> {
  const [{parser}, {streamArray}, {chain}] = await Promise.all([
    import('stream-json'),
    import('stream-json/streamers/stream-array.js'),
    import('stream-chain'),
  ]);
  const pipeline = chain([stream, parser(), streamArray()]);
  let index = 0;
  try {
    for await (const item of pipeline as AsyncIterable<{key: number; value: unknown}>) {
      yield {value: item.value, index: index++};
    }
  } catch (err) {
    throw new UserError(`invalid JSON after record ${index}: ${(err as Error).message}`, {
      code: 'E_JSON',
      file,
      record: `record ${index}`,
      fix: 'fix the JSON syntax',
    });
  }
}
