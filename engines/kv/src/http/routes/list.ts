// GET /items?prefix=&limit=&cursor=: one page of keys, only those the caller may read.
import { Action } from '@weftkit/kernel';
import type { FastifyInstance } from 'fastify';
import { checkPrefix } from '../item-key.js';
import { itemMetaJson } from '../item-json.js';
import { elapsedMs, type RouteDeps, stateOf } from '../request-state.js';
import { listItemsRoute } from '../schemas.js';

const ALL = (): boolean => true;

export function registerListRoute(app: FastifyInstance, deps: RouteDeps): void {
  app.route({
    method: 'GET',
    url: '/items',
    schema: listItemsRoute.schema,
    handler: async (request) => {
      const state = stateOf(request);
      const query = request.query as { prefix?: unknown; limit: number; cursor?: string };
      const prefix = checkPrefix(query.prefix);
      const filter = deps.access.readFilter(state);
      // A caller whose roles allow SELECT nowhere gets a 403, not a silently empty list.
      if (filter === 'none') throw await deps.access.denied(state, Action.SELECT, 'kv.list', prefix);
      const tenant = await deps.store.tenant(state.ctx.tenant);
      const page = await tenant.list(prefix, query.limit, query.cursor ?? null, filter === 'all' ? ALL : filter);
      await deps.audit.read(state.ctx, 'kv.list', prefix, 'success', elapsedMs(state), { items: page.items.length });
      return { items: page.items.map(itemMetaJson), next_cursor: page.nextCursor };
    },
  });
}
