// End to end: a DEK rotation's background re-encryption survives a SIGKILL of the engine. Tenant tr
// is rotated through the real `weftkit` CLI at a low rate, the engine is killed while some files are
// done, some left and one is half copied; the restarted engine finishes by itself (no CLI command):
// every PGDATA file under version 2, version 1 gone from keyring.json, rows intact, no copy left.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { readdirSync, statSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { scramVerifier } from '@weftkit/kernel';
import pg from 'pg';
import { REKEY_SUFFIX, scanPgData } from '../src/tenant/pgdata-scan.js';
import { openTestKeyring, seedTemplate } from '../src/testing/tenant-fixtures.js';
import { cli, type Engine, keyringVersions, startEngine, status, until } from './key-ops-helpers.js';

/**
 * Slow enough that the ~5 MB heap file stays half copied for seconds (a 32-page slice every 125 ms);
 * the resumed job runs at it too (the keyring keeps it), so no slower than that.
 */
const SLOW_RATE = 2 << 20;

function rekeyCopies(root: string): string[] {
  const out: string[] = [];
  const walk = (abs: string): void => {
    for (const e of readdirSync(abs, { withFileTypes: true })) {
      if (e.isDirectory()) walk(join(abs, e.name));
      else if (e.name.endsWith(REKEY_SUFFIX)) out.push(join(abs, e.name));
    }
  };
  walk(root);
  return out;
}

async function connect(port: number): Promise<pg.Client> {
  const c = new pg.Client({ host: '127.0.0.1', port, user: 'ur', password: 'ur-password-1', database: 'tr' });
  c.on('error', () => {});
  await c.connect();
  return c;
}

const CHECKSUM = "select count(*)::int as n, md5(string_agg(id::text || ':' || pad, ',' order by id)) as sum from items";

describe('relational DEK re-encryption across an engine SIGKILL', () => {
  let dir: string;
  let dataDir: string;
  let pgdata: string;
  let engineEnv: Record<string, string>;
  let cliEnv: Record<string, string>;
  let engine: Engine | undefined;

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'wk-rel-resume-'));
    dataDir = join(dir, 'data');
    pgdata = join(dataDir, 'tenants', 'tr', 'pgdata');
    await writeFile(join(dir, 'users.htpasswd'), `ur:${await scramVerifier('ur-password-1')}\n`);
    await writeFile(join(dir, 'roles.yaml'), 'users:\n  ur: { roles: [read_write, schema_admin], tenants: [tr], default_tenant: tr }\n');
    const key = randomBytes(32).toString('base64');
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
    };
    cliEnv = { WEFTKIT_DATA_DIR: dataDir };
  });
  after(async () => {
    engine?.child.kill('SIGKILL');
    await rm(dir, { recursive: true, force: true });
  });

  test('killed mid re-encryption, the restarted engine finishes it unasked; rows intact, version 1 retired', { timeout: 120_000 }, async (t) => {
    engine = await startEngine(engineEnv);
    const setup = await connect(engine.port);
    // ~1 KiB of incompressible text a row (stays in the heap, not TOAST): a ~5 MB heap file.
    await setup.query(
      "create table items(id int primary key, pad text); insert into items select g, (select string_agg(md5(g::text || ':' || i), '') from generate_series(1, 30) i) from generate_series(1, 4000) g",
    );
    const before = (await setup.query(CHECKSUM)).rows[0];
    await setup.end();
    assert.equal(before.n, 4000);

    const rotate = await cli(['keys', 'rotate-dek', 'tr', '--rate', String(SLOW_RATE)], cliEnv);
    assert.equal(rotate.code, 0, rotate.err);
    const m = /tenant tr now writes under key version 2; re-encrypting (\d+) file\(s\)/.exec(rotate.out);
    assert.ok(m !== null, rotate.out);
    const total = Number(m[1]);
    assert.ok(total > 10, `${total} files to re-encrypt`);

    // Some files done, some left, and one half copied (its copy beside it): kill there. The copy
    // must be of a file of 512 KiB or more (a quarter second at SLOW_RATE): a small file's copy can
    // finish between this check and the kill.
    const copyingLargeFile = (): boolean =>
      rekeyCopies(pgdata).some((copy) => {
        try {
          return statSync(copy.slice(0, -REKEY_SUFFIX.length)).size >= 512 * 1024;
        } catch {
          return false;
        }
      });
    await until(
      'partial re-encryption progress',
      async () => {
        const s = await status(cliEnv, 'tr');
        return s.running && s.remaining > 0 && s.remaining < total && copyingLargeFile();
      },
      45_000,
    );
    const killed = engine.child;
    const exited = new Promise((r) => killed.once('exit', (_code, signal) => r(signal)));
    killed.kill('SIGKILL');
    assert.equal(await exited, 'SIGKILL');
    engine = undefined;
    const left = scanPgData(pgdata, 2);
    assert.deepEqual([...left.versions].sort(), [1, 2], 'the kill left files under both versions');
    assert.ok(left.old.length > 0 && left.old.length < total, `${left.old.length} of ${total} files left under version 1`);
    assert.ok(rekeyCopies(pgdata).length > 0, 'the kill left a half-done copy');
    assert.deepEqual(keyringVersions(dataDir, 'tr'), [1, 2]);
    t.diagnostic(`killed with ${left.old.length} of ${total} file(s) under version 1`);

    // Same environment, no CLI command: the engine opens tr at start and finishes on its own, at the
    // --rate of the rotation (kept in keyring.json), not at the 32 MiB/s default.
    engine = await startEngine(engineEnv);
    const rates = new Set<number | undefined>();
    await until(
      'the resumed re-encryption of tr',
      async () => {
        const s = await status(cliEnv, 'tr');
        if (s.remaining >= 0) rates.add(s.rate);
        return !s.running && s.remaining === 0 && s.versions === '2';
      },
      45_000,
    );
    assert.deepEqual([...rates], [SLOW_RATE], 'the resumed job reports the rotation\'s rate');
    const scan = scanPgData(pgdata, 2);
    assert.deepEqual([...scan.versions], [2], 'every PGDATA file of tr is under key version 2');
    assert.deepEqual(scan.old, []);
    assert.deepEqual(keyringVersions(dataDir, 'tr'), [2]);
    assert.deepEqual(rekeyCopies(pgdata), [], 'no re-encryption copy is left');

    const c = await connect(engine.port);
    assert.deepEqual((await c.query(CHECKSUM)).rows[0], before, 'every row is there with its contents');
    await c.query("insert into items values (4001, 'after'); create table more(id int)");
    await c.query('insert into more values (1)');
    assert.deepEqual((await c.query('select pad from items where id = 4001')).rows, [{ pad: 'after' }]);
    await c.end();
    assert.deepEqual([...scanPgData(pgdata, 2).versions], [2], 'new files are under version 2');

    const e = engine;
    e.child.kill('SIGTERM');
    assert.equal(await new Promise((r) => e.child.once('exit', r)), 0, e.stderr());
    engine = undefined;
  });
});
