// One client connection after authentication: its SecurityContext and protocol state, and the
// forwarding of its messages to the tenant's backend. Messages go as complete units (a Query;
// extended-protocol messages up to Sync or Flush); a session holds its tenant's backend from its
// first unit until a ReadyForQuery 'I' ends its transaction, then hands it to the next session.
import { Action, type AuditLog, type Logger, type Policy, publicError, type SecurityContext } from '@weftkit/kernel';
import {
  ServerBatchTooLarge,
  ServerFeatureNotSupported,
  ServerIdleInTransactionTimeout,
  ServerUnexpectedMessage,
  SessionIdentityChanged,
  SessionIdentityTransactionEnd,
  SessionIdentityUnverified,
} from '../errors.js';
import {
  errorResponse,
  parseComplete,
  readyForQuery,
  type Severity,
  type TransactionStatus,
  type TypedFrontendMessage,
} from '../protocol/index.js';
import type { TenantBackend, TenantManager } from '../tenant/tenant-backend.js';
import { TENANT_HARDENING_SQL } from '../tenant/pglite-options.js';
import { BackendRelay } from './backend-relay.js';
import { backendState } from './backend-state.js';
import { type Classification, type ClassifierCache, StatementFlag } from './classify/index.js';
import { copyInVerdict, mightCopyIn } from './copy-in.js';
import { FrontendBatch } from './frontend-encoder.js';
import { endWrapped, identityDrift, mentionsIdentity, type ProbedSetting, WRAP_BEGIN, WRAP_COMMIT, WRAP_ROLLBACK } from './identity-check.js';
import { escapedLiteral, identitySettingsSql } from './identity-sql.js';
import { OWNER_ROLE, type SessionRole, sessionRole } from './pg-role.js';
import { authorizeClassification, type StatementRefusal, sharedBackendRefusal } from './statement-gate.js';
import type { TenantGate, TenantGates } from './tenant-gate.js';

/** Where a session's output goes: the client connection. */
export interface SessionClient {
  write(chunk: Buffer): void;
  /** Sends `err` as a FATAL ErrorResponse and closes the connection. */
  fatal(err: unknown): void;
}

export interface SessionMetrics {
  /** One unit run on a backend, with its latency. */
  exchange(seconds: number): void;
  /** A session gave up waiting for its tenant's backend. */
  waitTimeout(): void;
}

export interface SessionLimits {
  readonly sessionWaitTimeoutMs: number;
  readonly idleInTransactionTimeoutMs: number;
  /** Bound on a buffered unit (extended messages before Sync, COPY data): `WEFTKIT_MAX_MESSAGE_BYTES`. */
  readonly maxBatchBytes: number;
}

/** The live policy (the kernel's PolicyHolder: replaced on SIGHUP). */
export interface PolicySource {
  readonly policy: Policy;
}

export interface SessionDeps {
  readonly tenants: TenantManager;
  readonly authz: PolicySource;
  /** Classifications shared by every session (LRU by SQL text). */
  readonly classifier: ClassifierCache;
  readonly audit?: AuditLog;
  /**
   * TEST ONLY: skip authorization layer one (policy checks and forbidden statements), so tests can
   * prove what the PostgreSQL role (layer two) holds alone. Never set in production.
   */
  readonly bypassClassifierForTests?: boolean;
  readonly gates: TenantGates;
  readonly limits: SessionLimits;
  readonly logger: Logger;
  readonly metrics?: SessionMetrics;
}

/** What `handle` asks the connection to do next. */
export type SessionNext = 'continue' | 'close';

interface Lease {
  readonly backend: TenantBackend;
  readonly release: () => void;
}

interface CopyIn {
  readonly sql: string;
  readonly data: Buffer[];
  bytes: number;
}

/** Optional executor capability: interrupt the running statement (CancelRequest). */
interface Cancellable {
  cancel(): void;
}

function isCancellable(backend: TenantBackend): backend is TenantBackend & Cancellable {
  return typeof (backend as Partial<Cancellable>).cancel === 'function';
}

// Cleanup for a session leaving with the backend held: Execute of a portal that cannot exist fails
// any implicit transaction left open by an unsynced batch (so Sync rolls it back instead of
// committing it), Sync ends it, ROLLBACK ends an explicit block.
const ABORT_PORTAL = '\u0001weftkit-abort';

function encodeAbort(): Buffer {
  const b = new FrontendBatch();
  b.add({ type: 'execute', portal: ABORT_PORTAL, maxRows: 0 });
  b.add({ type: 'sync' });
  b.add({ type: 'query', sql: 'ROLLBACK' });
  return b.take();
}

