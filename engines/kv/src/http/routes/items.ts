// PUT / GET / HEAD / DELETE /items/{key}.
import { Action } from '@weftkit/kernel';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { InvalidRequest, ItemNotFound, PreconditionFailed } from '../../errors.js';
import type { ItemMeta, WriteOp } from '../../store/kv-store.js';
import { expiresAtText } from '../item-json.js';
import { keyFromUrl } from '../item-key.js';
import { etagOf, notModified, parseIfMatch, parseIfNoneMatchWrite, requestTtl } from '../preconditions.js';
import { elapsedMs, type RouteDeps, stateOf } from '../request-state.js';
import { deleteItemRoute, getItemRoute, headItemRoute, putItemRoute } from '../schemas.js';
import { applyOps, OpFailure } from '../writes.js';

const PREFIX = '/items/';
const DEFAULT_CONTENT_TYPE = 'application/octet-stream';
const CONTENT_TYPE = /^[\x21-\x7e][\x20-\x7e]{0,255}$/;

function header(request: FastifyRequest, name: string): string | undefined {
  const v = request.headers[name];
  if (Array.isArray(v)) throw new InvalidRequest(`${name} must be given once`);
  return v;
}

function metaHeaders(reply: FastifyReply, meta: ItemMeta): void {
  reply.header('etag', etagOf(meta.version));
  reply.header('x-weftkit-version', String(meta.version));
  if (meta.expiresAt !== null) reply.header('x-weftkit-expires-at', expiresAtText(meta.expiresAt));
  reply.header('cache-control', 'private, no-cache');
}

/** Single-op failures carry no op index. */
function unwrap(err: unknown): unknown {
  return err instanceof OpFailure ? err.cause : err;
}

