import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { startTestEngine, type TestEngine } from '../src/testing/test-engine.js';
import { client, errorCode } from './helpers.js';

let e: TestEngine;
let kv: ReturnType<typeof client>;

const json = { 'content-type': 'application/json' };
const batch = (ops: unknown[], headers: Record<string, string> = json) => kv('POST', '/batch', { body: JSON.stringify({ ops }), headers });

describe('POST /batch', () => {
  before(async () => {
    e = await startTestEngine({ env: { WEFTKIT_MAX_VALUE_BYTES: '1024' } });
    kv = client(e.url, `Bearer ${await e.token()}`);
  });
  after(async () => e.close());

  test('applies puts, deletes and gets atomically and answers revision and results', async () => {
    await kv('PUT', '/items/b:old', { body: 'old' });
    const r = await batch([
      { op: 'put', key: 'b:1', value: 'one' },
      { op: 'put', key: 'b:2', value_base64: Buffer.from([1, 2, 3]).toString('base64'), ttl_seconds: 60 },
      { op: 'delete', key: 'b:old' },
      { op: 'get', key: 'b:1' },
    ]);
    assert.equal(r.status, 200, r.buf.toString());
    const rev = r.json.revision;
    assert.equal(typeof rev, 'number');
    assert.deepEqual(r.json.results[0], { op: 'put', key: 'b:1', version: rev, etag: `"${rev}"` });
    assert.equal(r.json.results[2].deleted, true);
    assert.equal(r.json.results[3].value, 'one');
    assert.equal((await kv('GET', '/items/b:1')).headers['content-type'], 'text/plain; charset=utf-8');
    assert.deepEqual((await kv('GET', '/items/b:2')).buf, Buffer.from([1, 2, 3]));
    assert.equal((await kv('GET', '/items/b:old')).status, 404);
  });

  test('a failing if_match is 409 with op_index and nothing is applied', async () => {
    const v = (await kv('PUT', '/items/b:cas', { body: 'x' })).json.version;
    const r = await batch([
      { op: 'put', key: 'b:a1', value: '1' },
      { op: 'put', key: 'b:cas', value: 'y', if_match: `"${v + 100}"` },
      { op: 'put', key: 'b:a3', value: '3' },
    ]);
    assert.equal(r.status, 409);
    assert.equal(errorCode(r), 'WK_KV_CONFLICT');
    assert.equal(r.json.error.op_index, 1);
    assert.equal((await kv('GET', '/items/b:a1')).status, 404);
    assert.equal((await kv('GET', '/items/b:cas')).buf.toString(), 'x');
    const created = await batch([{ op: 'put', key: 'b:cas', value: 'z', if_none_match: '*' }]);
    assert.equal(created.json.error.op_index, 0);
    assert.equal((await batch([{ op: 'put', key: 'b:cas', value: 'z', if_match: v }])).status, 200);
  });

  test('the first bad op is named: invalid key, oversize value, forbidden key', async () => {
    const badKey = await batch([{ op: 'get', key: 'fine' }, { op: 'put', key: 'a\u0000b', value: 'x' }]);
    assert.equal(badKey.status, 400);
    assert.equal(errorCode(badKey), 'WK_KV_KEY_INVALID');
    assert.equal(badKey.json.error.op_index, 1);
    const big = await batch([{ op: 'put', key: 'ok', value: 'x' }, { op: 'put', key: 'ok2', value: 'x' }, { op: 'put', key: 'big', value: 'x'.repeat(1025) }]);
    assert.equal(big.status, 413);
    assert.equal(big.json.error.op_index, 2);
    const reader = client(e.url, `Bearer ${await e.token({ sub: 'r', roles: ['app_reader'] })}`);
    const denied = await reader('POST', '/batch', { body: JSON.stringify({ ops: [{ op: 'get', key: 'app:x' }, { op: 'put', key: 'app:x', value: 'v' }] }), headers: json });
    assert.equal(denied.status, 403);
    assert.equal(denied.json.error.op_index, 1);
    assert.equal((await kv('GET', '/items/ok')).status, 404);
  });

  test('non-JSON bodies are 415; malformed JSON and schema violations are 400', async () => {
    const text = await batch([{ op: 'get', key: 'x' }], { 'content-type': 'text/plain' });
    assert.equal(text.status, 415);
    assert.equal(errorCode(text), 'WK_KV_UNSUPPORTED_MEDIA_TYPE');
    const broken = await kv('POST', '/batch', { body: '{"ops": [', headers: json });
    assert.equal(broken.status, 400);
    assert.equal(errorCode(broken), 'WK_KV_INVALID_REQUEST');
    assert.equal(errorCode(await batch([{ op: 'rename', key: 'x' }])), 'WK_KV_INVALID_REQUEST');
    assert.equal(errorCode(await batch([])), 'WK_KV_INVALID_REQUEST');
    assert.equal(errorCode(await batch([{ op: 'put', key: 'x', value: 'a', extra: 1 }])), 'WK_KV_INVALID_REQUEST');
    assert.equal(errorCode(await batch([{ op: 'put', key: 'x' }])), 'WK_KV_INVALID_REQUEST');
    const proto = await kv('POST', '/batch', { body: '{"ops":[{"op":"get","key":"x"}],"__proto__":{"a":1}}', headers: json });
    assert.equal(proto.status, 400);
  });

  test('a body over the batch limit is 413', async () => {
    const r = await kv('POST', '/batch', { body: Buffer.alloc(9 * 1024 * 1024, 32), headers: json });
    assert.equal(r.status, 413);
    assert.equal(errorCode(r), 'WK_KV_PAYLOAD_TOO_LARGE');
  });
});
