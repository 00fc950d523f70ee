import { createCipheriv, createDecipheriv, createHmac, randomBytes } from 'node:crypto';
import { KeyDestroyed, KeyMaterialInvalid, KeyUnwrapFailed } from '../errors.js';

/** What a wrapped key is bound to; remote providers send it as their encryption context / AAD. */
export interface WrapContext {
  /** Random id of the keyring the key belongs to. */
  readonly keyringId: string;
  /** `dek` for a tenant data key, `keyring-mac` for the key that authenticates the keyring file. */
  readonly purpose: 'dek' | 'keyring-mac';
  readonly tenant?: string;
  readonly keyVersion?: number;
}

/**
 * Holds (or reaches) the key-encryption key. Local providers wrap in process; Vault, AWS KMS and
 * GCP KMS providers implement the same calls with their remote encrypt/decrypt APIs.
 */
export interface KeyProvider {
  /** Provider kind, e.g. `env`, `file`, `dev`, `vault`. */
  readonly kind: string;
  /** Non-secret identifier of the KEK (a fingerprint for local keys, a key name/ARN for remote ones). */
  readonly keyId: string;
  /** Encrypts `dek` under the KEK, bound to `context`. */
  wrapKey(dek: Buffer, context: WrapContext): Promise<Buffer>;
  /** Reverses `wrapKey`; throws `KeyUnwrapFailed` for a wrong KEK, another context or an altered blob. */
  unwrapKey(wrapped: Buffer, context: WrapContext): Promise<Buffer>;
  /** Drops the KEK (zeroes it for local providers). */
  close(): Promise<void>;
}

// A locally wrapped key: version(1)=1 | nonce(12) | ciphertext | tag(16), AES-256-GCM under the KEK,
// AAD = "weftkit-wrap-v1" NUL JSON [keyringId, purpose, tenant, keyVersion].
const WRAP_VERSION = 1;
const WRAP_OVERHEAD = 1 + 12 + 16;

export function wrapContextAad(context: WrapContext): Buffer {
  const fields = [context.keyringId, context.purpose, context.tenant ?? '', context.keyVersion ?? 0];
  return Buffer.from(`weftkit-wrap-v1\0${JSON.stringify(fields)}`, 'utf8');
}

/** A KEK held in process memory (providers `env`, `file`, `dev`). */
export class LocalKeyProvider implements KeyProvider {
  readonly kind: string;
  readonly keyId: string;
  readonly #kek: Buffer;
  #closed = false;

  /** Takes a copy of `kek` (32 bytes); the caller zeroes its own. */
  constructor(kind: string, kek: Buffer, setting: string) {
    if (kek.length !== 32) throw new KeyMaterialInvalid(`${setting} must hold exactly 32 bytes`);
    this.kind = kind;
    this.#kek = Buffer.alloc(32);
    kek.copy(this.#kek);
    // A key check value: lets a keyring say "wrong key" without trying to decrypt anything.
    this.keyId = `local:${createHmac('sha256', this.#kek).update('weftkit-kek-id').digest('hex').slice(0, 16)}`;
  }

  async wrapKey(dek: Buffer, context: WrapContext): Promise<Buffer> {
    return this.wrapKeySync(dek, context);
  }

  wrapKeySync(dek: Buffer, context: WrapContext): Buffer {
    this.#live();
    const nonce = randomBytes(12);
    const c = createCipheriv('aes-256-gcm', this.#kek, nonce, { authTagLength: 16 });
    c.setAAD(wrapContextAad(context));
    const ct = Buffer.concat([c.update(dek), c.final()]);
    return Buffer.concat([Buffer.of(WRAP_VERSION), nonce, ct, c.getAuthTag()]);
  }

  async unwrapKey(wrapped: Buffer, context: WrapContext): Promise<Buffer> {
    this.#live();
    if (wrapped.length <= WRAP_OVERHEAD || wrapped[0] !== WRAP_VERSION) throw new KeyUnwrapFailed('key unwrap failed');
    const tagAt = wrapped.length - 16;
    let out: Buffer | undefined;
    try {
      const d = createDecipheriv('aes-256-gcm', this.#kek, wrapped.subarray(1, 13), { authTagLength: 16 });
      d.setAAD(wrapContextAad(context));
      d.setAuthTag(wrapped.subarray(tagAt));
      out = d.update(wrapped.subarray(13, tagAt));
      d.final();
    } catch {
      out?.fill(0);
      throw new KeyUnwrapFailed('key unwrap failed');
    }
    return out;
  }

  async close(): Promise<void> {
    this.#closed = true;
    this.#kek.fill(0);
  }

  #live(): void {
    if (this.#closed) throw new KeyDestroyed('key provider is closed');
  }
}
