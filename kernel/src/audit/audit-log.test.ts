import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import type { FileHandle } from 'node:fs/promises';
import { appendFile, mkdtemp, open, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, afterEach, before, describe, test } from 'node:test';
import { mintSecurityContext } from '../identity/security-context.js';
import { openAuditLog } from './audit-log.js';
import { listAuditFiles } from './rotated-files.js';
import { verifyAuditFiles } from './verify.js';

let root: string;
let n = 0;
const fresh = (): string => join(root, `case-${++n}`, 'audit.jsonl');

before(async () => {
  root = await mkdtemp(join(tmpdir(), 'wk-audit-'));
});
after(() => rm(root, { recursive: true, force: true }));

const ctx = mintSecurityContext({
  identity: 'alice',
  tenant: 'tenant-001',
  roles: ['read_write'],
  authMethod: 'password',
  peer: '10.1.2.3:51515',
  connectionId: 'conn-1',
  requestId: 'req-1',
});

const read = async (path: string): Promise<Record<string, unknown>[]> =>
  (await readFile(path, 'utf8'))
    .trimEnd()
    .split('\n')
    .map((l) => JSON.parse(l) as Record<string, unknown>);

// Independent of canonical-json.ts.
function canon(value: unknown): string {
  return JSON.stringify(value, (_k, v) =>
    v !== null && typeof v === 'object' && !Array.isArray(v) ? Object.fromEntries(Object.entries(v).sort(([a], [b]) => (a < b ? -1 : 1))) : v,
  );
}
const sha256 = (s: string): string => createHash('sha256').update(Buffer.from(s, 'utf8')).digest('hex');

type DatasyncHook = (this: FileHandle, original: () => Promise<void>) => Promise<void>;
let restoreDatasync: (() => void) | undefined;
async function hookDatasync(hook: DatasyncHook): Promise<void> {
  const probe = await open(join(root, 'probe'), 'w');
  const proto = Object.getPrototypeOf(probe) as { datasync: FileHandle['datasync'] };
  await probe.close();
  const original = proto.datasync;
  proto.datasync = function (this: FileHandle) {
    return hook.call(this, () => original.call(this));
  };
  restoreDatasync = () => {
    proto.datasync = original;
  };
}
afterEach(() => {
  restoreDatasync?.();
  restoreDatasync = undefined;
});

