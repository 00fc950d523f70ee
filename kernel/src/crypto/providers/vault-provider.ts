import { KeyUnwrapFailed } from '../../errors.js';
import { type KeyProvider, type WrapContext, wrapContextAad } from '../key-provider.js';
import { type Classified, callWithRetry, errorFor, networkCode, PermanentFailure, type RemoteCall } from './remote-call.js';
import type { RemoteProviderDeps } from './remote-provider-deps.js';

export interface VaultProviderOptions {
  /** WEFTKIT_VAULT_ADDR, e.g. https://vault.internal:8200. */
  readonly addr: string;
  /** WEFTKIT_VAULT_TRANSIT_KEY: an aes256-gcm96 (or other AEAD) transit key. */
  readonly transitKey: string;
  /** WEFTKIT_VAULT_TRANSIT_MOUNT (default `transit`). */
  readonly transitMount?: string;
  /** WEFTKIT_VAULT_NAMESPACE: sent as X-Vault-Namespace (Vault Enterprise / HCP). */
  readonly namespace?: string;
  /** WEFTKIT_VAULT_TOKEN; exactly one of `token` and `appRole`. */
  readonly token?: string;
  /** WEFTKIT_VAULT_ROLE_ID / WEFTKIT_VAULT_SECRET_ID: AppRole login, token renewed by logging in again before it expires. */
  readonly appRole?: { readonly roleId: string; readonly secretId: string };
}

interface VaultClient {
  token?: string | undefined;
  write(path: string, data: unknown, requestOptions?: { timeout?: number }): Promise<unknown>;
}

interface Login {
  readonly token: string;
  /** When to log in again: two thirds into the token's TTL (never, for a TTL of 0). */
  readonly renewAt: number;
}

const NAME = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,127}$/;
const MOUNT = /^[A-Za-z0-9][A-Za-z0-9_./-]{0,255}$/;
const CIPHERTEXT = /^vault:v[0-9]+:[A-Za-z0-9+/=]+$/;

function statusOf(err: unknown): number | undefined {
  const s = (err as { response?: { statusCode?: unknown } } | undefined)?.response?.statusCode;
  return typeof s === 'number' ? s : undefined;
}

function vaultMessage(err: unknown): string {
  const errors = (err as { response?: { body?: { errors?: unknown } } } | undefined)?.response?.body?.errors;
  return Array.isArray(errors) && typeof errors[0] === 'string' ? errors[0] : '';
}

/**
 * The `vault` provider: HashiCorp Vault (or OpenBao) transit encrypt/decrypt of each key, the wrap
 * context sent as `associated_data` (AAD of the AEAD transit key, Vault 1.13+), so a wrapped key
 * only decrypts for the keyring, tenant and version it was made for.
 */
export class VaultKeyProvider implements KeyProvider {
  readonly kind = 'vault';
  readonly keyId: string;
  readonly #client: VaultClient;
  readonly #options: VaultProviderOptions;
  readonly #mount: string;
  readonly #deps: RemoteProviderDeps;
  #login: Login | undefined;
  #loggingIn: Promise<Login> | undefined;
  #closed = false;

  private constructor(client: VaultClient, options: VaultProviderOptions, mount: string, deps: RemoteProviderDeps) {
    this.#client = client;
    this.#options = options;
    this.#mount = mount;
    this.#deps = deps;
    this.keyId = `vault:${options.namespace ? `${options.namespace}/` : ''}${mount}/keys/${options.transitKey}`;
  }

