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

// ---------------------------------------------------------------------------------------------
// server (src/server, src/session)

/** More authenticated connections than `WEFTKIT_MAX_CONNECTIONS`; sent after the startup packet. */
export class ServerTooManyConnections extends RelationalError {
  readonly code = 'WK_REL_SERVER_TOO_MANY_CONNECTIONS';
  override readonly sqlstate = '53300';
  override readonly httpStatus = 503;
  override readonly expose = true;
}
/** The startup packet did not arrive, or authentication did not finish, within the startup timeout. */
export class ServerStartupTimeout extends RelationalError {
  readonly code = 'WK_REL_SERVER_STARTUP_TIMEOUT';
  override readonly sqlstate = '08P01';
  override readonly httpStatus = 408;
  override readonly expose = true;
}
/** A startup packet for a protocol major version other than 3. */
export class ServerUnsupportedProtocol extends RelationalError {
  readonly code = 'WK_REL_SERVER_UNSUPPORTED_PROTOCOL';
  override readonly sqlstate = '0A000';
  override readonly httpStatus = 400;
  override readonly expose = true;
}
/** A plaintext startup while `WEFTKIT_TLS_REQUIRED` is set, or cleartext credentials asked for over plaintext. */
export class ServerTlsRequired extends RelationalError {
  readonly code = 'WK_REL_SERVER_TLS_REQUIRED';
  override readonly sqlstate = '28000';
  override readonly httpStatus = 403;
  override readonly expose = true;
}
/** No configured authentication method can serve this connection (e.g. mTLS only, no client certificate). */
export class ServerAuthMethodUnavailable extends RelationalError {
  readonly code = 'WK_REL_SERVER_AUTH_METHOD_UNAVAILABLE';
  override readonly sqlstate = '28000';
  override readonly httpStatus = 401;
  override readonly expose = true;
}
/** The startup user does not match the verified identity (JWT `sub`, certificate CN) or its tenant. */
export class ServerUserMismatch extends RelationalError {
  readonly code = 'WK_REL_SERVER_USER_MISMATCH';
  override readonly sqlstate = '28000';
  override readonly httpStatus = 401;
  override readonly expose = true;
}
/** The client broke the authentication exchange (wrong SASL mechanism, missing data). */
export class ServerAuthProtocolViolation extends RelationalError {
  readonly code = 'WK_REL_SERVER_AUTH_PROTOCOL_VIOLATION';
  override readonly sqlstate = '08P01';
  override readonly httpStatus = 400;
  override readonly expose = true;
}
/** The startup `database` is neither empty, `default`, `postgres` nor the session's tenant. */
export class ServerDatabaseNotFound extends RelationalError {
  readonly code = 'WK_REL_SERVER_DATABASE_NOT_FOUND';
  override readonly sqlstate = '3D000';
  override readonly httpStatus = 404;
  override readonly expose = true;
}
/** The startup packet carries `options` (command-line switches such as `-c role=...`), which are refused. */
export class ServerStartupOptionsRefused extends RelationalError {
  readonly code = 'WK_REL_SERVER_STARTUP_OPTIONS_REFUSED';
  override readonly sqlstate = '0A000';
  override readonly httpStatus = 400;
  override readonly expose = true;
}
/** A startup parameter that is not on the allow list of session settings (role, app.*, replication...). */
export class ServerStartupParameterRefused extends RelationalError {
  readonly code = 'WK_REL_SERVER_STARTUP_PARAMETER_REFUSED';
  override readonly sqlstate = '42704';
  override readonly httpStatus = 400;
  override readonly expose = true;
}
/** A `client_encoding` other than UTF8 was asked for at startup. */
export class ServerUnsupportedEncoding extends RelationalError {
  readonly code = 'WK_REL_SERVER_UNSUPPORTED_ENCODING';
  override readonly sqlstate = '0A000';
  override readonly httpStatus = 400;
  override readonly expose = true;
}
/** The tenant's backend stayed busy with other sessions for `WEFTKIT_SESSION_WAIT_TIMEOUT_SECONDS`. */
export class ServerSessionWaitTimeout extends RelationalError {
  readonly code = 'WK_REL_SERVER_SESSION_WAIT_TIMEOUT';
  override readonly sqlstate = '55P03';
  override readonly httpStatus = 503;
  override readonly expose = true;
}
/** A session held its tenant's backend in a transaction, silent, past the idle-in-transaction timeout. */
export class ServerIdleInTransactionTimeout extends RelationalError {
  readonly code = 'WK_REL_SERVER_IDLE_IN_TRANSACTION_TIMEOUT';
  override readonly sqlstate = '25P03';
  override readonly httpStatus = 408;
  override readonly expose = true;
}
/** The server is shutting down (SIGTERM); sent to every open session. */
export class ServerAdminShutdown extends RelationalError {
  readonly code = 'WK_REL_SERVER_ADMIN_SHUTDOWN';
  override readonly sqlstate = '57P01';
  override readonly httpStatus = 503;
  override readonly expose = true;
}
/** COPY FROM STDIN data, or a batch of extended-protocol messages before Sync, exceeds `WEFTKIT_MAX_MESSAGE_BYTES`. */
export class ServerBatchTooLarge extends RelationalError {
  readonly code = 'WK_REL_SERVER_BATCH_TOO_LARGE';
  override readonly sqlstate = '54000';
  override readonly httpStatus = 413;
  override readonly expose = true;
}
/** A statement form the session layer cannot run on the executor (COPY FROM STDIN beside other statements or via Parse, fastpath calls). */
export class ServerFeatureNotSupported extends RelationalError {
  readonly code = 'WK_REL_SERVER_FEATURE_NOT_SUPPORTED';
  override readonly sqlstate = '0A000';
  override readonly httpStatus = 400;
  override readonly expose = true;
}
/** The client sent a message not allowed in the session's state (e.g. CopyData outside COPY). */
export class ServerUnexpectedMessage extends RelationalError {
  readonly code = 'WK_REL_SERVER_UNEXPECTED_MESSAGE';
  override readonly sqlstate = '08P01';
  override readonly httpStatus = 400;
  override readonly expose = true;
}
/** The server was asked to listen or start in a way its configuration does not allow. */
export class ServerStartFailed extends RelationalError {
  readonly code = 'WK_REL_SERVER_START_FAILED';
}

