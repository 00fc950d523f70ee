import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readdirSync, readFileSync, renameSync, rmSync, statSync, symlinkSync, truncateSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { type Keyring, Keyring as KeyringClass, type TenantCiphers } from '../crypto/keyring.js';
import { createLocalKeyProvider } from '../crypto/local-key-providers.js';
import { silentLogger } from '../log/logger.js';
import { PageFile } from './page-file.js';

const AUTH = { code: 'WK_CRYPTO_PAGE_AUTH_FAILED' };
const SLOT = 8192 + 28;
let dataDir: string;
let ring: Keyring;
let t1: TenantCiphers;
let t2: TenantCiphers;

before(async () => {
  dataDir = mkdtempSync(join(tmpdir(), 'wk-pf-'));
  const provider = createLocalKeyProvider({ kind: 'dev' }, { dataDir, logger: silentLogger });
  ring = await KeyringClass.open({ dataDir, provider });
  await ring.createTenant('t1');
  await ring.createTenant('t2');
  t1 = await ring.tenantCiphers('t1');
  t2 = await ring.tenantCiphers('t2');
});
after(() => {
  ring.close();
  rmSync(dataDir, { recursive: true, force: true });
});

let n = 0;
const newPath = (): string => join(dataDir, `file-${n++}.pages`);
const pageWith = (marker: string): Buffer => {
  const p = Buffer.alloc(8192);
  for (let at = 0; at + marker.length <= p.length; at += 1024) p.write(marker, at);
  return p;
};
const flip = (path: string, at: number): void => {
  const b = readFileSync(path);
  b[at]! ^= 0x01;
  writeFileSync(path, b);
};

