import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { describe, test } from 'node:test';
import type { PageCipherBackend } from './aead-backend.js';
import { EncryptionBudget } from './encryption-budget.js';
import { PageCipher, SEAL_OVERHEAD } from './page-cipher.js';

const AUTH = { code: 'WK_CRYPTO_PAGE_AUTH_FAILED' };
const key = randomBytes(32);
const fileId = randomBytes(16);
const page = (): Buffer => {
  const p = randomBytes(8192);
  p.write('PLAINTEXT-MARKER', 100);
  return p;
};

for (const backend of ['openssl-native', 'node-crypto'] as const satisfies readonly PageCipherBackend[]) {
  const make = (over: Partial<ConstructorParameters<typeof PageCipher>[0]> = {}): PageCipher =>
    new PageCipher({ key, tenant: 'tenant-a', keyVersion: 1, backend, ...over });

  describe(`PageCipher (${backend})`, () => {
    test('runs on the backend it was given', () => {
      assert.equal(make().backend, backend);
    });

    test('seals to nonce | ciphertext | tag and opens back', () => {
      const c = make();
      const p = page();
      const sealed = c.seal(fileId, 7, p);
      assert.equal(sealed.length, 8192 + SEAL_OVERHEAD);
      assert.equal(sealed.indexOf('PLAINTEXT-MARKER'), -1);
      assert.deepEqual(c.open(fileId, 7, sealed), p);
      const out = Buffer.alloc(8192 + 10);
      c.openInto(fileId, 7, sealed, out, 10);
      assert.deepEqual(out.subarray(10), p);
    });

    test('every seal uses a fresh nonce', () => {
      const c = make();
      const p = page();
      const nonces = new Set<string>();
      for (let i = 0; i < 1000; i++) nonces.add(c.seal(fileId, 1, p).subarray(0, 12).toString('hex'));
      assert.equal(nonces.size, 1000);
    });

    test('a flipped byte in nonce, ciphertext or tag fails as one opaque error', () => {
      const c = make();
      const sealed = c.seal(fileId, 3, page());
      for (const at of [0, 11, 12, 500, 8192 + 11, 8192 + 12, 8192 + 27]) {
        const bad = Buffer.from(sealed);
        bad[at]! ^= 0x01;
        assert.throws(() => c.open(fileId, 3, bad), AUTH, `byte ${at}`);
      }
    });

    test('a page moved to another position, file, tenant or key version fails', () => {
      const c = make();
      const sealed = c.seal(fileId, 3, page());
      assert.throws(() => c.open(fileId, 4, sealed), AUTH);
      assert.throws(() => c.open(fileId, 3 + 2 ** 32, sealed), AUTH);
      assert.throws(() => c.open(randomBytes(16), 3, sealed), AUTH);
      assert.throws(() => make({ tenant: 'tenant-b' }).open(fileId, 3, sealed), AUTH);
      assert.throws(() => make({ keyVersion: 2 }).open(fileId, 3, sealed), AUTH);
    });

    test("another tenant's DEK cannot open the page", () => {
      const sealed = make().seal(fileId, 3, page());
      assert.throws(() => make({ key: randomBytes(32) }).open(fileId, 3, sealed), AUTH);
    });

    test('short, long or empty pages fail before any crypto (out untouched); a bad tag leaves no plaintext', () => {
      const c = make();
      const sealed = c.seal(fileId, 0, page());
      const out = Buffer.alloc(8192, 0xaa);
      for (const bad of [sealed.subarray(0, sealed.length - 1), Buffer.concat([sealed, Buffer.of(0)]), Buffer.alloc(0), sealed.subarray(0, 28)]) {
        assert.throws(() => c.openInto(fileId, 0, bad, out, 0), AUTH);
      }
      const flipped = Buffer.from(sealed);
      flipped[40]! ^= 1;
      assert.ok(out.every((b) => b === 0xaa));
      assert.throws(() => c.openInto(fileId, 0, flipped, out, 0), AUTH);
      // A failed tag leaves no plaintext: node:crypto never wrote, the native backend cleansed.
      assert.ok(out.every((b) => b === 0xaa) || out.every((b) => b === 0));
    });

    test('key, page size and plaintext lengths are checked', () => {
      assert.throws(() => make({ key: randomBytes(16) }), { code: 'WK_CRYPTO_KEY_INVALID' });
      assert.throws(() => make({ key: randomBytes(33) }), { code: 'WK_CRYPTO_KEY_INVALID' });
      assert.throws(() => make({ pageSize: 6000 }), RangeError);
      assert.throws(() => make({ pageSize: 2048 }), RangeError);
      assert.throws(() => make({ pageSize: 131072 }), RangeError);
      for (const size of [4096, 16384, 65536]) {
        const c = make({ pageSize: size });
        const p = randomBytes(size);
        assert.deepEqual(c.open(fileId, 1, c.seal(fileId, 1, p)), p);
      }
      assert.throws(() => make().seal(fileId, 0, randomBytes(100)), RangeError);
    });

    test('destroy zeroes the key and refuses later use', () => {
      const src = randomBytes(32);
      const c = new PageCipher({ key: src, tenant: 'tenant-a', keyVersion: 1, backend });
      const sealed = c.seal(fileId, 0, page());
      c.destroy();
      assert.equal(c.destroyed, true);
      assert.throws(() => c.open(fileId, 0, sealed), { code: 'WK_CRYPTO_KEY_DESTROYED' });
      assert.throws(() => c.seal(fileId, 0, page()), { code: 'WK_CRYPTO_KEY_DESTROYED' });
    });

    test('the encryption count limit is enforced and rotation is signalled first', () => {
      let due = 0;
      const budget = new EncryptionBudget({ hardLimit: 5, softLimit: 3, onRotationDue: () => due++ });
      const c = make({ budget });
      const p = page();
      for (let i = 0; i < 5; i++) c.seal(fileId, i, p);
      assert.equal(due, 1);
      assert.equal(budget.rotationDue, true);
      assert.throws(() => c.seal(fileId, 9, p), { code: 'WK_CRYPTO_KEY_EXHAUSTED' });
      // A second cipher over the same key shares the count.
      assert.throws(() => make({ budget }).seal(fileId, 9, p), { code: 'WK_CRYPTO_KEY_EXHAUSTED' });
    });

    test('reservations are taken in blocks before encrypting, and a refused reservation refuses the seal', () => {
      const ceilings: number[] = [];
      const budget = new EncryptionBudget({ reservationBlock: 4, reserve: (c) => ceilings.push(c) });
      const c = make({ budget });
      for (let i = 0; i < 9; i++) c.seal(fileId, i, page());
      assert.deepEqual(ceilings, [4, 8, 12]);
      const refusing = new EncryptionBudget({
        reserve: () => {
          throw new Error('disk full');
        },
      });
      assert.throws(() => make({ budget: refusing }).seal(fileId, 0, page()), /disk full/);
      assert.equal(refusing.used, 0);
    });
  });
}
