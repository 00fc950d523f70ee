// Incremental parser of frontend (client → server) messages of PostgreSQL protocol 3.
// https://www.postgresql.org/docs/current/protocol-message-formats.html
//
// A frame's type and length are checked as soon as their bytes arrive, before its body is
// buffered; storage only ever grows with bytes actually received. Every failure is a coded
// RelationalError; after one, the parser refuses further input (the stream is out of sync).

import {
  ProtocolCodecMisuse,
  ProtocolInvalidFormatCode,
  ProtocolInvalidLength,
  ProtocolMalformedMessage,
  ProtocolMessageTooLarge,
  ProtocolStartupNoUser,
  ProtocolUnencryptedData,
  ProtocolUnexpectedMessage,
  RelationalError,
} from '../errors.js';
import { BufferReader } from './buffer-reader.js';
import { ByteQueue } from './byte-queue.js';
import type {
  BindMessage,
  FormatCode,
  FrontendMessage,
  FunctionCallMessage,
  ParseMessage,
  StartupPhaseMessage,
  TargetKind,
  TypedFrontendMessage,
} from './messages.js';

// biome-ignore lint/suspicious/noConstEnum: file-local, so it is inlined; never exported
const enum FrontendCode {
  Bind = 0x42, // B
  Close = 0x43, // C
  Describe = 0x44, // D
  Execute = 0x45, // E
  FunctionCall = 0x46, // F
  Flush = 0x48, // H
  Parse = 0x50, // P
  Query = 0x51, // Q
  Sync = 0x53, // S
  Terminate = 0x58, // X
  CopyDone = 0x63, // c
  CopyData = 0x64, // d
  CopyFail = 0x66, // f
  Password = 0x70, // p
}

// biome-ignore lint/suspicious/noConstEnum: file-local, so it is inlined; never exported
const enum StartupCode {
  CancelRequest = 80877102, // 1234.5678
  SSLRequest = 80877103, // 1234.5679
  GSSEncRequest = 80877104, // 1234.5680
}

export const DEFAULT_MAX_MESSAGE_BYTES: number = 64 * 1024 * 1024;
/** PostgreSQL's MAX_STARTUP_PACKET_LENGTH; a startup packet is also at least length + code. */
const STARTUP_MAX_LENGTH = 10000;
const STARTUP_MIN_LENGTH = 8;
/** PostgreSQL's PQ_SMALL_MESSAGE_LIMIT, for messages that carry only names and counts. */
const SMALL_MESSAGE_LIMIT = 10000;
/** PostgreSQL's PG_MAX_AUTH_TOKEN_LENGTH, for 'p' messages (password, JWT, SASL). */
const AUTH_MESSAGE_LIMIT = 65535;
const MIN_MAX_MESSAGE_BYTES = 1024;
/** PostgreSQL's PQ_LARGE_MESSAGE_LIMIT. */
const MAX_MAX_MESSAGE_BYTES = 0x3fffffff;

export interface FrontendParserOptions {
  /**
   * Largest accepted value of a length header for Query, Parse, Bind, CopyData and FunctionCall
   * (`WEFTKIT_MAX_MESSAGE_BYTES`, default 64 MiB, 1024..2^30-1). Other messages have PostgreSQL's
   * smaller fixed limits (10000 bytes; 65535 for authentication messages), capped by this value.
   */
  readonly maxMessageBytes?: number;
}

/**
 * - `startup`: untyped packets (StartupMessage, SSLRequest, GSSENCRequest, CancelRequest).
 * - `authenticating`: after a StartupMessage; only 'p' (≤ 65535 bytes) and Terminate are accepted.
 * - `ready`: after `authenticated()`; every typed message but 'p'.
 * - `closed`: after Terminate, CancelRequest or an unsupported protocol version; input is discarded.
 * - `failed`: after a protocol error; `next()` throws that error again.
 */
export type FrontendParserPhase = 'startup' | 'authenticating' | 'ready' | 'closed' | 'failed';

