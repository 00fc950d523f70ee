import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { chmodSync, mkdtempSync, readFileSync, rmSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import { createLogger, type Logger } from '../log/logger.js';
import { DEV_KEY_FILE_NAME, createLocalKeyProvider } from './local-key-providers.js';

const dirs: string[] = [];
after(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});
const tempDir = (): string => {
  const d = mkdtempSync(join(tmpdir(), 'wk-kp-'));
  dirs.push(d);
  return d;
};
const capture = (): { logger: Logger; lines: string[] } => {
  const lines: string[] = [];
  return { logger: createLogger({ level: 'debug', write: (l) => lines.push(l) }), lines };
};
const ctx = { keyringId: 'a'.repeat(32), purpose: 'dek', tenant: 't1', keyVersion: 1 } as const;

describe('local key providers', () => {
  test('env: base64 of exactly 32 bytes; anything else is a coded error that names the setting, not the value', () => {
    const { logger, lines } = capture();
    const good = randomBytes(32).toString('base64');
    assert.equal(createLocalKeyProvider({ kind: 'env', key: good }, { dataDir: '/x', logger }).kind, 'env');
    assert.equal(createLocalKeyProvider({ kind: 'env', key: `${randomBytes(32).toString('base64url')}\n` }, { dataDir: '/x', logger }).kind, 'env');
    for (const bad of [randomBytes(31).toString('base64'), randomBytes(33).toString('base64'), 'not-base64!!', '', `${good}AAAA`]) {
      assert.throws(
        () => createLocalKeyProvider({ kind: 'env', key: bad }, { dataDir: '/x', logger }),
        (err: Error & { code?: string }) => {
          assert.equal(err.code, 'WK_CRYPTO_KEY_INVALID');
          assert.match(err.message, /WEFTKIT_KEY/);
          if (bad.length > 4) assert.equal(err.message.includes(bad.trim()), false);
          return true;
        },
      );
    }
    assert.deepEqual(lines, []);
  });

  test('wrap/unwrap round-trips and is bound to its context and KEK', async () => {
    const p = createLocalKeyProvider({ kind: 'env', key: randomBytes(32).toString('base64') }, { dataDir: '/x', logger: capture().logger });
    const other = createLocalKeyProvider({ kind: 'env', key: randomBytes(32).toString('base64') }, { dataDir: '/x', logger: capture().logger });
    const dek = randomBytes(32);
    const wrapped = await p.wrapKey(dek, ctx);
    assert.deepEqual(await p.unwrapKey(wrapped, ctx), dek);
    await assert.rejects(p.unwrapKey(wrapped, { ...ctx, tenant: 't2' }), { code: 'WK_CRYPTO_UNWRAP_FAILED' });
    await assert.rejects(p.unwrapKey(wrapped, { ...ctx, keyVersion: 2 }), { code: 'WK_CRYPTO_UNWRAP_FAILED' });
    await assert.rejects(other.unwrapKey(wrapped, ctx), { code: 'WK_CRYPTO_UNWRAP_FAILED' });
    const flipped = Buffer.from(wrapped);
    flipped[20]! ^= 1;
    await assert.rejects(p.unwrapKey(flipped, ctx), { code: 'WK_CRYPTO_UNWRAP_FAILED' });
    await assert.rejects(p.unwrapKey(wrapped.subarray(0, 20), ctx), { code: 'WK_CRYPTO_UNWRAP_FAILED' });
    await p.close();
    await assert.rejects(p.unwrapKey(wrapped, ctx), { code: 'WK_CRYPTO_KEY_DESTROYED' });
  });

  test('file: raw 32 bytes or base64; same key either way; bad contents name WEFTKIT_KEY_FILE', () => {
    const dir = tempDir();
    const key = randomBytes(32);
    const raw = join(dir, 'raw.key');
    const b64 = join(dir, 'b64.key');
    writeFileSync(raw, key, { mode: 0o600 });
    writeFileSync(b64, `${key.toString('base64')}\n`, { mode: 0o600 });
    const { logger, lines } = capture();
    const a = createLocalKeyProvider({ kind: 'file', keyFile: raw }, { dataDir: dir, logger });
    const b = createLocalKeyProvider({ kind: 'file', keyFile: b64 }, { dataDir: dir, logger });
    assert.equal(a.keyId, b.keyId);
    assert.deepEqual(lines, []);
    const short = join(dir, 'short.key');
    writeFileSync(short, randomBytes(31), { mode: 0o600 });
    assert.throws(() => createLocalKeyProvider({ kind: 'file', keyFile: short }, { dataDir: dir, logger }), (e: Error & { code?: string }) => {
      assert.equal(e.code, 'WK_CRYPTO_KEY_INVALID');
      assert.match(e.message, /WEFTKIT_KEY_FILE/);
      return true;
    });
    assert.throws(() => createLocalKeyProvider({ kind: 'file', keyFile: join(dir, 'missing') }, { dataDir: dir, logger }), {
      code: 'WK_CRYPTO_KEY_FILE_UNREADABLE',
    });
    assert.throws(() => createLocalKeyProvider({ kind: 'file', keyFile: dir }, { dataDir: dir, logger }), { code: 'WK_CRYPTO_KEY_FILE_UNREADABLE' });
  });

  test('file: a key file readable by group or others is warned about', () => {
    const dir = tempDir();
    const path = join(dir, 'open.key');
    writeFileSync(path, randomBytes(32));
    chmodSync(path, 0o644);
    const { logger, lines } = capture();
    createLocalKeyProvider({ kind: 'file', keyFile: path }, { dataDir: dir, logger });
    assert.equal(lines.length, 1);
    assert.match(lines[0]!, /"level":"warn"/);
    assert.match(lines[0]!, /WEFTKIT_KEY_FILE/);
  });

  test('file: a symlinked key file (Kubernetes secret layout) is read', () => {
    const dir = tempDir();
    writeFileSync(join(dir, 'real.key'), randomBytes(32), { mode: 0o600 });
    symlinkSync(join(dir, 'real.key'), join(dir, 'link.key'));
    createLocalKeyProvider({ kind: 'file', keyFile: join(dir, 'link.key') }, { dataDir: dir, logger: capture().logger });
  });

  test('dev: creates a 0600 key in the data directory once, and warns at every start', () => {
    const dataDir = join(tempDir(), 'data');
    const first = capture();
    const a = createLocalKeyProvider({ kind: 'dev' }, { dataDir, logger: first.logger });
    const path = join(dataDir, DEV_KEY_FILE_NAME);
    assert.equal(statSync(path).mode & 0o777, 0o600);
    assert.equal(readFileSync(path).length, 32);
    assert.equal(first.lines.length, 1);
    assert.match(first.lines[0]!, /"level":"warn".*BESIDE THE DATA/);
    const second = capture();
    const b = createLocalKeyProvider({ kind: 'dev' }, { dataDir, logger: second.logger });
    assert.equal(a.keyId, b.keyId);
    assert.equal(second.lines.length, 1);
    assert.equal(second.lines[0]!.includes(readFileSync(path).toString('base64')), false);
  });
});
