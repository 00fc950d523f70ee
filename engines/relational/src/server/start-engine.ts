// Starts the relational engine from its frozen config: kernel services (policy, authenticators,
// TLS, keyring, audit, data-directory lock), the tenant backends, the wire port and the ops port.
// `close()` drains sessions (57P01), closes tenants and kernel within the shutdown deadline.
import type { AddressInfo } from 'node:net';
import {
  type KernelServices,
  type Logger,
  type OpsServer,
  registerTenantKeyCommands,
  startKernel,
  startOpsServer,
  type WeftKitConfig,
} from '@weftkit/kernel';
import { TenantShredded } from '../errors.js';
import { RelationalMetrics } from '../ops/metrics.js';
import { loadClassifier } from '../session/classify/index.js';
import { hasKeyAdmin, type TenantManager } from '../tenant/tenant-backend.js';
import { WireServer } from './wire-server.js';

export interface RelationalEngineOptions {
  readonly logger: Logger;
  /** Wire SIGHUP to reload users, roles and TLS (the process entry point: yes; tests: no). */
  readonly handleSignals?: boolean;
  /** Opens the tenant backends once the kernel (keyring) is up. */
  readonly openTenants: (kernel: KernelServices) => Promise<TenantManager>;
  /** Longest wait for sessions to finish their running statement at close (default 5 s). */
  readonly drainMs?: number;
  /** Sockets allowed before authentication (default twice the connection limit, at least 64). */
  readonly maxPendingConnections?: number;
  /** TEST ONLY: skip authorization layer one so tests can prove layer two alone. */
  readonly bypassClassifierForTests?: boolean;
}

export interface RelationalEngine {
  readonly address: AddressInfo;
  readonly opsAddress: AddressInfo;
  readonly kernel: KernelServices;
  readonly tenants: TenantManager;
  readonly metrics: RelationalMetrics;
  readonly wire: WireServer;
  /** Stops accepting, tells sessions 57P01, closes tenants, keys and audit. */
  close(): Promise<void>;
}

