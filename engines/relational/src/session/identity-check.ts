// Authorization layer two's identity check: which units are checked, the question asked of the
// backend after them, and the transaction a checked multi-statement unit runs in. The session
// (session.ts) decides when to check and what to do when the check fails.
import { BackendCode, readDataRow, splitBackendFrames, type TransactionStatus } from '../protocol/index.js';
import type { TenantBackend } from '../tenant/tenant-backend.js';
import { FrontendBatch } from './frontend-encoder.js';

const IDENTITY_HINT = /authorization|u&|\bapp\b"?\s*(?:\.|\/\*|--)/i;

/**
 * Authorization layer two's trigger. PGlite's authenticated user is the bootstrap superuser, so
 * PostgreSQL itself allows SET/RESET SESSION AUTHORIZATION, and any role may SET or RESET the
 * custom settings `app.tenant_id` and `app.user` that row-level security reads. Every spelling of
 * those contains "authorization", or the word `app` followed (after an optional closing quote,
 * spaces or a comment) by the dot of a qualified setting name, unless written with Unicode escapes
 * (`U&"..."`). A unit whose text has any of them is held back until the backend confirms, in a
 * separate exchange, that it still runs as the session's role with the session's tenant and user.
 */
export function mentionsIdentity(sql: string): boolean {
  return IDENTITY_HINT.test(sql);
}

/** Schema-qualified, so no search_path a session sets can put another function in its place. */
const PROBE_SQL =
  "SELECT pg_catalog.current_setting('session_authorization'), pg_catalog.current_setting('app.tenant_id', true), pg_catalog.current_setting('app.user', true)";
const IDENTITY_PROBE: Buffer = new FrontendBatch().add({ type: 'query', sql: PROBE_SQL }).take();
/**
 * The same question inside an unsynced extended-protocol batch (a unit that ended with Flush), where
 * a Query message would end the batch's implicit transaction: a reserved statement and portal,
 * closed again, and a Flush. In a failed batch PostgreSQL skips it, which counts as not confirmed.
 */
const PROBE_NAME = '\u0001weftkit-probe';
const IDENTITY_PROBE_IN_BATCH: Buffer = new FrontendBatch()
  .add({ type: 'parse', name: PROBE_NAME, sql: PROBE_SQL, paramTypes: [] })
  .add({ type: 'bind', portal: PROBE_NAME, statement: PROBE_NAME, paramFormats: [], params: [], resultFormats: [] })
  .add({ type: 'execute', portal: PROBE_NAME, maxRows: 0 })
  .add({ type: 'close', target: 'P', name: PROBE_NAME })
  .add({ type: 'close', target: 'S', name: PROBE_NAME })
  .add({ type: 'flush' })
  .take();
/** What the identity probe reads, in its column order (also the audit line's resource when one differs). */
export const PROBED_SETTINGS = ['session_authorization', 'app.tenant_id', 'app.user'] as const;
export type ProbedSetting = (typeof PROBED_SETTINGS)[number];

// A checked multi-statement unit outside a transaction runs inside these (Session's #run).
export const WRAP_BEGIN: Buffer = new FrontendBatch().add({ type: 'query', sql: 'BEGIN' }).take();
export const WRAP_COMMIT: Buffer = new FrontendBatch().add({ type: 'query', sql: 'COMMIT' }).take();
export const WRAP_ROLLBACK: Buffer = new FrontendBatch().add({ type: 'query', sql: 'ROLLBACK' }).take();

/**
 * The first of `PROBED_SETTINGS` whose value on the backend is not `expected` (asked in its own
 * exchange), or undefined when all match. An aborted transaction cannot be asked, so it counts as
 * changed: nothing it ran is shown.
 */
export async function identityDrift(
  backend: TenantBackend,
  expected: readonly string[],
  at: { readonly inBatch: true } | { readonly inBatch: false; readonly status: TransactionStatus | null },
): Promise<ProbedSetting | undefined> {
  if (!at.inBatch && (at.status === 'E' || at.status === null)) return PROBED_SETTINGS[0];
  const chunks: Buffer[] = [];
  try {
    await backend.exchange(at.inBatch ? IDENTITY_PROBE_IN_BATCH : IDENTITY_PROBE, (c) => chunks.push(Buffer.from(c)));
  } catch {
    return PROBED_SETTINGS[0];
  }
  let values: (string | null)[] | undefined;
  try {
    for (const f of splitBackendFrames(Buffer.concat(chunks))) {
      if (f.code === BackendCode.ErrorResponse) return PROBED_SETTINGS[0];
      if (f.code === BackendCode.DataRow) values = readDataRow(f);
    }
  } catch {
    return PROBED_SETTINGS[0];
  }
  if (values === undefined) return PROBED_SETTINGS[0];
  return PROBED_SETTINGS.find((_, i) => values[i] !== expected[i]);
}

/**
 * Ends the transaction a wrapped unit ran in. Returns the ErrorResponse frames it answered
 * (empty when it succeeded), or null if the backend failed or did not end the transaction.
 */
export async function endWrapped(backend: TenantBackend, sql: Buffer): Promise<Buffer | null> {
  const chunks: Buffer[] = [];
  try {
    await backend.exchange(sql, (c) => chunks.push(Buffer.from(c)));
  } catch {
    return null;
  }
  const errors: Buffer[] = [];
  let ended = false;
  try {
    for (const f of splitBackendFrames(Buffer.concat(chunks))) {
      if (f.code === BackendCode.ErrorResponse) errors.push(f.raw);
      else if (f.code === BackendCode.ReadyForQuery) ended = f.body[0] === 0x49;
    }
  } catch {
    return null;
  }
  return ended ? Buffer.concat(errors) : null;
}
