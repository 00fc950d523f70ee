import { errors } from 'jose';
import {
  JwtClaimInvalid,
  JwtExpired,
  JwtInvalid,
  JwtNotYetValid,
  JwtUnknownKey,
  WeftKitError,
} from '../../errors.js';

// Claim names jose may report; only these are echoed, never claim values or token text.
const NAMED_CLAIMS: ReadonlySet<string> = new Set(['iss', 'aud', 'sub', 'exp', 'nbf', 'iat', 'typ']);

/** Turns anything jose (or a key source) throws into one of the coded JWT errors. */
export function fromJoseError(err: unknown): WeftKitError {
  if (err instanceof WeftKitError) return err;
  if (err instanceof errors.JWTExpired) return new JwtExpired('token has expired');
  if (err instanceof errors.JWTClaimValidationFailed) {
    if (err.claim === 'nbf' && err.reason === 'check_failed') return new JwtNotYetValid('token is not valid yet');
    const claim = NAMED_CLAIMS.has(err.claim) ? ` "${err.claim}"` : '';
    return new JwtClaimInvalid(`token claim${claim} is missing or invalid`);
  }
  if (err instanceof errors.JWKSNoMatchingKey) return new JwtUnknownKey('no signing key matches the token');
  // Bad format, disallowed alg, failed signature, key/alg mismatch, undecodable claims: one answer.
  return new JwtInvalid('token is malformed or its signature is invalid');
}
