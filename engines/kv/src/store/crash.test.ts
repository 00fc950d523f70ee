import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { openStore, removeDataDir } from '../testing/store-fixture.js';

const CHILD = fileURLToPath(new URL('../testing/store-crash-child.ts', import.meta.url));
const PACKAGE_DIR = fileURLToPath(new URL('../..', import.meta.url));
const CYCLES = 20;
const dataDir = mkdtempSync(join(tmpdir(), 'wk-kv-crash-'));
after(() => removeDataDir(dataDir));

/** Runs the child until it has written for `ms` milliseconds, then SIGKILLs it; returns its lines. */
function runAndKill(kek: string, tag: string, ms: number): Promise<string[]> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', CHILD, dataDir, kek, tag], { cwd: PACKAGE_DIR, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    child.stdout.on('data', (d: Buffer) => {
      const ready = out.includes('READY');
      out += d.toString();
      if (!ready && out.includes('READY')) setTimeout(() => child.kill('SIGKILL'), ms);
    });
    child.stderr.on('data', (d: Buffer) => {
      err += d.toString();
    });
    child.on('error', reject);
    child.on('exit', (code, signal) => {
      if (signal !== 'SIGKILL') reject(new Error(`child exited ${code}: ${err}`));
      // Only whole lines count: a line cut by the kill was never fully reported.
      else resolve(out.split('\n').slice(0, -1));
    });
  });
}

test(`${CYCLES} cycles of concurrent writes, SIGKILL and reopen: every acknowledged write is there, no batch is half-applied`, async () => {
  const kek = randomBytes(32).toString('base64');
  const hot = new Map<string, number>();
  const acked = new Set<string>();
  const started = new Map<string, number>();
  const puts: string[] = [];
  let lastRevision = 0;
  for (let cycle = 0; cycle < CYCLES; cycle++) {
    const t0 = performance.now();
    const lines = await runAndKill(kek, `c${cycle}`, 80 + Math.floor(Math.random() * 250));
    const t1 = performance.now();
    for (const line of lines) {
      const [kind, a, b] = line.split(' ');
      if (kind === 'S') started.set(a!, Number(b));
      else if (kind === 'B') acked.add(a!);
      else if (kind === 'P') puts.push(a!);
      else if (kind === 'H') hot.set(a!, Math.max(hot.get(a!) ?? 0, Number(b)));
    }
    const f = await openStore({}, { dataDir, kek });
    try {
      const t = await f.store.tenant('crash');
      assert.ok(t.revision >= lastRevision, `revision went back: ${t.revision} < ${lastRevision}`);
      lastRevision = t.revision;
      // Values are read back for this cycle's writes and, in the last cycle, for all; presence always.
      const full = cycle === CYCLES - 1;
      const tag = `c${cycle}-`;
      for (const key of puts) {
        if (full || key.startsWith(`p:${tag}`)) assert.equal((await t.get(key))?.value.toString(), key, `acknowledged put ${key} lost in cycle ${cycle}`);
        else assert.equal((await t.head(key))?.size, key.length, `acknowledged put ${key} lost in cycle ${cycle}`);
      }
      for (const [id, size] of started) {
        let present = 0;
        for (let i = 0; i < size; i++) {
          const key = `b:${id}:${i}`;
          if (full || id.startsWith(tag)) {
            const item = await t.get(key);
            if (item === null) continue;
            assert.ok(item.value.equals(Buffer.alloc(60 + i * 400, id)), `batch ${id} item ${i} has a wrong value`);
          } else if ((await t.head(key)) === null) continue;
          present++;
        }
        assert.ok(present === 0 || present === size, `batch ${id} half-applied: ${present}/${size} in cycle ${cycle}`);
        if (acked.has(id)) assert.equal(present, size, `acknowledged batch ${id} lost in cycle ${cycle}`);
      }
      for (const [w, n] of hot) {
        const item = await t.get(`hot:${w}`);
        const seen = Number(item?.value.toString().split(':')[0]);
        assert.ok(seen >= n, `hot key ${w} went back to ${seen} from acknowledged ${n}`);
      }
    } finally {
      await f.close();
    }
    if (process.env.CRASH_TEST_TIMING === '1') process.stderr.write(`cycle ${cycle}: child ${Math.round(t1 - t0)} ms, verify ${Math.round(performance.now() - t1)} ms, ${puts.length} puts\n`);
  }
  assert.ok(puts.length > 100 && acked.size > 50, `too little load: ${puts.length} puts, ${acked.size} batches`);
});
