import type { CompactJWSHeaderParameters, CryptoKey, FlattenedJWSInput, KeyObject } from 'jose';

/** Where verification keys come from: a fixed key/JWKS, or a remote JWKS that can change. */
export interface JwtKeySource {
  /** Changes whenever the set of usable keys changes; verified-token cache entries are kept per key set. */
  readonly generation: number;
  resolve(header: CompactJWSHeaderParameters, token: FlattenedJWSInput): Promise<CryptoKey | KeyObject>;
}
