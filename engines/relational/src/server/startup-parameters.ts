// What a StartupMessage may ask for, and the ParameterStatus set sent after authentication.
// PostgreSQL treats every startup parameter but user/database/options/replication as a session
// setting; here only harmless, client-facing ones are accepted, so a startup packet can never set
// a role, a session authorization or an `app.*` identity setting.
import type { SecurityContext } from '@weftkit/kernel';
import {
  ServerDatabaseNotFound,
  ServerStartupOptionsRefused,
  ServerStartupParameterRefused,
  ServerUnsupportedEncoding,
} from '../errors.js';
import { parameterStatus, type StartupMessage } from '../protocol/index.js';

/** The PostgreSQL major version PGlite 0.5.16 runs; clients key features off `server_version`. */
export const SERVER_VERSION = '18.6';

/** Settings a client may send at startup (libpq, pgjdbc, node-postgres and psycopg send these). */
const ALLOWED_SETTINGS: ReadonlySet<string> = new Set([
  'application_name',
  'client_encoding',
  'datestyle',
  'timezone',
  'intervalstyle',
  'extra_float_digits',
  'search_path',
  'statement_timeout',
  'lock_timeout',
  'idle_in_transaction_session_timeout',
  'fallback_application_name',
]);

const UTF8_NAMES: ReadonlySet<string> = new Set(['utf8', 'utf-8', 'unicode', 'sql_ascii', 'auto']);

/**
 * Checks the startup packet's parameters before authentication and returns the accepted session
 * settings (lowercased names). Throws a coded FATAL-worthy error for anything refused.
 */
export function acceptStartupParameters(startup: StartupMessage): ReadonlyMap<string, string> {
  const settings = new Map<string, string>();
  for (const [name, value] of startup.parameters) {
    if (name === 'user' || name === 'database') continue;
    if (name === 'options') {
      if (value.trim() !== '') throw new ServerStartupOptionsRefused('startup options (-c settings) are not supported; use SET after connecting');
      continue;
    }
    const key = name.toLowerCase();
    if (!ALLOWED_SETTINGS.has(key)) {
      const shown = /^[A-Za-z_][A-Za-z0-9_.]{0,62}$/.test(name) ? `"${name}"` : 'in the startup packet';
      throw new ServerStartupParameterRefused(`startup parameter ${shown} is not allowed`);
    }
    if (key === 'client_encoding' && !UTF8_NAMES.has(value.toLowerCase())) {
      throw new ServerUnsupportedEncoding('only the UTF8 client encoding is supported');
    }
    settings.set(key, value);
  }
  return settings;
}

/**
 * The database a session may name: none, `default`, `postgres`, or its tenant (one database per
 * tenant). libpq and node-postgres send the user name when no database is given, so a database
 * equal to the startup user counts as none.
 */
export function checkDatabase(startup: StartupMessage, ctx: SecurityContext): void {
  const database = startup.database;
  if (database === undefined || database === '' || database === startup.user) return;
  if (database === 'default' || database === 'postgres' || database === ctx.tenant) return;
  // Only a name of ordinary characters is echoed back.
  const shown = /^[A-Za-z0-9_.-]{1,63}$/.test(database) ? ` "${database}"` : '';
  throw new ServerDatabaseNotFound(`database${shown} does not exist`);
}

/** ParameterStatus messages after AuthenticationOk, as PostgreSQL sends them. */
export function initialParameterStatus(ctx: SecurityContext, settings: ReadonlyMap<string, string>): Buffer[] {
  const application = settings.get('application_name') ?? settings.get('fallback_application_name') ?? '';
  const pairs: [string, string][] = [
    ['application_name', application],
    ['client_encoding', 'UTF8'],
    ['DateStyle', 'ISO, MDY'],
    ['default_transaction_read_only', 'off'],
    ['in_hot_standby', 'off'],
    ['integer_datetimes', 'on'],
    ['IntervalStyle', 'postgres'],
    ['is_superuser', 'off'],
    ['search_path', '"$user", public'],
    ['server_encoding', 'UTF8'],
    ['server_version', SERVER_VERSION],
    ['session_authorization', ctx.identity],
    ['standard_conforming_strings', 'on'],
    ['TimeZone', 'UTC'],
  ];
  return pairs.map(([name, value]) => parameterStatus(name, value));
}
