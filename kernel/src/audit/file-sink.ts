import type { FileHandle } from 'node:fs/promises';
import { open, rename } from 'node:fs/promises';
import { dirname } from 'node:path';
import { rotatedPath } from './rotated-files.js';

export interface SinkStats {
  writes: number;
  syncs: number;
  rotations: number;
}

/** Where batches of lines go. `writeBatch` resolves only when the lines are durable. */
export interface AuditSink {
  writeBatch(lines: readonly string[]): Promise<void>;
  close(): Promise<void>;
  readonly stats: SinkStats;
}

async function syncDir(dir: string): Promise<void> {
  const fh = await open(dir, 'r');
  try {
    await fh.sync();
  } finally {
    await fh.close();
  }
}

async function writeAll(fh: FileHandle, buf: Buffer): Promise<void> {
  let off = 0;
  while (off < buf.length) {
    const { bytesWritten } = await fh.write(buf, off, buf.length - off, null);
    off += bytesWritten;
  }
}

/** The audit file: append-only (O_APPEND), mode 0600, one write + one fdatasync per batch, size rotation. */
export class FileSink implements AuditSink {
  readonly stats: SinkStats = { writes: 0, syncs: 0, rotations: 0 };
  readonly #path: string;
  readonly #maxBytes: number;
  #fh: FileHandle;
  #size: number;
  #nextRotation: number;

  private constructor(path: string, maxBytes: number, fh: FileHandle, size: number, nextRotation: number) {
    this.#path = path;
    this.#maxBytes = maxBytes;
    this.#fh = fh;
    this.#size = size;
    this.#nextRotation = nextRotation;
  }

  /** Opens (creating with 0600) the file, cut to `keepBytes` first: the tail past it was never acknowledged. */
  static async open(path: string, maxBytes: number, nextRotation: number, keepBytes: number): Promise<FileSink> {
    const fh = await FileSink.#openFile(path);
    try {
      const { size } = await fh.stat();
      if (size > keepBytes) {
        await fh.truncate(keepBytes);
        await fh.datasync();
      }
      return new FileSink(path, maxBytes, fh, Math.min(size, keepBytes), nextRotation);
    } catch (err) {
      await fh.close();
      throw err;
    }
  }

  static async #openFile(path: string): Promise<FileHandle> {
    const fh = await open(path, 'a', 0o600);
    try {
      await fh.chmod(0o600);
      // The new directory entry must be durable before the first event in it is acknowledged.
      await syncDir(dirname(path));
    } catch (err) {
      await fh.close();
      throw err;
    }
    return fh;
  }

  async writeBatch(lines: readonly string[]): Promise<void> {
    let chunk: string[] = [];
    let chunkBytes = 0;
    for (const line of lines) {
      const n = Buffer.byteLength(line, 'utf8');
      if (this.#maxBytes > 0 && this.#size + chunkBytes + n > this.#maxBytes && this.#size + chunkBytes > 0) {
        if (chunkBytes > 0) await this.#write(chunk, chunkBytes);
        chunk = [];
        chunkBytes = 0;
        await this.#rotate();
      }
      chunk.push(line);
      chunkBytes += n;
    }
    if (chunkBytes > 0) await this.#write(chunk, chunkBytes);
    await this.#fh.datasync();
    this.stats.syncs++;
  }

  async #write(lines: readonly string[], bytes: number): Promise<void> {
    const buf = Buffer.from(lines.join(''), 'utf8');
    await writeAll(this.#fh, buf);
    this.#size += bytes;
    this.stats.writes++;
  }

  async #rotate(): Promise<void> {
    await this.#fh.datasync();
    this.stats.syncs++;
    await this.#fh.close();
    await rename(this.#path, rotatedPath(this.#path, this.#nextRotation));
    this.#nextRotation++;
    this.#fh = await FileSink.#openFile(this.#path);
    this.#size = 0;
    this.stats.rotations++;
  }

  async close(): Promise<void> {
    try {
      await this.#fh.datasync();
      this.stats.syncs++;
    } finally {
      await this.#fh.close();
    }
  }
}

/** A stream such as stdout: a batch is acknowledged once the stream has taken it. */
export class StreamSink implements AuditSink {
  readonly stats: SinkStats = { writes: 0, syncs: 0, rotations: 0 };
  readonly #stream: NodeJS.WritableStream;

  constructor(stream: NodeJS.WritableStream) {
    this.#stream = stream;
  }

  writeBatch(lines: readonly string[]): Promise<void> {
    return new Promise((resolve, reject) => {
      this.stats.writes++;
      this.#stream.write(lines.join(''), (err) => (err ? reject(err) : resolve()));
    });
  }

  async close(): Promise<void> {}
}
