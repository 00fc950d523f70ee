// JSON schemas of the routes: fastify validates requests and serializes replies with them, and
// `/openapi.json` is generated from the same objects, so the document cannot drift from the code.

export type JsonSchema = Readonly<Record<string, unknown>>;

export interface RouteDoc {
  readonly method: 'GET' | 'HEAD' | 'PUT' | 'DELETE' | 'POST';
  /** OpenAPI path, e.g. `/items/{key}`. */
  readonly path: string;
  readonly operationId: string;
  readonly summary: string;
  /** The fastify schema (querystring, headers, body, response). */
  readonly schema: JsonSchema;
  /** Path parameters, which fastify does not see (the key is read from the raw URL). */
  readonly pathParams?: Readonly<Record<string, JsonSchema>>;
  /** Request body media types other than JSON (`PUT /items/{key}` takes any). */
  readonly rawBody?: string;
  /** Success responses that are not JSON described by `schema.response`. */
  readonly rawResponses?: Readonly<Record<string, { readonly description: string; readonly mediaType?: string; readonly headers?: readonly string[] }>>;
  /** Error statuses this route answers with the error document. */
  readonly errors: readonly number[];
  /** No authentication (the OpenAPI document itself). */
  readonly public?: boolean;
}

export const errorSchema: JsonSchema = {
  type: 'object',
  required: ['error'],
  properties: {
    error: {
      type: 'object',
      required: ['code', 'message', 'request_id'],
      properties: {
        code: { type: 'string', description: 'Stable error code, WK_*.' },
        message: { type: 'string' },
        request_id: { type: 'string' },
        op_index: { type: 'integer', minimum: 0, description: 'POST /batch: index of the first failing op.' },
      },
    },
  },
};

const keyParam: JsonSchema = {
  type: 'string',
  minLength: 1,
  description: 'Item key: 1–1024 bytes of UTF-8, percent-encoded once; `/` and `..` are ordinary characters.',
};

const etag: JsonSchema = { type: 'string', pattern: '^"\\d+"$', description: 'Entity tag `"<version>"`.' };

export const writeResultSchema: JsonSchema = {
  type: 'object',
  required: ['key', 'version', 'etag', 'revision'],
  properties: {
    key: { type: 'string' },
    version: { type: 'integer' },
    etag,
    revision: { type: 'integer', description: 'Tenant revision after the write.' },
  },
};

export const deleteResultSchema: JsonSchema = {
  type: 'object',
  required: ['key', 'deleted', 'revision'],
  properties: { key: { type: 'string' }, deleted: { type: 'boolean' }, revision: { type: 'integer' } },
};

export const itemMetaSchema: JsonSchema = {
  type: 'object',
  required: ['key', 'version', 'etag', 'size', 'content_type', 'expires_at'],
  properties: {
    key: { type: 'string' },
    version: { type: 'integer' },
    etag: { type: 'string' },
    size: { type: 'integer' },
    content_type: { type: 'string' },
    expires_at: { type: ['string', 'null'], format: 'date-time' },
  },
};

const itemHeaders: JsonSchema = {
  type: 'object',
  properties: {
    'if-match': { type: 'string', description: 'Compare-and-swap: the entity tag the item must have (or `*`: must exist).' },
    'if-none-match': { type: 'string', description: 'PUT: `*` creates only. GET/HEAD: entity tags that answer 304.' },
    'x-weftkit-ttl-seconds': { type: 'string', pattern: '^\\s*\\d{1,10}\\s*$', description: 'PUT: expire the item after this many seconds.' },
  },
};

export const putItemRoute: RouteDoc = {
  method: 'PUT',
  path: '/items/{key}',
  operationId: 'putItem',
  summary: 'Create or replace an item; the body is the value, its Content-Type is kept.',
  pathParams: { key: keyParam },
  rawBody: '*/*',
  schema: {
    querystring: { type: 'object', properties: { ttl: { type: 'string', pattern: '^\\d{1,10}$' } } },
    headers: itemHeaders,
    response: { 200: writeResultSchema },
  },
  errors: [400, 401, 403, 412, 413, 429, 507],
};

export const getItemRoute: RouteDoc = {
  method: 'GET',
  path: '/items/{key}',
  operationId: 'getItem',
  summary: 'Read an item: the value with its Content-Type, ETag and X-WeftKit-Version.',
  pathParams: { key: keyParam },
  schema: { headers: itemHeaders },
  rawResponses: {
    200: { description: 'The value bytes.', mediaType: '*/*', headers: ['ETag', 'X-WeftKit-Version', 'X-WeftKit-Expires-At'] },
    304: { description: 'Not modified (If-None-Match named the current entity tag).', headers: ['ETag'] },
  },
  errors: [400, 401, 403, 404, 429],
};

export const headItemRoute: RouteDoc = {
  method: 'HEAD',
  path: '/items/{key}',
  operationId: 'headItem',
  summary: 'Item metadata as headers, no body.',
  pathParams: { key: keyParam },
  schema: { headers: itemHeaders },
  rawResponses: { 200: { description: 'Headers only.', headers: ['ETag', 'X-WeftKit-Version', 'Content-Length', 'X-WeftKit-Expires-At'] } },
  errors: [400, 401, 403, 404, 429],
};