describe('records and chain', () => {
  test('each line carries the fields, and hash/prev_hash match an independent recomputation', async () => {
    const path = fresh();
    const log = await openAuditLog({ output: path, events: ['auth', 'data_read'] });
    const s1 = await log.append(ctx, { event: 'data_read', operation: 'sql.select', resource: 'public.t', result: 'success', latencyMs: 1.23456, details: { rowCount: 2 } });
    const s2 = await log.appendUnauthenticated({ event: 'auth', identity: 'bob', tenant: null, peer: '[::1]:4000', operation: 'login', result: 'failure', errorCode: '28P01' });
    await log.close();
    assert.deepEqual([s1, s2], [1, 2]);
    const [a, b] = await read(path);
    assert.deepEqual(Object.keys(a!), [
      'seq', 'ts', 'event', 'identity', 'tenant', 'operation', 'resource', 'result', 'source_ip',
      'connection_id', 'request_id', 'latency_ms', 'details', 'prev_hash', 'hash',
    ]);
    assert.equal(a!.prev_hash, '0'.repeat(64));
    assert.match(a!.ts as string, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);
    assert.deepEqual(
      { identity: a!.identity, tenant: a!.tenant, source_ip: a!.source_ip, connection_id: a!.connection_id, request_id: a!.request_id, latency_ms: a!.latency_ms, details: a!.details },
      { identity: 'alice', tenant: 'tenant-001', source_ip: '10.1.2.3', connection_id: 'conn-1', request_id: 'req-1', latency_ms: 1.235, details: { rowCount: 2 } },
    );
    assert.deepEqual({ identity: b!.identity, tenant: b!.tenant, source_ip: b!.source_ip, error_code: b!.error_code, seq: b!.seq }, { identity: 'bob', tenant: null, source_ip: '::1', error_code: '28P01', seq: 2 });
    for (const r of [a!, b!]) {
      const { hash, ...rest } = r;
      assert.equal(hash, sha256(canon(rest)));
    }
    assert.equal(b!.prev_hash, a!.hash);
  });

  test('creates the directory 0700 and the file 0600', async () => {
    const path = fresh();
    const log = await openAuditLog({ output: path });
    await log.close();
    assert.equal((await stat(join(path, '..'))).mode & 0o777, 0o700);
    assert.equal((await stat(path)).mode & 0o777, 0o600);
  });

  test('a reopened log continues seq and prev_hash', async () => {
    const path = fresh();
    let log = await openAuditLog({ output: path });
    await log.append(ctx, { event: 'auth', operation: 'login', result: 'success' });
    await log.close();
    log = await openAuditLog({ output: path });
    assert.equal(await log.append(ctx, { event: 'auth', operation: 'login', result: 'success' }), 2);
    await log.close();
    const r = await verifyAuditFiles([path]);
    assert.deepEqual([r.ok, r.events, r.last?.seq], [true, 2, 2]);
  });

  test('the events option filters, and the default records auth but not data_read', async () => {
    const path = fresh();
    const log = await openAuditLog({ output: path, events: ['data_write'] });
    assert.equal(await log.append(ctx, { event: 'auth', operation: 'login', result: 'success' }), null);
    assert.equal(await log.append(ctx, { event: 'data_write', operation: 'kv.put', result: 'success' }), 1);
    assert.equal(log.records('data_write'), true);
    await log.close();
    assert.deepEqual((await read(path)).map((r) => r.event), ['data_write']);
    const def = await openAuditLog({ output: fresh() });
    assert.equal(def.records('auth') && def.records('authz_deny') && def.records('schema_change') && def.records('data_export'), true);
    assert.equal(def.records('data_read') || def.records('data_write') || def.records('admin'), false);
    await def.close();
  });

  test('bad options, a hand-built context, unknown types and appends after close are refused with codes', async () => {
    await assert.rejects(openAuditLog({ output: fresh(), events: ['auth', 'everything' as 'auth'] }), { code: 'WK_AUDIT_INVALID_OPTION' });
    await assert.rejects(openAuditLog({ output: fresh(), maxBytes: -1 }), { code: 'WK_AUDIT_INVALID_OPTION' });
    await assert.rejects(openAuditLog({ output: root }), { code: 'WK_AUDIT_OPEN_FAILED' });
    const log = await openAuditLog({ output: fresh() });
    await assert.rejects(log.append({ ...ctx }, { event: 'auth', operation: 'login', result: 'success' }), TypeError);
    await assert.rejects(log.append(ctx, { event: 'nope' as 'auth', operation: 'login', result: 'success' }), TypeError);
    await log.close();
    await assert.rejects(log.append(ctx, { event: 'auth', operation: 'login', result: 'success' }), { code: 'WK_AUDIT_CLOSED' });
  });
});

describe('durability and group commit', () => {
  test('append resolves only after fdatasync has completed', async () => {
    const log = await openAuditLog({ output: fresh() });
    let release!: () => void;
    const gate = new Promise<void>((r) => {
      release = r;
    });
    let synced = false;
    await hookDatasync(async (original) => {
      await gate;
      await original();
      synced = true;
    });
    let settled = false;
    const p = log.append(ctx, { event: 'auth', operation: 'login', result: 'success' }).then((seq) => {
      settled = true;
      assert.equal(synced, true);
      return seq;
    });
    await new Promise((r) => setTimeout(r, 50));
    assert.equal(settled, false);
    release();
    assert.equal(await p, 1);
    await log.close();
  });

  test('appends arriving while a sync is in flight go out as one write and one sync', async () => {
    const log = await openAuditLog({ output: fresh() });
    let release!: () => void;
    const gate = new Promise<void>((r) => {
      release = r;
    });
    let syncs = 0;
    await hookDatasync(async (original) => {
      syncs++;
      if (syncs === 1) await gate;
      await original();
    });
    const first = log.append(ctx, { event: 'auth', operation: 'login', result: 'success' });
    await new Promise((r) => setTimeout(r, 10));
    const rest: Promise<number | null>[] = [];
    for (let i = 0; i < 20; i++) {
      rest.push(log.append(ctx, { event: 'auth', operation: 'login', result: 'success' }));
      await new Promise((r) => setImmediate(r));
    }
    assert.equal(syncs, 1);
    release();
    await Promise.all([first, ...rest]);
    assert.equal(syncs, 2);
    assert.equal(log.stats().writes, 2);
    await log.close();
  });

  test('1000 concurrent appends: strictly increasing seq, a valid chain, far fewer syncs than events', async () => {
    const path = fresh();
    const log = await openAuditLog({ output: path });
    const seqs = await Promise.all(
      Array.from({ length: 1000 }, (_, i) => log.append(ctx, { event: 'auth', operation: 'login', result: 'success', details: { i } })),
    );
    const stats = log.stats();
    await log.close();
    assert.deepEqual(seqs, Array.from({ length: 1000 }, (_, i) => i + 1));
    const records = await read(path);
    assert.deepEqual(records.map((r) => r.seq), seqs);
    assert.equal((await verifyAuditFiles([path])).ok, true);
    assert.ok(stats.syncs < 10, `syncs ${stats.syncs}`);
  });

  test('a failed fdatasync rejects the waiting append and every later one', async () => {
    const log = await openAuditLog({ output: fresh() });
    await hookDatasync(async () => {
      throw Object.assign(new Error('EIO'), { code: 'EIO' });
    });
    await assert.rejects(log.append(ctx, { event: 'auth', operation: 'login', result: 'success' }), { code: 'WK_AUDIT_WRITE_FAILED' });
    await assert.rejects(log.append(ctx, { event: 'auth', operation: 'login', result: 'success' }), { code: 'WK_AUDIT_WRITE_FAILED' });
    restoreDatasync?.();
    await log.close();
  });
});

