import { readFileSync } from 'node:fs';
import { errors, type JWTPayload, type JWTVerifyOptions, jwtVerify } from 'jose';
import { JwtConfigInvalid, JwtInvalid, JwtTooLarge } from '../../errors.js';
import { freezeClaims, mintSecurityContext, type SecurityContext } from '../../identity/security-context.js';
import { identityFromClaims } from './claims.js';
import { fromJoseError } from './jose-errors.js';
import type { JwtKeySource } from './key-source.js';
import { type JwtOptions, type ResolvedJwtOptions, resolveJwtOptions } from './options.js';
import { RemoteJwks } from './remote-jwks.js';
import { staticKeySource } from './static-keys.js';
import { tokenDigest, type VerifiedIdentity, VerifiedTokenCache } from './verified-cache.js';

/** Where a token arrived from; copied into the SecurityContext. */
export interface JwtRequestInfo {
  /** `ip:port` of the client. */
  readonly peer: string;
  readonly connectionId: string;
  readonly requestId?: string;
}

function readKeyFile(path: string): string {
  try {
    return readFileSync(path, 'utf8');
  } catch (cause) {
    throw new JwtConfigInvalid('jwt publicKeyFile cannot be read', { cause });
  }
}

/** Verifies bearer JWTs and mints `SecurityContext`s (authMethod `jwt`). Build one per configuration. */
export class JwtAuthenticator {
  readonly #options: ResolvedJwtOptions;
  readonly #keys: JwtKeySource;
  readonly #cache: VerifiedTokenCache;
  readonly #verifyOptions: JWTVerifyOptions;

  /** Validates options and loads a static key now; throws `WK_JWT_CONFIG_INVALID` on any problem. */
  constructor(options: JwtOptions) {
    const o = resolveJwtOptions(options);
    this.#options = o;
    this.#cache = new VerifiedTokenCache(o.cacheMaxEntries);
    const source = o.keySource;
    if (source.kind === 'jwks') {
      if (source.url.protocol === 'http:') o.logger.warn('jwt JWKS is fetched over plain http');
      this.#keys = new RemoteJwks(source.url, {
        cooldownMs: o.jwksCooldownMs,
        maxAgeMs: o.jwksMaxAgeMs,
        timeoutMs: o.jwksTimeoutMs,
        maxBytes: o.jwksMaxBytes,
        logger: o.logger,
        now: o.now,
        onKeysChanged: (kids) => this.#cache.retainKids(kids),
      });
    } else {
      this.#keys = staticKeySource(source.kind === 'pem' ? source.text : readKeyFile(source.path));
    }
    this.#verifyOptions = {
      algorithms: [...o.algorithms],
      clockTolerance: o.clockToleranceSeconds,
      requiredClaims: ['sub', 'exp'],
      ...(o.issuer === undefined ? {} : { issuer: o.issuer }),
      ...(o.audience === undefined ? {} : { audience: o.audience }),
    };
  }

  /** Verifies `token` and returns a fresh context; every rejection is a coded, exposable `WK_JWT_*` error. */
  async authenticate(token: string, request: JwtRequestInfo): Promise<SecurityContext> {
    const o = this.#options;
    if (typeof token !== 'string' || token.length === 0) throw new JwtInvalid('token is malformed or its signature is invalid');
    // Length first: UTF-8 is never shorter than UTF-16 code units, so the byte count is only taken for short tokens.
    if (token.length > o.maxTokenBytes || Buffer.byteLength(token, 'utf8') > o.maxTokenBytes) {
      throw new JwtTooLarge(`token is longer than ${o.maxTokenBytes} bytes`);
    }
    const digest = tokenDigest(token);
    const cached = this.#cache.get(digest, o.now());
    if (cached !== undefined) return this.#mint(cached, request);

    const generation = this.#keys.generation;
    const now = o.now();
    const { payload, kid } = await this.#verify(token, now);
    const parts = identityFromClaims(payload, o.tenantClaim, o.rolesClaim);
    const verified: VerifiedIdentity = { ...parts, claims: freezeClaims(payload as Record<string, unknown>), kid };
    // A key set that changed while this token was being verified may have revoked its key.
    if (this.#keys.generation === generation) {
      const exp = payload.exp as number;
      const until = Math.min((exp + o.clockToleranceSeconds) * 1000, now + o.cacheTtlMs);
      this.#cache.set(digest, verified, until);
    }
    return this.#mint(verified, request);
  }

  /** Forgets every verified token (e.g. after a configuration reload). */
  clearCache(): void {
    this.#cache.clear();
  }

  async #verify(token: string, now: number): Promise<{ payload: JWTPayload; kid: string | undefined }> {
    const options: JWTVerifyOptions = { ...this.#verifyOptions, currentDate: new Date(now) };
    try {
      const { payload, protectedHeader } = await jwtVerify(token, (h, t) => this.#keys.resolve(h, t), options);
      return { payload, kid: protectedHeader.kid };
    } catch (err) {
      if (!(err instanceof errors.JWKSMultipleMatchingKeys)) throw fromJoseError(err);
      // Several keys fit a token without `kid`: try each; none verifying is an ordinary failure.
      let last: unknown = err;
      for await (const key of err) {
        try {
          const { payload, protectedHeader } = await jwtVerify(token, key, options);
          return { payload, kid: protectedHeader.kid };
        } catch (e) {
          last = e;
          if (!(e instanceof errors.JWSSignatureVerificationFailed)) break;
        }
      }
      throw fromJoseError(last);
    }
  }

  #mint(v: VerifiedIdentity, request: JwtRequestInfo): SecurityContext {
    return mintSecurityContext({
      identity: v.identity,
      tenant: v.tenant,
      roles: v.roles,
      authMethod: 'jwt',
      peer: request.peer,
      connectionId: request.connectionId,
      ...(request.requestId === undefined ? {} : { requestId: request.requestId }),
      claims: v.claims,
    });
  }
}
