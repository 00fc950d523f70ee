import { randomFillSync } from 'node:crypto';
import { KeyDestroyed, KeyMaterialInvalid, PageAuthenticationFailed } from '../errors.js';
import { assertTenantName } from '../identity/tenant.js';
import { type AeadKey, createAeadKey, type PageCipherBackend, pageCipherBackend } from './aead-backend.js';
import { EncryptionBudget } from './encryption-budget.js';

export const KEY_BYTES = 32;
export const NONCE_BYTES = 12;
export const TAG_BYTES = 16;
/** Bytes a sealed page adds to its plaintext: `nonce(12) | ciphertext | tag(16)`. */
export const SEAL_OVERHEAD: number = NONCE_BYTES + TAG_BYTES;
export const FILE_ID_BYTES = 16;
export const DEFAULT_PAGE_SIZE = 8192;
export const MIN_PAGE_SIZE = 4096;
export const MAX_PAGE_SIZE = 65536;

// AAD, 96 bytes, fixed layout (all integers big-endian):
//   0  4  domain: "WKP\x01" for a page, "WKH\x01" for a page-file header (then the header bytes follow)
//   4  1  tenant name length (1..63)
//   5 63  tenant name, ASCII, zero-padded
//  68 16  file id (random, kept across renames)
//  84  8  page number (u64; 0 for a header)
//  92  4  key version (u32)
const AAD_BYTES = 96;
const OFF_TENANT_LEN = 4;
const OFF_TENANT = 5;
const OFF_FILE_ID = 68;
const OFF_PAGE = 84;
const OFF_VERSION = 92;
const DOMAIN_PAGE = 0x574b5001;
const DOMAIN_HEADER = 0x574b4801;
const MAX_PAGE_NO = Number.MAX_SAFE_INTEGER;
const EMPTY = Buffer.alloc(0);
const NONCE_POOL_NONCES = 256;

export function isValidPageSize(size: number): boolean {
  return Number.isInteger(size) && size >= MIN_PAGE_SIZE && size <= MAX_PAGE_SIZE && (size & (size - 1)) === 0;
}

export interface PageCipherOptions {
  /** The 32-byte DEK. Copied: the caller zeroes its own buffer. */
  key: Buffer;
  tenant: string;
  /** DEK version, bound into every page's AAD. */
  keyVersion: number;
  pageSize?: number;
  /** Shared by every cipher using the same key; a private in-memory one if omitted. */
  budget?: EncryptionBudget;
  /** Called once by `destroy()`. */
  onDestroy?: (cipher: PageCipher) => void;
  /** Forces an AES-GCM backend (tests, benchmarks); default `pageCipherBackend()`. Same bytes either way. */
  backend?: PageCipherBackend;
}

/** AES-256-GCM over fixed-size pages of one tenant under one DEK version. Not safe to share across threads. */
export class PageCipher {
  readonly tenant: string;
  readonly keyVersion: number;
  readonly pageSize: number;
  /** Length of a sealed page on disk. */
  readonly sealedSize: number;
  readonly budget: EncryptionBudget;
  readonly #aead: AeadKey;
  readonly #aad: Buffer = Buffer.alloc(AAD_BYTES);
  readonly #nonces: Buffer = Buffer.alloc(NONCE_BYTES * NONCE_POOL_NONCES);
  #nonceAt: number = this.#nonces.length;
  #destroyed = false;
  readonly #onDestroy: ((cipher: PageCipher) => void) | undefined;

  constructor(options: PageCipherOptions) {
    if (!Buffer.isBuffer(options.key) || options.key.length !== KEY_BYTES) throw new KeyMaterialInvalid('data key must be 32 bytes');
    const pageSize = options.pageSize ?? DEFAULT_PAGE_SIZE;
    if (!isValidPageSize(pageSize)) throw new RangeError('page size must be a power of two from 4 KiB to 64 KiB');
    if (!Number.isInteger(options.keyVersion) || options.keyVersion < 1 || options.keyVersion > 0xffffffff) {
      throw new RangeError('key version must be a u32 above 0');
    }
    this.tenant = assertTenantName(options.tenant);
    this.keyVersion = options.keyVersion;
    this.pageSize = pageSize;
    this.sealedSize = pageSize + SEAL_OVERHEAD;
    this.budget = options.budget ?? new EncryptionBudget();
    this.#onDestroy = options.onDestroy;
    this.#aead = createAeadKey(options.key, options.backend ?? pageCipherBackend());
    this.#aad.writeUInt8(this.tenant.length, OFF_TENANT_LEN);
    this.#aad.write(this.tenant, OFF_TENANT, 'latin1');
    this.#aad.writeUInt32BE(this.keyVersion, OFF_VERSION);
  }

  get destroyed(): boolean {
    return this.#destroyed;
  }

  /** The library running this cipher's AES-GCM. */
  get backend(): PageCipherBackend {
    return this.#aead.backend;
  }

  /** Seals `plaintext` (exactly `pageSize` bytes) as page `pageNo` of file `fileId`. */
  seal(fileId: Buffer, pageNo: number, plaintext: Buffer): Buffer {
    const out = Buffer.allocUnsafe(this.sealedSize);
    this.sealInto(fileId, pageNo, plaintext, out, 0);
    return out;
  }

