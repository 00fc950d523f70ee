import { createCipheriv, createDecipheriv } from 'node:crypto';
import { createRequire } from 'node:module';
import type { Binding as AesGcmBinding, Key as AesGcmKey } from '@weftkit/aes-gcm';

/**
 * Which library runs the page cipher's AES-256-GCM: the system's libcrypto.so.3 through the
 * `@weftkit/aes-gcm` addon (about 3x faster here than Node's bundled OpenSSL), or node:crypto.
 */
export type PageCipherBackend = 'openssl-native' | 'node-crypto';

/** One AES-256-GCM key (96-bit nonce, 128-bit tag) held by a backend. */
export interface AeadKey {
  readonly backend: PageCipherBackend;
  /** Writes `ciphertext | tag` into `out`, which must be exactly `plaintext.length + 16` bytes. */
  seal(nonce: Buffer, aad: Buffer, plaintext: Buffer, out: Buffer): void;
  /**
   * Writes the plaintext into `out` (exactly `ciphertext.length` bytes). False on any failure, and
   * `out` then holds no plaintext: untouched (node:crypto) or zeroed (native).
   */
  open(nonce: Buffer, aad: Buffer, ciphertext: Buffer, tag: Buffer, out: Buffer): boolean;
  /** Zeroes (node) or frees and cleanses (native) the key; later calls fail. */
  destroy(): void;
}

const GCM = 'aes-256-gcm';
const GCM_OPTIONS = { authTagLength: 16 } as const;
const TAG_BYTES = 16;
const EMPTY = Buffer.alloc(0);

class NodeCryptoKey implements AeadKey {
  readonly backend = 'node-crypto' as const;
  readonly #key: Buffer;

  constructor(key: Buffer) {
    this.#key = Buffer.alloc(key.length);
    key.copy(this.#key);
  }

  seal(nonce: Buffer, aad: Buffer, plaintext: Buffer, out: Buffer): void {
    if (out.length !== plaintext.length + TAG_BYTES) throw new RangeError('output must hold ciphertext and tag');
    const c = createCipheriv(GCM, this.#key, nonce, GCM_OPTIONS);
    c.setAAD(aad);
    if (plaintext.length > 0) c.update(plaintext).copy(out, 0);
    c.final();
    c.getAuthTag().copy(out, plaintext.length);
  }

  open(nonce: Buffer, aad: Buffer, ciphertext: Buffer, tag: Buffer, out: Buffer): boolean {
    if (out.length !== ciphertext.length || tag.length !== TAG_BYTES) return false;
    let pt: Buffer = EMPTY;
    try {
      const d = createDecipheriv(GCM, this.#key, nonce, GCM_OPTIONS);
      d.setAAD(aad);
      d.setAuthTag(tag);
      if (ciphertext.length > 0) pt = d.update(ciphertext);
      d.final();
    } catch {
      pt.fill(0);
      return false;
    }
    pt.copy(out, 0);
    pt.fill(0);
    return true;
  }

  destroy(): void {
    this.#key.fill(0);
  }
}

class NativeKey implements AeadKey {
  readonly backend = 'openssl-native' as const;
  readonly #binding: AesGcmBinding;
  readonly #handle: AesGcmKey;

  constructor(binding: AesGcmBinding, handle: AesGcmKey) {
    this.#binding = binding;
    this.#handle = handle;
  }

  seal(nonce: Buffer, aad: Buffer, plaintext: Buffer, out: Buffer): void {
    if (!this.#binding.seal(this.#handle, nonce, aad, plaintext, out)) throw new Error('AES-256-GCM seal failed');
  }

  // Decrypts straight into `out`; on a failed tag the addon cleanses it, so no unauthenticated
  // plaintext is ever left there (a copy through a scratch page cost 0.1-0.3x of the open rate).
  open(nonce: Buffer, aad: Buffer, ciphertext: Buffer, tag: Buffer, out: Buffer): boolean {
    if (out.length !== ciphertext.length) return false;
    return this.#binding.open(this.#handle, nonce, aad, ciphertext, tag, out);
  }

  destroy(): void {
    this.#binding.destroyKey(this.#handle);
  }
}

// The addon is loaded and checked once per thread (each worker has its own module instance).
let native: AesGcmBinding | null | undefined;

function nativeBinding(): AesGcmBinding | null {
  if (native !== undefined) return native;
  native = null;
  try {
    const binding = createRequire(import.meta.url)('@weftkit/aes-gcm') as AesGcmBinding | undefined;
    if (binding !== undefined && passesSelfTest(binding)) native = binding;
  } catch {
    native = null;
  }
  return native;
}

function pattern(length: number, step: number, start: number): Buffer {
  const b = Buffer.alloc(length);
  for (let i = 0; i < length; i++) b[i] = (start + i * step) & 0xff;
  return b;
}

/** Known-answer test: the addon must reproduce node:crypto on fixed vectors and reject a bad tag. */
export function passesSelfTest(binding: AesGcmBinding): boolean {
  const key = pattern(32, 1, 0);
  const nonce = Buffer.from('cafebabefacedbaddecaf888', 'hex');
  const aad = pattern(96, 7, 3);
  const handle = binding.createKey(key);
  if (handle === undefined) return false;
  const reference = new NodeCryptoKey(key);
  try {
    for (const size of [0, 4096 + 13]) {
      const plaintext = pattern(size, 31, 11);
      const expected = Buffer.alloc(size + TAG_BYTES);
      reference.seal(nonce, aad, plaintext, expected);
      const sealed = Buffer.alloc(size + TAG_BYTES);
      if (!binding.seal(handle, nonce, aad, plaintext, sealed) || !sealed.equals(expected)) return false;
      const opened = Buffer.alloc(size);
      const ct = sealed.subarray(0, size);
      if (!binding.open(handle, nonce, aad, ct, sealed.subarray(size), opened) || !opened.equals(plaintext)) return false;
      const badTag = Buffer.from(sealed.subarray(size));
      badTag[0]! ^= 1;
      if (binding.open(handle, nonce, aad, ct, badTag, opened)) return false;
    }
    return true;
  } finally {
    binding.destroyKey(handle);
    reference.destroy();
    key.fill(0);
  }
}

/** The backend new page ciphers use: `openssl-native` when the addon loads and passes its self-test. */
export function pageCipherBackend(): PageCipherBackend {
  return nativeBinding() === null ? 'node-crypto' : 'openssl-native';
}

/** Which AES implementation new page ciphers use, for start-up logs and benchmarks, e.g. `OpenSSL 3.0.19 ... (/lib/.../libcrypto.so.3)`. */
export function pageCipherLibrary(): string {
  const binding = nativeBinding();
  if (binding === null) return `node:crypto (OpenSSL ${process.versions.openssl} bundled with Node)`;
  const { library, version } = binding.info();
  return `${version} (${library})`;
}

/** Creates a key in `backend` (default: `pageCipherBackend()`); `key` is copied, the caller zeroes its own. */
export function createAeadKey(key: Buffer, backend: PageCipherBackend = pageCipherBackend()): AeadKey {
  if (backend === 'node-crypto') return new NodeCryptoKey(key);
  const binding = nativeBinding();
  if (binding === null) throw new Error('the openssl-native page cipher backend is not available');
  const handle = binding.createKey(key);
  if (handle === undefined) throw new Error('the openssl-native page cipher backend refused the key');
  return new NativeKey(binding, handle);
}
