// The kv REST API as a fastify instance: request ids, per-request authentication, the error
// format, metrics and the routes.
import { randomUUID } from 'node:crypto';
import type { Socket } from 'node:net';
import type { KernelServices, Logger } from '@weftkit/kernel';
import Fastify, { type FastifyInstance } from 'fastify';
import { InvalidRequest, KeyInvalid, RouteNotFound, ShuttingDown } from '../errors.js';
import type { KvMetrics } from '../ops/metrics.js';
import type { KvStore } from '../store/kv-store.js';
import { AccessControl } from './access-control.js';
import { HttpAudit } from './audit-events.js';
import { RequestAuthenticator } from './authenticate.js';
import { errorReply } from './error-reply.js';
import { createListener, type HttpTimeouts } from './listener.js';
import { buildOpenApi } from './openapi.js';
import { parseQueryString } from './query-string.js';
import { requestIdOf } from './request-id.js';
import type { RouteDeps } from './request-state.js';
import { registerBatchRoute } from './routes/batch.js';
import { registerExportRoute } from './routes/export.js';
import { registerItemRoutes } from './routes/items.js';
import { registerListRoute } from './routes/list.js';
import { registerWatchRoute, WatchHub } from './routes/watch.js';
import { ROUTES } from './schemas.js';

export interface KvAppOptions {
  readonly kernel: KernelServices;
  readonly store: KvStore;
  readonly metrics: KvMetrics;
  readonly logger: Logger;
  readonly timeouts: HttpTimeouts;
  readonly maxValueBytes: number;
  readonly maxConnections: number;
  /** Interval of `: heartbeat` comments on watch streams. */
  readonly heartbeatMs: number;
  readonly version: string;
}

export interface KvApp {
  readonly fastify: FastifyInstance;
  readonly watches: WatchHub;
  /** Sockets currently open on the API port. */
  readonly connections: () => number;
  /** From now on every new request is answered 503 (while in-flight ones finish). */
  beginShutdown(): void;
}

function peerOf(socket: Socket): string {
  const addr = socket.remoteAddress ?? 'unknown';
  return `${addr.includes(':') ? `[${addr}]` : addr}:${socket.remotePort ?? 0}`;
}

export function buildKvApp(options: KvAppOptions): KvApp {
  const { kernel, metrics, logger } = options;
  const audit = new HttpAudit(kernel.audit);
  const access = new AccessControl(audit, metrics);
  const authenticator = new RequestAuthenticator(kernel, audit, metrics);
  const watches = new WatchHub();
  const connectionIds = new WeakMap<Socket, string>();
  let openSockets = 0;
  let closing = false;

  const app = Fastify({
    logger: false,
    serverFactory: (handler) => {
      const server = createListener(handler, {
        ...(kernel.tls === undefined ? {} : { tls: kernel.tls }),
        timeouts: options.timeouts,
        maxConnections: options.maxConnections,
      });
      server.on('connection', (socket: Socket) => {
        openSockets++;
        socket.once('close', () => openSockets--);
      });
      server.on('tlsClientError', (_err: Error, socket: Socket) => {
        metrics.tlsHandshakeError();
        socket.destroy();
      });
      return server;
    },
    // The router refuses URLs it cannot percent-decode before any hook runs; answered in our format.
    frameworkErrors: (err, request, reply) => {
      const bad = (request.raw.url ?? '').startsWith('/items') ? new KeyInvalid('key is not valid percent-encoded UTF-8') : new InvalidRequest('malformed request URL');
      const r = errorReply(err.code === 'FST_ERR_BAD_URL' ? bad : err, request.id, authenticator.challenge);
      const raw = reply.raw;
      const body = JSON.stringify(r.body);
      raw.writeHead(r.status, { 'x-request-id': request.id, 'content-type': 'application/json; charset=utf-8', 'content-length': Buffer.byteLength(body) });
      raw.end(body);
    },
    genReqId: (req) => requestIdOf(req.headers['x-request-id']),
    exposeHeadRoutes: false,
    return503OnClosing: false,
    forceCloseConnections: 'idle',
    bodyLimit: options.maxValueBytes,
    routerOptions: { maxParamLength: 4096, querystringParser: parseQueryString },
    ajv: { customOptions: { removeAdditional: false, coerceTypes: 'array', allErrors: false } },
  });
  app.decorateRequest('kv', null);
  // JSON is the only structured body (POST /batch); item values have their own catch-all parser.
  app.removeContentTypeParser('text/plain');

  const deps: RouteDeps = {
    store: options.store,
    access,
    audit,
    metrics,
    policies: kernel.policy,
    logger,
    maxValueBytes: options.maxValueBytes,
    watches,
    heartbeatMs: options.heartbeatMs,
  };

  const openapi = JSON.stringify(
    buildOpenApi(ROUTES, {
      version: options.version,
      bearer: kernel.jwt !== undefined,
      basic: kernel.password !== undefined || kernel.insecure !== undefined,
      mutualTls: kernel.mtls !== undefined,
    }),
  );

  app.addHook('onRequest', async (request, reply) => {
    const startedAt = performance.now();
    reply.header('x-request-id', request.id);
    if (closing) {
      reply.header('connection', 'close');
      throw new ShuttingDown('the server is shutting down');
    }
    if (request.routeOptions.url === '/openapi.json') return;
    const socket = request.raw.socket;
    let connectionId = connectionIds.get(socket);
    if (connectionId === undefined) {
      connectionId = randomUUID();
      connectionIds.set(socket, connectionId);
    }
    const ctx = await authenticator.authenticate({
      authorization: request.headers.authorization,
      socket,
      peer: peerOf(socket),
      connectionId,
      requestId: request.id,
    });
    request.kv = { ctx, policy: kernel.policy.policy, key: '', startedAt };
  });

  app.addHook('onResponse', async (request, reply) => {
    metrics.request(request.routeOptions.url ?? 'unmatched', request.method, reply.statusCode, reply.elapsedTime / 1000);
  });

  app.setErrorHandler(async (err, request, reply) => {
    const r = errorReply(err, request.id, authenticator.challenge);
    if (r.internal) {
      logger.error('request failed', { request_id: request.id, route: request.routeOptions.url, err });
    }
    reply.code(r.status).headers(r.headers).header('content-type', 'application/json; charset=utf-8');
    return reply.send(JSON.stringify(r.body));
  });

  app.setNotFoundHandler(async () => {
    throw new RouteNotFound('no such route');
  });

  app.get('/openapi.json', async (_request, reply) => {
    reply.header('content-type', 'application/json; charset=utf-8');
    return reply.send(openapi);
  });
  registerItemRoutes(app, deps);
  registerListRoute(app, deps);
  registerBatchRoute(app, deps);
  registerWatchRoute(app, deps);
  registerExportRoute(app, deps);

  app.addHook('preClose', async () => {
    watches.endAll();
  });

  return {
    fastify: app,
    watches,
    connections: () => openSockets,
    beginShutdown: () => {
      closing = true;
    },
  };
}