// ---------------------------------------------------------------------------------------------
// tenant (src/tenant)

/** The stored template cluster is malformed or fails its authentication tag (it is then rebuilt). */
export class TenantTemplateInvalid extends RelationalError {
  readonly code = 'WK_REL_TENANT_TEMPLATE_INVALID';
}
/** A tenant's files do not authenticate under its data key (wrong key or tampering); checked before PGlite mounts them. */
export class TenantWrongKey extends RelationalError {
  readonly code = 'WK_REL_TENANT_WRONG_KEY';
}
/**
 * A read of the tenant's write-ahead log failed (a page that does not authenticate: damage or
 * tampering). PostgreSQL would take it for the end of the WAL and drop every later commit, so the
 * backend is stopped instead and the tenant does not open.
 */
export class TenantWalUnreadable extends RelationalError {
  readonly code = 'WK_REL_TENANT_WAL_UNREADABLE';
  override readonly sqlstate = 'XX001';
  override readonly httpStatus = 500;
  override readonly expose = true;
}
/** A tenant has data on disk but no data key in the keyring (crypto-shredded, or a keyring from elsewhere). */
export class TenantKeyMissing extends RelationalError {
  readonly code = 'WK_REL_TENANT_KEY_MISSING';
}
/** A tenant's backend failed to start (worker or PGlite error other than a wrong key). */
export class TenantOpenFailed extends RelationalError {
  readonly code = 'WK_REL_TENANT_OPEN_FAILED';
}
/** A tenant's backend died or PANICked during an exchange; it is discarded and reopened on the next `open`. */
export class TenantBackendCrashed extends RelationalError {
  readonly code = 'WK_REL_TENANT_BACKEND_CRASHED';
  override readonly sqlstate = '57P02';
  override readonly httpStatus = 503;
  override readonly expose = true;
}
/** An exchange ran past the backend time limit; the worker was terminated and the tenant will be reopened. */
export class TenantBackendTimeout extends RelationalError {
  readonly code = 'WK_REL_TENANT_BACKEND_TIMEOUT';
  override readonly sqlstate = '57014';
  override readonly httpStatus = 504;
  override readonly expose = true;
}
/** An exchange on a backend that was closed (engine shutdown, or used after its hold was released and it was evicted). */
export class TenantBackendClosed extends RelationalError {
  readonly code = 'WK_REL_TENANT_BACKEND_CLOSED';
  override readonly sqlstate = '57P01';
  override readonly httpStatus = 503;
  override readonly expose = true;
}
/** No tenant slot (WEFTKIT_MAX_OPEN_TENANTS or the memory budget) came free in time: every open tenant is held. */
export class TenantCapacityExhausted extends RelationalError {
  readonly code = 'WK_REL_TENANT_CAPACITY';
  override readonly sqlstate = '53000';
  override readonly httpStatus = 503;
  override readonly expose = true;
}
/** `open` after the tenant manager was closed. */
export class TenantManagerClosed extends RelationalError {
  readonly code = 'WK_REL_TENANT_MANAGER_CLOSED';
  override readonly sqlstate = '57P01';
  override readonly httpStatus = 503;
  override readonly expose = true;
}
/**
 * The tenant was crypto-shredded: its sessions are terminated (FATAL) and opening it fails. 3D000
 * (database does not exist), not 57P01: drivers and poolers retry 57P01 as a restart.
 */
