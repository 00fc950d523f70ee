import { ALL_ACTIONS, type ActionBits } from '@weftkit/kernel';
import { combine } from './classify.js';
import { type Classification, type ResourceAccess, type StatementClassification, StatementFlag } from './types.js';

interface Entry {
  readonly unscoped: ActionBits;
  readonly resources: ReadonlyMap<string, ActionBits>;
  readonly forbidden: StatementClassification['forbidden'];
  readonly flags: number;
}

/**
 * One session's prepared statements (SQL PREPARE and protocol-level named Parse share PostgreSQL's
 * namespace), so `EXECUTE p` is authorized for what `p` does. Kept by the session layer.
 *
 * Conservative by construction: redefining a name keeps the union of both definitions (a PREPARE
 * that fails on a duplicate name leaves the old statement in PostgreSQL), and an unknown name
 * resolves to every action (only superuser passes; PostgreSQL reports 26000).
 */
export class PreparedStatements {
  readonly #entries: Map<string, Entry> = new Map();

  get size(): number {
    return this.#entries.size;
  }

  has(name: string): boolean {
    return this.#entries.has(name);
  }

  /** Records a protocol-level Parse of a named statement (`classification` is of its SQL). */
  define(name: string, classification: Classification): void {
    const resources = new Map<string, ActionBits>();
    for (const r of classification.resources) resources.set(r.name, r.actions);
    this.#put(name, {
      unscoped: classification.unscoped,
      resources,
      forbidden: classification.forbidden,
      flags: classification.flags,
    });
  }

  /** A protocol-level Close of a named statement. */
  forget(name: string): void {
    this.#entries.delete(name);
  }

  clear(): void {
    this.#entries.clear();
  }

  /**
   * Resolves the EXECUTE references in `c` and records its PREPARE/DEALLOCATE/DISCARD ALL, in
   * statement order (so `PREPARE p AS ...; EXECUTE p` in one string works). Call once per
   * string, before authorizing; returns `c` itself when nothing needed resolving.
   */
  apply(c: Classification): Classification {
    let changed = false;
    const out: StatementClassification[] = [];
    for (const s of c.statements) {
      const resolved = s.ownUnscoped === undefined ? s : this.#resolve(s);
      if (resolved !== s) changed = true;
      out.push(resolved);
      if (s.prepare !== undefined) {
        const resources = new Map<string, ActionBits>();
        for (const r of resolved.resources) resources.set(r.name, r.actions);
        this.#put(s.prepare, { unscoped: resolved.unscoped, resources, forbidden: resolved.forbidden, flags: resolved.flags });
      }
      if (s.deallocate === '*') this.#entries.clear();
      else if (s.deallocate !== undefined) this.#entries.delete(s.deallocate);
    }
    return changed ? combine(out) : c;
  }

  #put(name: string, entry: Entry): void {
    const old = this.#entries.get(name);
    if (old === undefined) {
      this.#entries.set(name, entry);
      return;
    }
    const resources = new Map(old.resources);
    for (const [r, bits] of entry.resources) resources.set(r, (resources.get(r) ?? 0) | bits);
    this.#entries.set(name, {
      unscoped: old.unscoped | entry.unscoped,
      resources,
      forbidden: old.forbidden ?? entry.forbidden,
      flags: old.flags | entry.flags,
    });
  }

  #resolve(s: StatementClassification): StatementClassification {
    let unscoped = s.ownUnscoped ?? 0;
    let flags = s.flags;
    let forbidden = s.forbidden;
    const resources = new Map<string, ActionBits>();
    for (const r of s.resources) resources.set(r.name, r.actions);
    for (const name of s.executes ?? []) {
      const e = this.#entries.get(name);
      if (e === undefined) {
        unscoped |= ALL_ACTIONS;
        continue;
      }
      unscoped |= e.unscoped;
      flags |= e.flags & ~(StatementFlag.PREPARE | StatementFlag.DEALLOCATE);
      forbidden ??= e.forbidden;
      for (const [r, bits] of e.resources) resources.set(r, (resources.get(r) ?? 0) | bits);
    }
    const list: ResourceAccess[] = [];
    let actions = unscoped;
    for (const [name, bits] of resources) {
      list.push(Object.freeze({ name, actions: bits }));
      actions |= bits;
    }
    const { ownUnscoped: _pending, ...rest } = s;
    const out: StatementClassification = { ...rest, actions, unscoped, resources: Object.freeze(list), flags };
    return Object.freeze(forbidden === undefined ? out : { ...out, forbidden });
  }
}
