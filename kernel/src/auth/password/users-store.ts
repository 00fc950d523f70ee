import { loadUsersFile, parseUsersFile, type UserRecord, type UsersFile } from './users-file.js';
import type { PasswordScheme } from './users-file-write.js';
import { SCRAM_MIN_ITERATIONS } from './scram-verifier.js';

/** What most users in the file look like; unknown users are made to look the same. */
export interface UsersProfile {
  /** The most common bcrypt cost (12 when there are no bcrypt users). */
  readonly bcryptCost: number;
  /** The most common SCRAM iteration count (4096 when there are no SCRAM users). */
  readonly scramIterations: number;
  /** The scheme most users have (SCRAM on a tie or an empty file). */
  readonly scheme: PasswordScheme;
}

function mode(values: readonly number[], fallback: number): number {
  const counts = new Map<number, number>();
  for (const v of values) counts.set(v, (counts.get(v) ?? 0) + 1);
  let best = fallback;
  let bestCount = 0;
  for (const [v, c] of counts) {
    if (c > bestCount || (c === bestCount && v > best)) {
      best = v;
      bestCount = c;
    }
  }
  return best;
}

function profileOf(file: UsersFile): UsersProfile {
  const costs: number[] = [];
  const iterations: number[] = [];
  for (const { hash } of file.users.values()) {
    if (hash.scheme === 'bcrypt') costs.push(hash.cost);
    else iterations.push(hash.secret.iterations);
  }
  return Object.freeze({
    bcryptCost: mode(costs, 12),
    scramIterations: mode(iterations, SCRAM_MIN_ITERATIONS),
    scheme: costs.length > iterations.length ? 'bcrypt' : 'scram-sha-256',
  });
}

/**
 * The loaded users file. `reload()` re-reads it and swaps the whole state at once; a bad file
 * leaves the old state in place and rejects with the coded error (the caller logs it).
 */
export class UsersStore {
  readonly #path: string | undefined;
  #file: UsersFile;
  #profile: UsersProfile;
  #generation = 0;
  #reloading: Promise<void> = Promise.resolve();

  constructor(file: UsersFile, path?: string) {
    this.#file = file;
    this.#profile = profileOf(file);
    this.#path = path;
  }

  static async load(path: string): Promise<UsersStore> {
    return new UsersStore(await loadUsersFile(path), path);
  }

  static fromText(text: string): UsersStore {
    return new UsersStore(parseUsersFile(text));
  }

  get(name: string): UserRecord | undefined {
    return this.#file.users.get(name);
  }

  get size(): number {
    return this.#file.users.size;
  }

  get profile(): UsersProfile {
    return this.#profile;
  }

  /** Bumped on every successful reload; caches keyed on the old file compare against it. */
  get generation(): number {
    return this.#generation;
  }

  /** Re-reads the file (serialized: overlapping calls run one after another). */
  reload(): Promise<void> {
    const path = this.#path;
    if (path === undefined) return Promise.reject(new TypeError('this UsersStore was not loaded from a file'));
    const next = this.#reloading.then(async () => {
      const file = await loadUsersFile(path);
      this.#file = file;
      this.#profile = profileOf(file);
      this.#generation++;
    });
    this.#reloading = next.catch(() => {});
    return next;
  }
}
