// The kernel's error registry. Every failure the kernel can report is one subclass here with a
// stable code (never reused), and, where a client can see it, a SQLSTATE and an HTTP status.
// Only errors marked `expose: true` may have their message sent to a client; anything else is
// logged with its request id and answered generically (see `publicError`).
//
// Sections are owned by the module named in their heading; add new classes inside your section.

export interface ErrorInfo {
  /** Stable code, `WK_<AREA>_<NAME>`. */
  readonly code: string;
  /** PostgreSQL SQLSTATE the relational engine sends for this error. */
  readonly sqlstate: string;
  /** HTTP status the REST engines send for this error. */
  readonly httpStatus: number;
  /** Whether `message` is safe to send to a client. */
  readonly expose: boolean;
}

export abstract class WeftKitError extends Error {
  abstract readonly code: string;
  readonly sqlstate: string = 'XX000';
  readonly httpStatus: number = 500;
  readonly expose: boolean = false;

  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = new.target.name;
  }
}

/** What a client may be told about an error: its own message when exposable, else a generic one. */
export function publicError(err: unknown): ErrorInfo & { readonly message: string } {
  if (err instanceof WeftKitError && err.expose) {
    return { code: err.code, sqlstate: err.sqlstate, httpStatus: err.httpStatus, expose: true, message: err.message };
  }
  return { code: 'WK_INTERNAL', sqlstate: 'XX000', httpStatus: 500, expose: false, message: 'internal error' };
}

// ---------------------------------------------------------------------------------------------
// config (src/config)

/** A `WEFTKIT_*` variable is set that the schema does not know (usually a typo). */
export class ConfigUnknownVariable extends WeftKitError {
  readonly code = 'WK_CONFIG_UNKNOWN_VARIABLE';
}
/** A `WEFTKIT_*` variable has a value the schema rejects; the message names it, never echoes secrets. */
export class ConfigInvalidValue extends WeftKitError {
  readonly code = 'WK_CONFIG_INVALID_VALUE';
}
/** Two or more settings contradict each other (e.g. `WEFTKIT_AUTH=none` without dev mode). */
export class ConfigConflict extends WeftKitError {
  readonly code = 'WK_CONFIG_CONFLICT';
}
/** A file a setting points to cannot be read. */
export class ConfigFileUnreadable extends WeftKitError {
  readonly code = 'WK_CONFIG_FILE_UNREADABLE';
}

// ---------------------------------------------------------------------------------------------
// identity (src/identity)

/** A tenant name does not match `^[a-z0-9][a-z0-9_-]{0,62}$`. */
export class InvalidTenantName extends WeftKitError {
  readonly code = 'WK_IDENTITY_INVALID_TENANT';
  override readonly sqlstate = '28000';
  override readonly httpStatus = 401;
  override readonly expose = true;
}
/** An authenticated identity asked for a tenant it is not bound to, or has no default tenant. */
export class TenantNotAllowed extends WeftKitError {
  readonly code = 'WK_IDENTITY_TENANT_NOT_ALLOWED';
  override readonly sqlstate = '28000';
  override readonly httpStatus = 403;
  override readonly expose = true;
}

// ---------------------------------------------------------------------------------------------
// auth/password (src/auth/password)

// ---------------------------------------------------------------------------------------------
// auth/jwt (src/auth/jwt)

// ---------------------------------------------------------------------------------------------
// auth/mtls and tls (src/auth/mtls, src/tls)

// ---------------------------------------------------------------------------------------------
// authz (src/authz)

// ---------------------------------------------------------------------------------------------
// audit (src/audit)

// ---------------------------------------------------------------------------------------------
// crypto and storage (src/crypto, src/storage)