export async function startRelationalEngine(config: WeftKitConfig, options: RelationalEngineOptions): Promise<RelationalEngine> {
  const { logger } = options;
  const kernel = await startKernel(config, { logger, ...(options.handleSignals === undefined ? {} : { handleSignals: options.handleSignals }) });
  const cleanups: (() => Promise<void>)[] = [() => kernel.close()];
  const unwind = async (): Promise<void> => {
    for (const c of cleanups.splice(0).reverse()) await c().catch(() => undefined);
  };
  try {
    await loadClassifier();
    const tenants = await options.openTenants(kernel);
    cleanups.push(() => tenants.close());
    const metrics = new RelationalMetrics();
    const wire = new WireServer({
      host: config.listen.host,
      port: config.listen.port,
      auth: {
        ...(kernel.password === undefined ? {} : { password: kernel.password }),
        ...(kernel.users === undefined ? {} : { users: kernel.users }),
        ...(kernel.jwt === undefined ? {} : { jwt: kernel.jwt }),
        ...(kernel.mtls === undefined ? {} : { mtls: kernel.mtls }),
        ...(kernel.insecure === undefined ? {} : { insecure: kernel.insecure }),
        ...(kernel.audit === undefined ? {} : { audit: kernel.audit }),
        insecureDev: config.insecureDev,
      },
      ...(kernel.tls === undefined ? {} : { tls: kernel.tls }),
      tlsRequired: config.tlsRequired,
      limits: config.limits,
      tenants,
      authz: kernel.policy,
      logger,
      metrics,
      ...(options.bypassClassifierForTests === true ? { bypassClassifierForTests: true } : {}),
      ...(options.maxPendingConnections === undefined ? {} : { maxPendingConnections: options.maxPendingConnections }),
    });
    const address = await wire.listen();
    cleanups.push(() => wire.close(0));

    let stopping = false;
    const encryptionReady = config.encryption.mode === 'off' || kernel.keyring !== undefined;
    const ready = (): boolean => !stopping && wire.listening && encryptionReady;
    const tls = kernel.tls;
    if (tls !== undefined) {
      metrics.gauge('weftkit_relational_tls_certificate_expiry_seconds', 'Seconds until the serving certificate expires.', () =>
        Math.round((tls.notAfter.getTime() - Date.now()) / 1000),
      );
    }
    metrics.sampledCounter(
      'weftkit_relational_classifier_seconds_total',
      'Time spent classifying statements (authorization layer one), cache hits included.',
      () => wire.classifierStats().seconds,
    );
    metrics.sampledCounter('weftkit_relational_classifier_calls_total', 'Statements classified (Query texts and Parse messages).', () => wire.classifierStats().calls);
    metrics.sampledCounter('weftkit_relational_classifier_exact_hits_total', 'Classifications answered from the cache by exact SQL text.', () => wire.classifierStats().exactHits);
    metrics.sampledCounter(
      'weftkit_relational_classifier_shape_hits_total',
      'Classifications answered from the cache by shape (the same text but for integer literals).',
      () => wire.classifierStats().shapeHits,
    );
    metrics.gauge('weftkit_relational_connections', 'Open client sockets on the wire port, authenticated or not.', () => wire.stats().sockets);
    metrics.gauge('weftkit_relational_sessions', 'Connections past the startup phase (counted against WEFTKIT_MAX_CONNECTIONS).', () => wire.stats().sessions);
    metrics.gauge('weftkit_relational_tenants_open', 'Tenant backends open.', () => tenants.stats().open);
    if (hasKeyAdmin(tenants)) {
      const keys = tenants;
      metrics.sampledCounter('weftkit_relational_reencrypt_bytes_total', 'Bytes rewritten under a new data key since start (DEK rotation).', () => keys.reencryptedBytes);
      metrics.labeledGauge('weftkit_relational_reencrypt_segments_remaining', 'PGDATA files of an open tenant still under an older data key version.', () =>
        keys.reencryptRemaining().map((t) => ({ labels: { tenant: t.tenant }, value: t.files })),
      );
      metrics.labeledGauge('weftkit_relational_reencrypt_bytes_remaining', 'Bytes of PGDATA files of an open tenant still under an older data key version.', () =>
        keys.reencryptRemaining().map((t) => ({ labels: { tenant: t.tenant }, value: t.bytes })),
      );
      const operations = {
        shred: (tenant: string) => keys.shred(tenant),
        rotateDek: (tenant: string, o: { readonly bytesPerSecond?: number }) => keys.rotateDek(tenant, o),
        status: () => keys.keyStatus(),
        get reencryptedBytes(): number {
          return keys.reencryptedBytes;
        },
      };
      registerTenantKeyCommands(kernel.admin, operations, (tenant) =>
        wire.closeTenantSessions(tenant, new TenantShredded('this tenant was shredded; its data no longer exists')),
      );
    }
    metrics.gauge('weftkit_relational_ready', '1 when the wire port listens and the keys are open.', () => (ready() ? 1 : 0));
    const ops: OpsServer = await startOpsServer({ host: config.ops.host, port: config.ops.port, metrics, ready });
    cleanups.push(() => ops.close());

    let closing: Promise<void> | undefined;
    const close = async (): Promise<void> => {
      stopping = true;
      cleanups.length = 0;
      try {
        await wire.close(options.drainMs ?? 5000);
      } finally {
        await tenants.close().catch((err: unknown) => logger.error('closing tenants failed', { error: err }));
        await ops.close();
        await kernel.close();
      }
    };
    return {
      address,
      opsAddress: ops.address,
      kernel,
      tenants,
      metrics,
      wire,
      close: () => {
        closing ??= close();
        return closing;
      },
    };
  } catch (err) {
    await unwind();
    throw err;
  }
}

