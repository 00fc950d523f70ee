// Starts the kv engine from its frozen config: kernel services (policy, authenticators, TLS,
// keyring, audit), the store, the REST API and the ops port; `close()` drains and stops them.
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
import { buildKvApp } from './http/app.js';
import type { HttpTimeouts } from './http/listener.js';
import { KvMetrics } from './ops/metrics.js';
import { hasTenantStats } from './open-store.js';
import type { KvStore } from './store/kv-store.js';

export const KV_VERSION = '0.1.0';

export interface KvServerOptions {
  readonly logger: Logger;
  /** Wire SIGHUP to reload users, roles and TLS (the process entry point: yes; tests: no). */
  readonly handleSignals?: boolean;
  /** Opens the storage once the kernel (keyring) is up. */
  readonly openStore: (kernel: KernelServices) => Promise<KvStore>;
  /** Overrides of the timeouts derived from the config (tests shorten them). */
  readonly timeouts?: Partial<HttpTimeouts>;
  /** Watch heartbeat interval (default 15 s). */
  readonly heartbeatMs?: number;
  /** Longest wait for in-flight requests at close before their connections are cut (default 8 s). */
  readonly drainMs?: number;
}

export interface KvServer {
  /** `https://host:port` (or `http://` without TLS). */
  readonly url: string;
  readonly address: AddressInfo;
  readonly opsAddress: AddressInfo;
  readonly kernel: KernelServices;
  readonly store: KvStore;
  readonly metrics: KvMetrics;
  /** Stops accepting, drains in-flight requests, ends watches, closes store, keys and audit. */
  close(): Promise<void>;
}

/** Timeouts from the config: the head within the startup timeout, the whole request within 30 s. */
export function defaultTimeouts(config: WeftKitConfig): HttpTimeouts {
  const headersMs = config.limits.startupTimeoutSeconds * 1000;
  return {
    headersMs,
    requestMs: Math.max(headersMs, 30_000),
    keepAliveMs: 30_000,
    idleMs: 60_000,
    handshakeMs: headersMs,
  };
}

function urlOf(host: string, port: number, tls: boolean): string {
  const shown = host === '0.0.0.0' || host === '::' ? '127.0.0.1' : host.includes(':') ? `[${host}]` : host;
  return `${tls ? 'https' : 'http'}://${shown}:${port}`;
}

export async function startKvServer(config: WeftKitConfig, options: KvServerOptions): Promise<KvServer> {
  const { logger } = options;
  const kernel = await startKernel(config, { logger, ...(options.handleSignals === undefined ? {} : { handleSignals: options.handleSignals }) });
  const cleanups: (() => Promise<void>)[] = [() => kernel.close()];
  const unwind = async (): Promise<void> => {
    for (const c of cleanups.splice(0).reverse()) await c().catch(() => undefined);
  };
  try {
    const store = await options.openStore(kernel);
    cleanups.push(() => store.close());
    const metrics = new KvMetrics();
    const timeouts = { ...defaultTimeouts(config), ...options.timeouts };
    const app = buildKvApp({
      kernel,
      store,
      metrics,
      logger,
      timeouts,
      maxValueBytes: config.limits.maxValueBytes,
      maxConnections: config.limits.maxConnections,
      heartbeatMs: options.heartbeatMs ?? Math.min(15_000, Math.floor(timeouts.idleMs / 2)),
      version: KV_VERSION,
    });
    cleanups.push(() => app.fastify.close());
    await app.fastify.listen({ host: config.listen.host, port: config.listen.port });
    const address = app.fastify.server.address() as AddressInfo;

    let ready = true;
    const tls = kernel.tls;
    if (tls !== undefined) {
      metrics.gauge('weftkit_kv_tls_certificate_expiry_seconds', 'Seconds until the serving certificate expires.', () => [
        { value: Math.round((tls.notAfter.getTime() - Date.now()) / 1000) },
      ]);
    }
    metrics.gauge('weftkit_kv_open_connections', 'Open connections on the API port.', () => [{ value: app.connections() }]);
    metrics.gauge('weftkit_kv_watch_streams', 'Open watch streams.', () => [{ value: app.watches.size }]);
    metrics.gauge('weftkit_kv_ready', '1 when the store and keys are open and the API listens.', () => [{ value: ready ? 1 : 0 }]);
    if (hasTenantStats(store)) {
      metrics.gauge('weftkit_kv_store_revision', 'Latest committed revision per open tenant.', () =>
        store.tenantStats().map((t) => ({ labels: { tenant: t.tenant }, value: t.revision })),
      );
      metrics.gauge('weftkit_kv_store_file_bytes', 'Bytes of log files per open tenant.', () =>
        store.tenantStats().map((t) => ({ labels: { tenant: t.tenant }, value: t.fileBytes })),
      );
      metrics.gauge('weftkit_kv_store_live_bytes', 'Bytes of live items per open tenant.', () =>
        store.tenantStats().map((t) => ({ labels: { tenant: t.tenant }, value: t.liveBytes })),
      );
      const keys = store.keys;
      metrics.counter('weftkit_reencrypt_bytes_total', 'Bytes rewritten under a new data key since start (DEK rotation).', () => [
        { value: keys.reencryptedBytes },
      ]);
      metrics.gauge('weftkit_reencrypt_segments_remaining', 'Log files of an open tenant still under an older data key version.', () =>
        keys.segmentsRemaining().map((t) => ({ labels: { tenant: t.tenant }, value: t.segments })),
      );
      registerTenantKeyCommands(kernel.admin, keys);
    }
    const ops: OpsServer = await startOpsServer({ host: config.ops.host, port: config.ops.port, metrics, ready: () => ready });
    cleanups.push(() => ops.close());

    let closing: Promise<void> | undefined;
    const drainMs = options.drainMs ?? 8_000;
    const close = async (): Promise<void> => {
      ready = false;
      app.beginShutdown();
      // In-flight requests finish; connections still busy after the drain window are cut.
      const cut = setTimeout(() => app.fastify.server.closeAllConnections(), drainMs);
      cut.unref();
      try {
        await app.fastify.close();
      } finally {
        clearTimeout(cut);
      }
      await ops.close();
      await store.close();
      await kernel.close();
      cleanups.length = 0;
    };
    return {
      url: urlOf(config.listen.host, address.port, tls !== undefined),
      address,
      opsAddress: ops.address,
      kernel,
      store,
      metrics,
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
