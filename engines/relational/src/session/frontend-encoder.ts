// Re-encodes parsed frontend messages into one buffer for the tenant's backend. The session layer
// forwards what it parsed (never raw client bytes), so a later layer can inspect, rewrite or refuse
// any message before the executor sees it.
import type { TypedFrontendMessage } from '../protocol/index.js';

export class FrontendBatch {
  #buf: Buffer;
  #pos = 0;
  /** Messages in the batch. */
  count = 0;

  constructor(initialBytes = 256) {
    this.#buf = Buffer.allocUnsafe(initialBytes);
  }

  get byteLength(): number {
    return this.#pos;
  }

  /**
   * The encoded messages, handed over: the batch starts empty on fresh storage, so the receiver
   * may keep or transfer the bytes.
   */
  take(): Buffer {
    const out = this.#buf.subarray(0, this.#pos);
    this.#buf = Buffer.allocUnsafe(256);
    this.#pos = 0;
    this.count = 0;
    return out;
  }

  /** Drops the messages added so far. */
  reset(): void {
    this.#pos = 0;
    this.count = 0;
    if (this.#buf.length > 1 << 20) this.#buf = Buffer.allocUnsafe(256);
  }

  add(msg: TypedFrontendMessage): this {
    this.count++;
    switch (msg.type) {
      case 'query':
        return this.#begin(0x51).#cstring(msg.sql).#end();
      case 'parse': {
        this.#begin(0x50).#cstring(msg.name).#cstring(msg.sql).#int16(msg.paramTypes.length);
        for (const oid of msg.paramTypes) this.#uint32(oid);
        return this.#end();
      }
      case 'bind': {
        this.#begin(0x42).#cstring(msg.portal).#cstring(msg.statement).#int16(msg.paramFormats.length);
        for (const f of msg.paramFormats) this.#int16(f);
        this.#int16(msg.params.length);
        for (const p of msg.params) {
          if (p === null) this.#int32(-1);
          else this.#int32(p.length).#bytes(p);
        }
        this.#int16(msg.resultFormats.length);
        for (const f of msg.resultFormats) this.#int16(f);
        return this.#end();
      }
      case 'describe':
        return this.#begin(0x44).#byte(msg.target.charCodeAt(0)).#cstring(msg.name).#end();
      case 'close':
        return this.#begin(0x43).#byte(msg.target.charCodeAt(0)).#cstring(msg.name).#end();
      case 'execute':
        return this.#begin(0x45).#cstring(msg.portal).#int32(msg.maxRows).#end();
      case 'sync':
        return this.#begin(0x53).#end();
      case 'flush':
        return this.#begin(0x48).#end();
      case 'copyData':
        return this.#begin(0x64).#bytes(msg.data).#end();
      case 'copyDone':
        return this.#begin(0x63).#end();
      case 'copyFail':
        return this.#begin(0x66).#cstring(msg.message).#end();
      default:
        // Terminate, password and fastpath calls are handled by the session, never forwarded.
        throw new TypeError(`message ${msg.type} is not forwarded`);
    }
  }

  #start = 0;

  #ensure(n: number): void {
    if (this.#pos + n <= this.#buf.length) return;
    const grown = Buffer.allocUnsafe(Math.max(this.#buf.length * 2, this.#pos + n));
    this.#buf.copy(grown, 0, 0, this.#pos);
    this.#buf = grown;
  }

  #begin(code: number): this {
    this.#ensure(5);
    this.#start = this.#pos;
    this.#buf[this.#pos] = code;
    this.#pos += 5;
    return this;
  }

  #end(): this {
    this.#buf.writeInt32BE(this.#pos - this.#start - 1, this.#start + 1);
    return this;
  }

  #byte(v: number): this {
    this.#ensure(1);
    this.#buf[this.#pos++] = v;
    return this;
  }

  #int16(v: number): this {
    this.#ensure(2);
    this.#buf.writeUInt16BE(v & 0xffff, this.#pos);
    this.#pos += 2;
    return this;
  }

  #int32(v: number): this {
    this.#ensure(4);
    this.#buf.writeInt32BE(v | 0, this.#pos);
    this.#pos += 4;
    return this;
  }

  #uint32(v: number): this {
    this.#ensure(4);
    this.#buf.writeUInt32BE(v >>> 0, this.#pos);
    this.#pos += 4;
    return this;
  }

  /** Parsed strings never hold NUL (the parser ends them there); one here would shift every later field. */
  #cstring(s: string): this {
    const n = Buffer.byteLength(s);
    this.#ensure(n + 1);
    this.#buf.write(s, this.#pos, 'utf8');
    this.#pos += n;
    this.#buf[this.#pos++] = 0;
    return this;
  }

  #bytes(b: Uint8Array): this {
    this.#ensure(b.length);
    this.#buf.set(b, this.#pos);
    this.#pos += b.length;
    return this;
  }
}
