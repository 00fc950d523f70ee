// POST /batch: several ops applied atomically; the first failing op is named by `op_index`.
import type { FastifyInstance } from 'fastify';
import { InvalidRequest, PayloadTooLarge } from '../../errors.js';
import type { Item, OpResult, WriteOp } from '../../store/kv-store.js';
import { checkKey } from '../item-key.js';
import { expiresAtText } from '../item-json.js';
import { etagOf, versionOfEtag } from '../preconditions.js';
import { elapsedMs, type RouteDeps, stateOf } from '../request-state.js';
import { batchRoute } from '../schemas.js';
import { applyOps, OpFailure } from '../writes.js';

interface BatchOpJson {
  op: 'put' | 'delete' | 'get';
  key: string;
  value?: string;
  value_base64?: string;
  content_type?: string;
  if_match?: string | number;
  if_none_match?: string | boolean;
  ttl_seconds?: number;
}

const BASE64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;
const TEXTUAL = /^(?:text\/|application\/(?:json|[\w.+-]+\+json)\b)/i;
const utf8 = new TextDecoder('utf-8', { fatal: true });
const CONTENT_TYPE = /^[\x21-\x7e][\x20-\x7e]{0,255}$/;

function ifMatchVersion(value: string | number): number {
  if (typeof value === 'number') return value;
  const v = versionOfEtag(value);
  // An entity tag that is not ours can match nothing: version -1 never exists.
  return v ?? -1;
}

function toWriteOp(json: BatchOpJson, maxValueBytes: number): WriteOp {
  const key = checkKey(json.key);
  const ifMatch = json.if_match === undefined ? undefined : ifMatchVersion(json.if_match);
  const ifNoneMatch = json.if_none_match === '*' || json.if_none_match === true;
  if (json.op !== 'put') {
    if (json.value !== undefined || json.value_base64 !== undefined || json.ttl_seconds !== undefined || json.content_type !== undefined) {
      throw new InvalidRequest(`${json.op} takes no value, content_type or ttl_seconds`);
    }
    if (json.if_none_match !== undefined) throw new InvalidRequest(`${json.op} takes no if_none_match`);
    if (json.op === 'get') {
      if (ifMatch !== undefined) throw new InvalidRequest('get takes no if_match');
      return { op: 'get', key };
    }
    return { op: 'delete', key, ...(ifMatch === undefined ? {} : { ifMatch }) };
  }
  if ((json.value === undefined) === (json.value_base64 === undefined)) throw new InvalidRequest('put needs exactly one of value and value_base64');
  if (ifMatch !== undefined && ifNoneMatch) throw new InvalidRequest('if_match and if_none_match cannot be combined');
  if (json.if_none_match === false) throw new InvalidRequest('if_none_match must be "*" or true');
  let value: Buffer;
  if (json.value !== undefined) {
    if (json.value.length > maxValueBytes) throw new PayloadTooLarge(`value is larger than ${maxValueBytes} bytes`);
    value = Buffer.from(json.value, 'utf8');
  } else {
    const b64 = json.value_base64!;
    if (!BASE64.test(b64)) throw new InvalidRequest('value_base64 is not base64');
    if ((b64.length / 4) * 3 - 2 > maxValueBytes) throw new PayloadTooLarge(`value is larger than ${maxValueBytes} bytes`);
    value = Buffer.from(b64, 'base64');
  }
  if (value.length > maxValueBytes) throw new PayloadTooLarge(`value is larger than ${maxValueBytes} bytes`);
  const contentType = json.content_type ?? (json.value !== undefined ? 'text/plain; charset=utf-8' : 'application/octet-stream');
  if (!CONTENT_TYPE.test(contentType)) throw new InvalidRequest('content_type is not a valid media type');
  return {
    op: 'put',
    key,
    value,
    contentType,
    ...(ifMatch === undefined ? {} : { ifMatch }),
    ...(ifNoneMatch ? { ifNoneMatch: true } : {}),
    ...(json.ttl_seconds === undefined ? {} : { ttlSeconds: json.ttl_seconds }),
  };
}

function itemJson(item: Item): Record<string, unknown> {
  const out: Record<string, unknown> = {
    found: true,
    version: item.version,
    etag: etagOf(item.version),
    size: item.size,
    content_type: item.contentType,
    expires_at: expiresAtText(item.expiresAt),
  };
  if (TEXTUAL.test(item.contentType)) {
    try {
      out.value = utf8.decode(item.value);
      return out;
    } catch {
      // not UTF-8 after all: sent as base64 below
    }
  }
  out.value_base64 = item.value.toString('base64');
  return out;
}

function resultJson(r: OpResult): Record<string, unknown> {
  switch (r.op) {
    case 'put':
      return { op: 'put', key: r.key, version: r.version, etag: etagOf(r.version) };
    case 'delete':
      return { op: 'delete', key: r.key, deleted: r.deleted, version: r.version };
    case 'get':
      return { op: 'get', key: r.key, ...(r.item === null ? { found: false } : itemJson(r.item)) };
  }
}

/** Largest batch body: every op may carry a base64 value of the maximum size, within reason. */
export function batchBodyLimit(maxValueBytes: number): number {
  return Math.min(64 * 1024 * 1024, Math.max(8 * 1024 * 1024, Math.ceil(maxValueBytes * 1.4) * 4));
}

export function registerBatchRoute(app: FastifyInstance, deps: RouteDeps): void {
  app.route({
    method: 'POST',
    url: '/batch',
    schema: batchRoute.schema,
    bodyLimit: batchBodyLimit(deps.maxValueBytes),
    handler: async (request) => {
      const state = stateOf(request);
      const body = request.body as { ops: BatchOpJson[] };
      const ops: WriteOp[] = body.ops.map((json, i) => {
        try {
          return toWriteOp(json, deps.maxValueBytes);
        } catch (err) {
          throw new OpFailure(err, i);
        }
      });
      const tenant = await deps.store.tenant(state.ctx.tenant);
      const result = await applyOps(deps.access, state, tenant, ops, 'kv.batch');
      const reads = ops.filter((o) => o.op === 'get').length;
      const writes = ops.length - reads;
      const ms = elapsedMs(state);
      if (reads > 0) await deps.audit.read(state.ctx, 'kv.batch', null, 'success', ms, { ops: reads });
      if (writes > 0) await deps.audit.write(state.ctx, 'kv.batch', null, 'success', ms, { ops: writes, revision: result.revision });
      return { revision: result.revision, results: result.results.map(resultJson) };
    },
  });
}
