// Key-value throughput and p99: the WeftKit kv engine against etcd 3.4's JSON gateway in the same
// run, both driven by wrk -t2 over 64 connections. Workloads: durable PUT of 100-byte values, GET
// of existing keys. WeftKit uses a JWT (ES256, one token, verified once then cached); etcd runs
// with auth on (a user with a prefix role, simple token) and with auth off. Plain HTTP on both.
//
//   npm run bench -- kv [--duration=SECONDS] [--runs=N] [--connections=N] [--keys=N] [--profile]
//
// --profile writes a `node --cpu-prof` profile of the engine (over the whole run) and prints
// where its time went. Needs `etcd` (apt-get install -y etcd-server) and `wrk` (apt-get install -y wrk).
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { printRows, type Row } from './lib/report.js';
import { summarizeCpuProfile } from './kv/cpu-profile.js';
import { hasCommand } from './lib/processes.js';
import { type KvTarget, startEtcd, startWeftkit } from './kv/targets.js';
import { runWrk, type WrkResult } from './kv/wrk.js';

function option(name: string, fallback: number): number {
  const arg = process.argv.find((a) => a.startsWith(`--${name}=`));
  if (arg === undefined) return fallback;
  const n = Number(arg.slice(name.length + 3));
  if (!Number.isFinite(n) || n <= 0) throw new Error(`--${name} must be a positive number`);
  return n;
}

const SECONDS = option('duration', 3);
const RUNS = option('runs', 3);
const CONNECTIONS = option('connections', 64);
const KEYS = option('keys', 1000);
const THREADS = 2;
const VALUE_BYTES = 100;
const PROFILE = process.argv.includes('--profile');
const root = process.cwd();

const missing: string[] = [];
if (!hasCommand('etcd', ['--version'])) missing.push('etcd (apt-get install -y etcd-server)');
if (!hasCommand('wrk', ['--version'])) missing.push('wrk (apt-get install -y wrk)');
if (missing.length > 0) {
  console.error(`kv benchmark needs: ${missing.join(', ')}`);
  process.exit(2);
}

const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[xs.length >> 1]!;

async function preload(target: KvTarget): Promise<void> {
  const value = 'v'.repeat(VALUE_BYTES);
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < KEYS) await target.put(`bench:${next++}`, value);
  };
  await Promise.all(Array.from({ length: 16 }, worker));
  const back = await target.get(`bench:${KEYS - 1}`);
  if (back !== value) throw new Error(`${target.label}: read back a different value`);
}

async function load(t: KvTarget, op: 'put' | 'get', seconds: number): Promise<WrkResult> {
  const r = await runWrk({
    system: t.system,
    op,
    url: t.url,
    keys: KEYS,
    valueBytes: VALUE_BYTES,
    authorization: t.authorization,
    threads: THREADS,
    connections: CONNECTIONS,
    seconds,
  });
  if (r.failures > 0) throw new Error(`${t.label} ${op}: ${r.failures} failed requests of ${r.requests}`);
  return r;
}

const dir = await mkdtemp(join(tmpdir(), 'weftkit-bench-kv-'));
const profileDir = join(dir, 'cpu-profile');
const targets: KvTarget[] = [];
let failed = false;
try {
  targets.push(await startWeftkit({ dir: join(dir, 'weftkit'), root, ...(PROFILE ? { cpuProfileDir: profileDir } : {}) }));
  targets.push(await startEtcd({ dir: join(dir, 'etcd-auth'), auth: true }));
  targets.push(await startEtcd({ dir: join(dir, 'etcd-noauth'), auth: false }));
  for (const t of targets) await preload(t);

  console.log(
    `kv: ${RUNS} run(s) of ${SECONDS} s per workload and system, wrk -t${THREADS} -c${CONNECTIONS}, ${KEYS} keys, ${VALUE_BYTES}-byte values.\n` +
      'Load generator and all servers share this machine (2 cores here): figures are relative, not capacity.\n' +
      'Plain HTTP on both sides (TLS off). WeftKit: JWT ES256 bearer (one token; verified once, then cached), ' +
      'role limited to "bench:*", AES-256-GCM pages, audit off, durable group-commit writes.\n' +
      'etcd 3.4.x JSON gateway (/v3/kv/put, /v3/kv/range), one member, fsync on; auth on = simple token of a ' +
      'non-root user whose role has READWRITE on prefix "bench:".',
  );

  const workloads = [
    { op: 'put' as const, title: `durable PUT, ${VALUE_BYTES}-byte values, ${CONNECTIONS} connections` },
    { op: 'get' as const, title: `GET of existing keys, ${CONNECTIONS} connections` },
  ];
  const results = new Map<string, WrkResult[]>();
  for (const w of workloads) {
    // One unrecorded second per system first: JIT warm-up, connection set-up, caches.
    for (const t of targets) await load(t, w.op, 1);
    for (let run = 0; run < RUNS; run++) {
      // Systems alternate inside each run so drift (page cache, other load) hits all of them.
      for (const t of targets) {
        const r = await load(t, w.op, SECONDS);
        const key = `${w.op}\u0000${t.label}`;
        results.set(key, [...(results.get(key) ?? []), r]);
        console.log(
          `  run ${run + 1} ${w.op.toUpperCase().padEnd(3)} ${t.label.padEnd(14)} ${r.requestsPerSecond.toFixed(0).padStart(7)} req/s  p50 ${r.p50Ms.toFixed(2)} ms  p99 ${r.p99Ms.toFixed(2)} ms`,
        );
      }
    }
  }

  const [ours, etcdAuth, etcdOpen] = targets as [KvTarget, KvTarget, KvTarget];
  for (const w of workloads) {
    const of = (t: KvTarget): WrkResult[] => results.get(`${w.op}\u0000${t.label}`)!;
    const rps = (t: KvTarget): number => median(of(t).map((r) => r.requestsPerSecond));
    const p99 = (t: KvTarget): number => median(of(t).map((r) => r.p99Ms));
    const rows: Row[] = [
      { name: `${ours.label} vs ${etcdAuth.label}`, value: rps(ours), unit: 'req/s', peer: rps(etcdAuth), higherIsBetter: true },
      { name: `  p99`, value: p99(ours), unit: 'ms', peer: p99(etcdAuth), higherIsBetter: false },
      { name: `${ours.label} vs ${etcdOpen.label}`, value: rps(ours), unit: 'req/s', peer: rps(etcdOpen), higherIsBetter: true },
      { name: `  p99`, value: p99(ours), unit: 'ms', peer: p99(etcdOpen), higherIsBetter: false },
    ];
    printRows(`${w.title} (median of ${RUNS} × ${SECONDS} s; ratio > 1 means WeftKit is better)`, rows);
  }
} catch (err) {
  failed = true;
  console.error(err instanceof Error ? err.message : err);
  for (const t of targets) if (t.child.stderrTail !== '') console.error(`--- ${t.label} stderr (tail) ---\n${t.child.stderrTail}`);
} finally {
  for (const t of targets) await t.stop();
  if (PROFILE && !failed) {
    const files = (await readdir(profileDir).catch(() => [] as string[])).filter((f) => f.endsWith('.cpuprofile'));
    for (const f of files) {
      console.log(`\nWeftKit engine CPU profile (whole run, self time), ${join(profileDir, f)}:`);
      console.log(summarizeCpuProfile(JSON.parse(await readFile(join(profileDir, f), 'utf8')), root, 25));
    }
    console.log(`(profile kept in ${profileDir}; delete ${dir} when done)`);
  } else {
    await rm(dir, { recursive: true, force: true });
  }
}
process.exit(failed ? 1 : 0);
