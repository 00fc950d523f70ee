// The relational engine's error registry. Every failure the engine can report is one subclass here
// with a stable code (never reused), `WK_REL_<AREA>_<NAME>`, and, where a client can see it, the
// SQLSTATE PostgreSQL itself would send. Only `expose: true` errors may have their message sent to
// a client (see the kernel's `publicError`).
//
// Sections are owned by the module named in their heading; add new classes inside your section.

import { WeftKitError } from '@weftkit/kernel';

/** Base of every error the relational engine raises. */
export abstract class RelationalError extends WeftKitError {}

// ---------------------------------------------------------------------------------------------
// protocol (src/protocol)

/** A frame's length header is impossible: below 4 (typed) or outside 8..10000 (startup packet). */
export class ProtocolInvalidLength extends RelationalError {
  readonly code = 'WK_REL_PROTOCOL_INVALID_LENGTH';
  override readonly sqlstate = '08P01';
  override readonly httpStatus = 400;
  override readonly expose = true;
}
/** A frame's length header exceeds the limit for its message type; raised before the body is buffered. */
export class ProtocolMessageTooLarge extends RelationalError {
  readonly code = 'WK_REL_PROTOCOL_MESSAGE_TOO_LARGE';
  override readonly sqlstate = '08P01';
  override readonly httpStatus = 413;
  override readonly expose = true;
}
/** A message type byte is unknown, or not allowed in the connection's current phase. */
export class ProtocolUnexpectedMessage extends RelationalError {
  readonly code = 'WK_REL_PROTOCOL_UNEXPECTED_MESSAGE';
  override readonly sqlstate = '08P01';
  override readonly httpStatus = 400;
  override readonly expose = true;
}
/** A message body does not match its format (unterminated string, count past the end, trailing bytes...). */
export class ProtocolMalformedMessage extends RelationalError {
  readonly code = 'WK_REL_PROTOCOL_MALFORMED_MESSAGE';
  override readonly sqlstate = '08P01';
  override readonly httpStatus = 400;
  override readonly expose = true;
}
/** A Bind or FunctionCall format code is neither 0 (text) nor 1 (binary). */
export class ProtocolInvalidFormatCode extends RelationalError {
  readonly code = 'WK_REL_PROTOCOL_INVALID_FORMAT_CODE';
  override readonly sqlstate = '22023';
  override readonly httpStatus = 400;
  override readonly expose = true;
}
/** A string in a frontend message is not valid UTF-8. */
export class ProtocolInvalidUtf8 extends RelationalError {
  readonly code = 'WK_REL_PROTOCOL_INVALID_UTF8';
  override readonly sqlstate = '22021';
  override readonly httpStatus = 400;
  override readonly expose = true;
}
/** Bytes arrived behind an SSLRequest/GSSENCRequest before the answer: unencrypted, possibly injected. */
export class ProtocolUnencryptedData extends RelationalError {
  readonly code = 'WK_REL_PROTOCOL_UNENCRYPTED_DATA';
  override readonly sqlstate = '08P01';
  override readonly httpStatus = 400;
  override readonly expose = true;
}
/** A StartupMessage has no `user` parameter, or an empty one. */
export class ProtocolStartupNoUser extends RelationalError {
  readonly code = 'WK_REL_PROTOCOL_STARTUP_NO_USER';
  override readonly sqlstate = '28000';
  override readonly httpStatus = 401;
  override readonly expose = true;
}
/** The codec was used outside its contract: options out of range, or a phase change at the wrong time. */
export class ProtocolCodecMisuse extends RelationalError {
  readonly code = 'WK_REL_PROTOCOL_CODEC_MISUSE';
}
/** Backend protocol bytes from the executor (PGlite) cannot be framed or read. */
export class ProtocolBackendMalformed extends RelationalError {
  readonly code = 'WK_REL_PROTOCOL_BACKEND_MALFORMED';
}
