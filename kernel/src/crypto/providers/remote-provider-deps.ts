import type { Logger } from '../../log/logger.js';
import type { RetryOptions } from './remote-call.js';

/** What every remote provider (vault, kms, gcp-kms) takes besides its own settings. */
export interface RemoteProviderDeps {
  readonly logger: Logger;
  /** Retry deadline and backoff; `deadlineMs` comes from WEFTKIT_KEY_PROVIDER_TIMEOUT_SECONDS. */
  readonly retry?: RetryOptions;
}