describe('start-up', () => {
  async function writeEvents(path: string, count: number): Promise<void> {
    const log = await openAuditLog({ output: path });
    for (let i = 0; i < count; i++) await log.append(ctx, { event: 'auth', operation: 'login', result: 'success', details: { i } });
    await log.close();
  }

  test('a broken chain refuses to start, naming the first bad seq', async () => {
    const path = fresh();
    await writeEvents(path, 5);
    const text = await readFile(path, 'utf8');
    await writeFile(path, text.replace('"i":2', '"i":9'));
    await assert.rejects(openAuditLog({ output: path }), (err: { code?: string; firstBadSeq?: number }) => {
      assert.equal(err.code, 'WK_AUDIT_CHAIN_BROKEN');
      assert.equal(err.firstBadSeq, 3);
      return true;
    });
    assert.equal(await readFile(path, 'utf8'), text.replace('"i":2', '"i":9'));
  });

  test('allowBrokenChain starts, records the break as a chained event, and keeps appending', async () => {
    const path = fresh();
    await writeEvents(path, 5);
    await writeFile(path, (await readFile(path, 'utf8')).replace('"i":2', '"i":9'));
    const log = await openAuditLog({ output: path, allowBrokenChain: true });
    assert.equal(await log.append(ctx, { event: 'auth', operation: 'login', result: 'success' }), 7);
    await log.close();
    const records = await read(path);
    const note = records[5]!;
    assert.equal(note.event, 'admin');
    assert.equal(note.operation, 'audit.chain_broken');
    assert.equal((note.details as { first_bad_seq: number }).first_bad_seq, 3);
    assert.equal(note.seq, 6);
    assert.equal(note.prev_hash, records[4]!.hash);
    const { hash, ...rest } = note;
    assert.equal(hash, sha256(canon(rest)));
    assert.equal(records[6]!.prev_hash, hash);
    assert.equal((await verifyAuditFiles([path])).firstBadSeq, 3);
  });

  test('a torn last line is cut, recorded, and the log continues valid', async () => {
    const path = fresh();
    await writeEvents(path, 3);
    const torn = '{"seq":4,"ts":"2030-01-01T00:00:00.000Z","event":"auth","identity":"TORN-';
    await appendFile(path, torn);
    const log = await openAuditLog({ output: path });
    assert.equal(await log.append(ctx, { event: 'auth', operation: 'login', result: 'success' }), 5);
    await log.close();
    const text = await readFile(path, 'utf8');
    assert.ok(!text.includes('TORN-'));
    const records = await read(path);
    assert.equal(records[3]!.operation, 'audit.torn_tail_cut');
    assert.equal((records[3]!.details as { bytes_cut: number }).bytes_cut, Buffer.byteLength(torn));
    assert.deepEqual((await verifyAuditFiles([path])).events, 5);
  });

  test('a torn tail is not cut when the chain before it refuses to start', async () => {
    const path = fresh();
    await writeEvents(path, 3);
    await writeFile(path, `${(await readFile(path, 'utf8')).replace('"i":1', '"i":7')}{"seq":4`);
    await assert.rejects(openAuditLog({ output: path }), { code: 'WK_AUDIT_CHAIN_BROKEN' });
    assert.ok((await readFile(path, 'utf8')).endsWith('{"seq":4'));
  });
});

