import { randomInt } from 'node:crypto';
import {
  KeyProviderMisconfigured,
  KeyServiceDenied,
  KeyServiceFailed,
  KeyServiceKeyUnusable,
  KeyServiceUnavailable,
  KeyUnwrapFailed,
  type WeftKitError,
} from '../../errors.js';
import type { Logger } from '../../log/logger.js';

/** How a remote key operation failed; only `transient` is retried. */
export type FailureKind = 'transient' | 'denied' | 'key-unusable' | 'invalid-ciphertext' | 'misconfigured' | 'failed';

/**
 * A failure reduced to what may be shown: a kind, a short reason built from status codes and error
 * names (never an SDK message, which can echo request details), and the setting to fix.
 */
export interface Classified {
  readonly kind: FailureKind;
  readonly reason: string;
  readonly setting: string;
}

export interface RetryOptions {
  /** Total time one wrap/unwrap may take, retries included (WEFTKIT_KEY_PROVIDER_TIMEOUT_SECONDS; default 10 s). */
  readonly deadlineMs?: number;
  /** Longest single attempt (default 5 s, never past the deadline). */
  readonly attemptTimeoutMs?: number;
  /** First backoff ceiling (default 100 ms); doubles per attempt up to `maxDelayMs` (default 2 s), full jitter. */
  readonly baseDelayMs?: number;
  readonly maxDelayMs?: number;
}

export const DEFAULT_DEADLINE_MS = 10_000;

class AttemptTimeout extends Error {}

/** A permanent failure that a provider detected itself (before or after the SDK call). */
export class PermanentFailure extends Error {
  readonly classified: Classified;
  constructor(classified: Classified) {
    super(classified.reason);
    this.classified = classified;
  }
}

/** The coded, secret-free error for a classified failure. */
export function errorFor(provider: string, c: Classified): WeftKitError {
  const text = `${provider}: ${c.reason}; check ${c.setting}`;
  switch (c.kind) {
    case 'transient':
      return new KeyServiceUnavailable(text);
    case 'denied':
      return new KeyServiceDenied(text);
    case 'key-unusable':
      return new KeyServiceKeyUnusable(text);
    case 'invalid-ciphertext':
      return new KeyUnwrapFailed('key unwrap failed');
    case 'misconfigured':
      return new KeyProviderMisconfigured(text);
    default:
      return new KeyServiceFailed(text);
  }
}

/** Network-level failures any SDK may surface (Node errno codes, undici and axios names). */
const TRANSIENT_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ECONNABORTED',
  'ETIMEDOUT',
  'ESOCKETTIMEDOUT',
  'EPIPE',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'ENETDOWN',
  'EAI_AGAIN',
  'ENOTFOUND',
  'UND_ERR_CONNECT_TIMEOUT',
  'UND_ERR_SOCKET',
  'UND_ERR_HEADERS_TIMEOUT',
  'UND_ERR_BODY_TIMEOUT',
  'ERR_SOCKET_CONNECTION_TIMEOUT',
]);

/** The errno-style code of a network failure anywhere in `err`'s cause chain, else undefined. */
export function networkCode(err: unknown): string | undefined {
  for (let e = err, depth = 0; e !== null && typeof e === 'object' && depth < 6; depth++) {
    const code = (e as { code?: unknown }).code;
    if (typeof code === 'string' && TRANSIENT_CODES.has(code)) return code;
    const errno = (e as { errno?: unknown }).errno;
    if (typeof errno === 'string' && TRANSIENT_CODES.has(errno)) return errno;
    e = (e as { cause?: unknown }).cause;
  }
  return undefined;
}

export interface RemoteCall {
  /** Provider kind for messages and logs (`vault`, `kms`, `gcp-kms`). */
  readonly provider: string;
  readonly operation: string;
  /** The setting to check when the service cannot be reached, e.g. WEFTKIT_VAULT_ADDR. */
  readonly addressSetting: string;
  readonly classify: (err: unknown) => Classified;
  readonly retry: RetryOptions;
  readonly logger: Logger;
}

/**
 * Runs `attempt` until it succeeds, fails permanently, or the deadline passes. Transient failures
 * are retried after a jittered exponential backoff; every attempt is raced against its own timeout
 * so an SDK that ignores its abort signal cannot hold the caller past the deadline.
 */
export async function callWithRetry<T>(call: RemoteCall, attempt: (signal: AbortSignal, timeoutMs: number) => Promise<T>): Promise<T> {
  const deadlineMs = call.retry.deadlineMs ?? DEFAULT_DEADLINE_MS;
  const attemptMs = call.retry.attemptTimeoutMs ?? 5_000;
  const base = call.retry.baseDelayMs ?? 100;
  const maxDelay = call.retry.maxDelayMs ?? 2_000;
  const started = Date.now();
  let last: Classified | undefined;
  for (let n = 0; ; n++) {
    const remaining = deadlineMs - (Date.now() - started);
    if (remaining <= 0) break;
    const timeoutMs = Math.max(1, Math.min(attemptMs, remaining));
    const controller = new AbortController();
    let timer: NodeJS.Timeout | undefined;
    try {
      const timeout = new Promise<never>((_, reject) => {
        timer = setTimeout(() => {
          controller.abort();
          reject(new AttemptTimeout());
        }, timeoutMs);
      });
      return await Promise.race([attempt(controller.signal, timeoutMs), timeout]);
    } catch (err) {
      if (err instanceof AttemptTimeout) last = { kind: 'transient', reason: `no answer within ${timeoutMs} ms`, setting: call.addressSetting };
      else if (err instanceof PermanentFailure) last = err.classified;
      else last = call.classify(err);
      if (last.kind !== 'transient') throw errorFor(call.provider, last);
    } finally {
      clearTimeout(timer);
    }
    const ceiling = Math.min(maxDelay, base * 2 ** Math.min(n, 20));
    const delay = Math.min(randomInt(0, ceiling + 1), deadlineMs - (Date.now() - started));
    call.logger.warn('key service call failed; retrying', {
      provider: call.provider,
      operation: call.operation,
      attempt: n + 1,
      reason: last.reason,
      retryInMs: Math.max(0, delay),
    });
    if (delay > 0) await new Promise((r) => setTimeout(r, delay));
  }
  const reason = last === undefined ? 'no attempt fitted in the deadline' : `${last.reason}, gave up after ${Date.now() - started} ms`;
  throw errorFor(call.provider, { kind: 'transient', reason, setting: last?.setting ?? call.addressSetting });
}