// Puts an open explicit transaction into the failed state, as a refused statement does in PostgreSQL.
function encodePoison(): Buffer {
  const b = new FrontendBatch();
  b.add({ type: 'execute', portal: ABORT_PORTAL, maxRows: 0 });
  b.add({ type: 'sync' });
  return b.take();
}

let nextSessionNumber = 0;
/** Replayed SET statements kept per session; older ones are dropped beyond this. */
const MAX_RECORDED_SETTINGS = 256;
const SET_LOCAL = /^\s*set\s+local\b/i;

function copyInResponse(format: 0 | 1): Buffer {
  // 'G', length 7, overall format, zero column formats: clients only need the overall format.
  return Buffer.from([0x47, 0, 0, 0, 7, format, 0, 0]);
}

export class Session {
  readonly ctx: SecurityContext;
  /** Startup parameters the client asked for (application_name, ...), for per-session settings. */
  readonly startupSettings: ReadonlyMap<string, string>;
  readonly #deps: SessionDeps;
  readonly #client: SessionClient;
  readonly #log: Logger;
  readonly #relay: BackendRelay;
  readonly #batch = new FrontendBatch();
  readonly #gate: TenantGate;
  #lease: Lease | undefined;
  /** Transaction status as the client last saw it. */
  #status: TransactionStatus = 'I';
  /** The last unit ended with Flush: the backend holds an unsynced implicit transaction. */
  #unsynced = false;
  /** After an error inside an extended-protocol batch: drop messages until Sync. */
  #skipToSync = false;
  #copy: CopyIn | undefined;
  #running: Promise<unknown> | undefined;
  #idleTimer: NodeJS.Timeout | undefined;
  #closed = false;
  #closing: Promise<void> | undefined;
  readonly #abort = new AbortController();
  /** Prefix of this session's statement and portal names on the shared backend. */
  readonly #prefix = `wk${(nextSessionNumber++).toString(36)}_`;
  /** Classifications of this session's named statements (client names), for Bind. */
  readonly #statements = new Map<string, Classification>();
  #unnamed: Classification | undefined;
  /** Prepared statements (by client name, '' = unnamed) whose text mentions the identity (`mentionsIdentity`). */
  readonly #hinted = new Set<string>();
  /** The next unit ending in Sync or Query gets its identity checked before the client sees its answer. */
  #probe = false;
  /** Statements the unit being batched runs (Query statements, Executes), and its classifications' flags. */
  #unitStatements = 0;
  #unitFlags = 0;
  /** The unit has a statement the classifier could not read (unparseable, or a Bind of an unknown statement). */
  #unitOpaque = false;
  /** SET statements to replay when the session gets the backend after another session. */
  #settings: string[] = [];
  /** The first entries of `#settings` come from the startup packet; RESET ALL keeps them. */
  #startupSettingCount = 0;
  /** The engine-owned settings must be set again before the next unit (after RESET ALL). */
  #identityDirty = false;
  /** The last unit ran DDL: role grants on this backend must be refreshed. */
  #ranDdl = false;
  /** The current unit resets settings (RESET ALL): the engine's must be set again after it. */
  #resetInUnit = false;
  /** The pending batch holds only named Parses (so far): it can be answered without the backend. */
  #parseOnly = true;
  #parseCount = 0;
  /** Named Parse+Sync units answered locally, sent ahead of the session's next unit on the backend. */
  #deferred: Buffer[] = [];
  #roleFor: { policy: Policy; role: SessionRole | undefined } | undefined;

  constructor(ctx: SecurityContext, client: SessionClient, deps: SessionDeps, startupSettings: ReadonlyMap<string, string> = new Map()) {
    this.ctx = ctx;
    this.startupSettings = startupSettings;
    this.#deps = deps;
    this.#client = client;
    this.#log = deps.logger.child({ connection_id: ctx.connectionId, tenant: ctx.tenant });
    this.#relay = new BackendRelay((chunk) => client.write(chunk));
    this.#gate = deps.gates.get(ctx.tenant);
    // Startup settings come from the server's allow list; the session re-applies them after RESET ALL.
    for (const [name, value] of startupSettings) {
      if (name === 'client_encoding' || name === 'fallback_application_name' || !/^[a-z_]+$/.test(name)) continue;
      try {
        this.#settings.push(`SET ${name} = ${escapedLiteral(value)}`);
      } catch {
        // A NUL cannot reach here (the protocol parser splits on it); skip rather than fail.
      }
    }
    this.#startupSettingCount = this.#settings.length;
  }

