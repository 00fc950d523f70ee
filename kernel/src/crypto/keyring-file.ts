import { createHmac, timingSafeEqual } from 'node:crypto';
import { KeyringCorrupt } from '../errors.js';
import { isTenantName } from '../identity/tenant.js';

/** Smallest re-encryption rate accepted (and kept in a tenant record), bytes per second. */
export const MIN_REENCRYPT_RATE = 4096;

// keyring.json is two lines:
//   1. the body, JSON (below), exactly the bytes the MAC covers
//   2. "hmac-sha256:" + lowercase hex HMAC-SHA256(macKey, line 1)
// macKey is random, stored in the body wrapped by the KEK provider (context purpose "keyring-mac"),
// so remote providers (Vault, KMS) can authenticate the file without ever exporting the KEK.
export const KEYRING_FORMAT = 'weftkit-keyring';
export const KEYRING_VERSION = 1;
const MAC_PREFIX = 'hmac-sha256:';
const MAX_KEYRING_BYTES = 16 * 1024 * 1024;

export interface KeyRecord {
  readonly version: number;
  /** base64 of the provider's wrapped DEK. */
  readonly wrapped: string;
  readonly createdAt: string;
  /** Encryptions reserved with this key so far (the nonce budget survives restarts). */
  readonly reserved: number;
}

export interface TenantRecord {
  readonly current: number;
  readonly keys: readonly KeyRecord[];
  /**
   * Bytes per second the operator gave the rotation that made `current` (`--rate`), kept until the
   * older versions are retired so a re-encryption resumed after a restart runs at it. Absent: the default.
   */
  readonly reencryptRate?: number;
}

/** What is left of a crypto-shredded tenant: the name stays dead until it is re-created on purpose. */
export interface TenantTombstone {
  /** ISO 8601 time of the shred. */
  readonly shreddedAt: string;
  /** The keyring generation whose write removed the tenant's keys. */
  readonly generation: number;
}

export interface KeyringBody {
  readonly format: typeof KEYRING_FORMAT;
  readonly version: typeof KEYRING_VERSION;
  readonly keyringId: string;
  /** Incremented on every write. */
  readonly generation: number;
  readonly kek: { readonly kind: string; readonly keyId: string };
  /** base64 of the wrapped MAC key. */
  readonly macKey: string;
  readonly tenants: Readonly<Record<string, TenantRecord>>;
  /** Absent in files that never had a shred; a name is never both here and in `tenants`. */
  readonly shredded?: Readonly<Record<string, TenantTombstone>>;
}

export interface ParsedKeyring {
  readonly body: KeyringBody;
  readonly signed: Buffer;
  readonly mac: Buffer;
}

export function encodeKeyring(body: KeyringBody, macKey: Buffer): Buffer {
  const signed = Buffer.from(JSON.stringify(body), 'utf8');
  const mac = createHmac('sha256', macKey).update(signed).digest('hex');
  return Buffer.concat([signed, Buffer.from(`\n${MAC_PREFIX}${mac}\n`, 'latin1')]);
}

const corrupt = (why: string): KeyringCorrupt => new KeyringCorrupt(`keyring file is corrupt: ${why}`);

/** Splits and shape-checks a keyring file. Nothing in it is trusted until `verifyKeyringMac` passes. */
export function parseKeyring(bytes: Buffer): ParsedKeyring {
  if (bytes.length > MAX_KEYRING_BYTES) throw corrupt('too large');
  const nl = bytes.indexOf(0x0a);
  if (nl < 0) throw corrupt('truncated');
  const signed = bytes.subarray(0, nl);
  const macLine = bytes.subarray(nl + 1).toString('latin1');
  const m = /^hmac-sha256:([0-9a-f]{64})\n$/.exec(macLine);
  if (m === null) throw corrupt('bad MAC line');
  let raw: unknown;
  try {
    raw = JSON.parse(signed.toString('utf8'));
  } catch {
    throw corrupt('body is not JSON');
  }
  return { body: checkBody(raw), signed, mac: Buffer.from(m[1]!, 'hex') };
}

export function verifyKeyringMac(parsed: ParsedKeyring, macKey: Buffer): void {
  const expected = createHmac('sha256', macKey).update(parsed.signed).digest();
  if (!timingSafeEqual(expected, parsed.mac)) throw corrupt('MAC mismatch');
}

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);
const isCount = (v: unknown): v is number => Number.isSafeInteger(v) && (v as number) >= 0;
const isVersion = (v: unknown): v is number => Number.isInteger(v) && (v as number) >= 1 && (v as number) <= 0xffffffff;
const isIsoTime = (v: unknown): v is string => typeof v === 'string' && /^\d{4}-\d\d-\d\dT[\d:.]+Z$/.test(v) && !Number.isNaN(Date.parse(v));
const isReencryptRate = (v: unknown): v is number => Number.isSafeInteger(v) && (v as number) >= MIN_REENCRYPT_RATE;
const isBase64 = (v: unknown): v is string => typeof v === 'string' && v.length > 0 && /^[A-Za-z0-9+/]+={0,2}$/.test(v);

function checkBody(raw: unknown): KeyringBody {
  if (!isObject(raw)) throw corrupt('body is not an object');
  if (raw['format'] !== KEYRING_FORMAT) throw corrupt('not a keyring');
  if (raw['version'] !== KEYRING_VERSION) throw corrupt('unsupported keyring version');
  const kek = raw['kek'];
  if (typeof raw['keyringId'] !== 'string' || !/^[0-9a-f]{32}$/.test(raw['keyringId'])) throw corrupt('bad keyring id');
  if (!isCount(raw['generation'])) throw corrupt('bad generation');
  if (!isObject(kek) || typeof kek['kind'] !== 'string' || typeof kek['keyId'] !== 'string') throw corrupt('bad kek');
  if (!isBase64(raw['macKey'])) throw corrupt('bad mac key');
  const tenants = raw['tenants'];
  if (!isObject(tenants)) throw corrupt('bad tenants');
  for (const [name, t] of Object.entries(tenants)) {
    if (!isTenantName(name) || !isObject(t) || !isVersion(t['current']) || !Array.isArray(t['keys'])) throw corrupt('bad tenant');
    if (t['reencryptRate'] !== undefined && !isReencryptRate(t['reencryptRate'])) throw corrupt('bad tenant re-encryption rate');
    const versions = new Set<number>();
    for (const k of t['keys'] as unknown[]) {
      if (!isObject(k) || !isVersion(k['version']) || !isBase64(k['wrapped']) || typeof k['createdAt'] !== 'string' || !isCount(k['reserved'])) {
        throw corrupt('bad tenant key');
      }
      versions.add(k['version']);
    }
    if (!versions.has(t['current']) || versions.size !== (t['keys'] as unknown[]).length) throw corrupt('bad tenant key versions');
  }
  const shredded = raw['shredded'];
  if (shredded !== undefined) {
    if (!isObject(shredded)) throw corrupt('bad shredded tenants');
    for (const [name, s] of Object.entries(shredded)) {
      if (!isTenantName(name) || Object.hasOwn(tenants, name)) throw corrupt('bad shredded tenant');
      if (!isObject(s) || !isIsoTime(s['shreddedAt']) || !isCount(s['generation'])) throw corrupt('bad shredded tenant');
    }
  }
  return raw as unknown as KeyringBody;
}
