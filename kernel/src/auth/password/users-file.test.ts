import assert from 'node:assert/strict';
import { mkdtemp, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import type { UsersFileInvalid } from '../../errors.js';
import { scramVerifier } from './scram-verifier.js';
import { parsePasswordHash, parseUsersFile, withoutUser, withUserAdded, withUserHash } from './users-file.js';
import { addUser, changeUserPassword, hashPassword, removeUser, writeUsersFileAtomic } from './users-file-write.js';
import { UsersStore } from './users-store.js';

const BCRYPT = '$2b$04$abcdefghijklmnopqrstuuABCDEFGHIJKLMNOPQRSTUVWXYZ01234';
const BCRYPT_Y = '$2y$10$abcdefghijklmnopqrstuuABCDEFGHIJKLMNOPQRSTUVWXYZ01234';
const KEY = Buffer.alloc(32, 1).toString('base64');
const SCRAM = `SCRAM-SHA-256$4096:${Buffer.alloc(16, 2).toString('base64')}$${KEY}:${KEY}`;

function issuesOf(text: string): UsersFileInvalid['issues'] {
  try {
    parseUsersFile(text);
  } catch (err) {
    assert.equal((err as UsersFileInvalid).code, 'WK_AUTH_USERS_FILE_INVALID');
    return (err as UsersFileInvalid).issues;
  }
  assert.fail('expected WK_AUTH_USERS_FILE_INVALID');
}

describe('users file parsing', () => {
  test('accepts bcrypt $2b$/$2y$ and SCRAM verifiers, comments and blank lines', () => {
    const file = parseUsersFile(`# users\n\nalice:${BCRYPT}\r\nbob.smith_2-x:${BCRYPT_Y}\n  # indented comment\ncarol:${SCRAM}\n`);
    assert.deepEqual([...file.users.keys()], ['alice', 'bob.smith_2-x', 'carol']);
    assert.equal(file.users.get('alice')?.hash.scheme, 'bcrypt');
    assert.equal(file.users.get('bob.smith_2-x')?.line, 4);
    const carol = file.users.get('carol')!.hash;
    assert.equal(carol.scheme, 'scram-sha-256');
    assert.equal(carol.scheme === 'scram-sha-256' && carol.secret.iterations, 4096);
  });

  const refused: [string, string][] = [
    ['plain text', 'hunter2secret'],
    ['htpasswd MD5', '$apr1$salt1234$abcdefghijklmnopqrstuv'],
    ['PostgreSQL md5', `md5${'a'.repeat(32)}`],
    ['{SHA}', '{SHA}W6ph5Mm5Pz8GgiULbPgzG37mj9g='],
    ['crypt DES', 'abJnggxhB/yWI'],
    ['MD5-crypt', '$1$salt$abcdefghijklmnopqrstuv'],
    ['SHA-512 crypt', '$6$salt$abcdef'],
    ['$2a$', '$2a$10$abcdefghijklmnopqrstuuABCDEFGHIJKLMNOPQRSTUVWXYZ01234'],
    ['bcrypt too short', '$2b$10$abcdefghijklmnopqrstuuABCDEFGHIJKLMNOPQRSTUVWXYZ0123'],
    ['bcrypt cost 03', '$2b$03$abcdefghijklmnopqrstuuABCDEFGHIJKLMNOPQRSTUVWXYZ01234'],
    ['bcrypt cost 32', '$2b$32$abcdefghijklmnopqrstuuABCDEFGHIJKLMNOPQRSTUVWXYZ01234'],
    ['bcrypt bad char', '$2b$10$abcdefghijklmnopqrstuuABCDEFGHIJKLMNOPQRSTUVWXYZ0123!'],
    ['SCRAM iterations 4095', SCRAM.replace('$4096:', '$4095:')],
    ['SCRAM iterations leading zero', SCRAM.replace('$4096:', '$04096:')],
    ['SCRAM empty salt', `SCRAM-SHA-256$4096:$${KEY}:${KEY}`],
    ['SCRAM salt not base64', `SCRAM-SHA-256$4096:not*b64$${KEY}:${KEY}`],
    ['SCRAM short key', `SCRAM-SHA-256$4096:c2FsdA==$${Buffer.alloc(31).toString('base64')}:${KEY}`],
    ['SCRAM missing server key', `SCRAM-SHA-256$4096:c2FsdA==$${KEY}`],
    ['SCRAM-SHA-1', `SCRAM-SHA-1$4096:c2FsdA==$${KEY}:${KEY}`],
    ['empty hash', ''],
  ];
  for (const [name, hash] of refused) {
    test(`refuses ${name}, naming the line without echoing it`, () => {
      const text = `# header\nalice:${BCRYPT}\nmallory:${hash}\n`;
      const issues = issuesOf(text);
      assert.equal(issues.length, 1);
      assert.equal(issues[0]!.line, 3);
      try {
        parseUsersFile(text);
      } catch (err) {
        const message = (err as Error).message;
        assert.match(message, /line 3/);
        if (hash.length > 3) assert.ok(!message.includes(hash.slice(4, 20)), message);
        assert.ok(!message.includes('mallory'));
      }
    });
  }

  test('refuses bad names, missing colons and duplicates, each with its line', () => {
    const issues = issuesOf(`alice@tenant:${BCRYPT}\nno-colon-here\nbob:${BCRYPT}\n:${BCRYPT}\nbob:${SCRAM}\n${'x'.repeat(64)}:${BCRYPT}\n`);
    assert.deepEqual(
      issues.map((i) => i.line),
      [1, 2, 4, 5, 6],
    );
    assert.match(issues[3]!.reason, /duplicate.*line 3/);
  });

  test('parsePasswordHash reports reasons for refused schemes', () => {
    const r = parsePasswordHash('$apr1$x$y');
    assert.equal(r.ok, false);
    assert.match(!r.ok ? r.reason : '', /MD5/);
  });
});

describe('users file editing', () => {
  let dir = '';
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'wk-users-'));
  });
  after(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  test('pure edits keep comments and order', () => {
    const base = `# keep me\nalice:${BCRYPT}\n\nbob:${BCRYPT_Y}\n`;
    const added = withUserAdded(base, 'carol', SCRAM);
    assert.equal(added, `${base}carol:${SCRAM}\n`);
    assert.equal(withUserHash(added, 'alice', SCRAM), `# keep me\nalice:${SCRAM}\n\nbob:${BCRYPT_Y}\ncarol:${SCRAM}\n`);
    assert.equal(withoutUser(added, 'bob'), `# keep me\nalice:${BCRYPT}\n\ncarol:${SCRAM}\n`);
    assert.throws(() => withUserAdded(base, 'alice', SCRAM), { code: 'WK_AUTH_USER_EXISTS' });
    assert.throws(() => withUserHash(base, 'zed', SCRAM), { code: 'WK_AUTH_USER_NOT_FOUND' });
    assert.throws(() => withoutUser(base, 'zed'), { code: 'WK_AUTH_USER_NOT_FOUND' });
    assert.throws(() => withUserAdded(base, 'eve@t1', SCRAM), { code: 'WK_AUTH_INVALID_USER_NAME' });
    assert.throws(() => withUserAdded(base, 'eve', 'plaintext'), { code: 'WK_AUTH_USERS_FILE_INVALID' });
  });

  test('add, passwd, remove write atomically with mode 0600 and leave no temp files', async () => {
    const path = join(dir, 'users.htpasswd');
    await addUser(path, 'alice', await hashPassword('alice password 1'));
    await addUser(path, 'bob', await hashPassword('bob password 12', { scheme: 'bcrypt', bcryptCost: 4 }));
    const before = parseUsersFile(await readFile(path, 'utf8'));
    await changeUserPassword(path, 'alice', await scramVerifier('new alice pw 2'));
    const afterChange = parseUsersFile(await readFile(path, 'utf8'));
    assert.notEqual(afterChange.users.get('alice')?.hash.text, before.users.get('alice')?.hash.text);
    assert.equal(afterChange.users.get('bob')?.hash.scheme, 'bcrypt');
    await removeUser(path, 'bob');
    assert.deepEqual([...parseUsersFile(await readFile(path, 'utf8')).users.keys()], ['alice']);
    assert.equal((await stat(path)).mode & 0o777, 0o600);
    assert.deepEqual(await readdir(dir), ['users.htpasswd']);
    await assert.rejects(addUser(path, 'alice', SCRAM), { code: 'WK_AUTH_USER_EXISTS' });
    await assert.rejects(removeUser(path, 'bob'), { code: 'WK_AUTH_USER_NOT_FOUND' });
    await assert.rejects(removeUser(join(dir, 'missing'), 'bob'), { code: 'WK_AUTH_USERS_FILE_UNREADABLE' });
  });

  test('an invalid text is never written', async () => {
    const path = join(dir, 'guarded');
    await writeFile(path, `alice:${BCRYPT}\n`);
    await assert.rejects(writeUsersFileAtomic(path, 'alice:plain\n'), { code: 'WK_AUTH_USERS_FILE_INVALID' });
    assert.equal(await readFile(path, 'utf8'), `alice:${BCRYPT}\n`);
  });

  test('UsersStore.reload swaps on success and keeps the old state on a bad file', async () => {
    const path = join(dir, 'store');
    await writeFile(path, `alice:${BCRYPT}\n`);
    const store = await UsersStore.load(path);
    assert.equal(store.generation, 0);
    await writeFile(path, `alice:${BCRYPT}\nbob:${SCRAM}\n`);
    await store.reload();
    assert.equal(store.generation, 1);
    assert.equal(store.get('bob')?.hash.scheme, 'scram-sha-256');
    await writeFile(path, `alice:${BCRYPT}\nbob:{SHA}abc\n`);
    await assert.rejects(store.reload(), { code: 'WK_AUTH_USERS_FILE_INVALID' });
    assert.equal(store.generation, 1);
    assert.equal(store.get('bob')?.hash.scheme, 'scram-sha-256');
    await rm(path);
    await assert.rejects(store.reload(), { code: 'WK_AUTH_USERS_FILE_UNREADABLE' });
    assert.equal(store.size, 2);
  });

  test('profile follows the majority of the file', () => {
    const bc = UsersStore.fromText(`a:${BCRYPT_Y}\nb:${BCRYPT_Y}\nc:${SCRAM}\n`);
    assert.deepEqual({ ...bc.profile }, { bcryptCost: 10, scramIterations: 4096, scheme: 'bcrypt' });
    assert.equal(UsersStore.fromText('').profile.scheme, 'scram-sha-256');
  });
});
