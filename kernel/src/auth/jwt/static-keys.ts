import { createPublicKey, type KeyObject, type JsonWebKey as NodeJwk } from 'node:crypto';
import { createLocalJWKSet } from 'jose';
import { JwtConfigInvalid } from '../../errors.js';
import { signingKeySet } from './jwk-set.js';
import type { JwtKeySource } from './key-source.js';

const KEY_OBJECT_TYPES: ReadonlySet<string> = new Set(['rsa', 'rsa-pss', 'ec', 'ed25519']);

function fromJson(text: string): JwtKeySource {
  let document: unknown;
  try {
    document = JSON.parse(text);
  } catch {
    throw new JwtConfigInvalid('jwt public key is neither PEM nor valid JSON');
  }
  const set = signingKeySet(document);
  if (set === undefined) throw new JwtConfigInvalid('jwt public key JSON is neither a JWK nor a JWKS');
  if (set.dropped > 0 || set.jwks.keys.length === 0) {
    throw new JwtConfigInvalid('jwt key set must hold only public signature keys (RSA, EC, OKP), and at least one');
  }
  for (const jwk of set.jwks.keys) {
    try {
      createPublicKey({ key: jwk as NodeJwk, format: 'jwk' });
    } catch {
      throw new JwtConfigInvalid('jwt key set holds a key that cannot be imported');
    }
  }
  const local = createLocalJWKSet(set.jwks);
  return { generation: 0, resolve: (header, token) => local(header, token) };
}

function fromPem(text: string): JwtKeySource {
  if (/PRIVATE KEY-----/.test(text)) throw new JwtConfigInvalid('jwt key must be a public key, not a private key');
  let key: KeyObject;
  try {
    key = createPublicKey(text);
  } catch {
    throw new JwtConfigInvalid('jwt public key PEM cannot be parsed');
  }
  if (!KEY_OBJECT_TYPES.has(key.asymmetricKeyType ?? '')) {
    throw new JwtConfigInvalid('jwt public key must be an RSA, EC or Ed25519 key');
  }
  // jose checks that the token's alg fits this key's type before verifying.
  return { generation: 0, resolve: async () => key };
}

/** A fixed key source from PEM (SPKI, PKCS#1 or certificate) or JWK / JWKS JSON text. */
export function staticKeySource(text: string): JwtKeySource {
  return text.trimStart().startsWith('{') ? fromJson(text) : fromPem(text);
}
