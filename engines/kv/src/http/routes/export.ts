// GET /export?prefix=: every live item under a prefix as NDJSON, in key order, for keys the caller
// may COPY TO. Pages through the store a few items at a time, waits for the socket to drain and
// yields to the event loop, so neither memory nor other requests suffer from a large export.
// Audit: a `data_export` start event is durable before the first byte goes out; a completion
// event with the item count and bytes is durable before the stream ends.
import { Action } from '@weftkit/kernel';
import type { FastifyInstance } from 'fastify';
import type { ServerResponse } from 'node:http';
import type { Item, ListPage, TenantStore } from '../../store/kv-store.js';
import { expiresAtText } from '../item-json.js';
import { checkPrefix } from '../item-key.js';
import { elapsedMs, type RequestState, type RouteDeps, stateOf } from '../request-state.js';
import { exportRoute } from '../schemas.js';

/** Keys fetched per store `list` call. */
const PAGE_SIZE = 128;
/** The handler gives the event loop a turn after this many items or bytes. */
const YIELD_ITEMS = 32;
const YIELD_BYTES = 1024 * 1024;

const ALL = (): boolean => true;

function lineOf(item: Item): string {
  return `${JSON.stringify({
    key: item.key,
    version: item.version,
    content_type: item.contentType,
    expires_at: expiresAtText(item.expiresAt),
    value_base64: item.value.toString('base64'),
  })}\n`;
}

/** Resolves true on 'drain', false if the response closes first. */
function drained(res: ServerResponse): Promise<boolean> {
  return new Promise((resolve) => {
    const done = (ok: boolean): void => {
      res.off('drain', onDrain);
      res.off('close', onClose);
      resolve(ok);
    };
    const onDrain = (): void => done(true);
    const onClose = (): void => done(false);
    res.on('drain', onDrain);
    res.on('close', onClose);
  });
}

const nextTurn = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

interface Progress {
  items: number;
  bytes: number;
}

/** Writes every item after `first`; resolves true when all were written, false when the client went away. */
async function stream(
  res: ServerResponse,
  tenant: TenantStore,
  prefix: string,
  include: (key: string) => boolean,
  first: ListPage,
  progress: Progress,
): Promise<boolean> {
  let page = first;
  let sinceYieldItems = 0;
  let sinceYieldBytes = 0;
  for (;;) {
    for (const meta of page.items) {
      if (res.destroyed) return false;
      // Deleted or expired since the page was listed: not exported.
      const item = await tenant.get(meta.key);
      if (item === null) continue;
      const line = lineOf(item);
      const size = Buffer.byteLength(line);
      progress.items++;
      progress.bytes += size;
      sinceYieldItems++;
      sinceYieldBytes += size;
      if (!res.write(line) && !(await drained(res))) return false;
      if (sinceYieldItems >= YIELD_ITEMS || sinceYieldBytes >= YIELD_BYTES) {
        // Cached values resolve as microtasks, which alone would never let I/O run.
        await nextTurn();
        sinceYieldItems = 0;
        sinceYieldBytes = 0;
      }
    }
    if (page.nextCursor === null) return !res.destroyed;
    page = await tenant.list(prefix, PAGE_SIZE, page.nextCursor, include);
  }
}

async function finish(deps: RouteDeps, state: RequestState, prefix: string, progress: Progress, ok: boolean): Promise<void> {
  await deps.audit.exported(state.ctx, 'kv.export.end', prefix, ok ? 'success' : 'failure', elapsedMs(state), {
    items: progress.items,
    bytes: progress.bytes,
    completed: ok,
  });
}

export function registerExportRoute(app: FastifyInstance, deps: RouteDeps): void {
  app.route({
    method: 'GET',
    url: '/export',
    schema: exportRoute.schema,
    handler: async (request, reply) => {
      const state = stateOf(request);
      const query = request.query as { prefix?: unknown };
      const prefix = checkPrefix(query.prefix);
      const filter = deps.access.keyFilter(state, Action.COPY_TO);
      if (filter === 'none') throw await deps.access.denied(state, Action.COPY_TO, 'kv.export', prefix);
      const include = filter === 'all' ? ALL : filter;
      const tenant = await deps.store.tenant(state.ctx.tenant);
      // The first page is read before anything is sent, so a store failure still gets an error reply.
      const first = await tenant.list(prefix, PAGE_SIZE, null, include);
      await deps.audit.exported(state.ctx, 'kv.export.start', prefix, 'success', elapsedMs(state));

      reply.hijack();
      const raw = reply.raw;
      raw.writeHead(200, {
        'content-type': 'application/x-ndjson',
        'cache-control': 'no-store',
        'x-request-id': request.id,
        'x-accel-buffering': 'no',
      });
      deps.metrics.request('/export', 'GET', 200, elapsedMs(state) / 1000);

      const progress: Progress = { items: 0, bytes: 0 };
      let ok = false;
      try {
        ok = await stream(raw, tenant, prefix, include, first, progress);
      } catch (err) {
        deps.logger.error('export failed mid-stream', { request_id: request.id, err });
      }
      try {
        await finish(deps, state, prefix, progress, ok);
      } catch (err) {
        deps.logger.error('export audit failed', { request_id: request.id, err });
        ok = false;
      }
      // An export that did not complete, or whose completion is not audited, ends without the
      // chunked terminator, so the client can tell it is incomplete.
      if (ok) raw.end();
      else raw.destroy();
    },
  });
}
