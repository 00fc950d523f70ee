import { randomBytes, timingSafeEqual } from 'node:crypto';
import { ScramChannelBindingUnsupported, ScramMalformed } from '../../errors.js';
import { authFailed } from './auth-failure.js';
import { decodeBase64Strict, hmacSha256, SCRAM_KEY_LENGTH, type ScramSecret, sha256 } from './scram-verifier.js';

export const SCRAM_MECHANISM = 'SCRAM-SHA-256';
/** Largest SCRAM message accepted (bytes); real ones are under 200. */
export const SCRAM_MAX_MESSAGE_BYTES = 4096;
/** Raw bytes of the server's nonce part, as PostgreSQL (SCRAM_RAW_NONCE_LEN). */
const SERVER_NONCE_BYTES = 18;

/** RFC 5802 `printable`: %x21-2B / %x2D-7E (printable ASCII except ','). */
const PRINTABLE = /^[\x21-\x2b\x2d-\x7e]+$/;
const EXTENSION = /^[A-Za-z]=/;
const utf8 = new TextDecoder('utf-8', { fatal: true });

/**
 * A secret for users who cannot do SCRAM (unknown, or bcrypt-hashed): derived from a per-process
 * key so the same name always gets the same salt, like a real user does.
 */
export function mockScramSecret(mockKey: Buffer, user: string, iterations: number): ScramSecret {
  return {
    iterations,
    salt: hmacSha256(mockKey, `salt\0${user}`).subarray(0, 16),
    storedKey: hmacSha256(mockKey, `stored\0${user}`),
    serverKey: hmacSha256(mockKey, `server\0${user}`),
  };
}

export interface ScramServerOptions {
  /** The user from the startup message (the `n=` attribute is ignored, as PostgreSQL does). */
  user: string;
  secret: ScramSecret;
  /** True when `secret` is a mock: the exchange runs normally and fails at the proof. */
  doomed?: boolean;
  /** Server nonce part; tests only. Default: 18 random bytes, base64. */
  serverNonce?: string;
}

function malformed(detail: string): ScramMalformed {
  return new ScramMalformed(`malformed SCRAM message: ${detail}`);
}

function toText(message: string | Uint8Array): string {
  let text: string;
  if (typeof message === 'string') {
    if (Buffer.byteLength(message, 'utf8') > SCRAM_MAX_MESSAGE_BYTES) throw malformed('message too long');
    text = message;
  } else {
    if (message.byteLength > SCRAM_MAX_MESSAGE_BYTES) throw malformed('message too long');
    try {
      text = utf8.decode(message);
    } catch {
      throw malformed('not valid UTF-8');
    }
  }
  if (text.includes('\0')) throw malformed('contains NUL');
  return text;
}

type State = 'initial' | 'continue' | 'done' | 'failed';

/**
 * Server side of one SCRAM-SHA-256 exchange (RFC 5802, RFC 7677), without channel binding.
 * Every bad input raises `ScramMalformed`/`ScramChannelBindingUnsupported`; a wrong proof
 * (or a doomed exchange) raises `AuthFailed`. After any error the session is dead.
 */
export class ScramServerSession {
  readonly user: string;
  readonly #secret: ScramSecret;
  readonly #doomed: boolean;
  readonly #serverNoncePart: string;
  #state: State = 'initial';
  #gs2Header = '';
  #clientFirstBare = '';
  #serverFirst = '';
  #nonce = '';

  constructor(options: ScramServerOptions) {
    this.user = options.user;
    this.#secret = options.secret;
    this.#doomed = options.doomed === true;
    const nonce = options.serverNonce ?? randomBytes(SERVER_NONCE_BYTES).toString('base64');
    if (!PRINTABLE.test(nonce)) throw new TypeError('server nonce must be printable');
    this.#serverNoncePart = nonce;
  }

  /** True once the client proved the password. */
  get succeeded(): boolean {
    return this.#state === 'done';
  }

