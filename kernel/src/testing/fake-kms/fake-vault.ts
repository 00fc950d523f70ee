// A fake HashiCorp Vault with the transit engine (encrypt/decrypt with `associated_data`, key
// versions), token checking (X-Vault-Token, 403 otherwise), AppRole login with token TTLs and
// namespaces (X-Vault-Namespace), for testing the unmodified node-vault client. Test-only.
import { randomBytes } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import { FakeHttpServer, type FakeReply } from './fake-http.js';
import { open, seal } from './sealed-box.js';

interface FakeToken {
  readonly namespace: string;
  readonly expiresAt: number;
  /** Transit key names this token's policy allows; undefined = all. */
  readonly keys: readonly string[] | undefined;
}

export interface FakeTokenOptions {
  readonly namespace?: string;
  readonly ttlSeconds?: number;
  readonly keys?: readonly string[];
}

const errors = (status: number, ...messages: string[]): FakeReply => ({ status, body: { errors: messages } });

export class FakeVault extends FakeHttpServer {
  readonly #tokens = new Map<string, FakeToken>();
  readonly #roles = new Map<string, { secretId: string; options: FakeTokenOptions }>();
  readonly #keys = new Map<string, Buffer[]>();
  readonly #issued = new Set<string>();
  sealed = false;
  /** Successful AppRole logins. */
  logins = 0;
  /** Successful transit decrypts. */
  decrypts = 0;

  addToken(token: string, options: FakeTokenOptions = {}): void {
    this.#tokens.set(token, {
      namespace: options.namespace ?? '',
      expiresAt: options.ttlSeconds === undefined ? Number.POSITIVE_INFINITY : Date.now() + options.ttlSeconds * 1000,
      keys: options.keys,
    });
  }

  revokeToken(token: string): void {
    this.#tokens.delete(token);
  }

  /** Revokes every token an AppRole login issued. */
  revokeLoginTokens(): void {
    for (const t of this.#issued) this.#tokens.delete(t);
    this.#issued.clear();
  }

  /** An AppRole whose login issues tokens with `options`. */
  addAppRole(roleId: string, secretId: string, options: FakeTokenOptions = {}): void {
    this.#roles.set(roleId, { secretId, options });
  }

  /** Creates (or rotates, adding a version to) transit key `name` at `mount` in `namespace`. */
  rotateKey(name: string, mount = 'transit', namespace = ''): void {
    const id = `${namespace}|${mount}|${name}`;
    this.#keys.set(id, [...(this.#keys.get(id) ?? []), randomBytes(32)]);
  }

  deleteKey(name: string, mount = 'transit', namespace = ''): void {
    this.#keys.delete(`${namespace}|${mount}|${name}`);
  }

  protected handle(req: IncomingMessage, body: Buffer): FakeReply {
    if (this.sealed) return errors(503, 'Vault is sealed');
    const namespace = typeof req.headers['x-vault-namespace'] === 'string' ? req.headers['x-vault-namespace'].replace(/^\/+|\/+$/g, '') : '';
    const path = new URL(req.url ?? '/', 'http://fake').pathname;
    let input: Record<string, unknown> = {};
    if (body.length > 0) {
      try {
        input = JSON.parse(body.toString('utf8')) as Record<string, unknown>;
      } catch {
        return errors(400, 'failed to parse JSON input');
      }
    }
    if (req.method === 'POST' && path === '/v1/auth/approle/login') return this.#login(input, namespace);
    const header = req.headers['x-vault-token'];
    const token = typeof header === 'string' ? this.#tokens.get(header) : undefined;
    if (token === undefined || token.expiresAt <= Date.now() || token.namespace !== namespace) return errors(403, 'permission denied');
    const m = /^\/v1\/(.+)\/(encrypt|decrypt)\/([^/]+)$/.exec(path);
    if (req.method !== 'POST' || m === null) return errors(404, 'no handler for route');
    const [, mount, op, name] = m as unknown as [string, string, 'encrypt' | 'decrypt', string];
    if (token.keys !== undefined && !token.keys.includes(name)) return errors(403, 'permission denied');
    const versions = this.#keys.get(`${namespace}|${mount}|${name}`);
    const aad = typeof input.associated_data === 'string' ? Buffer.from(input.associated_data, 'base64') : Buffer.alloc(0);
    if (op === 'encrypt') {
      // Encrypting under a missing key would create it (upsert): that needs `create`, which the
      // documented policy does not grant.
      if (versions === undefined) return errors(403, 'permission denied');
      if (typeof input.plaintext !== 'string') return errors(400, 'missing plaintext to encrypt');
      const box = seal(versions[versions.length - 1]!, Buffer.from(input.plaintext, 'base64'), aad);
      return { status: 200, body: { data: { ciphertext: `vault:v${versions.length}:${box.toString('base64')}`, key_version: versions.length } } };
    }
    if (versions === undefined) return errors(400, 'encryption key not found');
    const c = typeof input.ciphertext === 'string' ? /^vault:v(\d+):([A-Za-z0-9+/=]+)$/.exec(input.ciphertext) : null;
    if (c === null) return errors(400, 'invalid ciphertext: no prefix');
    const key = versions[Number(c[1]) - 1];
    if (key === undefined) return errors(400, 'invalid ciphertext: key version is disallowed by policy (too old)');
    const plaintext = open(key, Buffer.from(c[2]!, 'base64'), aad);
    if (plaintext === undefined) return errors(400, 'cipher: message authentication failed');
    this.decrypts++;
    return { status: 200, body: { data: { plaintext: plaintext.toString('base64') } } };
  }

  #login(input: Record<string, unknown>, namespace: string): FakeReply {
    const role = typeof input.role_id === 'string' ? this.#roles.get(input.role_id) : undefined;
    if (role === undefined || role.secretId !== input.secret_id || (role.options.namespace ?? '') !== namespace) {
      return errors(400, 'invalid role or secret ID');
    }
    const token = `hvs.${randomBytes(18).toString('base64url')}`;
    this.addToken(token, role.options);
    this.#issued.add(token);
    this.logins++;
    return {
      status: 200,
      body: { auth: { client_token: token, lease_duration: role.options.ttlSeconds ?? 0, renewable: true, policies: ['weftkit'] } },
    };
  }
}
