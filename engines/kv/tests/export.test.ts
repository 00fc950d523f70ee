import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { get, type IncomingMessage } from 'node:http';
import { after, before, describe, test } from 'node:test';
import { promisify } from 'node:util';
import { request } from 'undici';
import { DEFAULT_ROLES, startTestEngine, type TestEngine } from '../src/testing/test-engine.js';
import { client, errorCode } from './helpers.js';

const exec = promisify(execFile);

const ROLES = `${DEFAULT_ROLES.replace('users:', `  - name: exporter
    allow: [SELECT, "COPY TO"]
  - name: app_exporter
    allow: ["COPY TO"]
    on: ["app:*"]
  - name: selector
    allow: [SELECT]
users:`)}`;

let e: TestEngine;
let admin: ReturnType<typeof client>;
let exporterAuth: string;

interface Line {
  key: string;
  version: number;
  content_type: string;
  expires_at: string | null;
  value_base64: string;
}

// biome-ignore lint/suspicious/noExplicitAny: audit JSON
async function auditEvents(): Promise<any[]> {
  return (await readFile(e.auditFile, 'utf8'))
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l));
}

function parseNdjson(text: string): Line[] {
  assert.ok(text === '' || text.endsWith('\n'), 'every line ends with a newline');
  return text
    .split('\n')
    .filter((l) => l.length > 0)
    .map((l) => JSON.parse(l));
}

async function exportAs(authorization: string, prefix: string): Promise<{ status: number; type: string; requestId: string; body: string }> {
  const res = await request(`${e.url}/export?prefix=${encodeURIComponent(prefix)}`, { headers: { authorization } });
  return { status: res.statusCode, type: String(res.headers['content-type']), requestId: String(res.headers['x-request-id']), body: await res.body.text() };
}

