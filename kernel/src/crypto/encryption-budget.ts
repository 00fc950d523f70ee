import { KeyUsageExhausted } from '../errors.js';

// AES-GCM with random 96-bit nonces: NIST SP 800-38D §8.3 caps one key at 2^32 invocations, which
// keeps the nonce-collision probability below 2^-32. We stop at half of that (2^31, a collision
// probability near 2^-35) and ask for a DEK rotation from 2^30 on.
export const DEFAULT_HARD_LIMIT: number = 2 ** 31;
export const DEFAULT_SOFT_LIMIT: number = 2 ** 30;
/** Encryptions reserved per durable keyring write; a restart forfeits at most this many. */
export const DEFAULT_RESERVATION_BLOCK: number = 2 ** 16;

export interface EncryptionBudgetOptions {
  /** Encryptions already spent (or reserved) with this key, as recorded durably. */
  used?: number;
  hardLimit?: number;
  softLimit?: number;
  reservationBlock?: number;
  /**
   * Records `ceiling` durably before encryptions up to it happen (synchronously: page writes are
   * synchronous for PGlite). Throwing refuses the encryption. Without it the count lives in memory.
   */
  reserve?: (ceiling: number) => void;
  /** Called once when the count crosses `softLimit`. */
  onRotationDue?: () => void;
}

/** Counts encryptions under one key; shared by every cipher holding that key. */
export class EncryptionBudget {
  readonly hardLimit: number;
  readonly softLimit: number;
  #used: number;
  #reserved: number;
  readonly #block: number;
  readonly #reserve: ((ceiling: number) => void) | undefined;
  readonly #onRotationDue: (() => void) | undefined;
  #signalled: boolean;

  constructor(options: EncryptionBudgetOptions = {}) {
    this.hardLimit = options.hardLimit ?? DEFAULT_HARD_LIMIT;
    this.softLimit = Math.min(options.softLimit ?? DEFAULT_SOFT_LIMIT, this.hardLimit);
    this.#used = options.used ?? 0;
    this.#reserved = options.reserve === undefined ? Number.POSITIVE_INFINITY : this.#used;
    this.#block = Math.max(1, options.reservationBlock ?? DEFAULT_RESERVATION_BLOCK);
    this.#reserve = options.reserve;
    this.#onRotationDue = options.onRotationDue;
    this.#signalled = this.#used >= this.softLimit;
  }

  get used(): number {
    return this.#used;
  }

  /** True once the key should be replaced (soft limit reached). */
  get rotationDue(): boolean {
    return this.#used >= this.softLimit;
  }

  /** Spends one encryption; throws `KeyUsageExhausted` at the hard limit. */
  take(): void {
    if (this.#used >= this.hardLimit) throw new KeyUsageExhausted('data key reached its encryption limit; rotate the tenant key');
    if (this.#used >= this.#reserved) {
      const ceiling = Math.min(this.#used + this.#block, this.hardLimit);
      this.#reserve!(ceiling);
      this.#reserved = ceiling;
    }
    this.#used++;
    if (!this.#signalled && this.#used >= this.softLimit) {
      this.#signalled = true;
      this.#onRotationDue?.();
    }
  }
}
