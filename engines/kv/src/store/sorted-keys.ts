// Keys in UTF-8 byte order, as a list of sorted chunks (insert and delete touch one chunk of at
// most CHUNK keys plus, rarely, the chunk list): O(log n + CHUNK) per change, no tree rebalancing.
const CHUNK = 512;

/**
 * Compares two strings by UTF-8 byte order (= code point order). JavaScript's `<` compares UTF-16
 * code units, which sorts U+E000..U+FFFF above astral characters; this corrects that case.
 */
export function compareKeys(a: string, b: string): number {
  if (a === b) return 0;
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) {
    let ca = a.charCodeAt(i);
    let cb = b.charCodeAt(i);
    if (ca === cb) continue;
    if (ca >= 0xd800 && cb >= 0xd800) {
      ca = ca >= 0xe000 ? ca - 0x800 : ca + 0x2000;
      cb = cb >= 0xe000 ? cb - 0x800 : cb + 0x2000;
    }
    return ca < cb ? -1 : 1;
  }
  return a.length < b.length ? -1 : 1;
}

export class SortedKeys {
  #chunks: string[][] = [];
  #size = 0;

  get size(): number {
    return this.#size;
  }

  /** Adds `key` (no-op if present). */
  insert(key: string): void {
    if (this.#chunks.length === 0) {
      this.#chunks.push([key]);
      this.#size = 1;
      return;
    }
    const ci = this.#chunkFor(key);
    const chunk = this.#chunks[ci]!;
    const i = lowerBound(chunk, key);
    if (i < chunk.length && chunk[i] === key) return;
    chunk.splice(i, 0, key);
    this.#size++;
    if (chunk.length > CHUNK) this.#chunks.splice(ci + 1, 0, chunk.splice(CHUNK >> 1));
  }

  delete(key: string): void {
    if (this.#chunks.length === 0) return;
    const ci = this.#chunkFor(key);
    const chunk = this.#chunks[ci]!;
    const i = lowerBound(chunk, key);
    if (i >= chunk.length || chunk[i] !== key) return;
    chunk.splice(i, 1);
    this.#size--;
    if (chunk.length === 0) this.#chunks.splice(ci, 1);
  }

  /**
   * Calls `visit` for keys in order, starting at the first key >= `from` (or > `from` when
   * `exclusive`), until it returns false.
   */
  forEachFrom(from: string, exclusive: boolean, visit: (key: string) => boolean): void {
    if (this.#chunks.length === 0) return;
    let ci = this.#chunkFor(from);
    let i = lowerBound(this.#chunks[ci]!, from);
    const first = this.#chunks[ci]![i];
    if (exclusive && first === from) i++;
    for (; ci < this.#chunks.length; ci++, i = 0) {
      const chunk = this.#chunks[ci]!;
      for (; i < chunk.length; i++) if (!visit(chunk[i]!)) return;
    }
  }

  /** Up to `limit` keys after `after` (all from the start when null), in order. */
  keysAfter(after: string | null, limit: number): string[] {
    const out: string[] = [];
    this.forEachFrom(after ?? '', after !== null, (k) => {
      out.push(k);
      return out.length < limit;
    });
    return out;
  }

  /** The chunk whose range holds `key`: the last chunk whose first key is <= key (or the first). */
  #chunkFor(key: string): number {
    let lo = 0;
    let hi = this.#chunks.length - 1;
    while (lo < hi) {
      const mid = (lo + hi + 1) >> 1;
      if (compareKeys(this.#chunks[mid]![0]!, key) <= 0) lo = mid;
      else hi = mid - 1;
    }
    return lo;
  }
}

function lowerBound(arr: readonly string[], key: string): number {
  let lo = 0;
  let hi = arr.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (compareKeys(arr[mid]!, key) < 0) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}
