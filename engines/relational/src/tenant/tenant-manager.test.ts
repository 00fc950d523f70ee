import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { closeSync, cpSync, fstatSync, mkdtempSync, openSync, readdirSync, readFileSync, readSync, rmSync, statSync, writeFileSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Keyring, Logger } from '@weftkit/kernel';
import type { TenantBackend, TenantManager } from './tenant-backend.js';
import { createTenantManager, type TenantManagerOptions } from './tenant-manager.js';
import { openTestKeyring, seedTemplate, simpleQuery } from '../testing/tenant-fixtures.js';

const dirs: string[] = [];
const managers: TenantManager[] = [];
after(async () => {
  await Promise.all(managers.map((m) => m.close()));
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});
const logged: Record<string, unknown>[] = [];
const captureLogger: Logger = {
  debug: () => {},
  info: (msg, fields) => logged.push({ msg, ...fields }),
  warn: (msg, fields) => logged.push({ msg, ...fields }),
  error: (msg, fields) => logged.push({ msg, ...fields }),
  child: () => captureLogger,
};

async function setup(options: Partial<TenantManagerOptions> = {}): Promise<{ dataDir: string; keyring: Keyring; mgr: TenantManager }> {
  const dataDir = mkdtempSync(join(tmpdir(), 'wk-tenants-'));
  dirs.push(dataDir);
  const keyring = await openTestKeyring(dataDir);
  await seedTemplate(dataDir, keyring);
  const mgr = createTenantManager({ dataDir, keyring, maxOpenTenants: 8, logger: captureLogger, ...options });
  managers.push(mgr);
  return { dataDir, keyring, mgr };
}

const q = (b: TenantBackend, sql: string) => simpleQuery((m, onData) => b.exchange(m, onData), sql);
const rssMb = (): number => process.memoryUsage().rss / 2 ** 20;
const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[xs.length >> 1]!;