export class FrontendParser {
  private readonly queue = new ByteQueue();
  private readonly maxMessageBytes: number;
  private readonly smallLimit: number;
  private readonly authLimit: number;
  private state: FrontendParserPhase = 'startup';
  private error: RelationalError | undefined;
  private sslRequested = false;
  private gssEncRequested = false;

  constructor(options: FrontendParserOptions = {}) {
    const max = options.maxMessageBytes ?? DEFAULT_MAX_MESSAGE_BYTES;
    if (!Number.isInteger(max) || max < MIN_MAX_MESSAGE_BYTES || max > MAX_MAX_MESSAGE_BYTES) {
      throw new ProtocolCodecMisuse(
        `maxMessageBytes must be an integer from ${MIN_MAX_MESSAGE_BYTES} to ${MAX_MAX_MESSAGE_BYTES}`,
      );
    }
    this.maxMessageBytes = max;
    this.smallLimit = Math.min(SMALL_MESSAGE_LIMIT, max);
    this.authLimit = Math.min(AUTH_MESSAGE_LIMIT, max);
  }

  get phase(): FrontendParserPhase {
    return this.state;
  }

  /** Bytes received and not yet returned as messages. */
  get bufferedBytes(): number {
    return this.queue.length;
  }

  /** Bytes of storage the parser holds. */
  get bufferCapacity(): number {
    return this.queue.capacity;
  }

  /** Appends received bytes; call `next()` to take messages out. */
  push(chunk: Uint8Array): void {
    if (this.state === 'closed' || this.state === 'failed') return;
    this.queue.push(chunk);
  }

  /**
   * The next complete message, or `undefined` when more bytes are needed. Throws a coded
   * RelationalError on a protocol violation, before buffering the offending body.
   */
  next(): FrontendMessage | undefined {
    if (this.state === 'failed') throw this.error;
    if (this.state === 'closed') return undefined;
    try {
      return this.state === 'startup' ? this.nextStartup() : this.nextTyped();
    } catch (err) {
      const coded =
        err instanceof RelationalError ? err : new ProtocolMalformedMessage('malformed message', { cause: err });
      this.state = 'failed';
      this.error = coded;
      this.queue.clear();
      throw coded;
    }
  }

  /**
   * `push` then `next` until no message is complete. During authentication take messages one at a
   * time with `next()` instead: messages pipelined behind the password are refused until
   * `authenticated()` is called.
   */
  parse(chunk: Uint8Array, onMessage: (message: FrontendMessage) => void): void {
    this.push(chunk);
    for (let msg = this.next(); msg !== undefined; msg = this.next()) onMessage(msg);
  }

  /** Authentication succeeded: accept queries. Only valid in the `authenticating` phase. */
  authenticated(): void {
    if (this.state !== 'authenticating') {
      throw new ProtocolCodecMisuse(`authenticated() called in phase ${this.state}`);
    }
    this.state = 'ready';
  }

  private nextStartup(): StartupPhaseMessage | undefined {
    const q = this.queue;
    if (q.length < 4) return undefined;
    const len = q.buf.readInt32BE(q.start);
    if (len < STARTUP_MIN_LENGTH || len > STARTUP_MAX_LENGTH) {
      throw new ProtocolInvalidLength(`invalid length of startup packet: ${len}`);
    }
    if (q.length < len) return undefined;
    const msg = this.decodeStartup(q.buf, q.start, len);
    q.consume(len);
    if (msg.type === 'sslRequest' || msg.type === 'gssEncRequest') {
      // Bytes already here were sent before the answer, so before any TLS/GSS handshake.
      if (q.length > 0) throw new ProtocolUnencryptedData('received unencrypted data after encryption request');
    } else if (msg.type === 'startup') {
      this.state = 'authenticating';
    } else {
      this.state = 'closed';
      q.clear();
    }
    return msg;
  }

