// One session at a time per tenant backend: a fair FIFO lock with a bounded wait. A PGlite
// instance is a single PostgreSQL session, so a session holds it from its first message until its
// transaction ends (ReadyForQuery 'I'); others queue behind it.
import { ServerSessionWaitTimeout } from '../errors.js';

interface Waiter {
  readonly owner: object;
  readonly resolve: () => void;
  readonly reject: (err: unknown) => void;
  done: boolean;
}

export class TenantGate {
  readonly tenant: string;
  #holder: object | undefined;
  #queue: Waiter[] = [];
  #head = 0;
  /** Who the backend's identity settings (app.tenant_id, app.user) were last set for. */
  identityOwner: object | undefined;
  /** The backend object those settings were set on; a replaced backend starts clean. */
  identityBackend: object | undefined;

  constructor(tenant: string) {
    this.tenant = tenant;
  }

  get holder(): object | undefined {
    return this.#holder;
  }

  get waiting(): number {
    return this.#queue.length - this.#head;
  }

  /** True when nobody holds or waits for the gate. */
  get idle(): boolean {
    return this.#holder === undefined && this.waiting === 0;
  }

  /**
   * Resolves once `owner` holds the gate (at once if free or already held by `owner`). Rejects
   * with `ServerSessionWaitTimeout` after `timeoutMs`, or with the signal's reason when aborted.
   */
  acquire(owner: object, timeoutMs: number, signal?: AbortSignal): Promise<void> {
    if (this.#holder === owner) return Promise.resolve();
    if (this.#holder === undefined && this.waiting === 0) {
      this.#holder = owner;
      return Promise.resolve();
    }
    if (signal?.aborted === true) return Promise.reject(signal.reason);
    return new Promise<void>((resolve, reject) => {
      const finish = (): void => {
        clearTimeout(timer);
        signal?.removeEventListener('abort', onAbort);
      };
      const waiter: Waiter = {
        owner,
        done: false,
        resolve: () => {
          finish();
          resolve();
        },
        reject: (err) => {
          finish();
          reject(err);
        },
      };
      const drop = (err: unknown): void => {
        if (waiter.done) return;
        waiter.done = true;
        waiter.reject(err);
        this.#compact();
      };
      const timer = setTimeout(
        () => drop(new ServerSessionWaitTimeout(`canceling statement: tenant backend still busy after ${Math.round(timeoutMs / 1000)} s`)),
        timeoutMs,
      );
      const onAbort = (): void => drop(signal?.reason);
      signal?.addEventListener('abort', onAbort, { once: true });
      this.#queue.push(waiter);
    });
  }

  /** Hands the gate to the next live waiter, in arrival order. No-op unless `owner` holds it. */
  release(owner: object): void {
    if (this.#holder !== owner) return;
    this.#holder = undefined;
    while (this.#head < this.#queue.length) {
      const next = this.#queue[this.#head]!;
      this.#queue[this.#head++] = undefined as unknown as Waiter;
      if (next.done) continue;
      next.done = true;
      this.#holder = next.owner;
      this.#compact();
      next.resolve();
      return;
    }
    this.#compact();
  }

  #compact(): void {
    while (this.#head < this.#queue.length && this.#queue[this.#head]?.done === true) this.#head++;
    if (this.#head === this.#queue.length) {
      this.#queue = [];
      this.#head = 0;
    } else if (this.#head > 64 && this.#head * 2 > this.#queue.length) {
      this.#queue = this.#queue.slice(this.#head);
      this.#head = 0;
    }
  }
}

/** Idle gates are kept (they remember whose identity the backend carries) up to this many. */
const KEEP_IDLE_GATES = 4096;

/** The gates of the tenants in use; idle ones are dropped only when there are many. */
export class TenantGates {
  readonly #gates = new Map<string, TenantGate>();

  get(tenant: string): TenantGate {
    let gate = this.#gates.get(tenant);
    if (gate === undefined) {
      gate = new TenantGate(tenant);
      this.#gates.set(tenant, gate);
    }
    return gate;
  }

  /** Forgets the gate if nobody holds or waits and many gates exist (its identity memory goes with it). */
  sweep(gate: TenantGate): void {
    if (this.#gates.size > KEEP_IDLE_GATES && gate.idle && this.#gates.get(gate.tenant) === gate) this.#gates.delete(gate.tenant);
  }

  get size(): number {
    return this.#gates.size;
  }
}
