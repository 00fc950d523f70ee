import { createHash, createHmac, pbkdf2, randomBytes } from 'node:crypto';
import { promisify } from 'node:util';

const pbkdf2Async = promisify(pbkdf2);

/** The secrets a server keeps for one SCRAM-SHA-256 user (the parts of a PostgreSQL verifier). */
export interface ScramSecret {
  readonly iterations: number;
  readonly salt: Buffer;
  readonly storedKey: Buffer;
  readonly serverKey: Buffer;
}

export const SCRAM_MIN_ITERATIONS = 4096;
export const SCRAM_KEY_LENGTH = 32;
const MAX_ITERATIONS = 0x7fffffff;
const BASE64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;

/** Strict base64 (RFC 4648 alphabet, padded); Buffer.from alone accepts anything. */
export function decodeBase64Strict(text: string): Buffer | undefined {
  if (!BASE64.test(text)) return undefined;
  return Buffer.from(text, 'base64');
}

/** Why a `SCRAM-SHA-256$...` string is refused, or the parsed secret. */
export type ScramVerifierParse = { ok: true; secret: ScramSecret } | { ok: false; reason: string };

/** Parses a PostgreSQL verifier `SCRAM-SHA-256$<iter>:<salt>$<StoredKey>:<ServerKey>`. */
export function parseScramVerifier(text: string): ScramVerifierParse {
  const m = /^SCRAM-SHA-256\$([0-9]+):([^$:]*)\$([^$:]*):([^$:]*)$/.exec(text);
  if (m === null) return { ok: false, reason: 'malformed SCRAM-SHA-256 verifier' };
  const [, iterText, saltText, storedText, serverText] = m as unknown as [string, string, string, string, string];
  if (iterText.length > 10 || iterText.startsWith('0')) return { ok: false, reason: 'SCRAM iteration count is not valid' };
  const iterations = Number(iterText);
  if (iterations > MAX_ITERATIONS) return { ok: false, reason: 'SCRAM iteration count is not valid' };
  if (iterations < SCRAM_MIN_ITERATIONS) return { ok: false, reason: `SCRAM iteration count is below ${SCRAM_MIN_ITERATIONS}` };
  const salt = decodeBase64Strict(saltText);
  if (salt === undefined) return { ok: false, reason: 'SCRAM salt is not valid base64' };
  if (salt.length === 0) return { ok: false, reason: 'SCRAM salt is empty' };
  const storedKey = decodeBase64Strict(storedText);
  const serverKey = decodeBase64Strict(serverText);
  if (storedKey === undefined || serverKey === undefined) return { ok: false, reason: 'SCRAM keys are not valid base64' };
  if (storedKey.length !== SCRAM_KEY_LENGTH || serverKey.length !== SCRAM_KEY_LENGTH) {
    return { ok: false, reason: `SCRAM keys must decode to ${SCRAM_KEY_LENGTH} bytes` };
  }
  return { ok: true, secret: { iterations, salt, storedKey, serverKey } };
}

export function formatScramVerifier(secret: ScramSecret): string {
  return (
    `SCRAM-SHA-256$${secret.iterations}:${secret.salt.toString('base64')}` +
    `$${secret.storedKey.toString('base64')}:${secret.serverKey.toString('base64')}`
  );
}

// RFC 3454 C.1.2 (non-ASCII spaces) and B.1 (mapped to nothing), as pg and libpq map them.
const NON_ASCII_SPACE = /[\u00A0\u1680\u2000-\u200B\u202F\u205F\u3000]/g;
// biome-ignore lint/suspicious/noMisleadingCharacterClass: RFC 3454 B.1 lists these joiners on purpose.
const MAPPED_TO_NOTHING = /[\u00AD\u034F\u1806\u180B\u180C\u180D\u200C\u200D\u2060\uFE00-\uFE0F\uFEFF]/g;

/**
 * SASLprep (RFC 4013) as PostgreSQL clients apply it: ASCII passwords are used as they are;
 * others get the space/nothing mappings and NFKC normalization. The prohibited-character and
 * bidi checks are skipped, like node-postgres does (libpq then falls back to the raw password).
 */
export function saslPrep(password: string): string {
  // biome-ignore lint/suspicious/noControlCharactersInRegex: the test is "only ASCII".
  if (/^[\x00-\x7f]*$/.test(password)) return password;
  return password.replace(NON_ASCII_SPACE, ' ').replace(MAPPED_TO_NOTHING, '').normalize('NFKC');
}

/** SaltedPassword = Hi(SASLprep(password), salt, i) (RFC 5802 §3), off the event loop. */
export function saltedPassword(password: string, salt: Buffer, iterations: number): Promise<Buffer> {
  return pbkdf2Async(Buffer.from(saslPrep(password), 'utf8'), salt, iterations, SCRAM_KEY_LENGTH, 'sha256');
}

export function hmacSha256(key: Buffer, data: string | Buffer): Buffer {
  return createHmac('sha256', key).update(data).digest();
}

export function sha256(data: Buffer): Buffer {
  return createHash('sha256').update(data).digest();
}

/** StoredKey and ServerKey from a SaltedPassword (RFC 5802 §3). */
export function scramKeys(salted: Buffer): { storedKey: Buffer; serverKey: Buffer } {
  return { storedKey: sha256(hmacSha256(salted, 'Client Key')), serverKey: hmacSha256(salted, 'Server Key') };
}

export interface ScramVerifierOptions {
  /** PBKDF2 iterations; PostgreSQL's default is 4096. */
  iterations?: number;
  /** 16 random bytes by default, as PostgreSQL generates. */
  salt?: Buffer;
}

/** A PostgreSQL SCRAM-SHA-256 verifier for `password` (what `weftkit user add` stores). */
export async function scramVerifier(password: string, options: ScramVerifierOptions = {}): Promise<string> {
  const iterations = options.iterations ?? SCRAM_MIN_ITERATIONS;
  if (!Number.isInteger(iterations) || iterations < SCRAM_MIN_ITERATIONS || iterations > MAX_ITERATIONS) {
    throw new RangeError(`SCRAM iterations must be an integer >= ${SCRAM_MIN_ITERATIONS}`);
  }
  const salt = options.salt ?? randomBytes(16);
  if (salt.length === 0) throw new RangeError('SCRAM salt must not be empty');
  const salted = await saltedPassword(password, salt, iterations);
  const keys = scramKeys(salted);
  salted.fill(0);
  return formatScramVerifier({ iterations, salt, ...keys });
}
