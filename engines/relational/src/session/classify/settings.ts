import type { ForbiddenReason } from './types.js';

// Setting names are case-insensitive in PostgreSQL: `SET "APP".tenant_id` reaches app.tenant_id.
const LIBRARY_SETTINGS: ReadonlySet<string> = new Set([
  'dynamic_library_path',
  'local_preload_libraries',
  'session_preload_libraries',
  'shared_preload_libraries',
  'jit_provider',
]);

/** Why setting `name` (from SET, RESET, set_config, a function's SET clause...) is refused, if it is. */
export function protectedSetting(name: string): ForbiddenReason | undefined {
  const n = name.toLowerCase();
  if (n === 'role') return 'role_change';
  if (n === 'session_authorization') return 'session_authorization';
  if (n.startsWith('app.')) return 'engine_setting';
  if (LIBRARY_SETTINGS.has(n)) return 'load_library';
  return undefined;
}
