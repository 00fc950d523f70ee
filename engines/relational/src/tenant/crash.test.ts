import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { openTestKeyring, seedTemplate } from '../testing/tenant-fixtures.js';

// The child opens tenant `crash`, reports its rows, then inserts with autocommit, printing
// `ack <id>` after each acknowledged commit, until it is killed.
const CHILD = `
import { silentLogger } from '@weftkit/kernel';
const { createTenantManager } = await import(${JSON.stringify(new URL('./tenant-manager.ts', import.meta.url).href)});
const { openTestKeyring, simpleQuery } = await import(${JSON.stringify(new URL('../testing/tenant-fixtures.ts', import.meta.url).href)});
const [dataDir, key] = process.argv.slice(1);
const keyring = await openTestKeyring(dataDir, key);
const mgr = createTenantManager({ dataDir, keyring, logger: silentLogger, maxOpenTenants: 2, spareWorker: false });
const { backend } = await mgr.open('crash');
const q = (sql) => simpleQuery((m, onData) => backend.exchange(m, onData), sql);
await q('create table if not exists t(id int primary key, pad text)');
const r = await q('select count(*), coalesce(max(id), 0) from t');
process.stdout.write('rows ' + r.rows[0][0] + ' ' + r.rows[0][1] + '\\n');
for (let id = Number(r.rows[0][1]) + 1; ; id++) {
  const w = await q('insert into t values (' + id + ', repeat(\\'x\\', ' + (id % 2000) + '))');
  // An acknowledged autocommit insert: no error, and the backend is back outside any transaction.
  if (w.errors.length > 0 || w.status !== 'I') throw new Error('insert failed: ' + w.errors.join(',') + ' status ' + w.status);
  process.stdout.write('ack ' + id + '\\n');
}
`;
const dirs: string[] = [];
after(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

/** Runs the child until it has acknowledged `acks` commits (after reporting its rows), then SIGKILLs it. */
function cycle(dataDir: string, key: string, acks: number): Promise<{ rows: number; maxId: number; lastAck: number }> {
  return new Promise((resolve, reject) => {
    const p = spawn(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', CHILD, dataDir, key], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    let rows = -1;
    let maxId = -1;
    let lastAck = 0;
    let seen = 0;
    let killed = false;
    p.stderr.on('data', (d: Buffer) => {
      err += d.toString();
    });
    p.stdout.on('data', (d: Buffer) => {
      out += d.toString();
      const lines = out.split('\n');
      out = lines.pop()!;
      for (const line of lines) {
        const [kind, a, b] = line.split(' ');
        if (kind === 'rows') {
          rows = Number(a);
          maxId = Number(b);
        } else if (kind === 'ack') {
          lastAck = Number(a);
          if (++seen >= acks && !killed) {
            killed = true;
            p.kill('SIGKILL');
          }
        }
      }
    });
    p.on('exit', (_code, signal) => {
      if (signal !== 'SIGKILL') reject(new Error(`child ended by itself: ${err}`));
      else resolve({ rows, maxId, lastAck });
    });
  });
}

test('SIGKILL mid-commit loses no acknowledged commit and the tenant reopens cleanly, cycle after cycle', { timeout: 120_000 }, async (t) => {
  const dataDir = mkdtempSync(join(tmpdir(), 'wk-crash-'));
  dirs.push(dataDir);
  const key = randomBytes(32).toString('base64');
  const keyring = await openTestKeyring(dataDir, key);
  await seedTemplate(dataDir, keyring);
  keyring.close();
  let acknowledged = 0;
  const t0 = performance.now();
  for (let i = 0; i < 5; i++) {
    const r = await cycle(dataDir, key, 40 + i * 17);
    // Every acknowledged row survived; ids are dense, so count = max id.
    assert.ok(r.maxId >= acknowledged, `cycle ${i}: max id ${r.maxId} < acknowledged ${acknowledged}`);
    assert.equal(r.rows, r.maxId, `cycle ${i}: rows are not dense`);
    assert.ok(r.lastAck > acknowledged, `cycle ${i}: last ack ${r.lastAck} <= acknowledged ${acknowledged}`);
    acknowledged = r.lastAck;
  }
  const last = await cycle(dataDir, key, 1);
  assert.ok(last.maxId >= acknowledged, `after the last kill: max id ${last.maxId} < acknowledged ${acknowledged} (rows ${last.rows})`);
  t.diagnostic(`6 kill/reopen cycles in ${((performance.now() - t0) / 1000).toFixed(1)} s, ${acknowledged} acknowledged rows all present`);
});
