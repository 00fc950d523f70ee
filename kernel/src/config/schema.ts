// Every WEFTKIT_* variable the engines and the CLI understand: its type, default and meaning.
// This table is the single source for validation (parse.ts) and for docs/configuration.md
// (a test keeps the two in sync). A variable not listed here stops start-up as a likely typo.

export type VariableKind =
  | { type: 'string' }
  | { type: 'path' }
  | { type: 'url' }
  | { type: 'bool' }
  | { type: 'int'; min: number; max: number }
  | { type: 'enum'; values: readonly string[] }
  | { type: 'list'; values?: readonly string[] };

export interface VariableSpec {
  readonly name: string;
  readonly kind: VariableKind;
  /** Default as the user would write it; undefined = unset. Engine-specific defaults are per engine. */
  readonly default?: string | { readonly relational: string; readonly kv: string };
  /** Secret values are never echoed, logged or put in errors. */
  readonly secret?: boolean;
  readonly doc: string;
}

const seconds = (max: number): VariableKind => ({ type: 'int', min: 1, max });
const port: VariableKind = { type: 'int', min: 0, max: 65535 };

export const AUTH_METHODS: readonly string[] = ['password', 'jwt', 'mtls', 'none'];
export const AUDIT_EVENTS: readonly string[] = [
  'auth',
  'authz_deny',
  'schema_change',
  'data_export',
  'data_read',
  'data_write',
  'admin',
];
export const KEY_PROVIDERS: readonly string[] = ['env', 'file', 'vault', 'kms', 'gcp-kms'];
export const JWT_ALGORITHMS: readonly string[] = [
  'RS256',
  'RS384',
  'RS512',
  'PS256',
  'PS384',
  'PS512',
  'ES256',
  'ES384',
  'ES512',
  'EdDSA',
];

