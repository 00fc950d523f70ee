import { KeyUnwrapFailed } from '../../errors.js';
import { type KeyProvider, type WrapContext, wrapContextAad } from '../key-provider.js';
import { type Classified, callWithRetry, errorFor, networkCode, type RemoteCall } from './remote-call.js';
import type { RemoteProviderDeps } from './remote-provider-deps.js';

export interface GcpKmsProviderOptions {
  /** WEFTKIT_GCP_KMS_KEY: projects/P/locations/L/keyRings/R/cryptoKeys/K (a symmetric ENCRYPT_DECRYPT key). */
  readonly key: string;
  /** WEFTKIT_GCP_KMS_ENDPOINT: a private endpoint or a local test server, e.g. https://cloudkms.example:443. */
  readonly endpoint?: string;
  /** A fixed OAuth access token (tests). Unset: Application Default Credentials via google-auth-library. */
  readonly accessToken?: string;
}

interface GcpSdk {
  encrypt(request: Record<string, unknown>, options: Record<string, unknown>): Promise<[Record<string, unknown>, ...unknown[]]>;
  decrypt(request: Record<string, unknown>, options: Record<string, unknown>): Promise<[Record<string, unknown>, ...unknown[]]>;
  close(): Promise<void>;
}

const KEY_NAME = /^projects\/[a-z0-9.:-]+\/locations\/[a-z0-9-]+\/keyRings\/[A-Za-z0-9_-]{1,63}\/cryptoKeys\/[A-Za-z0-9_-]{1,63}$/;
const SETTING_KEY = 'WEFTKIT_GCP_KMS_KEY';
const SETTING_CREDENTIALS = 'the Google credentials (GOOGLE_APPLICATION_CREDENTIALS or the workload identity) and roles/cloudkms.cryptoKeyEncrypterDecrypter on WEFTKIT_GCP_KMS_KEY';
const ADDRESS = 'WEFTKIT_GCP_KMS_ENDPOINT (or the network path to cloudkms.googleapis.com)';

// gRPC status codes, which google-gax reports in REST mode too.
const UNAUTHENTICATED = 16;
const PERMISSION_DENIED = 7;
const NOT_FOUND = 5;
const FAILED_PRECONDITION = 9;
const INVALID_ARGUMENT = 3;
const TRANSIENT = new Set([1, 4, 8, 10, 13, 14]); // CANCELLED, DEADLINE_EXCEEDED, RESOURCE_EXHAUSTED, ABORTED, INTERNAL, UNAVAILABLE

function bytes(value: unknown): Buffer | undefined {
  if (value instanceof Uint8Array) return Buffer.from(value);
  if (typeof value === 'string' && value.length > 0) return Buffer.from(value, 'base64');
  return undefined;
}

/** The `gcp-kms` provider: Cloud KMS encrypt/decrypt with the wrap context as additionalAuthenticatedData. */
export class GcpKmsKeyProvider implements KeyProvider {
  readonly kind = 'gcp-kms';
  readonly keyId: string;
  readonly #client: GcpSdk;
  readonly #key: string;
  readonly #deps: RemoteProviderDeps;

  private constructor(client: GcpSdk, key: string, deps: RemoteProviderDeps) {
    this.#client = client;
    this.#key = key;
    this.#deps = deps;
    this.keyId = `gcp-kms:${key}`;
  }

  /** Validates the settings and loads @google-cloud/kms in REST mode (only now). */
  static async create(options: GcpKmsProviderOptions, deps: RemoteProviderDeps): Promise<GcpKmsKeyProvider> {
    const bad = (reason: string, setting: string): never => {
      throw errorFor('gcp-kms', { kind: 'misconfigured', reason, setting });
    };
    if (!KEY_NAME.test(options.key)) bad('the key is not a resource name projects/P/locations/L/keyRings/R/cryptoKeys/K', SETTING_KEY);
    let endpoint: Record<string, unknown> = {};
    if (options.endpoint !== undefined) {
      const url = URL.canParse(options.endpoint) ? new URL(options.endpoint) : undefined;
      if (url === undefined || !/^https?:$/.test(url.protocol) || (url.pathname !== '/' && url.pathname !== '')) {
        bad('the endpoint is not an http(s) URL without a path', 'WEFTKIT_GCP_KMS_ENDPOINT');
      }
      const protocol = url!.protocol.slice(0, -1);
      endpoint = { apiEndpoint: url!.hostname, port: Number(url!.port || (protocol === 'https' ? 443 : 80)), protocol };
    }
    let auth: Record<string, unknown> = {};
    if (options.accessToken !== undefined) {
      const { OAuth2Client } = await import('google-auth-library');
      const authClient = new OAuth2Client();
      authClient.setCredentials({ access_token: options.accessToken });
      auth = { authClient };
    }
    const { KeyManagementServiceClient } = await import('@google-cloud/kms');
    const client = new KeyManagementServiceClient({ fallback: true, ...endpoint, ...auth });
    return new GcpKmsKeyProvider(client as unknown as GcpSdk, options.key, deps) satisfies KeyProvider;
  }

