import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { weftkit } from '../testing/run-cli.js';

// The log is written by a real engine process path: the kernel's openAuditLog through startKernel.
async function writeLog(path: string, n: number): Promise<void> {
  const { openAuditLog } = await import('@weftkit/kernel');
  const log = await openAuditLog({ output: path, events: ['auth'] });
  for (let i = 0; i < n; i++) {
    await log.appendUnauthenticated({ event: 'auth', operation: 'login', result: i % 2 ? 'success' : 'failure', identity: `user${i}` });
  }
  await log.close();
}

describe('weftkit audit verify', () => {
  let dir: string;
  let file: string;
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'weftkit-audit-cli-'));
    file = join(dir, 'audit.jsonl');
    await writeLog(file, 5);
  });
  after(async () => rm(dir, { recursive: true, force: true }));

  test('an intact chain passes', async () => {
    const r = await weftkit(['audit', 'verify', file]);
    assert.equal(r.code, 0, r.err);
    assert.match(r.out, /intact: 5 events/);
  });

  test('an edited line is found, naming its seq', async () => {
    const lines = (await readFile(file, 'utf8')).split('\n');
    const edited = join(dir, 'edited.jsonl');
    lines[2] = lines[2]!.replace('"result":"failure"', '"result":"success"');
    await writeFile(edited, lines.join('\n'));
    const r = await weftkit(['audit', 'verify', edited]);
    assert.equal(r.code, 1);
    assert.match(r.err, /BROKEN at seq 3/);
  });

  test('a deleted line is found', async () => {
    const lines = (await readFile(file, 'utf8')).split('\n');
    const cut = join(dir, 'cut.jsonl');
    lines.splice(1, 1);
    await writeFile(cut, lines.join('\n'));
    const r = await weftkit(['audit', 'verify', cut]);
    assert.equal(r.code, 1);
    assert.match(r.err, /BROKEN at seq 2/);
  });

  test('a missing file and bad usage fail', async () => {
    assert.equal((await weftkit(['audit', 'verify', join(dir, 'none.jsonl')])).code, 1);
    assert.equal((await weftkit(['audit', 'verify'])).code, 2);
  });
});
