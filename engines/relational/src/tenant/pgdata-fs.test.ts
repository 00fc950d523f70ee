import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { closeSync, mkdtempSync, openSync, readSync, rmSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import { PGlite } from '@electric-sql/pglite';
import { EncryptionBudget, PageCipher, type PageCipherSource, TenantDir } from '@weftkit/kernel';
import { Errno } from './fs-errno.js';
import { PgDataFs } from './pgdata-fs.js';
import { tenantStartParams } from './pglite-options.js';
import { materializeTemplate } from './template-copy.js';
import { cachedTemplateArchive, simpleQuery } from '../testing/tenant-fixtures.js';

const dirs: string[] = [];
after(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

function setup(tenant = 't1', key = randomBytes(32)): { dir: TenantDir; ciphers: PageCipherSource; fs: () => PgDataFs } {
  const dataDir = mkdtempSync(join(tmpdir(), 'wk-pgfs-'));
  dirs.push(dataDir);
  const cipher = new PageCipher({ key, tenant, keyVersion: 1, budget: new EncryptionBudget() });
  const ciphers: PageCipherSource = { tenant, currentVersion: 1, cipher: () => cipher };
  const dir = TenantDir.openSync(dataDir, tenant);
  dir.mkdirSync('pgdata');
  return { dir, ciphers, fs: () => new PgDataFs({ dir, root: 'pgdata', ciphers }) };
}

const readAll = (fs: PgDataFs, path: string): Buffer => {
  const fd = fs.open(path);
  try {
    const out = Buffer.alloc(fs.fstat(fd).size);
    assert.equal(fs.read(fd, out, 0, out.length, 0), out.length);
    return out;
  } finally {
    fs.close(fd);
  }
};

const errnoOfCall = (fn: () => unknown): unknown => {
  try {
    fn();
  } catch (err) {
    return (err as { code?: unknown }).code;
  }
  return 'no error';
};

describe('PgDataFs (filesystem API)', () => {
  test('a WAL page whose in-place write was cut short is put back from the tail journal; a cut journal slot is ignored', () => {
    const { fs, dir } = setup();
    const wal = '/pg_wal/000000010000000000000001';
    const page = (fill: number): Buffer => Buffer.alloc(8192, fill);
    const a = fs();
    a.mkdir('/pg_wal');
    a.writeFile(wal, '');
    const fd = a.open(wal);
    a.write(fd, Buffer.concat([page(1), page(2), page(3), page(4)]), 0, 4 * 8192, 0);
    a.write(fd, page(5), 0, 8192, 3 * 8192);
    a.fsyncFd(fd);
    a.close(fd);
    a.closeAllSync();
    assert.equal(a.readdir('/').includes('wk_wal_tail'), false, 'the journal is not listed to PostgreSQL');

    // PageFile page n + 1 holds byte page n; a sealed slot is 8192 + 28 bytes after a header slot.
    const slotAt = (n: number): number => (n + 2) * (8192 + 28);
    const tear = (path: string, n: number): void => {
      const h = openSync(dir.resolve(`pgdata${path}`), 'r+');
      try {
        writeSync(h, randomBytes(3000), 0, 3000, slotAt(n) + 5000);
      } finally {
        closeSync(h);
      }
    };
    // The last write (page 3, filled with 5) torn in place: repaired from the journal.
    tear(wal, 3);
    const b = fs();
    assert.deepEqual(b.repairWalTail(), { seq: 5, path: wal, page: 3 });
    assert.deepEqual(readAll(b, wal), Buffer.concat([page(1), page(2), page(3), page(5)]));
    b.closeAllSync();

    // Nothing torn: nothing to do.
    const c = fs();
    assert.equal(c.repairWalTail(), undefined);
    c.closeAllSync();

    // The journal's newest slot cut short (the in-place write had not begun): ignored, WAL intact.
    // Entry 5 sits in slot 1: its data page is PgFile page 3 of the journal.
    tear('/wk_wal_tail', 3);
    const d = fs();
    assert.equal(d.repairWalTail(), undefined);
    assert.deepEqual(readAll(d, wal), Buffer.concat([page(1), page(2), page(3), page(5)]));
    d.closeAllSync();
    // A page that fails authentication and is not the journal's newest entry is left alone.
    tear(wal, 1);
    const e = fs();
    assert.equal(e.repairWalTail(), undefined);
    assert.throws(() => readAll(e, wal), 'damage other than the newest write stays an error');
    e.closeAllSync();
  });

  test('byte ranges across pages, partial pages, sizes, truncate and rename survive a reopen', () => {
    const { fs, dir } = setup();
    const a = fs();
    a.mkdir('/base');
    a.writeFile('/base/f', '');
    const fd = a.open('/base/f');
    const data = randomBytes(3 * 8192 + 100);
    // Unaligned write spanning four pages, from a heap-like ArrayBuffer with an offset.
    const heap = new ArrayBuffer(data.length + 50);
    Buffer.from(heap).set(data, 50);
    assert.equal(a.write(fd, heap as unknown as Uint8Array, 50, data.length, 0), data.length);
    assert.equal(a.fstat(fd).size, data.length);
    const patch = randomBytes(10);
    a.write(fd, patch, 0, 10, 8190);
    patch.copy(data, 8190);
    a.fsyncFd(fd);
    a.close(fd);
    a.closeAllSync();

    const b = fs();
    assert.deepEqual(readAll(b, '/base/f'), data);
    assert.equal(b.lstat('/base/f').size, data.length);
    b.truncate('/base/f', 5000);
    b.truncate('/base/f', 9000);
    const grown = readAll(b, '/base/f');
    assert.deepEqual(grown.subarray(0, 5000), data.subarray(0, 5000));
    assert.ok(grown.subarray(5000).every((x) => x === 0), 'bytes past a shrink come back as zeros');
    b.rename('/base/f', '/base/g');
    assert.equal(errnoOfCall(() => b.open('/base/f')), Errno.ENOENT);
    b.closeAllSync();
    assert.deepEqual(readAll(fs(), '/base/g').subarray(0, 5000), data.subarray(0, 5000));
    assert.deepEqual(fs().readdir('/base'), ['g']);
    assert.equal(errnoOfCall(() => fs().open('/../escape')), Errno.EPERM);
    assert.ok(dir.listFilesSync().includes('pgdata/base/g'));
  });

  test('tampering and a wrong key surface as errno EIO (a number), never plaintext or a JS error', () => {
    const { fs, dir, ciphers } = setup();
    const a = fs();
    a.writeFile('/x', randomBytes(20000));
    a.writeFile('/y', randomBytes(20000));
    a.closeAllSync();
    // Move page 1 of /x over page 1 of /y: same tenant and key, other file id.
    const slot = 8192 + 28;
    const px = openSync(dir.resolve('pgdata/x'), 'r+');
    const py = openSync(dir.resolve('pgdata/y'), 'r+');
    const page = Buffer.alloc(slot);
    readSync(px, page, 0, slot, 2 * slot);
    writeSync(py, page, 0, slot, 2 * slot);
    // Flip a bit of /x's size page.
    readSync(px, page, 0, slot, slot);
    page[20] = (page[20] ?? 0) ^ 1;
    writeSync(px, page, 0, slot, slot);
    closeSync(px);
    closeSync(py);
    const b = fs();
    assert.equal(errnoOfCall(() => b.open('/x')), Errno.EIO);
    const fd = b.open('/y');
    assert.equal(errnoOfCall(() => b.read(fd, Buffer.alloc(8192), 0, 8192, 0)), Errno.EIO);
    const wrong = new PgDataFs({
      dir,
      root: 'pgdata',
      ciphers: { ...ciphers, cipher: () => new PageCipher({ key: randomBytes(32), tenant: 't1', keyVersion: 1 }) },
    });
    assert.equal(errnoOfCall(() => wrong.verifySync('/y')), Errno.EIO);
  });
});

describe('PgDataFs under PGlite', () => {
  test('a commit is acknowledged only after PostgreSQL fsyncs its WAL through our filesystem', async () => {
    const { dir, ciphers } = setup();
    await materializeTemplate(dir, 'pgdata', await cachedTemplateArchive(), ciphers);
    const fsyncs: string[] = [];
    const fs = new PgDataFs({ dir, root: 'pgdata', ciphers, onFsync: (p) => fsyncs.push(p) });
    const db = await PGlite.create({ fs, startParams: tenantStartParams() });
    const q = (sql: string) => simpleQuery((m, onRawData) => db.execProtocolRawStream(m, { onRawData }).then(() => null), sql);
    assert.deepEqual((await q("select current_setting('fsync'), current_setting('wal_sync_method')")).rows, [['on', 'fsync']]);
    await q('create table t(id int primary key, v text)');
    fsyncs.length = 0;
    await q("insert into t values (1, 'a')");
    // If PGlite stops routing fsync() to stream_ops.fsync (an upgrade), this count drops to 0.
    assert.equal(fsyncs.filter((p) => p.startsWith('/pg_wal/')).length, 1, fsyncs.join(','));
    fsyncs.length = 0;
    await q("begin; insert into t values (2, 'b')");
    await q("insert into t values (3, 'c')");
    assert.equal(fsyncs.length, 0, 'nothing to make durable before COMMIT');
    await q('commit');
    assert.equal(fsyncs.filter((p) => p.startsWith('/pg_wal/')).length, 1);
    fsyncs.length = 0;
    await q('checkpoint');
    assert.ok(fsyncs.includes('/global/pg_control'), 'checkpoint fsyncs pg_control');
    assert.ok(fsyncs.filter((p) => p.startsWith('/base/')).length > 0, 'checkpoint fsyncs relation files');
    await db.close();
    const again = await PGlite.create({ fs: new PgDataFs({ dir, root: 'pgdata', ciphers }), startParams: tenantStartParams() });
    const r = await simpleQuery((m, onRawData) => again.execProtocolRawStream(m, { onRawData }).then(() => null), 'select count(*) from t');
    assert.deepEqual(r.rows, [['3']]);
    await again.close();
  });
});

describe('PgDataFs open-file bookkeeping', () => {
  test('stat of an open file does not release it: the idle trim never closes a file under its descriptor', () => {
    const { fs } = setup();
    const a = fs();
    a.writeFile('/wal', '');
    const fd = a.open('/wal');
    const first = randomBytes(8192);
    a.write(fd, first, 0, first.length, 0);
    // Emscripten's stat and fstat of an open file both come here.
    for (let i = 0; i < 3; i++) assert.equal(a.lstat('/wal').size, 8192);
    assert.equal(a.verifySync('/wal'), 8192);
    // More idle files than the cache keeps: the trim closes the oldest idle ones.
    for (let i = 0; i < 80; i++) {
      a.writeFile(`/f${i}`, 'x');
      a.lstat(`/f${i}`);
    }
    const second = randomBytes(8192);
    a.write(fd, second, 0, second.length, 8192);
    a.fsyncFd(fd);
    a.close(fd);
    a.closeAllSync();
    assert.deepEqual(readAll(fs(), '/wal'), Buffer.concat([first, second]));
  });
});
