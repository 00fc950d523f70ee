// PGlite alone, in this process, in memory: pgbench's scale-1 schema, then pgbench's select-only and
// tpcb-like transactions sent as hand-built simple-Query messages through execProtocolRawSync.
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { readFileSync } from 'node:fs';
import { PGlite } from '@electric-sql/pglite';

export const SHARED_BUFFERS = '64MB';
const ACCOUNTS = 100_000;
const TELLERS = 10;
const BRANCHES = 1;
/** Pre-built transactions, cycled, so the timed loop does no string or message building. */
const VARIANTS = 4096;

/**
 * The engine's tenant start parameters, replicated from engines/relational/src/tenant/pglite-options.ts
 * (tenantStartParams, not exported by @weftkit/relational), as is INITDB_PARAMS; keep in step with them. shared_buffers is
 * raised to SHARED_BUFFERS so the tables stay cached; wal_sync_method=fsync means nothing in MemoryFS.
 */
function startParams(): string[] {
  return [
    ...PGlite.defaultStartParams.filter((p) => p !== '-F'),
    ...['-c', 'wal_sync_method=fsync'],
    ...['-c', `shared_buffers=${SHARED_BUFFERS}`],
    ...['-c', 'work_mem=2MB'],
    ...['-c', 'maintenance_work_mem=16MB'],
    ...['-c', 'temp_buffers=1MB'],
    ...['-c', 'wal_buffers=256kB'],
    ...['-c', 'max_wal_size=64MB'],
    ...['-c', 'min_wal_size=8MB'],
  ];
}

/** TEMPLATE_INITDB_PARAMS there: tenants are built with 1 MiB WAL segments (min_wal_size=8MB needs them). */
const INITDB_PARAMS: readonly string[] = ['--wal-segsize=1'];

/** What `pgbench -i -I dtGvp -s 1` builds (PostgreSQL 15's pgbench), one statement per exec. */
const SCHEMA: readonly string[] = [
  'CREATE TABLE pgbench_history (tid int, bid int, aid int, delta int, mtime timestamp, filler char(22))',
  'CREATE TABLE pgbench_tellers (tid int NOT NULL, bid int, tbalance int, filler char(84)) WITH (fillfactor=100)',
  'CREATE TABLE pgbench_accounts (aid int NOT NULL, bid int, abalance int, filler char(84)) WITH (fillfactor=100)',
  'CREATE TABLE pgbench_branches (bid int NOT NULL, bbalance int, filler char(88)) WITH (fillfactor=100)',
  `INSERT INTO pgbench_branches (bid, bbalance) SELECT bid, 0 FROM generate_series(1, ${BRANCHES}) AS bid`,
  `INSERT INTO pgbench_tellers (tid, bid, tbalance) SELECT tid, (tid - 1) / ${TELLERS} + 1, 0 FROM generate_series(1, ${TELLERS}) AS tid`,
  `INSERT INTO pgbench_accounts (aid, bid, abalance, filler) SELECT aid, (aid - 1) / ${ACCOUNTS} + 1, 0, '' FROM generate_series(1, ${ACCOUNTS}) AS aid`,
  'VACUUM ANALYZE pgbench_branches',
  'VACUUM ANALYZE pgbench_tellers',
  'VACUUM ANALYZE pgbench_accounts',
  'VACUUM ANALYZE pgbench_history',
  'ALTER TABLE pgbench_branches ADD PRIMARY KEY (bid)',
  'ALTER TABLE pgbench_tellers ADD PRIMARY KEY (tid)',
  'ALTER TABLE pgbench_accounts ADD PRIMARY KEY (aid)',
];

const encoder = new TextEncoder();

/** Simple Query: 'Q', int32 length (itself + SQL + NUL), SQL, NUL. */
export function queryMessage(sql: string): Uint8Array {
  const text = encoder.encode(sql);
  const m = new Uint8Array(1 + 4 + text.length + 1);
  const view = new DataView(m.buffer);
  m[0] = 0x51;
  view.setInt32(1, 4 + text.length + 1);
  m.set(text, 5);
  return m;
}

export interface Answer {
  readonly error: boolean;
  /** ReadyForQuery's transaction status ('I', 'T', 'E'), or undefined when the answer has none. */
  readonly status: string | undefined;
}

/** Walks the answer's message boundaries (type byte + int32 length) for ErrorResponse and ReadyForQuery. */
export function readAnswer(b: Uint8Array): Answer {
  const view = new DataView(b.buffer, b.byteOffset, b.byteLength);
  let error = false;
  let status: string | undefined;
  let at = 0;
  while (at + 5 <= b.length) {
    const type = b[at]!;
    const len = view.getInt32(at + 1);
    if (len < 4 || at + 1 + len > b.length) throw new Error(`malformed answer at byte ${at} (length ${len} of ${b.length})`);
    if (type === 0x45) error = true;
    if (type === 0x5a) status = String.fromCharCode(b[at + 5]!);
    at += 1 + len;
  }
  if (at !== b.length) throw new Error(`answer has ${b.length - at} trailing bytes`);
  return { error, status };
}

function random(lo: number, hi: number): number {
  return lo + Math.floor(Math.random() * (hi - lo + 1));
}

/** One select-only transaction per entry (a one-statement Query message). */
function selectVariants(): Uint8Array[][] {
  return Array.from({ length: VARIANTS }, () => [queryMessage(`SELECT abalance FROM pgbench_accounts WHERE aid = ${random(1, ACCOUNTS)};`)]);
}

