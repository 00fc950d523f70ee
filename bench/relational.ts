// Relational throughput and latency: the WeftKit relational engine against a throwaway PostgreSQL 15
// cluster in the same run, both driven by pgbench (PostgreSQL 15 client) with SCRAM password auth.
// Workloads: select-only (simple protocol, 1 and 4 clients, and 1 client on each of 4 tenants at
// once; prepared, 1 client) and tpcb-like (1 client) over plain TCP, and select-only and tpcb-like
// at 1 client over TLS 1.3 (PGSSLMODE=require), on scale-1 databases initialized with
// `pgbench -i -I dtGvp -s 1`. Both servers get a server certificate from a throwaway CA made at
// start (nothing committed) and serve plain TCP and TLS on the same port. The engine's ops port
// gives the classifier's share per run.
//
//   npm run bench -- relational [--duration=SECONDS] [--only=ID[,ID...]]
//
// IDs: select-1, select-4, select-tenants, select-prepared, tpcb, select-1-tls, tpcb-tls.
// Needs pgbench, psql and PostgreSQL 15 server binaries (apt-get install -y postgresql-15 postgresql-client-15)
// and the openssl CLI.
import { existsSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createTestPki, type TestPki } from '../kernel/src/testing/certs.js';
import { printRows, type Row } from './lib/report.js';
import { type PgbenchResult, type PgbenchTarget, pgbenchInit, pgbenchRun } from './relational/pgbench.js';
import { findPostgresBin, type PostgresCluster, startPostgres } from './relational/postgres.js';
import { hasCommand, run } from './lib/processes.js';
import { negotiatedTls, pgStatSsl, withSslMode } from './relational/tls.js';
import { startWeftkit, type WeftkitRelational } from './relational/weftkit.js';

function option(name: string, fallback: number): number {
  const arg = process.argv.find((a) => a.startsWith(`--${name}=`));
  if (arg === undefined) return fallback;
  const n = Number(arg.slice(name.length + 3));
  if (!Number.isInteger(n) || n <= 0) throw new Error(`--${name} must be a positive integer`);
  return n;
}

const SECONDS = option('duration', 5);
const SCALE = 1;
const root = process.cwd();

const PGBENCH = ['/usr/bin/pgbench', '/usr/lib/postgresql/15/bin/pgbench', '/usr/local/bin/pgbench'].find((p) => existsSync(p));
const PSQL = ['/usr/bin/psql', '/usr/lib/postgresql/15/bin/psql', '/usr/local/bin/psql'].find((p) => existsSync(p));
const PG_BIN = findPostgresBin(['/usr/lib/postgresql/15/bin', '/usr/local/bin']);
const missing: string[] = [];
if (PGBENCH === undefined) missing.push('pgbench (apt-get install -y postgresql-client-15)');
if (PSQL === undefined) missing.push('psql (apt-get install -y postgresql-client-15)');
if (!hasCommand('openssl', ['version'])) missing.push('openssl CLI (apt-get install -y openssl)');
if (PG_BIN === undefined) missing.push('PostgreSQL 15 server: initdb, pg_ctl, postgres (apt-get install -y postgresql-15)');
if (missing.length > 0) {
  console.error(`relational benchmark needs: ${missing.join(', ')}`);
  process.exit(2);
}
const pgbench = PGBENCH!;
const psql = PSQL!;

interface Workload {
  /** Short name for --only. */
  readonly id: string;
  readonly name: string;
  readonly args: readonly string[];
  /** WeftKit runs one pgbench -c 1 per extra tenant at once (PostgreSQL: `args` on one database). */
  readonly perTenant?: boolean;
  /** PGSSLMODE=require (TLS 1.3) instead of disable. */
  readonly tls?: boolean;
}

const allWorkloads: readonly Workload[] = [
  { id: 'select-1', name: 'select-only, simple protocol, 1 client', args: ['-S', '-c', '1'] },
  { id: 'select-4', name: 'select-only, simple protocol, 4 clients', args: ['-S', '-c', '4'] },
  { id: 'select-tenants', name: 'select-only, 4 tenants x 1 client', args: ['-S', '-c', '4'], perTenant: true },
  { id: 'select-prepared', name: 'select-only, prepared, 1 client', args: ['-S', '-M', 'prepared', '-c', '1'] },
  { id: 'tpcb', name: 'tpcb-like (5 statements + commit), 1 client', args: ['-c', '1'] },
  { id: 'select-1-tls', name: 'select-only, simple protocol, 1 client, TLS', args: ['-S', '-c', '1'], tls: true },
  { id: 'tpcb-tls', name: 'tpcb-like (5 statements + commit), 1 client, TLS', args: ['-c', '1'], tls: true },
];

