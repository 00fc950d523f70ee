import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { request } from 'undici';
import type { TenantStore, WriteOp } from '../store/kv-store.js';
import { MemoryKvStore } from '../testing/memory-store.js';
import { startTestEngine } from '../testing/test-engine.js';

class FullDiskStore extends MemoryKvStore {
  override async tenant(name: string): Promise<Awaited<ReturnType<MemoryKvStore['tenant']>>> {
    const t = await super.tenant(name);
    (t as TenantStore as { batch: (ops: readonly WriteOp[]) => Promise<unknown> }).batch = async () => {
      throw Object.assign(new Error('write failed: secret-path'), { code: 'ENOSPC' });
    };
    return t;
  }
}

class BrokenStore extends MemoryKvStore {
  override async tenant(): Promise<never> {
    throw new Error('internal detail that must not reach the client');
  }
}

describe('error replies', () => {
  test('a full disk is 507 WK_KV_INSUFFICIENT_STORAGE; internal errors are a generic 500, logged with the request id', async () => {
    const full = await startTestEngine({ store: async () => new FullDiskStore() });
    const broken = await startTestEngine({ store: async () => new BrokenStore() });
    try {
      const r = await request(`${full.url}/items/k`, { method: 'PUT', body: 'v', headers: { authorization: `Bearer ${await full.token()}` } });
      assert.equal(r.statusCode, 507);
      assert.equal(((await r.body.json()) as { error: { code: string } }).error.code, 'WK_KV_INSUFFICIENT_STORAGE');
      const b = await request(`${broken.url}/items/k`, { headers: { authorization: `Bearer ${await broken.token()}`, 'x-request-id': 'req-500' } });
      assert.equal(b.statusCode, 500);
      assert.deepEqual(await b.body.json(), { error: { code: 'WK_INTERNAL', message: 'internal error', request_id: 'req-500' } });
      const logged = broken.logs.map((l) => JSON.parse(l)).find((l) => l.request_id === 'req-500');
      assert.equal(logged?.level, 'error');
    } finally {
      await full.close();
      await broken.close();
    }
  });
});
