import type { JWTPayload } from 'jose';
import { JwtClaimInvalid } from '../../errors.js';
import { isTenantName } from '../../identity/tenant.js';

export interface TokenIdentity {
  readonly identity: string;
  readonly tenant: string;
  readonly roles: readonly string[];
}

function roles(value: unknown, claim: string): readonly string[] {
  if (value === undefined) return Object.freeze([]);
  let list: unknown[];
  if (typeof value === 'string') list = value.split(/[\s,]+/).filter((r) => r.length > 0);
  else if (Array.isArray(value)) list = value;
  else throw new JwtClaimInvalid(`token claim "${claim}" must be a list of role names`);
  for (const role of list) {
    if (typeof role !== 'string' || role.length === 0) {
      throw new JwtClaimInvalid(`token claim "${claim}" must be a list of role names`);
    }
  }
  return Object.freeze([...new Set(list as string[])]);
}

function own(payload: JWTPayload, name: string): unknown {
  return Object.hasOwn(payload, name) ? payload[name] : undefined;
}

/** Maps verified claims to identity (`sub`), tenant and roles; any problem is `WK_JWT_CLAIM_INVALID`. */
export function identityFromClaims(payload: JWTPayload, tenantClaim: string, rolesClaim: string): TokenIdentity {
  const { sub } = payload;
  if (typeof sub !== 'string' || sub.length === 0) throw new JwtClaimInvalid('token claim "sub" is missing or not a string');
  const tenant = own(payload, tenantClaim);
  if (!isTenantName(tenant)) throw new JwtClaimInvalid(`token claim "${tenantClaim}" is missing or not a valid tenant name`);
  return { identity: sub, tenant, roles: roles(own(payload, rolesClaim), rolesClaim) };
}