function selectedWorkloads(): readonly Workload[] {
  const arg = process.argv.find((a) => a.startsWith('--only='));
  if (arg === undefined) return allWorkloads;
  const ids = arg.slice('--only='.length).split(',');
  const unknown = ids.filter((id) => !allWorkloads.some((w) => w.id === id));
  if (unknown.length > 0) {
    console.error(`--only: unknown workload ${unknown.join(', ')} (one of: ${allWorkloads.map((w) => w.id).join(', ')})`);
    process.exit(2);
  }
  return allWorkloads.filter((w) => ids.includes(w.id));
}

const workloads = selectedWorkloads();

/** pgbench -c 1 on each target at once: TPS summed, latency averaged. */
async function pgbenchPerTenant(targets: readonly PgbenchTarget[], args: readonly string[]): Promise<PgbenchResult> {
  const rs = await Promise.all(targets.map((t) => pgbenchRun(pgbench, t, args)));
  return {
    tps: rs.reduce((a, r) => a + r.tps, 0),
    latencyMs: rs.reduce((a, r) => a + r.latencyMs, 0) / rs.length,
    transactions: rs.reduce((a, r) => a + r.transactions, 0),
    failed: rs.reduce((a, r) => a + r.failed, 0),
  };
}

/** What the engine's ops port says about one run: classifier time against backend time. */
function classifierShare(before: Map<string, number>, after: Map<string, number>): string {
  const d = (name: string): number => (after.get(name) ?? 0) - (before.get(name) ?? 0);
  const classify = d('weftkit_relational_classifier_seconds_total');
  const calls = d('weftkit_relational_classifier_calls_total');
  const hits = d('weftkit_relational_classifier_exact_hits_total') + d('weftkit_relational_classifier_shape_hits_total');
  const backend = d('weftkit_relational_query_duration_seconds_sum');
  if (calls === 0) return 'classifier: no statements';
  return (
    `classifier ${((classify / calls) * 1e6).toFixed(1)} µs/statement, ${((100 * hits) / calls).toFixed(0)}% cache hits, ` +
    `${((100 * classify) / (classify + backend)).toFixed(1)}% of server time (classify + backend)`
  );
}

