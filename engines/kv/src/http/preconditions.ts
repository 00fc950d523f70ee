// Conditional-request and TTL headers of `/items/{key}`.
import { InvalidRequest } from '../errors.js';

/** Largest TTL accepted: ten years. */
export const MAX_TTL_SECONDS = 315_360_000;

const ETAG = /^\s*(?:W\/)?"(\d{1,15})"\s*$/;

/** `"<version>"`, the entity tag of an item version. */
export function etagOf(version: number): string {
  return `"${version}"`;
}

/** The version an entity tag names; null for anything that is not one of ours (it can match nothing). */
export function versionOfEtag(text: string): number | null {
  const m = ETAG.exec(text);
  return m === null ? null : Number(m[1]);
}

export type IfMatch = { readonly kind: 'any' } | { readonly kind: 'version'; readonly version: number } | { readonly kind: 'none' };

/** `If-Match`: `*`, or one or more entity tags (the item's must be one of them). */
export function parseIfMatch(header: string | undefined): IfMatch | undefined {
  if (header === undefined) return undefined;
  const trimmed = header.trim();
  if (trimmed === '*') return { kind: 'any' };
  const versions = trimmed.split(',').map((t) => versionOfEtag(t));
  const known = versions.filter((v): v is number => v !== null);
  if (known.length === 0) return { kind: 'none' };
  if (known.length > 1) throw new InvalidRequest('If-Match may name one entity tag');
  return { kind: 'version', version: known[0]! };
}

/** `If-None-Match` on a write: only `*` (create-only) is meaningful. */
export function parseIfNoneMatchWrite(header: string | undefined): boolean {
  if (header === undefined) return false;
  if (header.trim() === '*') return true;
  throw new InvalidRequest('If-None-Match on a write must be *');
}

/** `If-None-Match` on a read: true when the current version is listed (answer 304). */
export function notModified(header: string | undefined, version: number): boolean {
  if (header === undefined) return false;
  const trimmed = header.trim();
  if (trimmed === '*') return true;
  return trimmed.split(',').some((t) => versionOfEtag(t) === version);
}

/** A TTL from a header or query value: a whole number of seconds, 1 to ten years. */
export function parseTtl(value: string | undefined, where: string): number | undefined {
  if (value === undefined) return undefined;
  const trimmed = value.trim();
  if (!/^\d{1,10}$/.test(trimmed)) throw new InvalidRequest(`${where} must be a whole number of seconds`);
  const n = Number(trimmed);
  if (n < 1 || n > MAX_TTL_SECONDS) throw new InvalidRequest(`${where} must be between 1 and ${MAX_TTL_SECONDS}`);
  return n;
}

/** The TTL of a PUT: header `X-WeftKit-TTL-Seconds` or query `ttl`, not two different ones. */
export function requestTtl(header: string | undefined, query: unknown): number | undefined {
  if (query !== undefined && typeof query !== 'string') throw new InvalidRequest('ttl must be given once');
  const fromHeader = parseTtl(header, 'X-WeftKit-TTL-Seconds');
  const fromQuery = parseTtl(query as string | undefined, 'ttl');
  if (fromHeader !== undefined && fromQuery !== undefined && fromHeader !== fromQuery) {
    throw new InvalidRequest('X-WeftKit-TTL-Seconds and ttl disagree');
  }
  return fromHeader ?? fromQuery;
}
