import { isIP } from 'node:net';
import { isTenantName } from '../identity/tenant.js';

// Audit records must never carry passwords, tokens, keys or row/value payloads. Structured fields
// are held to strict patterns; free text (identity, resource, strings in details) is cut, stripped
// of control characters, and has secret-shaped substrings replaced. A bare short password typed
// into a free-text field cannot be recognised; callers keep payloads out of `resource`.

export const REDACTED = '[redacted]';

const MAX_IDENTITY = 256;
const MAX_RESOURCE = 512;
const MAX_DETAIL_STRING = 256;
const MAX_DETAIL_DEPTH = 4;
const MAX_DETAIL_KEYS = 32;
const MAX_DETAIL_ITEMS = 32;
/** Serialized size above which `details` is replaced by `{ truncated: true }`. */
const MAX_DETAILS_BYTES = 4096;

// biome-ignore lint/suspicious/noControlCharactersInRegex: stripping control characters is the point
const CONTROL = /[\u0000-\u001f\u007f-\u009f\u2028\u2029]/g;
const PEM = /-----BEGIN[^-]*-----[\s\S]*?(?:-----END[^-]*-----|$)/g;
const JWT_LIKE = /eyJ[A-Za-z0-9_-]{4,}(?:\.[A-Za-z0-9_-]*)*/g;
const AUTH_SCHEME = /\b(Bearer|Basic|Digest|Negotiate)\s+[A-Za-z0-9+/=._~-]{8,}/gi;
const URL_USERINFO = /([A-Za-z][A-Za-z0-9+.-]*:\/\/)[^/\s@]+@/g;
const SECRET_ASSIGNMENT =
  /([A-Za-z0-9_.-]{0,32}(?:pass|pwd|secret|token|key|credential|auth|cookie|jwt|signature)[A-Za-z0-9_.-]{0,32})(\s{0,4}[=:]\s{0,4})("[^"]*"|'[^']*'|[^\s,;&]+)/gi;
const QUOTED_LITERAL = /'(?:[^']|'')*'/g;
/** Runs that look like encoded keys or tokens (base64/base64url/hex). */
const TOKEN_RUN = /[A-Za-z0-9+/_=-]{24,}/g;
const HEX_RUN = /[0-9a-fA-F]{32,}/;

function looksLikeKeyMaterial(run: string): boolean {
  if (HEX_RUN.test(run)) return true;
  return /[a-z]/.test(run) && /[A-Z]/.test(run) && /[0-9]/.test(run);
}

const RUN_END = /[A-Za-z0-9+/_=-]+$/;
const RUN_START = /^[A-Za-z0-9+/_=-]*/;

/** Cuts at `at`, dropping a key-like run the cut goes through (its fragment would be too short to spot). */
function cutOutsideKeys(value: string, at: number): string {
  const cut = value.slice(0, at);
  const tail = RUN_END.exec(cut)?.[0] ?? '';
  if (tail.length === 0) return cut;
  const run = tail + (RUN_START.exec(value.slice(at))?.[0] ?? '');
  return run.length >= 24 && looksLikeKeyMaterial(run) ? cut.slice(0, cut.length - tail.length) : cut;
}

// Too short for a token run and without the characters every other pattern needs (space, `:`,
// `=`, quote, control characters): nothing in such a string can be secret-shaped.
const PLAIN = /^[A-Za-z0-9_./@-]{0,23}$/;
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

/** Cuts, strips control characters and replaces secret-shaped substrings. */
export function scrubText(value: string, max: number): string {
  if (value.length <= max && (PLAIN.test(value) || UUID.test(value))) return value;
  let s = value.length > max * 2 ? cutOutsideKeys(value, max * 2) : value;
  s = s
    .replace(CONTROL, '')
    .replace(PEM, REDACTED)
    .replace(JWT_LIKE, REDACTED)
    .replace(AUTH_SCHEME, `$1 ${REDACTED}`)
    .replace(URL_USERINFO, `$1${REDACTED}@`)
    .replace(SECRET_ASSIGNMENT, `$1$2${REDACTED}`)
    .replace(QUOTED_LITERAL, `'${REDACTED}'`)
    .replace(TOKEN_RUN, (run) => (looksLikeKeyMaterial(run) ? REDACTED : run));
  return s.length > max ? s.slice(0, max) : s;
}

export function cleanIdentity(value: string | null | undefined): string | null {
  return typeof value === 'string' ? scrubText(value, MAX_IDENTITY) : null;
}

export function cleanResource(value: string | null | undefined): string | null {
  return typeof value === 'string' ? scrubText(value, MAX_RESOURCE) : null;
}

export function cleanTenant(value: string | null | undefined): string | null {
  return isTenantName(value) ? value : null;
}

const OPERATION = /^(?=.{1,64}$)[a-z][a-z0-9_]*(?:\.[a-z][a-z0-9_]*)*$/;
const ERROR_CODE = /^[A-Z0-9_]{1,64}$/;
const ID = /^[A-Za-z0-9._:-]{1,128}$/;

function strict(value: unknown, pattern: RegExp): string | null {
  if (typeof value !== 'string' || !pattern.test(value)) return null;
  return scrubText(value, 128) === value ? value : null;
}

export function cleanOperation(value: unknown): string {
  return strict(value, OPERATION) ?? 'invalid';
}

export function cleanErrorCode(value: unknown): string | undefined {
  return strict(value, ERROR_CODE) ?? undefined;
}

export function cleanId(value: unknown): string | null {
  return strict(value, ID);
}

