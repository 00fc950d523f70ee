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
