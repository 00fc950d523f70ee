// Test child for crash.test.ts (not used by the engine): writes concurrently to a store and prints
// a line for each write once it is acknowledged, until the parent SIGKILLs it.
//   S <id> <n>   batch <id> of <n> puts submitted     B <id>   batch <id> acknowledged
//   P <key>      single put acknowledged               H <w> <n> hot key of worker <w> at value <n>
import { openStore } from './store-fixture.js';

const [dataDir, kek, runTag] = process.argv.slice(2) as [string, string, string];
const f = await openStore({ segmentBytes: 256 * 1024, compactionMinBytes: 64 * 1024, compactionRatio: 1.2 }, { dataDir, kek });
const t = await f.store.tenant('crash');
// Hot-key values grow across runs: run tag `c<cycle>`.
const base = Number(runTag.slice(1)) * 1_000_000;
const out = (line: string): void => {
  process.stdout.write(`${line}\n`);
};
out('READY');

const worker = async (w: number): Promise<never> => {
  for (let n = 1; ; n++) {
    const r = n % 3;
    if (r === 0) {
      const id = `${runTag}-${w}-${n}`;
      const size = 2 + (n % 5);
      out(`S ${id} ${size}`);
      await t.batch(
        Array.from({ length: size }, (_, i) => ({
          op: 'put' as const,
          key: `b:${id}:${i}`,
          value: Buffer.alloc(60 + i * 400, id),
          contentType: 'application/octet-stream',
        })),
      );
      out(`B ${id}`);
    } else if (r === 1) {
      const key = `p:${runTag}-${w}-${n}`;
      await t.batch([{ op: 'put', key, value: Buffer.from(key), contentType: 'text/plain' }]);
      out(`P ${key}`);
    } else {
      await t.batch([{ op: 'put', key: `hot:${w}`, value: Buffer.from(`${base + n}:${'h'.repeat(300)}`), contentType: 'text/plain' }]);
      out(`H ${w} ${base + n}`);
    }
  }
};
await Promise.all(Array.from({ length: 16 }, (_, w) => worker(w)));
