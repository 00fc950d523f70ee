// Reads the fields of one message body, `buf[pos..end)`. Every read is bounds-checked against the
// body, not the buffer, so a field can never run into the next message.

import { ProtocolInvalidUtf8, ProtocolMalformedMessage } from '../errors.js';

// ignoreBOM keeps a leading U+FEFF as a character instead of silently dropping it.
const utf8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });

export function decodeUtf8(bytes: Uint8Array): string {
  try {
    return utf8.decode(bytes);
  } catch {
    throw new ProtocolInvalidUtf8('invalid byte sequence for encoding "UTF8"');
  }
}

export class BufferReader {
  constructor(
    private readonly buf: Buffer,
    public pos: number,
    private readonly end: number,
    /** The message's name, for error messages. */
    private readonly what: string,
  ) {}

  get remaining(): number {
    return this.end - this.pos;
  }

  private need(n: number): void {
    if (n > this.end - this.pos) throw new ProtocolMalformedMessage(`${this.what} message is truncated`);
  }

  byte(): number {
    this.need(1);
    return this.buf[this.pos++]!;
  }

  int16(): number {
    this.need(2);
    const v = this.buf.readInt16BE(this.pos);
    this.pos += 2;
    return v;
  }

  uint16(): number {
    this.need(2);
    const v = this.buf.readUInt16BE(this.pos);
    this.pos += 2;
    return v;
  }

  int32(): number {
    this.need(4);
    const v = this.buf.readInt32BE(this.pos);
    this.pos += 4;
    return v;
  }

  uint32(): number {
    this.need(4);
    const v = this.buf.readUInt32BE(this.pos);
    this.pos += 4;
    return v;
  }

  /** A NUL-terminated UTF-8 string; the terminator must lie inside the body. */
  cstring(): string {
    const nul = this.buf.subarray(this.pos, this.end).indexOf(0);
    if (nul === -1) throw new ProtocolMalformedMessage(`${this.what} message has an unterminated string`);
    const s = decodeUtf8(this.buf.subarray(this.pos, this.pos + nul));
    this.pos += nul + 1;
    return s;
  }

  /** `n` raw bytes, as a view (no copy). */
  bytes(n: number): Buffer {
    this.need(n);
    const v = this.buf.subarray(this.pos, this.pos + n);
    this.pos += n;
    return v;
  }

  /** The rest of the body, as a view (no copy). */
  rest(): Buffer {
    const v = this.buf.subarray(this.pos, this.end);
    this.pos = this.end;
    return v;
  }

  /** Fails when a count would need more bytes than remain, before anything is allocated for it. */
  checkCount(count: number, bytesEach: number): void {
    if (count * bytesEach > this.end - this.pos) {
      throw new ProtocolMalformedMessage(`${this.what} message declares more items than it holds`);
    }
  }

  /** Every message must be consumed exactly; trailing bytes are a framing error. */
  done(): void {
    if (this.pos !== this.end) throw new ProtocolMalformedMessage(`${this.what} message has trailing bytes`);
  }
}
