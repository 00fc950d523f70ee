// BackendKeyData per connection and the CancelRequests that name it. Keys are random, so a
// CancelRequest (sent unauthenticated, on a new connection) works only for whoever saw the key.
import { randomInt, timingSafeEqual } from 'node:crypto';

export interface Cancellable {
  cancel(): void;
}

export interface CancelKey {
  readonly processId: number;
  readonly secretKey: number;
}

const INT32_MAX = 0x7fffffff;

function int32Bytes(n: number): Buffer {
  const b = Buffer.allocUnsafe(4);
  b.writeInt32BE(n | 0);
  return b;
}

export class CancelRegistry {
  readonly #entries = new Map<number, { readonly secret: Buffer; readonly target: Cancellable }>();

  /** A fresh key for `target`; `unregister` it when the connection closes. */
  register(target: Cancellable): CancelKey {
    let processId: number;
    do processId = randomInt(1, INT32_MAX);
    while (this.#entries.has(processId));
    const secretKey = randomInt(-INT32_MAX, INT32_MAX) | 0;
    this.#entries.set(processId, { secret: int32Bytes(secretKey), target });
    return { processId, secretKey };
  }

  unregister(key: CancelKey): void {
    this.#entries.delete(key.processId);
  }

  /** Cancels the connection the key names; a wrong or stale key does nothing. Returns whether it matched. */
  cancel(processId: number, secretKey: number): boolean {
    const entry = this.#entries.get(processId);
    if (entry === undefined || !timingSafeEqual(entry.secret, int32Bytes(secretKey))) return false;
    entry.target.cancel();
    return true;
  }

  get size(): number {
    return this.#entries.size;
  }
}
