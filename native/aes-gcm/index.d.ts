declare namespace aesGcm {
  /** A key held only inside two OpenSSL EVP_CIPHER_CTX (one encrypts, one decrypts). */
  type Key = { readonly __brand: 'AesGcmKey' };

  interface Binding {
    /** undefined unless `key` is a 32-byte Buffer. */
    createKey(key: Buffer): Key | undefined;
    /** Writes ciphertext | tag(16) into `out` (exactly plaintext.length + 16 bytes); false on any bad argument. */
    seal(key: Key, nonce: Buffer, aad: Buffer, plaintext: Buffer, out: Buffer): boolean;
    /** Writes the plaintext into `out` (exactly ciphertext.length bytes); false, `out` zeroed, on authentication failure or a bad argument. */
    open(key: Key, nonce: Buffer, aad: Buffer, ciphertext: Buffer, tag: Buffer, out: Buffer): boolean;
    /** Frees and cleanses the key's contexts; later calls with it return false. */
    destroyKey(key: Key): void;
    /** The libcrypto file actually bound and its version string. */
    info(): { library: string; version: string };
  }
}

/** undefined when the addon is not built or no libcrypto.so.3 can be loaded. */
declare const aesGcm: aesGcm.Binding | undefined;
export = aesGcm;
