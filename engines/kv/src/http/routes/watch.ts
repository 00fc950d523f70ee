// GET /watch?prefix=&from_revision=: changes as server-sent events, filtered per key by the
// policy in force when each event arrives. Heartbeats keep proxies and idle timers from cutting
// the stream; shutdown ends every stream cleanly.
import { Action } from '@weftkit/kernel';
import type { FastifyInstance } from 'fastify';
import type { ServerResponse } from 'node:http';
import { InvalidRequest } from '../../errors.js';
import type { ChangeEvent } from '../../store/kv-store.js';
import { checkPrefix } from '../item-key.js';
import { elapsedMs, type RouteDeps, stateOf } from '../request-state.js';
import { watchRoute } from '../schemas.js';

/** A stream that has this much unsent data is cut: the client does not keep up. */
const MAX_BUFFERED_BYTES = 8 * 1024 * 1024;

/** The open watch streams, so shutdown can end them. */
export class WatchHub {
  readonly #open = new Set<() => void>();

  get size(): number {
    return this.#open.size;
  }

  add(end: () => void): () => void {
    this.#open.add(end);
    return () => this.#open.delete(end);
  }

  /** Ends every stream (they get a final `event: shutdown`). */
  endAll(): void {
    for (const end of [...this.#open]) end();
  }
}

function eventText(e: ChangeEvent): string {
  const data = JSON.stringify({
    revision: e.revision,
    type: e.type,
    key: e.key,
    version: e.version,
    ...(e.size === undefined ? {} : { size: e.size }),
    ...(e.contentType === undefined ? {} : { content_type: e.contentType }),
  });
  return `id: ${e.revision}\nevent: ${e.type}\ndata: ${data}\n\n`;
}

function fromRevision(query: { from_revision?: number }, lastEventId: string | string[] | undefined): number | null {
  if (query.from_revision !== undefined) return query.from_revision;
  if (lastEventId === undefined) return null;
  if (typeof lastEventId !== 'string' || !/^\d{1,15}$/.test(lastEventId.trim())) throw new InvalidRequest('Last-Event-ID must be a revision');
  return Number(lastEventId.trim());
}

export function registerWatchRoute(app: FastifyInstance, deps: RouteDeps): void {
  app.route({
    method: 'GET',
    url: '/watch',
    schema: watchRoute.schema,
    handler: async (request, reply) => {
      const state = stateOf(request);
      const query = request.query as { prefix?: unknown; from_revision?: number };
      const prefix = checkPrefix(query.prefix);
      const from = fromRevision(query, request.headers['last-event-id']);
      const filter = deps.access.readFilter(state, () => deps.policies.policy);
      if (filter === 'none') throw await deps.access.denied(state, Action.SELECT, 'kv.watch', prefix);
      const tenant = await deps.store.tenant(state.ctx.tenant);

      let res: ServerResponse | null = null;
      const pending: string[] = [];
      const send = (text: string): void => {
        if (res === null) {
          pending.push(text);
          return;
        }
        res.write(text);
        if (res.writableLength > MAX_BUFFERED_BYTES) res.destroy();
      };
      // Replayed events may arrive before the headers are out; they wait in `pending`.
      const stop = tenant.watch(prefix, from, (event) => {
        if (filter === 'all' || filter(event.key)) send(eventText(event));
      });
      try {
        await deps.audit.read(state.ctx, 'kv.watch', prefix, 'success', elapsedMs(state), { from_revision: from });
      } catch (err) {
        stop();
        throw err;
      }

      reply.hijack();
      const raw = reply.raw;
      raw.writeHead(200, {
        'content-type': 'text/event-stream; charset=utf-8',
        'cache-control': 'no-store',
        connection: 'close',
        'x-request-id': request.id,
        'x-accel-buffering': 'no',
      });
      raw.write(`retry: 2000\n: watching from revision ${tenant.revision}\n\n`);
      res = raw;
      for (const text of pending.splice(0)) send(text);
      deps.metrics.request('/watch', 'GET', 200, elapsedMs(state) / 1000);

      const heartbeat = setInterval(() => raw.write(': heartbeat\n\n'), deps.heartbeatMs);
      heartbeat.unref();
      let closed = false;
      const cleanup = (): void => {
        if (closed) return;
        closed = true;
        clearInterval(heartbeat);
        stop();
        forget();
      };
      const forget = deps.watches.add(() => {
        if (!raw.writableEnded) raw.end('event: shutdown\ndata: {}\n\n');
        cleanup();
      });
      raw.on('close', cleanup);
      raw.on('error', cleanup);
    },
  });
}
