// Splits backend protocol bytes from the executor (PGlite) into frames and reads the few messages
// the engine must understand; every other frame is relayed to the client as it is (`raw`).

import { ProtocolBackendMalformed, RelationalError } from '../errors.js';
import { BackendCode } from './backend-codes.js';
import type { TransactionStatus } from './backend-serializer.js';
import { BufferReader } from './buffer-reader.js';
import { ByteQueue } from './byte-queue.js';

export interface BackendFrame {
  /** The type byte (see BackendCode). */
  readonly code: number;
  /** The body, without type and length. A view into received bytes. */
  readonly body: Buffer;
  /** The whole frame, header included, ready to relay. A view into received bytes. */
  readonly raw: Buffer;
}

/** Incremental: push chunks, take frames with `next()` until it returns undefined. */
export class BackendFrameSplitter {
  private readonly queue = new ByteQueue();

  get bufferedBytes(): number {
    return this.queue.length;
  }

  push(chunk: Uint8Array): void {
    this.queue.push(chunk);
  }

  next(): BackendFrame | undefined {
    const q = this.queue;
    if (q.length < 5) return undefined;
    const len = q.buf.readInt32BE(q.start + 1);
    if (len < 4) throw new ProtocolBackendMalformed(`backend message length ${len}`);
    if (q.length < 1 + len) return undefined;
    const code = q.buf[q.start]!;
    const raw = q.buf.subarray(q.start, q.start + 1 + len);
    q.consume(1 + len);
    return { code, body: raw.subarray(5), raw };
  }
}

/** Every frame of a complete backend response; a trailing partial frame is an error. */
export function splitBackendFrames(bytes: Uint8Array): BackendFrame[] {
  const splitter = new BackendFrameSplitter();
  splitter.push(bytes);
  const frames: BackendFrame[] = [];
  for (let f = splitter.next(); f !== undefined; f = splitter.next()) frames.push(f);
  if (splitter.bufferedBytes > 0) throw new ProtocolBackendMalformed('backend response ends inside a message');
  return frames;
}

function read<T>(frame: BackendFrame, expected: BackendCode, what: string, fn: (r: BufferReader) => T): T {
  if (frame.code !== expected) throw new ProtocolBackendMalformed(`expected ${what}, got message type ${frame.code}`);
  try {
    const r = new BufferReader(frame.body, 0, frame.body.length, what);
    const value = fn(r);
    r.done();
    return value;
  } catch (err) {
    if (err instanceof ProtocolBackendMalformed) throw err;
    const detail = err instanceof RelationalError ? err.code : 'unreadable';
    throw new ProtocolBackendMalformed(`malformed backend ${what} (${detail})`, { cause: err });
  }
}

export function readReadyForQuery(frame: BackendFrame): TransactionStatus {
  return read(frame, BackendCode.ReadyForQuery, 'ReadyForQuery', (r) => {
    const s = r.byte();
    if (s === 0x49) return 'I';
    if (s === 0x54) return 'T';
    if (s === 0x45) return 'E';
    throw new ProtocolBackendMalformed(`unknown transaction status ${s}`);
  });
}

export function readCommandComplete(frame: BackendFrame): string {
  return read(frame, BackendCode.CommandComplete, 'CommandComplete', (r) => r.cstring());
}

export function readParameterStatus(frame: BackendFrame): { readonly name: string; readonly value: string } {
  return read(frame, BackendCode.ParameterStatus, 'ParameterStatus', (r) => {
    const name = r.cstring();
    return { name, value: r.cstring() };
  });
}

/** The columns of a backend DataRow as text (null for SQL NULL); text-format results only. */
export function readDataRow(frame: BackendFrame): (string | null)[] {
  return read(frame, BackendCode.DataRow, 'DataRow', (r) => {
    const n = r.int16();
    const row: (string | null)[] = [];
    for (let i = 0; i < n; i++) {
      const len = r.int32();
      row.push(len < 0 ? null : r.bytes(len).toString('utf8'));
    }
    return row;
  });
}

/** Fields of a backend ErrorResponse or NoticeResponse, as sent (all text). */
export interface BackendErrorFields {
  /** The non-localized severity (V) when present, else S. */
  readonly severity: string;
  readonly code: string;
  readonly message: string;
  readonly detail?: string;
  readonly hint?: string;
  readonly position?: string;
  readonly internalPosition?: string;
  readonly internalQuery?: string;
  readonly where?: string;
  readonly schema?: string;
  readonly table?: string;
  readonly column?: string;
  readonly dataType?: string;
  readonly constraint?: string;
  readonly file?: string;
  readonly line?: string;
  readonly routine?: string;
}

const FIELD_NAMES: Readonly<Record<string, keyof BackendErrorFields>> = {
  C: 'code',
  M: 'message',
  D: 'detail',
  H: 'hint',
  P: 'position',
  p: 'internalPosition',
  q: 'internalQuery',
  W: 'where',
  s: 'schema',
  t: 'table',
  c: 'column',
  d: 'dataType',
  n: 'constraint',
  F: 'file',
  L: 'line',
  R: 'routine',
};

/** Reads an ErrorResponse ('E') or NoticeResponse ('N'); unknown field types are skipped. */
export function readErrorFields(frame: BackendFrame): BackendErrorFields {
  const expected = frame.code === BackendCode.NoticeResponse ? BackendCode.NoticeResponse : BackendCode.ErrorResponse;
  return read(frame, expected, 'ErrorResponse', (r) => {
    const out: Record<string, string> = { severity: '', code: '', message: '' };
    let localized = '';
    let severity = '';
    for (let tag = r.byte(); tag !== 0; tag = r.byte()) {
      const value = r.cstring();
      const letter = String.fromCharCode(tag);
      if (letter === 'S') localized = value;
      else if (letter === 'V') severity = value;
      else {
        const name = FIELD_NAMES[letter];
        if (name !== undefined) out[name] = value;
      }
    }
    out['severity'] = severity || localized;
    return out as unknown as BackendErrorFields;
  });
}
