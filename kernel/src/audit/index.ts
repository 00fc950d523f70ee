// Public exports of src/audit (re-exported by src/index.ts).
export type { AuditLog, AuditLogOptions, AuditStats } from './audit-log.js';
export { DEFAULT_AUDIT_MAX_BYTES, DEFAULT_AUDIT_OUTPUT, openAuditLog } from './audit-log.js';
export type {
  AuditEntry,
  AuditEventType,
  AuditRecord,
  AuditResult,
  ChainPosition,
  UnauthenticatedAuditEntry,
} from './events.js';
export { AUDIT_EVENT_TYPES, DEFAULT_AUDIT_EVENTS, GENESIS_HASH } from './events.js';
export { listAuditFiles } from './rotated-files.js';
export type { AuditVerifyResult, VerifyOptions } from './verify.js';
export { verifyAuditFiles } from './verify.js';
