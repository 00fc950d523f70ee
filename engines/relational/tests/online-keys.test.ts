// End to end: the relational engine as a process under continuous node-postgres traffic on tenants
// ta and tb, while the real `weftkit` CLI (a child process, through the engine's admin socket)
// rotates ta's DEK (re-encrypting its PGDATA in the background), rotates the KEK and shreds tb.
// No query of ta may fail; tb's sessions get WK_REL_TENANT_SHREDDED (3D000); ta's rows survive a restart.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { scramVerifier } from '@weftkit/kernel';
import pg from 'pg';
import { scanPgData } from '../src/tenant/pgdata-scan.js';
import { openTestKeyring, seedTemplate } from '../src/testing/tenant-fixtures.js';
import { cli, type Engine, keyringVersions, startEngine, status, until } from './key-ops-helpers.js';

async function connect(port: number, user: string): Promise<pg.Client> {
  const c = new pg.Client({ host: '127.0.0.1', port, user, password: `${user}-password-1`, database: user === 'ua' ? 'ta' : 'tb' });
  c.on('error', () => {});
  await c.connect();
  return c;
}

describe('relational online key operations under traffic', () => {
  let dir: string;
  let dataDir: string;
  let engineEnv: Record<string, string>;
  let cliEnv: Record<string, string>;
  let engine: Engine | undefined;

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'wk-rel-online-'));
    dataDir = join(dir, 'data');
    const users = await Promise.all(['ua', 'ub'].map(async (u) => `${u}:${await scramVerifier(`${u}-password-1`)}`));
    await writeFile(join(dir, 'users.htpasswd'), `${users.join('\n')}\n`);
    await writeFile(
      join(dir, 'roles.yaml'),
      'users:\n  ua: { roles: [read_write, schema_admin], tenants: [ta], default_tenant: ta }\n  ub: { roles: [read_write, schema_admin], tenants: [tb], default_tenant: tb }\n',
    );
    const key = randomBytes(32).toString('base64');
    await writeFile(join(dir, 'new.key'), randomBytes(32).toString('base64'), { mode: 0o600 });
    // The template cluster, built once per machine, saves the engine an initdb.
    const keyring = await openTestKeyring(dataDir, key);
    await seedTemplate(dataDir, keyring);
    keyring.close();
    engineEnv = {
      WEFTKIT_HOST: '127.0.0.1',
      WEFTKIT_PORT: '0',
      WEFTKIT_OPS_HOST: '127.0.0.1',
      WEFTKIT_OPS_PORT: '0',
      WEFTKIT_DATA_DIR: dataDir,
      WEFTKIT_AUTH_USERS_FILE: join(dir, 'users.htpasswd'),
      WEFTKIT_ROLES_FILE: join(dir, 'roles.yaml'),
      WEFTKIT_KEY: key,
      WEFTKIT_AUDIT: 'true',
      WEFTKIT_AUDIT_OUTPUT: join(dir, 'audit.jsonl'),
      WEFTKIT_AUDIT_EVENTS: 'admin',
    };
    cliEnv = { WEFTKIT_DATA_DIR: dataDir };
  });
  after(async () => {
    engine?.child.kill('SIGKILL');
    await rm(dir, { recursive: true, force: true });
  });

  test('rotate-dek(ta), rotate-kek and shred(tb) while traffic runs; ta loses nothing, tb gets 3D000', { timeout: 300_000 }, async () => {
    engine = await startEngine(engineEnv);
    const e = engine;
    const setupA = await connect(e.port, 'ua');
    await setupA.query("create table items(id int primary key, pad text); insert into items select g, repeat('s', g % 500) from generate_series(1, 4000) g");
    await setupA.end();
    const setupB = await connect(e.port, 'ub');
    await setupB.query('create table b(id int)');
    await setupB.end();

    const acked = new Set<number>();
    for (let i = 1; i <= 4000; i++) acked.add(i);
    const failuresA: string[] = [];
    const bErrors: { code: string | undefined; when: 'before' | 'after'; fatal: boolean }[] = [];
    let shredStarted = false;
    let stop = false;
    let next = 100_000;
    const loopA = async (): Promise<void> => {
      const c = await connect(e.port, 'ua');
      try {
        while (!stop) {
          const id = next++;
          try {
            await c.query('insert into items values ($1, $2)', [id, 'live']);
            acked.add(id);
            const r = await c.query('select count(*)::int as n from items where id <= 4000');
            if (r.rows[0].n !== 4000) failuresA.push(`count ${r.rows[0].n}`);
          } catch (err) {
            failuresA.push(`${(err as { code?: string }).code ?? String(err)}`);
          }
        }
      } finally {
        await c.end().catch(() => undefined);
      }
    };
    // A tb session in autocommit; another, inside a transaction, is added just before the shred.
    const loopB = async (): Promise<void> => {
      let c = await connect(e.port, 'ub');
      let ended = false;
      c.on('end', () => {
        ended = true;
      });
      let m = 0;
      while (!stop) {
        try {
          await c.query('insert into b values ($1)', [m++]);
        } catch (err) {
          const when = shredStarted ? 'after' : 'before';
          // The FATAL's socket close lands just after the error.
          await new Promise((r) => setTimeout(r, 50));
          bErrors.push({ code: (err as { code?: string }).code ?? String(err), when, fatal: ended });
          if (ended) {
            try {
              c = await connect(e.port, 'ub');
              ended = false;
              c.on('end', () => {
                ended = true;
              });
            } catch (connectErr) {
              bErrors.push({ code: (connectErr as { code?: string }).code, when: 'after', fatal: true });
            }
          }
        }
        await new Promise((r) => setTimeout(r, 5));
      }
      await c.end().catch(() => undefined);
    };
    const traffic = Promise.all([loopA(), loopA(), loopB()]);
    try {
      await new Promise((r) => setTimeout(r, 500));

      const rotate = await cli(['keys', 'rotate-dek', 'ta', '--rate', '4194304'], cliEnv);
      assert.equal(rotate.code, 0, rotate.err);
      assert.match(rotate.out, /tenant ta now writes under key version 2; re-encrypting [1-9]\d* file\(s\)/);

      const kek = await cli(['keys', 'rotate-kek', '--new-key-file', join(dir, 'new.key')], cliEnv);
      assert.equal(kek.code, 0, kek.err);

      // A tb session with nothing running: ended too, with the same code.
      const idle = await connect(e.port, 'ub');
      await idle.query('select 1');
      let idleCode: string | undefined;
      let idleEnded = false;
      idle.on('error', (err: Error & { code?: string }) => {
        // Then node-postgres adds 'Connection terminated unexpectedly' (no code).
        idleCode ??= err.code;
      });
      idle.on('end', () => {
        idleEnded = true;
      });
      // A tb statement running when the shred comes: its worker is stopped under it.
      const sleeper = await connect(e.port, 'ub');
      let sleeperEnded = false;
      sleeper.on('end', () => {
        sleeperEnded = true;
      });
      await sleeper.query('begin');
      const sleeping = sleeper.query('select pg_sleep(60)').then(
        () => 'finished',
        (err: { code?: string }) => err.code,
      );
      await new Promise((r) => setTimeout(r, 300));
      shredStarted = true;
      const shred = await cli(['tenant', 'shred', 'tb', '--yes'], cliEnv);
      assert.equal(shred.code, 0, shred.err);
      assert.match(shred.out, /shredded tenant tb: 1 key version\(s\) destroyed, [1-9]\d* file\(s\) removed \(by the running engine\)/);
      assert.equal(keyringVersions(dataDir, 'tb'), undefined);
      assert.equal(existsSync(join(dataDir, 'tenants', 'tb')), false);
      assert.equal(await sleeping, '3D000', 'the running statement was terminated with the coded error');
      await until('the terminated session closed', async () => sleeperEnded, 5000);
      await until('the idle session was ended', async () => idleEnded, 5000);
      assert.equal(idleCode, '3D000', 'the idle session was told why');

      await until('re-encryption of ta', async () => {
        const s = await status(cliEnv, 'ta');
        return !s.running && s.remaining === 0 && s.versions === '2';
      });
      const metrics = await (await fetch(`${e.ops}/metrics`)).text();
      assert.match(metrics, /^weftkit_relational_reencrypt_bytes_total [1-9]\d*$/m);
      assert.match(metrics, /^weftkit_relational_reencrypt_segments_remaining\{tenant="ta"\} 0$/m);
      const scan = scanPgData(join(dataDir, 'tenants', 'ta', 'pgdata'), 2);
      assert.deepEqual([...scan.versions], [2], 'every PGDATA file of ta is under key version 2');
      assert.deepEqual(keyringVersions(dataDir, 'ta'), [2]);
      await new Promise((r) => setTimeout(r, 300));
    } finally {
      stop = true;
      await traffic;
    }
    assert.deepEqual(failuresA, [], 'no query of tenant ta failed');
    assert.ok(next > 100_050, `traffic ran (${next - 100_000} inserts)`);
    assert.deepEqual(
      bErrors.filter((b) => b.when === 'before'),
      [],
      'tb worked before the shred',
    );
    const after = bErrors.filter((b) => b.when === 'after');
    assert.ok(after.length > 0);
    for (const b of after) assert.equal(b.code, '3D000', JSON.stringify(after));

    // New connection to tb: a clear coded error, no hang.
    const late = await connect(e.port, 'ub');
    await assert.rejects(late.query('select 1'), { code: '3D000' });
    await late.end().catch(() => undefined);

    e.child.kill('SIGTERM');
    assert.equal(await new Promise((r) => e.child.once('exit', r)), 0, e.stderr());
    const { WEFTKIT_KEY: _old, ...rest } = engineEnv;
    engine = await startEngine({ ...rest, WEFTKIT_KEY_FILE: join(dir, 'new.key') });
    const e2 = engine;
    const c = await connect(e2.port, 'ua');
    const r = await c.query('select id from items');
    await c.end();
    const got = new Set<number>(r.rows.map((row: { id: number }) => row.id));
    for (const id of acked) assert.ok(got.has(id), `row ${id} is there after the restart`);
    const audit = readFileSync(join(dir, 'audit.jsonl'), 'utf8')
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l));
    assert.deepEqual(
      audit.filter((a) => a.event === 'admin' && a.operation !== 'keys.status').map((a) => [a.operation, a.resource, a.result]),
      [
        ['keys.rotate_dek', 'ta', 'success'],
        ['keys.rotate_kek', 'keyring', 'success'],
        ['tenant.shred', 'tb', 'success'],
      ],
    );
    e2.child.kill('SIGTERM');
    assert.equal(await new Promise((r) => e2.child.once('exit', r)), 0, e2.stderr());
    engine = undefined;
  });
});
