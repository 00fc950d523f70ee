// Resource patterns of a role's `on:` list (kv keys, table names). `*` matches any run of
// characters, including none; there is no escape, so a pattern cannot match a literal `*` only.

/** Tests one resource against a compiled `on:` list. */
export interface ResourceMatcher {
  matches(resource: string): boolean;
}

/**
 * Compiles patterns into an exact-match Set plus an index of the literal text before each
 * pattern's first `*`, keyed by the rolling hash of that prefix. A check hashes the resource's
 * first characters once, probing the index at each distinct prefix length, and compares each
 * candidate prefix once for all the patterns sharing it; no allocation. Patterns starting with
 * `*` are tried one by one.
 */
export function compileResourcePatterns(patterns: readonly string[]): ResourceMatcher {
  const exact = new Set<string>();
  const groups = new Map<string, PrefixGroup>();
  const unanchored: string[][] = [];
  for (const p of new Set(patterns)) {
    const parts = p.split('*');
    if (parts.length === 1) {
      exact.add(p);
      continue;
    }
    const prefix = parts[0]!;
    const isPrefix = parts.length === 2 && parts[1] === '';
    if (prefix.length === 0 && !isPrefix) {
      unanchored.push(parts);
      continue;
    }
    let group = groups.get(prefix);
    if (group === undefined) {
      group = { prefix, any: false, globs: [] };
      groups.set(prefix, group);
    }
    if (isPrefix) group.any = true;
    else group.globs.push(parts);
  }
  const byHash = new Map<number, PrefixGroup[]>();
  for (const group of groups.values()) {
    const h = hashPrefix(group.prefix);
    const bucket = byHash.get(h);
    if (bucket === undefined) byHash.set(h, [group]);
    else bucket.push(group);
  }
  const lengths = [...new Set([...groups.keys()].map((k) => k.length))].sort((a, b) => a - b);
  return new PatternSet(exact, byHash, lengths, unanchored);
}

interface PrefixGroup {
  /** Literal text before the first `*`. */
  readonly prefix: string;
  /** Some pattern is exactly `prefix*`: the prefix alone matches. */
  any: boolean;
  /** The other patterns with this prefix, split on `*`. */
  readonly globs: string[][];
}

function hashPrefix(s: string): number {
  let h = 0;
  for (let i = 0; i < s.length; i++) h = (Math.imul(h, 31) + s.charCodeAt(i)) | 0;
  return h;
}

class PatternSet implements ResourceMatcher {
  readonly #exact: Set<string>;
  readonly #byHash: Map<number, PrefixGroup[]>;
  readonly #lengths: readonly number[];
  readonly #unanchored: readonly string[][];

  constructor(exact: Set<string>, byHash: Map<number, PrefixGroup[]>, lengths: number[], unanchored: string[][]) {
    this.#exact = exact;
    this.#byHash = byHash;
    this.#lengths = lengths;
    this.#unanchored = unanchored;
    Object.freeze(this);
  }

  matches(resource: string): boolean {
    if (this.#exact.has(resource)) return true;
    const lengths = this.#lengths;
    let h = 0;
    let pos = 0;
    for (let li = 0; li < lengths.length; li++) {
      const length = lengths[li]!;
      if (length > resource.length) break;
      for (; pos < length; pos++) h = (Math.imul(h, 31) + resource.charCodeAt(pos)) | 0;
      const bucket = this.#byHash.get(h);
      if (bucket !== undefined && groupMatches(bucket, resource, length)) return true;
    }
    const unanchored = this.#unanchored;
    for (let i = 0; i < unanchored.length; i++) if (globMatches(unanchored[i]!, resource, 0)) return true;
    return false;
  }
}

function groupMatches(bucket: readonly PrefixGroup[], s: string, length: number): boolean {
  for (let i = 0; i < bucket.length; i++) {
    const group = bucket[i]!;
    if (group.prefix.length !== length || !s.startsWith(group.prefix)) continue;
    if (group.any) return true;
    const globs = group.globs;
    for (let j = 0; j < globs.length; j++) if (globMatches(globs[j]!, s, length)) return true;
  }
  return false;
}

// `parts` is the pattern split on `*` (at least two parts); its first part is known to match
// `s` up to `from`. Leftmost placement of each middle part is always safe for `*`-only globs, so
// this is linear per part and never backtracks.
function globMatches(parts: readonly string[], s: string, from: number): boolean {
  const last = parts[parts.length - 1]!;
  const end = s.length - last.length;
  if (end < from || !s.endsWith(last)) return false;
  let pos = from;
  for (let i = 1; i < parts.length - 1; i++) {
    const part = parts[i]!;
    if (part.length === 0) continue;
    const at = s.indexOf(part, pos);
    if (at === -1 || at + part.length > end) return false;
    pos = at + part.length;
  }
  return true;
}
