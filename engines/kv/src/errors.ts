// The kv engine's error registry: stable codes with the HTTP status each maps to. Errors marked
// `expose` send their message to the client; everything else is answered generically.
// Sections are owned by the layer named in their heading; add new classes inside your section.
import { WeftKitError } from '@weftkit/kernel';

export abstract class KvError extends WeftKitError {}

// ---------------------------------------------------------------------------------------------
// store (src/store)

/** An `If-Match` / `If-None-Match` precondition failed; `opIndex` says which op of a batch. */
export class PreconditionFailed extends KvError {
  readonly code = 'WK_KV_PRECONDITION_FAILED';
  override readonly httpStatus = 412;
  override readonly expose = true;
  readonly opIndex: number;
  constructor(message: string, opIndex = 0) {
    super(message);
    this.opIndex = opIndex;
  }
}

/** A watch asked to replay from a revision older than the retained change history. */
export class RevisionCompacted extends KvError {
  readonly code = 'WK_KV_REVISION_COMPACTED';
  override readonly httpStatus = 410;
  override readonly expose = true;
}

/** The tenant was crypto-shredded while this engine runs: its data is gone for good. */
export class TenantShredded extends KvError {
  readonly code = 'WK_KV_TENANT_SHREDDED';
  override readonly httpStatus = 410;
  override readonly expose = true;
}

// Disk full is `InsufficientStorage` (http section, 507): the store throws that one.

/** A write failed with an I/O error other than disk full; nothing of it was applied or acknowledged. */
export class StorageWriteFailed extends KvError {
  readonly code = 'WK_KV_STORAGE_WRITE_FAILED';
  override readonly httpStatus = 503;
}

/** A tenant's log fails authentication or is malformed before its tail: the tenant is not opened. */
export class StoreCorrupt extends KvError {
  readonly code = 'WK_KV_STORE_CORRUPT';
  override readonly sqlstate = 'XX001';
}

/** The store (or the tenant) was used after `close()`. */
export class StoreClosed extends KvError {
  readonly code = 'WK_KV_STORE_CLOSED';
  override readonly httpStatus = 503;
  override readonly expose = true;
}

/** A list cursor is not one this store handed out. */
export class InvalidCursor extends KvError {
  readonly code = 'WK_KV_INVALID_CURSOR';
  override readonly httpStatus = 400;
  override readonly expose = true;
}

/** A key or content type the store cannot hold (empty, over 1024 UTF-8 bytes, or not well-formed UTF-16). */
export class InvalidKey extends KvError {
  readonly code = 'WK_KV_INVALID_KEY';
  override readonly httpStatus = 400;
  override readonly expose = true;
}

// ---------------------------------------------------------------------------------------------
// http (src/http)

/** The request carries no credentials the server accepts (answered with `WWW-Authenticate`). */
export class AuthenticationRequired extends KvError {
  readonly code = 'WK_KV_AUTH_REQUIRED';
  override readonly httpStatus = 401;
  override readonly expose = true;
}
/** The `Authorization` header is not `Bearer <token>` / `Basic <base64 user:password>` as the server accepts. */
export class CredentialsMalformed extends KvError {
  readonly code = 'WK_KV_CREDENTIALS_MALFORMED';
  override readonly httpStatus = 401;
  override readonly expose = true;
}
/** An item key is empty (after URL decoding). */
export class KeyEmpty extends KvError {
  readonly code = 'WK_KV_KEY_EMPTY';
  override readonly httpStatus = 400;
  override readonly expose = true;
}
/** An item key (or prefix) is longer than 1024 bytes of UTF-8. */
export class KeyTooLong extends KvError {
  readonly code = 'WK_KV_KEY_TOO_LONG';
  override readonly httpStatus = 400;
  override readonly expose = true;
}
/** An item key (or prefix) is not valid UTF-8 / percent-encoding, or holds NUL or control characters. */
export class KeyInvalid extends KvError {
  readonly code = 'WK_KV_KEY_INVALID';
  override readonly httpStatus = 400;
  override readonly expose = true;
}
/** The request is malformed: bad JSON, a body or query that fails the route schema, a bad header value. */
export class InvalidRequest extends KvError {
  readonly code = 'WK_KV_INVALID_REQUEST';
  override readonly httpStatus = 400;
  override readonly expose = true;
}
/** No item has this key (or it has expired). */
export class ItemNotFound extends KvError {
  readonly code = 'WK_KV_NOT_FOUND';
  override readonly httpStatus = 404;
  override readonly expose = true;
}
/** No route matches the method and path. */
export class RouteNotFound extends KvError {
  readonly code = 'WK_KV_ROUTE_NOT_FOUND';
  override readonly httpStatus = 404;
  override readonly expose = true;
}
/** A per-op `if_match` / `if_none_match` inside `POST /batch` failed (header preconditions give 412). */
export class BatchConflict extends KvError {
  readonly code = 'WK_KV_CONFLICT';
  override readonly httpStatus = 409;
  override readonly expose = true;
}
/** A value is larger than `WEFTKIT_MAX_VALUE_BYTES`, or a request body larger than the route allows. */
export class PayloadTooLarge extends KvError {
  readonly code = 'WK_KV_PAYLOAD_TOO_LARGE';
  override readonly httpStatus = 413;
  override readonly expose = true;
}
/** The request body has a content type the route does not take (`POST /batch` needs application/json). */
export class UnsupportedMediaType extends KvError {
  readonly code = 'WK_KV_UNSUPPORTED_MEDIA_TYPE';
  override readonly httpStatus = 415;
  override readonly expose = true;
}
/** The data directory's file system is full (ENOSPC); nothing of the request was applied. */
export class InsufficientStorage extends KvError {
  readonly code = 'WK_KV_INSUFFICIENT_STORAGE';
  override readonly httpStatus = 507;
  override readonly expose = true;
}
/** The server is shutting down and takes no new requests. */
export class ShuttingDown extends KvError {
  readonly code = 'WK_KV_SHUTTING_DOWN';
  override readonly httpStatus = 503;
  override readonly expose = true;
}
