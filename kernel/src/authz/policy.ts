// The compiled, immutable authorization policy: built-in roles, roles.yaml roles and user bindings.
import { readFile } from 'node:fs/promises';
import { AccessDenied, ConfigFileUnreadable } from '../errors.js';
import type { IdentityBinding, IdentityBindings } from '../identity/bindings.js';
import { isSecurityContext, type SecurityContext } from '../identity/security-context.js';
import type { Logger } from '../log/logger.js';
import { type ActionBits, actionNames } from './actions.js';
import { BUILTIN_ROLES, type RoleDefinition } from './builtin-roles.js';
import { type CompiledRole, compileRole, Grant } from './grant.js';
import { parseRolesFile, type RolesFile } from './roles-file.js';

export interface Policy extends IdentityBindings {
  /** Built-in roles first, then the file's, in file order. */
  readonly roles: readonly RoleDefinition[];
  /**
   * Whether the context's roles allow `action` (an `Action` bit; several bits mean all of them) on
   * `resource`. Without a resource, a role limited by `on:` allows nothing but its denies count.
   * Unknown actions (0, bits outside the set, non-integers) and unknown role names allow nothing.
   * Allocation-free once the context's roles have been seen.
   */
  authorize(ctx: SecurityContext, action: ActionBits, resource?: string): boolean;
  /** `authorize`, throwing `AccessDenied` (42501 / 403) when it says no. */
  assertAuthorized(ctx: SecurityContext, action: ActionBits, resource?: string): void;
  /** Actions allowed on every resource: a list needs no per-item check for these. */
  allowedEverywhere(ctx: SecurityContext): ActionBits;
  /** Actions allowed on at least some resource: a list needs per-item checks only for these. */
  allowedSomewhere(ctx: SecurityContext): ActionBits;
}

export interface PolicyOptions {
  /** Warned once per role name found in a context that no role defines. */
  logger?: Logger;
}

export interface RolesFileOptions extends PolicyOptions {
  /** `WEFTKIT_ROLES_FILE` (default `/etc/weftkit/roles.yaml`). */
  path: string;
  /** When false, a missing file means built-in roles only (true when the path was set explicitly). */
  required: boolean;
}

// Distinct role combinations cached by name; beyond this, combinations are compiled per context.
const MAX_COMBINATIONS = 4096;
const MAX_WARNED_ROLES = 1024;

class CompiledPolicy implements Policy {
  readonly roles: readonly RoleDefinition[];
  readonly #compiled: ReadonlyMap<string, CompiledRole>;
  readonly #users: ReadonlyMap<string, IdentityBinding>;
  readonly #nothing: Grant = new Grant([]);
  readonly #single = new Map<string, Grant>();
  readonly #combinations = new Map<string, Grant>();
  readonly #byRoles = new WeakMap<readonly string[], Grant>();
  readonly #warned = new Set<string>();
  readonly #logger: Logger | undefined;
  // One-entry cache in front of the WeakMap: a loop over one context is bit tests only. Safe
  // because a minted context's roles array is frozen, so the grant computed for it stays right.
  #lastRoles: readonly string[] | null = null;
  #lastGrant: Grant = this.#nothing;

  constructor(file: RolesFile, options: PolicyOptions) {
    this.roles = Object.freeze([...BUILTIN_ROLES, ...file.roles]);
    const compiled = new Map<string, CompiledRole>();
    for (const role of this.roles) {
      const c = compileRole(role);
      compiled.set(role.name, c);
      this.#single.set(role.name, new Grant([c]));
    }
    this.#compiled = compiled;
    this.#users = file.users;
    this.#logger = options.logger;
    Object.freeze(this);
  }

  authorize(ctx: SecurityContext, action: ActionBits, resource?: string): boolean {
    const roles = ctx.roles;
    const g = roles === this.#lastRoles ? this.#lastGrant : this.#grantFor(ctx);
    if (action > 0 && (g.everywhere & action) === action) return true;
    if (resource === undefined || !(action > 0) || (g.somewhere & action) !== action) return false;
    return g.allowsOn(action, resource);
  }

  assertAuthorized(ctx: SecurityContext, action: ActionBits, resource?: string): void {
    if (this.authorize(ctx, action, resource)) return;
    const names = action > 0 && Number.isInteger(action) ? actionNames(action) : [];
    throw new AccessDenied(`permission denied for ${names.length > 0 ? names.join(', ') : 'unknown action'}`);
  }

  allowedEverywhere(ctx: SecurityContext): ActionBits {
    return this.#grantFor(ctx).everywhere;
  }

  allowedSomewhere(ctx: SecurityContext): ActionBits {
    return this.#grantFor(ctx).somewhere;
  }

  lookup(identity: string): IdentityBinding | undefined {
    return this.#users.get(identity);
  }

  #grantFor(ctx: SecurityContext): Grant {
    const roles = ctx.roles;
    if (roles === this.#lastRoles) return this.#lastGrant;
    let g = this.#byRoles.get(roles);
    if (g === undefined) {
      // Only kernel-minted contexts are compiled; their roles arrays are frozen.
      if (!isSecurityContext(ctx)) throw new TypeError('not a kernel SecurityContext');
      g = this.#compileRoles(roles);
      this.#byRoles.set(roles, g);
    }
    this.#lastRoles = roles;
    this.#lastGrant = g;
    return g;
  }

  #compileRoles(names: readonly string[]): Grant {
    const known: string[] = [];
    for (const name of names) {
      if (this.#compiled.has(name)) {
        if (!known.includes(name)) known.push(name);
      } else {
        this.#warnUnknown(name);
      }
    }
    if (known.length === 0) return this.#nothing;
    if (known.length === 1) return this.#single.get(known[0]!)!;
    known.sort();
    const key = known.join('\n');
    let g = this.#combinations.get(key);
    if (g === undefined) {
      g = new Grant(known.map((n) => this.#compiled.get(n)!));
      if (this.#combinations.size < MAX_COMBINATIONS) this.#combinations.set(key, g);
    }
    return g;
  }

  #warnUnknown(name: string): void {
    if (this.#logger === undefined || this.#warned.has(name) || this.#warned.size >= MAX_WARNED_ROLES) return;
    this.#warned.add(name);
    this.#logger.warn('security context names a role that is not defined; it grants nothing', { role: name });
  }
}
Object.freeze(CompiledPolicy.prototype);

/** Built-in roles only, no user bindings: for a deployment without a roles file. */
export function builtinPolicy(options: PolicyOptions = {}): Policy {
  return new CompiledPolicy({ roles: [], users: new Map() }, options);
}

/** Compiles roles.yaml text; `file` names it in errors. Throws `RolesFileInvalid`. */
export function parsePolicy(text: string, file: string, options: PolicyOptions = {}): Policy {
  return new CompiledPolicy(parseRolesFile(text, file), options);
}

/** Reads and compiles the roles file; a missing, not required file gives `builtinPolicy`. */
export async function loadPolicy(options: RolesFileOptions): Promise<Policy> {
  let text: string;
  try {
    text = await readFile(options.path, 'utf8');
  } catch (err) {
    if (!options.required && (err as NodeJS.ErrnoException).code === 'ENOENT') return builtinPolicy(options);
    throw new ConfigFileUnreadable(`cannot read roles file ${options.path}`, { cause: err });
  }
  return parsePolicy(text, options.path, options);
}
