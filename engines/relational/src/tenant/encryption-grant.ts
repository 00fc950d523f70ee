// Encryption budget for a DEK used in a worker thread. The main thread's keyring owns the per-DEK
// count (AES-GCM random-nonce limit) and persists reservations; it grants the worker blocks of
// encryptions through shared memory, and the worker never seals beyond what was granted.
//
// Shared layout: `signal` Int32Array [0] = generation (bumped and notified on every answer),
// [1 + i] = 1 when slot i was refused; `granted` BigInt64Array [i] = encryptions granted so far
// for slot i (one slot per DEK version, in the order the worker was given them).
// The worker asks for more (a message) once fewer than REFILL_AT remain, so it normally never
// waits; if it runs dry it blocks on the generation (Atomics.wait) until the answer arrives.
import { EncryptionBudget, KeyUsageExhausted } from '@weftkit/kernel';

/** Encryptions granted when a tenant opens (a new tenant's template copy takes about 1,500). */
export const INITIAL_GRANT = 8192;
/** Encryptions granted per refill. */
export const REFILL_GRANT = 32768;
const REFILL_AT = 8192;
/** Local reservation step: how often the worker looks at its grant. */
const LOCAL_BLOCK = 256;
const DEFAULT_WAIT_MS = 10_000;

export interface GrantChannel {
  readonly signal: SharedArrayBuffer;
  readonly granted: SharedArrayBuffer;
  /** DEK version of each slot. */
  readonly versions: readonly number[];
}

export function createGrantChannel(versions: readonly number[]): GrantChannel {
  return {
    signal: new SharedArrayBuffer(4 * (1 + versions.length)),
    granted: new SharedArrayBuffer(8 * versions.length),
    versions: [...versions],
  };
}

/** Main-thread side: records an answer to a refill request (or to the initial grant). */
export function answerGrant(channel: GrantChannel, version: number, reserve: (version: number) => number): void {
  const i = channel.versions.indexOf(version);
  if (i < 0) return;
  const signal = new Int32Array(channel.signal);
  try {
    const n = reserve(version);
    Atomics.add(new BigInt64Array(channel.granted), i, BigInt(n));
  } catch {
    Atomics.store(signal, 1 + i, 1);
  }
  Atomics.add(signal, 0, 1);
  Atomics.notify(signal, 0);
}

/** Worker side: one EncryptionBudget per DEK version, spending only what the main thread granted. */
export class GrantedBudgets {
  readonly #signal: Int32Array;
  readonly #granted: BigInt64Array;
  readonly #versions: readonly number[];
  readonly #ask: (version: number) => void;
  readonly #askedAt: (number | undefined)[];
  readonly #budgets = new Map<number, EncryptionBudget>();
  readonly #waitMs: number;

  /** `waitMs`: how long to block for an answer once the grant is spent (default 10 s). */
  constructor(channel: GrantChannel, ask: (version: number) => void, waitMs: number = DEFAULT_WAIT_MS) {
    this.#waitMs = waitMs;
    this.#signal = new Int32Array(channel.signal);
    this.#granted = new BigInt64Array(channel.granted);
    this.#versions = channel.versions;
    this.#ask = ask;
    this.#askedAt = channel.versions.map(() => undefined);
  }

  budget(version: number): EncryptionBudget {
    let b = this.#budgets.get(version);
    if (b === undefined) {
      const i = this.#versions.indexOf(version);
      b = new EncryptionBudget({
        hardLimit: Number.MAX_SAFE_INTEGER,
        softLimit: Number.MAX_SAFE_INTEGER,
        reservationBlock: LOCAL_BLOCK,
        reserve: (ceiling) => this.#ensure(i, version, ceiling),
      });
      this.#budgets.set(version, b);
    }
    return b;
  }

  #ensure(i: number, version: number, ceiling: number): void {
    if (i < 0) throw new KeyUsageExhausted('no encryption budget for this key version');
    for (;;) {
      const gen = Atomics.load(this.#signal, 0);
      const granted = Number(Atomics.load(this.#granted, i));
      if (granted - ceiling < REFILL_AT && this.#askedAt[i] !== granted && Atomics.load(this.#signal, 1 + i) === 0) {
        this.#askedAt[i] = granted;
        this.#ask(version);
      }
      if (granted >= ceiling) return;
      if (Atomics.load(this.#signal, 1 + i) !== 0) throw new KeyUsageExhausted('data key reached its encryption limit');
      if (Atomics.wait(this.#signal, 0, gen, this.#waitMs) === 'timed-out' && Number(Atomics.load(this.#granted, i)) < ceiling) {
        throw new KeyUsageExhausted('no encryption budget granted in time');
      }
    }
  }
}
