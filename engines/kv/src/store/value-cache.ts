// Recently written or read values, least recently used first out, bounded in bytes. Entries are
// tagged with the item version, so a stale value is never served.
interface Cached {
  readonly version: number;
  readonly value: Buffer;
}

export class ValueCache {
  readonly #map = new Map<string, Cached>();
  readonly #limit: number;
  #bytes = 0;

  constructor(limitBytes: number) {
    this.#limit = Math.max(0, limitBytes);
  }

  get(key: string, version: number): Buffer | null {
    const c = this.#map.get(key);
    if (c === undefined || c.version !== version) return null;
    this.#map.delete(key);
    this.#map.set(key, c);
    return c.value;
  }

  set(key: string, version: number, value: Buffer): void {
    this.delete(key);
    const cost = value.length + key.length * 2 + 64;
    if (cost > this.#limit >> 4) return;
    this.#map.set(key, { version, value });
    this.#bytes += cost;
    while (this.#bytes > this.#limit) {
      const oldest = this.#map.keys().next();
      if (oldest.done === true) break;
      this.delete(oldest.value);
    }
  }

  delete(key: string): void {
    const c = this.#map.get(key);
    if (c === undefined) return;
    this.#map.delete(key);
    this.#bytes -= c.value.length + key.length * 2 + 64;
  }

  clear(): void {
    this.#map.clear();
    this.#bytes = 0;
  }
}