const dir = await mkdtemp(join(tmpdir(), 'weftkit-bench-relational-'));
let weftkit: WeftkitRelational | undefined;
let postgres: PostgresCluster | undefined;
let pki: TestPki | undefined;
let failed = false;
try {
  pki = await createTestPki();
  const serverCert = await pki.server();
  const tls = { certFile: serverCert.cert.path, keyFile: serverCert.key.path };
  weftkit = await startWeftkit(root, join(dir, 'weftkit'), { tls });
  postgres = await startPostgres(PG_BIN!, join(dir, 'postgres'), { tls });
  const targets: PgbenchTarget[] = [weftkit.target, postgres.target];
  const pgbenchVersion = run(pgbench, ['--version']).trim();

  console.log(
    `relational: pgbench, ${SECONDS} s per workload and system, scale ${SCALE} (pgbench -i -I dtGvp -s ${SCALE}).\n` +
      `Client: ${pgbenchVersion}. Peer: ${postgres.version}, fresh cluster, fsync on, SCRAM-SHA-256 over TCP 127.0.0.1.\n` +
      'WeftKit: relational engine (PGlite, PostgreSQL 18 in WebAssembly), SCRAM-SHA-256 superuser bound to tenant "bench", ' +
      'AES-256-GCM encrypted storage, audit off.\n' +
      'Both servers have a server certificate (EC P-256, throwaway CA) and accept TLS 1.3 and plain TCP on one port; ' +
      'workloads marked TLS use PGSSLMODE=require, the others sslmode=disable.\n' +
      'Load generator (pgbench) and both servers share this machine (2 cores): figures are relative, not capacity.\n' +
      'PGlite is a single session per tenant: WeftKit runs one transaction at a time per tenant, so -c 4 is serialized by design;\n' +
      '"4 tenants x 1 client" runs pgbench -c 1 on each of 4 tenants at once (one worker each) against PostgreSQL at -c 4.\n' +
      'classifier: time in authorization layer one (from the ops port /metrics) against time on the tenant backend.',
  );

  if (workloads.some((w) => w.tls === true)) {
    // libpq's view from psql (the library pgbench uses); PostgreSQL's own view from pg_stat_ssl.
    for (const t of targets) {
      const n = negotiatedTls(psql, withSslMode(t, 'require'));
      console.log(`  TLS ${t.label.padEnd(20)} libpq (psql \\conninfo): ${n.protocol}, ${n.cipher}`);
      if (n.protocol !== 'TLSv1.3') throw new Error(`${t.label} negotiated ${n.protocol}, not TLSv1.3`);
    }
    const s = pgStatSsl(psql, withSslMode(postgres.target, 'require'));
    console.log(`  TLS ${postgres.target.label.padEnd(20)} server (pg_stat_ssl):     ${s.protocol}, ${s.cipher}`);
    if (s.protocol !== 'TLSv1.3') throw new Error(`${postgres.target.label} pg_stat_ssl shows ${s.protocol}, not TLSv1.3`);
  }

  const initTargets = workloads.some((w) => w.perTenant === true) ? [...targets, ...weftkit.tenantTargets] : targets;
  for (const t of initTargets) {
    const started = Date.now();
    await pgbenchInit(pgbench, t, SCALE);
    console.log(`  init ${t.label.padEnd(20)} ${t.database.padEnd(8)} ${((Date.now() - started) / 1000).toFixed(1)} s`);
  }

  const results = new Map<string, PgbenchResult>();
  for (const w of workloads) {
    // Systems alternate per workload so drift (page cache, other load) hits both.
    for (const base of targets) {
      const ours = base === weftkit.target;
      const t = w.tls === true ? withSslMode(base, 'require') : base;
      const before = ours ? await weftkit.metrics() : undefined;
      const r =
        ours && w.perTenant === true
          ? await pgbenchPerTenant(weftkit.tenantTargets, [...w.args.filter((a, i, all) => a !== '-c' && all[i - 1] !== '-c'), '-c', '1', '-T', String(SECONDS)])
          : await pgbenchRun(pgbench, t, [...w.args, '-T', String(SECONDS)]);
      if (r.failed > 0) throw new Error(`${t.label} ${w.name}: ${r.failed} failed transactions`);
      results.set(`${w.name}\u0000${t.label}`, r);
      const share = before === undefined ? '' : `  ${classifierShare(before, await weftkit.metrics())}`;
      console.log(
        `  ${w.name.padEnd(50)} ${t.label.padEnd(20)} ${r.tps.toFixed(0).padStart(7)} tps  latency avg ${r.latencyMs.toFixed(3)} ms  (${r.transactions} tx)${share}`,
      );
    }
  }

  const [ours, peer] = targets as [PgbenchTarget, PgbenchTarget];
  for (const w of workloads) {
    const a = results.get(`${w.name}\u0000${ours.label}`)!;
    const b = results.get(`${w.name}\u0000${peer.label}`)!;
    const rows: Row[] = [
      { name: 'throughput', value: a.tps, unit: 'tps', peer: b.tps, higherIsBetter: true },
      { name: 'latency average', value: a.latencyMs, unit: 'ms', peer: b.latencyMs, higherIsBetter: false },
    ];
    printRows(
      `pgbench ${w.args.join(' ')} -T ${SECONDS}${w.tls === true ? ' (PGSSLMODE=require, TLS 1.3)' : ''}${w.perTenant === true ? ' (WeftKit: -c 1 on each of 4 tenants at once)' : ''}: ${w.name}, WeftKit vs PostgreSQL 15 (ratio > 1 means WeftKit is better)`,
      rows,
    );
  }
} catch (err) {
  failed = true;
  console.error(err instanceof Error ? err.message : err);
  if (weftkit !== undefined && weftkit.child.stderrTail !== '') {
    console.error(`--- WeftKit stderr (tail) ---\n${weftkit.child.stderrTail}`);
  }
} finally {
  await weftkit?.stop();
  await postgres?.stop();
  await pki?.cleanup();
  await rm(dir, { recursive: true, force: true });
}
process.exit(failed ? 1 : 0);
