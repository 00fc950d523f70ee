import type { IdentityBinding, IdentityBindings } from '../identity/bindings.js';
import { loadPolicy, type Policy, type RolesFileOptions } from '../authz/policy.js';
import type { Reloadable } from '../runtime/signals.js';

/**
 * The live policy. SIGHUP swaps in a newly compiled roles file; a bad file keeps the old policy.
 * Authenticators hold the holder (as their IdentityBindings), so a reload reaches them too.
 */
export class PolicyHolder implements IdentityBindings, Reloadable {
  readonly name = 'roles file';
  #policy: Policy;
  readonly #options: RolesFileOptions;

  private constructor(policy: Policy, options: RolesFileOptions) {
    this.#policy = policy;
    this.#options = options;
  }

  static async load(options: RolesFileOptions): Promise<PolicyHolder> {
    return new PolicyHolder(await loadPolicy(options), options);
  }

  /** The policy in force now; take it once per request, not once per process. */
  get policy(): Policy {
    return this.#policy;
  }

  lookup(identity: string): IdentityBinding | undefined {
    return this.#policy.lookup(identity);
  }

  async reload(): Promise<void> {
    this.#policy = await loadPolicy(this.#options);
  }
}
