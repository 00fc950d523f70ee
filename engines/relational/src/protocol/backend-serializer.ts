// Backend (server → client) messages the server produces itself; everything else is relayed from
// the executor. Pure functions returning Buffers. Fixed messages are shared constants: never mutate
// a returned Buffer.

import { BackendCode } from './backend-codes.js';
import { BufferWriter } from './buffer-writer.js';

// biome-ignore lint/suspicious/noConstEnum: file-local, so it is inlined; never exported
const enum AuthCode {
  Ok = 0,
  CleartextPassword = 3,
  SASL = 10,
  SASLContinue = 11,
  SASLFinal = 12,
}

/** ReadyForQuery status: idle, in a transaction block, in a failed transaction block. */
export type TransactionStatus = 'I' | 'T' | 'E';

export type Severity = 'ERROR' | 'FATAL' | 'PANIC' | 'WARNING' | 'NOTICE' | 'DEBUG' | 'INFO' | 'LOG';

/** Fields of an ErrorResponse or NoticeResponse; names follow pg-protocol's DatabaseError. */
export interface ErrorFields {
  readonly severity: Severity;
  /** SQLSTATE, five characters of [0-9A-Z]; anything else is sent as XX000. */
  readonly code: string;
  readonly message: string;
  readonly detail?: string;
  readonly hint?: string;
  /** 1-based character position in the query string. */
  readonly position?: number;
  readonly internalPosition?: number;
  readonly internalQuery?: string;
  readonly where?: string;
  readonly schema?: string;
  readonly table?: string;
  readonly column?: string;
  readonly dataType?: string;
  readonly constraint?: string;
  readonly file?: string;
  readonly line?: number;
  readonly routine?: string;
}

/** One column of a RowDescription. */
export interface FieldDescription {
  readonly name: string;
  readonly tableOid?: number;
  readonly columnNumber?: number;
  readonly typeOid: number;
  /** pg_type.typlen: -1 variable, -2 NUL-terminated. */
  readonly typeSize: number;
  readonly typeModifier?: number;
  readonly format?: 0 | 1;
}

function fixed(code: number, body: readonly number[] = []): Buffer {
  const w = new BufferWriter(body.length);
  for (const b of body) w.byte(b);
  return w.frame(code);
}

const AUTH_OK = fixed(BackendCode.Authentication, [0, 0, 0, AuthCode.Ok]);
const AUTH_CLEARTEXT = fixed(BackendCode.Authentication, [0, 0, 0, AuthCode.CleartextPassword]);
const READY_IDLE = fixed(BackendCode.ReadyForQuery, [0x49]);
const READY_IN_TRANSACTION = fixed(BackendCode.ReadyForQuery, [0x54]);
const READY_FAILED = fixed(BackendCode.ReadyForQuery, [0x45]);
const EMPTY_QUERY = fixed(BackendCode.EmptyQueryResponse);
const PARSE_COMPLETE = fixed(BackendCode.ParseComplete);
const BIND_COMPLETE = fixed(BackendCode.BindComplete);
const CLOSE_COMPLETE = fixed(BackendCode.CloseComplete);
const NO_DATA = fixed(BackendCode.NoData);
const SSL_ACCEPTED = Buffer.from('S');
const ENCRYPTION_REFUSED = Buffer.from('N');

export function authenticationOk(): Buffer {
  return AUTH_OK;
}

export function authenticationCleartextPassword(): Buffer {
  return AUTH_CLEARTEXT;
}

export function authenticationSASL(mechanisms: readonly string[]): Buffer {
  const w = new BufferWriter().int32(AuthCode.SASL);
  for (const m of mechanisms) w.cstring(m);
  return w.byte(0).frame(BackendCode.Authentication);
}

/** `data` is the server-first-message. */
export function authenticationSASLContinue(data: Uint8Array | string): Buffer {
  return saslData(AuthCode.SASLContinue, data);
}

/** `data` is the server-final-message. */
export function authenticationSASLFinal(data: Uint8Array | string): Buffer {
  return saslData(AuthCode.SASLFinal, data);
}

function saslData(kind: AuthCode, data: Uint8Array | string): Buffer {
  const w = new BufferWriter().int32(kind);
  if (typeof data === 'string') w.string(data);
  else w.bytes(data);
  return w.frame(BackendCode.Authentication);
}

export function parameterStatus(name: string, value: string): Buffer {
  return new BufferWriter().cstring(name).cstring(value).frame(BackendCode.ParameterStatus);
}