/** The IP address of an `ip:port` (or `[v6]:port`) peer; null unless it parses as an IP. */
export function sourceIp(peer: string | null | undefined): string | null {
  if (typeof peer !== 'string') return null;
  let ip = peer;
  if (peer.startsWith('[')) {
    const end = peer.indexOf(']');
    ip = end > 0 ? peer.slice(1, end) : '';
  } else if (isIP(peer) === 0) {
    const colon = peer.lastIndexOf(':');
    if (colon > 0) ip = peer.slice(0, colon);
  }
  return isIP(ip) === 0 ? null : ip;
}

export function cleanLatency(value: number | undefined): number | null {
  if (typeof value !== 'number' || !Number.isFinite(value) || value < 0) return null;
  return Math.round(value * 1000) / 1000;
}

// Key names: any word containing one of these is secret; a key whose last word is a payload word
// is dropped, as is any key with a payload word whose value is not a number or boolean
// (so `rowCount: 3` stays, `rows: [...]`, `value: 42`, `rowData: '...'` go).
const SECRET_IN_KEY = /pass|pwd|secret|token|credential|authori[sz]ation|cookie|jwt|apikey|privkey|private|bearer|signature|verifier/i;
const PAYLOAD_WORDS = new Set([
  'key', 'keys', 'dek', 'kek', 'salt', 'nonce', 'iv', 'hash', 'sig', 'material', 'cert',
  'row', 'rows', 'value', 'values', 'payload', 'body', 'data', 'blob', 'content', 'params',
  'parameters', 'args', 'sql', 'query', 'statement', 'text', 'document', 'doc', 'record', 'records',
]);
const KEY_NAME = /^[A-Za-z_][A-Za-z0-9_.-]{0,63}$/;

function keyWords(key: string): string[] {
  return key
    .replace(/([a-z0-9])([A-Z])/g, '$1 $2')
    .toLowerCase()
    .split(/[^a-z0-9]+/)
    .filter((w) => w.length > 0);
}

/** `scalar`: kept only for a number or boolean value. */
type KeyVerdict = 'keep' | 'scalar' | 'drop';

function judgeKey(key: string): KeyVerdict {
  if (!KEY_NAME.test(key) || scrubText(key, 64) !== key || SECRET_IN_KEY.test(key)) return 'drop';
  const words = keyWords(key);
  if (words.length === 0 || PAYLOAD_WORDS.has(words[words.length - 1]!)) return 'drop';
  return words.some((w) => PAYLOAD_WORDS.has(w)) ? 'scalar' : 'keep';
}

// Detail key names come from engine code, so there are few; the verdicts are memoized (bounded).
const verdicts = new Map<string, KeyVerdict>();

function dropKey(key: string, value: unknown): boolean {
  let verdict = verdicts.get(key);
  if (verdict === undefined) {
    verdict = judgeKey(key);
    if (verdicts.size >= 1024) verdicts.clear();
    verdicts.set(key, verdict);
  }
  if (verdict === 'scalar') return typeof value !== 'number' && typeof value !== 'boolean';
  return verdict === 'drop';
}

function cleanValue(value: unknown, depth: number): unknown {
  switch (typeof value) {
    case 'string':
      return scrubText(value, MAX_DETAIL_STRING);
    case 'number':
      return Number.isFinite(value) ? value : null;
    case 'boolean':
      return value;
    case 'bigint':
      return value.toString();
    case 'object':
      break;
    default:
      return undefined;
  }
  if (value === null) return null;
  // `depth` is the level of the object holding `value`; `details` itself is level 1.
  if (depth >= MAX_DETAIL_DEPTH) return undefined;
  // Raw bytes are payloads by nature.
  if (ArrayBuffer.isView(value) || value instanceof ArrayBuffer) return undefined;
  if (value instanceof Date) return Number.isFinite(value.getTime()) ? value.toISOString() : null;
  if (value instanceof Error) {
    const code = (value as { code?: unknown }).code;
    return typeof code === 'string' ? { name: value.name, code: cleanErrorCode(code) ?? null } : { name: value.name };
  }
  if (Array.isArray(value)) {
    const out: unknown[] = [];
    for (const item of value.slice(0, MAX_DETAIL_ITEMS)) {
      const v = cleanValue(item, depth + 1);
      if (v !== undefined) out.push(v);
    }
    return out;
  }
  const proto = Object.getPrototypeOf(value);
  if (proto !== Object.prototype && proto !== null) return undefined;
  return cleanObject(value as Record<string, unknown>, depth + 1);
}

function cleanObject(obj: Record<string, unknown>, depth: number): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  let n = 0;
  for (const key of Object.keys(obj)) {
    if (n >= MAX_DETAIL_KEYS) break;
    const raw = obj[key];
    if (dropKey(key, raw)) continue;
    const v = cleanValue(raw, depth);
    if (v === undefined) continue;
    Object.defineProperty(out, key, { value: v, enumerable: true, writable: true, configurable: true });
    n++;
  }
  return out;
}

/** `details` as written: secret and payload keys dropped at any depth, strings scrubbed, size capped. */
export function sanitizeDetails(details: Readonly<Record<string, unknown>> | undefined): Record<string, unknown> {
  if (details === undefined || details === null || typeof details !== 'object' || Array.isArray(details)) return {};
  const out = cleanObject(details as Record<string, unknown>, 1);
  return Buffer.byteLength(JSON.stringify(out), 'utf8') > MAX_DETAILS_BYTES ? { truncated: true } : out;
}
