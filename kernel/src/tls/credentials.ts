// The server's current TLS credentials, replaceable at run time (SIGHUP). Live connections keep the
// context they were made with; only new handshakes see a reloaded one.
import { createServer, type SecureContext, type Server, type TLSSocket } from 'node:tls';
import { type Logger, silentLogger } from '../log/logger.js';
import { loadTlsMaterial, type TlsMaterial, type TlsOptions } from './tls-material.js';

export interface TlsCredentialsDeps {
  readonly logger?: Logger;
  /** Clock for the validity check; tests only. */
  readonly now?: () => Date;
}

export class TlsCredentials {
  readonly #options: TlsOptions;
  readonly #logger: Logger;
  readonly #now: () => Date;
  readonly #servers = new Set<Server>();
  #material: TlsMaterial;
  #reloading: Promise<void> = Promise.resolve();

  private constructor(options: TlsOptions, material: TlsMaterial, deps: TlsCredentialsDeps) {
    this.#options = Object.freeze({ ...options });
    this.#material = material;
    this.#logger = deps.logger ?? silentLogger;
    this.#now = deps.now ?? (() => new Date());
  }

  /** Loads and checks the files; rejects with a coded error (expired, key mismatch, bad PEM, ...). */
  static async load(options: TlsOptions, deps: TlsCredentialsDeps = {}): Promise<TlsCredentials> {
    const material = await loadTlsMaterial(options, (deps.now ?? (() => new Date()))());
    return new TlsCredentials(options, material, deps);
  }

  /** The context for new handshakes (use it for `new tls.TLSSocket(...)`; see `upgradeToTls`). */
  get secureContext(): SecureContext {
    return this.#material.context;
  }

  /** Expiry of the serving certificate, for metrics. */
  get notAfter(): Date {
    return new Date(this.#material.notAfter.getTime());
  }

  get notBefore(): Date {
    return new Date(this.#material.notBefore.getTime());
  }

  get requestCert(): boolean {
    return this.#options.requestClientCert;
  }

  get rejectUnauthorized(): boolean {
    return this.#options.rejectUnauthorized;
  }

  /** A TLS 1.3-only server on these credentials, kept up to date by `reload()`. */
  createServer(listener?: (socket: TLSSocket) => void): Server {
    const server = createServer(
      {
        ...this.#material.contextOptions,
        requestCert: this.#options.requestClientCert,
        rejectUnauthorized: this.#options.rejectUnauthorized,
      },
      listener,
    );
    this.#track(server);
    return server;
  }

  /** Keeps an existing `tls.Server` on the current credentials until it closes. */
  attach(server: Server): void {
    if (this.#servers.has(server)) return;
    server.setSecureContext(this.#material.contextOptions);
    this.#track(server);
  }

  #track(server: Server): void {
    this.#servers.add(server);
    server.once('close', () => this.#servers.delete(server));
  }

  /**
   * Re-reads cert, key and CA. On success new handshakes use them and live connections are
   * untouched; on failure this rejects with the coded error and the old credentials keep serving.
   */
  reload(): Promise<void> {
    const next = this.#reloading.then(() => this.#reloadNow());
    this.#reloading = next.catch(() => undefined);
    return next;
  }

  async #reloadNow(): Promise<void> {
    let material: TlsMaterial;
    try {
      material = await loadTlsMaterial(this.#options, this.#now());
    } catch (err) {
      this.#logger.warn('TLS reload refused; keeping the current certificate', { error: err });
      throw err;
    }
    for (const server of this.#servers) server.setSecureContext(material.contextOptions);
    const old = this.#material;
    this.#material = material;
    old.contextOptions.key.fill(0);
    this.#logger.info('TLS certificate reloaded', { notAfter: material.notAfter.toISOString() });
  }
}