describe('rotation', () => {
  test('rotates by size; the chain and seq continue across files and verify passes over them', async () => {
    const path = fresh();
    const maxBytes = 2048;
    let log = await openAuditLog({ output: path, maxBytes });
    for (let i = 0; i < 40; i++) await log.append(ctx, { event: 'auth', operation: 'login', result: 'success', details: { i } });
    await Promise.all(Array.from({ length: 40 }, () => log.append(ctx, { event: 'auth', operation: 'login', result: 'success' })));
    assert.ok(log.stats().rotations >= 3);
    await log.close();
    log = await openAuditLog({ output: path, maxBytes });
    assert.equal(await log.append(ctx, { event: 'auth', operation: 'login', result: 'success' }), 81);
    await log.close();

    const files = await listAuditFiles(path);
    assert.deepEqual(files.slice(0, 3), [`${path}.1`, `${path}.2`, `${path}.3`]);
    assert.equal(files.at(-1), path);
    for (const f of files) assert.ok((await stat(f)).size <= maxBytes, f);
    const r = await verifyAuditFiles(files);
    assert.equal(r.ok, true);
    assert.equal(r.events, 81);
    const firstOfSecond = (await read(`${path}.2`))[0]!;
    assert.equal(firstOfSecond.prev_hash, (await read(`${path}.1`)).at(-1)!.hash);

    const withoutMiddle = files.filter((f) => f !== `${path}.2`);
    assert.equal((await verifyAuditFiles(withoutMiddle)).ok, false);
  });

  test('a current file that does not link to the last rotated file refuses to start', async () => {
    const path = fresh();
    const log = await openAuditLog({ output: path, maxBytes: 1024 });
    for (let i = 0; i < 12; i++) await log.append(ctx, { event: 'auth', operation: 'login', result: 'success' });
    await log.close();
    const rotated = (await readdir(join(path, '..'))).filter((f) => /\.\d+$/.test(f)).sort();
    const last = join(path, '..', rotated.at(-1)!);
    const lines = (await readFile(last, 'utf8')).trimEnd().split('\n');
    await writeFile(last, `${lines.slice(0, -1).join('\n')}\n`);
    await assert.rejects(openAuditLog({ output: path, maxBytes: 1024 }), { code: 'WK_AUDIT_CHAIN_BROKEN' });
  });
});

describe('secrets never reach the file', () => {
  test('a password, a JWT, a key and a value planted in every accepted field are absent', async () => {
    const password = 'Hunter2-Pa55!word';
    const jwtPayload = Buffer.from(JSON.stringify({ sub: 'alice', password })).toString('base64url');
    const jwt = `eyJhbGciOiJIUzI1NiJ9.${jwtPayload}.${randomBytes(32).toString('base64url')}`;
    const hexKey = randomBytes(32).toString('hex');
    const b64Key = randomBytes(32).toString('base64');
    const value = 'ROW-VALUE-payload-77';
    const all = `${password} ${jwt} ${hexKey} ${b64Key} '${value}'`;

    const path = fresh();
    const log = await openAuditLog({ output: path, events: ['auth', 'data_write'] });
    const secretCtx = mintSecurityContext({
      identity: jwt,
      tenant: 'tenant-001',
      roles: ['read_write'],
      authMethod: 'jwt',
      peer: `${password}:1`,
      connectionId: b64Key,
      requestId: jwt,
      claims: { password, token: jwt, key: hexKey, value },
    });
    const details = {
      password,
      passwd: password,
      newPassword: password,
      token: jwt,
      accessToken: jwt,
      apiKey: b64Key,
      key: hexKey,
      dek: b64Key,
      value,
      values: [value],
      rows: [[value]],
      rowData: value,
      sql: `INSERT INTO t VALUES ('${value}')`,
      note: `password=${password} Authorization: Bearer ${jwt} key: ${hexKey}`,
      url: `postgres://alice:${password}@db:5432/app`,
      nested: { deeper: { secret: password, material: b64Key, text: all, list: [jwt, hexKey, b64Key] } },
      [password]: 1,
    };
    await log.append(secretCtx, {
      event: 'data_write',
      operation: all,
      resource: `kv/${jwt}/${hexKey} '${value}' ${b64Key} password=${password}`,
      result: 'success',
      errorCode: `${password}${hexKey}`,
      details,
    });
    await log.appendUnauthenticated({
      event: 'auth',
      identity: `alice password=${password} ${jwt} ${hexKey} ${b64Key} '${value}'`,
      tenant: password,
      peer: `${jwt}:5432`,
      connectionId: `${password}`,
      requestId: hexKey,
      operation: `login ${password}`,
      resource: `postgres://alice:${password}@db/${b64Key}`,
      result: 'failure',
      errorCode: jwt,
      details,
    });
    await log.close();
    const text = await readFile(path, 'utf8');
    for (const secret of [password, jwt, jwtPayload, jwt.split('.')[2]!, hexKey, hexKey.slice(0, 16), b64Key, b64Key.slice(0, 16), value]) {
      assert.ok(!text.includes(secret), `found ${secret.slice(0, 8)}...`);
    }
    assert.equal((await read(path)).length, 2);
  });
});