export class TenantShredded extends RelationalError {
  readonly code = 'WK_REL_TENANT_SHREDDED';
  override readonly sqlstate = '3D000';
  override readonly httpStatus = 410;
  override readonly expose = true;
}

// ---------------------------------------------------------------------------------------------
// classify (src/session/classify)

/** `classify()` was called before `loadClassifier()` finished loading libpg-query's WASM module. */
export class ClassifierNotLoaded extends RelationalError {
  readonly code = 'WK_REL_CLASSIFY_NOT_LOADED';
}
/** A statement would change the session's identity, role or engine settings, or leave the sandbox (refused for everyone). */
export class ClassifyForbidden extends RelationalError {
  readonly code = 'WK_REL_CLASSIFY_FORBIDDEN';
  override readonly sqlstate = '42501';
  override readonly httpStatus = 403;
  override readonly expose = true;
}
/** A statement PostgreSQL's grammar cannot parse, sent by anyone but superuser. */
export class ClassifyUnparseable extends RelationalError {
  readonly code = 'WK_REL_CLASSIFY_UNPARSEABLE';
  override readonly sqlstate = '42501';
  override readonly httpStatus = 403;
  override readonly expose = true;
}

// ---------------------------------------------------------------------------------------------
// session (src/session)

/** The session's roles do not allow an action the statement needs (authorization layer one). */
export class SessionPermissionDenied extends RelationalError {
  readonly code = 'WK_REL_SESSION_PERMISSION_DENIED';
  override readonly sqlstate = '42501';
  override readonly httpStatus = 403;
  override readonly expose = true;
}
/**
 * After a unit that could change the session's PostgreSQL identity, the backend no longer ran as the
 * session's role (or could not be asked): the connection ends, its transaction is rolled back and
 * the held answer dropped (authorization layer two's check of `SET/RESET SESSION AUTHORIZATION`).
 */
export class SessionIdentityChanged extends RelationalError {
  readonly code = 'WK_REL_SESSION_IDENTITY_CHANGED';
  override readonly sqlstate = '42501';
  override readonly httpStatus = 403;
  override readonly expose = true;
}
/** A unit held back for the identity check answered more than can be held (16 MiB): the connection ends unverified. */
export class SessionIdentityUnverified extends RelationalError {
  readonly code = 'WK_REL_SESSION_IDENTITY_UNVERIFIED';
  override readonly sqlstate = '54000';
  override readonly httpStatus = 413;
  override readonly expose = true;
}
/**
 * A unit held back for the identity check also ends a transaction (COMMIT, ROLLBACK, PREPARE
 * TRANSACTION...): its writes would be committed before the check could run, so it is refused.
 */
export class SessionIdentityTransactionEnd extends RelationalError {
  readonly code = 'WK_REL_SESSION_IDENTITY_TRANSACTION_END';
  override readonly sqlstate = '0A000';
  override readonly httpStatus = 400;
  override readonly expose = true;
}
/** A statement needs per-connection backend state sessions cannot have on a shared backend (temp tables, LISTEN, SQL PREPARE...). */
export class SessionFeatureRefused extends RelationalError {
  readonly code = 'WK_REL_SESSION_FEATURE_REFUSED';
  override readonly sqlstate = '0A000';
  override readonly httpStatus = 400;
  override readonly expose = true;
}
