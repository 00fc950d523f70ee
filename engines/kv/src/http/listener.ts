// The node server under fastify: HTTP/1.1 over TLS 1.3 when credentials are configured (plain HTTP
// only without them), with every timeout and the connection cap set, so slow or numerous clients
// are cut instead of holding the process.
import { createServer as createHttpServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import type { TlsCredentials } from '@weftkit/kernel';

export interface HttpTimeouts {
  /** Whole request head (request line and headers) must arrive within this (slowloris). */
  readonly headersMs: number;
  /** Whole request, body included, must arrive within this. */
  readonly requestMs: number;
  /** An idle keep-alive connection is closed after this. */
  readonly keepAliveMs: number;
  /** A socket with no traffic either way is closed after this (watch streams send heartbeats). */
  readonly idleMs: number;
  /** TLS handshake must finish within this. */
  readonly handshakeMs: number;
}

export interface ListenerOptions {
  readonly tls?: TlsCredentials;
  readonly timeouts: HttpTimeouts;
  readonly maxConnections: number;
}

type Handler = (req: IncomingMessage, res: ServerResponse) => void;

export function createListener(handler: Handler, options: ListenerOptions): Server {
  const { timeouts, tls } = options;
  const common = {
    requestTimeout: timeouts.requestMs,
    headersTimeout: Math.min(timeouts.headersMs, timeouts.requestMs),
    keepAliveTimeout: timeouts.keepAliveMs,
    // Node checks the two timeouts above only this often (30 s by default).
    connectionsCheckingInterval: Math.max(50, Math.min(1000, Math.floor(timeouts.headersMs / 2))),
    noDelay: true,
    maxHeaderSize: 16 * 1024,
  };
  let server: Server;
  if (tls === undefined) {
    server = createHttpServer(common, handler);
  } else {
    // Key, certificate, CA and the TLS 1.3 bounds come from `attach`, which also applies SIGHUP reloads.
    const https = createHttpsServer(
      {
        ...common,
        minVersion: 'TLSv1.3',
        maxVersion: 'TLSv1.3',
        requestCert: tls.requestCert,
        rejectUnauthorized: tls.rejectUnauthorized,
        handshakeTimeout: timeouts.handshakeMs,
        ALPNProtocols: ['http/1.1'],
      },
      handler,
    );
    tls.attach(https);
    server = https;
  }
  server.setTimeout(timeouts.idleMs);
  server.maxConnections = options.maxConnections;
  return server;
}
