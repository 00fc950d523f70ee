// Public surface of src/tenant: per-tenant PGlite backends on encrypted storage.
export type {
  DekRotation,
  ReencryptionStatus,
  TenantBackend,
  TenantKeyAdmin,
  TenantKeyStatus,
  TenantManager,
  TenantManagerStats,
  TenantShredResult,
  TransactionStatus,
} from './tenant-backend.js';
export { hasKeyAdmin } from './tenant-backend.js';
export type { TenantManagerOptions } from './tenant-manager.js';
export { createTenantManager } from './tenant-manager.js';
