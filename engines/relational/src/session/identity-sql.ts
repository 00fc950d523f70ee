// The statements that give a tenant backend the session's identity for row-level security
// (`current_setting('app.tenant_id')`, `current_setting('app.user')`).
import { isTenantName, type SecurityContext } from '@weftkit/kernel';

/**
 * An E'' literal: its escapes mean the same whatever `standard_conforming_strings` a previous
 * session left behind, so a quote or backslash in the identity can never end the literal early.
 */
export function escapedLiteral(value: string): string {
  if (value.includes('\0')) throw new TypeError('a SQL literal cannot hold NUL');
  return `E'${value.replaceAll('\\', '\\\\').replaceAll("'", "''")}'`;
}

/** `SET app.tenant_id = ...; SET app."user" = ...` (`user` is a reserved word) for `ctx`, as one simple Query text. */
export function identitySettingsSql(ctx: SecurityContext): string {
  if (!isTenantName(ctx.tenant)) throw new TypeError('tenant name is not valid');
  return `SET app.tenant_id = '${ctx.tenant}'; SET app."user" = ${escapedLiteral(ctx.identity)}`;
}
