// Public exports of src/storage (re-exported by src/index.ts).
export type { AtomicWriteOptions, AtomicWriteStep } from './atomic-file.js';
export { syncDirSync, writeFileAtomicSync } from './atomic-file.js';
export type { PageCipherSource, PageFileOptions } from './page-file.js';
export { PAGE_FILE_FORMAT_VERSION, PageFile } from './page-file.js';
export { TENANTS_DIR_NAME, TenantDir, tenantDirPath } from './tenant-dir.js';
export type { TenantCreated, TenantShredded } from './tenant-lifecycle.js';
export { createTenant, listTenants, rotateKek, shredTenant } from './tenant-lifecycle.js';
export type { DataDirLock } from './data-dir-lock.js';
export { LOCK_FILE_NAME, lockDataDir } from './data-dir-lock.js';
