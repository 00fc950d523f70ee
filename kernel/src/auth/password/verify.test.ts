import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import bcrypt from 'bcrypt';
import { scramVerifier } from './scram-verifier.js';
import { UsersStore } from './users-store.js';
import { defaultKdf, type PasswordKdf, PasswordVerifier } from './verify.js';

interface KdfCall {
  kind: 'bcrypt' | 'scram';
  cost: number;
}

function countingKdf(): { kdf: PasswordKdf; calls: KdfCall[] } {
  const calls: KdfCall[] = [];
  return {
    calls,
    kdf: {
      bcryptCompare: (password, hash) => {
        calls.push({ kind: 'bcrypt', cost: Number(hash.slice(4, 6)) });
        return defaultKdf.bcryptCompare(password, hash);
      },
      scramSaltedPassword: (password, salt, iterations) => {
        calls.push({ kind: 'scram', cost: iterations });
        return defaultKdf.scramSaltedPassword(password, salt, iterations);
      },
    },
  };
}

const bcryptUsers = async (cost: number): Promise<string> =>
  `alice:${await bcrypt.hash('alice password 1', cost)}\nbob:${await bcrypt.hash('bob password 12', cost)}\n`;

describe('PasswordVerifier', () => {
  test('bcrypt and SCRAM-verifier users verify; wrong passwords and unknown users do not', async () => {
    const store = UsersStore.fromText(
      `alice:${await bcrypt.hash('alice password 1', 4)}\ncarol:${await scramVerifier('carol pässword 3')}\n`,
    );
    const v = new PasswordVerifier(store, { cacheTtlSeconds: 0 });
    assert.equal(await v.verifyPassword('alice', 'alice password 1'), true);
    assert.equal(await v.verifyPassword('alice', 'alice password 2'), false);
    assert.equal(await v.verifyPassword('carol', 'carol pässword 3'), true);
    assert.equal(await v.verifyPassword('carol', 'carol password 3'), false);
    assert.equal(await v.verifyPassword('nobody', 'alice password 1'), false);
    assert.equal(await v.verifyPassword('alice', 'x'.repeat(2000)), false);
  });

  test('an unknown user runs the KDF at the cost of the file users (bcrypt)', async () => {
    const { kdf, calls } = countingKdf();
    const v = new PasswordVerifier(UsersStore.fromText(await bcryptUsers(5)), { kdf, cacheTtlSeconds: 0 });
    assert.equal(await v.verifyPassword('ghost', 'whatever pw 1'), false);
    assert.deepEqual(calls, [{ kind: 'bcrypt', cost: 5 }]);
  });

  test('an unknown user runs the KDF at the iterations of the file users (SCRAM)', async () => {
    const { kdf, calls } = countingKdf();
    const text = `a:${await scramVerifier('pw a 123456789', { iterations: 5000 })}\nb:${await scramVerifier('pw b 123456789', { iterations: 5000 })}\n`;
    const v = new PasswordVerifier(UsersStore.fromText(text), { kdf, cacheTtlSeconds: 0 });
    assert.equal(await v.verifyPassword('ghost', 'whatever pw 1'), false);
    assert.equal(await v.verifyPassword('a', 'wrong pw 1'), false);
    assert.deepEqual(calls, [
      { kind: 'scram', cost: 5000 },
      { kind: 'scram', cost: 5000 },
    ]);
  });

  test('unknown users take about as long as known ones (generous margin)', async () => {
    const v = new PasswordVerifier(UsersStore.fromText(await bcryptUsers(8)), { cacheTtlSeconds: 0 });
    const time = async (user: string): Promise<number> => {
      const start = performance.now();
      for (let i = 0; i < 3; i++) await v.verifyPassword(user, 'wrong password 1');
      return performance.now() - start;
    };
    await time('alice');
    const known = await time('alice');
    const unknown = await time('ghost');
    // Without the dummy the unknown path is ~0.01 ms against ~15 ms per bcrypt at cost 8.
    assert.ok(unknown > known * 0.3, `unknown ${unknown.toFixed(1)} ms vs known ${known.toFixed(1)} ms`);
  });

  test('successes are cached for the TTL, failures never', async () => {
    const { kdf, calls } = countingKdf();
    let now = 1_000_000;
    const v = new PasswordVerifier(UsersStore.fromText(await bcryptUsers(4)), { kdf, now: () => now });
    assert.equal(await v.verifyPassword('alice', 'alice password 1'), true);
    assert.equal(await v.verifyPassword('alice', 'alice password 1'), true);
    assert.equal(calls.length, 1);
    assert.equal(await v.verifyPassword('alice', 'wrong'), false);
    assert.equal(await v.verifyPassword('alice', 'wrong'), false);
    assert.equal(calls.length, 3);
    assert.equal(await v.verifyPassword('bob', 'alice password 1'), false, 'the cache is per user');
    now += 60_001;
    assert.equal(await v.verifyPassword('alice', 'alice password 1'), true);
    assert.equal(calls.length, 5);
  });

  test('the cache is bounded', async () => {
    const v = new PasswordVerifier(UsersStore.fromText(await bcryptUsers(4)), { cacheMaxEntries: 1 });
    await v.verifyPassword('alice', 'alice password 1');
    await v.verifyPassword('bob', 'bob password 12');
    assert.equal(v.cacheSize, 1);
  });

  test('the cache is cleared when the users file is reloaded', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'wk-verify-'));
    try {
      const path = join(dir, 'users');
      await writeFile(path, await bcryptUsers(4));
      const store = await UsersStore.load(path);
      const v = new PasswordVerifier(store);
      assert.equal(await v.verifyPassword('alice', 'alice password 1'), true);
      await writeFile(path, `alice:${await bcrypt.hash('changed password 1', 4)}\n`);
      await store.reload();
      assert.equal(await v.verifyPassword('alice', 'alice password 1'), false);
      assert.equal(await v.verifyPassword('alice', 'changed password 1'), true);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