describe('TenantManager', () => {
  test('a new tenant comes from the template, not initdb, and answers quickly; SELECT 1 latency; memory per tenant', async (t) => {
    const { mgr, keyring } = await setup();
    const warm = await mgr.open('warm');
    await q(warm.backend, 'select 1');
    await sleep(1500); // the spare worker finishes starting
    const times: number[] = [];
    const held = [warm];
    const rss0 = rssMb();
    for (const name of ['fresh1', 'fresh2', 'fresh3']) {
      const t0 = performance.now();
      const h = await mgr.open(name);
      const r = await q(h.backend, 'select 1');
      times.push(performance.now() - t0);
      assert.deepEqual([r.status, r.rows], ['I', [['1']]]);
      held.push(h);
      await sleep(1500);
    }
    const perTenant = (rssMb() - rss0) / 3;
    t.diagnostic(`new tenant to first answer: ${times.map((x) => x.toFixed(0)).join(', ')} ms`);
    const phases = logged.filter((l) => String(l.tenant).startsWith('fresh') && l.msg === 'tenant created from template');
    t.diagnostic(`phases (keys/worker/start ms): ${phases.map((l) => `${l.prepareMs}/${l.workerMs}/${l.startMs}`).join(', ')}`);
    t.diagnostic(`RSS per open tenant (idle, incl. its worker): ${perTenant.toFixed(0)} MB`);
    // Structural proof that no tenant ran initdb; the time is reported above (565-721 ms on an
    // otherwise idle 2-core machine) and only bounded loosely here, since CI shares its cores.
    assert.equal(phases.length, 3, 'every new tenant was copied from the template');
    assert.ok(Math.min(...times) < 5000, `first query took ${times.join(', ')} ms`);
    const lat: number[] = [];
    for (let i = 0; i < 400; i++) {
      const t0 = performance.now();
      await q(warm.backend, 'select 1');
      lat.push(performance.now() - t0);
    }
    t.diagnostic(`exchange SELECT 1 through the worker: median ${(median(lat.slice(100)) * 1000).toFixed(0)} µs`);
    assert.deepEqual(mgr.stats(), { open: 4, opening: 0, created: 4, evicted: 0 });
    for (const h of held) h.release();
    const t0 = performance.now();
    await mgr.close();
    t.diagnostic(`clean close of 4 tenants: ${(performance.now() - t0).toFixed(0)} ms`);
    assert.ok(performance.now() - t0 < 8000);
    await assert.rejects(mgr.open('warm'), { code: 'WK_REL_TENANT_MANAGER_CLOSED' });
    await assert.rejects(q(warm.backend, 'select 1'), { code: 'WK_REL_TENANT_BACKEND_CLOSED' });
    keyring.close();
  });

  test("a long query in tenant A does not stall tenant B (nor the main thread)", async (t) => {
    const { mgr, keyring } = await setup();
    const [a, b] = await Promise.all([mgr.open('ta'), mgr.open('tb')]);
    await q(b.backend, 'select 1');
    const long = q(a.backend, 'select pg_sleep(3)');
    await sleep(200);
    const lat: number[] = [];
    for (let i = 0; i < 20; i++) {
      const t0 = performance.now();
      const r = await q(b.backend, 'select 1');
      lat.push(performance.now() - t0);
      assert.deepEqual(r.rows, [['1']]);
    }
    const r = await long;
    assert.deepEqual(r.errors, []);
    t.diagnostic(`B's SELECT 1 while A sleeps: max ${Math.max(...lat).toFixed(1)} ms, median ${median(lat).toFixed(2)} ms`);
    // The goal is < 50 ms (measured: max 0.9-4.5 ms idle, 26 ms with CI's load); a stall behind A
    // would be 3000 ms, so CI asserts the median against the goal and the worst case loosely.
    assert.ok(median(lat) < 50, `B's median wait ${median(lat)} ms`);
    assert.ok(Math.max(...lat) < 500, `B waited ${Math.max(...lat)} ms`);
    a.release();
    b.release();
    await mgr.close();
    keyring.close();
  });

  test('LRU: idle tenants are evicted first, held ones never; a full house fails with a coded error; idle ones close', async () => {
    const { mgr, keyring } = await setup({ maxOpenTenants: 2, idleCloseSeconds: 2, openTimeoutSeconds: 0.5 });
    const [a, b] = await Promise.all([mgr.open('la'), mgr.open('lb')]);
    await q(a.backend, "create table t(v text); insert into t values ('kept')");
    a.release();
    const c = await mgr.open('lc');
    assert.equal(mgr.stats().evicted, 1, 'la (idle) made room');
    await assert.rejects(mgr.open('ld'), { code: 'WK_REL_TENANT_CAPACITY' });
    assert.deepEqual((await q(b.backend, 'select 1')).rows, [['1']], 'held tenants stay open');
    c.release();
    await sleep(3000);
    assert.deepEqual(mgr.stats(), { open: 1, opening: 0, created: 3, evicted: 1 }, 'lc closed after its idle timeout');
    b.release();
    const again = await mgr.open('la');
    assert.deepEqual((await q(again.backend, 'select v from t')).rows, [['kept']]);
    again.release();
    await mgr.close();
    keyring.close();
  });

  test('a crashed or hung backend rejects with a coded error and the tenant reopens cleanly', async () => {
    const { mgr, keyring } = await setup({ backendTimeoutSeconds: 1 });
    const h = await mgr.open('crashy');
    await q(h.backend, "create table t(v text); insert into t values ('before')");
    // COPY FROM STDIN without its data makes PGlite exit(1), after which every call hangs (measured).
    await assert.rejects(q(h.backend, 'copy t from stdin'), { code: 'WK_REL_TENANT_BACKEND_CRASHED' });
    await assert.rejects(q(h.backend, 'select 1'), { code: 'WK_REL_TENANT_BACKEND_CRASHED' });
    h.release();
    const h2 = await mgr.open('crashy');
    assert.deepEqual((await q(h2.backend, 'select v from t')).rows, [['before']]);
    await assert.rejects(q(h2.backend, 'select pg_sleep(5)'), { code: 'WK_REL_TENANT_BACKEND_TIMEOUT' });
    h2.release();
    const h3 = await mgr.open('crashy');
    assert.deepEqual((await q(h3.backend, 'select count(*) from t')).rows, [['1']]);
    h3.release();
    await mgr.close();
    keyring.close();
  });

  test('a wrong key or a missing key is detected before PGlite mounts the files', async () => {
    const one = await setup();
    const h = await one.mgr.open('victim');
    h.release();
    await one.mgr.close();
    one.keyring.close();
    const two = await setup();
    await two.keyring.createTenant('victim');
    cpSync(join(one.dataDir, 'tenants', 'victim'), join(two.dataDir, 'tenants', 'victim'), { recursive: true });
    await assert.rejects(two.mgr.open('victim'), { code: 'WK_REL_TENANT_WRONG_KEY' });
    cpSync(join(one.dataDir, 'tenants', 'victim'), join(two.dataDir, 'tenants', 'orphan'), { recursive: true });
    await assert.rejects(two.mgr.open('orphan'), { code: 'WK_REL_TENANT_KEY_MISSING' });
    await assert.rejects(two.mgr.open('../x'), { code: 'WK_IDENTITY_INVALID_TENANT' });
    await two.mgr.close();
    two.keyring.close();
  });

  test('a WAL page that does not authenticate after a crash keeps the tenant closed instead of dropping later commits', async () => {
    const key = randomBytes(32).toString('base64');
    const dataDir = mkdtempSync(join(tmpdir(), 'wk-tenants-'));
    dirs.push(dataDir);
    const keyring = await openTestKeyring(dataDir, key);
    await seedTemplate(dataDir, keyring);
    const mgr = createTenantManager({ dataDir, keyring, maxOpenTenants: 2, logger: captureLogger, spareWorker: false });
    managers.push(mgr);
    const h = await mgr.open('wal');
    const one = async (sql: string): Promise<(string | null)[]> => {
      const r = await q(h.backend, sql);
      assert.deepEqual(r.errors, [], sql);
      return r.rows[0] ?? [];
    };
    await one('create table t(id int primary key, pad text)');
    await one('checkpoint');
    const [redo] = await one('select pg_walfile_name(redo_lsn) from pg_control_checkpoint()');
    // Acknowledged, incompressible rows until the WAL is some 20 pages into the segment after the checkpoint's.
    let id = 0;
    let current = redo;
    let offset = 0;
    while (current === redo || offset < 20 * 8192) {
      await one(`insert into t select ${++id}, string_agg(md5(random()::text), '') from generate_series(1, 64)`);
      const at = await one('select file_name, file_offset from pg_walfile_name_offset(pg_current_wal_lsn())');
      current = at[0]!;
      offset = Number(at[1]);
    }
    // The crash: the data directory as it is now, without a shutdown checkpoint.
    const copy = mkdtempSync(join(tmpdir(), 'wk-tenants-crash-'));
    dirs.push(copy);
    cpSync(dataDir, copy, { recursive: true });
    h.release();
    // Damage the sealed pages holding the second half of what the last commits wrote (sealed page p + 1
    // holds the segment's page p): recovery reads valid records up to there. Unchecked, PostgreSQL took
    // the failed read for the end of the WAL and opened with the later acknowledged rows gone.
    const slot = 8192 + 28;
    const fd = openSync(join(copy, 'tenants', 'wal', 'pgdata', 'pg_wal', current!), 'r+');
    const pages = Math.floor(fstatSync(fd).size / slot);
    const page = Buffer.alloc(slot);
    for (let p = 1 + Math.floor(offset / 2 / 8192); p < pages; p++) {
      readSync(fd, page, 0, slot, p * slot);
      page[slot - 1] = (page[slot - 1] ?? 0) ^ 1;
      writeSync(fd, page, 0, slot, p * slot);
    }
    closeSync(fd);
    const keyring2 = await openTestKeyring(copy, key);
    const mgr2 = createTenantManager({ dataDir: copy, keyring: keyring2, maxOpenTenants: 2, logger: captureLogger, spareWorker: false });
    managers.push(mgr2);
    await assert.rejects(mgr2.open('wal'), { code: 'WK_REL_TENANT_WAL_UNREADABLE' });
    await assert.rejects(mgr2.open('wal'), { code: 'WK_REL_TENANT_WAL_UNREADABLE' }, 'and again on the next attempt');
  });

  test('no plaintext: a marker written, checkpointed and closed appears in no file under the data directory', async () => {
    const { mgr, keyring, dataDir } = await setup();
    const marker = `wk-marker-${process.pid}-${Date.now()}`;
    const h = await mgr.open('secret');
    const r = await q(
      h.backend,
      `create table s(v text); insert into s select '${marker}' || g from generate_series(1, 2000) g; create index on s(v); checkpoint`,
    );
    assert.deepEqual(r.errors, []);
    h.release();
    await mgr.close();
    keyring.close();
    const files: string[] = [];
    const walk = (d: string): void => {
      for (const e of readdirSync(d, { withFileTypes: true })) {
        if (e.isDirectory()) walk(join(d, e.name));
        else files.push(join(d, e.name));
      }
    };
    // The scan itself must be able to see plaintext: a control file holding the marker.
    writeFileSync(join(dataDir, 'control.txt'), `x${marker}x`);
    walk(dataDir);
    const needle = Buffer.from(marker);
    const hits = files.filter((f) => readFileSync(f).includes(needle));
    assert.deepEqual(hits, [join(dataDir, 'control.txt')]);
    assert.ok(files.some((f) => f.includes('template-pglite-')), 'the template file was scanned too');
    assert.ok(files.filter((f) => f.includes('/tenants/secret/')).reduce((n, f) => n + statSync(f).size, 0) > 1e6);
  });
});