export function registerItemRoutes(app: FastifyInstance, deps: RouteDeps): void {
  const { access, audit, store } = deps;

  // The key is decoded once from the raw URL: the router would otherwise decode it too.
  const parseKey = async (request: FastifyRequest): Promise<void> => {
    stateOf(request).key = keyFromUrl(request.raw.url ?? '', PREFIX.length);
  };

  app.register(async (scope) => {
    // Any media type is a value; limits are enforced while the body streams in.
    scope.removeAllContentTypeParsers();
    scope.addContentTypeParser('*', { parseAs: 'buffer', bodyLimit: deps.maxValueBytes }, (_req, body, done) => done(null, body));

    scope.route({
      method: 'PUT',
      url: '/items/*',
      schema: putItemRoute.schema,
      bodyLimit: deps.maxValueBytes,
      onRequest: [
        parseKey,
        // Refused before the body is read when no role allows writing this key at all.
        async (request) => {
          const state = stateOf(request);
          if (access.writeRight(state, state.key) === 'none') {
            throw await access.denied(state, Action.INSERT | Action.UPDATE, 'kv.put', state.key);
          }
        },
      ],
      handler: async (request, reply) => {
        const state = stateOf(request);
        const key = state.key;
        const value = Buffer.isBuffer(request.body) ? request.body : Buffer.alloc(0);
        const contentType = (header(request, 'content-type') ?? DEFAULT_CONTENT_TYPE).trim();
        if (!CONTENT_TYPE.test(contentType)) throw new InvalidRequest('Content-Type is not a valid media type');
        const ifMatch = parseIfMatch(header(request, 'if-match'));
        const ifNoneMatch = parseIfNoneMatchWrite(header(request, 'if-none-match'));
        if (ifMatch !== undefined && ifNoneMatch) throw new InvalidRequest('If-Match and If-None-Match cannot be combined');
        const ttlSeconds = requestTtl(header(request, 'x-weftkit-ttl-seconds'), (request.query as { ttl?: unknown }).ttl);
        const tenant = await store.tenant(state.ctx.tenant);
        let version: number | undefined;
        if (ifMatch?.kind === 'none') throw new PreconditionFailed('If-Match does not match the item');
        if (ifMatch?.kind === 'any') {
          const meta = await tenant.head(key);
          if (meta === null) throw new PreconditionFailed('If-Match: * but the item does not exist');
          version = meta.version;
        } else if (ifMatch?.kind === 'version') {
          version = ifMatch.version;
        }
        const op: WriteOp = {
          op: 'put',
          key,
          value,
          contentType,
          ...(version === undefined ? {} : { ifMatch: version }),
          ...(ifNoneMatch ? { ifNoneMatch: true } : {}),
          ...(ttlSeconds === undefined ? {} : { ttlSeconds }),
        };
        let result: Awaited<ReturnType<typeof applyOps>>;
        try {
          result = await applyOps(access, state, tenant, [op], 'kv.put');
        } catch (err) {
          throw unwrap(err);
        }
        const written = result.results[0];
        if (written?.op !== 'put') throw new TypeError('store answered a put with another op');
        await audit.write(state.ctx, 'kv.put', key, 'success', elapsedMs(state), { size: value.length });
        reply.header('etag', etagOf(written.version));
        reply.header('x-weftkit-version', String(written.version));
        return { key, version: written.version, etag: etagOf(written.version), revision: result.revision };
      },
    });
  });

  app.route({
    method: 'GET',
    url: '/items/*',
    schema: getItemRoute.schema,
    onRequest: parseKey,
    handler: async (request, reply) => {
      const state = stateOf(request);
      const key = state.key;
      await access.require(state, Action.SELECT, 'kv.get', key);
      const item = await (await store.tenant(state.ctx.tenant)).get(key);
      await audit.read(state.ctx, 'kv.get', key, item === null ? 'failure' : 'success', elapsedMs(state));
      if (item === null) throw new ItemNotFound('no item with this key');
      metaHeaders(reply, item);
      if (notModified(header(request, 'if-none-match'), item.version)) return reply.code(304).send();
      reply.header('content-type', item.contentType);
      reply.header('x-content-type-options', 'nosniff');
      reply.header('content-security-policy', "default-src 'none'; sandbox");
      return reply.send(item.value);
    },
  });

  app.route({
    method: 'HEAD',
    url: '/items/*',
    schema: headItemRoute.schema,
    onRequest: parseKey,
    handler: async (request, reply) => {
      const state = stateOf(request);
      const key = state.key;
      await access.require(state, Action.SELECT, 'kv.head', key);
      const meta = await (await store.tenant(state.ctx.tenant)).head(key);
      await audit.read(state.ctx, 'kv.head', key, meta === null ? 'failure' : 'success', elapsedMs(state));
      if (meta === null) throw new ItemNotFound('no item with this key');
      metaHeaders(reply, meta);
      if (notModified(header(request, 'if-none-match'), meta.version)) return reply.code(304).send();
      reply.header('content-type', meta.contentType);
      reply.header('content-length', String(meta.size));
      return reply.send();
    },
  });

  app.route({
    method: 'DELETE',
    url: '/items/*',
    schema: deleteItemRoute.schema,
    onRequest: parseKey,
    handler: async (request) => {
      const state = stateOf(request);
      const key = state.key;
      await access.require(state, Action.DELETE, 'kv.delete', key);
      const ifMatch = parseIfMatch(header(request, 'if-match'));
      if (header(request, 'if-none-match') !== undefined) throw new InvalidRequest('If-None-Match is not used with DELETE');
      const tenant = await store.tenant(state.ctx.tenant);
      let version: number | undefined;
      if (ifMatch?.kind === 'none') throw new PreconditionFailed('If-Match does not match the item');
      if (ifMatch?.kind === 'any') {
        const meta = await tenant.head(key);
        if (meta === null) throw new PreconditionFailed('If-Match: * but the item does not exist');
        version = meta.version;
      } else if (ifMatch?.kind === 'version') {
        version = ifMatch.version;
      }
      let result: Awaited<ReturnType<typeof applyOps>>;
      try {
        result = await applyOps(access, state, tenant, [{ op: 'delete', key, ...(version === undefined ? {} : { ifMatch: version }) }], 'kv.delete');
      } catch (err) {
        throw unwrap(err);
      }
      const deleted = result.results[0];
      if (deleted?.op !== 'delete') throw new TypeError('store answered a delete with another op');
      await audit.write(state.ctx, 'kv.delete', key, deleted.deleted ? 'success' : 'failure', elapsedMs(state));
      if (!deleted.deleted) throw new ItemNotFound('no item with this key');
      return { key, deleted: true, revision: result.revision };
    },
  });
}
