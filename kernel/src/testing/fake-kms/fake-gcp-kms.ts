// A fake Google Cloud KMS speaking the REST API (`POST /v1/{cryptoKey}:encrypt|decrypt`, base64
// bytes, Google JSON errors) with Bearer-token checking and additionalAuthenticatedData enforced,
// for testing the unmodified @google-cloud/kms client in REST fallback mode. Test-only.
import { randomBytes } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import { FakeHttpServer, type FakeReply } from './fake-http.js';
import { open, seal } from './sealed-box.js';

export type FakeGcpKeyState = 'ENABLED' | 'DISABLED' | 'DESTROYED';

interface FakeCryptoKey {
  readonly versions: Buffer[];
  state: FakeGcpKeyState;
}

const MAGIC = Buffer.from('FGCP');
const STATUS: Readonly<Record<number, string>> = {
  400: 'INVALID_ARGUMENT',
  401: 'UNAUTHENTICATED',
  403: 'PERMISSION_DENIED',
  404: 'NOT_FOUND',
};

const error = (status: number, message: string, grpcStatus?: string): FakeReply => ({
  status,
  body: { error: { code: status, message, status: grpcStatus ?? STATUS[status] ?? 'UNKNOWN' } },
});

export class FakeGcpKms extends FakeHttpServer {
  readonly #tokens = new Map<string, readonly string[] | undefined>();
  readonly #keys = new Map<string, FakeCryptoKey>();
  /** The AAD of every successful call, newest last. */
  readonly aads: Buffer[] = [];
  /** Successful decrypts. */
  decrypts = 0;

  /** An OAuth access token the fake accepts, optionally limited to some key names (its IAM roles). */
  addToken(token: string, keys?: readonly string[]): void {
    this.#tokens.set(token, keys);
  }

  /** Creates `projects/<project>/locations/<location>/keyRings/<ring>/cryptoKeys/<key>` and returns the name. */
  createKey(project = 'p', location = 'global', ring = 'weftkit', key = `k${randomBytes(3).toString('hex')}`): string {
    const name = `projects/${project}/locations/${location}/keyRings/${ring}/cryptoKeys/${key}`;
    this.#keys.set(name, { versions: [randomBytes(32)], state: 'ENABLED' });
    return name;
  }

  setKeyState(name: string, state: FakeGcpKeyState): void {
    this.#keys.get(name)!.state = state;
  }

  protected handle(req: IncomingMessage, body: Buffer): FakeReply {
    const auth = req.headers.authorization;
    const bearer = typeof auth === 'string' && auth.startsWith('Bearer ') ? auth.slice(7) : undefined;
    if (bearer === undefined || !this.#tokens.has(bearer)) {
      return error(401, 'Request had invalid authentication credentials. Expected OAuth 2 access token.');
    }
    const path = decodeURIComponent(new URL(req.url ?? '/', 'http://fake').pathname);
    const m = /^\/v1\/(projects\/[^/]+\/locations\/[^/]+\/keyRings\/[^/]+\/cryptoKeys\/[^/:]+):(encrypt|decrypt)$/.exec(path);
    if (req.method !== 'POST' || m === null) return error(404, 'no such method');
    const [, name, op] = m as unknown as [string, string, 'encrypt' | 'decrypt'];
    const allowed = this.#tokens.get(bearer);
    if (allowed !== undefined && !allowed.includes(name)) {
      return error(403, `Permission 'cloudkms.cryptoKeyVersions.use${op === 'encrypt' ? 'ToEncrypt' : 'ToDecrypt'}' denied on resource '${name}' (or it may not exist).`);
    }
    const key = this.#keys.get(name);
    if (key === undefined) return error(404, `CryptoKey ${name} not found.`);
    if (key.state !== 'ENABLED') return error(400, `${name}/cryptoKeyVersions/1 is not enabled, current state is: ${key.state}.`, 'FAILED_PRECONDITION');
    let input: Record<string, unknown>;
    try {
      input = JSON.parse(body.toString('utf8')) as Record<string, unknown>;
    } catch {
      return error(400, 'Invalid JSON payload received.');
    }
    const aad = typeof input.additionalAuthenticatedData === 'string' ? Buffer.from(input.additionalAuthenticatedData, 'base64') : Buffer.alloc(0);
    if (op === 'encrypt') {
      if (typeof input.plaintext !== 'string') return error(400, 'plaintext is required.');
      const version = key.versions.length;
      const box = Buffer.concat([MAGIC, Buffer.of(version), seal(key.versions[version - 1]!, Buffer.from(input.plaintext, 'base64'), aad)]);
      this.aads.push(aad);
      return { status: 200, body: { name: `${name}/cryptoKeyVersions/${version}`, ciphertext: box.toString('base64') } };
    }
    const invalid = error(400, 'Decryption failed: the ciphertext is invalid.');
    const box = typeof input.ciphertext === 'string' ? Buffer.from(input.ciphertext, 'base64') : Buffer.alloc(0);
    if (box.length < 5 || !box.subarray(0, 4).equals(MAGIC)) return invalid;
    const material = key.versions[box[4]! - 1];
    const plaintext = material === undefined ? undefined : open(material, box.subarray(5), aad);
    if (plaintext === undefined) return invalid;
    this.aads.push(aad);
    this.decrypts++;
    return { status: 200, body: { plaintext: plaintext.toString('base64'), usedPrimary: true } };
  }
}
