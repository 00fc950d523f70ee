// pgjdbc (Debian's libpostgresql-jdbc-java) against the engine: server-side prepared statements
// (prepareThreshold=2), a batch in a transaction, and a read_only user refused (42501).
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { PASSWORDS, startTestServer, type TestServer } from '../src/testing/test-server.js';
import { run } from './helpers.js';

const JAR = '/usr/share/java/postgresql.jar';

let server: TestServer;
before(async () => {
  server = await startTestServer({ env: { WEFTKIT_INSECURE_DEV: 'true' } });
});
after(async () => {
  await server?.close();
});

test('pgjdbc: prepared statements, a batch, identity; read_only refused', async () => {
  assert.ok(existsSync(JAR), 'libpostgresql-jdbc-java is installed');
  const main = join(import.meta.dirname, 'clients', 'Main.java');
  const r = await run('/usr/bin/java', ['-cp', JAR, main, String(server.port)], { ALICE_PASSWORD: PASSWORDS.alice!, BOB_PASSWORD: PASSWORDS.bob! }, 120_000);
  assert.equal(r.code, 0, r.stderr);
  assert.deepEqual(r.stdout.trim().split('\n'), ['sum 560 alice', 'sum 560 alice', 'sum 560 alice', 'sum 560 alice', 'bob insert 42501', 'bob count 20 off']);
});
