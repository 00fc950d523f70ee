import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ByteQueue } from './byte-queue.js';

test('views handed out and chunks pushed in are never written afterwards', () => {
  let seed = 7;
  const rand = (n: number): number => {
    seed = (seed * 1103515245 + 12345) & 0x7fffffff;
    return seed % n;
  };
  const q = new ByteQueue();
  const chunks: [Buffer, Buffer][] = [];
  const views: [Buffer, Buffer][] = [];
  let next = 0;
  for (let k = 0; k < 2000; k++) {
    const chunk = Buffer.alloc(1 + rand(40));
    for (let i = 0; i < chunk.length; i++) chunk[i] = next++ & 0xff;
    chunks.push([chunk, Buffer.from(chunk)]);
    q.push(chunk);
    const take = rand(q.length + 1);
    if (take > 0) {
      const view = q.buf.subarray(q.start, q.start + take);
      views.push([view, Buffer.from(view)]);
      q.consume(take);
    }
  }
  for (const [live, copy] of [...chunks, ...views]) assert.deepEqual(live, copy);
});

test('storage grows with bytes received, at most twice what is held', () => {
  const q = new ByteQueue();
  q.push(Buffer.alloc(5));
  for (let i = 0; i < 100; i++) {
    q.push(Buffer.alloc(1000));
    assert.ok(q.capacity <= 2 * q.length, `${q.capacity} for ${q.length}`);
  }
  q.consume(q.length);
  assert.equal(q.capacity, 0);
});
