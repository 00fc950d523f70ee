import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { request } from 'undici';
import { startTestEngine, type TestEngine } from '../src/testing/test-engine.js';
import { client } from './helpers.js';

let e: TestEngine;
let kv: ReturnType<typeof client>;

interface Sse {
  events: { event: string; id?: string; data: Record<string, unknown> }[];
  comments: string[];
  ended: Promise<void>;
  status: number;
  waitFor(n: number, timeoutMs?: number): Promise<void>;
  close(): void;
}

async function watch(path: string, authorization: string): Promise<Sse> {
  const res = await request(`${e.url}${path}`, { headers: { authorization } });
  const sse: Sse = {
    events: [],
    comments: [],
    status: res.statusCode,
    ended: Promise.resolve(),
    waitFor: async (n, timeoutMs = 5000) => {
      const until = Date.now() + timeoutMs;
      while (sse.events.length < n) {
        if (Date.now() > until) throw new Error(`only ${sse.events.length} events`);
        await new Promise((r) => setTimeout(r, 20));
      }
    },
    close: () => res.body.destroy(),
  };
  let buffer = '';
  sse.ended = (async () => {
    try {
      for await (const chunk of res.body) {
        buffer += chunk.toString();
        for (let idx = buffer.indexOf('\n\n'); idx >= 0; idx = buffer.indexOf('\n\n')) {
          const block = buffer.slice(0, idx);
          buffer = buffer.slice(idx + 2);
          const fields: Record<string, string> = {};
          for (const line of block.split('\n')) {
            if (line.startsWith(':')) sse.comments.push(line.slice(1).trim());
            else {
              const c = line.indexOf(':');
              fields[line.slice(0, c)] = line.slice(c + 1).trim();
            }
          }
          if (fields.data !== undefined) sse.events.push({ event: fields.event ?? 'message', ...(fields.id ? { id: fields.id } : {}), data: JSON.parse(fields.data) });
        }
      }
    } catch {
      // destroyed by the test
    }
  })();
  return sse;
}

describe('GET /watch', () => {
  before(async () => {
    e = await startTestEngine({ heartbeatMs: 100 });
    kv = client(e.url, `Bearer ${await e.token()}`);
  });
  after(async () => e.close());

  test('streams puts and deletes under the prefix as server-sent events, with heartbeats', async () => {
    const sse = await watch('/watch?prefix=w:', `Bearer ${await e.token()}`);
    assert.equal(sse.status, 200);
    const put = await kv('PUT', '/items/w:1', { body: 'abc', headers: { 'content-type': 'text/plain' } });
    await kv('PUT', '/items/elsewhere', { body: 'x' });
    await kv('DELETE', '/items/w:1');
    await sse.waitFor(2);
    assert.deepEqual(sse.events[0], {
      event: 'put',
      id: String(put.json.version),
      data: { revision: put.json.version, type: 'put', key: 'w:1', version: put.json.version, size: 3, content_type: 'text/plain' },
    });
    assert.equal(sse.events[1]!.event, 'delete');
    await new Promise((r) => setTimeout(r, 250));
    assert.ok(sse.comments.includes('heartbeat'));
    assert.equal(sse.events.length, 2, 'keys outside the prefix are not sent');
    sse.close();
  });

  test('from_revision replays retained changes first', async () => {
    const first = await kv('PUT', '/items/r:1', { body: '1' });
    await kv('PUT', '/items/r:2', { body: '2' });
    const sse = await watch(`/watch?prefix=r:&from_revision=${first.json.version - 1}`, `Bearer ${await e.token()}`);
    await sse.waitFor(2);
    assert.deepEqual(sse.events.map((ev) => ev.data.key), ['r:1', 'r:2']);
    sse.close();
  });

  test('events are filtered by the key patterns the caller may read', async () => {
    const sse = await watch('/watch', `Bearer ${await e.token({ sub: 'r', roles: ['app_reader'] })}`);
    await kv('PUT', '/items/secret:1', { body: 'x' });
    await kv('PUT', '/items/app:visible', { body: 'x' });
    await sse.waitFor(1);
    await new Promise((r) => setTimeout(r, 100));
    assert.deepEqual(sse.events.map((ev) => ev.data.key), ['app:visible']);
    sse.close();
  });

  test('shutdown ends open streams cleanly and promptly', async () => {
    const other = await startTestEngine({ heartbeatMs: 100 });
    const res = await request(`${other.url}/watch`, { headers: { authorization: `Bearer ${await other.token()}` } });
    assert.equal(res.statusCode, 200);
    const text = res.body.text();
    const started = Date.now();
    await other.close();
    assert.ok(Date.now() - started < 3000);
    assert.match(await text, /event: shutdown/);
  });
});
