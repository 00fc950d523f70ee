// psycopg2 (Debian's python3-psycopg2, on libpq) against the engine: parameters, transactions,
// identity settings, and a read_only user refused (42501).
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { PASSWORDS, startTestServer, type TestServer } from '../src/testing/test-server.js';
import { run } from './helpers.js';

let server: TestServer;
before(async () => {
  server = await startTestServer({ env: { WEFTKIT_INSECURE_DEV: 'true' } });
});
after(async () => {
  await server?.close();
});

test('psycopg2: writes, reads, identity; read_only refused', async () => {
  assert.ok(existsSync('/usr/lib/python3/dist-packages/psycopg2'), 'python3-psycopg2 is installed (apt-get install python3-psycopg2)');
  const script = join(import.meta.dirname, 'clients', 'psycopg2_check.py');
  const r = await run('/usr/bin/python3', [script, String(server.port)], { ALICE_PASSWORD: PASSWORDS.alice!, BOB_PASSWORD: PASSWORDS.bob! });
  assert.equal(r.code, 0, r.stderr);
  const lines = r.stdout.trim().split('\n');
  assert.deepEqual(lines, [
    "rows [('tea', Decimal('2.5')), (\"o'hara\", Decimal('3')), ('bread', None)]",
    "identity ('t1', 'alice', 'wk_owner', True)",
    'reader count 3',
    'reader insert 42501',
    'reader set role 42501',
    'reader superuser off',
  ]);
});
