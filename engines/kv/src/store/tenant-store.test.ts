import assert from 'node:assert/strict';
import { after, describe, test } from 'node:test';
import type { ChangeEvent, WriteOp } from './kv-store.js';
import { openStore, readAllFiles, removeDataDir, type StoreFixture } from '../testing/store-fixture.js';

const fixtures: StoreFixture[] = [];
after(async () => {
  for (const f of fixtures) {
    await f.close().catch(() => {});
    removeDataDir(f.dataDir);
  }
});

async function fresh(options: Parameters<typeof openStore>[0] = {}): Promise<StoreFixture> {
  const f = await openStore(options);
  fixtures.push(f);
  return f;
}

const put = (key: string, value: string, extra: Partial<Extract<WriteOp, { op: 'put' }>> = {}): WriteOp => ({
  op: 'put',
  key,
  value: Buffer.from(value),
  contentType: 'text/plain',
  ...extra,
});

describe('tenant store', () => {
  test('put, get, head, delete', async () => {
    const { store } = await fresh();
    const t = await store.tenant('acme');
    assert.equal(t.revision, 0);
    const r = await t.batch([put('a', 'one')]);
    assert.equal(r.revision, 1);
    assert.deepEqual(r.results, [{ op: 'put', key: 'a', version: 1 }]);
    const item = await t.get('a');
    assert.equal(item?.value.toString(), 'one');
    assert.equal(item?.version, 1);
    assert.equal(item?.contentType, 'text/plain');
    assert.equal(item?.size, 3);
    assert.deepEqual(await t.head('a'), { key: 'a', version: 1, size: 3, contentType: 'text/plain', expiresAt: null });
    await t.batch([put('a', 'two')]);
    assert.equal((await t.get('a'))?.value.toString(), 'two');
    const d = await t.batch([{ op: 'delete', key: 'a' }]);
    assert.deepEqual(d.results, [{ op: 'delete', key: 'a', deleted: true, version: 3 }]);
    assert.equal(await t.get('a'), null);
    assert.equal(await t.head('a'), null);
    const d2 = await t.batch([{ op: 'delete', key: 'a' }]);
    assert.equal(d2.results[0]?.op === 'delete' && d2.results[0].deleted, false);
    assert.equal(d2.revision, 3);
    assert.equal(t.revision, 3);
  });

  test('tenants are separate', async () => {
    const { store } = await fresh();
    const a = await store.tenant('t-a');
    const b = await store.tenant('t-b');
    await a.batch([put('k', 'from a')]);
    assert.equal(await b.get('k'), null);
    assert.equal(b.revision, 0);
    await assert.rejects(store.tenant('../evil'), { code: 'WK_IDENTITY_INVALID_TENANT' });
  });

  test('compare-and-swap with ifMatch', async () => {
    const { store } = await fresh();
    const t = await store.tenant('acme');
    const v1 = (await t.batch([put('k', 'v1')])).revision;
    await assert.rejects(t.batch([put('k', 'bad', { ifMatch: v1 + 100 })]), { code: 'WK_KV_PRECONDITION_FAILED', opIndex: 0 });
    const v2 = (await t.batch([put('k', 'v2', { ifMatch: v1 })])).revision;
    await assert.rejects(t.batch([put('k', 'stale', { ifMatch: v1 })]), { code: 'WK_KV_PRECONDITION_FAILED' });
    await assert.rejects(t.batch([{ op: 'delete', key: 'k', ifMatch: v1 }]), { code: 'WK_KV_PRECONDITION_FAILED' });
    assert.equal((await t.get('k'))?.value.toString(), 'v2');
    await t.batch([{ op: 'delete', key: 'k', ifMatch: v2 }]);
    assert.equal(await t.get('k'), null);
    await assert.rejects(t.batch([put('k', 'x', { ifMatch: v2 })]), { code: 'WK_KV_PRECONDITION_FAILED' });
  });

  test('create-only with ifNoneMatch, also between concurrent batches', async () => {
    const { store } = await fresh();
    const t = await store.tenant('acme');
    await t.batch([put('c', 'first', { ifNoneMatch: true })]);
    await assert.rejects(t.batch([put('c', 'second', { ifNoneMatch: true })]), { code: 'WK_KV_PRECONDITION_FAILED' });
    // Concurrent creates staged in the same group: exactly one wins.
    const outcomes = await Promise.allSettled(Array.from({ length: 10 }, (_, i) => t.batch([put('race', `w${i}`, { ifNoneMatch: true })])));
    assert.equal(outcomes.filter((o) => o.status === 'fulfilled').length, 1);
    assert.equal(outcomes.filter((o) => o.status === 'rejected').length, 9);
  });

  test('a batch is atomic: a failing op leaves nothing applied', async () => {
    const { store } = await fresh();
    const t = await store.tenant('acme');
    await t.batch([put('exists', 'x')]);
    const before = t.revision;
    await assert.rejects(
      t.batch([put('n1', '1'), put('n2', '2'), { op: 'delete', key: 'exists' }, put('n1', 'again', { ifNoneMatch: true })]),
      (err: { code: string; opIndex: number }) => err.code === 'WK_KV_PRECONDITION_FAILED' && err.opIndex === 3,
    );
    assert.equal(t.revision, before);
    assert.equal(await t.get('n1'), null);
    assert.equal(await t.get('n2'), null);
    assert.equal((await t.get('exists'))?.value.toString(), 'x');
    // A batch sees its own earlier ops; all ops share one revision.
    const ok = await t.batch([put('n1', '1'), { op: 'get', key: 'n1' }, put('n1', '1b', { ifMatch: before + 1 }), { op: 'get', key: 'exists' }]);
    assert.equal(ok.revision, before + 1);
    const got = ok.results[1];
    assert.ok(got?.op === 'get' && got.item?.value.toString() === '1');
    const got2 = ok.results[3];
    assert.ok(got2?.op === 'get' && got2.item?.value.toString() === 'x');
    assert.equal((await t.get('n1'))?.value.toString(), '1b');
  });

  test('list pages in byte order with prefix, cursor and filter', async () => {
    const { store } = await fresh();
    const t = await store.tenant('acme');
    const keys = ['app:b', 'app:a', 'app:c\u{1F600}', 'app:c\uFFFD', 'other', 'app:secret:1', 'app:d', 'ap'];
    await t.batch(keys.map((k) => put(k, k)));
    const seen: string[] = [];
    let cursor: string | null = null;
    let pages = 0;
    do {
      const page = await t.list('app:', 2, cursor, (k) => !k.startsWith('app:secret'));
      assert.ok(page.items.length <= 2);
      seen.push(...page.items.map((i) => i.key));
      cursor = page.nextCursor;
      pages++;
    } while (cursor !== null);
    // UTF-8 byte order: U+FFFD (EF BF BD) sorts before U+1F600 (F0 9F 98 80).
    assert.deepEqual(seen, ['app:a', 'app:b', 'app:c\uFFFD', 'app:c\u{1F600}', 'app:d']);
    assert.equal(pages, 3);
    const all = await t.list('', 100, null, () => true);
    assert.equal(all.items.length, keys.length);
    assert.equal(all.nextCursor, null);
    await assert.rejects(t.list('', 10, '!!not-a-cursor', () => true), { code: 'WK_KV_INVALID_CURSOR' });
  });

  test('revision is monotonic across restart and the index is rebuilt', async () => {
    const f = await fresh();
    let t = await f.store.tenant('acme');
    for (let i = 0; i < 20; i++) await t.batch([put(`k${i}`, `v${i}`, i % 3 === 0 ? { ttlSeconds: 3600 } : {})]);
    await t.batch([{ op: 'delete', key: 'k5' }]);
    const rev = t.revision;
    await f.close();
    const g = await openStore({}, f);
    fixtures.push(g);
    t = await g.store.tenant('acme');
    assert.equal(t.revision, rev);
    assert.equal(await t.get('k5'), null);
    for (let i = 0; i < 20; i++) if (i !== 5) assert.equal((await t.get(`k${i}`))?.value.toString(), `v${i}`);
    assert.ok((await t.head('k3'))?.expiresAt !== null);
    assert.equal((await t.head('k4'))?.expiresAt, null);
    const r = await t.batch([put('new', 'n')]);
    assert.equal(r.revision, rev + 1);
  });

  test('TTL: expired items are invisible at once, then logged as expire events', async () => {
    let now = 1_000_000;
    const { store } = await fresh({ now: () => now, expirySweepMs: 20 });
    const t = await store.tenant('acme');
    const events: ChangeEvent[] = [];
    t.watch('', null, (e) => events.push(e));
    await t.batch([put('ttl', 'short', { ttlSeconds: 1 }), put('keep', 'long')]);
    assert.equal((await t.head('ttl'))?.expiresAt, now + 1000);
    now += 1001;
    assert.equal(await t.get('ttl'), null);
    assert.equal(await t.head('ttl'), null);
    assert.deepEqual((await t.list('', 10, null, () => true)).items.map((i) => i.key), ['keep']);
    // Create-only sees an expired item as absent; ifMatch on it fails.
    await assert.rejects(t.batch([put('ttl', 'x', { ifMatch: 1 })]), { code: 'WK_KV_PRECONDITION_FAILED' });
    for (let i = 0; i < 100 && !events.some((e) => e.type === 'expire'); i++) await new Promise((r) => setTimeout(r, 10));
    const expire = events.find((e) => e.type === 'expire');
    assert.equal(expire?.key, 'ttl');
    assert.ok(expire !== undefined && expire.revision > 1);
    await t.batch([put('ttl', 'again', { ifNoneMatch: true })]);
    assert.equal((await t.get('ttl'))?.value.toString(), 'again');
  });

  test('watch: replay from a revision, live events, prefix, and compacted history', async () => {
    const { store } = await fresh({ watchHistory: 5 });
    const t = await store.tenant('acme');
    await t.batch([put('w:1', 'a')]);
    await t.batch([put('x:1', 'b')]);
    await t.batch([{ op: 'delete', key: 'w:1' }]);
    const replay: ChangeEvent[] = [];
    const stop = t.watch('w:', 0, (e) => replay.push(e));
    assert.deepEqual(
      replay.map((e) => [e.type, e.key, e.revision]),
      [
        ['put', 'w:1', 1],
        ['delete', 'w:1', 3],
      ],
    );
    await t.batch([put('w:2', 'c'), put('x:2', 'd')]);
    assert.deepEqual(replay.at(-1), { revision: 4, type: 'put', key: 'w:2', version: 4, size: 1, contentType: 'text/plain' });
    assert.equal(replay.length, 3);
    stop();
    await t.batch([put('w:3', 'e')]);
    assert.equal(replay.length, 3);
    for (let i = 0; i < 5; i++) await t.batch([put('w:4', String(i))]);
    assert.throws(() => t.watch('', 1, () => {}), { code: 'WK_KV_REVISION_COMPACTED' });
    const recent: ChangeEvent[] = [];
    t.watch('', t.revision - 2, (e) => recent.push(e));
    assert.equal(recent.length, 2);
  });

  test('watch after restart cannot replay what happened before it', async () => {
    const f = await fresh();
    let t = await f.store.tenant('acme');
    await t.batch([put('a', '1')]);
    await t.batch([put('a', '2')]);
    await f.close();
    const g = await openStore({}, f);
    fixtures.push(g);
    t = await g.store.tenant('acme');
    assert.throws(() => t.watch('', 0, () => {}), { code: 'WK_KV_REVISION_COMPACTED' });
    const seen: ChangeEvent[] = [];
    t.watch('', 2, (e) => seen.push(e));
    await t.batch([put('a', '3')]);
    assert.equal(seen.length, 1);
  });

  test('group commit: concurrent writers share fsyncs and every one is durable', async () => {
    const f = await fresh();
    const t = await f.store.tenant('acme');
    const n = 200;
    const results = await Promise.all(Array.from({ length: n }, (_, i) => t.batch([put(`g${i}`, `v${i}`)])));
    const revisions = results.map((r) => r.revision).sort((a, b) => a - b);
    assert.deepEqual(revisions, Array.from({ length: n }, (_, i) => i + 1));
    const ts = await f.store.tenantStore('acme');
    // One group per fsync, each padded to a page: far fewer pages than writes.
    assert.ok(ts.activeSegment.file.pageCount < n / 4, `pages ${ts.activeSegment.file.pageCount}`);
  });

  test('keys and values never reach the disk in plaintext', async () => {
    const f = await fresh({ compactionMinBytes: 0 });
    const t = await f.store.tenant('acme');
    const marker = 'PLAINTEXT-MARKER-7f3a';
    const keyMarker = 'KEYMARK-91bd';
    for (let i = 0; i < 30; i++) {
      await t.batch([put(`${keyMarker}-${i}`, `${marker}-${i}-${'x'.repeat(i * 100)}`, { contentType: 'application/x-marker-ct' })]);
    }
    await (await f.store.tenantStore('acme')).compactNow();
    await f.close();
    const files = readAllFiles(f.dataDir);
    assert.ok(files.length >= 2);
    for (const { path, data } of files) {
      for (const needle of [marker, keyMarker, 'x-marker-ct']) {
        for (const enc of ['utf8', 'utf16le', 'base64'] as const) {
          assert.equal(data.includes(Buffer.from(needle, enc)), false, `${needle} (${enc}) found in ${path}`);
        }
      }
    }
    const g = await openStore({}, f);
    fixtures.push(g);
    assert.equal((await (await g.store.tenant('acme')).get(`${keyMarker}-3`))?.value.toString().slice(0, 27), `${marker}-3-xxx`);
  });

  test('bad keys and ttl are refused with codes', async () => {
    const { store } = await fresh();
    const t = await store.tenant('acme');
    await assert.rejects(t.batch([put('', 'x')]), { code: 'WK_KV_INVALID_KEY' });
    await assert.rejects(t.batch([put('k'.repeat(1025), 'x')]), { code: 'WK_KV_INVALID_KEY' });
    await assert.rejects(t.batch([put('\uD800', 'x')]), { code: 'WK_KV_INVALID_KEY' });
    await assert.rejects(t.batch([put('k', 'x', { ttlSeconds: -1 })]), { code: 'WK_KV_INVALID_REQUEST' });
    await t.batch([put('k'.repeat(1024), 'max')]);
    assert.equal(t.revision, 1);
  });

  test('closed store refuses work', async () => {
    const f = await openStore();
    const t = await f.store.tenant('acme');
    await t.batch([put('a', 'b')]);
    await f.close();
    removeDataDir(f.dataDir);
    await assert.rejects(t.get('a'), { code: 'WK_KV_STORE_CLOSED' });
    await assert.rejects(f.store.tenant('acme'), { code: 'WK_KV_STORE_CLOSED' });
  });
});