  /** True while the session holds its tenant's backend. */
  get holdsBackend(): boolean {
    return this.#lease !== undefined;
  }

  get transactionStatus(): TransactionStatus {
    return this.#status;
  }

  /** True while a unit runs on the backend. */
  get busy(): boolean {
    return this.#running !== undefined;
  }

  /** Handles one client message; never throws for client or backend faults (they become ErrorResponses). */
  async handle(msg: TypedFrontendMessage): Promise<SessionNext> {
    if (this.#closed) return 'close';
    this.#clearIdleTimer();
    try {
      const next = await this.#dispatch(msg);
      if (next === 'continue' && !this.#closed) this.#armIdleTimer();
      return this.#closed ? 'close' : next;
    } catch (err) {
      this.#fatal(err);
      return 'close';
    }
  }

  /** Interrupts the running statement when the executor supports it; otherwise does nothing. */
  cancel(): void {
    const lease = this.#lease;
    if (this.#running !== undefined && lease !== undefined && isCancellable(lease.backend)) lease.backend.cancel();
  }

  /**
   * Ends the session: waits for a running unit, rolls back what the session left open on the
   * backend and releases it. `notify` is sent first as a FATAL error (shutdown, timeouts).
   */
  close(notify?: unknown): Promise<void> {
    this.#closing ??= this.#closeNow(notify);
    return this.#closing;
  }

  async #closeNow(notify: unknown): Promise<void> {
    this.#closed = true;
    this.#clearIdleTimer();
    this.#abort.abort(new ServerUnexpectedMessage('session closed'));
    // A running unit finishes first, so its answer is not cut by the FATAL.
    await this.#running?.catch(() => undefined);
    if (notify !== undefined) this.#client.fatal(notify);
    await this.#releaseBackend(true);
    await this.#dropStatements();
  }

  /** Closes this session's named statements on the shared backend (best effort: a replaced backend has none). */
  async #dropStatements(): Promise<void> {
    if (this.#statements.size === 0) return;
    const b = new FrontendBatch();
    for (const name of this.#statements.keys()) b.add({ type: 'close', target: 'S', name: this.#prefix + name });
    b.add({ type: 'sync' });
    this.#statements.clear();
    const bytes = b.take();
    const gate = this.#gate;
    try {
      await gate.acquire(this, this.#deps.limits.sessionWaitTimeoutMs);
    } catch {
      return;
    }
    try {
      const opened = await this.#deps.tenants.open(this.ctx.tenant);
      try {
        await opened.backend.exchange(bytes, () => {});
      } finally {
        opened.release();
      }
    } catch (err) {
      this.#log.warn('closing prepared statements at session end failed', { error: err });
    } finally {
      gate.release(this);
      this.#deps.gates.sweep(gate);
    }
  }

  async #dispatch(msg: TypedFrontendMessage): Promise<SessionNext> {
    if (this.#copy !== undefined) return this.#copyMessage(this.#copy, msg);
    if (this.#skipToSync) {
      if (msg.type === 'sync') {
        this.#skipToSync = false;
        this.#client.write(readyForQuery(this.#status));
      }
      return msg.type === 'terminate' ? 'close' : 'continue';
    }
    switch (msg.type) {
      case 'query': {
        const c = this.#deps.classifier.classify(msg.sql);
        const refusal = this.#check(c, msg.sql);
        if (refusal !== undefined) {
          this.#resetBatch();
          await this.#refuse(refusal, c);
          this.#client.write(readyForQuery(this.#status));
          return 'continue';
        }
        await this.#auditAllowed(c);
        this.#record(c, msg.sql);
        if (mentionsIdentity(msg.sql)) this.#probe = true;
        this.#unitStatements += c.statements.length;
        this.#unitFlags |= c.flags;
        if (c.unparseable) this.#unitOpaque = true;
        const verdict = copyInVerdict(msg.sql);
        if (verdict.kind === 'refuse') {
          this.#resetBatch();
          this.#error(new ServerFeatureNotSupported('COPY FROM STDIN must be sent alone, without backslashes or dollar quotes'), true);
          return 'continue';
        }
        if (verdict.kind === 'copy') {
          this.#resetBatch();
          this.#copy = { sql: msg.sql, data: [], bytes: 0 };
          this.#client.write(copyInResponse(verdict.format));
          return 'continue';
        }
        this.#add(msg);
        await this.#run('ready', false);
        return 'continue';
      }
      case 'parse': {
        if (mightCopyIn(msg.sql)) {
          this.#resetBatch();
          this.#error(new ServerFeatureNotSupported('COPY FROM STDIN is supported only in the simple query protocol'), false);
          this.#skipToSync = true;
          return 'continue';
        }
        const c = this.#deps.classifier.classify(msg.sql);
        const refusal = this.#check(c, msg.sql);
        if (refusal !== undefined) {
          // Messages batched before it never reach the backend: the implicit transaction they
          // belong to fails as a whole, as it would in PostgreSQL.
          this.#resetBatch();
          await this.#refuse(refusal, c);
          this.#skipToSync = true;
          return 'continue';
        }
        this.#record(c, msg.sql);
        if (mentionsIdentity(msg.sql)) this.#hinted.add(msg.name);
        else this.#hinted.delete(msg.name);
        if (msg.name === '') {
          this.#unnamed = c;
          this.#parseOnly = false;
        } else {
          this.#statements.set(msg.name, c);
          this.#parseCount++;
        }
        this.#add(msg.name === '' ? msg : { ...msg, name: this.#prefix + msg.name });
        return 'continue';
      }
      case 'bind': {
        const c = msg.statement === '' ? this.#unnamed : this.#statements.get(msg.statement);
        // The statement's recorded classification, checked against the policy in force now.
        const refusal = c === undefined ? undefined : this.#check(c, '');
        if (refusal !== undefined && c !== undefined) {
          this.#resetBatch();
          await this.#refuse(refusal, c);
          this.#skipToSync = true;
          return 'continue';
        }
        if (c !== undefined) {
          await this.#auditAllowed(c);
          this.#unitFlags |= c.flags;
          if (c.unparseable) this.#unitOpaque = true;
        } else {
          this.#unitOpaque = true;
        }
        if (this.#hinted.has(msg.statement)) this.#probe = true;
        this.#parseOnly = false;
        this.#add({ ...msg, portal: this.#name(msg.portal), statement: this.#name(msg.statement) });
        return 'continue';
      }
      case 'describe':
        this.#parseOnly = false;
        this.#add({ ...msg, name: this.#name(msg.name) });
        return 'continue';
      case 'close':
        this.#parseOnly = false;
        if (msg.target === 'S') {
          if (msg.name === '') this.#unnamed = undefined;
          else this.#statements.delete(msg.name);
          this.#hinted.delete(msg.name);
        }
        this.#add({ ...msg, name: this.#name(msg.name) });
        return 'continue';
      case 'execute':
        this.#parseOnly = false;
        this.#unitStatements++;
        this.#add({ ...msg, portal: this.#name(msg.portal) });
        return 'continue';
      case 'sync':
        this.#add(msg);
        await this.#run('ready', false);
        return 'continue';
      case 'flush':
        this.#add(msg);
        await this.#run('flush', false);
        return 'continue';
      case 'functionCall':
        this.#resetBatch();
        this.#error(new ServerFeatureNotSupported('fastpath function calls are not supported'), true);
        return 'continue';
      case 'terminate':
        return 'close';
      case 'copyData':
      case 'copyDone':
      case 'copyFail':
        // PostgreSQL ignores these outside COPY: a client may still be sending after a failed COPY.
        return 'continue';
      default:
        throw new ServerUnexpectedMessage(`unexpected message ${msg.type}`);
    }
  }

  async #copyMessage(copy: CopyIn, msg: TypedFrontendMessage): Promise<SessionNext> {
    switch (msg.type) {
      case 'copyData':
        copy.bytes += msg.data.length + 5;
        if (copy.bytes > this.#deps.limits.maxBatchBytes) {
          throw new ServerBatchTooLarge(`COPY data exceeds the limit of ${this.#deps.limits.maxBatchBytes} bytes`);
        }
        copy.data.push(msg.data);
        return 'continue';
      case 'copyDone':
      case 'copyFail': {
        this.#copy = undefined;
        this.#batch.add({ type: 'query', sql: copy.sql });
        if (msg.type === 'copyDone') {
          for (const data of copy.data) this.#batch.add({ type: 'copyData', data });
        }
        this.#batch.add(msg);
        copy.data.length = 0;
        await this.#run('ready', true);
        return 'continue';
      }
      case 'flush':
      case 'sync':
        return 'continue';
      case 'terminate':
        return 'close';
      default:
        throw new ServerUnexpectedMessage(`unexpected message ${msg.type} during COPY FROM STDIN`);
    }
  }

  #resetBatch(): void {
    this.#batch.reset();
    this.#unitStatements = 0;
    this.#unitFlags = 0;
    this.#unitOpaque = false;
    this.#parseOnly = true;
    this.#parseCount = 0;
  }

  #name(name: string): string {
    return name === '' ? '' : this.#prefix + name;
  }

  /** Layer one, then what a shared backend cannot do; `sql` is empty when re-checking a prepared statement. */
  #check(c: Classification, sql: string): StatementRefusal | undefined {
    if (this.#deps.bypassClassifierForTests !== true) {
      const denied = authorizeClassification(this.#deps.authz.policy, this.ctx, c);
      if (denied !== undefined) return denied;
    }
    return sql === '' ? undefined : sharedBackendRefusal(c, sql);
  }

  /** Audits a denial (durably, before the client hears of it), sends the error, fails an open transaction. */
  async #refuse(refusal: StatementRefusal, c: Classification): Promise<void> {
    const audit = this.#deps.audit;
    const a = refusal.audit;
    if (a !== undefined && audit?.records('authz_deny') === true) {
      await audit.append(this.ctx, {
        event: 'authz_deny',
        operation: `sql.${a.reason === 'policy' ? a.action.toLowerCase().replaceAll(' ', '_') : a.reason}`,
        resource: a.resource,
        result: 'denied',
        errorCode: '42501',
        details: { statement_kind: c.statements[0]?.kind ?? 'unparseable', reason: a.reason },
      });
    }
    if (this.#lease !== undefined && this.#status === 'T') await this.#poison();
    this.#error(refusal.error, false);
  }

  /**
   * Layer two caught what layer one let through (the backend left the session's role, tenant or
   * user: `resource` names the setting), or could not check it (the held answer was too large). The
   * connection ends with `err` as FATAL, the open transaction is rolled back, and the next session
   * on this backend gets the full identity prelude.
   */
  async #identityChanged(reason: 'changed' | 'unverified', resource: ProbedSetting | 'session_identity', err: Error): Promise<void> {
    this.#gate.identityOwner = undefined;
    this.#log.warn('session identity check failed; terminating the session', { reason, setting: resource, request_id: this.ctx.requestId });
    const audit = this.#deps.audit;
    if (audit?.records('authz_deny') === true) {
      await audit.append(this.ctx, {
        event: 'authz_deny',
        operation: 'sql.identity_change',
        resource,
        result: 'denied',
        errorCode: reason === 'changed' ? '42501' : '54000',
        details: { reason: reason === 'changed' ? 'executor' : 'unverified', statement_kind: 'unknown' },
      });
    }
    this.#status = 'T';
    this.#fatal(err);
  }

  /** A checked unit that would also end a transaction: refused before it reaches the backend. */
  async #refuseTransactionEnd(end: 'ready' | 'flush'): Promise<void> {
    const audit = this.#deps.audit;
    if (audit?.records('authz_deny') === true) {
      await audit.append(this.ctx, {
        event: 'authz_deny',
        operation: 'sql.identity_check',
        resource: null,
        result: 'denied',
        errorCode: '0A000',
        details: { reason: 'transaction_end', statement_kind: 'TransactionStmt' },
      });
    }
    if (this.#lease !== undefined && this.#status === 'T') await this.#poison();
    this.#error(
      new SessionIdentityTransactionEnd(
        'a query that mentions session authorization or app.* settings cannot also end a transaction (COMMIT, ROLLBACK, PREPARE TRANSACTION): send the transaction end separately',
      ),
      end === 'ready',
    );
    if (end === 'flush') this.#skipToSync = true;
  }

