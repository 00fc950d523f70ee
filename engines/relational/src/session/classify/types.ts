import type { ActionBits } from '@weftkit/kernel';

/**
 * Why a statement is refused for everyone, superuser included: it would change the session's
 * PostgreSQL identity, role or engine-owned settings, or reach outside the tenant's sandbox.
 */
export type ForbiddenReason =
  /** SET/RESET ROLE, set_config('role'), CREATE/ALTER/DROP ROLE|USER|GROUP, REASSIGN OWNED. */
  | 'role_change'
  /** SET/RESET SESSION AUTHORIZATION, set_config('session_authorization'). */
  | 'session_authorization'
  /** SET/RESET app.*, set_config('app.*'): app.tenant_id and app.user belong to the engine. */
  | 'engine_setting'
  /** set_config whose setting name is not a constant, so it cannot be proven safe. */
  | 'dynamic_set_config'
  /** UPDATE/INSERT/DELETE on pg_settings (its rule calls set_config for any setting). */
  | 'settings_table'
  /** INSERT/UPDATE/DELETE/DDL on pg_catalog, information_schema or pg_toast objects. */
  | 'catalog_write'
  /** A constant dynamic-SQL string (or one built from constants) in a DO/function body changes identity. */
  | 'dynamic_identity_change'
  | 'alter_system'
  /** LOAD, library-path settings, functions in LANGUAGE c/internal. */
  | 'load_library'
  /** CREATE/ALTER/DROP EXTENSION, CREATE LANGUAGE: install scripts run as the bootstrap superuser. */
  | 'extension'
  | 'copy_program'
  /** COPY to/from a server path, lo_import/lo_export, pg_read_file/pg_ls_dir/..., CREATE TABLESPACE. */
  | 'server_file'
  /** Functions that act on the shared backend/cluster (pg_terminate_backend, pg_reload_conf, ...), CREATE/DROP/ALTER DATABASE. */
  | 'server_admin'
  /** dblink*, foreign servers and user mappings. */
  | 'external_connection'
  /** GRANT of a predefined pg_* role (pg_read_server_files, pg_execute_server_program, ...). */
  | 'predefined_role';

/** Bits in `flags`: facts the session layer acts on (none of them is an authorization decision). */
export interface StatementFlagTable {
  /** BEGIN/START/COMMIT/END/ROLLBACK/SAVEPOINT/RELEASE/PREPARE TRANSACTION/... */
  readonly TRANSACTION: 1;
  /** Changes an ordinary setting (SET/RESET x, set_config('x', ...)): session state to keep. */
  readonly SETTING: 2;
  /** RESET ALL / DISCARD ALL: app.* fall back to their defaults; re-apply engine settings before the next statement. */
  readonly SESSION_RESET: 4;
  readonly LISTEN: 8;
  readonly UNLISTEN: 16;
  /** NOTIFY or pg_notify(). */
  readonly NOTIFY: 32;
  /** pg_advisory_* / pg_try_advisory_* calls. */
  readonly ADVISORY_LOCK: 64;
  /** PREPARE (the name is in `prepare`). */
  readonly PREPARE: 128;
  /** DEALLOCATE name|ALL, DISCARD ALL (the name is in `deallocate`, `*` for all). */
  readonly DEALLOCATE: 256;
  /** EXECUTE of a prepared statement (names in `executes`). */
  readonly EXECUTE_PREPARED: 512;
  /** DECLARE/FETCH/MOVE/CLOSE of a cursor. */
  readonly CURSOR: 1024;
  /** COPY ... FROM STDIN: the session must collect CopyData. */
  readonly COPY_IN: 2048;
  /** COPY ... TO STDOUT. */
  readonly COPY_OUT: 4096;
  /** Creates or drops temporary objects (CREATE TEMP ..., DISCARD TEMP). */
  readonly TEMP_OBJECT: 8192;
  /** Runs user code the classifier could not fully inspect (DO, CALL, user functions). */
  readonly USER_CODE: 16384;
  /** BEGIN / START TRANSACTION (also set: TRANSACTION). */
  readonly TRANSACTION_BEGIN: 32768;
  /** Ends a transaction: COMMIT, END, ROLLBACK, ABORT (not ROLLBACK TO), PREPARE TRANSACTION, COMMIT/ROLLBACK PREPARED (also set: TRANSACTION). */
  readonly TRANSACTION_END: 65536;
}

export const StatementFlag: StatementFlagTable = Object.freeze({
  TRANSACTION: 1,
  SETTING: 2,
  SESSION_RESET: 4,
  LISTEN: 8,
  UNLISTEN: 16,
  NOTIFY: 32,
  ADVISORY_LOCK: 64,
  PREPARE: 128,
  DEALLOCATE: 256,
  EXECUTE_PREPARED: 512,
  CURSOR: 1024,
  COPY_IN: 2048,
  COPY_OUT: 4096,
  TEMP_OBJECT: 8192,
  USER_CODE: 16384,
  TRANSACTION_BEGIN: 32768,
  TRANSACTION_END: 65536,
} as const);

/** One relation (or function, sequence...) a statement touches and the actions it needs on it. */
export interface ResourceAccess {
  /** `schema.name` as written; unqualified names resolve to `public` (or `pg_catalog` for catalog relations). */
  readonly name: string;
  readonly actions: ActionBits;
}

/** What one statement needs. */
export interface StatementClassification {
  /** libpg-query node type of the statement, e.g. `SelectStmt`, `VariableSetStmt`. */
  readonly kind: string;
  /** Every action the statement needs: `unscoped` plus each resource's actions. */
  readonly actions: ActionBits;
  /** Actions needed without a resource (checked as `authorize(ctx, bit)` with no resource). */
  readonly unscoped: ActionBits;
  readonly resources: readonly ResourceAccess[];
  /** Set when the statement is refused for everyone. */
  readonly forbidden?: ForbiddenReason;
  /** `StatementFlag` bits. */
  readonly flags: number;
  /** PREPARE: the statement name. */
  readonly prepare?: string;
  /** DEALLOCATE: the name, or `*` for ALL (also DISCARD ALL). */
  readonly deallocate?: string;
  /**
   * Prepared statements this statement executes (EXECUTE p, CREATE TABLE AS EXECUTE p, EXPLAIN
   * EXECUTE p). Until `PreparedStatements.apply` resolves them, `unscoped` holds every action, so an
   * unresolved EXECUTE passes only for superuser; `ownUnscoped` (present only until resolved) is the
   * statement's own part.
   */
  readonly executes?: readonly string[];
  readonly ownUnscoped?: ActionBits;
  /** Byte offset and length of the statement in the UTF-8 SQL text (length 0 = to the end). */
  readonly location: number;
  readonly length: number;
}

/** What a whole SQL string (one Query message, or one Parse) needs. */
export interface Classification {
  /** libpg-query could not parse it: `actions` is then every action, so only superuser passes. */
  readonly unparseable: boolean;
  readonly actions: ActionBits;
  readonly unscoped: ActionBits;
  /** Per-resource actions merged over all statements. */
  readonly resources: readonly ResourceAccess[];
  /** The first statement's reason, if any statement is forbidden. */
  readonly forbidden?: ForbiddenReason;
  readonly flags: number;
  readonly statements: readonly StatementClassification[];
}
