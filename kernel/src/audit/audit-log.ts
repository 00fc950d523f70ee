import { mkdir } from 'node:fs/promises';
import { basename, dirname } from 'node:path';
import { AuditChainBroken, AuditClosed, AuditInvalidOption, AuditOpenFailed, AuditWriteFailed } from '../errors.js';
import { isSecurityContext, type SecurityContext } from '../identity/security-context.js';
import { type Logger, silentLogger } from '../log/logger.js';
import { recordHash } from './canonical-json.js';
import {
  AUDIT_EVENT_TYPES,
  AUDIT_RESULTS,
  type AuditEntry,
  type AuditEventType,
  type ChainPosition,
  DEFAULT_AUDIT_EVENTS,
  type UnauthenticatedAuditEntry,
} from './events.js';
import { type AuditSink, FileSink, StreamSink } from './file-sink.js';
import { GroupCommit } from './group-commit.js';
import { type RecoveredChain, recoverChain } from './recovery.js';
import {
  cleanErrorCode,
  cleanId,
  cleanIdentity,
  cleanLatency,
  cleanOperation,
  cleanResource,
  cleanTenant,
  sanitizeDetails,
  sourceIp,
} from './sanitize.js';
import { GENESIS } from './verify.js';

export const DEFAULT_AUDIT_OUTPUT = '/var/log/weftkit/audit.jsonl';
export const DEFAULT_AUDIT_MAX_BYTES: number = 100 * 1024 * 1024;

export interface AuditLogOptions {
  /** File path or `'stdout'` (`WEFTKIT_AUDIT_OUTPUT`). Default `/var/log/weftkit/audit.jsonl`. */
  readonly output?: string;
  /** Event types recorded (`WEFTKIT_AUDIT_EVENTS`). Default auth, authz_deny, schema_change, data_export. */
  readonly events?: readonly AuditEventType[];
  /** Rotate before the file would exceed this many bytes; 0 = never. Default 100 MiB. */
  readonly maxBytes?: number;
  /** Start even if the chain on disk is broken, recording that it was (`WEFTKIT_AUDIT_ALLOW_BROKEN_CHAIN`). */
  readonly allowBrokenChain?: boolean;
  readonly logger?: Logger;
}

export interface AuditStats {
  /** Events appended since open. */
  readonly events: number;
  readonly writes: number;
  readonly syncs: number;
  readonly rotations: number;
}

export interface AuditLog {
  readonly output: string;
  /** Whether events of this type are recorded (lets a caller skip building details). */
  records(event: AuditEventType): boolean;
  /**
   * Records an event for an operation run under `ctx`. Resolves with its seq once the line is
   * written and fdatasync'd (null when the type is not recorded); await it before replying.
   */
  append(ctx: SecurityContext, entry: AuditEntry): Promise<number | null>;
  /** The same for an event with no SecurityContext, e.g. a failed login (identity as claimed). */
  appendUnauthenticated(entry: UnauthenticatedAuditEntry): Promise<number | null>;
  stats(): AuditStats;
  /** Waits for every pending append, syncs and closes. Later appends reject with `WK_AUDIT_CLOSED`. */
  close(): Promise<void>;
}

interface Subject {
  identity: string | null;
  tenant: string | null;
  source_ip: string | null;
  connection_id: string | null;
  request_id: string | null;
}

class ChainedAuditLog implements AuditLog {
  readonly output: string;
  readonly #events: ReadonlySet<AuditEventType>;
  readonly #sink: AuditSink;
  readonly #commit: GroupCommit;
  #position: ChainPosition;
  #appended = 0;
  #closed = false;

