// A binary min-heap of (expiresAt, key, version): the TTL sweeper pops what is due. Stale
// entries (the key was rewritten or deleted since) are skipped by the caller, not removed here.
export interface ExpiryItem {
  readonly at: number;
  readonly key: string;
  readonly version: number;
}

export class ExpiryQueue {
  readonly #heap: ExpiryItem[] = [];

  get size(): number {
    return this.#heap.length;
  }

  push(item: ExpiryItem): void {
    const h = this.#heap;
    h.push(item);
    let i = h.length - 1;
    while (i > 0) {
      const parent = (i - 1) >> 1;
      if (h[parent]!.at <= item.at) break;
      h[i] = h[parent]!;
      i = parent;
    }
    h[i] = item;
  }

  /** Removes and returns every item due at `now`, up to `max`. */
  popDue(now: number, max: number): ExpiryItem[] {
    const out: ExpiryItem[] = [];
    while (out.length < max && this.#heap.length > 0 && this.#heap[0]!.at <= now) out.push(this.#pop());
    return out;
  }

  #pop(): ExpiryItem {
    const h = this.#heap;
    const top = h[0]!;
    const last = h.pop()!;
    if (h.length > 0) {
      const n = h.length;
      let i = 0;
      for (;;) {
        const l = 2 * i + 1;
        if (l >= n) break;
        const c = l + 1 < n && h[l + 1]!.at < h[l]!.at ? l + 1 : l;
        if (h[c]!.at >= last.at) break;
        h[i] = h[c]!;
        i = c;
      }
      h[i] = last;
    }
    return top;
  }
}