  /** Validates the settings and loads node-vault (only now: engines on other providers never load it). */
  static async create(options: VaultProviderOptions, deps: RemoteProviderDeps): Promise<VaultKeyProvider> {
    const bad = (reason: string, setting: string): never => {
      throw errorFor('vault', { kind: 'misconfigured', reason, setting });
    };
    if (!URL.canParse(options.addr) || !/^https?:$/.test(new URL(options.addr).protocol)) bad('the address is not an http(s) URL', 'WEFTKIT_VAULT_ADDR');
    if (!NAME.test(options.transitKey)) bad('the transit key name is not valid', 'WEFTKIT_VAULT_TRANSIT_KEY');
    const mount = (options.transitMount ?? 'transit').replace(/^\/+|\/+$/g, '');
    if (!MOUNT.test(mount) || mount.includes('..')) bad('the transit mount path is not valid', 'WEFTKIT_VAULT_TRANSIT_MOUNT');
    const hasToken = options.token !== undefined && options.token !== '';
    const hasRole = options.appRole !== undefined && options.appRole.roleId !== '' && options.appRole.secretId !== '';
    if (hasToken === hasRole) bad('set either a token or an AppRole role id and secret id', 'WEFTKIT_VAULT_TOKEN or WEFTKIT_VAULT_ROLE_ID with WEFTKIT_VAULT_SECRET_ID');
    const { default: createVault } = await import('node-vault');
    const client = createVault({
      apiVersion: 'v1',
      endpoint: options.addr,
      // An empty string, not undefined: node-vault would otherwise fall back to process.env.VAULT_TOKEN.
      token: options.token ?? '',
      ...(options.namespace ? { namespace: options.namespace } : {}),
    }) as unknown as VaultClient;
    return new VaultKeyProvider(client, options, mount, deps) satisfies KeyProvider;
  }

  async wrapKey(dek: Buffer, context: WrapContext): Promise<Buffer> {
    const body = { plaintext: dek.toString('base64'), associated_data: wrapContextAad(context).toString('base64') };
    const res = await this.#call('encrypt', body);
    const ciphertext = (res as { data?: { ciphertext?: unknown } } | undefined)?.data?.ciphertext;
    if (typeof ciphertext !== 'string' || !CIPHERTEXT.test(ciphertext)) {
      throw errorFor('vault', { kind: 'failed', reason: 'transit encrypt returned no ciphertext', setting: 'WEFTKIT_VAULT_ADDR' });
    }
    return Buffer.from(ciphertext, 'utf8');
  }

  async unwrapKey(wrapped: Buffer, context: WrapContext): Promise<Buffer> {
    const ciphertext = wrapped.toString('utf8');
    if (!CIPHERTEXT.test(ciphertext)) throw new KeyUnwrapFailed('key unwrap failed');
    const res = await this.#call('decrypt', { ciphertext, associated_data: wrapContextAad(context).toString('base64') });
    const plaintext = (res as { data?: { plaintext?: unknown } } | undefined)?.data?.plaintext;
    if (typeof plaintext !== 'string' || plaintext.length === 0) throw new KeyUnwrapFailed('key unwrap failed');
    return Buffer.from(plaintext, 'base64');
  }

  async close(): Promise<void> {
    this.#closed = true;
    this.#login = undefined;
    this.#client.token = '';
  }

