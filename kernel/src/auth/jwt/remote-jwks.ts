import { type CompactJWSHeaderParameters, type CryptoKey, createLocalJWKSet, errors, type FlattenedJWSInput } from 'jose';
import { JwtKeysUnavailable, JwtUnknownKey } from '../../errors.js';
import type { Logger } from '../../log/logger.js';
import { signingKeySet } from './jwk-set.js';
import type { JwtKeySource } from './key-source.js';

export interface RemoteJwksOptions {
  /** Least time between two fetch attempts caused by unknown `kid`s, staleness or failures. */
  readonly cooldownMs: number;
  /** Age after which the set is refetched on the next request. */
  readonly maxAgeMs: number;
  readonly timeoutMs: number;
  readonly maxBytes: number;
  readonly logger: Logger;
  readonly now: () => number;
  /** Called after a fetch that changed the key set, with the `kid`s it now holds. */
  readonly onKeysChanged?: (kids: ReadonlySet<string>) => void;
}

type LocalKeySet = ReturnType<typeof createLocalJWKSet>;

async function readCapped(body: ReadableStream<Uint8Array>, maxBytes: number): Promise<Buffer> {
  const reader = body.getReader();
  const chunks: Uint8Array[] = [];
  let size = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) return Buffer.concat(chunks, size);
    size += value.byteLength;
    if (size > maxBytes) {
      await reader.cancel();
      throw new Error('JWKS response is too large');
    }
    chunks.push(value);
  }
}

async function fetchDocument(url: URL, timeoutMs: number, maxBytes: number): Promise<unknown> {
  // The timeout signal also aborts reading the body, so a server that stalls mid-response cannot hang us.
  const response = await fetch(url, {
    signal: AbortSignal.timeout(timeoutMs),
    redirect: 'error',
    headers: { accept: 'application/jwk-set+json, application/json' },
  });
  if (response.status !== 200 || response.body === null) {
    await response.body?.cancel();
    throw new Error(`JWKS response status ${response.status}`);
  }
  return JSON.parse((await readCapped(response.body, maxBytes)).toString('utf8'));
}

/** A JWKS fetched over HTTP, cached, refetched when stale or on an unknown `kid` (at most once per cooldown). */
export class RemoteJwks implements JwtKeySource {
  readonly #url: URL;
  readonly #options: RemoteJwksOptions;
  #local: LocalKeySet | undefined;
  #fingerprint: string | undefined;
  #fetchedAt = Number.NEGATIVE_INFINITY;
  #attemptedAt = Number.NEGATIVE_INFINITY;
  #pending: Promise<void> | undefined;
  #generation = 0;

  constructor(url: URL, options: RemoteJwksOptions) {
    this.#url = url;
    this.#options = options;
  }

  get generation(): number {
    return this.#generation;
  }

  async resolve(header: CompactJWSHeaderParameters, token: FlattenedJWSInput): Promise<CryptoKey> {
    const now = this.#options.now();
    if (this.#local === undefined) {
      if (!this.#mayFetch(now)) throw new JwtKeysUnavailable('token signing keys are unavailable');
      await this.#refresh();
    } else if (now - this.#fetchedAt >= this.#options.maxAgeMs && this.#mayFetch(now)) {
      // A failed refresh keeps the keys we have; it is logged and retried after the cooldown.
      await this.#refresh().catch(() => undefined);
    }
    try {
      return await (this.#local as LocalKeySet)(header, token);
    } catch (err) {
      if (!(err instanceof errors.JWKSNoMatchingKey)) throw err;
      if (!this.#mayFetch(this.#options.now())) throw new JwtUnknownKey('no signing key matches the token');
      await this.#refresh();
      return (this.#local as LocalKeySet)(header, token);
    }
  }

  #mayFetch(now: number): boolean {
    return this.#pending !== undefined || now - this.#attemptedAt >= this.#options.cooldownMs;
  }

  #refresh(): Promise<void> {
    this.#pending ??= this.#fetch().finally(() => {
      this.#pending = undefined;
    });
    return this.#pending;
  }

  async #fetch(): Promise<void> {
    const { logger, now } = this.#options;
    this.#attemptedAt = now();
    let document: unknown;
    try {
      document = await fetchDocument(this.#url, this.#options.timeoutMs, this.#options.maxBytes);
    } catch (err) {
      logger.warn('jwks fetch failed', { reason: err instanceof Error ? err.name : typeof err });
      throw new JwtKeysUnavailable('token signing keys are unavailable', { cause: err });
    }
    const set = signingKeySet(document);
    if (set === undefined) {
      logger.warn('jwks response is not a JWK set');
      throw new JwtKeysUnavailable('token signing keys are unavailable');
    }
    this.#fetchedAt = now();
    if (set.dropped > 0) logger.debug('jwks members ignored', { ignored: set.dropped });
    const fingerprint = JSON.stringify(set.jwks.keys);
    if (fingerprint === this.#fingerprint) return;
    const first = this.#fingerprint === undefined;
    this.#fingerprint = fingerprint;
    this.#local = createLocalJWKSet(set.jwks);
    // The first set cannot revoke anything, so tokens verified while it loads stay cacheable.
    if (first) return;
    this.#generation++;
    logger.info('jwks key set changed', { keys: set.jwks.keys.length });
    this.#options.onKeysChanged?.(set.kids);
  }
}
