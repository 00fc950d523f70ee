import { JwtConfigInvalid } from '../../errors.js';
import type { Logger } from '../../log/logger.js';
import { silentLogger } from '../../log/logger.js';

/** Options for `JwtAuthenticator`. Exactly one key source: `jwksUri`, `publicKeyPem` or `publicKeyFile`. */
export interface JwtOptions {
  /** Remote JWKS (http: or https:). */
  jwksUri?: string;
  /** Inline verification key: PEM (SPKI or certificate), or JWK / JWKS JSON. */
  publicKeyPem?: string;
  /** File holding a PEM public key or JWK / JWKS JSON; read once at construction. */
  publicKeyFile?: string;
  /** Required `iss` when set. */
  issuer?: string;
  /** Required `aud` member when set. */
  audience?: string;
  /** Accepted `alg` values; asymmetric only. Default RS256, ES256, EdDSA. */
  algorithms?: readonly string[];
  /** Default 30. */
  clockToleranceSeconds?: number;
  /** Default `tenant_id`. */
  tenantClaim?: string;
  /** Default `roles`. */
  rolesClaim?: string;
  /** Default 16384; longer tokens are rejected before parsing. */
  maxTokenBytes?: number;
  /** Least time between two JWKS fetches caused by unknown `kid`s or failures. Default 30. */
  jwksCooldownSeconds?: number;
  /** Age after which the JWKS is refetched on the next request. Default 600. */
  jwksMaxAgeSeconds?: number;
  /** Default 5000. */
  jwksTimeoutMs?: number;
  /** Largest JWKS response accepted. Default 1 MiB. */
  jwksMaxBytes?: number;
  /** Verified-token cache size; 0 turns the cache off. Default 10000. */
  cacheMaxEntries?: number;
  /** Longest a verified token is trusted without re-verifying. Default 300. */
  cacheTtlSeconds?: number;
  logger?: Logger;
  /** Clock in epoch milliseconds; tests inject one. */
  now?: () => number;
}

export type JwtKeySourceOption =
  | { readonly kind: 'jwks'; readonly url: URL }
  | { readonly kind: 'pem'; readonly text: string }
  | { readonly kind: 'file'; readonly path: string };

export interface ResolvedJwtOptions {
  readonly keySource: JwtKeySourceOption;
  readonly issuer: string | undefined;
  readonly audience: string | undefined;
  readonly algorithms: readonly string[];
  readonly clockToleranceSeconds: number;
  readonly tenantClaim: string;
  readonly rolesClaim: string;
  readonly maxTokenBytes: number;
  readonly jwksCooldownMs: number;
  readonly jwksMaxAgeMs: number;
  readonly jwksTimeoutMs: number;
  readonly jwksMaxBytes: number;
  readonly cacheMaxEntries: number;
  readonly cacheTtlMs: number;
  readonly logger: Logger;
  readonly now: () => number;
}

export const DEFAULT_JWT_ALGORITHMS: readonly string[] = Object.freeze(['RS256', 'ES256', 'EdDSA']);

// Signature algorithms with a public verification key. `none` and HS* are absent on purpose:
// an HMAC "secret" could be the public key itself (algorithm confusion).
const ASYMMETRIC_ALGORITHMS: ReadonlySet<string> = new Set([
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
  'Ed25519',
]);

function integer(name: string, value: number | undefined, fallback: number, min: number): number {
  if (value === undefined) return fallback;
  if (!Number.isSafeInteger(value) || value < min) {
    throw new JwtConfigInvalid(`jwt option ${name} must be an integer >= ${min}`);
  }
  return value;
}

function optionalText(name: string, value: string | undefined): string | undefined {
  if (value === undefined) return undefined;
  if (typeof value !== 'string' || value.length === 0) throw new JwtConfigInvalid(`jwt option ${name} must be a non-empty string`);
  return value;
}

function keySource(options: JwtOptions): JwtKeySourceOption {
  const given = [options.jwksUri, options.publicKeyPem, options.publicKeyFile].filter((v) => v !== undefined);
  if (given.length !== 1) {
    throw new JwtConfigInvalid('jwt needs exactly one of jwksUri, publicKeyPem, publicKeyFile');
  }
  if (options.jwksUri !== undefined) {
    let url: URL;
    try {
      url = new URL(options.jwksUri);
    } catch {
      throw new JwtConfigInvalid('jwt option jwksUri is not a URL');
    }
    if (url.protocol !== 'https:' && url.protocol !== 'http:') {
      throw new JwtConfigInvalid('jwt option jwksUri must be an http: or https: URL');
    }
    return { kind: 'jwks', url };
  }
  if (options.publicKeyPem !== undefined) {
    return { kind: 'pem', text: optionalText('publicKeyPem', options.publicKeyPem) as string };
  }
  return { kind: 'file', path: optionalText('publicKeyFile', options.publicKeyFile) as string };
}

function algorithms(list: readonly string[] | undefined): readonly string[] {
  if (list === undefined) return DEFAULT_JWT_ALGORITHMS;
  if (!Array.isArray(list) || list.length === 0) throw new JwtConfigInvalid('jwt option algorithms must be a non-empty list');
  for (const alg of list) {
    if (!ASYMMETRIC_ALGORITHMS.has(alg)) {
      throw new JwtConfigInvalid(`jwt algorithm ${JSON.stringify(alg)} is not allowed (only asymmetric signature algorithms)`);
    }
  }
  return Object.freeze([...new Set(list)]);
}

/** Validates options once; every problem is a `WK_JWT_CONFIG_INVALID`. */
export function resolveJwtOptions(options: JwtOptions): ResolvedJwtOptions {
  if (typeof options !== 'object' || options === null) throw new JwtConfigInvalid('jwt options must be an object');
  return Object.freeze({
    keySource: Object.freeze(keySource(options)),
    issuer: optionalText('issuer', options.issuer),
    audience: optionalText('audience', options.audience),
    algorithms: algorithms(options.algorithms),
    clockToleranceSeconds: integer('clockToleranceSeconds', options.clockToleranceSeconds, 30, 0),
    tenantClaim: optionalText('tenantClaim', options.tenantClaim) ?? 'tenant_id',
    rolesClaim: optionalText('rolesClaim', options.rolesClaim) ?? 'roles',
    maxTokenBytes: integer('maxTokenBytes', options.maxTokenBytes, 16384, 1),
    jwksCooldownMs: integer('jwksCooldownSeconds', options.jwksCooldownSeconds, 30, 0) * 1000,
    jwksMaxAgeMs: integer('jwksMaxAgeSeconds', options.jwksMaxAgeSeconds, 600, 1) * 1000,
    jwksTimeoutMs: integer('jwksTimeoutMs', options.jwksTimeoutMs, 5000, 1),
    jwksMaxBytes: integer('jwksMaxBytes', options.jwksMaxBytes, 1 << 20, 1),
    cacheMaxEntries: integer('cacheMaxEntries', options.cacheMaxEntries, 10_000, 0),
    cacheTtlMs: integer('cacheTtlSeconds', options.cacheTtlSeconds, 300, 0) * 1000,
    logger: options.logger ?? silentLogger,
    now: options.now ?? Date.now,
  });
}
