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

/** One problem in the users file: a 1-based line number and why (never the line's content). */
export interface UsersFileIssue {
  readonly line: number;
  readonly reason: string;
}
/** The users file has lines that are not `name:hash` with an accepted hash, or duplicate users. */
export class UsersFileInvalid extends WeftKitError {
  readonly code = 'WK_AUTH_USERS_FILE_INVALID';
  readonly issues: readonly UsersFileIssue[];
  constructor(issues: readonly UsersFileIssue[], source = 'users file') {
    const shown = issues.slice(0, 10).map((i) => `line ${i.line}: ${i.reason}`);
    if (issues.length > shown.length) shown.push(`and ${issues.length - shown.length} more`);
    super(`${source}: ${shown.join('; ')}`);
    this.issues = Object.freeze(issues.map((i) => Object.freeze({ ...i })));
  }
}
/** The users file cannot be read (missing, permissions, not a file). */
export class UsersFileUnreadable extends WeftKitError {
  readonly code = 'WK_AUTH_USERS_FILE_UNREADABLE';
}
/** A user name does not match `^[A-Za-z0-9._-]{1,63}$` (CLI user management). */
export class InvalidUserName extends WeftKitError {
  readonly code = 'WK_AUTH_INVALID_USER_NAME';
  override readonly httpStatus = 400;
  override readonly expose = true;
}
/** `weftkit user add` names a user the users file already has. */
export class UserAlreadyExists extends WeftKitError {
  readonly code = 'WK_AUTH_USER_EXISTS';
  override readonly httpStatus = 409;
  override readonly expose = true;
}
/** `weftkit user passwd|remove` names a user the users file does not have. */
export class UserNotFound extends WeftKitError {
  readonly code = 'WK_AUTH_USER_NOT_FOUND';
  override readonly httpStatus = 404;
  override readonly expose = true;
}
/** A new password breaks the policy; `rule` says which rule (the password is never echoed). */
export class PasswordPolicyViolation extends WeftKitError {
  readonly code = 'WK_AUTH_PASSWORD_POLICY';
  override readonly sqlstate = '22023';
  override readonly httpStatus = 400;
  override readonly expose = true;
  readonly rule: 'min_length' | 'letter' | 'digit';
  constructor(rule: 'min_length' | 'letter' | 'digit', message: string) {
    super(message);
    this.rule = rule;
  }
}
/** Password or SCRAM authentication failed; the same error for an unknown user and a wrong password. */
export class AuthFailed extends WeftKitError {
  readonly code = 'WK_AUTH_FAILED';
  override readonly sqlstate = '28P01';
  override readonly httpStatus = 401;
  override readonly expose = true;
}
/** Too many recent failures for this user from this peer; refused without looking at the password. */
export class AuthLockedOut extends WeftKitError {
  readonly code = 'WK_AUTH_LOCKED_OUT';
  override readonly sqlstate = '28000';
  override readonly httpStatus = 429;
  override readonly expose = true;
  /** Seconds until the lockout ends (for `Retry-After`). */
  readonly retryAfterSeconds: number;
  constructor(retryAfterSeconds: number) {
    super('too many failed authentication attempts; try again later');
    this.retryAfterSeconds = retryAfterSeconds;
  }
}
/** A SCRAM message is malformed, oversized, not valid UTF-8/base64, or arrives out of order. */
export class ScramMalformed extends WeftKitError {
  readonly code = 'WK_AUTH_SCRAM_MALFORMED';
  override readonly sqlstate = '08P01';
  override readonly httpStatus = 400;
  override readonly expose = true;
}
/** The client asked for SCRAM channel binding (`p=`), but only SCRAM-SHA-256 (no -PLUS) is offered. */
export class ScramChannelBindingUnsupported extends WeftKitError {
  readonly code = 'WK_AUTH_SCRAM_CHANNEL_BINDING';
  override readonly sqlstate = '08P01';
  override readonly httpStatus = 400;
  override readonly expose = true;
}

