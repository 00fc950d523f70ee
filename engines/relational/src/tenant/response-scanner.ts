// Follows backend message framing across streamed chunks to learn two things without parsing
// everything: the status byte of the last ReadyForQuery, and whether PostgreSQL reported PANIC or
// FATAL (after a PANIC, e.g. a failed WAL write, the next call spins forever: measured).
import type { TransactionStatus } from './tenant-backend.js';

const HEAD = 5;
const ERROR_PREFIX = 24;
const Z = 0x5a;
const E = 0x45;

export class ResponseScanner {
  status: TransactionStatus | null = null;
  fatal = false;
  readonly #head = Buffer.alloc(HEAD);
  #headLen = 0;
  #type = 0;
  #left = 0;
  readonly #err = Buffer.alloc(ERROR_PREFIX);
  #errLen = 0;

  reset(): void {
    this.status = null;
    this.fatal = false;
    this.#headLen = 0;
    this.#left = 0;
  }

  push(chunk: Uint8Array): void {
    let at = 0;
    while (at < chunk.length) {
      if (this.#left === 0 && this.#headLen < HEAD) {
        const n = Math.min(HEAD - this.#headLen, chunk.length - at);
        this.#head.set(chunk.subarray(at, at + n), this.#headLen);
        this.#headLen += n;
        at += n;
        if (this.#headLen < HEAD) return;
        this.#type = this.#head[0]!;
        this.#left = Math.max(0, this.#head.readInt32BE(1) - 4);
        this.#errLen = 0;
        if (this.#left === 0) this.#headLen = 0;
        continue;
      }
      const n = Math.min(this.#left, chunk.length - at);
      if (this.#type === Z && n > 0) {
        const s = String.fromCharCode(chunk[at]!);
        if (s === 'I' || s === 'T' || s === 'E') this.status = s;
      } else if (this.#type === E && this.#errLen < ERROR_PREFIX) {
        const take = Math.min(n, ERROR_PREFIX - this.#errLen);
        this.#err.set(chunk.subarray(at, at + take), this.#errLen);
        this.#errLen += take;
      }
      at += n;
      this.#left -= n;
      if (this.#left === 0) {
        if (this.#type === E) this.#checkSeverity();
        this.#headLen = 0;
      }
    }
  }

  // PostgreSQL sends severity first: 'S' (localized) then 'V' (never localized).
  #checkSeverity(): void {
    const text = this.#err.toString('latin1', 0, this.#errLen);
    if (/(^|\0)[SV](PANIC|FATAL)\0/.test(text)) this.fatal = true;
  }
}
