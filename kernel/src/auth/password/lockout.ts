import { AuthLockedOut } from '../../errors.js';

export interface LockoutOptions {
  /** Failures count within this many seconds of the first one (default 60). */
  failureWindowSeconds?: number;
  /** This many failures in the window lock the (user, peer IP) pair (default 5). */
  failureLimit?: number;
  /** How long a lockout lasts (default 300). */
  lockoutSeconds?: number;
  /** Most (user, IP) pairs tracked with failures (default 10000); the least recently touched go first. */
  maxEntries?: number;
  /** Most locked pairs kept (default 10000). Kept apart so spraying new names cannot evict a lock. */
  maxLocked?: number;
  /** Milliseconds clock; tests inject one. */
  now?: () => number;
}

interface Window {
  start: number;
  failures: number;
}

/** The IP part of a peer `ip:port` (`[v6]:port` or `v6:port` too). */
export function peerAddress(peer: string): string {
  if (peer.startsWith('[')) {
    const end = peer.indexOf(']');
    return end > 0 ? peer.slice(1, end) : peer;
  }
  const colon = peer.lastIndexOf(':');
  return colon > 0 ? peer.slice(0, colon) : peer;
}

/**
 * Failed-login lockout per (user, peer IP). Memory is bounded by `maxEntries + maxLocked`
 * whatever names an attacker tries; expired state is dropped when next touched.
 */
export class LoginLockout {
  readonly #windowMs: number;
  readonly #limit: number;
  readonly #lockMs: number;
  readonly #maxEntries: number;
  readonly #maxLocked: number;
  readonly #now: () => number;
  readonly #windows = new Map<string, Window>();
  /** key → locked until (ms). */
  readonly #locked = new Map<string, number>();

  constructor(options: LockoutOptions = {}) {
    this.#windowMs = (options.failureWindowSeconds ?? 60) * 1000;
    this.#limit = options.failureLimit ?? 5;
    this.#lockMs = (options.lockoutSeconds ?? 300) * 1000;
    this.#maxEntries = options.maxEntries ?? 10_000;
    this.#maxLocked = options.maxLocked ?? 10_000;
    this.#now = options.now ?? Date.now;
    if (!(this.#limit >= 1) || !(this.#windowMs > 0) || !(this.#lockMs >= 0) || !(this.#maxEntries >= 1) || !(this.#maxLocked >= 1)) {
      throw new RangeError('lockout options out of range');
    }
  }

  /** Throws `AuthLockedOut` if the pair is locked. Call before verifying the password. */
  check(user: string, ip: string): void {
    const key = `${user}\0${ip}`;
    const until = this.#locked.get(key);
    if (until === undefined) return;
    const now = this.#now();
    if (until > now) throw new AuthLockedOut(Math.ceil((until - now) / 1000));
    this.#locked.delete(key);
  }

  /** Records a failure; returns true when this failure started a lockout. */
  recordFailure(user: string, ip: string): boolean {
    const key = `${user}\0${ip}`;
    const now = this.#now();
    let w = this.#windows.get(key);
    if (w === undefined || now - w.start >= this.#windowMs) w = { start: now, failures: 0 };
    w.failures++;
    this.#windows.delete(key);
    if (w.failures < this.#limit) {
      this.#windows.set(key, w);
      evictOldest(this.#windows, this.#maxEntries);
      return false;
    }
    this.#locked.delete(key);
    this.#locked.set(key, now + this.#lockMs);
    evictOldest(this.#locked, this.#maxLocked);
    return true;
  }

  /** A success clears the pair's failure window. */
  recordSuccess(user: string, ip: string): void {
    this.#windows.delete(`${user}\0${ip}`);
  }

  /** Pairs tracked (windows + locks), for tests and metrics. */
  get size(): number {
    return this.#windows.size + this.#locked.size;
  }
}

function evictOldest(map: Map<string, unknown>, max: number): void {
  while (map.size > max) {
    const oldest = map.keys().next();
    if (oldest.done === true) return;
    map.delete(oldest.value);
  }
}
