import { BUILTIN_FUNCTIONS } from './catalog-names.js';
import type { ForbiddenReason } from './types.js';

/** How a function call is classified. */
export const FunctionKind = {
  /** A built-in without side effects the engine cares about. */
  Builtin: 0,
  /** Not a built-in: user code the classifier cannot see into (EXECUTE on the function). */
  User: 1,
  /** A built-in that runs SQL text or has side effects the classifier cannot scope (EXECUTE). */
  Unverifiable: 2,
  /** set_config: the first argument decides. */
  SetConfig: 3,
  /** nextval/setval: UPDATE on the sequence named by the first argument. */
  SequenceWrite: 4,
  /** currval: SELECT on the sequence named by the first argument. */
  SequenceRead: 5,
  AdvisoryLock: 6,
  Notify: 7,
  Forbidden: 8,
} as const;
export type FunctionKind = (typeof FunctionKind)[keyof typeof FunctionKind];

export interface FunctionRule {
  readonly kind: FunctionKind;
  readonly reason?: ForbiddenReason;
}

const BUILTIN: FunctionRule = { kind: FunctionKind.Builtin };
const USER: FunctionRule = { kind: FunctionKind.User };
const UNVERIFIABLE: FunctionRule = { kind: FunctionKind.Unverifiable };
const ADVISORY: FunctionRule = { kind: FunctionKind.AdvisoryLock };
const forbid = (reason: ForbiddenReason): FunctionRule => ({ kind: FunctionKind.Forbidden, reason });
const SERVER_FILE = forbid('server_file');
const SERVER_ADMIN = forbid('server_admin');

const EXACT: ReadonlyMap<string, FunctionRule> = new Map<string, FunctionRule>([
  ['set_config', { kind: FunctionKind.SetConfig }],
  ['nextval', { kind: FunctionKind.SequenceWrite }],
  ['setval', { kind: FunctionKind.SequenceWrite }],
  ['currval', { kind: FunctionKind.SequenceRead }],
  ['pg_notify', { kind: FunctionKind.Notify }],
  // Server files (the tenant's sandbox is its database, not the engine's filesystem).
  ['pg_read_file', SERVER_FILE],
  ['pg_read_binary_file', SERVER_FILE],
  ['pg_stat_file', SERVER_FILE],
  ['pg_current_logfile', SERVER_FILE],
  ['pg_hba_file_rules', SERVER_FILE],
  ['pg_ident_file_mappings', SERVER_FILE],
  ['pg_show_all_file_settings', SERVER_FILE],
  ['lo_import', SERVER_FILE],
  ['lo_export', SERVER_FILE],
  ['pg_file_write', SERVER_FILE],
  ['pg_file_rename', SERVER_FILE],
  ['pg_file_unlink', SERVER_FILE],
  ['pg_file_sync', SERVER_FILE],
  // One PGlite backend serves every session of a tenant: these act on all of them, or on the cluster.
  ['pg_terminate_backend', SERVER_ADMIN],
  ['pg_cancel_backend', SERVER_ADMIN],
  ['pg_reload_conf', SERVER_ADMIN],
  ['pg_rotate_logfile', SERVER_ADMIN],
  ['pg_promote', SERVER_ADMIN],
  ['pg_wal_replay_pause', SERVER_ADMIN],
  ['pg_wal_replay_resume', SERVER_ADMIN],
  ['pg_switch_wal', SERVER_ADMIN],
  ['pg_create_restore_point', SERVER_ADMIN],
  ['pg_backup_start', SERVER_ADMIN],
  ['pg_backup_stop', SERVER_ADMIN],
  ['pg_log_backend_memory_contexts', SERVER_ADMIN],
  ['pg_log_standby_snapshot', SERVER_ADMIN],
  ['pg_stop_making_pinned_objects', SERVER_ADMIN],
  ['pg_nextoid', SERVER_ADMIN],
  ['pg_drop_replication_slot', SERVER_ADMIN],
  ['pg_sync_replication_slots', SERVER_ADMIN],
  ['pg_replication_slot_advance', SERVER_ADMIN],
  ['pg_create_logical_replication_slot', SERVER_ADMIN],
  ['pg_create_physical_replication_slot', SERVER_ADMIN],
  ['pg_copy_logical_replication_slot', SERVER_ADMIN],
  ['pg_copy_physical_replication_slot', SERVER_ADMIN],
  ['pg_import_system_collations', SERVER_ADMIN],
  // Run SQL given as text, or read tables named at run time.
  ['query_to_xml', UNVERIFIABLE],
  ['query_to_xml_and_xmlschema', UNVERIFIABLE],
  ['query_to_xmlschema', UNVERIFIABLE],
  ['cursor_to_xml', UNVERIFIABLE],
  ['cursor_to_xmlschema', UNVERIFIABLE],
  ['table_to_xml', UNVERIFIABLE],
  ['table_to_xml_and_xmlschema', UNVERIFIABLE],
  ['table_to_xmlschema', UNVERIFIABLE],
  ['schema_to_xml', UNVERIFIABLE],
  ['schema_to_xml_and_xmlschema', UNVERIFIABLE],
  ['schema_to_xmlschema', UNVERIFIABLE],
  ['database_to_xml', UNVERIFIABLE],
  ['database_to_xml_and_xmlschema', UNVERIFIABLE],
  ['database_to_xmlschema', UNVERIFIABLE],
  ['ts_stat', UNVERIFIABLE],
  ['ts_rewrite', UNVERIFIABLE],
  ['loread', UNVERIFIABLE],
  ['lowrite', UNVERIFIABLE],
  ['brin_summarize_range', UNVERIFIABLE],
  ['brin_summarize_new_values', UNVERIFIABLE],
  ['brin_desummarize_range', UNVERIFIABLE],
  ['gin_clean_pending_list', UNVERIFIABLE],
]);

const PREFIXES: readonly (readonly [string, FunctionRule])[] = [
  ['pg_ls_', SERVER_FILE],
  ['dblink', forbid('external_connection')],
  ['binary_upgrade_', SERVER_ADMIN],
  ['pg_replication_origin_', SERVER_ADMIN],
  ['pg_logical_', SERVER_ADMIN],
  ['pg_advisory_', ADVISORY],
  ['pg_try_advisory_', ADVISORY],
  ['lo_', UNVERIFIABLE],
  ['pg_stat_reset', UNVERIFIABLE],
  ['pg_restore_', UNVERIFIABLE],
  ['pg_clear_', UNVERIFIABLE],
];

/**
 * The rule for a call of `name` (already lower-cased when unquoted). Dangerous names match in any
 * schema (strict: a user function named `pg_read_file` is refused too); `schema` other than
 * pg_catalog makes an otherwise built-in name user code.
 */
export function functionRule(schema: string | undefined, name: string): FunctionRule {
  const lower = name.toLowerCase();
  const exact = EXACT.get(lower);
  if (exact !== undefined) return exact;
  for (const [prefix, rule] of PREFIXES) if (lower.startsWith(prefix)) return rule;
  if ((schema === undefined || schema === 'pg_catalog') && BUILTIN_FUNCTIONS.has(name)) return BUILTIN;
  return USER;
}