// ---------------------------------------------------------------------------------------------
// auth/jwt (src/auth/jwt)

/** JWT options are unusable at startup (e.g. `none` or an HMAC algorithm allowed, no key source). */
export class JwtConfigInvalid extends WeftKitError {
  readonly code = 'WK_JWT_CONFIG_INVALID';
}
/** A token is malformed, its signature does not verify, or its `alg` is not allowed. */
export class JwtInvalid extends WeftKitError {
  readonly code = 'WK_JWT_INVALID';
  override readonly sqlstate = '28000';
  override readonly httpStatus = 401;
  override readonly expose = true;
}
/** A token's `exp` has passed (beyond the clock tolerance). */
export class JwtExpired extends WeftKitError {
  readonly code = 'WK_JWT_EXPIRED';
  override readonly sqlstate = '28000';
  override readonly httpStatus = 401;
  override readonly expose = true;
}
/** A token's `nbf` is in the future (beyond the clock tolerance). */
export class JwtNotYetValid extends WeftKitError {
  readonly code = 'WK_JWT_NOT_YET_VALID';
  override readonly sqlstate = '28000';
  override readonly httpStatus = 401;
  override readonly expose = true;
}
/** A verified token has a wrong or missing `iss`, `aud`, `sub`, `exp`, tenant or roles claim. */
export class JwtClaimInvalid extends WeftKitError {
  readonly code = 'WK_JWT_CLAIM_INVALID';
  override readonly sqlstate = '28000';
  override readonly httpStatus = 401;
  override readonly expose = true;
}
/** A token is longer than `maxTokenBytes`; checked before any parsing. */
export class JwtTooLarge extends WeftKitError {
  readonly code = 'WK_JWT_TOO_LARGE';
  override readonly sqlstate = '28000';
  override readonly httpStatus = 401;
  override readonly expose = true;
}
/** No configured key matches the token's `kid`/`alg`, even after an allowed JWKS refetch. */
export class JwtUnknownKey extends WeftKitError {
  readonly code = 'WK_JWT_UNKNOWN_KEY';
  override readonly sqlstate = '28000';
  override readonly httpStatus = 401;
  override readonly expose = true;
}
/** The remote JWKS could not be fetched or parsed (down, timeout, bad response) and no key is usable. */
export class JwtKeysUnavailable extends WeftKitError {
  readonly code = 'WK_JWT_KEYS_UNAVAILABLE';
  override readonly sqlstate = '28000';
  override readonly httpStatus = 503;
  override readonly expose = true;
}

// ---------------------------------------------------------------------------------------------
// auth/mtls and tls (src/auth/mtls, src/tls)

