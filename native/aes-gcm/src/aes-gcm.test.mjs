import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { copyFileSync, mkdtempSync, realpathSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { createCipheriv, randomBytes, randomInt } from 'node:crypto';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { Worker } from 'node:worker_threads';

const require = createRequire(import.meta.url);
const aes = require('../index.js');

function reference(key, nonce, aad, plaintext) {
  const c = createCipheriv('aes-256-gcm', key, nonce, { authTagLength: 16 });
  c.setAAD(aad);
  return Buffer.concat([c.update(plaintext), c.final(), c.getAuthTag()]);
}

function sealed(size = 8192) {
  const key = randomBytes(32);
  const nonce = randomBytes(12);
  const aad = randomBytes(96);
  const plaintext = randomBytes(size);
  const handle = aes.createKey(key);
  const out = Buffer.alloc(size + 16);
  assert.equal(aes.seal(handle, nonce, aad, plaintext, out), true);
  return { key, nonce, aad, plaintext, handle, ct: out.subarray(0, size), tag: out.subarray(size) };
}

describe('@weftkit/aes-gcm', () => {
  test('loads and is bound to the system libcrypto.so.3, not to the OpenSSL inside node', () => {
    assert.notEqual(aes, undefined);
    const { library, version } = aes.info();
    assert.match(library, /\/libcrypto\.so\.3$/);
    assert.notEqual(realpathSync(library), realpathSync(process.execPath));
    assert.match(version, /^OpenSSL 3\./);
  });

  test("libcrypto's own calls bind inside libcrypto (RTLD_DEEPBIND), never to node's bundled copy", () => {
    // Without DEEPBIND the loader binds libcrypto's ~3000 internal references to the same-named
    // symbols node exports, mixing two OpenSSL builds.
    const r = spawnSync(process.execPath, ['-e', `require(${JSON.stringify(require.resolve('../index.js'))}).info()`], {
      env: { ...process.env, LD_DEBUG: 'bindings' },
      encoding: 'utf8',
      maxBuffer: 1 << 28,
    });
    assert.equal(r.status, 0);
    const targets = new Map();
    for (const m of r.stderr.matchAll(/binding file \S*libcrypto\.so\.3 \[\d+\] to (\S+) \[/g)) {
      targets.set(m[1], (targets.get(m[1]) ?? 0) + 1);
    }
    const self = [...targets.keys()].filter((t) => t.endsWith('/libcrypto.so.3'));
    assert.equal(self.length, 1, 'libcrypto bound nothing to itself: LD_DEBUG output not seen');
    assert.ok(targets.get(self[0]) > 1000);
    for (const target of targets.keys()) assert.match(target, /\/(libcrypto\.so\.3|libc\.so\.6|ld-linux-x86-64\.so\.2)$/);
  });

  test('seal equals node:crypto for random keys, AAD and pages of 4, 8, 16 and 64 KiB; open round-trips', () => {
    for (const size of [4096, 8192, 16384, 65536]) {
      for (let i = 0; i < 8; i++) {
        const key = randomBytes(32);
        const nonce = randomBytes(12);
        const aad = randomBytes([0, 96, randomInt(1, 300)][i % 3]);
        const plaintext = randomBytes(size);
        const handle = aes.createKey(key);
        const out = Buffer.alloc(size + 16);
        assert.equal(aes.seal(handle, nonce, aad, plaintext, out), true);
        assert.deepEqual(out, reference(key, nonce, aad, plaintext), `size ${size}`);
        const back = Buffer.alloc(size);
        assert.equal(aes.open(handle, nonce, aad, out.subarray(0, size), out.subarray(size), back), true);
        assert.deepEqual(back, plaintext);
        aes.destroyKey(handle);
      }
    }
  });

  test('the same handle seals many messages with fresh nonces (only the IV is re-initialised)', () => {
    const key = randomBytes(32);
    const handle = aes.createKey(key);
    const aad = randomBytes(96);
    for (let i = 0; i < 50; i++) {
      const nonce = randomBytes(12);
      const plaintext = randomBytes(4096);
      const out = Buffer.alloc(4096 + 16);
      assert.equal(aes.seal(handle, nonce, aad, plaintext, out), true);
      assert.deepEqual(out, reference(key, nonce, aad, plaintext));
    }
  });

  test('an empty plaintext gives the GMAC tag of the AAD', () => {
    const key = randomBytes(32);
    const nonce = randomBytes(12);
    const aad = randomBytes(150);
    const handle = aes.createKey(key);
    const tag = Buffer.alloc(16);
    assert.equal(aes.seal(handle, nonce, aad, Buffer.alloc(0), tag), true);
    assert.deepEqual(tag, reference(key, nonce, aad, Buffer.alloc(0)));
    assert.equal(aes.open(handle, nonce, aad, Buffer.alloc(0), tag, Buffer.alloc(0)), true);
    aad[3] ^= 1;
    assert.equal(aes.open(handle, nonce, aad, Buffer.alloc(0), tag, Buffer.alloc(0)), false);
  });

  test('a tampered tag, ciphertext, AAD or nonce, or another key, fails and zeroes out', () => {
    const s = sealed();
    const flip = (b, at) => {
      const c = Buffer.from(b);
      c[at] ^= 0x01;
      return c;
    };
    const cases = [
      [s.handle, s.nonce, s.aad, s.ct, flip(s.tag, 15)],
      [s.handle, s.nonce, s.aad, flip(s.ct, 4000), s.tag],
      [s.handle, s.nonce, flip(s.aad, 90), s.ct, s.tag],
      [s.handle, flip(s.nonce, 0), s.aad, s.ct, s.tag],
      [aes.createKey(randomBytes(32)), s.nonce, s.aad, s.ct, s.tag],
    ];
    for (const [i, args] of cases.entries()) {
      const out = Buffer.alloc(s.ct.length, 0xaa);
      assert.equal(aes.open(...args, out), false, `case ${i}`);
      assert.ok(out.every((b) => b === 0), `case ${i} left data in out`);
    }
    const out = Buffer.alloc(s.ct.length);
    assert.equal(aes.open(s.handle, s.nonce, s.aad, s.ct, s.tag, out), true);
    assert.deepEqual(out, s.plaintext);
  });

  test('wrong lengths and wrong types fail without crashing', () => {
    const s = sealed(4096);
    for (const key of [randomBytes(31), randomBytes(33), Buffer.alloc(0), 'k'.repeat(32), null, undefined, 42, {}]) {
      assert.equal(aes.createKey(key), undefined);
    }
    assert.equal(aes.createKey(), undefined);
    const pt = randomBytes(4096);
    const good = Buffer.alloc(4096 + 16);
    const sealArgs = [
      [s.handle, randomBytes(11), s.aad, pt, good],
      [s.handle, randomBytes(13), s.aad, pt, good],
      [s.handle, s.nonce, s.aad, pt, Buffer.alloc(4096 + 15)],
      [s.handle, s.nonce, s.aad, pt, Buffer.alloc(4096 + 17)],
      [s.handle, s.nonce, s.aad, pt, Buffer.alloc(4096)],
      [s.handle, s.nonce, 'aad', pt, good],
      [s.handle, s.nonce, s.aad, [1, 2, 3], good],
      [s.handle, s.nonce, s.aad, pt, null],
      [{}, s.nonce, s.aad, pt, good],
      [null, s.nonce, s.aad, pt, good],
      [s.handle, s.nonce, s.aad, pt],
      [],
    ];
    for (const [i, args] of sealArgs.entries()) assert.equal(aes.seal(...args), false, `seal case ${i}`);
    const out = Buffer.alloc(4096);
    const openArgs = [
      [s.handle, randomBytes(11), s.aad, s.ct, s.tag, out],
      [s.handle, s.nonce, s.aad, s.ct, s.tag.subarray(0, 15), out],
      [s.handle, s.nonce, s.aad, s.ct, Buffer.concat([s.tag, Buffer.of(0)]), out],
      [s.handle, s.nonce, s.aad, s.ct, s.tag, Buffer.alloc(4095)],
      [s.handle, s.nonce, s.aad, s.ct, s.tag, Buffer.alloc(4097)],
      [s.handle, s.nonce, s.aad, s.ct.subarray(1), s.tag, out],
      [s.handle, s.nonce, s.aad, s.ct, 'tag', out],
      [Symbol('k'), s.nonce, s.aad, s.ct, s.tag, out],
      [s.handle, s.nonce, s.aad, s.ct, s.tag],
      [],
    ];
    for (const [i, args] of openArgs.entries()) assert.equal(aes.open(...args), false, `open case ${i}`);
    // Overlapping input and output is refused rather than producing garbage.
    const both = Buffer.alloc(4096 + 16);
    assert.equal(aes.seal(s.handle, s.nonce, s.aad, both.subarray(0, 4096), both), false);
    assert.equal(aes.open(s.handle, s.nonce, s.aad, s.ct, s.tag, out), true);
    assert.deepEqual(out, s.plaintext);
  });

  test('a destroyed handle refuses every use; destroying twice is harmless', () => {
    const s = sealed(4096);
    aes.destroyKey(s.handle);
    aes.destroyKey(s.handle);
    aes.destroyKey({});
    aes.destroyKey();
    assert.equal(aes.seal(s.handle, s.nonce, s.aad, s.plaintext, Buffer.alloc(4096 + 16)), false);
    assert.equal(aes.open(s.handle, s.nonce, s.aad, s.ct, s.tag, Buffer.alloc(4096)), false);
  });

  test('loads and works in worker threads and the main thread at the same time', async () => {
    const source = `
      const { parentPort, workerData } = require('node:worker_threads');
      const { createCipheriv, randomBytes } = require('node:crypto');
      const aes = require(workerData.index);
      let ok = 0;
      for (let i = 0; i < 300; i++) {
        const key = randomBytes(32), nonce = randomBytes(12), aad = randomBytes(96), pt = randomBytes(8192);
        const h = aes.createKey(key);
        const out = Buffer.alloc(8192 + 16);
        const c = createCipheriv('aes-256-gcm', key, nonce);
        c.setAAD(aad);
        const ref = Buffer.concat([c.update(pt), c.final(), c.getAuthTag()]);
        const back = Buffer.alloc(8192);
        if (aes.seal(h, nonce, aad, pt, out) && out.equals(ref) && aes.open(h, nonce, aad, out.subarray(0, 8192), out.subarray(8192), back) && back.equals(pt)) ok++;
        if (i % 2 === 0) aes.destroyKey(h); // the others are left to the finalizer at worker exit
      }
      parentPort.postMessage(ok);
    `;
    const index = require.resolve('../index.js');
    const workers = [0, 1, 2].map(
      () =>
        new Promise((resolve, reject) => {
          const w = new Worker(source, { eval: true, workerData: { index } });
          let result;
          w.on('message', (m) => {
            result = m;
          });
          w.on('error', reject);
          w.on('exit', (code) => (code === 0 ? resolve(result) : reject(new Error(`worker exited ${code}`))));
        }),
    );
    for (let i = 0; i < 200; i++) {
      const s = sealed(8192);
      assert.deepEqual(Buffer.concat([s.ct, s.tag]), reference(s.key, s.nonce, s.aad, s.plaintext));
      if (i % 20 === 0) await new Promise((r) => setImmediate(r));
    }
    assert.deepEqual(await Promise.all(workers), [300, 300, 300]);
  });

  test('the loader returns undefined, without throwing, when the addon is not built', () => {
    const dir = mkdtempSync(join(tmpdir(), 'wk-aes-'));
    try {
      copyFileSync(require.resolve('../index.js'), join(dir, 'index.js'));
      assert.equal(require(join(dir, 'index.js')), undefined);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