  /** Takes client-first-message, returns server-first-message. */
  handleClientFirst(message: string | Uint8Array): string {
    this.#expect('initial');
    try {
      const text = toText(message);
      const { gs2Header, bare, clientNonce } = parseClientFirst(text);
      this.#gs2Header = gs2Header;
      this.#clientFirstBare = bare;
      this.#nonce = clientNonce + this.#serverNoncePart;
      const s = this.#secret;
      this.#serverFirst = `r=${this.#nonce},s=${s.salt.toString('base64')},i=${s.iterations}`;
      this.#state = 'continue';
      return this.#serverFirst;
    } catch (err) {
      this.#state = 'failed';
      throw err;
    }
  }

  /** Takes client-final-message, returns server-final-message (`v=...`) when the proof is right. */
  handleClientFinal(message: string | Uint8Array): string {
    this.#expect('continue');
    this.#state = 'failed';
    const text = toText(message);
    const { withoutProof, proof } = parseClientFinal(text, this.#gs2Header, this.#nonce);
    const authMessage = `${this.#clientFirstBare},${this.#serverFirst},${withoutProof}`;
    const { storedKey, serverKey } = this.#secret;
    const clientKey = hmacSha256(storedKey, authMessage);
    for (let i = 0; i < SCRAM_KEY_LENGTH; i++) clientKey[i] = clientKey[i]! ^ proof[i]!;
    const matches = timingSafeEqual(sha256(clientKey), storedKey);
    if (!matches || this.#doomed) throw authFailed(this.user);
    this.#state = 'done';
    return `v=${hmacSha256(serverKey, authMessage).toString('base64')}`;
  }

  #expect(state: State): void {
    if (this.#state !== state) {
      this.#state = 'failed';
      throw malformed('unexpected message in this state');
    }
  }
}

function parseClientFirst(text: string): { gs2Header: string; bare: string; clientNonce: string } {
  // gs2-header = gs2-cbind-flag "," [ authzid ] ","
  if (text.startsWith('p=')) {
    throw new ScramChannelBindingUnsupported(
      'malformed SCRAM message: the client selected SCRAM-SHA-256 without channel binding but sent channel binding data',
    );
  }
  if (!(text.startsWith('n,') || text.startsWith('y,'))) throw malformed('bad GS2 channel-binding flag');
  if (text.startsWith('a=', 2)) throw malformed('authorization identity is not supported');
  if (text[2] !== ',') throw malformed('bad GS2 header');
  const gs2Header = text.slice(0, 3);
  const bare = text.slice(3);
  const attrs = bare.split(',');
  const user = attrs[0] ?? '';
  if (user.startsWith('m=')) throw malformed('unsupported SCRAM extension');
  if (!user.startsWith('n=')) throw malformed('missing user name attribute');
  const nonce = attrs[1];
  if (nonce === undefined || !nonce.startsWith('r=')) throw malformed('missing nonce attribute');
  const clientNonce = nonce.slice(2);
  if (!PRINTABLE.test(clientNonce)) throw malformed('nonce is empty or not printable');
  for (const ext of attrs.slice(2)) if (!EXTENSION.test(ext)) throw malformed('bad attribute');
  return { gs2Header, bare, clientNonce };
}

function parseClientFinal(text: string, gs2Header: string, nonce: string): { withoutProof: string; proof: Buffer } {
  const attrs = text.split(',');
  const cb = attrs[0] ?? '';
  if (!cb.startsWith('c=')) throw malformed('missing channel-binding attribute');
  const binding = decodeBase64Strict(cb.slice(2));
  if (binding === undefined) throw malformed('channel binding is not valid base64');
  if (!binding.equals(Buffer.from(gs2Header, 'utf8'))) throw malformed('channel binding does not match the GS2 header');
  const r = attrs[1];
  if (r === undefined || !r.startsWith('r=')) throw malformed('missing nonce attribute');
  if (r.slice(2) !== nonce) throw malformed('nonce does not match');
  const last = attrs[attrs.length - 1]!;
  if (attrs.length < 3 || !last.startsWith('p=')) throw malformed('missing proof attribute');
  for (const ext of attrs.slice(2, -1)) {
    if (!EXTENSION.test(ext) || ext.startsWith('p=')) throw malformed('bad attribute');
  }
  const proof = decodeBase64Strict(last.slice(2));
  if (proof === undefined) throw malformed('proof is not valid base64');
  if (proof.length !== SCRAM_KEY_LENGTH) throw malformed('proof has the wrong length');
  return { withoutProof: text.slice(0, text.length - last.length - 1), proof };
}