describe('GET /export', () => {
  const values = new Map<string, Buffer>();

  before(async () => {
    e = await startTestEngine({ roles: ROLES, env: { WEFTKIT_AUDIT_EVENTS: 'auth,authz_deny,data_export' } });
    admin = client(e.url, `Bearer ${await e.token({ roles: ['superuser'] })}`);
    exporterAuth = `Bearer ${await e.token({ sub: 'exp', roles: ['exporter'] })}`;
    for (const key of ['exp:a', 'exp:b', 'exp:c', 'exq:1', 'ex', 'app:1', 'app:2', 'other:1']) {
      const value = randomBytes(40 + key.length);
      values.set(key, value);
      const r = await admin('PUT', `/items/${key}`, { body: value, headers: { 'content-type': key === 'exp:b' ? 'image/png' : 'application/octet-stream' } });
      assert.equal(r.status, 200);
    }
  });
  after(async () => e.close());

  test('exports exactly the items under the prefix, in key order, with their base64 values; audited', async () => {
    const r = await exportAs(exporterAuth, 'exp:');
    assert.equal(r.status, 200);
    assert.equal(r.type, 'application/x-ndjson');
    const lines = parseNdjson(r.body);
    assert.deepEqual(
      lines.map((l) => l.key),
      ['exp:a', 'exp:b', 'exp:c'],
    );
    for (const l of lines) {
      assert.deepEqual(Object.keys(l), ['key', 'version', 'content_type', 'expires_at', 'value_base64']);
      assert.deepEqual(Buffer.from(l.value_base64, 'base64'), values.get(l.key));
      assert.equal(l.expires_at, null);
      const head = await admin('HEAD', `/items/${encodeURIComponent(l.key)}`);
      assert.equal(String(l.version), head.headers['x-weftkit-version']);
    }
    assert.equal(lines[1]!.content_type, 'image/png');
    const mine = (await auditEvents()).filter((ev) => ev.request_id === r.requestId && ev.event !== 'auth');
    assert.deepEqual(
      mine.map((ev) => [ev.event, ev.operation, ev.resource, ev.result]),
      [
        ['data_export', 'kv.export.start', 'exp:', 'success'],
        ['data_export', 'kv.export.end', 'exp:', 'success'],
      ],
    );
    assert.deepEqual(mine[1].details, { items: 3, bytes: Buffer.byteLength(r.body), completed: true });
  });

  test('curl gets the same stream; no prefix exports everything', async () => {
    const { stdout } = await exec('curl', ['-sS', '--fail', '-H', `authorization: ${exporterAuth}`, `${e.url}/export`]);
    const keys = parseNdjson(stdout).map((l) => l.key);
    assert.deepEqual(keys, [...values.keys()].sort());
  });

  test('SELECT without COPY TO is 403, audited as authz_deny, and nothing is exported', async () => {
    const selector = `Bearer ${await e.token({ sub: 'sel', roles: ['selector'] })}`;
    const r = await exportAs(selector, 'exp:');
    assert.equal(r.status, 403);
    assert.equal(JSON.parse(r.body).error.code, 'WK_AUTHZ_ACCESS_DENIED');
    assert.ok(!r.body.includes('value_base64'));
    const mine = (await auditEvents()).filter((ev) => ev.request_id === r.requestId && ev.event !== 'auth');
    assert.equal(mine.length, 1);
    assert.equal(mine[0].event, 'authz_deny');
    assert.equal(mine[0].operation, 'kv.export');
    assert.equal(mine[0].resource, 'exp:');
    assert.equal(mine[0].details.action, 'COPY TO');
    // read_write (SELECT, INSERT, UPDATE, DELETE) has no COPY TO either.
    const rw = client(e.url, `Bearer ${await e.token()}`);
    assert.equal(errorCode(await rw('GET', '/export')), 'WK_AUTHZ_ACCESS_DENIED');
  });

  test('COPY TO on app:* only exports only app: keys', async () => {
    const appExporter = `Bearer ${await e.token({ sub: 'appexp', roles: ['app_exporter'] })}`;
    const all = await exportAs(appExporter, '');
    assert.equal(all.status, 200);
    assert.deepEqual(
      parseNdjson(all.body).map((l) => l.key),
      ['app:1', 'app:2'],
    );
    const none = await exportAs(appExporter, 'exp:');
    assert.equal(none.status, 200);
    assert.equal(none.body, '');
  });

  test('values never appear in the audit file', async () => {
    const marker = 'export-marker-value-7d41c9';
    await admin('PUT', '/items/exp:marker', { body: marker });
    const r = await exportAs(exporterAuth, 'exp:');
    assert.ok(r.body.includes(Buffer.from(marker).toString('base64')));
    const text = await readFile(e.auditFile, 'utf8');
    assert.ok(text.includes(r.requestId), 'the export is audited');
    assert.ok(!text.includes(marker));
    assert.ok(!text.includes(Buffer.from(marker).toString('base64')));
    for (const value of values.values()) assert.ok(!text.includes(value.toString('base64')));
    await admin('DELETE', '/items/exp:marker');
  });

  test('expired items are not exported', async () => {
    await admin('PUT', '/items/ttl:short', { body: 'gone soon', headers: { 'x-weftkit-ttl-seconds': '1' } });
    await admin('PUT', '/items/ttl:long', { body: 'stays', headers: { 'x-weftkit-ttl-seconds': '600' } });
    const early = parseNdjson((await exportAs(exporterAuth, 'ttl:')).body);
    assert.deepEqual(
      early.map((l) => l.key),
      ['ttl:long', 'ttl:short'],
    );
    await new Promise((r) => setTimeout(r, 1200));
    const lines = parseNdjson((await exportAs(exporterAuth, 'ttl:')).body);
    assert.deepEqual(
      lines.map((l) => l.key),
      ['ttl:long'],
    );
    assert.ok(Date.parse(lines[0]!.expires_at!) > Date.now() + 500_000);
  });

  test('a large export streams with backpressure while other requests keep answering', async () => {
    const count = 5000;
    const bigValue = (i: number): Buffer => Buffer.alloc(1024, `big-${i}-`);
    const keyOf = (i: number): string => `big:${String(i).padStart(5, '0')}`;
    for (let start = 0; start < count; start += 1000) {
      const ops = Array.from({ length: 1000 }, (_, j) => ({ op: 'put', key: keyOf(start + j), value_base64: bigValue(start + j).toString('base64') }));
      const r = await admin('POST', '/batch', { body: JSON.stringify({ ops }), headers: { 'content-type': 'application/json' } });
      assert.equal(r.status, 200, r.buf.toString());
    }

    // A client that does not read: the export must stall on backpressure instead of buffering
    // everything (about 7 MB) in the server.
    const url = new URL(`${e.url}/export?prefix=big:`);
    const res = await new Promise<IncomingMessage>((resolve, reject) => {
      get(url, { headers: { authorization: exporterAuth } }, resolve).on('error', reject);
    });
    assert.equal(res.statusCode, 200);
    res.pause();
    const requestId = String(res.headers['x-request-id']);
    await new Promise((r) => setTimeout(r, 1500));
    const ended = async (): Promise<boolean> => (await auditEvents()).some((ev) => ev.request_id === requestId && ev.operation === 'kv.export.end');
    assert.equal(await ended(), false, 'a paused client holds the export back');

    // Meanwhile the server answers others, including while the stream is being read below.
    const probe = async (): Promise<number> => {
      const t0 = performance.now();
      const r = await admin('GET', '/items/exp:a');
      assert.equal(r.status, 200);
      return performance.now() - t0;
    };
    assert.ok((await probe()) < 1000);

    const chunks: Buffer[] = [];
    const done = new Promise<void>((resolve, reject) => {
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', resolve);
      res.on('error', reject);
    });
    res.resume();
    const probes: number[] = [];
    let finished = false;
    void done.then(() => {
      finished = true;
    });
    while (!finished && probes.length < 20) probes.push(await probe());
    await done;
    assert.ok(probes.length > 0);
    assert.ok(Math.max(...probes) < 1000, `probe latencies ${probes.map((p) => p.toFixed(0)).join(',')}`);

    const lines = parseNdjson(Buffer.concat(chunks).toString());
    assert.equal(lines.length, count);
    lines.forEach((l, i) => {
      assert.equal(l.key, keyOf(i));
      assert.ok(Buffer.from(l.value_base64, 'base64').equals(bigValue(i)), l.key);
    });
    assert.equal(await ended(), true);
    const end = (await auditEvents()).find((ev) => ev.request_id === requestId && ev.operation === 'kv.export.end');
    assert.equal(end.details.items, count);
  });

  test('the route is in the OpenAPI document', async () => {
    const doc = (await client(e.url)('GET', '/openapi.json')).json;
    const op = doc.paths['/export'].get;
    assert.equal(op.operationId, 'exportItems');
    assert.ok(op.responses['200'].content['application/x-ndjson']);
    assert.ok(op.responses['403']);
    assert.deepEqual(
      op.parameters.map((p: { name: string }) => p.name),
      ['prefix'],
    );
  });
});
