import { InvalidTenantName } from '../errors.js';

/** Tenant names: lowercase, start with a letter or digit, at most 63 characters. */
export const TENANT_NAME_PATTERN: RegExp = /^[a-z0-9][a-z0-9_-]{0,62}$/;

export function isTenantName(value: unknown): value is string {
  return typeof value === 'string' && TENANT_NAME_PATTERN.test(value);
}

export function assertTenantName(value: unknown): string {
  if (!isTenantName(value)) throw new InvalidTenantName('tenant name is not valid');
  return value;
}

/** Splits a login name `alice@tenant-001` into user and requested tenant (undefined if bare). */
export function splitLoginName(login: string): { user: string; tenant: string | undefined } {
  const at = login.lastIndexOf('@');
  if (at <= 0) return { user: login, tenant: undefined };
  return { user: login.slice(0, at), tenant: assertTenantName(login.slice(at + 1)) };
}
