// Re-encryption of PGDATA files under a new DEK version: writes during the copy, file swaps under
// open descriptors, and a SIGKILL at each step of putting a copy in place.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { cpSync, existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import { PGlite } from '@electric-sql/pglite';
import { EncryptionBudget, PageCipher, type PageCipherSource, TenantDir } from '@weftkit/kernel';
import { cachedTemplateArchive } from '../testing/tenant-fixtures.js';
import { PgDataFs, type RekeyStep } from './pgdata-fs.js';
import { REKEY_SUFFIX, scanPgData } from './pgdata-scan.js';
import { tenantStartParams } from './pglite-options.js';
import { materializeTemplate } from './template-copy.js';

const dirs: string[] = [];
after(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

/** Ciphers for versions 1 and 2 of tenant t1, `current` the one new files get. */
function twoVersions(k1: Buffer, k2: Buffer, current: number): PageCipherSource & { currentVersion: number } {
  const c = new Map([1, 2].map((v) => [v, new PageCipher({ key: v === 1 ? k1 : k2, tenant: 't1', keyVersion: v, budget: new EncryptionBudget() })]));
  return { tenant: 't1', currentVersion: current, cipher: (v?: number) => c.get(v ?? current)! };
}

const readAll = (fs: PgDataFs, path: string): Buffer => {
  const fd = fs.open(path);
  try {
    const out = Buffer.alloc(fs.fstat(fd).size);
    fs.read(fd, out, 0, out.length, 0);
    return out;
  } finally {
    fs.close(fd);
  }
};

describe('PgDataFs re-encryption', () => {
  test('writes and truncations during the copy reach the new file; open descriptors keep working after the swap', () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'wk-rekey-'));
    dirs.push(dataDir);
    const [k1, k2] = [randomBytes(32), randomBytes(32)];
    const dir = TenantDir.openSync(dataDir, 't1');
    dir.mkdirSync('pgdata');
    const ciphers = twoVersions(k1, k2, 1);
    const fs = new PgDataFs({ dir, root: 'pgdata', ciphers });
    fs.mkdir('/base');
    fs.writeFile('/base/f', '');
    const fd = fs.open('/base/f');
    const expected = randomBytes(20 * 8192 + 123);
    fs.write(fd, expected, 0, expected.length, 0);
    fs.fsyncFd(fd);
    ciphers.currentVersion = 2;
    // Copy 5 pages (the size page and data pages 1-4), then write into a copied and an uncopied page.
    assert.deepEqual(fs.reencryptSlice('/base/f', 5), { pages: 5, done: false });
    assert.ok(existsSync(join(dir.path, 'pgdata', 'base', `f${REKEY_SUFFIX}`)));
    assert.deepEqual(fs.readdir('/base'), ['f'], 'the copy is hidden from PostgreSQL');
    const patch = randomBytes(9000);
    fs.write(fd, patch, 0, patch.length, 8192 + 100);
    patch.copy(expected, 8192 + 100);
    const late = randomBytes(500);
    fs.write(fd, late, 0, late.length, 15 * 8192);
    late.copy(expected, 15 * 8192);
    // Shrink below the copied part, then grow again: the copy must follow.
    fs.truncate('/base/f', 3 * 8192 + 7);
    const grown = Buffer.concat([expected.subarray(0, 3 * 8192 + 7), Buffer.alloc(5 * 8192 - 7)]);
    const tail = randomBytes(8192 * 2);
    fs.write(fd, tail, 0, tail.length, 5 * 8192);
    const want = Buffer.concat([grown.subarray(0, 5 * 8192), tail]);
    let rounds = 0;
    while (!fs.reencryptSlice('/base/f', 2).done) rounds++;
    assert.ok(rounds > 0);
    assert.equal(existsSync(join(dir.path, 'pgdata', 'base', `f${REKEY_SUFFIX}`)), false);
    // The descriptor opened before the swap reads and writes the new file.
    const after = Buffer.alloc(want.length);
    fs.read(fd, after, 0, after.length, 0);
    assert.ok(after.equals(want), 'contents equal through the old descriptor');
    fs.write(fd, Buffer.from('x'), 0, 1, 0);
    want[0] = 'x'.charCodeAt(0);
    fs.close(fd);
    fs.closeAllSync();
    assert.deepEqual([...scanPgData(join(dir.path, 'pgdata'), 2).versions], [2]);
    // Only version 2 is needed now: a reader without key 1 sees everything.
    const only2: PageCipherSource = { tenant: 't1', currentVersion: 2, cipher: (v?: number) => twoVersions(k1, k2, 2).cipher(v === 1 ? 99 : v) };
    const again = new PgDataFs({ dir, root: 'pgdata', ciphers: only2 });
    assert.ok(readAll(again, '/base/f').equals(want));
    again.closeAllSync();
  });

  test('a file renamed or removed by PostgreSQL during its copy drops the copy and is started over', () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'wk-rekey-'));
    dirs.push(dataDir);
    const dir = TenantDir.openSync(dataDir, 't1');
    dir.mkdirSync('pgdata');
    const ciphers = twoVersions(randomBytes(32), randomBytes(32), 1);
    const fs = new PgDataFs({ dir, root: 'pgdata', ciphers });
    const data = randomBytes(10 * 8192);
    for (const name of ['/a', '/b']) fs.writeFile(name, data);
    ciphers.currentVersion = 2;
    fs.reencryptSlice('/a', 3);
    fs.reencryptSlice('/b', 3);
    fs.rename('/a', '/a2');
    fs.unlink('/b');
    assert.deepEqual(readdirSync(join(dir.path, 'pgdata')).sort(), ['a2'], 'no copies left behind');
    while (!fs.reencryptSlice('/a2', 4).done);
    assert.ok(readAll(fs, '/a2').equals(data));
    assert.deepEqual([...scanPgData(join(dir.path, 'pgdata'), 2).versions], [2]);
    fs.closeAllSync();
  });
});

