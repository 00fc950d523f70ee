// Every error becomes `{"error":{"code","message","request_id"}}` with its status. Only errors
// marked `expose` keep their message; anything else is logged with the request id and answered
// generically.
import { AuthLockedOut, publicError, WeftKitError } from '@weftkit/kernel';
import {
  BatchConflict,
  InsufficientStorage,
  InvalidRequest,
  PayloadTooLarge,
  PreconditionFailed,
  UnsupportedMediaType,
} from '../errors.js';
import { OpFailure } from './writes.js';

export interface ErrorReply {
  readonly status: number;
  readonly body: { error: { code: string; message: string; request_id: string; op_index?: number } };
  readonly headers: Readonly<Record<string, string>>;
  /** True when the error is ours to log (not the client's doing). */
  readonly internal: boolean;
}

function isNoSpace(err: unknown): boolean {
  for (let e = err, depth = 0; e !== null && typeof e === 'object' && depth < 5; e = (e as { cause?: unknown }).cause, depth++) {
    const code = (e as { code?: unknown }).code;
    if (code === 'ENOSPC' || code === 'EDQUOT') return true;
  }
  return false;
}

/** Fastify's own client errors, turned into ours. */
function fromFramework(err: { code?: unknown; statusCode?: unknown; validation?: unknown; message: string }): WeftKitError | undefined {
  if (err.validation !== undefined) return new InvalidRequest(err.message);
  switch (err.code) {
    case 'FST_ERR_CTP_BODY_TOO_LARGE':
      return new PayloadTooLarge('request body is larger than allowed');
    case 'FST_ERR_CTP_INVALID_MEDIA_TYPE':
      return new UnsupportedMediaType('unsupported Content-Type; this route takes application/json');
    case 'FST_ERR_CTP_EMPTY_JSON_BODY':
    case 'FST_ERR_CTP_INVALID_CONTENT_LENGTH':
    case 'FST_ERR_CTP_INVALID_JSON_BODY':
      return new InvalidRequest('request body is not valid JSON');
    default:
      break;
  }
  if (err instanceof SyntaxError && (err as { statusCode?: unknown }).statusCode === 400) return new InvalidRequest('request body is not valid JSON');
  if (err.statusCode === 400 && typeof err.code === 'string' && err.code.startsWith('FST_ERR_CTP')) return new InvalidRequest('malformed request body');
  if (err.statusCode === 408) return new InvalidRequest('request timed out');
  return undefined;
}

export function errorReply(raw: unknown, requestId: string, challenge: string): ErrorReply {
  let err = raw;
  let opIndex: number | undefined;
  if (err instanceof OpFailure) {
    opIndex = err.opIndex;
    err = err.cause;
    if (err instanceof PreconditionFailed) err = new BatchConflict(err.message);
  }
  if (!(err instanceof WeftKitError) && err instanceof Error) err = fromFramework(err) ?? err;
  if (isNoSpace(err)) err = new InsufficientStorage('the data volume is full; nothing was written');
  const p = publicError(err);
  const headers: Record<string, string> = {};
  if (p.httpStatus === 401) headers['www-authenticate'] = challenge;
  if (err instanceof AuthLockedOut) headers['retry-after'] = String(err.retryAfterSeconds);
  return {
    status: p.httpStatus,
    body: { error: { code: p.code, message: p.message, request_id: requestId, ...(opIndex === undefined ? {} : { op_index: opIndex }) } },
    headers,
    internal: !p.expose,
  };
}
