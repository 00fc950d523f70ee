import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { createRequire } from 'node:module';
import { describe, test } from 'node:test';
import { Worker } from 'node:worker_threads';
import type { Binding } from '@weftkit/aes-gcm';
import { createAeadKey, type PageCipherBackend, pageCipherBackend, passesSelfTest } from './aead-backend.js';
import { PageCipher } from './page-cipher.js';

const AUTH = { code: 'WK_CRYPTO_PAGE_AUTH_FAILED' };
const BACKENDS = ['openssl-native', 'node-crypto'] as const satisfies readonly PageCipherBackend[];
const addon = createRequire(import.meta.url)('@weftkit/aes-gcm') as Binding | undefined;

describe('page cipher AES-GCM backend', () => {
  // On this project's machines (Debian, libcrypto.so.3, the addon built by npm ci) the native
  // backend must be the one in use: a silent fall-back to node:crypto costs ~3x in throughput.
  test('the native OpenSSL backend is active by default', () => {
    assert.notEqual(addon, undefined, '@weftkit/aes-gcm did not load (not built, or no libcrypto.so.3)');
    assert.equal(pageCipherBackend(), 'openssl-native');
    const c = new PageCipher({ key: randomBytes(32), tenant: 'tenant-a', keyVersion: 1 });
    assert.equal(c.backend, 'openssl-native');
    c.destroy();
  });

  test('both backends give identical ciphertext and tag for the same nonce (4, 8, 16, 64 KiB)', () => {
    for (const size of [4096, 8192, 16384, 65536]) {
      for (let i = 0; i < 4; i++) {
        const key = randomBytes(32);
        const nonce = randomBytes(12);
        const aad = randomBytes(i === 0 ? 0 : 96 + i);
        const plaintext = randomBytes(size);
        const outs = BACKENDS.map((backend) => {
          const k = createAeadKey(key, backend);
          const out = Buffer.alloc(size + 16);
          k.seal(nonce, aad, plaintext, out);
          k.destroy();
          return out;
        });
        assert.deepEqual(outs[0], outs[1], `size ${size}`);
      }
    }
  });

  test('pages and headers sealed by one backend open with the other; tampering fails under both', () => {
    const key = randomBytes(32);
    const fileId = randomBytes(16);
    for (const pageSize of [4096, 8192, 16384, 65536]) {
      const [native, node] = BACKENDS.map((backend) => new PageCipher({ key, tenant: 'tenant-a', keyVersion: 3, pageSize, backend })) as [
        PageCipher,
        PageCipher,
      ];
      for (const [a, b] of [
        [native, node],
        [node, native],
      ] as const) {
        const p = randomBytes(pageSize);
        const sealed = a.seal(fileId, 42, p);
        assert.deepEqual(b.open(fileId, 42, sealed), p);
        const header = randomBytes(100);
        const seal = a.sealHeader(fileId, header);
        b.verifyHeader(fileId, header, seal);
        const badHeader = Buffer.from(header);
        badHeader[99]! ^= 1;
        assert.throws(() => b.verifyHeader(fileId, badHeader, seal), AUTH);
        const badSeal = Buffer.from(seal);
        badSeal[27]! ^= 1;
        assert.throws(() => b.verifyHeader(fileId, header, badSeal), AUTH);
        assert.throws(() => b.verifyHeader(randomBytes(16), header, seal), AUTH);
      }
      native.destroy();
      node.destroy();
    }
  });

  test('a failed open leaves no plaintext in out (node: untouched, native: zeroed); a destroyed key refuses use', () => {
    for (const backend of BACKENDS) {
      const k = createAeadKey(randomBytes(32), backend);
      const nonce = randomBytes(12);
      const aad = randomBytes(96);
      const sealed = Buffer.alloc(4096 + 16);
      k.seal(nonce, aad, randomBytes(4096), sealed);
      const tag = Buffer.from(sealed.subarray(4096));
      tag[0]! ^= 1;
      const out = Buffer.alloc(4096, 0xaa);
      assert.equal(k.open(nonce, aad, sealed.subarray(0, 4096), tag, out), false, backend);
      const left = backend === 'node-crypto' ? 0xaa : 0;
      assert.ok(out.every((b) => b === left), backend);
      out.fill(0xaa);
      k.destroy();
      assert.equal(k.open(nonce, aad, sealed.subarray(0, 4096), sealed.subarray(4096), out), false, backend);
      assert.ok(out.every((b) => b === 0xaa), backend);
    }
    const native = createAeadKey(randomBytes(32), 'openssl-native');
    native.destroy();
    assert.throws(() => native.seal(randomBytes(12), Buffer.alloc(0), randomBytes(16), Buffer.alloc(32)));
  });

  test('the self-test accepts the real addon and refuses one that is wrong', () => {
    assert.ok(addon);
    assert.equal(passesSelfTest(addon), true);
    const flipsCiphertext: Binding = {
      ...addon,
      seal: (k, n, a, p, o) => {
        const ok = addon.seal(k, n, a, p, o);
        if (o.length > 16) o[0]! ^= 1;
        return ok;
      },
    };
    const flipsTag: Binding = {
      ...addon,
      seal: (k, n, a, p, o) => {
        const ok = addon.seal(k, n, a, p, o);
        o[o.length - 1]! ^= 1;
        return ok;
      },
    };
    const acceptsAnyTag: Binding = { ...addon, open: (k, n, a, c, t, o) => addon.open(k, n, a, c, t, o) || true };
    const refusesKeys: Binding = { ...addon, createKey: () => undefined };
    for (const bad of [flipsCiphertext, flipsTag, acceptsAnyTag, refusesKeys]) assert.equal(passesSelfTest(bad), false);
  });

  test('the kernel backend loads in worker threads and the main thread at the same time', async () => {
    const moduleUrl = new URL('./page-cipher.ts', import.meta.url).href;
    const source = `
      const { parentPort, workerData } = require('node:worker_threads');
      const { randomBytes } = require('node:crypto');
      // Node 20 does not apply tsx's hooks to workers: register them in the worker first.
      import('tsx/esm/api').then((m) => { m.register(); return import(workerData.moduleUrl); }).then(({ PageCipher }) => {
        let ok = 0;
        const fileId = randomBytes(16);
        for (let i = 0; i < 200; i++) {
          const key = randomBytes(32);
          const native = new PageCipher({ key, tenant: 'w', keyVersion: 1 });
          const node = new PageCipher({ key, tenant: 'w', keyVersion: 1, backend: 'node-crypto' });
          const p = randomBytes(8192);
          if (native.backend === 'openssl-native' && node.open(fileId, i, native.seal(fileId, i, p)).equals(p)) ok++;
          native.destroy();
          node.destroy();
        }
        parentPort.postMessage(ok);
      });
    `;
    const workers = [0, 1].map(
      () =>
        new Promise((resolve, reject) => {
          const w = new Worker(source, { eval: true, workerData: { moduleUrl } });
          let result: unknown;
          w.on('message', (m) => {
            result = m;
          });
          w.on('error', reject);
          w.on('exit', (code) => (code === 0 ? resolve(result) : reject(new Error(`worker exited ${code}`))));
        }),
    );
    const key = randomBytes(32);
    const fileId = randomBytes(16);
    for (let i = 0; i < 200; i++) {
      const native = new PageCipher({ key, tenant: 'm', keyVersion: 1 });
      const p = randomBytes(8192);
      assert.deepEqual(native.open(fileId, i, native.seal(fileId, i, p)), p);
      native.destroy();
      if (i % 20 === 0) await new Promise((r) => setImmediate(r));
    }
    assert.deepEqual(await Promise.all(workers), [200, 200]);
  });
});
