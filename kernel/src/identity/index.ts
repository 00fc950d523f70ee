export type { AuthMethod, SecurityContext } from './security-context.js';
export { isSecurityContext, withRequest } from './security-context.js';
export { assertTenantName, isTenantName, splitLoginName, TENANT_NAME_PATTERN } from './tenant.js';
export type { IdentityBinding, IdentityBindings } from './bindings.js';
export { noBindings, resolveTenant } from './bindings.js';
