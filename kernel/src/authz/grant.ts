// What one set of roles may do, compiled once so a check is a few bit tests. Deny beats allow
// across all the roles; a role with `on:` patterns allows and denies only on matching resources.
import type { ActionBits } from './actions.js';
import type { RoleDefinition } from './builtin-roles.js';
import { compileResourcePatterns, type ResourceMatcher } from './resource-pattern.js';

/** A role ready to combine: its masks and, when it has `on:`, the compiled patterns. */
export interface CompiledRole {
  readonly name: string;
  readonly allow: ActionBits;
  readonly deny: ActionBits;
  readonly matcher: ResourceMatcher | null;
}

export function compileRole(role: RoleDefinition): CompiledRole {
  const matcher = role.on === undefined ? null : compileResourcePatterns(role.on);
  return Object.freeze({ name: role.name, allow: role.allow, deny: role.deny, matcher });
}

interface ScopedRule {
  readonly allow: ActionBits;
  readonly deny: ActionBits;
  readonly matcher: ResourceMatcher;
}

export class Grant {
  /**
   * Allowed on every resource and when no resource is named: unscoped allows minus every deny,
   * scoped denies included (without a resource a scoped deny counts, a scoped allow does not).
   */
  readonly everywhere: ActionBits;
  /** Allowed on at least some resource: every allow minus the unscoped denies. */
  readonly somewhere: ActionBits;
  readonly #allow: ActionBits;
  readonly #deny: ActionBits;
  readonly #scoped: readonly ScopedRule[];

  constructor(roles: readonly CompiledRole[]) {
    let allow = 0;
    let deny = 0;
    let scopedAllow = 0;
    let scopedDeny = 0;
    const scoped: ScopedRule[] = [];
    for (const r of roles) {
      if (r.matcher === null) {
        allow |= r.allow;
        deny |= r.deny;
      } else {
        scopedAllow |= r.allow;
        scopedDeny |= r.deny;
        scoped.push({ allow: r.allow, deny: r.deny, matcher: r.matcher });
      }
    }
    this.#allow = allow;
    this.#deny = deny;
    this.#scoped = Object.freeze(scoped);
    this.everywhere = allow & ~deny & ~scopedDeny;
    this.somewhere = (allow | scopedAllow) & ~deny;
    Object.freeze(this);
  }

  /** The full check for a named resource; `action` is a positive bit mask. */
  allowsOn(action: ActionBits, resource: string): boolean {
    let allow = this.#allow;
    let deny = this.#deny;
    const scoped = this.#scoped;
    for (let i = 0; i < scoped.length; i++) {
      const rule = scoped[i]!;
      if (((rule.allow | rule.deny) & action) !== 0 && rule.matcher.matches(resource)) {
        allow |= rule.allow;
        deny |= rule.deny;
      }
    }
    return (allow & action) === action && (deny & action) === 0;
  }
}
