// Measures durable single-put writes/s (each put acknowledged only after its group's fsync) with
// 1 and 64 concurrent writers. Run: node --import tsx src/store/measure-writes.ts [seconds]
import { openStore, removeDataDir } from './store-fixture.js';

const seconds = Number(process.argv[2] ?? 3);
const f = await openStore({ compactionMinBytes: Number.MAX_SAFE_INTEGER });
const t = await f.store.tenant('bench');
const value = Buffer.alloc(100, 'v');

for (const writers of [1, 64]) {
  let done = 0;
  const latencies: number[] = [];
  const end = performance.now() + seconds * 1000;
  await Promise.all(
    Array.from({ length: writers }, async (_, w) => {
      for (let i = 0; performance.now() < end; i++) {
        const t0 = performance.now();
        await t.batch([{ op: 'put', key: `w${writers}:${w}:${i % 1000}`, value, contentType: 'application/octet-stream' }]);
        latencies.push(performance.now() - t0);
        done++;
      }
    }),
  );
  latencies.sort((a, b) => a - b);
  const p99 = latencies[Math.floor(latencies.length * 0.99)] ?? 0;
  process.stdout.write(`${writers} writer(s): ${Math.round(done / seconds)} durable puts/s, p99 ${p99.toFixed(2)} ms\n`);
}
await f.close();
removeDataDir(f.dataDir);
