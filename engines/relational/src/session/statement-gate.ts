// Authorization layer one: decides, from a statement's classification, whether a session may run it
// (42501 naming the action) and whether it needs backend state a shared backend cannot give one
// session (0A000). Nothing here talks to the backend.
import { ALL_ACTIONS, actionNames, type ActionBits, type Policy, type SecurityContext } from '@weftkit/kernel';
import { SessionFeatureRefused, SessionPermissionDenied } from '../errors.js';
import { type Classification, StatementFlag } from './classify/index.js';

/** A refusal: the error to send and, for denials, what to audit. */
export interface StatementRefusal {
  readonly error: SessionPermissionDenied | SessionFeatureRefused;
  /** Set for authorization denials (audited as `authz_deny`). */
  readonly audit?: { readonly action: string; readonly resource: string | null; readonly reason: string };
}

const SESSION_LEVEL_ADVISORY = /pg_(try_)?advisory_(?!xact_)/i;
const WITH_HOLD = /\bwith\s+hold\b/i;

/** 0A000 for statements that would keep state on the backend beyond the session's turn. */
export function sharedBackendRefusal(c: Classification, sql: string): StatementRefusal | undefined {
  const f = c.flags;
  let what: string | undefined;
  if ((f & StatementFlag.TEMP_OBJECT) !== 0) what = 'temporary tables and objects are not supported: sessions share the tenant backend; use ordinary tables';
  else if ((f & (StatementFlag.LISTEN | StatementFlag.UNLISTEN | StatementFlag.NOTIFY)) !== 0)
    what = 'LISTEN/NOTIFY are not supported: sessions share the tenant backend';
  else if ((f & StatementFlag.ADVISORY_LOCK) !== 0 && SESSION_LEVEL_ADVISORY.test(sql))
    what = 'session-level advisory locks are not supported (sessions share the tenant backend); use pg_advisory_xact_lock';
  else if ((f & (StatementFlag.PREPARE | StatementFlag.EXECUTE_PREPARED | StatementFlag.DEALLOCATE)) !== 0)
    what = 'SQL-level PREPARE/EXECUTE/DEALLOCATE and DISCARD ALL are not supported; use the extended protocol (every driver does)';
  else if ((f & StatementFlag.CURSOR) !== 0 && WITH_HOLD.test(sql)) what = 'cursors WITH HOLD are not supported: sessions share the tenant backend';
  return what === undefined ? undefined : { error: new SessionFeatureRefused(what) };
}

function deny(action: string, resource: string | null, reason: string): StatementRefusal {
  const on = resource === null ? '' : ` on ${resource}`;
  return { error: new SessionPermissionDenied(`permission denied for ${action}${on}`), audit: { action, resource, reason } };
}

function firstMissing(policy: Policy, ctx: SecurityContext, bits: ActionBits, resource?: string): string {
  for (let bit = 1; bit <= bits; bit <<= 1) {
    if ((bits & bit) !== 0 && !policy.authorize(ctx, bit, resource)) return actionNames(bit)[0] ?? 'unknown action';
  }
  return actionNames(bits).join(', ');
}

/** True when the context's roles allow every action everywhere. */
export function isSuperuser(policy: Policy, ctx: SecurityContext): boolean {
  return policy.authorize(ctx, ALL_ACTIONS);
}

/** Layer one: `undefined` when the policy allows everything the classification needs. */
export function authorizeClassification(policy: Policy, ctx: SecurityContext, c: Classification): StatementRefusal | undefined {
  if (c.forbidden !== undefined) {
    const r = c.forbidden;
    const what =
      r === 'role_change' || r === 'session_authorization' || r === 'engine_setting' || r === 'dynamic_set_config' || r === 'settings_table' || r === 'dynamic_identity_change'
        ? 'changing the session role, identity or app.* settings'
        : r === 'catalog_write'
          ? 'writing system catalogs'
          : 'statements that reach outside the tenant (server files, programs, libraries, extensions, cluster administration)';
    return { error: new SessionPermissionDenied(`permission denied: ${what} is not allowed`), audit: { action: 'forbidden', resource: null, reason: r } };
  }
  if (c.unparseable) return isSuperuser(policy, ctx) ? undefined : deny('a statement the server cannot classify', null, 'unparseable');
  if (c.unscoped !== 0 && !policy.authorize(ctx, c.unscoped)) return deny(firstMissing(policy, ctx, c.unscoped), null, 'policy');
  for (const r of c.resources) {
    if (!policy.authorize(ctx, r.actions, r.name)) return deny(firstMissing(policy, ctx, r.actions, r.name), r.name, 'policy');
  }
  return undefined;
}