/** A TLS file cannot be read; the message names the setting (WEFTKIT_TLS_CERT/KEY/CA) and the OS error. */
export class TlsFileUnreadable extends WeftKitError {
  readonly code = 'WK_TLS_FILE_UNREADABLE';
}
/** A TLS file is not valid PEM of the expected kind; the message names the setting, never the contents. */
export class TlsInvalidPem extends WeftKitError {
  readonly code = 'WK_TLS_INVALID_PEM';
}
/** The server certificate's notAfter has passed (at start or on reload). */
export class TlsCertificateExpired extends WeftKitError {
  readonly code = 'WK_TLS_CERT_EXPIRED';
}
/** The server certificate's notBefore is still in the future. */
export class TlsCertificateNotYetValid extends WeftKitError {
  readonly code = 'WK_TLS_CERT_NOT_YET_VALID';
}
/** The server private key does not belong to the server certificate. */
export class TlsKeyMismatch extends WeftKitError {
  readonly code = 'WK_TLS_KEY_MISMATCH';
}
/** Client certificates are requested but no client CA is configured (the system roots are never used). */
export class TlsClientCaMissing extends WeftKitError {
  readonly code = 'WK_TLS_CLIENT_CA_MISSING';
}
/** A server-side TLS upgrade failed: handshake error, timeout, or a client certificate the CA did not verify. */
export class TlsHandshakeFailed extends WeftKitError {
  readonly code = 'WK_TLS_HANDSHAKE_FAILED';
  override readonly sqlstate = '08006';
}
/** A certificate's DER encoding is not well-formed X.509 as far as the kernel reads it. */
export class CertificateMalformed extends WeftKitError {
  readonly code = 'WK_TLS_CERT_MALFORMED';
  override readonly sqlstate = '28000';
  override readonly httpStatus = 401;
  override readonly expose = true;
}
/** The connection has no client certificate verified against the configured CA by the handshake. */
export class MtlsNotAuthorized extends WeftKitError {
  readonly code = 'WK_MTLS_NOT_AUTHORIZED';
  override readonly sqlstate = '28000';
  override readonly httpStatus = 401;
  override readonly expose = true;
}
/** The client certificate's subject has no CN. */
export class MtlsMissingCommonName extends WeftKitError {
  readonly code = 'WK_MTLS_MISSING_CN';
  override readonly sqlstate = '28000';
  override readonly httpStatus = 401;
  override readonly expose = true;
}
/** The subject CN is empty, appears more than once, is not a string type, or holds control characters. */
export class MtlsInvalidCommonName extends WeftKitError {
  readonly code = 'WK_MTLS_INVALID_CN';
  override readonly sqlstate = '28000';
  override readonly httpStatus = 401;
  override readonly expose = true;
}
/** The subject lacks the configured tenant attribute (`O` by default). */
export class MtlsTenantMissing extends WeftKitError {
  readonly code = 'WK_MTLS_TENANT_MISSING';
  override readonly sqlstate = '28000';
  override readonly httpStatus = 401;
  override readonly expose = true;
}
/** The subject holds the tenant attribute more than once. */
export class MtlsTenantAmbiguous extends WeftKitError {
  readonly code = 'WK_MTLS_TENANT_AMBIGUOUS';
  override readonly sqlstate = '28000';
  override readonly httpStatus = 401;
  override readonly expose = true;
}
/** The tenant attribute is not a valid tenant name. */
export class MtlsInvalidTenant extends WeftKitError {
  readonly code = 'WK_MTLS_INVALID_TENANT';
  override readonly sqlstate = '28000';
  override readonly httpStatus = 401;
  override readonly expose = true;
}
/** With `password,mtls`, the certificate CN is not the user name that logged in. */
export class MtlsUserMismatch extends WeftKitError {
  readonly code = 'WK_MTLS_USER_MISMATCH';
  override readonly sqlstate = '28000';
  override readonly httpStatus = 401;
  override readonly expose = true;
}

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

/** The audit chain on disk does not verify at start (and `allowBrokenChain` is off); names the first bad seq. */
export class AuditChainBroken extends WeftKitError {
  readonly code = 'WK_AUDIT_CHAIN_BROKEN';
  readonly firstBadSeq: number;
  constructor(firstBadSeq: number, reason: string) {
    super(`audit chain broken at seq ${firstBadSeq}: ${reason}`);
    this.firstBadSeq = firstBadSeq;
  }
}
/** An audit event could not be made durable (write or fdatasync failed); the log refuses all later appends. */
export class AuditWriteFailed extends WeftKitError {
  readonly code = 'WK_AUDIT_WRITE_FAILED';
}
/** An event was appended after the audit log was closed. */
export class AuditClosed extends WeftKitError {
  readonly code = 'WK_AUDIT_CLOSED';
}
/** The audit options are invalid (unknown event type, bad `maxBytes`, empty output path). */
export class AuditInvalidOption extends WeftKitError {
  readonly code = 'WK_AUDIT_INVALID_OPTION';
}
/** The audit directory or file cannot be created, opened or read at start (permissions, not a file, ...). */
export class AuditOpenFailed extends WeftKitError {
  readonly code = 'WK_AUDIT_OPEN_FAILED';
}

// ---------------------------------------------------------------------------------------------
// key providers (src/crypto/providers)

