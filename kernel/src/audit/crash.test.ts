import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { test } from 'node:test';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { openAuditLog } from './audit-log.js';
import { listAuditFiles } from './rotated-files.js';
import { verifyAuditFiles } from './verify.js';

const here = dirname(fileURLToPath(import.meta.url));
const kernelDir = join(here, '..', '..');

// Appends from 64 concurrent loops (rotating every 64 KiB) and prints each acknowledged seq.
const child = `
import { openAuditLog } from ${JSON.stringify(pathToFileURL(join(here, 'index.ts')).href)};
const log = await openAuditLog({ output: process.argv[2], events: ['data_write'], maxBytes: 65536 });
async function loop() {
  for (;;) {
    const seq = await log.appendUnauthenticated({
      event: 'data_write', identity: 'child', operation: 'kv.put', resource: 'k', result: 'success',
      details: { pad: 'x'.repeat(200) },
    });
    process.stdout.write(seq + '\\n');
  }
}
for (let i = 0; i < 64; i++) void loop();
`;

test('kill -9 of a process that is appending: the log reopens, verifies, and holds every acknowledged event', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'wk-audit-crash-'));
  try {
    const script = join(dir, 'child.mts');
    await writeFile(script, child);
    const path = join(dir, 'log', 'audit.jsonl');
    for (let round = 0; round < 2; round++) {
      const proc = spawn(process.execPath, ['--import', 'tsx', script, path], { cwd: kernelDir, stdio: ['ignore', 'pipe', 'inherit'] });
      let acked = 0;
      let buffered = '';
      const target = 3000 * (round + 1);
      const exited = new Promise<NodeJS.Signals | null>((resolve) => proc.on('exit', (_code, signal) => resolve(signal)));
      await new Promise<void>((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error('child made no progress')), 60_000);
        proc.stdout.on('data', (chunk: Buffer) => {
          buffered += chunk.toString('utf8');
          const lines = buffered.split('\n');
          buffered = lines.pop()!;
          for (const l of lines) acked = Math.max(acked, Number(l));
          if (acked >= target) {
            clearTimeout(timer);
            proc.kill('SIGKILL');
            resolve();
          }
        });
        proc.on('exit', () => {
          clearTimeout(timer);
          resolve();
        });
      });
      assert.equal(await exited, 'SIGKILL');

      const log = await openAuditLog({ output: path, maxBytes: 65536 });
      await log.close();
      const files = await listAuditFiles(path);
      assert.ok(files.length > 1);
      const r = await verifyAuditFiles(files);
      assert.equal(r.ok, true, r.reason);
      assert.ok((r.last?.seq ?? 0) >= acked, `last seq ${r.last?.seq} < acknowledged ${acked}`);
    }
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});
