// Builds one backend message: a type byte, an int32 length counting itself and the body, the body.

/** Room for the type byte and the length, filled in by `frame`. */
const HEADER = 5;

export class BufferWriter {
  private buf: Buffer;
  private pos = HEADER;

  constructor(bodySize = 64) {
    this.buf = Buffer.allocUnsafe(HEADER + bodySize);
  }

  private ensure(n: number): void {
    if (this.pos + n <= this.buf.length) return;
    const grown = Buffer.allocUnsafe(Math.max(this.buf.length * 2, this.pos + n));
    this.buf.copy(grown, 0, 0, this.pos);
    this.buf = grown;
  }

  byte(v: number): this {
    this.ensure(1);
    this.buf[this.pos++] = v & 0xff;
    return this;
  }

  int16(v: number): this {
    this.ensure(2);
    this.buf.writeUInt16BE(v & 0xffff, this.pos);
    this.pos += 2;
    return this;
  }

  int32(v: number): this {
    this.ensure(4);
    this.buf.writeInt32BE(v | 0, this.pos);
    this.pos += 4;
    return this;
  }

  uint32(v: number): this {
    this.ensure(4);
    this.buf.writeUInt32BE(v >>> 0, this.pos);
    this.pos += 4;
    return this;
  }

  /**
   * A NUL-terminated string. An embedded NUL would end the field early and let the rest be read
   * as further fields, so it is replaced by U+FFFD.
   */
  cstring(s: string): this {
    const safe = s.includes('\0') ? s.replaceAll('\0', '\uFFFD') : s;
    const n = Buffer.byteLength(safe);
    this.ensure(n + 1);
    this.buf.write(safe, this.pos, 'utf8');
    this.pos += n;
    this.buf[this.pos++] = 0;
    return this;
  }

  bytes(b: Uint8Array): this {
    this.ensure(b.length);
    this.buf.set(b, this.pos);
    this.pos += b.length;
    return this;
  }

  /** UTF-8 bytes without a terminator. */
  string(s: string): this {
    const n = Buffer.byteLength(s);
    this.ensure(n);
    this.buf.write(s, this.pos, 'utf8');
    this.pos += n;
    return this;
  }

  /** The finished message with its type byte. */
  frame(code: number): Buffer {
    this.buf[0] = code;
    this.buf.writeInt32BE(this.pos - 1, 1);
    return this.buf.subarray(0, this.pos);
  }
}
