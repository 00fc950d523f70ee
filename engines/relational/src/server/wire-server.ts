// The PostgreSQL-protocol listener: accepts sockets, bounds them (connections in startup, and
// authenticated sessions up to WEFTKIT_MAX_CONNECTIONS), and drains them on shutdown.
import { type AddressInfo, createServer, type Server, type Socket } from 'node:net';
import type { Logger, TlsCredentials } from '@weftkit/kernel';
import type { TenantManager } from '../tenant/tenant-backend.js';
import { ClassifierCache, type ClassifierCacheStats } from '../session/classify/index.js';
import type { PolicySource, SessionMetrics } from '../session/session.js';
import { TenantGates } from '../session/tenant-gate.js';
import type { AuthServices } from './authenticate.js';
import { CancelRegistry } from './cancel-registry.js';
import { Connection, type ConnectionMetrics } from './connection.js';

/** PostgreSQL's PQ_LARGE_MESSAGE_LIMIT, the parser's ceiling; the config allows one byte more. */
const MAX_PARSER_MESSAGE_BYTES = 0x3fffffff;

export interface WireServerLimits {
  /** Authenticated sessions at once (`WEFTKIT_MAX_CONNECTIONS`); one more gets 53300. */
  readonly maxConnections: number;
  readonly startupTimeoutSeconds: number;
  readonly idleInTransactionTimeoutSeconds: number;
  readonly maxMessageBytes: number;
  readonly sessionWaitTimeoutSeconds: number;
}

export interface WireServerOptions {
  readonly host: string;
  readonly port: number;
  readonly auth: AuthServices;
  readonly tls?: TlsCredentials;
  /** `WEFTKIT_TLS_REQUIRED`: refuse a plaintext StartupMessage. */
  readonly tlsRequired: boolean;
  readonly limits: WireServerLimits;
  readonly tenants: TenantManager;
  /** The live authorization policy (the kernel's PolicyHolder). */
  readonly authz: PolicySource;
  readonly logger: Logger;
  readonly metrics?: SessionMetrics & ConnectionMetrics;
  /** TEST ONLY: skip authorization layer one (see `SessionDeps.bypassClassifierForTests`). */
  readonly bypassClassifierForTests?: boolean;
  /**
   * Sockets allowed before authentication completes; further ones are closed at once. Half-open
   * sockets are also bounded by the startup timeout. Default: twice `maxConnections`, at least 64.
   */
  readonly maxPendingConnections?: number;
}

export interface WireServerStats {
  /** Open sockets, authenticated or not. */
  readonly sockets: number;
  /** Authenticated sessions. */
  readonly sessions: number;
}

export class WireServer {
  readonly #options: WireServerOptions;
  readonly #server: Server;
  readonly #connections = new Set<Connection>();
  readonly #cancels = new CancelRegistry();
  readonly #gates = new TenantGates();
  readonly #classifier = new ClassifierCache();
  #sessions = 0;
  #closing = false;
  #address: AddressInfo | undefined;

  constructor(options: WireServerOptions) {
    this.#options = options;
    this.#server = createServer({ noDelay: true, keepAlive: true, pauseOnConnect: true }, (socket) => this.#accept(socket));
    this.#server.on('error', (err) => options.logger.error('listener error', { error: err }));
  }

  /** Listens on host:port (port 0 picks a free one). */
  listen(): Promise<AddressInfo> {
    return new Promise((resolve, reject) => {
      const onError = (err: Error): void => reject(err);
      this.#server.once('error', onError);
      this.#server.listen(this.#options.port, this.#options.host, () => {
        this.#server.off('error', onError);
        this.#address = this.#server.address() as AddressInfo;
        resolve(this.#address);
      });
    });
  }

  get address(): AddressInfo | undefined {
    return this.#address;
  }

  get listening(): boolean {
    return this.#server.listening && !this.#closing;
  }

  stats(): WireServerStats {
    return { sockets: this.#connections.size, sessions: this.#sessions };
  }

  /** The statement classifier's counters (calls, cache hits, time spent). */
  classifierStats(): ClassifierCacheStats {
    return this.#classifier.stats;
  }

  /** Ends every session of `tenant` with `err` (FATAL), e.g. after the tenant was shredded. */
  async closeTenantSessions(tenant: string, err: unknown): Promise<void> {
    await Promise.allSettled([...this.#connections].filter((c) => c.tenant === tenant).map((c) => c.endSession(err)));
  }

  /**
   * Stops accepting, tells every session 57P01 once its running statement ends, rolls back and
   * releases what sessions hold; connections still open at `deadlineMs` are cut.
   */
  async close(deadlineMs = 5000): Promise<void> {
    if (this.#closing) return;
    this.#closing = true;
    const stopped = new Promise<void>((resolve) => this.#server.close(() => resolve()));
    const drain = Promise.allSettled([...this.#connections].map((c) => c.shutdown()));
    let timer: NodeJS.Timeout | undefined;
    const deadline = new Promise<void>((resolve) => {
      timer = setTimeout(resolve, deadlineMs);
    });
    await Promise.race([drain, deadline]);
    clearTimeout(timer);
    for (const c of this.#connections) c.destroy();
    await stopped;
  }

  #accept(socket: Socket): void {
    const o = this.#options;
    socket.on('error', () => {});
    const maxPending = o.maxPendingConnections ?? Math.max(64, o.limits.maxConnections * 2);
    if (this.#closing || this.#connections.size - this.#sessions >= maxPending) {
      socket.destroy();
      return;
    }
    const connection = new Connection(socket, {
      auth: o.auth,
      tls: o.tls,
      tlsRequired: o.tlsRequired,
      maxMessageBytes: Math.min(o.limits.maxMessageBytes, MAX_PARSER_MESSAGE_BYTES),
      startupTimeoutMs: o.limits.startupTimeoutSeconds * 1000,
      cancels: this.#cancels,
      admit: () => {
        if (this.#sessions >= o.limits.maxConnections) return false;
        this.#sessions++;
        return true;
      },
      leave: () => {
        this.#sessions--;
      },
      shuttingDown: () => this.#closing,
      session: {
        tenants: o.tenants,
        gates: this.#gates,
        authz: o.authz,
        classifier: this.#classifier,
        ...(o.auth.audit === undefined ? {} : { audit: o.auth.audit }),
        ...(o.bypassClassifierForTests === true ? { bypassClassifierForTests: true } : {}),
        limits: {
          sessionWaitTimeoutMs: o.limits.sessionWaitTimeoutSeconds * 1000,
          idleInTransactionTimeoutMs: o.limits.idleInTransactionTimeoutSeconds * 1000,
          maxBatchBytes: o.limits.maxMessageBytes,
        },
        logger: o.logger,
        ...(o.metrics === undefined ? {} : { metrics: o.metrics }),
      },
      logger: o.logger,
      ...(o.metrics === undefined ? {} : { metrics: o.metrics }),
    });
    this.#connections.add(connection);
    void connection.run().finally(() => {
      this.#connections.delete(connection);
    });
  }
}
