import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { openAuditLog } from './audit-log.js';
import { verifyAuditFiles } from './verify.js';

let dir: string;
let lines: string[];

// Independent of canonical-json.ts: a replacer that rebuilds every object with sorted keys.
function rehash(record: Record<string, unknown>): Record<string, unknown> {
  const { hash: _h, ...rest } = record;
  const canon = JSON.stringify(rest, (_k, v) =>
    v !== null && typeof v === 'object' && !Array.isArray(v) ? Object.fromEntries(Object.entries(v).sort(([a], [b]) => (a < b ? -1 : 1))) : v,
  );
  return { ...rest, hash: createHash('sha256').update(canon, 'utf8').digest('hex') };
}

async function variant(name: string, edit: (ls: string[]) => string[]): Promise<string> {
  const path = join(dir, name);
  await writeFile(path, edit([...lines]).map((l) => `${l}\n`).join(''));
  return path;
}

before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'wk-audit-verify-'));
  const log = await openAuditLog({ output: join(dir, 'good.jsonl'), events: ['auth', 'data_read'] });
  for (let i = 0; i < 6; i++) {
    await log.appendUnauthenticated({ event: 'auth', identity: `user${i}`, operation: 'login', result: 'success', details: { n: i } });
  }
  await log.close();
  lines = (await readFile(join(dir, 'good.jsonl'), 'utf8')).trimEnd().split('\n');
});
after(() => rm(dir, { recursive: true, force: true }));

describe('verifyAuditFiles', () => {
  test('an untouched file verifies', async () => {
    const r = await verifyAuditFiles([join(dir, 'good.jsonl')]);
    assert.equal(r.ok, true);
    assert.equal(r.events, 6);
    assert.equal(r.last?.seq, 6);
  });

  test('an edited field is found at its seq', async () => {
    const path = await variant('edited.jsonl', (ls) => {
      ls[2] = ls[2]!.replace('"user2"', '"mallory"');
      return ls;
    });
    const r = await verifyAuditFiles([path]);
    assert.equal(r.ok, false);
    assert.equal(r.firstBadSeq, 3);
    assert.equal(r.events, 2);
  });

  test('an edit with the hash recomputed still breaks the next link', async () => {
    const path = await variant('rehashed.jsonl', (ls) => {
      ls[2] = JSON.stringify(rehash({ ...JSON.parse(ls[2]!), identity: 'mallory' }));
      return ls;
    });
    const r = await verifyAuditFiles([path]);
    assert.equal(r.firstBadSeq, 4);
    assert.match(r.reason ?? '', /prev_hash/);
  });

  test('a deleted line names the missing seq', async () => {
    const path = await variant('deleted.jsonl', (ls) => ls.filter((_, i) => i !== 3));
    const r = await verifyAuditFiles([path]);
    assert.equal(r.ok, false);
    assert.equal(r.firstBadSeq, 4);
  });

  test('swapped lines are found where the order breaks', async () => {
    const path = await variant('swapped.jsonl', (ls) => {
      [ls[1], ls[2]] = [ls[2]!, ls[1]!];
      return ls;
    });
    const r = await verifyAuditFiles([path]);
    assert.equal(r.ok, false);
    assert.equal(r.firstBadSeq, 2);
  });

  test('a changed seq (hash recomputed to match) is found at that event', async () => {
    const path = await variant('seq.jsonl', (ls) => {
      ls[3] = JSON.stringify(rehash({ ...JSON.parse(ls[3]!), seq: 40 }));
      return ls;
    });
    const r = await verifyAuditFiles([path]);
    assert.equal(r.firstBadSeq, 4);
    assert.match(r.reason ?? '', /seq/);
  });

  test('a changed prev_hash (hash recomputed to match) is found', async () => {
    const path = await variant('prev.jsonl', (ls) => {
      ls[4] = JSON.stringify(rehash({ ...JSON.parse(ls[4]!), prev_hash: 'a'.repeat(64) }));
      return ls;
    });
    const r = await verifyAuditFiles([path]);
    assert.equal(r.firstBadSeq, 5);
    assert.match(r.reason ?? '', /prev_hash/);
  });

  test('invalid JSON, an extra field and an empty line are found', async () => {
    const bad = await variant('json.jsonl', (ls) => {
      ls[1] = ls[1]!.slice(0, -3);
      return ls;
    });
    assert.equal((await verifyAuditFiles([bad])).firstBadSeq, 2);
    const extra = await variant('extra.jsonl', (ls) => {
      ls[0] = JSON.stringify(rehash({ ...JSON.parse(ls[0]!), note: 'x' }));
      return ls;
    });
    assert.equal((await verifyAuditFiles([extra])).firstBadSeq, 1);
    const blank = await variant('blank.jsonl', (ls) => [...ls.slice(0, 2), '', ...ls.slice(2)]);
    assert.equal((await verifyAuditFiles([blank])).firstBadSeq, 3);
  });

  test('a file missing its first events fails unless verified as partial', async () => {
    const path = await variant('head.jsonl', (ls) => ls.slice(2));
    const r = await verifyAuditFiles([path]);
    assert.equal(r.ok, false);
    assert.equal(r.firstBadSeq, 1);
    const partial = await verifyAuditFiles([path], { partial: true });
    assert.equal(partial.ok, true);
    assert.equal(partial.events, 4);
  });

  test('a link between two files is checked, and a missing file is reported', async () => {
    const first = await variant('part.1', (ls) => ls.slice(0, 3));
    const second = await variant('part.2', (ls) => ls.slice(3));
    assert.equal((await verifyAuditFiles([first, second])).ok, true);
    const gap = await variant('gap.2', (ls) => ls.slice(4));
    assert.equal((await verifyAuditFiles([first, gap])).firstBadSeq, 4);
    assert.equal((await verifyAuditFiles([second, first])).firstBadSeq, 1);
    const missing = await verifyAuditFiles([first, join(dir, 'nope')]);
    assert.equal(missing.ok, false);
    assert.equal(missing.firstBadSeq, 4);
  });
});
