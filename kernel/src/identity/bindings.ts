import { TenantNotAllowed } from '../errors.js';

/** What roles.yaml `users:` says about one identity. */
export interface IdentityBinding {
  readonly roles: readonly string[];
  /** Tenants the identity may use; `'*'` means any. */
  readonly tenants: readonly string[];
  readonly defaultTenant?: string;
}

/** Looks identities up in the compiled roles file (implemented by authz). */
export interface IdentityBindings {
  lookup(identity: string): IdentityBinding | undefined;
}

/** Bindings for deployments without a roles file: nobody is bound to anything. */
export const noBindings: IdentityBindings = { lookup: () => undefined };

/**
 * The tenant a password or mTLS identity gets: the one it asked for if bound to it, else its
 * default. Throws `TenantNotAllowed` (28000) otherwise; the message never says which tenants exist.
 */
export function resolveTenant(binding: IdentityBinding | undefined, requested: string | undefined): string {
  if (binding === undefined) throw new TenantNotAllowed('no tenant is bound to this identity');
  if (requested === undefined) {
    if (binding.defaultTenant !== undefined) return binding.defaultTenant;
    if (binding.tenants.length === 1 && binding.tenants[0] !== '*') return binding.tenants[0]!;
    throw new TenantNotAllowed('no default tenant: log in as user@tenant');
  }
  if (binding.tenants.includes('*') || binding.tenants.includes(requested)) return requested;
  throw new TenantNotAllowed('this identity may not use that tenant');
}
