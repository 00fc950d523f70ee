import { KeyVersionUnknown, PageCipher, type PageCipherSource } from '@weftkit/kernel';
import type { GrantedBudgets } from './encryption-grant.js';

/** A tenant's ciphers inside its worker, built from DEKs the main thread handed over. */
export class WorkerCiphers implements PageCipherSource {
  readonly tenant: string;
  readonly currentVersion: number;
  readonly #keys: Map<number, Buffer>;
  readonly #budgets: GrantedBudgets;
  readonly #ciphers = new Map<string, PageCipher>();

  /** Takes ownership of `keys`: they are zeroed by `destroy()`. */
  constructor(tenant: string, currentVersion: number, keys: Map<number, Buffer>, budgets: GrantedBudgets) {
    this.tenant = tenant;
    this.currentVersion = currentVersion;
    this.#keys = keys;
    this.#budgets = budgets;
  }

  cipher(version: number = this.currentVersion, pageSize = 8192): PageCipher {
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
