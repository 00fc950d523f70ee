import assert from 'node:assert/strict';
import { connect, type Socket } from 'node:net';
import { after, before, describe, test } from 'node:test';
import { request } from 'undici';
import { startTestEngine, type TestEngine } from '../src/testing/test-engine.js';
import { call, client } from './helpers.js';

let e: TestEngine;

function open(port: number): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const s = connect(port, '127.0.0.1', () => resolve(s));
    s.on('error', reject);
  });
}

function closedWithin(s: Socket, ms: number): Promise<{ closed: boolean; data: string; afterMs: number }> {
  const started = Date.now();
  let data = '';
  s.on('data', (d) => {
    data += d.toString();
  });
  return new Promise((resolve) => {
    const t = setTimeout(() => resolve({ closed: false, data, afterMs: Date.now() - started }), ms);
    s.once('close', () => {
      clearTimeout(t);
      resolve({ closed: true, data, afterMs: Date.now() - started });
    });
  });
}

describe('timeouts, floods, ops port', () => {
  before(async () => {
    e = await startTestEngine({ env: { WEFTKIT_MAX_CONNECTIONS: '200' }, timeouts: { headersMs: 500, requestMs: 1000, idleMs: 3000, keepAliveMs: 1000 } });
  });
  after(async () => e.close());

  test('a client trickling its headers is cut by the headers timeout', async () => {
    const s = await open(e.server.address.port);
    s.write('GET /items/x HTTP/1.1\r\nHost: localhost\r\n');
    const drip = setInterval(() => s.writable && s.write('X-Slow: 1\r\n'), 100);
    const r = await closedWithin(s, 5000);
    clearInterval(drip);
    assert.ok(r.closed, 'socket still open');
    assert.ok(r.afterMs < 3000);
    assert.match(r.data, /^HTTP\/1\.1 408/);
  });

  test('a client stalling its body is cut by the request timeout', async () => {
    const s = await open(e.server.address.port);
    s.write(`PUT /items/slow HTTP/1.1\r\nHost: localhost\r\nAuthorization: Bearer ${await e.token()}\r\nContent-Length: 1000\r\n\r\n0123456789`);
    const r = await closedWithin(s, 5000);
    assert.ok(r.closed, 'socket still open');
    assert.ok(r.afterMs < 4000);
    assert.equal((await client(e.url, `Bearer ${await e.token()}`)('GET', '/items/slow')).status, 404);
  });

  test('500 connections at once do not crash the server; it serves afterwards', async () => {
    const sockets = await Promise.all(
      Array.from({ length: 500 }, () =>
        open(e.server.address.port).then(
          (s) => {
            s.on('error', () => {});
            s.write('GET /items/flood HTTP/1.1\r\nHost: localhost\r\n');
            return s;
          },
          () => null,
        ),
      ),
    );
    await new Promise((r) => setTimeout(r, 200));
    for (const s of sockets) s?.destroy();
    await new Promise((r) => setTimeout(r, 100));
    const ok = await client(e.url, `Bearer ${await e.token()}`)('PUT', '/items/after-flood', { body: 'alive' });
    assert.equal(ok.status, 200);
    const health = await call(`http://127.0.0.1:${e.server.opsAddress.port}`, 'GET', '/healthz');
    assert.equal(health.status, 200);
  });

  test('ops: /healthz, /readyz and Prometheus /metrics with routes, statuses, latency and auth failures', async () => {
    const ops = `http://127.0.0.1:${e.server.opsAddress.port}`;
    await client(e.url)('GET', '/items/x');
    await client(e.url, `Bearer ${await e.token()}`)('GET', '/items/x');
    assert.equal((await call(ops, 'GET', '/healthz')).status, 200);
    assert.equal((await call(ops, 'GET', '/readyz')).status, 200);
    const text = (await call(ops, 'GET', '/metrics')).buf.toString();
    assert.match(text, /weftkit_kv_http_requests_total\{route="\/items\/\*",method="GET",status="404"\} \d+/);
    assert.match(text, /weftkit_kv_http_requests_total\{route="\/items\/\*",method="GET",status="401"\} \d+/);
    assert.match(text, /weftkit_kv_http_request_duration_seconds_bucket\{route="\/items\/\*",le="\+Inf"\} \d+/);
    assert.match(text, /weftkit_kv_auth_failures_total\{method="none"\} [1-9]/);
    assert.match(text, /weftkit_kv_store_revision\{tenant="t1"\} [1-9]/);
    assert.ok(!text.includes('after-flood'), 'keys never appear in metrics');
  });
});

describe('shutdown', () => {
  test('close() drains an in-flight request, refuses new ones and reports not ready', async () => {
    const s = await startTestEngine();
    const token = await s.token();
    const sock = await open(s.server.address.port);
    const reply = closedWithin(sock, 8000);
    sock.write(`PUT /items/in-flight HTTP/1.1\r\nHost: localhost\r\nAuthorization: Bearer ${token}\r\nContent-Length: 10\r\n\r\n01234`);
    await new Promise((r) => setTimeout(r, 100));
    const closing = s.close();
    await new Promise((r) => setTimeout(r, 100));
    const ready = await request(`http://127.0.0.1:${s.server.opsAddress.port}/readyz`).then((r) => r.statusCode, () => 0);
    assert.ok(ready === 503 || ready === 0);
    sock.write('56789');
    const r = await reply;
    assert.match(r.data, /^HTTP\/1\.1 200/);
    const started = Date.now();
    await closing;
    assert.ok(Date.now() - started < 5000);
  });
});
