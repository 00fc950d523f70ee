// Builds the OpenAPI 3.1 document from the route schemas (JSON Schema 2020-12 is OpenAPI 3.1's
// schema dialect, so the fastify schemas are used as they are).
import { errorSchema, type JsonSchema, type RouteDoc } from './schemas.js';

const STATUS_TEXT: Readonly<Record<number, string>> = {
  400: 'Malformed request, key, header or body.',
  401: 'Missing or invalid credentials (see WWW-Authenticate).',
  403: 'The caller may not do this (audited as authz_deny).',
  404: 'No such item.',
  409: 'A per-op precondition of the batch failed; nothing was applied.',
  410: 'from_revision is older than the retained change history.',
  412: 'If-Match / If-None-Match failed; nothing was written.',
  413: 'Value or body too large.',
  415: 'Unsupported request Content-Type.',
  429: 'Too many failed logins; see Retry-After.',
  507: 'The data volume is full; nothing was written.',
};

interface Parameter {
  name: string;
  in: 'path' | 'query' | 'header';
  required: boolean;
  schema: JsonSchema;
  description?: string;
}

function parametersOf(route: RouteDoc): Parameter[] {
  const out: Parameter[] = [];
  for (const [name, schema] of Object.entries(route.pathParams ?? {})) {
    out.push({ name, in: 'path', required: true, schema: stripDescription(schema), ...describe(schema) });
  }
  for (const [part, where] of [['querystring', 'query'], ['headers', 'header']] as const) {
    const obj = route.schema[part] as { properties?: Record<string, JsonSchema>; required?: string[] } | undefined;
    for (const [name, schema] of Object.entries(obj?.properties ?? {})) {
      out.push({ name, in: where, required: obj?.required?.includes(name) === true, schema: stripDescription(schema), ...describe(schema) });
    }
  }
  return out;
}

function describe(schema: JsonSchema): { description?: string } {
  return typeof schema.description === 'string' ? { description: schema.description } : {};
}

function stripDescription(schema: JsonSchema): JsonSchema {
  const { description: _d, ...rest } = schema;
  return rest;
}

function operationOf(route: RouteDoc): Record<string, unknown> {
  const responses: Record<string, unknown> = {};
  const json = (route.schema.response ?? {}) as Record<string, JsonSchema>;
  for (const [status, schema] of Object.entries(json)) {
    responses[status] = { description: 'Success.', content: { 'application/json': { schema } } };
  }
  for (const [status, r] of Object.entries(route.rawResponses ?? {})) {
    responses[status] = {
      description: r.description,
      ...(r.mediaType === undefined ? {} : { content: { [r.mediaType]: { schema: r.mediaType === 'application/json' ? { type: 'object' } : { type: 'string', format: 'binary' } } } }),
      ...(r.headers === undefined ? {} : { headers: Object.fromEntries(r.headers.map((h) => [h, { schema: { type: 'string' } }])) }),
    };
  }
  for (const status of route.errors) {
    responses[String(status)] = { description: STATUS_TEXT[status] ?? 'Error.', content: { 'application/json': { schema: { $ref: '#/components/schemas/Error' } } } };
  }
  const params = parametersOf(route);
  const body = route.schema.body as JsonSchema | undefined;
  return {
    operationId: route.operationId,
    summary: route.summary,
    ...(params.length === 0 ? {} : { parameters: params }),
    ...(body !== undefined ? { requestBody: { required: true, content: { 'application/json': { schema: body } } } } : {}),
    ...(route.rawBody !== undefined
      ? { requestBody: { required: false, content: { [route.rawBody]: { schema: { type: 'string', format: 'binary' } } } } }
      : {}),
    responses,
    ...(route.public === true ? { security: [] } : {}),
  };
}

export interface OpenApiOptions {
  readonly version: string;
  readonly serverUrl?: string;
  /** Which security schemes the server accepts. */
  readonly bearer: boolean;
  readonly basic: boolean;
  readonly mutualTls: boolean;
}

export function buildOpenApi(routes: readonly RouteDoc[], options: OpenApiOptions): Record<string, unknown> {
  const paths: Record<string, Record<string, unknown>> = {};
  for (const route of routes) {
    paths[route.path] ??= {};
    paths[route.path]![route.method.toLowerCase()] = operationOf(route);
  }
  const schemes: Record<string, unknown> = {};
  if (options.bearer) schemes.bearerAuth = { type: 'http', scheme: 'bearer', bearerFormat: 'JWT' };
  if (options.basic) schemes.basicAuth = { type: 'http', scheme: 'basic' };
  if (options.mutualTls) schemes.mutualTls = { type: 'mutualTLS' };
  return {
    openapi: '3.1.0',
    info: {
      title: 'WeftKit key-value API',
      version: options.version,
      description: 'Per-tenant key-value store. Errors are `{"error":{"code","message","request_id"}}`.',
    },
    jsonSchemaDialect: 'https://spec.openapis.org/oas/3.1/dialect/base',
    ...(options.serverUrl === undefined ? {} : { servers: [{ url: options.serverUrl }] }),
    security: Object.keys(schemes).map((name) => ({ [name]: [] })),
    paths,
    components: { schemas: { Error: errorSchema }, securitySchemes: schemes },
  };
}
