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
/** More than one configuration problem; `problems` holds each coded error. */
export class ConfigInvalid extends WeftKitError {
  readonly code = 'WK_CONFIG_INVALID';
  readonly problems: readonly WeftKitError[];
  constructor(message: string, problems: readonly WeftKitError[]) {
    super(message);
    this.problems = problems;
  }
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

/** roles.yaml is malformed or inconsistent; the message is `file:line: reason`. Refuses start. */
export class RolesFileInvalid extends WeftKitError {
  readonly code = 'WK_AUTHZ_ROLES_FILE_INVALID';
  /** 1-based line the reason refers to. */
  readonly line: number;
  constructor(file: string, line: number, reason: string) {
    super(`${file}:${line}: ${reason}`);
    this.line = line;
  }
}
/** The identity's roles do not allow the action (on the resource). The message names only the action. */
export class AccessDenied extends WeftKitError {
  readonly code = 'WK_AUTHZ_ACCESS_DENIED';
  override readonly sqlstate = '42501';
  override readonly httpStatus = 403;
  override readonly expose = true;
}

// ---------------------------------------------------------------------------------------------
// audit (src/audit)

// ---------------------------------------------------------------------------------------------
// crypto and storage (src/crypto, src/storage)

/** A sealed page (or page-file header) failed authentication or has the wrong length; never says why. */
export class PageAuthenticationFailed extends WeftKitError {
  readonly code = 'WK_CRYPTO_PAGE_AUTH_FAILED';
  override readonly sqlstate = 'XX001';
}
/** A data key reached its encryption limit (random-nonce bound); the tenant's DEK must be rotated. */
export class KeyUsageExhausted extends WeftKitError {
  readonly code = 'WK_CRYPTO_KEY_EXHAUSTED';
}
/** A key, cipher or keyring was used after `destroy()`/`close()` zeroed it. */
export class KeyDestroyed extends WeftKitError {
  readonly code = 'WK_CRYPTO_KEY_DESTROYED';
}
/** Key material is malformed (length, encoding); the message names the setting, never the value. */
export class KeyMaterialInvalid extends WeftKitError {
  readonly code = 'WK_CRYPTO_KEY_INVALID';
}
/** The key file a setting names cannot be read or created. */
export class KeyFileUnreadable extends WeftKitError {
  readonly code = 'WK_CRYPTO_KEY_FILE_UNREADABLE';
}
/** A key provider could not unwrap a wrapped key (wrong KEK, or the wrapped key was altered). */
export class KeyUnwrapFailed extends WeftKitError {
  readonly code = 'WK_CRYPTO_UNWRAP_FAILED';
}
/** The keyring was opened with a key-encryption key other than the one that wrote it. */
export class KeyringWrongKey extends WeftKitError {
  readonly code = 'WK_CRYPTO_WRONG_KEK';
}
/** The keyring file is malformed or fails its MAC (altered, truncated, or an unknown format). */
export class KeyringCorrupt extends WeftKitError {
  readonly code = 'WK_CRYPTO_KEYRING_CORRUPT';
  override readonly sqlstate = 'XX001';
}
/** The keyring has no data key for this tenant (never created, or crypto-shredded). */
export class TenantKeyNotFound extends WeftKitError {
  readonly code = 'WK_CRYPTO_TENANT_UNKNOWN';
}
/** A tenant key was created for a tenant that already has one. */
export class TenantKeyExists extends WeftKitError {
  readonly code = 'WK_CRYPTO_TENANT_EXISTS';
}
/** A page file names a data-key version the keyring does not hold for its tenant. */
export class KeyVersionUnknown extends WeftKitError {
  readonly code = 'WK_CRYPTO_KEY_VERSION_UNKNOWN';
}
/** A page file is structurally broken (bad magic, format version, page size or tenant in its header). */
export class PageFileCorrupt extends WeftKitError {
  readonly code = 'WK_STORAGE_CORRUPT';
  override readonly sqlstate = 'XX001';
}
/** A page number or page buffer is out of range for the file (a caller bug, not corruption). */
export class InvalidPageArgument extends WeftKitError {
  readonly code = 'WK_STORAGE_INVALID_PAGE';
}
/** A page file was used after `close()`. */
export class PageFileClosed extends WeftKitError {
  readonly code = 'WK_STORAGE_CLOSED';
}
/** A path escapes its tenant directory (`..`, absolute, NUL, or a symlink pointing outside). */
export class PathNotAllowed extends WeftKitError {
  readonly code = 'WK_STORAGE_PATH_REFUSED';
}
