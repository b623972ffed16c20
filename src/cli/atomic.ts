import {mkdir, rename, rm, writeFile} from 'node:fs/promises';
import {createWriteStream} from 'node:fs';
import {dirname, join, basename} from 'node:path';
import {randomBytes} from 'node:crypto';

/** A temporary path beside `path`, on the same file system so rename is atomic. */
export function tempPathFor(path: string): string {
  return join(dirname(path), `.${basename(path)}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`);
}

/** Writes `data` to `path` through a temporary file and a rename: readers never see half a file. */
export async function writeFileAtomic(path: string, data: string | Uint8Array): Promise<void> {
  await mkdir(dirname(path), {recursive: true});
  const tmp = tempPathFor(path);
  try {
    await writeFile(tmp, data);
    await rename(tmp, path);
  } catch (err) {
    await rm(tmp, {force: true});
    throw err;
  }
}

/**
 * A streaming writer that lands at `path` only on `commit()`; `abort()` (or an error before
 * commit) leaves nothing behind.
 */
export class AtomicWriter {
  private readonly tmp: string;
  private readonly stream;
  private done = false;

  constructor(readonly path: string) {
    this.tmp = tempPathFor(path);
    this.stream = createWriteStream(this.tmp);
  }

  static async open(path: string): Promise<AtomicWriter> {
    await mkdir(dirname(path), {recursive: true});
    return new AtomicWriter(path);
  }

  /** Writes a chunk, waiting for the stream to drain when its buffer is full. */
  async write(chunk: string): Promise<void> {
    if (!this.stream.write(chunk)) await new Promise<void>((r) => this.stream.once('drain', () => r()));
  }

  async commit(): Promise<void> {
    await new Promise<void>((resolve, reject) =>
      this.stream.end((err?: Error | null) => (err ? reject(err) : resolve())));
    await rename(this.tmp, this.path);
    this.done = true;
  }

  async abort(): Promise<void> {
    if (this.done) return;
    this.stream.destroy();
    await rm(this.tmp, {force: true});
    this.done = true;
  }
}