/** One tpcb-like transaction per entry: the 7 Query messages pgbench -M simple sends, in order. */
function tpcbVariants(): Uint8Array[][] {
  return Array.from({ length: VARIANTS }, () => {
    const a = random(1, ACCOUNTS);
    const b = random(1, BRANCHES);
    const t = random(1, TELLERS);
    const d = random(-5000, 5000);
    return [
      'BEGIN;',
      `UPDATE pgbench_accounts SET abalance = abalance + ${d} WHERE aid = ${a};`,
      `SELECT abalance FROM pgbench_accounts WHERE aid = ${a};`,
      `UPDATE pgbench_tellers SET tbalance = tbalance + ${d} WHERE tid = ${t};`,
      `UPDATE pgbench_branches SET bbalance = bbalance + ${d} WHERE bid = ${b};`,
      `INSERT INTO pgbench_history (tid, bid, aid, delta, mtime) VALUES (${t}, ${b}, ${a}, ${d}, CURRENT_TIMESTAMP);`,
      'END;',
    ].map(queryMessage);
  });
}

export interface TxTiming {
  readonly transactions: number;
  /** Average wall time per transaction, µs. */
  readonly wallUs: number;
  /** Average process CPU (user + system) per transaction, µs. */
  readonly cpuUs: number;
}

export interface PgliteFloor {
  readonly version: string;
  readonly serverVersion: string;
  readonly sharedBuffers: string;
  readonly accountsMb: number;
  readonly select: TxTiming;
  readonly tpcb: TxTiming;
}

function pgliteVersion(): string {
  const require = createRequire(import.meta.url);
  let dir = dirname(require.resolve('@electric-sql/pglite'));
  for (;;) {
    try {
      const pkg = JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')) as { name?: string; version?: string };
      if (pkg.name === '@electric-sql/pglite') return pkg.version ?? 'unknown';
    } catch {
      // no package.json here
    }
    const up = dirname(dir);
    if (up === dir) return 'unknown';
    dir = up;
  }
}

/** Runs each transaction, checking every answer: no ErrorResponse, the expected status after the last message. */
function checked(db: PGlite, txs: readonly Uint8Array[][], count: number): void {
  for (let i = 0; i < count; i++) {
    const tx = txs[i % txs.length]!;
    let status: string | undefined;
    for (const m of tx) {
      const a = readAnswer(db.execProtocolRawSync(m));
      if (a.error) throw new Error(`PGlite answered an ErrorResponse to ${new TextDecoder().decode(m.subarray(5, -1))}`);
      status = a.status;
    }
    if (status !== 'I') throw new Error(`PGlite transaction ended with status ${status ?? 'none'}, not idle`);
  }
}

function timed(db: PGlite, txs: readonly Uint8Array[][], seconds: number): TxTiming {
  const deadline = performance.now() + seconds * 1000;
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  let n = 0;
  let now = t0;
  while (now < deadline) {
    // 64 transactions between clock reads.
    for (let k = 0; k < 64; k++, n++) {
      const tx = txs[n % VARIANTS]!;
      for (let j = 0; j < tx.length; j++) db.execProtocolRawSync(tx[j]!);
    }
    now = performance.now();
  }
  const cpu = process.cpuUsage(cpu0);
  return { transactions: n, wallUs: ((now - t0) * 1000) / n, cpuUs: (cpu.user + cpu.system) / n };
}

/** PGlite in memory with the engine's start parameters (shared_buffers raised) and pgbench's scale-1 schema, checked. */
export async function openFloorPglite(): Promise<PGlite> {
  const db = await PGlite.create({ startParams: startParams(), initDbStartParams: [...INITDB_PARAMS] });
  try {
    for (const sql of SCHEMA) await db.exec(sql);
    const counts = await db.query<{ n: number }>('SELECT count(*)::int AS n FROM pgbench_accounts');
    if (counts.rows[0]!.n !== ACCOUNTS) throw new Error(`pgbench_accounts has ${counts.rows[0]!.n} rows`);
    return db;
  } catch (err) {
    await db.close();
    throw err;
  }
}

export async function measurePglite(seconds: number, log: (line: string) => void): Promise<PgliteFloor> {
  const started = performance.now();
  const db = await openFloorPglite();
  try {
    const info = await db.query<{ v: string; sb: string; mb: number }>(
      "SELECT version() AS v, current_setting('shared_buffers') AS sb, pg_total_relation_size('pgbench_accounts') / 1048576.0 AS mb",
    );
    const row = info.rows[0]!;
    log(
      `  PGlite ready in ${((performance.now() - started) / 1000).toFixed(1)} s: scale 1 schema, pgbench_accounts ${Number(row.mb).toFixed(1)} MB ` +
        `(table + primary key), shared_buffers ${row.sb}`,
    );
    const selects = selectVariants();
    const tpcbs = tpcbVariants();
    // Warm-up, every answer checked; also pulls every page the variants touch into shared buffers.
    checked(db, selects, VARIANTS * 2);
    checked(db, tpcbs, 1000);
    const select = timed(db, selects, seconds);
    log(`  PGlite select-only transaction  ${select.wallUs.toFixed(1).padStart(7)} µs wall  ${select.cpuUs.toFixed(1).padStart(7)} µs CPU  (${select.transactions} tx)`);
    const tpcb = timed(db, tpcbs, seconds);
    log(`  PGlite tpcb-like transaction    ${tpcb.wallUs.toFixed(1).padStart(7)} µs wall  ${tpcb.cpuUs.toFixed(1).padStart(7)} µs CPU  (${tpcb.transactions} tx, 7 messages each)`);
    // After the timed loops: one of each, checked again.
    checked(db, [selects[0]!], 1);
    checked(db, [tpcbs[0]!], 1);
    return { version: pgliteVersion(), serverVersion: row.v, sharedBuffers: row.sb, accountsMb: Number(row.mb), select, tpcb };
  } finally {
    await db.close();
  }
}
