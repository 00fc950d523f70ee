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

interface Channel {
  readonly signal: Int32Array;
  readonly granted: BigInt64Array;
  readonly versions: readonly number[];
  readonly askedAt: (number | undefined)[];
}

/**
 * Worker side: one EncryptionBudget per DEK version, spending only what the main thread granted.
 * A DEK rotation adds a channel for the new version (`addChannel`); a version is served by the
 * first channel that lists it, on both sides.
 */
export class GrantedBudgets {
  readonly #channels: Channel[] = [];
  readonly #ask: (version: number) => void;
  readonly #budgets = new Map<number, EncryptionBudget>();
  readonly #waitMs: number;

  /** `waitMs`: how long to block for an answer once the grant is spent (default 10 s). */
  constructor(channel: GrantChannel, ask: (version: number) => void, waitMs: number = DEFAULT_WAIT_MS) {
    this.#waitMs = waitMs;
    this.#ask = ask;
    this.addChannel(channel);
  }

  addChannel(channel: GrantChannel): void {
    this.#channels.push({
      signal: new Int32Array(channel.signal),
      granted: new BigInt64Array(channel.granted),
      versions: channel.versions,
      askedAt: channel.versions.map(() => undefined),
    });
  }

  budget(version: number): EncryptionBudget {
    let b = this.#budgets.get(version);
    if (b === undefined) {
      const c = this.#channels.find((ch) => ch.versions.includes(version));
      const i = c === undefined ? -1 : c.versions.indexOf(version);
      b = new EncryptionBudget({
        hardLimit: Number.MAX_SAFE_INTEGER,
        softLimit: Number.MAX_SAFE_INTEGER,
        reservationBlock: LOCAL_BLOCK,
        reserve: (ceiling) => this.#ensure(c, i, version, ceiling),
      });
      this.#budgets.set(version, b);
    }
    return b;
  }

  #ensure(c: Channel | undefined, i: number, version: number, ceiling: number): void {
    if (c === undefined || i < 0) throw new KeyUsageExhausted('no encryption budget for this key version');
    for (;;) {
      const gen = Atomics.load(c.signal, 0);
      const granted = Number(Atomics.load(c.granted, i));
      if (granted - ceiling < REFILL_AT && c.askedAt[i] !== granted && Atomics.load(c.signal, 1 + i) === 0) {
        c.askedAt[i] = granted;
        this.#ask(version);
      }
      if (granted >= ceiling) return;
      if (Atomics.load(c.signal, 1 + i) !== 0) throw new KeyUsageExhausted('data key reached its encryption limit');
      if (Atomics.wait(c.signal, 0, gen, this.#waitMs) === 'timed-out' && Number(Atomics.load(c.granted, i)) < ceiling) {
        throw new KeyUsageExhausted('no encryption budget granted in time');
      }
    }
  }
}
