// Durable audit events per second (append resolves after write + fdatasync) with 1, 16 and 256
// concurrent appenders, against the plain Node peer: a loop of one 200-byte append + fdatasync
// per event. Usage: npm run bench -- audit [seconds per case, default 3]
import { mkdtemp, open, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openAuditLog } from '../kernel/src/audit/index.js';
import { printRows, type Row } from './lib/report.js';

const seconds = Number(process.argv[2] ?? 3);

async function peer(dir: string): Promise<number> {
  const fh = await open(join(dir, 'peer.log'), 'a', 0o600);
  const line = Buffer.from(`${'x'.repeat(199)}\n`);
  let events = 0;
  const end = performance.now() + seconds * 1000;
  while (performance.now() < end) {
    await fh.write(line, 0, line.length, null);
    await fh.datasync();
    events++;
  }
  await fh.close();
  return events / seconds;
}

async function audit(dir: string, appenders: number): Promise<{ rate: number; perSync: number }> {
  const log = await openAuditLog({ output: join(dir, `audit-${appenders}.jsonl`), events: ['data_write'], maxBytes: 0 });
  let events = 0;
  let stop = false;
  const entry = {
    event: 'data_write',
    identity: 'bench',
    tenant: 'tenant-001',
    peer: '10.0.0.1:40000',
    operation: 'kv.put',
    resource: 'orders/12345',
    result: 'success',
    latencyMs: 0.4,
    details: { bytes: 512 },
  } as const;
  const loop = async (): Promise<void> => {
    while (!stop) {
      await log.appendUnauthenticated(entry);
      events++;
    }
  };
  const start = performance.now();
  const timer = setTimeout(() => {
    stop = true;
  }, seconds * 1000);
  await Promise.all(Array.from({ length: appenders }, loop));
  clearTimeout(timer);
  const elapsed = (performance.now() - start) / 1000;
  const { syncs } = log.stats();
  await log.close();
  return { rate: events / elapsed, perSync: events / Math.max(1, syncs) };
}

const dir = await mkdtemp(join(tmpdir(), 'wk-bench-audit-'));
try {
  const rows: Row[] = [];
  const batches: Row[] = [];
  for (const n of [1, 16, 256]) {
    // The peer runs right before each case: the disk is shared, so only adjacent figures compare.
    const peerRate = await peer(dir);
    const r = await audit(dir, n);
    const s = n === 1 ? '' : 's';
    rows.push({ name: `audit append, ${n} concurrent appender${s}`, value: r.rate, unit: 'events/s', peer: peerRate, higherIsBetter: true });
    batches.push({ name: `events per fdatasync, ${n} appender${s}`, value: r.perSync, unit: 'events' });
  }
  printRows(`durable audit events, ${seconds} s per case (peer: plain Node loop, 200-byte append + fdatasync per event)`, rows);
  printRows('group commit', batches);
} finally {
  await rm(dir, { recursive: true, force: true });
}
