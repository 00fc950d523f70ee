// Public exports of src/crypto (re-exported by src/index.ts).
export type { PageCipherBackend } from './aead-backend.js';
export { pageCipherBackend, pageCipherLibrary } from './aead-backend.js';
export type { EncryptionBudgetOptions } from './encryption-budget.js';
export { DEFAULT_HARD_LIMIT, DEFAULT_RESERVATION_BLOCK, DEFAULT_SOFT_LIMIT, EncryptionBudget } from './encryption-budget.js';
export type { KeyProvider, WrapContext } from './key-provider.js';
export { LocalKeyProvider, wrapContextAad } from './key-provider.js';
export type { ExportedTenantKeys, KekRotationResult, KeyringOptions, RotateDekOptions, ShredResult, TenantCiphers, TenantKeyInfo } from './keyring.js';
export { KEYRING_FILE_NAME, Keyring } from './keyring.js';
export type { LocalKeyProviderDeps, LocalKeyProviderOptions } from './local-key-providers.js';
export { createLocalKeyProvider, DEV_KEY_FILE_NAME } from './local-key-providers.js';
export type { PageCipherOptions } from './page-cipher.js';
export {
  DEFAULT_PAGE_SIZE,
  FILE_ID_BYTES,
  isValidPageSize,
  MAX_PAGE_SIZE,
  MIN_PAGE_SIZE,
  NONCE_BYTES,
  PageCipher,
  SEAL_OVERHEAD,
  TAG_BYTES,
} from './page-cipher.js';