  /** Like `seal`, writing `nonce | ciphertext | tag` into `out` at `offset`. */
  sealInto(fileId: Buffer, pageNo: number, plaintext: Buffer, out: Buffer, offset: number): void {
    this.#live();
    if (plaintext.length !== this.pageSize) throw new RangeError('plaintext must be exactly one page');
    if (out.length - offset < this.sealedSize || offset < 0) throw new RangeError('output buffer too small for a sealed page');
    this.#setAad(DOMAIN_PAGE, fileId, pageNo);
    this.budget.take();
    const nonce = this.#nextNonce();
    nonce.copy(out, offset);
    this.#aead.seal(nonce, this.#aad, plaintext, out.subarray(offset + NONCE_BYTES, offset + this.sealedSize));
  }

  /** Opens sealed page `pageNo` of `fileId`. Any failure, including a wrong length, is `PageAuthenticationFailed`. */
  open(fileId: Buffer, pageNo: number, sealed: Buffer): Buffer {
    const out = Buffer.allocUnsafe(this.pageSize);
    this.openInto(fileId, pageNo, sealed, out, 0);
    return out;
  }

  /** Like `open`, writing the plaintext into `out` at `offset`; `out` is untouched on failure. */
  openInto(fileId: Buffer, pageNo: number, sealed: Buffer, out: Buffer, offset: number): void {
    this.#live();
    if (out.length - offset < this.pageSize || offset < 0) throw new RangeError('output buffer too small for a page');
    if (sealed.length !== this.sealedSize) throw new PageAuthenticationFailed('page authentication failed');
    this.#setAad(DOMAIN_PAGE, fileId, pageNo);
    const tagAt = NONCE_BYTES + this.pageSize;
    const ok = this.#aead.open(
      sealed.subarray(0, NONCE_BYTES),
      this.#aad,
      sealed.subarray(NONCE_BYTES, tagAt),
      sealed.subarray(tagAt),
      out.subarray(offset, offset + this.pageSize),
    );
    if (!ok) throw new PageAuthenticationFailed('page authentication failed');
  }

  /** Seals a page-file header: `nonce(12) | tag(16)` over the header bytes (GMAC; nothing is encrypted). */
  sealHeader(fileId: Buffer, header: Buffer): Buffer {
    this.#live();
    this.#setAad(DOMAIN_HEADER, fileId, 0);
    this.budget.take();
    const out = Buffer.allocUnsafe(SEAL_OVERHEAD);
    const nonce = this.#nextNonce();
    nonce.copy(out, 0);
    // GCM's AAD is one stream: the page AAD then the header bytes.
    this.#aead.seal(nonce, Buffer.concat([this.#aad, header]), EMPTY, out.subarray(NONCE_BYTES));
    return out;
  }

  /** Verifies a header sealed by `sealHeader`; throws `PageAuthenticationFailed`. */
  verifyHeader(fileId: Buffer, header: Buffer, seal: Buffer): void {
    this.#live();
    if (seal.length !== SEAL_OVERHEAD) throw new PageAuthenticationFailed('page authentication failed');
    this.#setAad(DOMAIN_HEADER, fileId, 0);
    const aad = Buffer.concat([this.#aad, header]);
    if (!this.#aead.open(seal.subarray(0, NONCE_BYTES), aad, EMPTY, seal.subarray(NONCE_BYTES), EMPTY)) {
      throw new PageAuthenticationFailed('page authentication failed');
    }
  }

  /** Zeroes the key (frees and cleanses it in OpenSSL natively); every later call throws `KeyDestroyed`. */
  destroy(): void {
    if (this.#destroyed) return;
    this.#destroyed = true;
    this.#aead.destroy();
    this.#onDestroy?.(this);
  }

  #live(): void {
    if (this.#destroyed) throw new KeyDestroyed('data key was destroyed');
  }

  #setAad(domain: number, fileId: Buffer, pageNo: number): void {
    // Thrown as authentication failures: on the read path a bad id or number is indistinguishable from tampering.
    if (fileId.length !== FILE_ID_BYTES) throw new PageAuthenticationFailed('page authentication failed');
    if (!Number.isInteger(pageNo) || pageNo < 0 || pageNo > MAX_PAGE_NO) throw new PageAuthenticationFailed('page authentication failed');
    const aad = this.#aad;
    aad.writeUInt32BE(domain, 0);
    fileId.copy(aad, OFF_FILE_ID);
    aad.writeUInt32BE(Math.floor(pageNo / 0x100000000), OFF_PAGE);
    aad.writeUInt32BE(pageNo >>> 0, OFF_PAGE + 4);
  }

  #nextNonce(): Buffer {
    if (this.#nonceAt >= this.#nonces.length) {
      randomFillSync(this.#nonces);
      this.#nonceAt = 0;
    }
    const nonce = this.#nonces.subarray(this.#nonceAt, this.#nonceAt + NONCE_BYTES);
    this.#nonceAt += NONCE_BYTES;
    return nonce;
  }
}
