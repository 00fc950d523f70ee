import { KeyUnwrapFailed } from '../../errors.js';
import type { KeyProvider, WrapContext } from '../key-provider.js';
import { type Classified, callWithRetry, errorFor, networkCode, type RemoteCall } from './remote-call.js';
import type { RemoteProviderDeps } from './remote-provider-deps.js';

export interface AwsKmsProviderOptions {
  /** WEFTKIT_KMS_KEY_ARN: key ARN (or alias ARN) of a symmetric encryption key. */
  readonly keyArn: string;
  /** WEFTKIT_KMS_REGION. */
  readonly region: string;
  /** WEFTKIT_KMS_ENDPOINT: a VPC endpoint, FIPS endpoint or a local test server. */
  readonly endpoint?: string;
  /**
   * Static credentials (tests). Unset: the SDK's default chain (AWS_* variables, profile, web
   * identity, container or instance role), read by the AWS SDK itself.
   */
  readonly credentials?: { readonly accessKeyId: string; readonly secretAccessKey: string; readonly sessionToken?: string };
}

interface KmsSdk {
  send(command: unknown, options: { abortSignal: AbortSignal }): Promise<Record<string, unknown>>;
  destroy(): void;
}

type CommandClass = new (input: Record<string, unknown>) => unknown;

const ARN = /^arn:aws[a-z-]*:kms:([a-z0-9-]+):[0-9]{12}:(?:key|alias)\/.+$/;
const SETTING_KEY = 'WEFTKIT_KMS_KEY_ARN';
const SETTING_CREDENTIALS = 'the AWS credentials (AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY, AWS_PROFILE or the workload role) and the key policy of WEFTKIT_KMS_KEY_ARN';

const DENIED = new Set([
  'AccessDeniedException',
  'UnrecognizedClientException',
  'InvalidSignatureException',
  'IncompleteSignatureException',
  'MissingAuthenticationTokenException',
  'ExpiredTokenException',
  'InvalidClientTokenId',
  'SignatureDoesNotMatch',
  'InvalidGrantTokenException',
]);
const UNUSABLE = new Set(['DisabledException', 'NotFoundException', 'KMSInvalidStateException', 'InvalidKeyUsageException']);
const INVALID_CIPHERTEXT = new Set(['InvalidCiphertextException', 'IncorrectKeyException']);
const TRANSIENT = new Set([
  'ThrottlingException',
  'LimitExceededException',
  'KMSInternalException',
  'DependencyTimeoutException',
  'KeyUnavailableException',
  'ServiceUnavailableException',
  'InternalFailure',
  'RequestTimeout',
  'RequestTimeoutException',
  'TimeoutError',
  'AbortError',
]);

/** The wrap context as an AWS encryption context: string pairs that KMS binds as AAD and logs in CloudTrail. */
export function awsEncryptionContext(context: WrapContext): Record<string, string> {
  return {
    'weftkit:keyring': context.keyringId,
    'weftkit:purpose': context.purpose,
    ...(context.tenant === undefined ? {} : { 'weftkit:tenant': context.tenant }),
    ...(context.keyVersion === undefined ? {} : { 'weftkit:key-version': String(context.keyVersion) }),
  };
}

/** The `kms` provider: AWS KMS Encrypt/Decrypt of each key with the wrap context as encryption context. */
export class AwsKmsKeyProvider implements KeyProvider {
  readonly kind = 'kms';
  readonly keyId: string;
  readonly #client: KmsSdk;
  readonly #encrypt: CommandClass;
  readonly #decrypt: CommandClass;
  readonly #keyArn: string;
  readonly #deps: RemoteProviderDeps;

  private constructor(client: KmsSdk, encrypt: CommandClass, decrypt: CommandClass, keyArn: string, deps: RemoteProviderDeps) {
    this.#client = client;
    this.#encrypt = encrypt;
    this.#decrypt = decrypt;
    this.#keyArn = keyArn;
    this.#deps = deps;
    this.keyId = `kms:${keyArn}`;
  }

