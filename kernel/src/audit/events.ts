// The audit record format (DESIGN.md §2 "Audit log"). Field names are the on-disk contract.

export const AUDIT_EVENT_TYPES: readonly AuditEventType[] = Object.freeze([
  'auth',
  'authz_deny',
  'schema_change',
  'data_export',
  'data_read',
  'data_write',
  'admin',
] as const);

export type AuditEventType = 'auth' | 'authz_deny' | 'schema_change' | 'data_export' | 'data_read' | 'data_write' | 'admin';

/** Recorded when `events` is not given (`WEFTKIT_AUDIT_EVENTS` default). */
export const DEFAULT_AUDIT_EVENTS: readonly AuditEventType[] = Object.freeze([
  'auth',
  'authz_deny',
  'schema_change',
  'data_export',
] as const);

export type AuditResult = 'success' | 'failure' | 'denied';

export const AUDIT_RESULTS: readonly AuditResult[] = Object.freeze(['success', 'failure', 'denied'] as const);

/** `prev_hash` of the first event ever written. */
export const GENESIS_HASH: string = '0'.repeat(64);

/** One line of the audit file, as written (after sanitizing). */
export interface AuditRecord {
  readonly seq: number;
  /** ISO 8601 UTC. */
  readonly ts: string;
  readonly event: AuditEventType;
  readonly identity: string | null;
  readonly tenant: string | null;
  readonly operation: string;
  readonly resource: string | null;
  readonly result: AuditResult;
  readonly error_code?: string;
  readonly source_ip: string | null;
  readonly connection_id: string | null;
  readonly request_id: string | null;
  readonly latency_ms: number | null;
  readonly details: Readonly<Record<string, unknown>>;
  readonly prev_hash: string;
  readonly hash: string;
}

/** What an engine says about an operation run under a SecurityContext. */
export interface AuditEntry {
  readonly event: AuditEventType;
  /** Lowercase dotted identifier such as `login`, `sql.select`, `kv.put`; anything else is recorded as `invalid`. */
  readonly operation: string;
  /** Table, key name or path the operation touched. Free text: never put a value or secret here. */
  readonly resource?: string | null;
  readonly result: AuditResult;
  /** A `WK_*` code or SQLSTATE. */
  readonly errorCode?: string;
  readonly latencyMs?: number;
  /** Sanitized before writing: secret-named and payload-named keys are dropped at any depth. */
  readonly details?: Readonly<Record<string, unknown>>;
}

/** An event with no SecurityContext, e.g. a failed login. */
export interface UnauthenticatedAuditEntry extends AuditEntry {
  /** The claimed user name, or null when none was given. */
  readonly identity: string | null;
  readonly tenant?: string | null;
  /** `ip:port` of the client. */
  readonly peer?: string | null;
  readonly connectionId?: string | null;
  readonly requestId?: string | null;
}

/** Where the chain continues from: the last event already written. */
export interface ChainPosition {
  readonly seq: number;
  readonly hash: string;
}
