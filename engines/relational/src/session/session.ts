// One client connection after authentication: its SecurityContext and protocol state, and the
// forwarding of its messages to the tenant's backend. Messages go as complete units (a Query;
// extended-protocol messages up to Sync or Flush); a session holds its tenant's backend from its
// first unit until a ReadyForQuery 'I' ends its transaction, then hands it to the next session.
import { type Logger, publicError, type SecurityContext } from '@weftkit/kernel';
import { ServerBatchTooLarge, ServerFeatureNotSupported, ServerIdleInTransactionTimeout, ServerUnexpectedMessage } from '../errors.js';
import {
  errorResponse,
  readyForQuery,
  type Severity,
  type TransactionStatus,
  type TypedFrontendMessage,
} from '../protocol/index.js';
import type { TenantBackend, TenantManager } from '../tenant/tenant-backend.js';
import { BackendRelay } from './backend-relay.js';
import { copyInVerdict, mightCopyIn } from './copy-in.js';
import { FrontendBatch } from './frontend-encoder.js';
import { identitySettingsSql } from './identity-sql.js';
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

export interface SessionDeps {
  readonly tenants: TenantManager;
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
  readonly #identitySql: string;
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

  constructor(ctx: SecurityContext, client: SessionClient, deps: SessionDeps, startupSettings: ReadonlyMap<string, string> = new Map()) {
    this.ctx = ctx;
    this.startupSettings = startupSettings;
    this.#deps = deps;
    this.#client = client;
    this.#log = deps.logger.child({ connection_id: ctx.connectionId, tenant: ctx.tenant });
    this.#relay = new BackendRelay((chunk) => client.write(chunk));
    this.#identitySql = identitySettingsSql(ctx);
    this.#gate = deps.gates.get(ctx.tenant);
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
        const verdict = copyInVerdict(msg.sql);
        if (verdict.kind === 'refuse') {
          this.#batch.reset();
          this.#error(new ServerFeatureNotSupported('COPY FROM STDIN must be sent alone, without backslashes or dollar quotes'), true);
          return 'continue';
        }
        if (verdict.kind === 'copy') {
          this.#batch.reset();
          this.#copy = { sql: msg.sql, data: [], bytes: 0 };
          this.#client.write(copyInResponse(verdict.format));
          return 'continue';
        }
        this.#add(msg);
        await this.#run('ready', false);
        return 'continue';
      }
      case 'parse':
        if (mightCopyIn(msg.sql)) {
          this.#batch.reset();
          this.#error(new ServerFeatureNotSupported('COPY FROM STDIN is supported only in the simple query protocol'), false);
          this.#skipToSync = true;
          return 'continue';
        }
        this.#add(msg);
        return 'continue';
      case 'bind':
      case 'describe':
      case 'execute':
      case 'close':
        this.#add(msg);
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
        this.#batch.reset();
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
    // A lone Sync with nothing pending needs no backend.
    if (end === 'ready' && batch.count === 1 && this.#lease === undefined && !copyIn && batch.byteLength === 5) {
      batch.reset();
      this.#client.write(readyForQuery(this.#status));
      return;
    }
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
    const prelude = gate.identityOwner !== this || gate.identityBackend !== lease.backend;
    let input = body;
    if (prelude) {
      const head = new FrontendBatch().add({ type: 'query', sql: this.#identitySql }).take();
      input = Buffer.concat([head, body]);
      gate.identityOwner = this;
      gate.identityBackend = lease.backend;
    }
    const relay = this.#relay;
    relay.begin({ skipReadies: prelude ? 1 : 0, dropCopyIn: copyIn });
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
