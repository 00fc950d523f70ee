// A fake AWS KMS speaking the JSON 1.1 protocol (`X-Amz-Target: TrentService.<Op>`) for Encrypt,
// Decrypt and GenerateDataKey, with real SigV4 verification, key states and AWS error shapes, so
// the unmodified @aws-sdk/client-kms can be tested against it. Test-only.
import { randomBytes, randomUUID } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import { FakeHttpServer, type FakeReply } from './fake-http.js';
import { open, seal } from './sealed-box.js';
import { verifySigV4 } from './sigv4.js';

export type FakeKmsKeyState = 'Enabled' | 'Disabled' | 'PendingDeletion';

interface FakeKmsKey {
  readonly arn: string;
  readonly id: string;
  readonly material: Buffer;
  state: FakeKmsKeyState;
  /** Access key ids allowed to use the key (the key policy); undefined = every known caller. */
  allowed: Set<string> | undefined;
}

export interface FakeAwsKmsOptions {
  readonly region?: string;
  readonly accountId?: string;
}

const MAGIC = Buffer.from('FKMS');

const error = (status: number, type: string, message: string): FakeReply => ({
  status,
  headers: { 'x-amzn-errortype': type },
  body: { __type: type, message },
});

/** AWS's AAD for a context: the pairs sorted by key (the order callers send them must not matter). */
function contextAad(ctx: unknown): Buffer | undefined {
  if (ctx === undefined || ctx === null) return Buffer.from('[]');
  if (typeof ctx !== 'object' || Array.isArray(ctx)) return undefined;
  const pairs = Object.entries(ctx as Record<string, unknown>);
  if (pairs.some(([, v]) => typeof v !== 'string')) return undefined;
  return Buffer.from(JSON.stringify(pairs.sort((a, b) => (a[0] < b[0] ? -1 : 1))));
}

export class FakeAwsKms extends FakeHttpServer {
  readonly region: string;
  readonly accountId: string;
  readonly #credentials = new Map<string, string>();
  readonly #keys = new Map<string, FakeKmsKey>();
  /** The EncryptionContext of every successful Encrypt/Decrypt, newest last. */
  readonly contexts: Record<string, string>[] = [];
  /** The operation of every authenticated request, in order. */
  readonly operations: string[] = [];

  constructor(options: FakeAwsKmsOptions = {}) {
    super();
    this.region = options.region ?? 'us-east-1';
    this.accountId = options.accountId ?? '111122223333';
  }

  /** Registers an IAM access key pair the fake accepts. */
  addCredentials(accessKeyId: string, secretAccessKey: string): void {
    this.#credentials.set(accessKeyId, secretAccessKey);
  }

  /** Creates a symmetric key and returns its ARN. */
  createKey(allowedAccessKeys?: readonly string[]): string {
    const id = randomUUID();
    const arn = `arn:aws:kms:${this.region}:${this.accountId}:key/${id}`;
    this.#keys.set(arn, { arn, id, material: randomBytes(32), state: 'Enabled', allowed: allowedAccessKeys === undefined ? undefined : new Set(allowedAccessKeys) });
    return arn;
  }

  setKeyState(arn: string, state: FakeKmsKeyState): void {
    this.#key(arn)!.state = state;
  }

  /** Removes the key entirely (as after its deletion window). */
  deleteKey(arn: string): void {
    this.#keys.delete(arn);
  }

