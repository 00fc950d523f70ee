import { createHash } from 'node:crypto';

// Canonical JSON: object keys sorted (UTF-16 code unit order) at every level, no whitespace,
// strings and numbers as JSON.stringify writes them. Non-finite numbers become null, as in JSON.

export function canonicalJson(value: unknown): string {
  if (value === null || typeof value !== 'object') {
    const s = JSON.stringify(value);
    return s === undefined ? 'null' : s;
  }
  if (Array.isArray(value)) {
    let out = '[';
    for (let i = 0; i < value.length; i++) {
      if (i > 0) out += ',';
      out += canonicalJson(value[i]);
    }
    return `${out}]`;
  }
  const obj = value as Record<string, unknown>;
  const keys = Object.keys(obj).sort();
  let out = '{';
  for (const k of keys) {
    const v = obj[k];
    if (v === undefined || typeof v === 'function' || typeof v === 'symbol') continue;
    if (out.length > 1) out += ',';
    out += `${JSON.stringify(k)}:${canonicalJson(v)}`;
  }
  return `${out}}`;
}

/** Lowercase hex SHA-256 of the canonical JSON of `record` without its `hash` field. */
export function recordHash(record: Readonly<Record<string, unknown>>): string {
  let out = '{';
  for (const k of Object.keys(record).sort()) {
    const v = record[k];
    if (k === 'hash' || v === undefined || typeof v === 'function' || typeof v === 'symbol') continue;
    if (out.length > 1) out += ',';
    out += `${JSON.stringify(k)}:${canonicalJson(v)}`;
  }
  return createHash('sha256').update(`${out}}`, 'utf8').digest('hex');
}