  async wrapKey(dek: Buffer, context: WrapContext): Promise<Buffer> {
    const [res] = await this.#call('encrypt', (timeout) =>
      this.#client.encrypt({ name: this.#key, plaintext: dek, additionalAuthenticatedData: wrapContextAad(context) }, { timeout, retry: null }),
    );
    const ciphertext = bytes(res.ciphertext);
    if (ciphertext === undefined) throw errorFor('gcp-kms', { kind: 'failed', reason: 'encrypt returned no ciphertext', setting: SETTING_KEY });
    return ciphertext;
  }

  async unwrapKey(wrapped: Buffer, context: WrapContext): Promise<Buffer> {
    if (wrapped.length === 0) throw new KeyUnwrapFailed('key unwrap failed');
    let res: Record<string, unknown>;
    try {
      [res] = await this.#call('decrypt', (timeout) =>
        this.#client.decrypt({ name: this.#key, ciphertext: wrapped, additionalAuthenticatedData: wrapContextAad(context) }, { timeout, retry: null }),
      );
    } catch (err) {
      // A refused decrypt is a bad blob only if the key still encrypts; else the key is the problem.
      if (err instanceof KeyUnwrapFailed) await this.wrapKey(Buffer.alloc(1), context);
      throw err;
    }
    const plaintext = bytes(res.plaintext);
    if (plaintext === undefined) throw new KeyUnwrapFailed('key unwrap failed');
    if (res.plaintext instanceof Uint8Array) res.plaintext.fill(0);
    return plaintext;
  }

  async close(): Promise<void> {
    await this.#client.close();
  }

  #call<T>(op: 'encrypt' | 'decrypt', attempt: (timeout: number) => Promise<T>): Promise<T> {
    const call: RemoteCall = {
      provider: 'gcp-kms',
      operation: op,
      addressSetting: ADDRESS,
      classify: (err) => classifyGcpError(err, op),
      retry: this.#deps.retry ?? {},
      logger: this.#deps.logger,
    };
    return callWithRetry(call, (_signal, timeout) => attempt(timeout));
  }
}

/**
 * google-gax reports gRPC status codes, except in REST mode with google-auth-library 10, where a
 * non-2xx answer surfaces as a GaxiosError carrying only the HTTP status (its body already drained).
 */
function classifyGcpError(err: unknown, op: 'encrypt' | 'decrypt'): Classified {
  const net = networkCode(err);
  if (net !== undefined) return { kind: 'transient', reason: `cannot reach Cloud KMS (${net})`, setting: ADDRESS };
  const code = (err as { code?: unknown } | undefined)?.code;
  const status = (err as { status?: unknown } | undefined)?.status;
  if (typeof status === 'number' && status >= 100) return classifyHttp(status, op);
  if (typeof code === 'number' && code >= 100) return classifyHttp(code, op);
  if (typeof code !== 'number') return { kind: 'transient', reason: `${op} failed before an answer`, setting: ADDRESS };
  const what = `${op} failed with gRPC status ${code}`;
  if (code === UNAUTHENTICATED || code === PERMISSION_DENIED) return { kind: 'denied', reason: what, setting: SETTING_CREDENTIALS };
  if (code === NOT_FOUND || code === FAILED_PRECONDITION) return { kind: 'key-unusable', reason: `${what} (key not found, disabled or destroyed)`, setting: SETTING_KEY };
  if (code === INVALID_ARGUMENT) {
    return op === 'decrypt' ? { kind: 'invalid-ciphertext', reason: what, setting: SETTING_KEY } : { kind: 'misconfigured', reason: what, setting: SETTING_KEY };
  }
  if (TRANSIENT.has(code)) return { kind: 'transient', reason: what, setting: ADDRESS };
  return { kind: 'failed', reason: what, setting: SETTING_KEY };
}

function classifyHttp(status: number, op: 'encrypt' | 'decrypt'): Classified {
  const what = `${op} failed with HTTP ${status}`;
  if (status === 401 || status === 403) return { kind: 'denied', reason: what, setting: SETTING_CREDENTIALS };
  if (status === 404) return { kind: 'key-unusable', reason: `${what} (key not found)`, setting: SETTING_KEY };
  // 400 is both FAILED_PRECONDITION (key version disabled/destroyed) and INVALID_ARGUMENT (bad
  // ciphertext or AAD); unwrapKey tells them apart with a probe encrypt.
  if (status === 400) {
    return op === 'decrypt'
      ? { kind: 'invalid-ciphertext', reason: what, setting: SETTING_KEY }
      : { kind: 'key-unusable', reason: `${what} (key disabled or destroyed)`, setting: SETTING_KEY };
  }
  if (status === 408 || status === 429 || status >= 500) return { kind: 'transient', reason: what, setting: ADDRESS };
  return { kind: 'failed', reason: what, setting: SETTING_KEY };
}
