// Authorization layer two: the non-superuser PostgreSQL role a session runs as, with grants that
// mirror its WeftKit roles, so the executor enforces the policy even where the classifier errs.
// One NOLOGIN role per distinct role-definition set, named by a hash of those definitions, so a
// roles.yaml reload that changes a role gives its sessions a new PostgreSQL role with fresh grants.
import { createHash } from 'node:crypto';
import { Action, type ActionBits, type Policy, type SecurityContext } from '@weftkit/kernel';
import { isSuperuser } from './statement-gate.js';

export interface SessionRole {
  /** `wk_r_<hash>`. */
  readonly name: string;
  /** Run as superuser, idempotent: creates the role and (re)applies its grants. */
  readonly setupSql: string;
  /** DDL sessions act as `wk_owner`, which owns the tables they create. */
  readonly actsAsOwner: boolean;
}

/** Owner of every table DDL sessions create (created by the tenant hardening SQL). */
export const OWNER_ROLE = 'wk_owner';

const SAFE_TABLE = /^([a-z_][a-z0-9_]{0,62})\.([a-z_][a-z0-9_]{0,62})$/;

function tablePrivileges(bits: ActionBits): string[] {
  const p: string[] = [];
  if ((bits & (Action.SELECT | Action.COPY_TO)) !== 0) p.push('SELECT');
  if ((bits & (Action.INSERT | Action.COPY_FROM)) !== 0) p.push('INSERT');
  if ((bits & Action.UPDATE) !== 0) p.push('UPDATE');
  if ((bits & Action.DELETE) !== 0) p.push('DELETE', 'TRUNCATE');
  return p;
}

function sequencePrivileges(bits: ActionBits): string[] {
  if ((bits & (Action.INSERT | Action.UPDATE | Action.COPY_FROM)) !== 0) return ['USAGE', 'SELECT', 'UPDATE'];
  if ((bits & (Action.SELECT | Action.COPY_TO)) !== 0) return ['SELECT'];
  return [];
}

const CHECKED_BITS: readonly ActionBits[] = [Action.SELECT, Action.INSERT, Action.UPDATE, Action.DELETE, Action.COPY_TO, Action.COPY_FROM];

/** The role for `ctx` under `policy`, or undefined for superuser sessions (they stay the bootstrap superuser). */
export function sessionRole(policy: Policy, ctx: SecurityContext): SessionRole | undefined {
  if (isSuperuser(policy, ctx)) return undefined;
  const defs = policy.roles.filter((r) => ctx.roles.includes(r.name)).sort((a, b) => (a.name < b.name ? -1 : 1));
  const signature = JSON.stringify(defs.map((r) => [r.name, r.allow, r.deny, r.on ?? null]));
  const name = `wk_r_${createHash('sha256').update(signature).digest('hex').slice(0, 24)}`;
  const everywhere = policy.allowedEverywhere(ctx);
  const sql: string[] = [
    `DO $$ BEGIN IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = '${name}') THEN CREATE ROLE ${name} NOLOGIN; END IF; END $$`,
  ];
  const tables = tablePrivileges(everywhere);
  const sequences = sequencePrivileges(everywhere);
  for (const owner of [OWNER_ROLE, 'postgres']) {
    if (tables.length > 0) sql.push(`ALTER DEFAULT PRIVILEGES FOR ROLE ${owner} IN SCHEMA public GRANT ${tables.join(', ')} ON TABLES TO ${name}`);
    if (sequences.length > 0) sql.push(`ALTER DEFAULT PRIVILEGES FOR ROLE ${owner} IN SCHEMA public GRANT ${sequences.join(', ')} ON SEQUENCES TO ${name}`);
  }
  if (tables.length > 0) sql.push(`GRANT ${tables.join(', ')} ON ALL TABLES IN SCHEMA public TO ${name}`);
  if (sequences.length > 0) sql.push(`GRANT ${sequences.join(', ')} ON ALL SEQUENCES IN SCHEMA public TO ${name}`);
  // Roles limited by `on:`: grant on the tables their exact patterns name, where the policy allows it.
  const scoped = new Set<string>();
  for (const d of defs) for (const p of d.on ?? []) if (SAFE_TABLE.test(p)) scoped.add(p);
  for (const table of scoped) {
    let bits = 0;
    for (const bit of CHECKED_BITS) if ((everywhere & bit) === 0 && policy.authorize(ctx, bit, table)) bits |= bit;
    const privs = tablePrivileges(bits);
    if (privs.length === 0) continue;
    const [, schema, rel] = SAFE_TABLE.exec(table)!;
    sql.push(
      `DO $$ BEGIN IF to_regclass('"${schema}"."${rel}"') IS NOT NULL THEN GRANT ${privs.join(', ')} ON TABLE "${schema}"."${rel}" TO ${name}; END IF; END $$`,
    );
  }
  const ddl = (everywhere & Action.DDL) !== 0;
  if (ddl) sql.push(`GRANT ${OWNER_ROLE} TO ${name}`);
  return { name, setupSql: sql.join(';\n'), actsAsOwner: ddl };
}
