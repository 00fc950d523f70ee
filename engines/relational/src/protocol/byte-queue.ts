// The bytes received but not yet consumed by a frame parser. Storage grows only with bytes that
// actually arrived (at most twice what is held), never with a length a peer declares. A region
// handed out through `view` is never written again, so views stay valid while the caller holds them.

const EMPTY: Buffer = Buffer.alloc(0);

export class ByteQueue {
  /** The backing store; pending bytes are `buf[start..end)`. */
  buf: Buffer = EMPTY;
  start = 0;
  end = 0;

  get length(): number {
    return this.end - this.start;
  }

  /** Bytes of storage currently held (for tests and metrics). */
  get capacity(): number {
    return this.buf.length;
  }

  push(chunk: Uint8Array): void {
    if (chunk.length === 0) return;
    const bytes = Buffer.isBuffer(chunk) ? chunk : Buffer.from(chunk.buffer, chunk.byteOffset, chunk.length);
    const pending = this.end - this.start;
    if (pending === 0) {
      this.buf = bytes;
      this.start = 0;
      this.end = bytes.length;
      return;
    }
    const needed = pending + bytes.length;
    // Spare room exists only in storage allocated below; a caller's chunk is always full.
    if (this.end + bytes.length <= this.buf.length) {
      bytes.copy(this.buf, this.end);
      this.end += bytes.length;
      return;
    }
    // A fresh buffer, never the old one compacted in place: earlier views may still point into it.
    const grown = Buffer.allocUnsafe(Math.max(needed, pending * 2));
    this.buf.copy(grown, 0, this.start, this.end);
    bytes.copy(grown, pending);
    this.buf = grown;
    this.start = 0;
    this.end = needed;
  }

  /** Marks `n` pending bytes consumed; storage is released once nothing is pending. */
  consume(n: number): void {
    this.start += n;
    if (this.start >= this.end) this.clear();
  }

  clear(): void {
    this.buf = EMPTY;
    this.start = 0;
    this.end = 0;
  }
}