describe('PageFile', () => {
  test('writes, reads back, reopens; beyond the end reads as null; gaps read as zero pages', async () => {
    const path = newPath();
    const f = PageFile.createSync(path, { ciphers: t1 });
    assert.equal(f.pageCount, 0);
    assert.equal(f.readSync(0), null);
    const a = pageWith('page-zero');
    const c = pageWith('page-three');
    f.writeSync(0, a);
    f.writeSync(3, c);
    assert.equal(f.pageCount, 4);
    f.syncSync();
    f.closeSync();
    assert.equal(statSync(path).size, 5 * SLOT);
    assert.throws(() => f.readSync(0), { code: 'WK_STORAGE_CLOSED' });
    const g = PageFile.openSync(path, { ciphers: t1 });
    assert.deepEqual(g.readSync(0), a);
    assert.deepEqual(g.readSync(1), Buffer.alloc(8192));
    assert.deepEqual(g.readSync(3), c);
    assert.equal(g.readSync(4), null);
    const out = Buffer.alloc(8192);
    assert.equal(g.readSync(3, out), out);
    assert.deepEqual(out, c);
    g.truncateSync(1);
    assert.equal(g.readSync(1), null);
    assert.equal(statSync(path).size, 2 * SLOT);
    assert.throws(() => g.writeSync(0, Buffer.alloc(100)), { code: 'WK_STORAGE_INVALID_PAGE' });
    assert.throws(() => g.readSync(-1), { code: 'WK_STORAGE_INVALID_PAGE' });
    g.closeSync();
  });

  test('async variants read and write the same file in call order', async () => {
    const f = await PageFile.create(newPath(), { ciphers: t1, pageSize: 16384 });
    const pages = [0, 1, 2, 3].map(() => randomBytes(16384));
    await Promise.all([f.write(3, pages[3]!), f.write(0, pages[0]!), f.write(1, pages[1]!), f.write(2, pages[2]!)]);
    const got = await Promise.all([0, 1, 2, 3].map((i) => f.read(i)));
    assert.deepEqual(got, pages);
    await f.truncate(2);
    assert.equal(await f.read(2), null);
    await f.sync();
    await f.close();
  });

  test('a symlink is never followed, for open or create', () => {
    const real = newPath();
    PageFile.createSync(real, { ciphers: t1 }).closeSync();
    const link = newPath();
    symlinkSync(real, link);
    assert.throws(() => PageFile.openSync(link, { ciphers: t1 }), { code: 'WK_STORAGE_PATH_REFUSED' });
    const dangling = newPath();
    symlinkSync(join(dataDir, 'nowhere'), dangling);
    assert.throws(() => PageFile.createSync(dangling, { ciphers: t1 }), { code: 'EEXIST' });
  });

  test('a renamed file stays readable (the file id, not the path, is bound)', () => {
    const path = newPath();
    const f = PageFile.createSync(path, { ciphers: t1 });
    const p = pageWith('rename');
    f.writeSync(0, p);
    f.closeSync();
    renameSync(path, `${path}.renamed`);
    const g = PageFile.openSync(`${path}.renamed`, { ciphers: t1 });
    assert.deepEqual(g.readSync(0), p);
    g.closeSync();
  });

  test('a flipped byte in the header is detected', () => {
    const base = newPath();
    const f = PageFile.createSync(base, { ciphers: t1 });
    f.writeSync(0, pageWith('x'));
    f.closeSync();
    const good = readFileSync(base);
    const expect: Array<[number, string]> = [
      [0, 'WK_STORAGE_CORRUPT'], // magic
      [9, 'WK_STORAGE_CORRUPT'], // format version
      [13, 'WK_STORAGE_CORRUPT'], // page size
      [20, AUTH.code], // file id
      [35, AUTH.code], // key version
      [40, AUTH.code], // tenant
      [99, AUTH.code], // padding inside the signed part
      [105, AUTH.code], // nonce
      [120, AUTH.code], // tag
    ];
    for (const [at, code] of expect) {
      const path = newPath();
      writeFileSync(path, good);
      flip(path, at);
      assert.throws(() => PageFile.openSync(path, { ciphers: t1 }), { code }, `header byte ${at}`);
    }
  });

  test('a flipped byte in a page (nonce, ciphertext, tag) fails to read', () => {
    for (const at of [0, 12, 4000, SLOT - 1]) {
      const path = newPath();
      const f = PageFile.createSync(path, { ciphers: t1 });
      f.writeSync(0, pageWith('x'));
      f.closeSync();
      flip(path, SLOT + at);
      const g = PageFile.openSync(path, { ciphers: t1 });
      assert.throws(() => g.readSync(0), AUTH, `page byte ${at}`);
      g.closeSync();
    }
  });

  test('a page moved to another position, another file or another tenant fails', () => {
    const pathA = newPath();
    const a = PageFile.createSync(pathA, { ciphers: t1 });
    a.writeSync(0, pageWith('zero'));
    a.writeSync(1, pageWith('one'));
    a.closeSync();
    const pathB = newPath();
    const b = PageFile.createSync(pathB, { ciphers: t1 });
    b.writeSync(0, pageWith('b-zero'));
    b.closeSync();
    const pathC = newPath();
    const c = PageFile.createSync(pathC, { ciphers: t2 });
    c.writeSync(0, pageWith('c-zero'));
    c.closeSync();
    const bytesA = readFileSync(pathA);
    const page0 = bytesA.subarray(SLOT, 2 * SLOT);

    // Position: swap page 0 into slot 1.
    const moved = Buffer.from(bytesA);
    page0.copy(moved, 2 * SLOT);
    writeFileSync(pathA, moved);
    const a2 = PageFile.openSync(pathA, { ciphers: t1 });
    assert.deepEqual(a2.readSync(0), pageWith('zero'));
    assert.throws(() => a2.readSync(1), AUTH);
    a2.closeSync();

    // Another file of the same tenant.
    const bytesB = readFileSync(pathB);
    page0.copy(bytesB, SLOT);
    writeFileSync(pathB, bytesB);
    const b2 = PageFile.openSync(pathB, { ciphers: t1 });
    assert.throws(() => b2.readSync(0), AUTH);
    b2.closeSync();

    // Another tenant's file: a page copied in, and the whole file opened as the other tenant.
    const bytesC = readFileSync(pathC);
    page0.copy(bytesC, SLOT);
    writeFileSync(pathC, bytesC);
    const c2 = PageFile.openSync(pathC, { ciphers: t2 });
    assert.throws(() => c2.readSync(0), AUTH);
    c2.closeSync();
    assert.throws(() => PageFile.openSync(pathB, { ciphers: t2 }), AUTH);
  });

  test('a truncated file: a cut page fails, a cut header is corrupt', () => {
    const path = newPath();
    const f = PageFile.createSync(path, { ciphers: t1 });
    f.writeSync(0, pageWith('a'));
    f.writeSync(1, pageWith('b'));
    f.closeSync();
    truncateSync(path, 3 * SLOT - 100);
    const g = PageFile.openSync(path, { ciphers: t1 });
    assert.equal(g.pageCount, 2);
    assert.deepEqual(g.readSync(0), pageWith('a'));
    assert.throws(() => g.readSync(1), AUTH);
    g.closeSync();
    truncateSync(path, 50);
    assert.throws(() => PageFile.openSync(path, { ciphers: t1 }), { code: 'WK_STORAGE_CORRUPT' });
  });

  test('no plaintext marker anywhere under the data directory', async () => {
    const marker = `PLAINTEXT-${randomBytes(8).toString('hex')}`;
    const f = PageFile.createSync(newPath(), { ciphers: t1 });
    for (let i = 0; i < 4; i++) f.writeSync(i, pageWith(marker));
    await f.write(5, pageWith(marker));
    f.closeSync();
    const needle = Buffer.from(marker);
    const hits: string[] = [];
    const walk = (dir: string): void => {
      for (const e of readdirSync(dir, { withFileTypes: true })) {
        const p = join(dir, e.name);
        if (e.isDirectory()) walk(p);
        else if (e.isFile() && readFileSync(p).includes(needle)) hits.push(p);
      }
    };
    walk(dataDir);
    assert.deepEqual(hits, []);
  });
});