  #key(ref: unknown): FakeKmsKey | undefined {
    if (typeof ref !== 'string') return undefined;
    return this.#keys.get(ref) ?? [...this.#keys.values()].find((k) => k.id === ref);
  }

  protected handle(req: IncomingMessage, body: Buffer): FakeReply {
    if (req.method !== 'POST') return error(400, 'UnknownOperationException', 'only POST is supported');
    const auth = verifySigV4(req, body, 'kms', this.#credentials);
    if (!auth.ok) return error(auth.type === 'InvalidSignatureException' || auth.type === 'UnrecognizedClientException' ? 400 : 403, auth.type, auth.message);
    const target = req.headers['x-amz-target'];
    const op = typeof target === 'string' && target.startsWith('TrentService.') ? target.slice('TrentService.'.length) : '';
    this.operations.push(op);
    let input: Record<string, unknown>;
    try {
      input = JSON.parse(body.toString('utf8')) as Record<string, unknown>;
    } catch {
      return error(400, 'SerializationException', 'body is not JSON');
    }
    switch (op) {
      case 'Encrypt':
      case 'GenerateDataKey':
        return this.#encrypt(op, input, auth.accessKeyId);
      case 'Decrypt':
        return this.#decrypt(input, auth.accessKeyId);
      default:
        return error(400, 'UnknownOperationException', 'operation not supported by the fake');
    }
  }

  #usable(key: FakeKmsKey | undefined, ref: unknown, op: string, caller: string): FakeReply | undefined {
    if (key === undefined) return error(400, 'NotFoundException', `Key '${String(ref)}' does not exist`);
    if (key.allowed !== undefined && !key.allowed.has(caller)) {
      return error(400, 'AccessDeniedException', `User: arn:aws:iam::${this.accountId}:user/${caller} is not authorized to perform: kms:${op} on resource: ${key.arn}`);
    }
    if (key.state === 'Disabled') return error(400, 'DisabledException', `${key.arn} is disabled.`);
    if (key.state === 'PendingDeletion') return error(400, 'KMSInvalidStateException', `${key.arn} is pending deletion.`);
    return undefined;
  }

  #encrypt(op: string, input: Record<string, unknown>, caller: string): FakeReply {
    const key = this.#key(input.KeyId);
    const refused = this.#usable(key, input.KeyId, op, caller);
    if (refused !== undefined) return refused;
    const aad = contextAad(input.EncryptionContext);
    if (aad === undefined) return error(400, 'ValidationException', 'EncryptionContext must map strings to strings');
    let plaintext: Buffer;
    if (op === 'GenerateDataKey') {
      plaintext = randomBytes(typeof input.NumberOfBytes === 'number' ? input.NumberOfBytes : 32);
    } else {
      if (typeof input.Plaintext !== 'string') return error(400, 'ValidationException', 'Plaintext is required');
      plaintext = Buffer.from(input.Plaintext, 'base64');
      if (plaintext.length === 0 || plaintext.length > 4096) return error(400, 'ValidationException', 'Plaintext must be 1 to 4096 bytes');
    }
    const id = Buffer.from(key!.id, 'ascii');
    const blob = Buffer.concat([MAGIC, Buffer.of(id.length), id, seal(key!.material, plaintext, aad)]);
    this.contexts.push({ ...(input.EncryptionContext as Record<string, string> | undefined) });
    return {
      status: 200,
      body: {
        CiphertextBlob: blob.toString('base64'),
        KeyId: key!.arn,
        EncryptionAlgorithm: 'SYMMETRIC_DEFAULT',
        ...(op === 'GenerateDataKey' ? { Plaintext: plaintext.toString('base64') } : {}),
      },
    };
  }

  #decrypt(input: Record<string, unknown>, caller: string): FakeReply {
    if (typeof input.CiphertextBlob !== 'string') return error(400, 'ValidationException', 'CiphertextBlob is required');
    const blob = Buffer.from(input.CiphertextBlob, 'base64');
    const invalid = error(400, 'InvalidCiphertextException', '');
    if (blob.length < 5 || !blob.subarray(0, 4).equals(MAGIC) || blob.length < 5 + blob[4]!) return invalid;
    const embedded = blob.subarray(5, 5 + blob[4]!).toString('ascii');
    const key = this.#key(embedded);
    if (input.KeyId !== undefined) {
      const named = this.#key(input.KeyId);
      if (named === undefined) return error(400, 'NotFoundException', `Key '${String(input.KeyId)}' does not exist`);
      if (key === undefined || named.arn !== key.arn) return error(400, 'IncorrectKeyException', 'The key ID in the request does not identify a KMS key that can perform this operation.');
    }
    const refused = this.#usable(key, embedded, 'Decrypt', caller);
    if (refused !== undefined) return refused;
    const aad = contextAad(input.EncryptionContext);
    if (aad === undefined) return error(400, 'ValidationException', 'EncryptionContext must map strings to strings');
    const plaintext = open(key!.material, blob.subarray(5 + blob[4]!), aad);
    if (plaintext === undefined) return invalid;
    this.contexts.push({ ...(input.EncryptionContext as Record<string, string> | undefined) });
    return { status: 200, body: { Plaintext: plaintext.toString('base64'), KeyId: key!.arn, EncryptionAlgorithm: 'SYMMETRIC_DEFAULT' } };
  }
}
