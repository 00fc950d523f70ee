import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { after, before, describe, test } from 'node:test';
import { startTestEngine, type TestEngine } from '../src/testing/test-engine.js';
import { client, errorCode } from './helpers.js';

let e: TestEngine;
let admin: ReturnType<typeof client>;

async function as(roles: string[]): Promise<ReturnType<typeof client>> {
  return client(e.url, `Bearer ${await e.token({ sub: `user-${roles.join('-')}`, roles })}`);
}

async function denials(): Promise<Record<string, unknown>[]> {
  return (await readFile(e.auditFile, 'utf8'))
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l))
    .filter((ev) => ev.event === 'authz_deny');
}

describe('authorization by key pattern', () => {
  before(async () => {
    e = await startTestEngine();
    admin = client(e.url, `Bearer ${await e.token()}`);
    for (const key of ['app:1', 'app:2', 'app:3', 'app:4', 'app:5', 'other:1', 'other:2', 'zzz']) {
      assert.equal((await admin('PUT', `/items/${key}`, { body: key })).status, 200);
    }
  });
  after(async () => e.close());

  test('app_reader reads app:* keys and gets 403 (audited as authz_deny) elsewhere', async () => {
    const reader = await as(['app_reader']);
    assert.equal((await reader('GET', '/items/app:1')).buf.toString(), 'app:1');
    const denied = await reader('GET', '/items/other:1');
    assert.equal(denied.status, 403);
    assert.equal(errorCode(denied), 'WK_AUTHZ_ACCESS_DENIED');
    const d = (await denials()).find((ev) => ev.request_id === denied.headers['x-request-id']);
    assert.ok(d, 'the denial is in the audit log');
    assert.equal(d.resource, 'other:1');
    assert.equal(d.operation, 'kv.get');
    assert.equal((await reader('PUT', '/items/app:1', { body: 'x' })).status, 403);
    assert.equal((await reader('DELETE', '/items/app:1')).status, 403);
    assert.equal((await admin('GET', '/items/app:1')).buf.toString(), 'app:1', 'denied writes changed nothing');
  });

  test('list returns only readable keys, paged with next_cursor', async () => {
    const reader = await as(['app_reader']);
    const seen: string[] = [];
    let cursor: string | null = null;
    let pages = 0;
    do {
      const r = await reader('GET', `/items?limit=2${cursor === null ? '' : `&cursor=${encodeURIComponent(cursor)}`}`);
      assert.equal(r.status, 200, r.buf.toString());
      assert.ok(r.json.items.length <= 2);
      for (const item of r.json.items) {
        assert.deepEqual(Object.keys(item).sort(), ['content_type', 'etag', 'expires_at', 'key', 'size', 'version']);
        seen.push(item.key);
      }
      cursor = r.json.next_cursor;
      pages++;
    } while (cursor !== null && pages < 10);
    assert.deepEqual(seen, ['app:1', 'app:2', 'app:3', 'app:4', 'app:5']);
    const all = await admin('GET', '/items?limit=100');
    assert.deepEqual(all.json.items.map((i: { key: string }) => i.key), ['app:1', 'app:2', 'app:3', 'app:4', 'app:5', 'other:1', 'other:2', 'zzz']);
    assert.equal(all.json.next_cursor, null);
    const prefixed = await admin('GET', '/items?prefix=other');
    assert.deepEqual(prefixed.json.items.map((i: { key: string }) => i.key), ['other:1', 'other:2']);
  });

  test('list and watch for a caller with no SELECT anywhere are 403; bad limits are 400', async () => {
    const nobody = await as(['no_access']);
    assert.equal((await nobody('GET', '/items')).status, 403);
    assert.equal((await nobody('GET', '/watch')).status, 403);
    assert.equal(errorCode(await admin('GET', '/items?limit=0')), 'WK_KV_INVALID_REQUEST');
    assert.equal(errorCode(await admin('GET', '/items?limit=5000')), 'WK_KV_INVALID_REQUEST');
    assert.equal(errorCode(await admin('GET', '/items?limit=abc')), 'WK_KV_INVALID_REQUEST');
  });

  test('read_only PUT is refused before the body is read', async () => {
    const ro = await as(['read_only']);
    const r = await ro('PUT', '/items/app:1', { body: Buffer.alloc(10_000_000) });
    assert.equal(r.status, 403);
  });

  test('INSERT without UPDATE creates new keys but cannot overwrite; UPDATE without INSERT the reverse', async () => {
    const inserter = await as(['inserter']);
    assert.equal((await inserter('PUT', '/items/new-by-inserter', { body: 'a' })).status, 200);
    const over = await inserter('PUT', '/items/new-by-inserter', { body: 'b' });
    assert.equal(over.status, 403);
    assert.equal((await admin('GET', '/items/new-by-inserter')).buf.toString(), 'a');
    const updater = await as(['updater']);
    assert.equal((await updater('PUT', '/items/new-by-inserter', { body: 'c' })).status, 200);
    assert.equal((await updater('PUT', '/items/not-there-yet', { body: 'c' })).status, 403);
    assert.equal((await admin('GET', '/items/not-there-yet')).status, 404);
    assert.equal((await admin('GET', '/items/new-by-inserter')).buf.toString(), 'c');
  });
});
