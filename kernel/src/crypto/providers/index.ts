// Public exports of src/crypto/providers. The provider classes are reached through
// `createKeyProvider`, which imports each one (and its SDK) only when configured.
export type { AwsKmsProviderOptions } from './aws-kms-provider.js';
export { createKeyProvider, type KeyProviderDeps } from './create-key-provider.js';
export type { GcpKmsProviderOptions } from './gcp-kms-provider.js';
export type { RetryOptions } from './remote-call.js';
export type { RemoteProviderDeps } from './remote-provider-deps.js';
export type { VaultProviderOptions } from './vault-provider.js';
