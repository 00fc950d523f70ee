import { PGlite } from '@electric-sql/pglite';

/** The PGlite release these settings and the fsync hook were verified against (package.json pins it). */
export const PGLITE_VERSION = '0.5.16';

/**
 * Start parameters for every tenant. Dropping `-F` turns fsync on; `wal_sync_method=fsync` because
 * Emscripten's fdatasync is a no-op while fsync reaches our filesystem (measured). Memory: about
 * 197 MB RSS per instance with the defaults, 51–67 MB with these (measured).
 */
export function tenantStartParams(): string[] {
  return [
    ...PGlite.defaultStartParams.filter((p) => p !== '-F'),
    ...['-c', 'wal_sync_method=fsync'],
    ...['-c', 'shared_buffers=8MB'],
    ...['-c', 'work_mem=2MB'],
    ...['-c', 'maintenance_work_mem=16MB'],
    ...['-c', 'temp_buffers=1MB'],
    ...['-c', 'wal_buffers=256kB'],
    // Single-user mode has no checkpointer: checkpoints come from WAL volume only, so bound it.
    ...['-c', 'max_wal_size=64MB'],
    ...['-c', 'min_wal_size=8MB'],
  ];
}

/** initdb arguments for the template: 1 MiB WAL segments keep a new tenant's copy small (30 vs 39 MB measured, before dropping template databases). */
export const TEMPLATE_INITDB_PARAMS: readonly string[] = ['--wal-segsize=1'];

/**
 * Run once in the template: a tenant has exactly one database (`postgres`), so template0 and
 * template1 (two thirds of the template's files) go. CREATE DATABASE then fails, which it must anyway.
 * One statement per entry: DROP DATABASE cannot run in the implicit transaction of a multi-statement query.
 */
export const TEMPLATE_SETUP_SQL: readonly string[] = [
  "UPDATE pg_database SET datistemplate = false WHERE datname IN ('template0', 'template1')",
  'DROP DATABASE template0',
  'DROP DATABASE template1',
];

/**
 * Authorization layer two's baseline, run in the template and (idempotently) on every tenant when
 * its backend is first used: non-superusers lose the dynamic routes to `SET SESSION AUTHORIZATION`
 * and `set_config` (DO blocks and functions in plpgsql/sql, temporary functions, set_config and
 * so UPDATE pg_settings), session-level advisory locks and NOTIFY, and `CREATE` on schema public.
 * `wk_owner` owns the tables DDL sessions create (see docs/relational.md, "Roles").
 */
export const TENANT_HARDENING_SQL: string = [
  'REVOKE USAGE ON LANGUAGE plpgsql FROM PUBLIC',
  'REVOKE USAGE ON LANGUAGE sql FROM PUBLIC',
  'REVOKE TEMP ON DATABASE postgres FROM PUBLIC',
  'REVOKE CREATE ON SCHEMA public FROM PUBLIC',
  'REVOKE EXECUTE ON FUNCTION set_config(text, text, boolean) FROM PUBLIC',
  'REVOKE EXECUTE ON FUNCTION pg_notify(text, text) FROM PUBLIC',
  ...[
    'pg_advisory_lock(bigint)',
    'pg_advisory_lock(integer, integer)',
    'pg_advisory_lock_shared(bigint)',
    'pg_advisory_lock_shared(integer, integer)',
    'pg_try_advisory_lock(bigint)',
    'pg_try_advisory_lock(integer, integer)',
    'pg_try_advisory_lock_shared(bigint)',
    'pg_try_advisory_lock_shared(integer, integer)',
    'pg_advisory_unlock(bigint)',
    'pg_advisory_unlock(integer, integer)',
    'pg_advisory_unlock_shared(bigint)',
    'pg_advisory_unlock_shared(integer, integer)',
    'pg_advisory_unlock_all()',
  ].map((f) => `REVOKE EXECUTE ON FUNCTION ${f} FROM PUBLIC`),
  "DO $$ BEGIN IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'wk_owner') THEN CREATE ROLE wk_owner NOLOGIN; END IF; END $$",
  'GRANT USAGE, CREATE ON SCHEMA public TO wk_owner',
].join(';\n');
