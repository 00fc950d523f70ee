import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { startTestEngine, type TestEngine } from '../src/testing/test-engine.js';
import { client } from './helpers.js';

let e: TestEngine;

describe('GET /openapi.json', () => {
  before(async () => {
    e = await startTestEngine();
  });
  after(async () => e.close());

  test('is an OpenAPI 3.1 document generated from the route schemas', async () => {
    const r = await client(e.url)('GET', '/openapi.json');
    assert.equal(r.status, 200);
    const doc = r.json;
    assert.equal(doc.openapi, '3.1.0');
    assert.deepEqual(Object.keys(doc.paths).sort(), ['/batch', '/export', '/items', '/items/{key}', '/openapi.json', '/watch']);
    assert.deepEqual(Object.keys(doc.paths['/items/{key}']).sort(), ['delete', 'get', 'head', 'put']);
    const list = doc.paths['/items'].get;
    assert.deepEqual(list.parameters.map((p: { name: string }) => p.name), ['prefix', 'limit', 'cursor']);
    assert.deepEqual(list.responses['200'].content['application/json'].schema.properties.items.items.required, [
      'key', 'version', 'etag', 'size', 'content_type', 'expires_at',
    ]);
    assert.equal(doc.paths['/batch'].post.requestBody.content['application/json'].schema.properties.ops.maxItems, 1000);
    assert.ok(doc.paths['/batch'].post.responses['415']);
    assert.deepEqual(Object.keys(doc.components.securitySchemes).sort(), ['basicAuth', 'bearerAuth']);
    for (const [path, ops] of Object.entries(doc.paths as Record<string, Record<string, { responses: Record<string, unknown> }>>)) {
      for (const op of Object.values(ops)) assert.ok(Object.keys(op.responses).length > 0, path);
    }
  });
});
