// The typed, frozen configuration every part of WeftKit receives instead of process.env.

export type EngineName = 'relational' | 'kv' | 'cli';
export type AuthMethodName = 'password' | 'jwt' | 'mtls' | 'none';
export type AuditEventName = 'auth' | 'authz_deny' | 'schema_change' | 'data_export' | 'data_read' | 'data_write' | 'admin';

export type KeyProviderConfig =
  | { readonly kind: 'dev' }
  | { readonly kind: 'env'; readonly key: string }
  | { readonly kind: 'file'; readonly keyFile: string }
  | {
      readonly kind: 'vault';
      readonly addr: string;
      readonly transitKey: string;
      readonly transitMount: string;
      readonly namespace?: string;
      /** Token auth; absent when `appRole` is set. */
      readonly token?: string;
      readonly appRole?: { readonly roleId: string; readonly secretId: string };
    }
  | { readonly kind: 'kms'; readonly keyArn: string; readonly region: string; readonly endpoint?: string }
  | { readonly kind: 'gcp-kms'; readonly key: string; readonly endpoint?: string };

export interface JwtConfig {
  readonly jwksUri?: string;
  readonly publicKeyFile?: string;
  readonly issuer?: string;
  readonly audience?: string;
  readonly algorithms: readonly string[];
  readonly clockToleranceSeconds: number;
  readonly tenantClaim: string;
  readonly rolesClaim: string;
}

export interface WeftKitConfig {
  readonly engine: EngineName;
  readonly insecureDev: boolean;
  readonly logLevel: 'debug' | 'info' | 'warn' | 'error';
  readonly listen: { readonly host: string; readonly port: number };
  readonly ops: { readonly host: string; readonly port: number };
  readonly dataDir: string;
  readonly auth: {
    readonly methods: readonly AuthMethodName[];
    readonly usersFile: string;
    readonly failureWindowSeconds: number;
    readonly failureLimit: number;
    readonly lockoutSeconds: number;
    readonly jwt?: JwtConfig;
    readonly mtls?: { readonly caFile: string; readonly tenantAttribute: string };
  };
  readonly rolesFile: string;
  /** True when `WEFTKIT_ROLES_FILE` was set explicitly (a missing file is then an error). */
  readonly rolesFileExplicit: boolean;
  readonly encryption: {
    readonly mode: 'aes-256-gcm' | 'off';
    readonly provider: KeyProviderConfig;
    readonly dekCacheTtlSeconds: number;
    /** WEFTKIT_KEY_PROVIDER_TIMEOUT_SECONDS: deadline of one remote wrap/unwrap, retries included. */
    readonly keyProviderTimeoutSeconds: number;
  };
  readonly audit: {
    readonly enabled: boolean;
    readonly output: string;
    readonly events: readonly AuditEventName[];
    readonly allowBrokenChain: boolean;
    readonly rotateBytes: number;
  };
  readonly tls?: { readonly certFile: string; readonly keyFile: string; readonly caFile?: string };
  readonly tlsRequired: boolean;
  readonly limits: {
    readonly maxConnections: number;
    readonly startupTimeoutSeconds: number;
    readonly idleInTransactionTimeoutSeconds: number;
    readonly maxMessageBytes: number;
    readonly sessionWaitTimeoutSeconds: number;
    readonly maxOpenTenants: number;
    readonly maxValueBytes: number;
  };
}
