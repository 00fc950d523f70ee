// Issue 4's durability test: committed inserts from concurrent clients, the server SIGKILLed at a
// random moment, restarted on the same data directory — 20 times. Every acknowledged row must be
// there, no transaction half there, and the tenant must open cleanly each time.
import assert from 'node:assert/strict';
import { type ChildProcess, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { after, before, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { scramVerifier } from '@weftkit/kernel';
import pg from 'pg';

const MAIN = fileURLToPath(new URL('../src/main.ts', import.meta.url));
const CYCLES = 20;
const CLIENTS = 4;
const PASSWORD = 'durable-password-1';

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address() as { port: number };
      s.close(() => resolve(port));
    });
  });
}

let dir: string;
let env: Record<string, string>;
let port: number;
let opsPort: number;

before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'weftkit-durability-'));
  await writeFile(join(dir, 'users.htpasswd'), `alice:${await scramVerifier(PASSWORD)}\n`);
  await writeFile(join(dir, 'roles.yaml'), 'users:\n  alice: { roles: [superuser], tenants: [t1], default_tenant: t1 }\n');
  port = await freePort();
  opsPort = await freePort();
  env = {
    PATH: process.env.PATH ?? '/usr/bin:/bin',
    WEFTKIT_HOST: '127.0.0.1',
    WEFTKIT_PORT: String(port),
    WEFTKIT_OPS_HOST: '127.0.0.1',
    WEFTKIT_OPS_PORT: String(opsPort),
    WEFTKIT_DATA_DIR: join(dir, 'data'),
    WEFTKIT_AUTH_USERS_FILE: join(dir, 'users.htpasswd'),
    WEFTKIT_ROLES_FILE: join(dir, 'roles.yaml'),
    WEFTKIT_KEY: randomBytes(32).toString('base64'),
    WEFTKIT_LOG_LEVEL: 'warn',
  };
});
after(async () => rm(dir, { recursive: true, force: true }));

async function startServer(): Promise<ChildProcess> {
  const child = spawn(process.execPath, ['--import', 'tsx', MAIN], { env, stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr!.on('data', (d) => {
    stderr += d;
  });
  for (let i = 0; i < 600; i++) {
    if (child.exitCode !== null) throw new Error(`server exited ${child.exitCode}: ${stderr}`);
    try {
      if ((await fetch(`http://127.0.0.1:${opsPort}/readyz`)).ok) return child;
    } catch {}
    await sleep(50);
  }
  throw new Error(`server not ready: ${stderr}`);
}

function client(): pg.Client {
  const c = new pg.Client({ host: '127.0.0.1', port, user: 'alice', password: PASSWORD, database: 't1' });
  c.on('error', () => {});
  return c;
}

interface Acked {
  rows: number[];
  /** Transactions of three rows each, acknowledged by COMMIT. */
  groups: number[][];
}

const RANGE = 1_000_000;

/** Three-row transactions (ids base + 10n + 0..2) until the connection dies. */
async function loadGroups(base: number, acked: Acked): Promise<void> {
  const c = client();
  try {
    await c.connect();
    for (let n = 0; ; n++) {
      const group = [base + n * 10, base + n * 10 + 1, base + n * 10 + 2];
      await c.query('begin');
      for (const id of group) await c.query('insert into acked(id) values ($1)', [id]);
      await c.query('commit');
      acked.groups.push(group);
    }
  } catch {
    // The server was killed: everything acknowledged so far is recorded.
  } finally {
    await c.end().catch(() => {});
  }
}

/** Single-row autocommit inserts (ids base + n) until the connection dies. */
async function loadSingles(base: number, acked: Acked): Promise<void> {
  const c = client();
  try {
    await c.connect();
    for (let n = 0; ; n++) {
      await c.query('insert into acked(id) values ($1)', [base + n]);
      acked.rows.push(base + n);
    }
  } catch {
    // killed
  } finally {
    await c.end().catch(() => {});
  }
}

async function verify(acked: Acked, groupBase: number): Promise<void> {
  const c = client();
  await c.connect();
  try {
    const want = [...acked.rows, ...acked.groups.flat()];
    const r = await c.query('select count(*)::int as n from acked where id = any($1::bigint[])', [want]);
    assert.equal(r.rows[0].n, want.length, 'every acknowledged row survived the kill');
    // The transaction in flight at the kill is wholly there or wholly absent.
    const partial = await c.query(
      'select id / 10 as g, count(*)::int as n from acked where id >= $1 and id < $2 group by 1 having count(*) <> 3',
      [groupBase, groupBase + RANGE],
    );
    assert.deepEqual(partial.rows, [], 'no transaction is half applied');
  } finally {
    await c.end();
  }
}

test(`${CYCLES} cycles of concurrent commits, SIGKILL, restart: nothing acknowledged is lost`, { timeout: 600_000 }, async (t) => {
  let server = await startServer();
  const setup = client();
  await setup.connect();
  await setup.query('create table acked(id bigint primary key)');
  await setup.end();
  let total = 0;
  for (let cycle = 0; cycle < CYCLES; cycle++) {
    const acked: Acked = { rows: [], groups: [] };
    const base = (cycle + 1) * CLIENTS * RANGE;
    const loads = [loadGroups(base, acked), ...Array.from({ length: CLIENTS - 1 }, (_, k) => loadSingles(base + (k + 1) * RANGE, acked))];
    await sleep(300 + Math.floor(Math.random() * 900));
    server.kill('SIGKILL');
    await new Promise((resolve) => server.once('exit', resolve));
    await Promise.all(loads);
    server = await startServer();
    await verify(acked, base);
    total += acked.rows.length + acked.groups.length * 3;
  }
  t.diagnostic(`${total} acknowledged rows over ${CYCLES} kills, all present`);
  assert.ok(total > CYCLES, 'the load really ran');
  server.kill('SIGTERM');
  await new Promise((resolve) => server.once('exit', resolve));
});
