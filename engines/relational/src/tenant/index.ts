// Public surface of src/tenant: per-tenant PGlite backends on encrypted storage.
export type { TenantBackend, TenantManager, TenantManagerStats, TransactionStatus } from './tenant-backend.js';
export type { TenantManagerOptions } from './tenant-manager.js';
export { createTenantManager } from './tenant-manager.js';
