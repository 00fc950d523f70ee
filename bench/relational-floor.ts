// The floor any PGlite-based relational design pays, against PostgreSQL 15 measured in the same run.
// The engine must run each tenant's PGlite (PostgreSQL 18 in WebAssembly, single-threaded) off the
// main event loop, in a worker thread: one thread hop per exchange each way. This measures, apart:
//   1. PostgreSQL 15 (fresh cluster, fsync on, SCRAM over TCP) under pgbench at scale 1:
//      -S -c 1, tpcb-like -c 1, -S -c 4;
//   2. PGlite in this process, in memory (MemoryFS), no worker, no encryption, no fsync, tables
//      cached in shared buffers: pgbench's select-only and tpcb-like transactions as simple-Query
//      messages through execProtocolRawSync (wall and CPU per transaction);
//   3. a worker_threads echo shaped like the tenant worker's request/answer (round-trip wall time,
//      requests spaced by PostgreSQL's -S -c 1 latency, and back-to-back; CPU per round trip), by
//      postMessage and by the engine's shared-memory exchange lane;
//   4. the compute floors: 2 + 3 per message, with no sockets at all (a loose bound);
//   5. the wire floor (floor-wire.ts): pgbench against a bare relay on the main thread (no
//      authentication, TLS, sessions, classification, audit, encryption or fsync) that passes each
//      Query to PGlite in memory, in a worker through the exchange lane and inline on the main
//      thread (timing PGlite's calls there), plus one commit fsync for tpcb; and the same relay
//      with a canned answer and no database, for a `SELECT 1;` script against PostgreSQL's. It
//      counts the sockets and the event loop, so PostgreSQL's figure over the worker relay is the
//      ceiling that binds any such design on this machine.
//
//   npm run bench -- relational-floor [--duration=SECONDS]
//
// Needs pgbench and PostgreSQL 15 server binaries (apt-get install -y postgresql-15 postgresql-client-15).
import { closeSync, existsSync, fsyncSync, openSync, writeFileSync, writeSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { availableParallelism, tmpdir } from 'node:os';
import { join } from 'node:path';
import { printRows } from './lib/report.js';
import { cleanEnv, run } from './lib/processes.js';
import { EchoWorker, type HopTiming } from './relational/floor-hop.js';
import { WireFloor } from './relational/floor-wire.js';
import { measurePglite, type PgliteFloor, SHARED_BUFFERS } from './relational/floor-pglite.js';
import { type PgbenchResult, type PgbenchTarget, pgbenchInit, pgbenchRun } from './relational/pgbench.js';
import { findPostgresBin, type PostgresCluster, startPostgres } from './relational/postgres.js';

function option(name: string, fallback: number): number {
  const arg = process.argv.find((a) => a.startsWith(`--${name}=`));
  if (arg === undefined) return fallback;
  const n = Number(arg.slice(name.length + 3));
  if (!Number.isInteger(n) || n <= 0) throw new Error(`--${name} must be a positive integer`);
  return n;
}

const SECONDS = option('duration', 8);
/** Issues #4 and #5: WeftKit over PostgreSQL 15. */
const GOALS = { select1: 0.75, tpcb1: 0.6, tenants4: 0.5 } as const;
/** Query messages in one pgbench tpcb-like transaction (-M simple): BEGIN, 5 statements, END. */
const TPCB_MESSAGES = 7;

const PGBENCH = ['/usr/bin/pgbench', '/usr/lib/postgresql/15/bin/pgbench', '/usr/local/bin/pgbench'].find((p) => existsSync(p));
const PG_BIN = findPostgresBin(['/usr/lib/postgresql/15/bin', '/usr/local/bin']);
const missing: string[] = [];
if (PGBENCH === undefined) missing.push('pgbench (apt-get install -y postgresql-client-15)');
if (PG_BIN === undefined) missing.push('PostgreSQL 15 server: initdb, pg_ctl, postgres (apt-get install -y postgresql-15)');
if (missing.length > 0) {
  console.error(`relational-floor benchmark needs: ${missing.join(', ')}`);
  process.exit(2);
}
const pgbench = PGBENCH!;
const cores = availableParallelism();

function verdict(ceiling: number, goal: number): string {
  return `ceiling ${ceiling.toFixed(2)}x, goal ${goal.toFixed(2)}x: ${ceiling < goal ? 'ceiling BELOW goal (unreachable with PGlite in a worker)' : 'ceiling at or above goal'}`;
}

function hopLine(name: string, h: HopTiming, cpuNote: string): string {
  return (
    `  hop ${name.padEnd(28)} ${h.rttUs.toFixed(1).padStart(7)} µs avg RTT (p50 ${h.p50Us.toFixed(1)}, p99 ${h.p99Us.toFixed(1)})  ` +
    `${h.cpuUs.toFixed(1)} µs CPU ${cpuNote}  (${h.roundTrips} round trips)`
  );
}

interface WireFigures {
  readonly select1: PgbenchResult;
  readonly tpcb1: PgbenchResult;
  /** Sum over 4 workers, one pgbench -S -c 1 each (absent inline: one PGlite). */
  readonly tenants4?: number;
  /** Inline only: PGlite's execProtocolRawSync wall time per call during each run, µs. */
  readonly selectExecUs?: number;
  readonly tpcbExecUs?: number;
}

function wireTarget(port: number, database: string): PgbenchTarget {
  return { label: `wire floor ${database}`, host: '127.0.0.1', port, user: 'bench', database, env: cleanEnv({}) };
}

async function checkedRun(target: PgbenchTarget, args: readonly string[]): Promise<PgbenchResult> {
  const r = await pgbenchRun(pgbench, target, [...args, '-T', String(SECONDS)]);
  if (r.failed > 0) throw new Error(`${target.label} pgbench ${args.join(' ')}: ${r.failed} failed transactions`);
  return r;
}

/** pgbench against the bare relay: inline (one PGlite on the main thread) or over 4 workers. */
async function measureWire(inline: boolean): Promise<WireFigures> {
  const floor = await WireFloor.start(4, inline ? 'inline' : 'worker');
  try {
    const w0 = wireTarget(floor.port, 'w0');
    await checkedRun(w0, ['-S', '-c', '1']); // warm-up: every page the run touches is cached
    floor.takeInlineExec();
    const select1 = await checkedRun(w0, ['-S', '-c', '1']);
    const selectExec = floor.takeInlineExec();
    const tpcb1 = await checkedRun(w0, ['-c', '1']);
    const tpcbExec = floor.takeInlineExec();
    if (inline) return { select1, tpcb1, selectExecUs: selectExec!.avgUs, tpcbExecUs: tpcbExec!.avgUs };
    const each = await Promise.all([0, 1, 2, 3].map((i) => checkedRun(wireTarget(floor.port, `w${i}`), ['-S', '-c', '1'])));
    return { select1, tpcb1, tenants4: each.reduce((sum, r) => sum + r.tps, 0) };
  } finally {
    await floor.close();
  }
}

/** The relay with no database behind it, for a `SELECT 1;` script: one client, and 4 at once. */
async function measureCanned(script: string): Promise<{ select1: PgbenchResult; clients4: number }> {
  const floor = await WireFloor.start(4, 'canned');
  try {
    const args = ['-n', '-f', script, '-c', '1'];
    const select1 = await checkedRun(wireTarget(floor.port, 'w0'), args);
    const each = await Promise.all([0, 1, 2, 3].map((i) => checkedRun(wireTarget(floor.port, `w${i}`), args)));
    return { select1, clients4: each.reduce((sum, r) => sum + r.tps, 0) };
  } finally {
    await floor.close();
  }
}

/**
 * One commit's durability on this disk: an 8 KiB page rewritten in place, then fsync (as the engine
 * does for each WAL flush), averaged over `count`, in `dir` (the same filesystem as the peer's data).
 */
function commitFsyncUs(dir: string, count: number): number {
  const path = join(dir, 'fsync-probe');
  const fd = openSync(path, 'w+');
  try {
    const page = Buffer.alloc(8192, 0x5a);
    for (let i = 0; i < 16; i++) writeSync(fd, page, 0, page.length, i * page.length);
    fsyncSync(fd);
    const t0 = performance.now();
    for (let i = 0; i < count; i++) {
      writeSync(fd, page, 0, page.length, (i % 16) * page.length);
      fsyncSync(fd);
    }
    return ((performance.now() - t0) * 1000) / count;
  } finally {
    closeSync(fd);
  }
}

function wireLine(name: string, r: PgbenchResult): string {
  return `  ${name.padEnd(34)} ${r.tps.toFixed(0).padStart(7)} tps  latency avg ${(r.latencyMs * 1000).toFixed(1)} µs  (${r.transactions} tx)`;
}

const dir = await mkdtemp(join(tmpdir(), 'weftkit-bench-relational-floor-'));
let postgres: PostgresCluster | undefined;
let echo: EchoWorker | undefined;
let failed = false;
try {
  postgres = await startPostgres(PG_BIN!, join(dir, 'postgres'));
  const pgbenchVersion = run(pgbench, ['--version']).trim();
  console.log(
    `relational-floor: the lower bound of any design that runs PGlite in a worker thread, ${SECONDS} s per measurement.\n` +
      `Node ${process.version}, ${cores} cores (os.availableParallelism()). Client: ${pgbenchVersion}. ` +
      `Peer: ${postgres.version}, fresh cluster, fsync on, SCRAM-SHA-256 over TCP 127.0.0.1, scale 1 (pgbench -i -I dtGvp -s 1).`,
  );

  // 1. PostgreSQL 15.
  await pgbenchInit(pgbench, postgres.target, 1);
  const selectOneScript = join(dir, 'select-1.sql');
  writeFileSync(selectOneScript, 'SELECT 1;\n');
  const pgRuns: [string, string[]][] = [
    ['select-only -S -c 1', ['-S', '-c', '1']],
    ['tpcb-like -c 1', ['-c', '1']],
    ['select-only -S -c 4', ['-S', '-c', '4']],
    ['SELECT 1 -c 1', ['-n', '-f', selectOneScript, '-c', '1']],
    ['SELECT 1 -c 4', ['-n', '-f', selectOneScript, '-c', '4']],
  ];
  const pg: PgbenchResult[] = [];
  for (const [name, args] of pgRuns) {
    const r = await pgbenchRun(pgbench, postgres.target, [...args, '-T', String(SECONDS)]);
    if (r.failed > 0) throw new Error(`PostgreSQL 15 ${name}: ${r.failed} failed transactions`);
    pg.push(r);
    console.log(`  PostgreSQL 15 ${name.padEnd(22)} ${r.tps.toFixed(0).padStart(7)} tps  latency avg ${(r.latencyMs * 1000).toFixed(1)} µs  (${r.transactions} tx)`);
  }
  const [pgSelect1, pgTpcb1, pgSelect4, pgOne1, pgOne4] = pg as [PgbenchResult, PgbenchResult, PgbenchResult, PgbenchResult, PgbenchResult];
  await postgres.stop();
  postgres = undefined;

  // 2. PGlite alone.
  console.log(
    `PGlite in this process, MemoryFS, the engine's start parameters with shared_buffers=${SHARED_BUFFERS}: every page cached, ` +
      'no encryption, no fsync, no worker: the most favourable case for PGlite.',
  );
  const lite: PgliteFloor = await measurePglite(SECONDS, (line) => console.log(line));
  console.log(`  PGlite ${lite.version} (package.json): ${lite.serverVersion.split(' on ')[0]}`);

  // 3. The hop: by port (postMessage), and by the exchange lane the engine uses first.
  const gapMs = pgSelect1.latencyMs;
  console.log(
    `Thread hop: echo worker, ~100-byte request, ~100-byte answer; gapped = main thread busy-waits ${(gapMs * 1000).toFixed(1)} µs ` +
      '(PostgreSQL -S -c 1 latency) before each request. Port: postMessage both ways (request copied, answer transferred); ' +
      'lane: the engine\'s shared-memory exchange lane (exchange-lane.ts), which the floors below use.',
  );
  const hops: Record<'port' | 'lane', { gapped: HopTiming; b2b: HopTiming }> = {} as never;
  for (const kind of ['port', 'lane'] as const) {
    echo = new EchoWorker(kind);
    await echo.ready();
    await echo.measure(1, 0);
    const g = await echo.measure(SECONDS, gapMs);
    console.log(hopLine(`${kind} gapped (c1 spacing)`, g, '(estimate: process CPU minus busy-wait wall)'));
    const b = await echo.measure(SECONDS, 0);
    console.log(hopLine(`${kind} back-to-back`, b, '(process CPU, both threads)'));
    await echo.close();
    echo = undefined;
    hops[kind] = { gapped: g, b2b: b };
  }
  const { gapped, b2b } = hops.lane;

  // 4. Floors and ceilings.
  const pgSelectUs = pgSelect1.latencyMs * 1000;
  const pgTpcbUs = pgTpcb1.latencyMs * 1000;
  const selectFloorUs = lite.select.wallUs + gapped.rttUs;
  const tpcbFloorUs = lite.tpcb.wallUs + TPCB_MESSAGES * gapped.rttUs;
  const selectCeiling = pgSelectUs / selectFloorUs;
  const tpcbCeiling = pgTpcbUs / tpcbFloorUs;
  const tenantCpuUs = lite.select.cpuUs + b2b.cpuUs;
  const tenantsTps = (cores * 1e6) / tenantCpuUs;
  const tenantsCeiling = tenantsTps / pgSelect4.tps;

  console.log(
    `\nCompute floors, no sockets (PGlite wall + hop RTT gapped per message) and their ceilings, PostgreSQL 15 over the floor; loose bounds, the wire floor below is the one that binds:\n` +
      `  select -c 1: floor ${selectFloorUs.toFixed(1)} µs = PGlite ${lite.select.wallUs.toFixed(1)} + hop ${gapped.rttUs.toFixed(1)}; ` +
      `PostgreSQL ${pgSelectUs.toFixed(1)} µs; ${verdict(selectCeiling, GOALS.select1)}\n` +
      `  tpcb   -c 1: floor ${tpcbFloorUs.toFixed(1)} µs = PGlite ${lite.tpcb.wallUs.toFixed(1)} + ${TPCB_MESSAGES} x hop ${gapped.rttUs.toFixed(1)}; ` +
      `PostgreSQL ${pgTpcbUs.toFixed(1)} µs; ${verdict(tpcbCeiling, GOALS.tpcb1)}\n` +
      '      (PGlite has no fsync here while PostgreSQL fsyncs each commit: the floor only gets lower, the ceiling is generous.)\n' +
      `  4 tenants x 1 client: ${cores} cores / (PGlite select CPU ${lite.select.cpuUs.toFixed(1)} + hop CPU back-to-back ${b2b.cpuUs.toFixed(1)} µs) ` +
      `= ${tenantsTps.toFixed(0)} tps; PostgreSQL -S -c 4 ${pgSelect4.tps.toFixed(0)} tps; ${verdict(tenantsCeiling, GOALS.tenants4)}\n` +
      "      (Ignores pgbench's own CPU, which shares these cores, and all protocol, TLS, authorization and socket work: the engine must be below it.)",
  );

  printRows(`select-only -c 1: floor vs PostgreSQL 15 -S -c 1 (ratio = ceiling, goal ${GOALS.select1}x)`, [
    { name: 'PGlite select transaction (wall)', value: lite.select.wallUs, unit: 'µs' },
    { name: 'PGlite select transaction (CPU)', value: lite.select.cpuUs, unit: 'µs' },
    { name: 'hop round trip, gapped', value: gapped.rttUs, unit: 'µs' },
    { name: 'floor latency', value: selectFloorUs, unit: 'µs', peer: pgSelectUs, higherIsBetter: false },
  ]);
  printRows(`tpcb-like -c 1: floor vs PostgreSQL 15 -c 1 (ratio = ceiling, goal ${GOALS.tpcb1}x)`, [
    { name: 'PGlite tpcb transaction, 7 messages (wall)', value: lite.tpcb.wallUs, unit: 'µs' },
    { name: 'PGlite tpcb transaction, 7 messages (CPU)', value: lite.tpcb.cpuUs, unit: 'µs' },
    { name: `${TPCB_MESSAGES} x hop round trip, gapped`, value: TPCB_MESSAGES * gapped.rttUs, unit: 'µs' },
    { name: 'floor latency', value: tpcbFloorUs, unit: 'µs', peer: pgTpcbUs, higherIsBetter: false },
  ]);
  printRows(`4 tenants x 1 client: CPU ceiling on ${cores} cores vs PostgreSQL 15 -S -c 4 (ratio = ceiling, goal ${GOALS.tenants4}x)`, [
    { name: 'PGlite select + hop CPU per transaction', value: tenantCpuUs, unit: 'µs' },
    { name: 'hop round trip, back-to-back (wall)', value: b2b.rttUs, unit: 'µs' },
    { name: 'ceiling throughput', value: tenantsTps, unit: 'tps', peer: pgSelect4.tps, higherIsBetter: true },
  ]);

  // 5. The wire floor, measured with pgbench.
  console.log(
    '\nWire floor: pgbench against a bare relay on the main thread (TCP_NODELAY, no authentication, TLS, sessions, ' +
      'classification, audit, encryption or fsync) passing each Query to PGlite in memory (shared_buffers ' +
      `${SHARED_BUFFERS}); "worker" goes through the exchange lane as the engine does, "inline" runs PGlite on the main thread itself.`,
  );
  const canned = await measureCanned(selectOneScript);
  console.log(wireLine('canned answer, no database, SELECT 1 -c 1', canned.select1));
  console.log(`  canned answer, 4 clients at once             ${canned.clients4.toFixed(0).padStart(7)} tps (sum)`);
  const inline = await measureWire(true);
  console.log(wireLine('inline select-only -S -c 1', inline.select1));
  console.log(`    PGlite execProtocolRawSync per call in it ${inline.selectExecUs!.toFixed(1).padStart(7)} µs (in a tight loop: ${lite.select.wallUs.toFixed(1)} µs)`);
  console.log(wireLine('inline tpcb-like -c 1 (no fsync)', inline.tpcb1));
  console.log(
    `    PGlite execProtocolRawSync per call in it ${inline.tpcbExecUs!.toFixed(1).padStart(7)} µs (in a tight loop: ${(lite.tpcb.wallUs / TPCB_MESSAGES).toFixed(1)} µs)`,
  );
  const wire = await measureWire(false);
  console.log(wireLine('worker select-only -S -c 1', wire.select1));
  console.log(wireLine('worker tpcb-like -c 1 (no fsync)', wire.tpcb1));
  console.log(`  worker 4 workers x 1 client -S          ${wire.tenants4!.toFixed(0).padStart(7)} tps (sum)`);
  const wireSelect = wire.select1.tps / pgSelect1.tps;
  const fsyncUs = commitFsyncUs(dir, 400);
  // tpcb at equal durability: the relay's transaction plus one commit fsync.
  const wireTpcbDurableTps = 1e6 / (wire.tpcb1.latencyMs * 1000 + fsyncUs);
  console.log(`  one commit's fsync on this disk (8 KiB rewrite + fsync)  ${fsyncUs.toFixed(1)} µs`);
  const wireTpcb = wireTpcbDurableTps / pgTpcb1.tps;
  const wireTenants = wire.tenants4! / pgSelect4.tps;
  console.log(
    `  select -c 1: ${verdict(wireSelect, GOALS.select1)} (inline, no worker: ${(inline.select1.tps / pgSelect1.tps).toFixed(2)}x)\n` +
      `  tpcb   -c 1: ${verdict(wireTpcb, GOALS.tpcb1)} (worker latency + one fsync; without the fsync ${(wire.tpcb1.tps / pgTpcb1.tps).toFixed(2)}x, inline ${(inline.tpcb1.tps / pgTpcb1.tps).toFixed(2)}x)\n` +
      `  4 tenants x 1 client: ${verdict(wireTenants, GOALS.tenants4)}`,
  );
  printRows('wire floor vs PostgreSQL 15 (ratio = ceiling that counts sockets and the event loop)', [
    { name: 'SELECT 1 -c 1, canned answer (no database)', value: canned.select1.tps, unit: 'tps', peer: pgOne1.tps, higherIsBetter: true },
    { name: 'SELECT 1, 4 x 1 client, canned (PG -c 4)', value: canned.clients4, unit: 'tps', peer: pgOne4.tps, higherIsBetter: true },
    { name: 'select-only -S -c 1, worker', value: wire.select1.tps, unit: 'tps', peer: pgSelect1.tps, higherIsBetter: true },
    { name: 'select-only -S -c 1, inline', value: inline.select1.tps, unit: 'tps', peer: pgSelect1.tps, higherIsBetter: true },
    { name: 'tpcb-like -c 1, worker, no fsync', value: wire.tpcb1.tps, unit: 'tps', peer: pgTpcb1.tps, higherIsBetter: true },
    { name: 'tpcb-like -c 1, worker + commit fsync', value: wireTpcbDurableTps, unit: 'tps', peer: pgTpcb1.tps, higherIsBetter: true },
    { name: '4 workers x 1 client -S', value: wire.tenants4!, unit: 'tps', peer: pgSelect4.tps, higherIsBetter: true },
  ]);
} catch (err) {
  failed = true;
  console.error(err instanceof Error ? (err.stack ?? err.message) : err);
} finally {
  await echo?.close();
  await postgres?.stop();
  await rm(dir, { recursive: true, force: true });
}
process.exit(failed ? 1 : 0);