/** A key service (Vault, AWS KMS, GCP KMS) stayed unreachable, slow, throttled or 5xx past the retry deadline. */
export class KeyServiceUnavailable extends WeftKitError {
  readonly code = 'WK_KEYPROVIDER_UNAVAILABLE';
  override readonly sqlstate = '58000';
  override readonly httpStatus = 503;
  override readonly expose = true;
}
/** A key service refused our credentials or their permissions on the key; the message names the setting to fix. */
export class KeyServiceDenied extends WeftKitError {
  readonly code = 'WK_KEYPROVIDER_ACCESS_DENIED';
}
/** The key-encryption key is disabled, destroyed, scheduled for deletion or not found in the key service. */
export class KeyServiceKeyUnusable extends WeftKitError {
  readonly code = 'WK_KEYPROVIDER_KEY_UNUSABLE';
}
/** A key provider setting is malformed or incomplete (bad key name, missing credentials); names the setting. */
export class KeyProviderMisconfigured extends WeftKitError {
  readonly code = 'WK_KEYPROVIDER_MISCONFIGURED';
}
/** A key service answered with a permanent failure that fits no other class (an unexpected 4xx). */
export class KeyServiceFailed extends WeftKitError {
  readonly code = 'WK_KEYPROVIDER_FAILED';
}

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
/** There is no key provider to use (the CLI's key commands with `WEFTKIT_ENCRYPTION=off`). */
export class KeyProviderUnavailable extends WeftKitError {
  readonly code = 'WK_CRYPTO_PROVIDER_UNAVAILABLE';
}
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
/** A tenant was asked for (or created) under a name the keyring holds a shred tombstone for; only an explicit re-create clears it. */
export class TenantKeyShredded extends WeftKitError {
  readonly code = 'WK_CRYPTO_TENANT_SHREDDED';
  override readonly sqlstate = '3D000';
  override readonly httpStatus = 410;
  override readonly expose = true;
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
/** Another live process (an engine or the CLI) holds the data directory's lock. */
export class DataDirLocked extends WeftKitError {
  readonly code = 'WK_STORAGE_DATA_DIR_LOCKED';
}
/** A path escapes its tenant directory (`..`, absolute, NUL, or a symlink pointing outside). */
export class PathNotAllowed extends WeftKitError {
  readonly code = 'WK_STORAGE_PATH_REFUSED';
}

// ---------------------------------------------------------------------------------------------
// runtime: admin socket (src/runtime/admin-*)

/** `<dataDir>/admin.sock` exists as a symlink or as something other than a socket; the engine will not replace it. */
export class AdminSocketUnsafe extends WeftKitError {
  readonly code = 'WK_ADMIN_SOCKET_UNSAFE';
}
/** An admin request line is longer than 64 KiB (the connection is closed after this reply). */
export class AdminRequestTooLarge extends WeftKitError {
  readonly code = 'WK_ADMIN_REQUEST_TOO_LARGE';
  override readonly expose = true;
}
/** An admin request line is not a JSON object `{id, command, args}`. */
export class AdminRequestMalformed extends WeftKitError {
  readonly code = 'WK_ADMIN_REQUEST_MALFORMED';
  override readonly expose = true;
}
/** An admin request names a command this engine has no handler for. */
export class AdminUnknownCommand extends WeftKitError {
  readonly code = 'WK_ADMIN_UNKNOWN_COMMAND';
  override readonly expose = true;
}
/** An admin command's arguments are missing or have the wrong type or form. */
export class AdminInvalidArgument extends WeftKitError {
  readonly code = 'WK_ADMIN_INVALID_ARGUMENT';
  override readonly expose = true;
}
/** The admin socket did not answer: no engine listens, it is stopping, or the reply never came. */
export class AdminUnavailable extends WeftKitError {
  readonly code = 'WK_ADMIN_UNAVAILABLE';
}
/** The file naming a new KEK (a key file or a provider env file) is unreadable, malformed or names no provider. */
export class KekSourceInvalid extends WeftKitError {
  readonly code = 'WK_ADMIN_KEK_SOURCE_INVALID';
  override readonly expose = true;
}