  /** schema_change for DDL and data_export for COPY TO, written before the statement runs. */
  async #auditAllowed(c: Classification): Promise<void> {
    if ((c.actions & Action.DDL) !== 0) this.#ranDdl = true;
    const audit = this.#deps.audit;
    if (audit === undefined || (c.actions & (Action.DDL | Action.COPY_TO)) === 0) return;
    for (const r of c.resources.length > 0 ? c.resources : [{ name: null, actions: c.actions }]) {
      if ((r.actions & Action.DDL) !== 0 && audit.records('schema_change')) {
        await audit.append(this.ctx, { event: 'schema_change', operation: 'sql.ddl', resource: r.name, result: 'success', details: { statement_kind: c.statements[0]?.kind ?? '' } });
      }
      if ((r.actions & Action.COPY_TO) !== 0 && audit.records('data_export')) {
        await audit.append(this.ctx, { event: 'data_export', operation: 'sql.copy_to', resource: r.name, result: 'success' });
      }
    }
  }

  /** Keeps the session's SET statements for replay; RESET ALL forgets them. */
  #record(c: Classification, sql: string): void {
    if ((c.flags & StatementFlag.SESSION_RESET) !== 0) {
      this.#settings.length = this.#startupSettingCount;
      this.#resetInUnit = true;
    }
    if ((c.flags & StatementFlag.SETTING) === 0 || c.forbidden !== undefined) return;
    for (const st of c.statements) {
      if (st.kind !== 'VariableSetStmt' || (st.flags & StatementFlag.SETTING) === 0 || (st.flags & StatementFlag.SESSION_RESET) !== 0) continue;
      const bytes = Buffer.from(sql, 'utf8');
      const text = (st.length > 0 ? bytes.subarray(st.location, st.location + st.length) : bytes.subarray(st.location)).toString('utf8');
      if (SET_LOCAL.test(text)) continue;
      this.#settings.push(text);
      if (this.#settings.length > MAX_RECORDED_SETTINGS) this.#settings.splice(this.#startupSettingCount, 1);
    }
  }

  async #poison(): Promise<void> {
    const lease = this.#lease;
    if (lease === undefined) return;
    try {
      await lease.backend.exchange(encodePoison(), () => {});
      this.#status = 'E';
    } catch (err) {
      this.#log.warn('failing the transaction after a refusal failed', { error: err });
    }
  }

  #role(): SessionRole | undefined {
    const policy = this.#deps.authz.policy;
    if (this.#roleFor?.policy !== policy) this.#roleFor = { policy, role: sessionRole(policy, this.ctx) };
    return this.#roleFor.role;
  }

  /**
   * Gives the backend this session's identity: bootstrap superuser first (RESET does nothing in
   * PGlite), settings reset, app.* set, then the session's role. Role setup (and the tenant
   * hardening, once per backend) runs in its own exchange first, so a failure there never lets
   * the client's statements run with the wrong identity.
   */
  async #prelude(backend: TenantBackend): Promise<Buffer> {
    const state = backendState(backend);
    const role = this.#role();
    const setup: string[] = [];
    if (!state.hardened) setup.push(TENANT_HARDENING_SQL);
    if (role !== undefined && !state.roles.has(role.name)) setup.push(role.setupSql);
    if (setup.length > 0) {
      const relay = this.#relay;
      relay.begin({ skipReadies: 1, dropCopyIn: false });
      const q = new FrontendBatch().add({ type: 'query', sql: `SET SESSION AUTHORIZATION postgres;\n${setup.join(';\n')}` }).take();
      await backend.exchange(q, (chunk) => relay.push(chunk));
      if (relay.preludeFailed || relay.leftover > 0) throw new ServerUnexpectedMessage('setting up the session role failed');
      state.hardened = true;
      if (role !== undefined) state.roles.add(role.name);
    }
    const parts = ['SET SESSION AUTHORIZATION postgres', 'RESET ALL', identitySettingsSql(this.ctx)];
    if (role !== undefined) {
      parts.push(`SET SESSION AUTHORIZATION ${role.name}`);
      if (role.actsAsOwner) parts.push(`SET ROLE ${OWNER_ROLE}`);
    }
    const b = new FrontendBatch().add({ type: 'query', sql: parts.join('; ') });
    for (const set of this.#settings) b.add({ type: 'query', sql: set });
    return b.take();
  }

  #add(msg: TypedFrontendMessage): void {
    this.#batch.add(msg);
    if (this.#batch.byteLength > this.#deps.limits.maxBatchBytes) {
      throw new ServerBatchTooLarge(`messages before Sync exceed the limit of ${this.#deps.limits.maxBatchBytes} bytes`);
    }
  }

  /** Sends an ERROR; with `ready`, the ReadyForQuery that ends the failed unit. */
  #error(err: unknown, ready: boolean, severity: Severity = 'ERROR'): void {
    const pub = publicError(err);
    if (!pub.expose) this.#log.error('request failed', { error: err, request_id: this.ctx.requestId });
    this.#client.write(errorResponse({ severity, code: pub.sqlstate, message: pub.message }));
    if (ready) this.#client.write(readyForQuery(this.#status));
  }

  #fatal(err: unknown): void {
    if (this.#closed) return;
    void this.close(err);
  }

  /** Runs the batch on the backend. `ready`: it ends with Sync or Query; `flush`: with Flush. */
  async #run(end: 'ready' | 'flush', copyIn: boolean): Promise<void> {
    const batch = this.#batch;
    const unitStatements = this.#unitStatements;
    const unitFlags = this.#unitFlags;
    const unitOpaque = this.#unitOpaque;
    this.#unitStatements = 0;
    this.#unitFlags = 0;
    this.#unitOpaque = false;
    // A lone Sync with nothing pending needs no backend.
    if (end === 'ready' && batch.count === 1 && this.#lease === undefined && !copyIn && batch.byteLength === 5) {
      batch.reset();
      this.#client.write(readyForQuery(this.#status));
      return;
    }
    const parseOnly = this.#parseOnly && this.#parseCount > 0;
    const parses = this.#parseCount;
    this.#parseOnly = true;
    this.#parseCount = 0;
    // A prepare (named Parse + Sync) outside a transaction is answered at once and sent ahead of
    // the session's next unit: a client that prepares synchronously while another of its
    // connections holds the backend (pgbench -j 1) would otherwise wait on itself.
    if (parseOnly && end === 'ready' && !copyIn && this.#lease === undefined && this.#status === 'I' && this.#deferred.length < 1024) {
      this.#deferred.push(batch.take());
      for (let i = 0; i < parses; i++) this.#client.write(parseComplete());
      this.#client.write(readyForQuery(this.#status));
      return;
    }
    const sessionUser = this.#role()?.name;
    // A unit ending with Flush is checked too: later units of the same batch could otherwise read
    // with a changed identity before the Sync.
    // In a transaction that has already failed, PostgreSQL runs nothing but a transaction exit
    // (ROLLBACK, ROLLBACK TO, COMMIT): a unit with none, and nothing the classifier could not read,
    // cannot change the identity. Its errors (25P02) reach the client unchecked, the connection kept.
    const inert = this.#status === 'E' && !this.#unsynced && !unitOpaque && (unitFlags & StatementFlag.TRANSACTION) === 0;
    const probe = this.#probe && sessionUser !== undefined && !inert;
    this.#probe = false;
    if (probe && (unitFlags & StatementFlag.TRANSACTION_END) !== 0) {
      batch.reset();
      await this.#refuseTransactionEnd(end);
      return;
    }
    // Outside a transaction, a checked unit of several statements runs inside BEGIN, committed only
    // once the check passed: otherwise its implicit transaction would commit writes made after an
    // identity change before the check. (Units with their own BEGIN, SAVEPOINT... run as sent.)
    const wrap =
      probe && end === 'ready' && !copyIn && this.#status === 'I' && !this.#unsynced && unitStatements > 1 && (unitFlags & StatementFlag.TRANSACTION) === 0;
    const body = batch.take();
    let lease: Lease;
    try {
      lease = await this.#acquire();
    } catch (err) {
      if ((err as { code?: unknown }).code === 'WK_REL_SERVER_SESSION_WAIT_TIMEOUT') this.#deps.metrics?.waitTimeout();
      if (this.#closed) return;
      this.#error(err, end === 'ready');
      if (end === 'flush') this.#skipToSync = true;
      return;
    }
    const gate = this.#gate;
    const prelude = gate.identityOwner !== this || gate.identityBackend !== lease.backend || this.#identityDirty;
    let input = body;
    const relay = this.#relay;
    if (prelude) {
      gate.identityOwner = undefined;
      let head: Buffer;
      try {
        head = await this.#prelude(lease.backend);
      } catch (err) {
        this.#log.error('session identity setup failed', { error: err, request_id: this.ctx.requestId });
        await this.#releaseBackend(false);
        this.#fatal(new ServerUnexpectedMessage('internal error'));
        return;
      }
      input = Buffer.concat([head, body]);
      gate.identityOwner = this;
      gate.identityBackend = lease.backend;
      this.#identityDirty = false;
    }
    const deferred = this.#deferred.length;
    if (deferred > 0) {
      const at = prelude ? input.length - body.length : 0;
      input = Buffer.concat([input.subarray(0, at), ...this.#deferred, body]);
      this.#deferred = [];
    }
    if (wrap) input = Buffer.concat([input.subarray(0, input.length - body.length), WRAP_BEGIN, body]);
    relay.begin({
      skipReadies: (prelude ? 1 + this.#settings.length : 0) + deferred + (wrap ? 1 : 0),
      criticalReadies: prelude ? 1 : 0,
      dropCopyIn: copyIn,
      hold: probe,
    });
    const started = performance.now();
    const running = lease.backend.exchange(input, (chunk) => relay.push(chunk));
    this.#running = running;
    let returned: TransactionStatus | null;
    try {
      returned = await running;
    } catch (err) {
      // The executor crashed or hung; the manager replaces it. The transaction is gone with it.
      gate.identityOwner = undefined;
      this.#log.error('tenant backend failed', { error: err, request_id: this.ctx.requestId });
      await this.#releaseBackend(false);
      this.#fatal(err);
      return;
    } finally {
      this.#running = undefined;
    }
    this.#deps.metrics?.exchange((performance.now() - started) / 1000);
    if (this.#resetInUnit) {
      this.#resetInUnit = false;
      this.#identityDirty = true;
    }
    if (this.#ranDdl) {
      this.#ranDdl = false;
      backendState(lease.backend).roles.clear();
    }
    if (probe) {
      if (relay.holdOverflow) {
        relay.discard();
        await this.#identityChanged(
          'unverified',
          'session_identity',
          new SessionIdentityUnverified('the answer is too large to hold back for the session identity check; connection terminated'),
        );
        return;
      }
      let status = relay.lastStatus ?? returned;
      if (wrap) {
        this.#status = status ?? 'T';
        // A failed unit is undone first (with any identity change in it), then the check runs.
        if (status === 'E' && (await endWrapped(lease.backend, WRAP_ROLLBACK)) !== null) status = 'I';
        else if (status !== 'T') status = null;
      }
      const drift = await identityDrift(
        lease.backend,
        [sessionUser!, this.ctx.tenant, this.ctx.identity],
        end === 'flush' ? { inBatch: true } : { inBatch: false, status },
      );
      if (drift !== undefined) {
        relay.discard();
        await this.#identityChanged('changed', drift, new SessionIdentityChanged('the session identity changed, or could not be confirmed, after this statement; connection terminated'));
        return;
      }
      if (wrap) {
        const commit = status === 'T' ? await endWrapped(lease.backend, WRAP_COMMIT) : Buffer.alloc(0);
        // What the client sees is its implicit transaction's end: ReadyForQuery 'I', after any
        // error COMMIT raised (a deferred constraint, say), as PostgreSQL would report it.
        if (commit === null || !relay.releaseEnding('I', commit)) {
          this.#fatal(new ServerUnexpectedMessage('internal error'));
          return;
        }
        this.#status = 'I';
      } else {
        relay.release();
      }
    }
    if (relay.preludeFailed || relay.leftover > 0) {
      gate.identityOwner = undefined;
      this.#log.error('tenant backend answered unexpectedly', { prelude_failed: relay.preludeFailed, leftover: relay.leftover });
      this.#fatal(new ServerUnexpectedMessage('internal error'));
      return;
    }
    if (end === 'flush') {
      this.#unsynced = true;
      return;
    }
    this.#unsynced = false;
    this.#status = relay.lastStatus ?? returned ?? this.#status;
    if (this.#status === 'I') await this.#releaseBackend(false);
  }

  async #acquire(): Promise<Lease> {
    if (this.#lease !== undefined) return this.#lease;
    const gate = this.#gate;
    await gate.acquire(this, this.#deps.limits.sessionWaitTimeoutMs, this.#abort.signal);
    try {
      if (this.#closed) throw new ServerUnexpectedMessage('session closed');
      const opened = await this.#deps.tenants.open(this.ctx.tenant);
      this.#lease = { backend: opened.backend, release: () => opened.release() };
      return this.#lease;
    } catch (err) {
      gate.release(this);
      this.#deps.gates.sweep(gate);
      throw err;
    }
  }

  /** Gives the backend back; with `rollback`, first undoes whatever the session left open. */
  async #releaseBackend(rollback: boolean): Promise<void> {
    const lease = this.#lease;
    if (lease === undefined) return;
    this.#lease = undefined;
    if (rollback && (this.#status !== 'I' || this.#unsynced)) {
      try {
        await lease.backend.exchange(encodeAbort(), () => {});
      } catch (err) {
        this.#gate.identityOwner = undefined;
        this.#log.warn('rollback on session end failed', { error: err });
      }
    }
    this.#status = 'I';
    this.#unsynced = false;
    lease.release();
    this.#gate.release(this);
    this.#deps.gates.sweep(this.#gate);
  }

  #armIdleTimer(): void {
    if (this.#lease === undefined || this.#running !== undefined) return;
    const ms = this.#deps.limits.idleInTransactionTimeoutMs;
    if (ms <= 0) return;
    this.#idleTimer = setTimeout(() => {
      this.#idleTimer = undefined;
      this.#fatal(new ServerIdleInTransactionTimeout('terminating connection due to idle-in-transaction timeout'));
    }, ms);
    this.#idleTimer.unref();
  }

  #clearIdleTimer(): void {
    if (this.#idleTimer !== undefined) {
      clearTimeout(this.#idleTimer);
      this.#idleTimer = undefined;
    }
  }
}
