import { createHash } from 'node:crypto';

/** What a verified token proved, kept so a repeated token skips signature verification. */
export interface VerifiedIdentity {
  readonly identity: string;
  readonly tenant: string;
  readonly roles: readonly string[];
  readonly claims: Readonly<Record<string, unknown>>;
  /** `kid` of the key that verified the token (undefined when the token named none). */
  readonly kid: string | undefined;
}

interface Entry {
  readonly value: VerifiedIdentity;
  /** Epoch ms after which the entry must not be used: min(exp + tolerance, verified + ttl). */
  readonly until: number;
}

/** The cache key: a token's SHA-256, so the cache never holds token text. */
export function tokenDigest(token: string): string {
  return createHash('sha256').update(token, 'utf8').digest('base64');
}

/** Bounded map of verified tokens; the oldest entry is evicted first. Only successes are stored. */
export class VerifiedTokenCache {
  readonly #entries = new Map<string, Entry>();
  readonly #maxEntries: number;

  constructor(maxEntries: number) {
    this.#maxEntries = maxEntries;
  }

  get size(): number {
    return this.#entries.size;
  }

  get(digest: string, now: number): VerifiedIdentity | undefined {
    const entry = this.#entries.get(digest);
    if (entry === undefined) return undefined;
    if (now >= entry.until) {
      this.#entries.delete(digest);
      return undefined;
    }
    return entry.value;
  }

  set(digest: string, value: VerifiedIdentity, until: number): void {
    if (this.#maxEntries === 0) return;
    this.#entries.delete(digest);
    while (this.#entries.size >= this.#maxEntries) {
      const oldest = this.#entries.keys().next();
      if (oldest.done === true) break;
      this.#entries.delete(oldest.value);
    }
    this.#entries.set(digest, { value, until });
  }

  /** After a key set change: keeps only entries verified by a `kid` still present. */
  retainKids(kids: ReadonlySet<string>): void {
    for (const [digest, entry] of this.#entries) {
      if (entry.value.kid === undefined || !kids.has(entry.value.kid)) this.#entries.delete(digest);
    }
  }

  clear(): void {
    this.#entries.clear();
  }
}