  private decodeStartup(buf: Buffer, start: number, len: number): StartupPhaseMessage {
    const code = buf.readUInt32BE(start + 4);
    switch (code) {
      case StartupCode.SSLRequest:
        if (len !== 8) throw new ProtocolMalformedMessage('SSLRequest has a wrong length');
        if (this.sslRequested) throw new ProtocolUnexpectedMessage('duplicate SSLRequest');
        this.sslRequested = true;
        return { type: 'sslRequest' };
      case StartupCode.GSSEncRequest:
        if (len !== 8) throw new ProtocolMalformedMessage('GSSENCRequest has a wrong length');
        if (this.gssEncRequested) throw new ProtocolUnexpectedMessage('duplicate GSSENCRequest');
        this.gssEncRequested = true;
        return { type: 'gssEncRequest' };
      case StartupCode.CancelRequest:
        if (len !== 16) throw new ProtocolMalformedMessage('CancelRequest has a wrong length');
        return { type: 'cancelRequest', processId: buf.readInt32BE(start + 8), secretKey: buf.readInt32BE(start + 12) };
    }
    const majorVersion = code >>> 16;
    const minorVersion = code & 0xffff;
    // Another major version's body has another layout (2.0 was fixed-size fields); it is not read.
    if (majorVersion !== 3) return { type: 'unsupportedProtocol', majorVersion, minorVersion };

    const r = new BufferReader(buf, start + 8, start + len, 'startup');
    const parameters = new Map<string, string>();
    const protocolOptions = new Map<string, string>();
    for (let name = r.cstring(); name !== ''; name = r.cstring()) {
      const value = r.cstring();
      const into = name.startsWith('_pq_.') ? protocolOptions : parameters;
      // A repeated name could be read differently by two layers (first wins vs last wins).
      if (into.has(name)) throw new ProtocolMalformedMessage('startup packet repeats a parameter');
      into.set(name, value);
    }
    r.done();
    const user = parameters.get('user');
    if (user === undefined || user === '') {
      throw new ProtocolStartupNoUser('no PostgreSQL user name specified in startup packet');
    }
    return {
      type: 'startup',
      majorVersion: 3,
      minorVersion,
      user,
      database: parameters.get('database'),
      parameters,
      protocolOptions,
    };
  }

  /** The largest length header accepted for `code` in the current phase, or -1 if not accepted. */
  private limitFor(code: number): number {
    if (this.state === 'authenticating') {
      if (code === FrontendCode.Password) return this.authLimit;
      return code === FrontendCode.Terminate ? this.smallLimit : -1;
    }
    switch (code) {
      case FrontendCode.Query:
      case FrontendCode.Parse:
      case FrontendCode.Bind:
      case FrontendCode.CopyData:
      case FrontendCode.FunctionCall:
        return this.maxMessageBytes;
      case FrontendCode.Describe:
      case FrontendCode.Execute:
      case FrontendCode.Close:
      case FrontendCode.Sync:
      case FrontendCode.Flush:
      case FrontendCode.Terminate:
      case FrontendCode.CopyDone:
      case FrontendCode.CopyFail:
        return this.smallLimit;
      default:
        return -1;
    }
  }

  private nextTyped(): TypedFrontendMessage | undefined {
    const q = this.queue;
    if (q.length < 1) return undefined;
    const code = q.buf[q.start]!;
    const limit = this.limitFor(code);
    if (limit < 0) {
      throw new ProtocolUnexpectedMessage(`invalid frontend message type ${code} while ${this.state}`);
    }
    if (q.length < 5) return undefined;
    const len = q.buf.readInt32BE(q.start + 1);
    if (len < 4) throw new ProtocolInvalidLength(`invalid message length ${len}`);
    if (len > limit) throw new ProtocolMessageTooLarge(`message length ${len} exceeds the limit of ${limit}`);
    if (q.length < 1 + len) return undefined;
    const msg = decodeTyped(code, new BufferReader(q.buf, q.start + 5, q.start + 1 + len, String.fromCharCode(code)));
    q.consume(1 + len);
    if (msg.type === 'terminate') {
      this.state = 'closed';
      q.clear();
    }
    return msg;
  }
}