  #call(op: 'encrypt' | 'decrypt', body: Record<string, string>): Promise<unknown> {
    if (this.#closed) return Promise.reject(errorFor('vault', { kind: 'failed', reason: 'the provider is closed', setting: 'the caller' }));
    const call: RemoteCall = {
      provider: 'vault',
      operation: `transit ${op}`,
      addressSetting: 'WEFTKIT_VAULT_ADDR',
      classify: (err) => this.#classify(err, op),
      retry: this.#deps.retry ?? {},
      logger: this.#deps.logger,
    };
    const path = `${this.#mount}/${op}/${this.#options.transitKey}`;
    return callWithRetry(call, async (_signal, timeout) => {
      if (this.#options.appRole === undefined) return this.#client.write(path, body, { timeout });
      let login = await this.#currentLogin(timeout);
      try {
        this.#client.token = login.token;
        return await this.#client.write(path, body, { timeout });
      } catch (err) {
        // A revoked or expired AppRole token: log in once more, then let a second 403 stand.
        if (statusOf(err) !== 403 || this.#login !== login) throw err;
        this.#login = undefined;
        login = await this.#currentLogin(timeout);
        this.#client.token = login.token;
        return await this.#client.write(path, body, { timeout });
      }
    });
  }

  /** The AppRole token, logging in (once for all concurrent callers) when there is none or it is due. */
  async #currentLogin(timeout: number): Promise<Login> {
    const login = this.#login;
    if (login !== undefined && Date.now() < login.renewAt) return login;
    this.#loggingIn ??= this.#logIn(timeout).finally(() => {
      this.#loggingIn = undefined;
    });
    return this.#loggingIn;
  }

  async #logIn(timeout: number): Promise<Login> {
    const role = this.#options.appRole!;
    let res: unknown;
    try {
      this.#client.token = '';
      res = await this.#client.write('auth/approle/login', { role_id: role.roleId, secret_id: role.secretId }, { timeout });
    } catch (err) {
      const status = statusOf(err);
      if (status === 400 || status === 403) {
        throw new PermanentFailure({ kind: 'denied', reason: `AppRole login refused (HTTP ${status})`, setting: 'WEFTKIT_VAULT_ROLE_ID and WEFTKIT_VAULT_SECRET_ID' });
      }
      throw err;
    }
    const auth = (res as { auth?: { client_token?: unknown; lease_duration?: unknown } } | undefined)?.auth;
    if (typeof auth?.client_token !== 'string' || auth.client_token === '') {
      throw new PermanentFailure({ kind: 'failed', reason: 'AppRole login returned no token', setting: 'WEFTKIT_VAULT_ADDR' });
    }
    const ttl = typeof auth.lease_duration === 'number' && auth.lease_duration > 0 ? auth.lease_duration * 1000 : 0;
    const login: Login = { token: auth.client_token, renewAt: ttl === 0 ? Number.POSITIVE_INFINITY : Date.now() + (ttl * 2) / 3 };
    this.#login = login;
    return login;
  }

  #classify(err: unknown, op: 'encrypt' | 'decrypt'): Classified {
    const net = networkCode(err);
    if (net !== undefined) return { kind: 'transient', reason: `cannot reach Vault (${net})`, setting: 'WEFTKIT_VAULT_ADDR' };
    const status = statusOf(err);
    if (status === undefined) return { kind: 'transient', reason: 'no answer from Vault', setting: 'WEFTKIT_VAULT_ADDR' };
    const message = vaultMessage(err);
    const http = `transit ${op} failed with HTTP ${status}`;
    if (status === 429 || status === 412 || status >= 500) {
      return { kind: 'transient', reason: `${http}${/sealed/i.test(message) ? ' (Vault is sealed)' : ''}`, setting: 'WEFTKIT_VAULT_ADDR' };
    }
    if (status === 401 || status === 403) {
      const credentials = this.#options.appRole === undefined ? 'WEFTKIT_VAULT_TOKEN' : 'WEFTKIT_VAULT_ROLE_ID';
      return {
        kind: 'denied',
        reason: `${http} (permission denied)`,
        setting: `${credentials} and its policy (update on ${this.#mount}/${op}/${this.#options.transitKey})${this.#options.namespace ? ' and WEFTKIT_VAULT_NAMESPACE' : ''}`,
      };
    }
    if (status === 404) return { kind: 'misconfigured', reason: `${http} (no such path)`, setting: 'WEFTKIT_VAULT_TRANSIT_MOUNT' };
    if (/key not found|deleted|no key/i.test(message)) {
      return { kind: 'key-unusable', reason: `${http} (transit key not found)`, setting: 'WEFTKIT_VAULT_TRANSIT_KEY' };
    }
    if (op === 'decrypt' && /authentication failed|invalid ciphertext|decrypt/i.test(message)) {
      return { kind: 'invalid-ciphertext', reason: http, setting: 'WEFTKIT_VAULT_TRANSIT_KEY' };
    }
    if (/associated|unsupported|convergent|derived|context/i.test(message)) {
      return { kind: 'misconfigured', reason: `${http} (the transit key must be an AEAD key such as aes256-gcm96, not derived)`, setting: 'WEFTKIT_VAULT_TRANSIT_KEY' };
    }
    return { kind: 'failed', reason: http, setting: 'WEFTKIT_VAULT_TRANSIT_KEY' };
  }
}
