import type { JSONWebKeySet, JWK } from 'jose';

const SIGNING_KEY_TYPES: ReadonlySet<string> = new Set(['RSA', 'EC', 'OKP']);
// Members that only private or symmetric keys have; a verification set must not hold those.
const SECRET_MEMBERS = ['d', 'p', 'q', 'dp', 'dq', 'qi', 'oth', 'k'] as const;

function isPublicSigningKey(value: unknown): value is JWK {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return false;
  const jwk = value as Record<string, unknown>;
  if (typeof jwk['kty'] !== 'string' || !SIGNING_KEY_TYPES.has(jwk['kty'])) return false;
  if (jwk['use'] !== undefined && jwk['use'] !== 'sig') return false;
  if (jwk['kid'] !== undefined && typeof jwk['kid'] !== 'string') return false;
  return SECRET_MEMBERS.every((m) => jwk[m] === undefined);
}

export interface SigningKeySet {
  readonly jwks: JSONWebKeySet;
  /** Keys left out: symmetric, private, encryption-only or malformed members. */
  readonly dropped: number;
  readonly kids: ReadonlySet<string>;
}

/** Keeps the public signature keys of a JWKS document (or of a lone JWK); undefined if it is neither. */
export function signingKeySet(document: unknown): SigningKeySet | undefined {
  if (typeof document !== 'object' || document === null || Array.isArray(document)) return undefined;
  const doc = document as Record<string, unknown>;
  let members: unknown[];
  if (Array.isArray(doc['keys'])) members = doc['keys'];
  else if (typeof doc['kty'] === 'string') members = [doc];
  else return undefined;
  const keys = members.filter(isPublicSigningKey);
  const kids = new Set<string>();
  for (const key of keys) if (typeof key.kid === 'string') kids.add(key.kid);
  return { jwks: { keys }, dropped: members.length - keys.length, kids };
}