function decodeTyped(code: number, r: BufferReader): TypedFrontendMessage {
  switch (code) {
    case FrontendCode.Query: {
      const sql = r.cstring();
      r.done();
      return { type: 'query', sql };
    }
    case FrontendCode.Parse:
      return decodeParse(r);
    case FrontendCode.Bind:
      return decodeBind(r);
    case FrontendCode.Describe:
    case FrontendCode.Close: {
      const target = readTarget(r);
      const name = r.cstring();
      r.done();
      return { type: code === FrontendCode.Describe ? 'describe' : 'close', target, name };
    }
    case FrontendCode.Execute: {
      const portal = r.cstring();
      const maxRows = r.int32();
      r.done();
      return { type: 'execute', portal, maxRows };
    }
    case FrontendCode.Sync:
      r.done();
      return { type: 'sync' };
    case FrontendCode.Flush:
      r.done();
      return { type: 'flush' };
    case FrontendCode.Terminate:
      r.done();
      return { type: 'terminate' };
    case FrontendCode.CopyDone:
      r.done();
      return { type: 'copyDone' };
    case FrontendCode.CopyData:
      return { type: 'copyData', data: r.rest() };
    case FrontendCode.CopyFail: {
      const message = r.cstring();
      r.done();
      return { type: 'copyFail', message };
    }
    case FrontendCode.FunctionCall:
      return decodeFunctionCall(r);
    default:
      // limitFor admits only the codes above and 'p'.
      return { type: 'password', data: r.rest() };
  }
}

function decodeParse(r: BufferReader): ParseMessage {
  const name = r.cstring();
  const sql = r.cstring();
  const count = r.uint16();
  r.checkCount(count, 4);
  const paramTypes: number[] = new Array(count);
  for (let i = 0; i < count; i++) paramTypes[i] = r.uint32();
  r.done();
  return { type: 'parse', name, sql, paramTypes };
}

function decodeBind(r: BufferReader): BindMessage {
  const portal = r.cstring();
  const statement = r.cstring();
  const paramFormats = readFormats(r);
  const params = readValues(r);
  if (paramFormats.length > 1 && paramFormats.length !== params.length) {
    throw new ProtocolMalformedMessage('bind message has a parameter format count unlike its parameter count');
  }
  const resultFormats = readFormats(r);
  r.done();
  return { type: 'bind', portal, statement, paramFormats, params, resultFormats };
}

function decodeFunctionCall(r: BufferReader): FunctionCallMessage {
  const functionOid = r.uint32();
  const argFormats = readFormats(r);
  const args = readValues(r);
  if (argFormats.length > 1 && argFormats.length !== args.length) {
    throw new ProtocolMalformedMessage('function call message has an argument format count unlike its argument count');
  }
  const resultFormat = toFormat(r.int16());
  r.done();
  return { type: 'functionCall', functionOid, argFormats, args, resultFormat };
}

function readTarget(r: BufferReader): TargetKind {
  const b = r.byte();
  if (b === 0x53) return 'S';
  if (b === 0x50) return 'P';
  throw new ProtocolMalformedMessage('invalid describe/close target');
}

function toFormat(v: number): FormatCode {
  if (v === 0 || v === 1) return v;
  throw new ProtocolInvalidFormatCode(`unsupported format code: ${v}`);
}

function readFormats(r: BufferReader): FormatCode[] {
  const count = r.uint16();
  r.checkCount(count, 2);
  const formats: FormatCode[] = new Array(count);
  for (let i = 0; i < count; i++) formats[i] = toFormat(r.int16());
  return formats;
}

function readValues(r: BufferReader): (Buffer | null)[] {
  const count = r.uint16();
  r.checkCount(count, 4);
  const values: (Buffer | null)[] = new Array(count);
  for (let i = 0; i < count; i++) {
    const len = r.int32();
    if (len === -1) values[i] = null;
    else if (len < 0) throw new ProtocolMalformedMessage(`invalid value length ${len}`);
    else values[i] = r.bytes(len);
  }
  return values;
}
