import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { promisify } from 'node:util';
import { startTestEngine, type TestEngine } from '../src/testing/test-engine.js';
import { client, errorCode, type Reply } from './helpers.js';

const exec = promisify(execFile);

let e: TestEngine;
let kv: ReturnType<typeof client>;

async function listAllFiles(dir: string): Promise<string[]> {
  const out: string[] = [];
  for (const entry of await readdir(dir, { withFileTypes: true, recursive: true })) {
    out.push(join(entry.parentPath ?? (entry as { path?: string }).path ?? '', entry.name));
  }
  return out;
}

function assertError(r: Reply, status: number, code: string): void {
  assert.equal(r.status, status, r.buf.toString());
  assert.equal(errorCode(r), code);
  assert.equal(typeof r.json.error.message, 'string');
  assert.equal(r.json.error.request_id, r.headers['x-request-id']);
  assert.deepEqual(Object.keys(r.json), ['error']);
}

describe('items', () => {
  before(async () => {
    e = await startTestEngine({ env: { WEFTKIT_MAX_VALUE_BYTES: '65536' } });
    kv = client(e.url, `Bearer ${await e.token()}`);
  });
  after(async () => e.close());

  test('PUT then GET returns the bytes, the content type, ETag and version', async () => {
    const put = await kv('PUT', '/items/greeting', { body: 'hello', headers: { 'content-type': 'text/plain' } });
    assert.equal(put.status, 200, put.buf.toString());
    const v = put.json.version;
    assert.deepEqual(put.json, { key: 'greeting', version: v, etag: `"${v}"`, revision: v });
    assert.equal(put.headers.etag, `"${v}"`);
    const get = await kv('GET', '/items/greeting');
    assert.equal(get.status, 200);
    assert.equal(get.buf.toString(), 'hello');
    assert.equal(get.headers['content-type'], 'text/plain');
    assert.equal(get.headers.etag, `"${v}"`);
    assert.equal(get.headers['x-weftkit-version'], String(v));
    assert.equal(get.headers['x-content-type-options'], 'nosniff');
  });

  test('binary values round-trip; a missing Content-Type is application/octet-stream', async () => {
    const bytes = Buffer.from([0, 255, 1, 254, 10, 13]);
    assert.equal((await kv('PUT', '/items/bin', { body: bytes })).status, 200);
    const get = await kv('GET', '/items/bin');
    assert.deepEqual(get.buf, bytes);
    assert.equal(get.headers['content-type'], 'application/octet-stream');
  });

  test('HEAD gives the metadata without a body; 304 for a matching If-None-Match', async () => {
    const put = await kv('PUT', '/items/h', { body: '12345', headers: { 'content-type': 'application/json' } });
    const head = await kv('HEAD', '/items/h');
    assert.equal(head.status, 200);
    assert.equal(head.headers['content-length'], '5');
    assert.equal(head.headers.etag, `"${put.json.version}"`);
    assert.equal(head.buf.length, 0);
    const cached = await kv('GET', '/items/h', { headers: { 'if-none-match': `"${put.json.version}"` } });
    assert.equal(cached.status, 304);
    assert.equal((await kv('HEAD', '/items/nope')).status, 404);
  });

  test('GET and DELETE of a missing key are 404 WK_KV_NOT_FOUND', async () => {
    assertError(await kv('GET', '/items/missing'), 404, 'WK_KV_NOT_FOUND');
    assertError(await kv('DELETE', '/items/missing'), 404, 'WK_KV_NOT_FOUND');
  });

  test('DELETE removes the item', async () => {
    await kv('PUT', '/items/gone', { body: 'x' });
    const del = await kv('DELETE', '/items/gone');
    assert.equal(del.status, 200);
    assert.equal(del.json.deleted, true);
    assert.equal((await kv('GET', '/items/gone')).status, 404);
  });

  test('compare-and-swap: If-Match with a stale ETag is 412 and writes nothing', async () => {
    const first = await kv('PUT', '/items/cas', { body: 'one' });
    const second = await kv('PUT', '/items/cas', { body: 'two', headers: { 'if-match': first.headers.etag as string } });
    assert.equal(second.status, 200);
    assertError(await kv('PUT', '/items/cas', { body: 'three', headers: { 'if-match': first.headers.etag as string } }), 412, 'WK_KV_PRECONDITION_FAILED');
    assertError(await kv('PUT', '/items/cas', { body: 'three', headers: { 'if-match': '"not-an-etag"' } }), 412, 'WK_KV_PRECONDITION_FAILED');
    assertError(await kv('DELETE', '/items/cas', { headers: { 'if-match': first.headers.etag as string } }), 412, 'WK_KV_PRECONDITION_FAILED');
    assert.equal((await kv('GET', '/items/cas')).buf.toString(), 'two');
    assertError(await kv('PUT', '/items/cas-missing', { body: 'x', headers: { 'if-match': '*' } }), 412, 'WK_KV_PRECONDITION_FAILED');
    assert.equal((await kv('PUT', '/items/cas', { body: 'four', headers: { 'if-match': '*' } })).status, 200);
    assert.equal((await kv('DELETE', '/items/cas', { headers: { 'if-match': (await kv('HEAD', '/items/cas')).headers.etag as string } })).status, 200);
  });

  test('create-only: If-None-Match: * on an existing key is 412', async () => {
    assert.equal((await kv('PUT', '/items/once', { body: 'a', headers: { 'if-none-match': '*' } })).status, 200);
    assertError(await kv('PUT', '/items/once', { body: 'b', headers: { 'if-none-match': '*' } }), 412, 'WK_KV_PRECONDITION_FAILED');
    assert.equal((await kv('GET', '/items/once')).buf.toString(), 'a');
    assertError(await kv('PUT', '/items/once', { body: 'b', headers: { 'if-none-match': '"3"' } }), 400, 'WK_KV_INVALID_REQUEST');
  });

  test('TTL from the header or ?ttl= sets X-WeftKit-Expires-At; bad TTLs are 400', async () => {
    await kv('PUT', '/items/ttl1', { body: 'x', headers: { 'x-weftkit-ttl-seconds': '60' } });
    const h1 = await kv('HEAD', '/items/ttl1');
    const at = Date.parse(h1.headers['x-weftkit-expires-at'] as string);
    assert.ok(at > Date.now() + 50_000 && at < Date.now() + 70_000);
    await kv('PUT', '/items/ttl2?ttl=120', { body: 'x' });
    assert.ok(Date.parse((await kv('HEAD', '/items/ttl2')).headers['x-weftkit-expires-at'] as string) > Date.now() + 100_000);
    assertError(await kv('PUT', '/items/ttl3?ttl=0', { body: 'x' }), 400, 'WK_KV_INVALID_REQUEST');
    assertError(await kv('PUT', '/items/ttl3', { body: 'x', headers: { 'x-weftkit-ttl-seconds': '-5' } }), 400, 'WK_KV_INVALID_REQUEST');
    assertError(await kv('PUT', '/items/ttl3?ttl=5', { body: 'x', headers: { 'x-weftkit-ttl-seconds': '6' } }), 400, 'WK_KV_INVALID_REQUEST');
  });

  test('keys are opaque: ../../etc/passwd and slashes are stored as names inside the tenant', async () => {
    const before = await listAllFiles(e.dir);
    const encoded = await kv('PUT', `/items/${encodeURIComponent('../../etc/passwd')}`, { body: 'not a file' });
    assert.equal(encoded.status, 200, encoded.buf.toString());
    assert.equal(encoded.json.key, '../../etc/passwd');
    // Sent literally (curl --path-as-is) the dots are not resolved by the server either.
    const { stdout } = await exec('curl', [
      '-s', '--path-as-is', '-X', 'PUT', '-H', `authorization: Bearer ${await e.token()}`, '--data-binary', 'raw',
      `${e.url}/items/../../etc/shadow`,
    ]);
    assert.equal(JSON.parse(stdout).key, '../../etc/shadow');
    const got = await kv('GET', `/items/..%2F..%2Fetc%2Fpasswd`);
    assert.equal(got.buf.toString(), 'not a file');
    const list = await kv('GET', `/items?prefix=${encodeURIComponent('../')}`);
    assert.deepEqual(list.json.items.map((i: { key: string }) => i.key), ['../../etc/passwd', '../../etc/shadow']);
    const t2 = client(e.url, `Bearer ${await e.token({ tenant_id: 't2' })}`);
    assert.equal((await t2('GET', `/items/${encodeURIComponent('../../etc/passwd')}`)).status, 404);
    // Every file the store wrote is inside the tenant's own directory.
    const data = (await listAllFiles(join(e.dir, 'data'))).filter((f) => !before.includes(f));
    assert.ok(data.length > 0);
    for (const f of data) assert.ok(f.startsWith(join(e.dir, 'data', 'tenants')), f);
    assert.deepEqual((await listAllFiles(e.dir)).filter((f) => f.endsWith('/passwd') || f.endsWith('/shadow')), []);
    assert.ok((await listAllFiles(e.dir)).length >= before.length);
  });

  test('key limits: empty, 1025 bytes, invalid UTF-8, NUL and control characters are 400 with a code', async () => {
    assertError(await kv('PUT', '/items/', { body: 'x' }), 400, 'WK_KV_KEY_EMPTY');
    assert.equal((await kv('PUT', `/items/${'k'.repeat(1024)}`, { body: 'x' })).status, 200);
    assert.equal((await kv('PUT', `/items/${encodeURIComponent('é'.repeat(512))}`, { body: 'x' })).status, 200);
    assertError(await kv('PUT', `/items/${'k'.repeat(1025)}`, { body: 'x' }), 400, 'WK_KV_KEY_TOO_LONG');
    assertError(await kv('PUT', `/items/${encodeURIComponent('é'.repeat(512))}a`, { body: 'x' }), 400, 'WK_KV_KEY_TOO_LONG');
    assertError(await kv('PUT', '/items/bad%FFkey', { body: 'x' }), 400, 'WK_KV_KEY_INVALID');
    assertError(await kv('PUT', '/items/bad%ED%A0%80key', { body: 'x' }), 400, 'WK_KV_KEY_INVALID');
    assertError(await kv('PUT', '/items/nul%00key', { body: 'x' }), 400, 'WK_KV_KEY_INVALID');
    assertError(await kv('PUT', '/items/nl%0Akey', { body: 'x' }), 400, 'WK_KV_KEY_INVALID');
    assertError(await kv('GET', '/items/bad%2', {}), 400, 'WK_KV_KEY_INVALID');
    assertError(await kv('GET', '/items?prefix=%FF', {}), 400, 'WK_KV_KEY_INVALID');
    // Decoded once: %2541 is the three characters "%41", not "A".
    assert.equal((await kv('PUT', '/items/%2541', { body: 'x' })).json.key, '%41');
  });

  test('a value over WEFTKIT_MAX_VALUE_BYTES is 413, announced or streamed, and nothing is stored', async () => {
    const big = Buffer.alloc(65537, 1);
    assertError(await kv('PUT', '/items/big', { body: big }), 413, 'WK_KV_PAYLOAD_TOO_LARGE');
    assert.equal((await kv('PUT', '/items/big', { body: Buffer.alloc(65536, 1) })).status, 200);
    // Chunked, no Content-Length: refused while streaming.
    const kvAuth = `Bearer ${await e.token()}`;
    const res = await new Promise<{ status: number; body: string }>((resolve, reject) => {
      const child = execFile('curl', ['-s', '-X', 'PUT', '-H', `authorization: ${kvAuth}`, '-H', 'transfer-encoding: chunked', '--data-binary', '@-', '-w', '\n%{http_code}', `${e.url}/items/big2`], (err, out) => {
        if (err && !out) reject(err);
        const lines = out.trim().split('\n');
        resolve({ status: Number(lines.pop()), body: lines.join('\n') });
      });
      child.stdin!.end(Buffer.alloc(200_000, 2));
    });
    assert.equal(res.status, 413);
    assert.equal(JSON.parse(res.body).error.code, 'WK_KV_PAYLOAD_TOO_LARGE');
    assert.equal((await kv('GET', '/items/big2')).status, 404);
  });

  test('unknown routes are 404 in the error format', async () => {
    assertError(await kv('GET', '/nope'), 404, 'WK_KV_ROUTE_NOT_FOUND');
  });

  test('X-Request-Id: a sane client id is kept, anything else replaced', async () => {
    const kept = await kv('GET', '/items/missing', { headers: { 'x-request-id': 'req-123.abc' } });
    assert.equal(kept.headers['x-request-id'], 'req-123.abc');
    assert.equal(kept.json.error.request_id, 'req-123.abc');
    const replaced = await kv('GET', '/items/missing', { headers: { 'x-request-id': 'bad id <script>' } });
    assert.match(replaced.headers['x-request-id'] as string, /^[0-9a-f-]{36}$/);
  });
});

