import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { weftkit } from '../testing/run-cli.js';

describe('weftkit user', () => {
  let dir: string;
  let file: string;
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'weftkit-cli-'));
    file = join(dir, 'users.htpasswd');
  });
  after(async () => rm(dir, { recursive: true, force: true }));

  const pw = 'correct-horse-42';

  test('add writes a SCRAM verifier (0600), never the password, and refuses a duplicate', async () => {
    const r = await weftkit(['user', 'add', 'alice', '--file', file], {}, `${pw}\n`);
    assert.equal(r.code, 0, r.err);
    const text = await readFile(file, 'utf8');
    assert.match(text, /^alice:SCRAM-SHA-256\$4096:[^$]+\$[^:]+:[^\n]+\n$/);
    assert.ok(!text.includes(pw) && !r.out.includes(pw) && !r.err.includes(pw));
    assert.equal((await stat(file)).mode & 0o777, 0o600);
    const dup = await weftkit(['user', 'add', 'alice', '--file', file], {}, `${pw}\n`);
    assert.equal(dup.code, 1);
    assert.match(dup.err, /WK_AUTH_USER_EXISTS/);
  });

  test('add --bcrypt writes a bcrypt hash', async () => {
    const r = await weftkit(['user', 'add', 'bob', '--file', file, '--bcrypt'], {}, `${pw}\n`);
    assert.equal(r.code, 0, r.err);
    assert.match(await readFile(file, 'utf8'), /^bob:\$2b\$12\$/m);
  });

  test('the password policy is enforced and the file is left as it was', async () => {
    const before = await readFile(file, 'utf8');
    for (const [weak, rule] of [
      ['short1abc', /12 characters/],
      ['no-digits-here-at-all', /digit/],
      ['123456789012345', /letter/],
    ] as const) {
      const r = await weftkit(['user', 'passwd', 'alice', '--file', file], {}, `${weak}\n`);
      assert.equal(r.code, 1);
      assert.match(r.err, /WK_AUTH_PASSWORD_POLICY/);
      assert.match(r.err, rule);
      assert.ok(!r.err.includes(weak));
    }
    assert.equal(await readFile(file, 'utf8'), before);
  });

  test('passwd replaces the hash; remove deletes the line; unknown users are refused', async () => {
    const before = await readFile(file, 'utf8');
    assert.equal((await weftkit(['user', 'passwd', 'alice', '--file', file], {}, 'another-pass-99\n')).code, 0);
    const after = await readFile(file, 'utf8');
    assert.notEqual(after, before);
    assert.match(after, /^alice:SCRAM/m);
    assert.equal((await weftkit(['user', 'remove', 'alice', '--file', file])).code, 0);
    assert.doesNotMatch(await readFile(file, 'utf8'), /^alice:/m);
    const gone = await weftkit(['user', 'passwd', 'alice', '--file', file], {}, 'another-pass-99\n');
    assert.match(gone.err, /WK_AUTH_USER_NOT_FOUND/);
  });

  test('bad names, a missing password and bad usage are refused', async () => {
    assert.match((await weftkit(['user', 'add', 'al:ice', '--file', file], {}, `${pw}\n`)).err, /WK_AUTH_INVALID_USER_NAME/);
    assert.match((await weftkit(['user', 'add', 'eve@tenant-1', '--file', file], {}, `${pw}\n`)).err, /WK_AUTH_INVALID_USER_NAME/);
    const empty = await weftkit(['user', 'add', 'carol', '--file', file], {}, '');
    assert.equal(empty.code, 1);
    assert.equal((await weftkit(['user', 'add', '--file', file])).code, 2);
    assert.equal((await weftkit(['user', 'add', 'x', 'y', '--file', file])).code, 2);
  });
});
