// The admin socket's wire format: one JSON object per line each way (UTF-8, `\n`-terminated).
//   request  {"id": string|number, "command": "keys.rotate-kek", "args": {...}}
//   response {"id": ..., "ok": true, "result": {...}} | {"id": ..., "ok": false, "error": {"code", "message"}}
// A reply to a line that could not be parsed carries `"id": null`.
import { AdminRequestMalformed, AdminRequestTooLarge } from '../errors.js';

/** Longest line either side accepts, checked before buffering more. */
export const MAX_ADMIN_LINE_BYTES: number = 64 * 1024;
export const ADMIN_SOCKET_NAME = 'admin.sock';

export type AdminRequestId = string | number;

export interface AdminRequest {
  readonly id: AdminRequestId;
  readonly command: string;
  readonly args: Readonly<Record<string, unknown>>;
}

export interface AdminErrorBody {
  readonly code: string;
  readonly message: string;
}

export type AdminResponse =
  | { readonly id: AdminRequestId | null; readonly ok: true; readonly result: Readonly<Record<string, unknown>> }
  | { readonly id: AdminRequestId | null; readonly ok: false; readonly error: AdminErrorBody };

const COMMAND = /^[a-z][a-z0-9-]{0,31}(?:\.[a-z][a-z0-9-]{0,31}){1,3}$/;

/**
 * Incremental line framing: `push` returns the complete lines in a chunk (without `\n`) and keeps
 * the rest; more than `max` bytes without a newline throws `AdminRequestTooLarge`.
 */
export class LineSplitter {
  readonly #max: number;
  #parts: Buffer[] = [];
  #held = 0;

  constructor(max: number = MAX_ADMIN_LINE_BYTES) {
    this.#max = max;
  }

  push(chunk: Buffer): string[] {
    const lines: string[] = [];
    let from = 0;
    for (let nl = chunk.indexOf(10, from); nl >= 0; nl = chunk.indexOf(10, from)) {
      if (this.#held + nl - from > this.#max) throw new AdminRequestTooLarge(`a line is longer than ${this.#max} bytes`);
      this.#parts.push(chunk.subarray(from, nl));
      lines.push(Buffer.concat(this.#parts).toString('utf8'));
      this.#parts = [];
      this.#held = 0;
      from = nl + 1;
    }
    const rest = chunk.length - from;
    if (this.#held + rest > this.#max) throw new AdminRequestTooLarge(`a line is longer than ${this.#max} bytes`);
    if (rest > 0) {
      this.#parts.push(Buffer.from(chunk.subarray(from)));
      this.#held += rest;
    }
    return lines;
  }

  /** Bytes received after the last complete line. */
  get pending(): number {
    return this.#held;
  }
}

/** Parses one request line; the id is returned even when the rest is malformed, for the reply. */
export function parseAdminRequest(line: string): { request?: AdminRequest; id: AdminRequestId | null; error?: AdminRequestMalformed } {
  let value: unknown;
  try {
    value = JSON.parse(line);
  } catch {
    return { id: null, error: new AdminRequestMalformed('the request is not valid JSON') };
  }
  if (value === null || typeof value !== 'object' || Array.isArray(value)) {
    return { id: null, error: new AdminRequestMalformed('the request is not a JSON object') };
  }
  const v = value as Record<string, unknown>;
  const id = (typeof v.id === 'string' && v.id.length <= 128) || (typeof v.id === 'number' && Number.isSafeInteger(v.id)) ? v.id : null;
  if (id === null) return { id: null, error: new AdminRequestMalformed('the request needs an id (a string or an integer)') };
  if (typeof v.command !== 'string' || !COMMAND.test(v.command)) {
    return { id, error: new AdminRequestMalformed('the request needs a command such as "tenant.list"') };
  }
  const args = v.args ?? {};
  if (args === null || typeof args !== 'object' || Array.isArray(args)) {
    return { id, error: new AdminRequestMalformed('args must be a JSON object') };
  }
  return { id, request: { id, command: v.command, args: args as Record<string, unknown> } };
}

export function encodeAdminLine(message: AdminRequest | AdminResponse): Buffer {
  return Buffer.from(`${JSON.stringify(message)}\n`, 'utf8');
}

/** Parses one response line (the client side); anything malformed is `AdminRequestMalformed`. */
export function parseAdminResponse(line: string): AdminResponse {
  let v: Record<string, unknown>;
  try {
    v = JSON.parse(line) as Record<string, unknown>;
  } catch {
    throw new AdminRequestMalformed('the admin socket answered with something that is not JSON');
  }
  if (v === null || typeof v !== 'object' || typeof v.ok !== 'boolean') throw new AdminRequestMalformed('the admin socket answered with an unknown shape');
  const id = typeof v.id === 'string' || typeof v.id === 'number' ? v.id : null;
  if (v.ok) {
    const result = v.result !== null && typeof v.result === 'object' ? (v.result as Record<string, unknown>) : {};
    return { id, ok: true, result };
  }
  const e = (v.error ?? {}) as Record<string, unknown>;
  return {
    id,
    ok: false,
    error: { code: typeof e.code === 'string' ? e.code : 'WK_INTERNAL', message: typeof e.message === 'string' ? e.message : 'admin command failed' },
  };
}
