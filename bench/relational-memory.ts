// Memory per open tenant: the WeftKit relational engine (one PGlite per tenant, each in a worker
// thread of one process) with 1, 4 and 16 tenants open, against PostgreSQL 15 with 1, 4 and 16
// databases each holding one open connection (postmaster plus one backend per connection). Each
// tenant/database has run the same small catalog query. Proportional set size (PSS, from
// /proc/PID/smaps_rollup) is summed over the server's processes, so PostgreSQL's shared memory is
// counted once; RSS is printed beside it.
//
//   npm run bench -- relational-memory
import { readdirSync, readFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { printRows, type Row } from './lib/report.js';
import type { PgbenchTarget } from './relational/pgbench.js';
import { findPostgresBin, type PostgresCluster, startPostgres } from './relational/postgres.js';
import { startWeftkit, type WeftkitRelational } from './relational/weftkit.js';

const COUNTS = [1, 4, 16] as const;
const TENANTS = Array.from({ length: 16 }, (_, i) => `m${i + 1}`);
const QUERY = 'select count(*) from pg_class c join pg_attribute a on a.attrelid = c.oid';

const PG_BIN = findPostgresBin(['/usr/lib/postgresql/15/bin', '/usr/local/bin']);
if (PG_BIN === undefined) {
  console.error('relational-memory needs PostgreSQL 15 server binaries (apt-get install -y postgresql-15)');
  process.exit(2);
}

interface Memory {
  readonly pssMb: number;
  readonly rssMb: number;
}

function kb(file: string, field: string): number {
  const m = new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(readFileSync(file, 'utf8'));
  return m === null ? 0 : Number(m[1]);
}

/** PSS and RSS summed over `pids`, in MB. */
function memoryOf(pids: readonly number[]): Memory {
  let pss = 0;
  let rss = 0;
  for (const pid of pids) {
    try {
      pss += kb(`/proc/${pid}/smaps_rollup`, 'Pss');
      rss += kb(`/proc/${pid}/status`, 'VmRSS');
    } catch {
      // The process ended between listing and reading.
    }
  }
  return { pssMb: pss / 1024, rssMb: rss / 1024 };
}

/** The postmaster and every process it started. */
function postgresPids(cluster: PostgresCluster): number[] {
  const postmaster = Number(readFileSync(join(cluster.dataDir, 'postmaster.pid'), 'utf8').split('\n')[0]);
  const pids = [postmaster];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
      if (ppid === postmaster) pids.push(Number(entry));
    } catch {
      // Gone already.
    }
  }
  return pids;
}

function client(t: PgbenchTarget, database: string, user: string): pg.Client {
  return new pg.Client({ host: t.host, port: t.port, user, database, password: t.env.PGPASSWORD, ssl: false });
}

const dir = await mkdtemp(join(tmpdir(), 'weftkit-bench-memory-'));
let weftkit: WeftkitRelational | undefined;
let postgres: PostgresCluster | undefined;
const open: pg.Client[] = [];
let failed = false;
try {
  weftkit = await startWeftkit(process.cwd(), join(dir, 'weftkit'), { tenants: TENANTS, env: { WEFTKIT_MAX_OPEN_TENANTS: '32' } });
  postgres = await startPostgres(PG_BIN, join(dir, 'postgres'));
  const admin = client(postgres.target, 'postgres', postgres.target.user);
  await admin.connect();
  for (const name of TENANTS) await admin.query(`create database ${name}`);
  await admin.end();

  const wk = weftkit;
  const pgc = postgres;
  const wkPid = wk.child.process.pid!;
  const measured = new Map<string, Memory>();
  const base = { weftkit: memoryOf([wkPid]), postgres: memoryOf(postgresPids(pgc)) };
  let opened = 0;
  for (const n of COUNTS) {
    for (; opened < n; opened++) {
      const name = TENANTS[opened]!;
      const ours = client(wk.target, name, `${wk.target.user}@${name}`);
      const theirs = client(pgc.target, name, pgc.target.user);
      for (const c of [ours, theirs]) {
        await c.connect();
        open.push(c);
        await c.query(QUERY);
      }
    }
    await new Promise((r) => setTimeout(r, 500));
    measured.set(`weftkit ${n}`, memoryOf([wkPid]));
    measured.set(`postgres ${n}`, memoryOf(postgresPids(pgc)));
  }

  console.log(
    'relational-memory: server memory with N tenants open (WeftKit: one PGlite per tenant, worker threads, encrypted storage;\n' +
      `PostgreSQL 15: N databases, one open connection each). Before any: WeftKit PSS ${base.weftkit.pssMb.toFixed(0)} MB, ` +
      `PostgreSQL PSS ${base.postgres.pssMb.toFixed(0)} MB. Goal (issue #4): at most 200 MB per open tenant.`,
  );
  const rows: Row[] = [];
  for (const n of COUNTS) {
    const a = measured.get(`weftkit ${n}`)!;
    const b = measured.get(`postgres ${n}`)!;
    rows.push({ name: `${n} open: total PSS`, value: a.pssMb, unit: 'MB', peer: b.pssMb, higherIsBetter: false });
    rows.push({ name: `${n} open: total RSS`, value: a.rssMb, unit: 'MB', peer: b.rssMb, higherIsBetter: false });
    rows.push({
      name: `${n} open: PSS per tenant above idle`,
      value: (a.pssMb - base.weftkit.pssMb) / n,
      unit: 'MB',
      peer: (b.pssMb - base.postgres.pssMb) / n,
      higherIsBetter: false,
    });
  }
  printRows('memory, WeftKit relational vs PostgreSQL 15 (ratio > 1 means WeftKit uses less)', rows);
} catch (err) {
  failed = true;
  console.error(err instanceof Error ? err.message : err);
} finally {
  for (const c of open) await c.end().catch(() => undefined);
  await weftkit?.stop();
  await postgres?.stop();
  await rm(dir, { recursive: true, force: true });
}
process.exit(failed ? 1 : 0);
