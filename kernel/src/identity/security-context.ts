import { randomUUID } from 'node:crypto';
import { assertTenantName } from './tenant.js';

export type AuthMethod = 'password' | 'scram' | 'jwt' | 'mtls' | 'none';

/** Everything an operation is allowed to know about who runs it. Frozen; never shared or mutated. */
export interface SecurityContext {
  /** User name (password, mTLS CN) or token subject. */
  readonly identity: string;
  readonly tenant: string;
  readonly roles: readonly string[];
  readonly authMethod: AuthMethod;
  /** `ip:port` of the client. */
  readonly peer: string;
  readonly connectionId: string;
  readonly requestId: string;
  /** Verified token claims, for JWT identities. */
  readonly claims?: Readonly<Record<string, unknown>>;
}

export interface SecurityContextInit {
  identity: string;
  tenant: string;
  roles: readonly string[];
  authMethod: AuthMethod;
  peer: string;
  connectionId?: string;
  requestId?: string;
  claims?: Readonly<Record<string, unknown>>;
}

// Contexts the kernel minted. The package entry point does not export `mintSecurityContext`:
// only the kernel's authenticators create contexts, and engines can check any they are handed.
const minted = new WeakSet<SecurityContext>();

function deepFreeze<T>(value: T): T {
  if (value !== null && typeof value === 'object' && !Object.isFrozen(value)) {
    Object.freeze(value);
    for (const v of Object.values(value as Record<string, unknown>)) deepFreeze(v);
  }
  return value;
}

// Claims objects already copied and frozen by `freezeClaims`: minting reuses them as they are,
// so a cached JWT identity does not pay a structuredClone per request (measured: ~5 % of kv CPU).
const frozenClaims = new WeakSet<object>();

/** A deep-frozen copy of `claims` (or `claims` itself if it already is one) for contexts to share. */
export function freezeClaims(claims: Readonly<Record<string, unknown>>): Readonly<Record<string, unknown>> {
  if (frozenClaims.has(claims)) return claims;
  const copy = deepFreeze(structuredClone(claims) as Record<string, unknown>);
  frozenClaims.add(copy);
  return copy;
}

/** Creates a context. Called only by authenticators (and `withRequest`). */
export function mintSecurityContext(init: SecurityContextInit): SecurityContext {
  if (typeof init.identity !== 'string' || init.identity.length === 0) {
    throw new TypeError('SecurityContext needs an identity');
  }
  const ctx: SecurityContext = {
    identity: init.identity,
    tenant: assertTenantName(init.tenant),
    roles: Object.freeze([...init.roles]),
    authMethod: init.authMethod,
    peer: init.peer,
    connectionId: init.connectionId ?? randomUUID(),
    requestId: init.requestId ?? randomUUID(),
    ...(init.claims === undefined ? {} : { claims: freezeClaims(init.claims) }),
  };
  Object.freeze(ctx);
  minted.add(ctx);
  return ctx;
}

/** True only for contexts minted by the kernel (a hand-built object literal is not one). */
export function isSecurityContext(value: unknown): value is SecurityContext {
  return typeof value === 'object' && value !== null && minted.has(value as SecurityContext);
}

/** A copy of `ctx` for a new request on the same connection (the kv engine makes one per request). */
export function withRequest(ctx: SecurityContext, requestId: string = randomUUID()): SecurityContext {
  if (!isSecurityContext(ctx)) throw new TypeError('not a kernel SecurityContext');
  return mintSecurityContext({ ...ctx, requestId });
}