// The child re-encrypts every file of the tenant under version 2 and SIGKILLs itself at `step` of
// the table's file.
const CHILD = `
const { PgDataFs } = await import(${JSON.stringify(new URL('./pgdata-fs.ts', import.meta.url).href)});
const { scanPgData } = await import(${JSON.stringify(new URL('./pgdata-scan.ts', import.meta.url).href)});
const { TenantDir, PageCipher, EncryptionBudget } = await import('@weftkit/kernel');
const [dataDir, k1, k2, step, target] = process.argv.slice(1);
const c = new Map([1, 2].map((v) => [v, new PageCipher({ key: Buffer.from(v === 1 ? k1 : k2, 'hex'), tenant: 't1', keyVersion: v, budget: new EncryptionBudget() })]));
const ciphers = { tenant: 't1', currentVersion: 2, cipher: (v) => c.get(v ?? 2) };
const dir = TenantDir.openSync(dataDir, 't1');
const fs = new PgDataFs({ dir, root: 'pgdata', ciphers, onRekeyStep: (s, p) => { if (s === step && p === target) process.kill(process.pid, 'SIGKILL'); } });
for (const f of scanPgData(dir.resolve('pgdata'), 2).old) while (!fs.reencryptSlice(f.path, 16).done);
process.stdout.write('finished\\n');
`;

function runChild(dataDir: string, k1: Buffer, k2: Buffer, step: RekeyStep, target: string): Promise<string | null> {
  return new Promise((resolve, reject) => {
    const p = spawn(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', CHILD, dataDir, k1.toString('hex'), k2.toString('hex'), step, target], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let err = '';
    p.stderr.on('data', (d: Buffer) => {
      err += d.toString();
    });
    p.on('error', reject);
    p.on('exit', (code, signal) => (signal === null && code !== 0 ? reject(new Error(err)) : resolve(signal)));
  });
}

async function openCount(dir: TenantDir, ciphers: PageCipherSource): Promise<{ rows: number; leftovers: number }> {
  const fs = new PgDataFs({ dir, root: 'pgdata', ciphers });
  const leftovers = fs.removeRekeyLeftovers();
  const db = await PGlite.create({ fs, startParams: tenantStartParams() });
  try {
    const r = await db.query<{ n: number; s: number }>('select count(*)::int as n, sum(length(pad))::int as s from t');
    return { rows: r.rows[0]!.n * 1_000_000 + (r.rows[0]!.s % 1_000_000), leftovers };
  } finally {
    await db.close();
  }
}

test('SIGKILL at each step of putting a re-encrypted file in place: no data lost, the tenant opens', { timeout: 180_000 }, async () => {
  const base = mkdtempSync(join(tmpdir(), 'wk-rekey-crash-'));
  dirs.push(base);
  const [k1, k2] = [randomBytes(32), randomBytes(32)];
  const seedDir = join(base, 'seed');
  const dir = TenantDir.openSync(seedDir, 't1');
  await materializeTemplate(dir, 'pgdata', await cachedTemplateArchive(), twoVersions(k1, k2, 1));
  const fs = new PgDataFs({ dir, root: 'pgdata', ciphers: twoVersions(k1, k2, 1) });
  const db = await PGlite.create({ fs, startParams: tenantStartParams() });
  await db.exec("create table t(id int primary key, pad text); insert into t select g, repeat('p', g % 300) from generate_series(1, 3000) g");
  const target = `/${(await db.query<{ p: string }>("select pg_relation_filepath('t') as p")).rows[0]!.p}`;
  await db.close();
  const expected = await openCount(dir, twoVersions(k1, k2, 1));
  assert.equal(Math.floor(expected.rows / 1_000_000), 3000);

  for (const step of ['copied', 'synced', 'renamed', 'dir-synced'] as const) {
    const dataDir = join(base, step);
    cpSync(seedDir, dataDir, { recursive: true });
    assert.equal(await runChild(dataDir, k1, k2, step, target), 'SIGKILL', `killed at ${step}`);
    const tdir = TenantDir.openSync(dataDir, 't1');
    const targetAbs = join(tdir.path, 'pgdata', ...target.split('/').filter(Boolean));
    const copyLeft = existsSync(targetAbs + REKEY_SUFFIX);
    assert.equal(copyLeft, step === 'copied' || step === 'synced', `${step}: copy left behind`);
    const scan = scanPgData(join(tdir.path, 'pgdata'), 2);
    const targetOld = scan.old.some((f) => f.path === target);
    assert.equal(targetOld, step === 'copied' || step === 'synced', `${step}: the table file is under the old version until the rename`);
    assert.ok(scan.versions.has(1) && scan.versions.has(2), `${step}: killed mid-way`);
    const r = await openCount(tdir, twoVersions(k1, k2, 2));
    assert.equal(r.rows, expected.rows, `${step}: every row is there`);
    assert.equal(r.leftovers, copyLeft ? 1 : 0);
    // Finishing afterwards leaves every file under version 2.
    assert.equal(await runChild(dataDir, k1, k2, 'copied', '/no-such-file'), null);
    assert.deepEqual([...scanPgData(join(tdir.path, 'pgdata'), 2).versions], [2]);
    assert.equal((await openCount(tdir, twoVersions(k1, k2, 2))).rows, expected.rows);
  }
});
