import type { KeyProviderConfig } from '../../config/types.js';
import type { Logger } from '../../log/logger.js';
import type { KeyProvider } from '../key-provider.js';
import { createLocalKeyProvider } from '../local-key-providers.js';
import type { RetryOptions } from './remote-call.js';

export interface KeyProviderDeps {
  /** WEFTKIT_DATA_DIR (the `dev` provider keeps its key there). */
  readonly dataDir: string;
  readonly logger: Logger;
  /** WEFTKIT_KEY_PROVIDER_TIMEOUT_SECONDS as `deadlineMs`, for the remote providers. */
  readonly retry?: RetryOptions;
}

/**
 * The key provider `config` names. Remote providers are imported here, on demand, so an engine
 * that uses env/file keys never loads node-vault or a cloud SDK.
 */
export async function createKeyProvider(config: KeyProviderConfig, deps: KeyProviderDeps): Promise<KeyProvider> {
  const remote = { logger: deps.logger.child({ component: 'key-provider', provider: config.kind }), ...(deps.retry === undefined ? {} : { retry: deps.retry }) };
  switch (config.kind) {
    case 'env':
    case 'file':
    case 'dev':
      return createLocalKeyProvider(config, { dataDir: deps.dataDir, logger: deps.logger });
    case 'vault': {
      const { VaultKeyProvider } = await import('./vault-provider.js');
      return VaultKeyProvider.create(
        {
          addr: config.addr,
          transitKey: config.transitKey,
          transitMount: config.transitMount,
          ...(config.namespace === undefined ? {} : { namespace: config.namespace }),
          ...(config.token === undefined ? {} : { token: config.token }),
          ...(config.appRole === undefined ? {} : { appRole: config.appRole }),
        },
        remote,
      );
    }
    case 'kms': {
      const { AwsKmsKeyProvider } = await import('./aws-kms-provider.js');
      return AwsKmsKeyProvider.create({ keyArn: config.keyArn, region: config.region, ...(config.endpoint === undefined ? {} : { endpoint: config.endpoint }) }, remote);
    }
    case 'gcp-kms': {
      const { GcpKmsKeyProvider } = await import('./gcp-kms-provider.js');
      return GcpKmsKeyProvider.create({ key: config.key, ...(config.endpoint === undefined ? {} : { endpoint: config.endpoint }) }, remote);
    }
  }
}
