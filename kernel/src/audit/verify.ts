import type { FileHandle } from 'node:fs/promises';
import { open } from 'node:fs/promises';
import { basename } from 'node:path';
import { createInterface } from 'node:readline';
import { recordHash } from './canonical-json.js';
import { type AuditRecord, type ChainPosition, GENESIS_HASH } from './events.js';

/** Before the first event: the next one must be seq 1 with a `prev_hash` of 64 zeros. */
export const GENESIS: ChainPosition = Object.freeze({ seq: 0, hash: GENESIS_HASH });

export interface AuditVerifyResult {
  readonly ok: boolean;
  /** Events that verified (all of them when `ok`). */
  readonly events: number;
  /** The seq the chain should have had where it first fails (a deleted line names the missing seq). */
  readonly firstBadSeq?: number;
  readonly reason?: string;
  /** The last event that verified. */
  readonly last?: ChainPosition;
}

export interface VerifyOptions {
  /** The event the first file continues from; genesis by default. */
  readonly anchor?: ChainPosition;
  /** Accept whatever the first event links to (its predecessors were deleted by retention). */
  readonly partial?: boolean;
}

const HEX64 = /^[0-9a-f]{64}$/;
const NULLABLE_STRINGS = ['identity', 'tenant', 'resource', 'source_ip', 'connection_id', 'request_id'] as const;
const FIELDS = new Set([
  'seq', 'ts', 'event', 'identity', 'tenant', 'operation', 'resource', 'result', 'error_code', 'source_ip',
  'connection_id', 'request_id', 'latency_ms', 'details', 'prev_hash', 'hash',
]);

/** Parses one line; a string is the reason it is not a well-formed record. */
export function parseRecordLine(line: string): AuditRecord | string {
  let value: unknown;
  try {
    value = JSON.parse(line);
  } catch {
    return 'invalid JSON';
  }
  if (value === null || typeof value !== 'object' || Array.isArray(value)) return 'not a JSON object';
  const r = value as Record<string, unknown>;
  for (const k of Object.keys(r)) if (!FIELDS.has(k)) return 'unexpected field';
  if (!Number.isSafeInteger(r.seq) || (r.seq as number) < 1) return 'bad seq';
  for (const k of ['ts', 'event', 'operation', 'result'] as const) if (typeof r[k] !== 'string') return `bad ${k}`;
  for (const k of NULLABLE_STRINGS) if (r[k] !== null && typeof r[k] !== 'string') return `bad ${k}`;
  if ('error_code' in r && typeof r.error_code !== 'string') return 'bad error_code';
  if (r.latency_ms !== null && typeof r.latency_ms !== 'number') return 'bad latency_ms';
  if (r.details === null || typeof r.details !== 'object' || Array.isArray(r.details)) return 'bad details';
  if (typeof r.prev_hash !== 'string' || !HEX64.test(r.prev_hash)) return 'bad prev_hash';
  if (typeof r.hash !== 'string' || !HEX64.test(r.hash)) return 'bad hash';
  return r as unknown as AuditRecord;
}

export interface LineVerdict {
  readonly record: AuditRecord | undefined;
  /** The record parsed and its hash matches its content (whatever it links to). */
  readonly intact: boolean;
  /** Why the line breaks the chain; undefined when it continues `previous` correctly. */
  readonly reason: string | undefined;
}

/** Checks one line against the event before it (`undefined`: accept any link, for partial checks). */
export function checkLine(line: string, previous: ChainPosition | undefined): LineVerdict {
  const parsed = parseRecordLine(line);
  if (typeof parsed === 'string') return { record: undefined, intact: false, reason: parsed };
  if (recordHash(parsed as unknown as Record<string, unknown>) !== parsed.hash) {
    return { record: parsed, intact: false, reason: 'hash does not match the event' };
  }
  if (previous !== undefined) {
    if (parsed.seq !== previous.seq + 1) return { record: parsed, intact: true, reason: `seq ${parsed.seq} out of order` };
    if (parsed.prev_hash !== previous.hash) {
      return { record: parsed, intact: true, reason: 'prev_hash does not link to the previous event' };
    }
  }
  return { record: parsed, intact: true, reason: undefined };
}

export interface LineReader {
  readonly lines: AsyncIterable<string>;
  /** Stops reading; the caller still closes the handle. */
  stop(): void;
}

/** Lines of a file (or of its first `end` bytes), streamed with readline. */
export function readLines(fh: FileHandle, end?: number): LineReader {
  const input = fh.createReadStream({ start: 0, ...(end === undefined ? {} : { end: end - 1 }), autoClose: false });
  const rl = createInterface({ input, crlfDelay: Number.POSITIVE_INFINITY });
  return {
    lines: rl,
    stop: () => {
      rl.close();
      input.destroy();
    },
  };
}

/**
 * Verifies the chain across `paths`, in order (oldest rotated file first, current file last),
 * streaming each file. Stops at the first failure.
 */
export async function verifyAuditFiles(paths: readonly string[], options: VerifyOptions = {}): Promise<AuditVerifyResult> {
  let previous: ChainPosition | undefined = options.partial === true ? undefined : (options.anchor ?? GENESIS);
  let events = 0;
  for (const path of paths) {
    let fh: FileHandle;
    try {
      fh = await open(path, 'r');
    } catch (err) {
      const reason = `${basename(path)}: cannot read (${(err as { code?: string }).code ?? 'error'})`;
      return fail(previous, events, reason, previous === undefined ? undefined : previous.seq + 1);
    }
    const reader = readLines(fh);
    try {
      for await (const line of reader.lines) {
        const v = checkLine(line, previous);
        if (v.reason !== undefined) {
          const seq = previous === undefined ? v.record?.seq : previous.seq + 1;
          return fail(previous, events, `${basename(path)}: ${v.reason}`, seq);
        }
        const r = v.record!;
        previous = { seq: r.seq, hash: r.hash };
        events++;
      }
    } finally {
      reader.stop();
      await fh.close();
    }
  }
  return { ok: true, events, ...(previous === undefined ? {} : { last: previous }) };
}

function fail(last: ChainPosition | undefined, events: number, reason: string, seq?: number): AuditVerifyResult {
  return {
    ok: false,
    events,
    reason,
    ...(seq === undefined ? {} : { firstBadSeq: seq }),
    ...(last === undefined ? {} : { last }),
  };
}
