import { KeyVersionUnknown, PageCipher, type PageCipherSource } from '@weftkit/kernel';
import type { GrantedBudgets } from './encryption-grant.js';

/** A tenant's ciphers inside its worker, built from DEKs the main thread handed over. */
export class WorkerCiphers implements PageCipherSource {
  readonly tenant: string;
  #current: number;
  readonly #keys: Map<number, Buffer>;
  readonly #budgets: GrantedBudgets;
  readonly #ciphers = new Map<string, PageCipher>();

  /** Takes ownership of `keys`: they are zeroed by `destroy()`. */
  constructor(tenant: string, currentVersion: number, keys: Map<number, Buffer>, budgets: GrantedBudgets) {
    this.tenant = tenant;
    this.#current = currentVersion;
    this.#keys = keys;
    this.#budgets = budgets;
  }

  /** The version new files are created under (moves forward on a DEK rotation). */
  get currentVersion(): number {
    return this.#current;
  }

  /** Takes ownership of `key` (a new DEK version, from a rotation) and makes `current` the version for new files. */
  addKey(version: number, key: Buffer, current: number): void {
    if (this.#keys.has(version)) key.fill(0);
    else this.#keys.set(version, key);
    if (!this.#keys.has(current)) throw new KeyVersionUnknown('no data key with that version for this tenant');
    this.#current = current;
  }

  /** Zeroes a retired version's key and ciphers (no file uses it any more). */
  forget(version: number): void {
    if (version === this.#current) return;
    for (const [id, c] of this.#ciphers) {
      if (c.keyVersion !== version) continue;
      c.destroy();
      this.#ciphers.delete(id);
    }
    this.#keys.get(version)?.fill(0);
    this.#keys.delete(version);
  }

  cipher(version: number = this.#current, pageSize = 8192): PageCipher {
    const id = `${version}/${pageSize}`;
    let c = this.#ciphers.get(id);
    if (c === undefined) {
      const key = this.#keys.get(version);
      if (key === undefined) throw new KeyVersionUnknown('no data key with that version for this tenant');
      c = new PageCipher({ key, tenant: this.tenant, keyVersion: version, pageSize, budget: this.#budgets.budget(version) });
      this.#ciphers.set(id, c);
    }
    return c;
  }

  destroy(): void {
    for (const c of this.#ciphers.values()) c.destroy();
    this.#ciphers.clear();
    for (const k of this.#keys.values()) k.fill(0);
    this.#keys.clear();
  }
}
