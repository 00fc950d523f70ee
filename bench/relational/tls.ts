// TLS for the pgbench targets: the same target with another PGSSLMODE, and what libpq (the library
// pgbench uses) negotiated, as psql's \conninfo reports it from the client side.
import { run } from '../lib/processes.js';
import type { PgbenchTarget } from './pgbench.js';

export function withSslMode(t: PgbenchTarget, mode: 'disable' | 'require'): PgbenchTarget {
  return { ...t, env: { ...t.env, PGSSLMODE: mode } };
}

export interface Negotiated {
  readonly protocol: string;
  readonly cipher: string;
}

/** Connects once with psql and reads libpq's view of the session (`SSL connection (protocol: ..., cipher: ...)`). */
export function negotiatedTls(psql: string, t: PgbenchTarget): Negotiated {
  const out = run(psql, ['-h', t.host, '-p', String(t.port), '-U', t.user, '-d', t.database, '-X', '-c', '\\conninfo'], t.env);
  const m = /SSL connection \(protocol: ([^,]+), cipher: ([^,]+),/.exec(out);
  if (m === null) throw new Error(`${t.label}: psql \\conninfo shows no SSL connection:\n${out.slice(-1000)}`);
  return { protocol: m[1]!, cipher: m[2]! };
}

/** PostgreSQL's server-side view of the same: pg_stat_ssl for the session's own backend. */
export function pgStatSsl(psql: string, t: PgbenchTarget): Negotiated {
  const sql = 'select version, cipher from pg_stat_ssl where pid = pg_backend_pid() and ssl';
  const out = run(psql, ['-h', t.host, '-p', String(t.port), '-U', t.user, '-d', t.database, '-X', '-At', '-F', ' ', '-c', sql], t.env);
  const m = /^(\S+) (\S+)$/m.exec(out);
  if (m === null) throw new Error(`${t.label}: pg_stat_ssl shows no TLS session:\n${out.slice(-1000)}`);
  return { protocol: m[1]!, cipher: m[2]! };
}