export const VARIABLES: readonly VariableSpec[] = [
  { name: 'WEFTKIT_INSECURE_DEV', kind: { type: 'bool' }, default: 'false', doc: 'Allows the insecure development settings (`WEFTKIT_AUTH=none`, `WEFTKIT_ENCRYPTION=off`, cleartext passwords without TLS). Never in production.' },
  { name: 'WEFTKIT_LOG_LEVEL', kind: { type: 'enum', values: ['debug', 'info', 'warn', 'error'] }, default: 'info', doc: 'Minimum level of the JSON log lines written to stderr.' },
  { name: 'WEFTKIT_HOST', kind: { type: 'string' }, default: '0.0.0.0', doc: 'Address the engine listens on.' },
  { name: 'WEFTKIT_PORT', kind: port, default: { relational: '20000', kv: '20004' }, doc: 'Port of the engine (PostgreSQL protocol for relational, HTTPS/HTTP for kv).' },
  { name: 'WEFTKIT_OPS_HOST', kind: { type: 'string' }, default: '0.0.0.0', doc: 'Address of the plain-HTTP ops port (`/healthz`, `/readyz`, `/metrics`).' },
  { name: 'WEFTKIT_OPS_PORT', kind: port, default: { relational: '20001', kv: '20005' }, doc: 'Port of the ops endpoints.' },
  { name: 'WEFTKIT_DATA_DIR', kind: { type: 'path' }, default: '/var/lib/weftkit', doc: 'Data directory: per-tenant encrypted files and the keyring.' },

  { name: 'WEFTKIT_AUTH', kind: { type: 'list', values: AUTH_METHODS }, default: 'password', doc: 'Comma list of authentication methods: `password`, `jwt`, `mtls`. `password,mtls` requires both. `none` only with `WEFTKIT_INSECURE_DEV=true`.' },
  { name: 'WEFTKIT_AUTH_USERS_FILE', kind: { type: 'path' }, default: '/etc/weftkit/users.htpasswd', doc: 'Users file, `name:hash` lines; bcrypt (`$2y$`, `$2b$`) or PostgreSQL SCRAM-SHA-256 verifiers. Reloaded on SIGHUP.' },
  { name: 'WEFTKIT_AUTH_FAILURE_WINDOW_SECONDS', kind: seconds(86400), default: '60', doc: 'Window in which failed logins of one (user, peer) are counted.' },
  { name: 'WEFTKIT_AUTH_FAILURE_LIMIT', kind: { type: 'int', min: 1, max: 1000 }, default: '5', doc: 'Failures within the window that lock the (user, peer) out.' },
  { name: 'WEFTKIT_AUTH_LOCKOUT_SECONDS', kind: seconds(86400), default: '300', doc: 'How long a lockout lasts.' },

  { name: 'WEFTKIT_JWT_JWKS_URI', kind: { type: 'url' }, doc: 'JWKS endpoint of the token issuer; cached, refetched on an unknown `kid` at most every 30 s.' },
  { name: 'WEFTKIT_JWT_PUBLIC_KEY_FILE', kind: { type: 'path' }, doc: 'A PEM public key (or JWK/JWKS file) instead of a JWKS URI.' },
  { name: 'WEFTKIT_JWT_ISSUER', kind: { type: 'string' }, doc: 'Required `iss`, checked when set.' },
  { name: 'WEFTKIT_JWT_AUDIENCE', kind: { type: 'string' }, doc: 'Required `aud`, checked when set.' },
  { name: 'WEFTKIT_JWT_ALGORITHMS', kind: { type: 'list', values: JWT_ALGORITHMS }, default: 'RS256,ES256,EdDSA', doc: 'Accepted signature algorithms. `none` and HMAC algorithms are never accepted.' },
  { name: 'WEFTKIT_JWT_CLOCK_TOLERANCE_SECONDS', kind: { type: 'int', min: 0, max: 300 }, default: '30', doc: 'Clock skew allowed on `exp` and `nbf`.' },
  { name: 'WEFTKIT_JWT_TENANT_CLAIM', kind: { type: 'string' }, default: 'tenant_id', doc: 'Claim holding the tenant.' },
  { name: 'WEFTKIT_JWT_ROLES_CLAIM', kind: { type: 'string' }, default: 'roles', doc: 'Claim holding the roles.' },

  { name: 'WEFTKIT_MTLS_CA', kind: { type: 'path' }, doc: 'PEM bundle of the CA(s) client certificates must chain to.' },
  { name: 'WEFTKIT_MTLS_TENANT_ATTRIBUTE', kind: { type: 'enum', values: ['O', 'OU', 'CN', 'L', 'ST', 'C', 'DC'] }, default: 'O', doc: 'Subject attribute of the client certificate that names the tenant.' },

  { name: 'WEFTKIT_ROLES_FILE', kind: { type: 'path' }, default: '/etc/weftkit/roles.yaml', doc: 'Custom roles and user bindings (YAML). A missing file at the default path means built-in roles only.' },

  { name: 'WEFTKIT_ENCRYPTION', kind: { type: 'enum', values: ['aes-256-gcm', 'off'] }, default: 'aes-256-gcm', doc: 'Encryption of every page on disk. `off` only with `WEFTKIT_INSECURE_DEV=true`.' },
  { name: 'WEFTKIT_KEY_PROVIDER', kind: { type: 'enum', values: KEY_PROVIDERS }, doc: 'Where the key-encryption key comes from. Unset: `env` if `WEFTKIT_KEY` is set, `file` if `WEFTKIT_KEY_FILE` is, else a random key created in the data directory (with a warning at every start).' },
  { name: 'WEFTKIT_KEY', kind: { type: 'string' }, secret: true, doc: 'Base64 of the 32-byte key-encryption key (provider `env`).' },
  { name: 'WEFTKIT_KEY_FILE', kind: { type: 'path' }, doc: 'File holding the 32-byte key-encryption key, raw or base64 (provider `file`).' },
  { name: 'WEFTKIT_VAULT_ADDR', kind: { type: 'url' }, doc: 'Vault address (provider `vault`).' },
  { name: 'WEFTKIT_VAULT_TOKEN', kind: { type: 'string' }, secret: true, doc: 'Vault token (provider `vault`); or use AppRole (`WEFTKIT_VAULT_ROLE_ID`, `WEFTKIT_VAULT_SECRET_ID`).' },
  { name: 'WEFTKIT_VAULT_TRANSIT_KEY', kind: { type: 'string' }, doc: 'Name of the Vault transit key that wraps tenant keys.' },
  { name: 'WEFTKIT_VAULT_TRANSIT_MOUNT', kind: { type: 'string' }, default: 'transit', doc: 'Mount path of the Vault transit secrets engine.' },
  { name: 'WEFTKIT_VAULT_NAMESPACE', kind: { type: 'string' }, doc: 'Vault namespace (Vault Enterprise/HCP), sent as `X-Vault-Namespace`.' },
  { name: 'WEFTKIT_VAULT_ROLE_ID', kind: { type: 'string' }, secret: true, doc: 'AppRole role id (provider `vault`, instead of `WEFTKIT_VAULT_TOKEN`); the engine logs in and logs in again before the token expires.' },
  { name: 'WEFTKIT_VAULT_SECRET_ID', kind: { type: 'string' }, secret: true, doc: 'AppRole secret id, with `WEFTKIT_VAULT_ROLE_ID`.' },
  { name: 'WEFTKIT_KMS_KEY_ARN', kind: { type: 'string' }, doc: 'AWS KMS key ARN (provider `kms`).' },
  { name: 'WEFTKIT_KMS_REGION', kind: { type: 'string' }, doc: 'AWS region of the KMS key.' },
  { name: 'WEFTKIT_KMS_ENDPOINT', kind: { type: 'url' }, doc: 'Override of the AWS KMS endpoint.' },
  { name: 'WEFTKIT_GCP_KMS_KEY', kind: { type: 'string' }, doc: 'GCP KMS key resource name (provider `gcp-kms`).' },
  { name: 'WEFTKIT_GCP_KMS_ENDPOINT', kind: { type: 'url' }, doc: 'Override of the GCP KMS endpoint.' },
  { name: 'WEFTKIT_DEK_CACHE_TTL_SECONDS', kind: seconds(86400), default: '300', doc: 'How long unwrapped tenant keys stay cached, so a KMS outage does not stop a running engine.' },
  { name: 'WEFTKIT_KEY_PROVIDER_TIMEOUT_SECONDS', kind: seconds(300), default: '10', doc: 'Deadline of one call to Vault or a KMS, retries with jittered backoff included; then the call fails with `WK_KEYPROVIDER_UNAVAILABLE`.' },

  { name: 'WEFTKIT_AUDIT', kind: { type: 'bool' }, default: 'false', doc: 'Writes the hash-chained audit log.' },
  { name: 'WEFTKIT_AUDIT_OUTPUT', kind: { type: 'string' }, default: '/var/log/weftkit/audit.jsonl', doc: 'Audit file path, or `stdout`.' },
  { name: 'WEFTKIT_AUDIT_EVENTS', kind: { type: 'list', values: AUDIT_EVENTS }, default: 'auth,authz_deny,schema_change,data_export', doc: 'Event types recorded.' },
  { name: 'WEFTKIT_AUDIT_ALLOW_BROKEN_CHAIN', kind: { type: 'bool' }, default: 'false', doc: 'Start even if the audit chain does not verify (the break is itself audited).' },
  { name: 'WEFTKIT_AUDIT_ROTATE_BYTES', kind: { type: 'int', min: 0, max: 2 ** 40 }, default: '104857600', doc: 'Size at which the audit file is rotated; the hash chain continues into the next file. 0 never rotates.' },

  { name: 'WEFTKIT_TLS_CERT', kind: { type: 'path' }, doc: 'Server certificate (PEM). TLS 1.3 only; reloaded on SIGHUP.' },
  { name: 'WEFTKIT_TLS_KEY', kind: { type: 'path' }, doc: 'Server private key (PEM).' },
  { name: 'WEFTKIT_TLS_CA', kind: { type: 'path' }, doc: 'Alias of `WEFTKIT_MTLS_CA`.' },
  { name: 'WEFTKIT_TLS_REQUIRED', kind: { type: 'bool' }, default: 'false', doc: 'Refuses clients that do not use TLS.' },

  { name: 'WEFTKIT_MAX_CONNECTIONS', kind: { type: 'int', min: 1, max: 100000 }, default: '200', doc: 'Client connections at once (relational: SQLSTATE 53300 past it).' },
  { name: 'WEFTKIT_STARTUP_TIMEOUT_SECONDS', kind: seconds(3600), default: '10', doc: 'Time a client has to finish connecting and authenticating.' },
  { name: 'WEFTKIT_IDLE_IN_TRANSACTION_TIMEOUT_SECONDS', kind: seconds(86400), default: '60', doc: 'A session idle inside a transaction longer than this is cut (25P03).' },
  { name: 'WEFTKIT_MAX_MESSAGE_BYTES', kind: { type: 'int', min: 1024, max: 1073741824 }, default: '67108864', doc: 'Largest protocol message accepted, checked before buffering (08P01).' },
  { name: 'WEFTKIT_SESSION_WAIT_TIMEOUT_SECONDS', kind: seconds(3600), default: '30', doc: "How long a session waits for its tenant's backend (55P03)." },
  { name: 'WEFTKIT_MAX_OPEN_TENANTS', kind: { type: 'int', min: 1, max: 10000 }, default: '8', doc: 'Tenants kept open at once; the least recently used idle one is closed past it.' },
  { name: 'WEFTKIT_MAX_VALUE_BYTES', kind: { type: 'int', min: 1, max: 67108864 }, default: '1048576', doc: 'Largest kv value (413 past it).' },
];