  /** Validates the settings and loads @aws-sdk/client-kms (only now). */
  static async create(options: AwsKmsProviderOptions, deps: RemoteProviderDeps): Promise<AwsKmsKeyProvider> {
    const bad = (reason: string, setting: string): never => {
      throw errorFor('kms', { kind: 'misconfigured', reason, setting });
    };
    if (options.keyArn.trim() === '' || /\s/.test(options.keyArn)) bad('the key ARN is empty or contains spaces', SETTING_KEY);
    if (!/^[a-z]{2}(-[a-z]+)+-[0-9]+$/.test(options.region)) bad('the region is not a region name such as eu-west-1', 'WEFTKIT_KMS_REGION');
    const arnRegion = ARN.exec(options.keyArn)?.[1];
    if (arnRegion !== undefined && arnRegion !== options.region) bad(`the key is in region ${arnRegion}, not in the configured region`, 'WEFTKIT_KMS_REGION');
    if (options.endpoint !== undefined && !(URL.canParse(options.endpoint) && /^https?:$/.test(new URL(options.endpoint).protocol))) {
      bad('the endpoint is not an http(s) URL', 'WEFTKIT_KMS_ENDPOINT');
    }
    const sdk = await import('@aws-sdk/client-kms');
    const client = new sdk.KMSClient({
      region: options.region,
      // Retries are ours (one policy for every provider, bounded by the deadline).
      maxAttempts: 1,
      ...(options.endpoint === undefined ? {} : { endpoint: options.endpoint }),
      ...(options.credentials === undefined ? {} : { credentials: { ...options.credentials } }),
    });
    return new AwsKmsKeyProvider(
      client as unknown as KmsSdk,
      sdk.EncryptCommand as unknown as CommandClass,
      sdk.DecryptCommand as unknown as CommandClass,
      options.keyArn,
      deps,
    ) satisfies KeyProvider;
  }

  async wrapKey(dek: Buffer, context: WrapContext): Promise<Buffer> {
    const out = await this.#send('Encrypt', () => new this.#encrypt({ KeyId: this.#keyArn, Plaintext: dek, EncryptionContext: awsEncryptionContext(context) }));
    const blob = out.CiphertextBlob;
    if (!(blob instanceof Uint8Array) || blob.length === 0) {
      throw errorFor('kms', { kind: 'failed', reason: 'Encrypt returned no ciphertext', setting: SETTING_KEY });
    }
    return Buffer.from(blob);
  }

  async unwrapKey(wrapped: Buffer, context: WrapContext): Promise<Buffer> {
    if (wrapped.length === 0) throw new KeyUnwrapFailed('key unwrap failed');
    const out = await this.#send(
      'Decrypt',
      () => new this.#decrypt({ KeyId: this.#keyArn, CiphertextBlob: wrapped, EncryptionContext: awsEncryptionContext(context) }),
    );
    const plaintext = out.Plaintext;
    if (!(plaintext instanceof Uint8Array) || plaintext.length === 0) throw new KeyUnwrapFailed('key unwrap failed');
    const key = Buffer.from(plaintext);
    plaintext.fill(0);
    return key;
  }

  async close(): Promise<void> {
    this.#client.destroy();
  }

  #send(operation: string, command: () => unknown): Promise<Record<string, unknown>> {
    const call: RemoteCall = {
      provider: 'kms',
      operation,
      addressSetting: 'WEFTKIT_KMS_ENDPOINT (or the network path to AWS KMS in WEFTKIT_KMS_REGION)',
      classify: (err) => classifyAwsError(err, operation),
      retry: this.#deps.retry ?? {},
      logger: this.#deps.logger,
    };
    return callWithRetry(call, (signal) => this.#client.send(command(), { abortSignal: signal }));
  }
}

function classifyAwsError(err: unknown, operation: string): Classified {
  const address = 'WEFTKIT_KMS_ENDPOINT (or the network path to AWS KMS in WEFTKIT_KMS_REGION)';
  const net = networkCode(err);
  if (net !== undefined) return { kind: 'transient', reason: `cannot reach AWS KMS (${net})`, setting: address };
  const e = err as { name?: unknown; $metadata?: { httpStatusCode?: unknown }; $fault?: unknown } | undefined;
  const name = typeof e?.name === 'string' ? e.name : 'Error';
  const status = typeof e?.$metadata?.httpStatusCode === 'number' ? e.$metadata.httpStatusCode : undefined;
  const what = `${operation} failed with ${name}${status === undefined ? '' : ` (HTTP ${status})`}`;
  if (name === 'CredentialsProviderError') {
    return { kind: 'misconfigured', reason: 'no AWS credentials found by the SDK default chain', setting: SETTING_CREDENTIALS };
  }
  if (DENIED.has(name)) return { kind: 'denied', reason: what, setting: SETTING_CREDENTIALS };
  if (UNUSABLE.has(name)) return { kind: 'key-unusable', reason: what, setting: SETTING_KEY };
  if (INVALID_CIPHERTEXT.has(name)) return { kind: 'invalid-ciphertext', reason: what, setting: SETTING_KEY };
  if (TRANSIENT.has(name) || (status !== undefined && status >= 500) || status === 429) return { kind: 'transient', reason: what, setting: address };
  if (name === 'ValidationException' || name === 'InvalidArnException') return { kind: 'misconfigured', reason: what, setting: SETTING_KEY };
  if (status === undefined && e?.$fault === undefined) return { kind: 'transient', reason: `${operation} failed before an answer (${name})`, setting: address };
  return { kind: 'failed', reason: what, setting: SETTING_KEY };
}