export function backendKeyData(processId: number, secretKey: number): Buffer {
  return new BufferWriter(8).int32(processId).int32(secretKey).frame(BackendCode.BackendKeyData);
}

export function readyForQuery(status: TransactionStatus): Buffer {
  if (status === 'T') return READY_IN_TRANSACTION;
  return status === 'E' ? READY_FAILED : READY_IDLE;
}

const SQLSTATE = /^[0-9A-Z]{5}$/;

function errorOrNotice(code: number, f: ErrorFields): Buffer {
  const w = new BufferWriter(128);
  const field = (tag: string, value: string | number | undefined): void => {
    if (value !== undefined) w.byte(tag.charCodeAt(0)).cstring(String(value));
  };
  field('S', f.severity);
  field('V', f.severity);
  field('C', SQLSTATE.test(f.code) ? f.code : 'XX000');
  field('M', f.message);
  field('D', f.detail);
  field('H', f.hint);
  field('P', f.position);
  field('p', f.internalPosition);
  field('q', f.internalQuery);
  field('W', f.where);
  field('s', f.schema);
  field('t', f.table);
  field('c', f.column);
  field('d', f.dataType);
  field('n', f.constraint);
  field('F', f.file);
  field('L', f.line);
  field('R', f.routine);
  return w.byte(0).frame(code);
}

export function errorResponse(fields: ErrorFields): Buffer {
  return errorOrNotice(BackendCode.ErrorResponse, fields);
}

export function noticeResponse(fields: ErrorFields): Buffer {
  return errorOrNotice(BackendCode.NoticeResponse, fields);
}

/** `tag` as PostgreSQL writes it, e.g. `SELECT 1`, `INSERT 0 3`, `SET`. */
export function commandComplete(tag: string): Buffer {
  return new BufferWriter().cstring(tag).frame(BackendCode.CommandComplete);
}

export function emptyQueryResponse(): Buffer {
  return EMPTY_QUERY;
}

export function rowDescription(fields: readonly FieldDescription[]): Buffer {
  const w = new BufferWriter(fields.length * 32).int16(fields.length);
  for (const f of fields) {
    w.cstring(f.name)
      .uint32(f.tableOid ?? 0)
      .int16(f.columnNumber ?? 0)
      .uint32(f.typeOid)
      .int16(f.typeSize)
      .int32(f.typeModifier ?? -1)
      .int16(f.format ?? 0);
  }
  return w.frame(BackendCode.RowDescription);
}

/** Strings are sent as UTF-8 text, byte arrays as they are, `null` as SQL NULL. */
export function dataRow(values: readonly (string | Uint8Array | null)[]): Buffer {
  const w = new BufferWriter(values.length * 16).int16(values.length);
  for (const v of values) {
    if (v === null) w.int32(-1);
    else if (typeof v === 'string') w.int32(Buffer.byteLength(v)).string(v);
    else w.int32(v.length).bytes(v);
  }
  return w.frame(BackendCode.DataRow);
}

export function parseComplete(): Buffer {
  return PARSE_COMPLETE;
}

export function bindComplete(): Buffer {
  return BIND_COMPLETE;
}

export function closeComplete(): Buffer {
  return CLOSE_COMPLETE;
}

export function noData(): Buffer {
  return NO_DATA;
}

export function parameterDescription(typeOids: readonly number[]): Buffer {
  const w = new BufferWriter(2 + typeOids.length * 4).int16(typeOids.length);
  for (const oid of typeOids) w.uint32(oid);
  return w.frame(BackendCode.ParameterDescription);
}

/**
 * The answer to a 3.x StartupMessage with x above what the server speaks, or with `_pq_.*`
 * options: the newest minor version supported and the option names not recognised.
 */
export function negotiateProtocolVersion(newestMinor: number, unrecognizedOptions: readonly string[]): Buffer {
  const w = new BufferWriter().int32(newestMinor).int32(unrecognizedOptions.length);
  for (const name of unrecognizedOptions) w.cstring(name);
  return w.frame(BackendCode.NegotiateProtocolVersion);
}

/** The single-byte answer to an SSLRequest: 'S' (TLS handshake follows) or 'N'. */
export function sslResponse(accept: boolean): Buffer {
  return accept ? SSL_ACCEPTED : ENCRYPTION_REFUSED;
}

/** The single-byte answer to a GSSENCRequest: always 'N' (GSSAPI encryption is not offered). */
export function gssEncResponse(): Buffer {
  return ENCRYPTION_REFUSED;
}