export const deleteItemRoute: RouteDoc = {
  method: 'DELETE',
  path: '/items/{key}',
  operationId: 'deleteItem',
  summary: 'Delete an item (If-Match for compare-and-delete).',
  pathParams: { key: keyParam },
  schema: { headers: itemHeaders, response: { 200: deleteResultSchema } },
  errors: [400, 401, 403, 404, 412, 429, 507],
};

export const listItemsRoute: RouteDoc = {
  method: 'GET',
  path: '/items',
  operationId: 'listItems',
  summary: 'List items in key byte order, only those the caller may read.',
  schema: {
    querystring: {
      type: 'object',
      properties: {
        prefix: { type: 'string', maxLength: 1024 },
        limit: { type: 'integer', minimum: 1, maximum: 1000, default: 100 },
        cursor: { type: 'string', minLength: 1, maxLength: 4096 },
      },
    },
    response: {
      200: {
        type: 'object',
        required: ['items', 'next_cursor'],
        properties: { items: { type: 'array', items: itemMetaSchema }, next_cursor: { type: ['string', 'null'] } },
      },
    },
  },
  errors: [400, 401, 403, 429],
};

export const MAX_BATCH_OPS = 1000;

const batchOpSchema: JsonSchema = {
  type: 'object',
  required: ['op', 'key'],
  additionalProperties: false,
  properties: {
    op: { type: 'string', enum: ['put', 'delete', 'get'] },
    key: { type: 'string', minLength: 1 },
    value: { type: 'string', description: 'put: the value as UTF-8 text.' },
    value_base64: { type: 'string', description: 'put: the value bytes, base64.' },
    content_type: { type: 'string', minLength: 1, maxLength: 256 },
    if_match: { anyOf: [{ type: 'integer', minimum: 0 }, { type: 'string', maxLength: 64 }], description: 'Entity tag or version the item must have.' },
    if_none_match: { anyOf: [{ type: 'string', const: '*' }, { type: 'boolean' }], description: '`*` (or true): create only.' },
    ttl_seconds: { type: 'integer', minimum: 1, maximum: 315360000 },
  },
};

const batchResultSchema: JsonSchema = {
  type: 'object',
  required: ['op', 'key'],
  properties: {
    op: { type: 'string' },
    key: { type: 'string' },
    version: { type: 'integer' },
    etag: { type: 'string' },
    deleted: { type: 'boolean' },
    found: { type: 'boolean' },
    size: { type: 'integer' },
    content_type: { type: 'string' },
    expires_at: { type: ['string', 'null'] },
    value: { type: 'string' },
    value_base64: { type: 'string' },
  },
};

export const batchRoute: RouteDoc = {
  method: 'POST',
  path: '/batch',
  operationId: 'batch',
  summary: 'Apply several operations atomically: all or none; the first failing op is named by op_index.',
  schema: {
    body: {
      type: 'object',
      required: ['ops'],
      additionalProperties: false,
      properties: { ops: { type: 'array', minItems: 1, maxItems: MAX_BATCH_OPS, items: batchOpSchema } },
    },
    response: {
      200: {
        type: 'object',
        required: ['revision', 'results'],
        properties: { revision: { type: 'integer' }, results: { type: 'array', items: batchResultSchema } },
      },
    },
  },
  errors: [400, 401, 403, 409, 413, 415, 429, 507],
};

export const watchRoute: RouteDoc = {
  method: 'GET',
  path: '/watch',
  operationId: 'watch',
  summary: 'Server-sent events for changes to keys with a prefix the caller may read.',
  schema: {
    querystring: {
      type: 'object',
      properties: {
        prefix: { type: 'string', maxLength: 1024 },
        from_revision: { type: 'integer', minimum: 0, description: 'Replay retained changes after this revision first.' },
      },
    },
  },
  rawResponses: {
    200: {
      description: 'text/event-stream: `event: put|delete|expire`, `id: <revision>`, `data: {"revision","type","key","version","size","content_type"}`; comments are heartbeats.',
      mediaType: 'text/event-stream',
    },
  },
  errors: [400, 401, 403, 410, 429],
};

export const exportRoute: RouteDoc = {
  method: 'GET',
  path: '/export',
  operationId: 'exportItems',
  summary: 'Stream every live item with a key prefix as NDJSON, in key byte order; needs COPY TO on each key (audited as data_export).',
  schema: {
    querystring: {
      type: 'object',
      properties: { prefix: { type: 'string', maxLength: 1024, description: 'Export only keys that start with this (default: all).' } },
    },
  },
  rawResponses: {
    200: {
      description:
        'application/x-ndjson: one line per item, `{"key","version","content_type","expires_at","value_base64"}`. A stream cut before its last line (no chunked terminator) is incomplete.',
      mediaType: 'application/x-ndjson',
    },
  },
  errors: [400, 401, 403, 429],
};

export const openapiRoute: RouteDoc = {
  method: 'GET',
  path: '/openapi.json',
  operationId: 'openapi',
  summary: 'This document.',
  schema: {},
  rawResponses: { 200: { description: 'OpenAPI 3.1 document.', mediaType: 'application/json' } },
  errors: [],
  public: true,
};

export const ROUTES: readonly RouteDoc[] = [
  putItemRoute,
  getItemRoute,
  headItemRoute,
  deleteItemRoute,
  listItemsRoute,
  batchRoute,
  watchRoute,
  exportRoute,
  openapiRoute,
];
