// The ops port both engines serve: plain HTTP, no authentication, no data. Probes and Prometheus.
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

/** Anything that renders Prometheus text (each engine has its own metrics). */
export interface MetricsSource {
  render(): string;
}

export interface OpsServerOptions {
  readonly host: string;
  readonly port: number;
  readonly metrics: MetricsSource;
  /** True once the engine serves (keys open, port listening); false again while stopping. */
  readonly ready: () => boolean;
}

export interface OpsServer {
  readonly address: AddressInfo;
  close(): Promise<void>;
}

export async function startOpsServer(options: OpsServerOptions): Promise<OpsServer> {
  const server: Server = createServer({ requestTimeout: 10_000, headersTimeout: 5_000, keepAliveTimeout: 5_000 }, (req, res) => {
    const path = (req.url ?? '/').split('?', 1)[0];
    const send = (status: number, body: string, type = 'text/plain; charset=utf-8'): void => {
      res.writeHead(status, { 'content-type': type, 'cache-control': 'no-store', 'content-length': Buffer.byteLength(body) });
      res.end(req.method === 'HEAD' ? undefined : body);
    };
    if (req.method !== 'GET' && req.method !== 'HEAD') return send(405, 'method not allowed\n');
    if (path === '/healthz') return send(200, 'ok\n');
    if (path === '/readyz') return options.ready() ? send(200, 'ready\n') : send(503, 'not ready\n');
    if (path === '/metrics') return send(200, options.metrics.render(), 'text/plain; version=0.0.4; charset=utf-8');
    return send(404, 'not found\n');
  });
  server.setTimeout(30_000);
  server.maxConnections = 64;
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port, options.host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  return {
    address: server.address() as AddressInfo,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
