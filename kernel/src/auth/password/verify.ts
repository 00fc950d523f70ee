import { createHmac, randomBytes, randomInt, timingSafeEqual } from 'node:crypto';
import bcrypt from 'bcrypt';
import { type ScramSecret, saltedPassword, scramKeys } from './scram-verifier.js';
import type { PasswordHash } from './users-file.js';
import type { UsersStore } from './users-store.js';

/** The slow functions, injectable so tests can see that they run. */
export interface PasswordKdf {
  bcryptCompare(password: string, hash: string): Promise<boolean>;
  /** SCRAM SaltedPassword (PBKDF2-HMAC-SHA-256 over the SASLprep'd password). */
  scramSaltedPassword(password: string, salt: Buffer, iterations: number): Promise<Buffer>;
}

export const defaultKdf: PasswordKdf = Object.freeze({
  bcryptCompare: (password: string, hash: string) => bcrypt.compare(password, hash),
  scramSaltedPassword: saltedPassword,
});

/** Longer passwords are refused before any lookup or hashing. */
export const MAX_PASSWORD_BYTES = 1024;

/** Checks `password` against one stored hash, off the event loop; constant-time key compare. */
export async function verifyPasswordHash(hash: PasswordHash, password: string, kdf: PasswordKdf = defaultKdf): Promise<boolean> {
  if (hash.scheme === 'bcrypt') return kdf.bcryptCompare(password, hash.text);
  return verifyScram(hash.secret, password, kdf);
}

async function verifyScram(secret: ScramSecret, password: string, kdf: PasswordKdf): Promise<boolean> {
  const salted = await kdf.scramSaltedPassword(password, secret.salt, secret.iterations);
  const { storedKey } = scramKeys(salted);
  salted.fill(0);
  return timingSafeEqual(storedKey, secret.storedKey);
}

const BCRYPT_ALPHABET = './ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789';

/** A well-formed bcrypt hash nobody knows the password of: comparing costs a full bcrypt. */
function dummyBcrypt(cost: number): PasswordHash {
  const chars = (n: number): string => Array.from({ length: n }, () => BCRYPT_ALPHABET[randomInt(64)]).join('');
  // The 22nd salt character carries 2 bits; '.', 'O', 'e', 'u' keep the other 4 zero.
  const text = `$2b$${String(cost).padStart(2, '0')}$${chars(21)}${'.Oeu'[randomInt(4)]}${chars(31)}`;
  return { scheme: 'bcrypt', text, cost };
}

function dummyScram(iterations: number): PasswordHash {
  const secret = { iterations, salt: randomBytes(16), storedKey: randomBytes(32), serverKey: randomBytes(32) };
  return { scheme: 'scram-sha-256', text: '', secret };
}

export interface PasswordVerifierOptions {
  /** How long a successful verification is remembered (seconds, default 60; 0 disables). */
  cacheTtlSeconds?: number;
  /** Most remembered verifications (default 10000); the oldest go first. */
  cacheMaxEntries?: number;
  /** Milliseconds clock; tests inject one. */
  now?: () => number;
  kdf?: PasswordKdf;
}

/**
 * Verifies cleartext passwords (Basic auth, PostgreSQL cleartext) against the users file.
 * Unknown users cost the same KDF work as known ones, against a dummy hash shaped like the
 * file's users. Successes are cached under HMAC(per-process key, user NUL password), never
 * the password itself; the cache empties when the users file is reloaded.
 */
export class PasswordVerifier {
  readonly #users: UsersStore;
  readonly #kdf: PasswordKdf;
  readonly #ttlMs: number;
  readonly #maxEntries: number;
  readonly #now: () => number;
  readonly #cacheKey: Buffer = randomBytes(32);
  readonly #cache = new Map<string, number>();
  #generation: number;
  #dummy: PasswordHash | undefined;

  constructor(users: UsersStore, options: PasswordVerifierOptions = {}) {
    this.#users = users;
    this.#kdf = options.kdf ?? defaultKdf;
    this.#ttlMs = (options.cacheTtlSeconds ?? 60) * 1000;
    this.#maxEntries = options.cacheMaxEntries ?? 10_000;
    this.#now = options.now ?? Date.now;
    this.#generation = users.generation;
  }

  /** True when `password` is right for `user`; false for a wrong password or an unknown user alike. */
  async verifyPassword(user: string, password: string): Promise<boolean> {
    if (Buffer.byteLength(password, 'utf8') > MAX_PASSWORD_BYTES) return false;
    if (this.#users.generation !== this.#generation) {
      this.#generation = this.#users.generation;
      this.clearCache();
    }
    const key = this.#ttlMs > 0 ? this.#key(user, password) : '';
    if (key !== '' && this.#cached(key)) return true;
    const record = this.#users.get(user);
    if (record === undefined) {
      await verifyPasswordHash(this.#dummyHash(), password, this.#kdf);
      return false;
    }
    const ok = await verifyPasswordHash(record.hash, password, this.#kdf);
    if (ok && key !== '' && this.#users.get(user) === record) this.#remember(key);
    return ok;
  }

  clearCache(): void {
    this.#cache.clear();
  }

  /** Entries currently cached (for tests and metrics). */
  get cacheSize(): number {
    return this.#cache.size;
  }

  #key(user: string, password: string): string {
    return createHmac('sha256', this.#cacheKey).update(user).update('\0').update(password).digest('base64');
  }

  #cached(key: string): boolean {
    const expires = this.#cache.get(key);
    if (expires === undefined) return false;
    if (expires > this.#now()) return true;
    this.#cache.delete(key);
    return false;
  }

  #remember(key: string): void {
    this.#cache.delete(key);
    while (this.#cache.size >= this.#maxEntries) {
      const oldest = this.#cache.keys().next();
      if (oldest.done === true) break;
      this.#cache.delete(oldest.value);
    }
    this.#cache.set(key, this.#now() + this.#ttlMs);
  }

  #dummyHash(): PasswordHash {
    const profile = this.#users.profile;
    const d = this.#dummy;
    const fits =
      d !== undefined &&
      (profile.scheme === 'bcrypt'
        ? d.scheme === 'bcrypt' && d.cost === profile.bcryptCost
        : d.scheme === 'scram-sha-256' && d.secret.iterations === profile.scramIterations);
    if (fits) return d;
    this.#dummy = profile.scheme === 'bcrypt' ? dummyBcrypt(profile.bcryptCost) : dummyScram(profile.scramIterations);
    return this.#dummy;
  }
}