  constructor(output: string, events: ReadonlySet<AuditEventType>, sink: AuditSink, position: ChainPosition, logger: Logger) {
    this.output = output;
    this.#events = events;
    this.#sink = sink;
    this.#position = position;
    this.#commit = new GroupCommit(
      (lines) => sink.writeBatch(lines),
      (err) => {
        logger.error('audit log write failed; refusing further events', { err, output });
        return new AuditWriteFailed('audit event could not be made durable', { cause: err });
      },
    );
  }

  records(event: AuditEventType): boolean {
    return this.#events.has(event);
  }

  append(ctx: SecurityContext, entry: AuditEntry): Promise<number | null> {
    if (!isSecurityContext(ctx)) return Promise.reject(new TypeError('not a kernel SecurityContext'));
    if (!this.#events.has(entry.event)) return checkEntry(entry) ?? Promise.resolve(null);
    return this.record(entry, {
      identity: cleanIdentity(ctx.identity),
      tenant: cleanTenant(ctx.tenant),
      source_ip: sourceIp(ctx.peer),
      connection_id: cleanId(ctx.connectionId),
      request_id: cleanId(ctx.requestId),
    });
  }

  appendUnauthenticated(entry: UnauthenticatedAuditEntry): Promise<number | null> {
    if (!this.#events.has(entry.event)) return checkEntry(entry) ?? Promise.resolve(null);
    return this.record(entry, {
      identity: cleanIdentity(entry.identity),
      tenant: cleanTenant(entry.tenant),
      source_ip: sourceIp(entry.peer),
      connection_id: cleanId(entry.connectionId),
      request_id: cleanId(entry.requestId),
    });
  }

  /** Appends regardless of the event filter (start-up events about the log itself use this). */
  record(entry: AuditEntry, subject: Subject): Promise<number> {
    const invalid = checkEntry(entry);
    if (invalid !== undefined) return invalid;
    if (this.#closed) return Promise.reject(new AuditClosed('audit log is closed'));
    const failed = this.#commit.failed;
    if (failed !== undefined) return Promise.reject(failed);
    const errorCode = cleanErrorCode(entry.errorCode);
    const seq = this.#position.seq + 1;
    // Field order is the documented one; the hash covers the canonical (sorted) form.
    const record: Record<string, unknown> = {
      seq,
      ts: new Date().toISOString(),
      event: entry.event,
      identity: subject.identity,
      tenant: subject.tenant,
      operation: cleanOperation(entry.operation),
      resource: cleanResource(entry.resource),
      result: entry.result,
      ...(errorCode === undefined ? {} : { error_code: errorCode }),
      source_ip: subject.source_ip,
      connection_id: subject.connection_id,
      request_id: subject.request_id,
      latency_ms: cleanLatency(entry.latencyMs),
      details: sanitizeDetails(entry.details),
      prev_hash: this.#position.hash,
    };
    const hash = recordHash(record);
    record.hash = hash;
    this.#position = { seq, hash };
    this.#appended++;
    return this.#commit.enqueue(`${JSON.stringify(record)}\n`).then(() => seq);
  }

  stats(): AuditStats {
    const s = this.#sink.stats;
    return { events: this.#appended, writes: s.writes, syncs: s.syncs, rotations: s.rotations };
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    await this.#commit.idle();
    await this.#sink.close();
  }
}

function checkEntry(entry: AuditEntry): Promise<never> | undefined {
  if (!AUDIT_EVENT_TYPES.includes(entry.event)) return Promise.reject(new TypeError('unknown audit event type'));
  if (!AUDIT_RESULTS.includes(entry.result)) return Promise.reject(new TypeError('unknown audit result'));
  return undefined;
}

function checkOptions(options: AuditLogOptions): { output: string; events: Set<AuditEventType>; maxBytes: number } {
  const output = options.output ?? DEFAULT_AUDIT_OUTPUT;
  if (typeof output !== 'string' || output.length === 0) throw new AuditInvalidOption('audit output must be a path or stdout');
  const events = options.events ?? DEFAULT_AUDIT_EVENTS;
  for (const e of events) {
    if (!AUDIT_EVENT_TYPES.includes(e)) throw new AuditInvalidOption(`unknown audit event type (known: ${AUDIT_EVENT_TYPES.join(', ')})`);
  }
  const maxBytes = options.maxBytes ?? DEFAULT_AUDIT_MAX_BYTES;
  if (!Number.isSafeInteger(maxBytes) || maxBytes < 0) throw new AuditInvalidOption('audit maxBytes must be a non-negative integer');
  return { output, events: new Set(events), maxBytes };
}

const NO_SUBJECT: Subject = { identity: null, tenant: null, source_ip: null, connection_id: null, request_id: null };

/**
 * Opens the audit log. For a file: creates its directory (0700) and the file (0600), verifies the
 * chain on disk from the last rotated file's last event through the current file, cuts a torn last
 * line, and records what it found. A broken chain throws `AuditChainBroken` unless
 * `allowBrokenChain`. With `'stdout'` each process starts a new chain at seq 1.
 */
export async function openAuditLog(options: AuditLogOptions = {}): Promise<AuditLog> {
  const { output, events, maxBytes } = checkOptions(options);
  const logger = options.logger ?? silentLogger;
  if (output === 'stdout') return new ChainedAuditLog(output, events, new StreamSink(process.stdout), GENESIS, logger);

  const opening = (err: unknown): AuditOpenFailed =>
    new AuditOpenFailed(`cannot open the audit log (${(err as { code?: string }).code ?? 'error'})`, { cause: err });
  let found: RecoveredChain;
  try {
    await mkdir(dirname(output), { recursive: true, mode: 0o700 });
    found = await recoverChain(output);
  } catch (err) {
    throw opening(err);
  }
  if (found.broken !== undefined && options.allowBrokenChain !== true) {
    throw new AuditChainBroken(found.broken.firstBadSeq, found.broken.reason);
  }
  const sink = await FileSink.open(output, maxBytes, found.nextRotation, found.keepBytes).catch((err: unknown) => {
    throw opening(err);
  });
  const log = new ChainedAuditLog(output, events, sink, found.position, logger);
  try {
    if (found.broken !== undefined) {
      logger.error('audit chain is broken; starting because allowBrokenChain is set', {
        firstBadSeq: found.broken.firstBadSeq,
      });
      await log.record(
        {
          event: 'admin',
          operation: 'audit.chain_broken',
          resource: basename(output),
          result: 'failure',
          errorCode: 'WK_AUDIT_CHAIN_BROKEN',
          details: { first_bad_seq: found.broken.firstBadSeq, reason: found.broken.reason, allow_broken_chain: true },
        },
        NO_SUBJECT,
      );
    }
    if (found.tornBytes > 0) {
      logger.warn('audit log ended in a torn line (a write that was never acknowledged); cut it', {
        bytes: found.tornBytes,
      });
      await log.record(
        {
          event: 'admin',
          operation: 'audit.torn_tail_cut',
          resource: basename(output),
          result: 'success',
          details: { bytes_cut: found.tornBytes, after_seq: found.position.seq },
        },
        NO_SUBJECT,
      );
    }
  } catch (err) {
    await log.close().catch(() => {});
    throw err;
  }
  return log;
}
