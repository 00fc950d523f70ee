// weftkit/relational as a user runs it (DESIGN §3, §5; issue 7): password auth with a mounted
// users file and `psql "host=localhost ... user=alice@tenant-001"`, mTLS with a client certificate
// whose subject carries the tenant, an env-provided KEK, a read-only root and a named volume.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { copyFileSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { createTestPki, type IssuedCert, type TestPki } from '../../kernel/src/testing/certs.js';
import {
  type BuiltImage,
  engineDir,
  ensureImage,
  filesContaining,
  freePort,
  giveToEngine,
  host,
  podman,
  podmanOk,
  removeContainer,
  removeDir,
  removeVolume,
  root,
  startContainer,
  stopContainer,
  uniqueName,
  volumePath,
  waitReady,
} from './harness.js';

const ROLES_YAML = `roles: []
users:
  alice:
    roles: [read_write, schema_admin]
    tenants: [tenant-001]
    default_tenant: tenant-001
`;

describe('weftkit/relational image', { timeout: 600_000 }, () => {
  let image: BuiltImage;
  let pki: TestPki;
  let client: IssuedCert;
  let etc: string;
  const volume = uniqueName('rel-data');
  const containers: string[] = [];
  const kek = randomBytes(32).toString('base64');
  const password = randomBytes(12).toString('hex');
  const marker = `plaintext-marker-${randomBytes(8).toString('hex')}`;
  let port: number;
  let opsPort: number;

  const start = async (name: string, auth: 'password' | 'mtls'): Promise<void> => {
    containers.push(name);
    const env: Record<string, string> = {
      WEFTKIT_AUTH: auth,
      WEFTKIT_TLS_CERT: '/etc/weftkit/tls/server.crt',
      WEFTKIT_TLS_KEY: '/etc/weftkit/tls/server.key',
      WEFTKIT_ENCRYPTION: 'aes-256-gcm',
      WEFTKIT_KEY_PROVIDER: 'env',
      WEFTKIT_KEY: kek,
    };
    if (auth === 'password') env.WEFTKIT_AUTH_USERS_FILE = '/etc/weftkit/users.htpasswd';
    else env.WEFTKIT_MTLS_CA = '/etc/weftkit/tls/ca.crt';
    await startContainer({
      image: image.image,
      name,
      env,
      volumes: [`${volume}:/var/lib/weftkit`, `${etc}:/etc/weftkit:ro`],
      ports: { 20000: port, 20001: opsPort },
      readOnly: true,
    });
    await waitReady(name, opsPort, 120_000);
  };

  const psql = (conninfo: string, sql: string, env: NodeJS.ProcessEnv = {}) =>
    host('psql', [conninfo, '-X', '-A', '-t', '-v', 'ON_ERROR_STOP=1', '-c', sql], { PGCONNECT_TIMEOUT: '20', ...env });

  const passwordConn = () =>
    `host=localhost port=${port} user=alice@tenant-001 dbname=default sslmode=verify-full sslrootcert=${pki.ca.cert.path}`;

  before(async () => {
    image = await ensureImage('relational');
    [pki, port, opsPort] = await Promise.all([createTestPki(), freePort(), freePort()]);
    client = await pki.client('/CN=alice/O=tenant-001');
    const server = await pki.server();
    etc = engineDir('rel-etc');
    mkdirSync(join(etc, 'tls'));
    copyFileSync(pki.ca.cert.path, join(etc, 'tls/ca.crt'));
    copyFileSync(server.cert.path, join(etc, 'tls/server.crt'));
    copyFileSync(server.key.path, join(etc, 'tls/server.key'));
    writeFileSync(join(etc, 'roles.yaml'), ROLES_YAML);
    // The users file is written by the admin CLI, as docs/deploy.md tells users to.
    const users = join(etc, 'users.htpasswd');
    writeFileSync(users, '');
    const added = await host(process.execPath, [join(root, 'cli/bin/weftkit.mjs'), 'user', 'add', 'alice', '--file', users], {}, `${password}\n`);
    assert.equal(added.code, 0, added.stderr);
    for (const f of ['tls/ca.crt', 'tls/server.crt', 'tls/server.key', 'roles.yaml', 'users.htpasswd', 'tls']) giveToEngine(join(etc, f));
    await podmanOk(['volume', 'create', volume]);
  });

  after(async () => {
    for (const c of containers) await removeContainer(c);
    await removeVolume(volume);
    await pki?.cleanup();
    if (etc) removeDir(etc);
  });

  it('password auth with a mounted users file: psql user=alice@tenant-001 writes and reads', async () => {
    await start(uniqueName('rel-pw'), 'password');
    const created = await psql(
      passwordConn(),
      `CREATE TABLE events (id int primary key, body text); INSERT INTO events VALUES (1, '${marker}');`,
      { PGPASSWORD: password },
    );
    assert.equal(created.code, 0, created.stderr);
    const read = await psql(passwordConn(), 'SELECT body FROM events WHERE id = 1', { PGPASSWORD: password });
    assert.equal(read.stdout.trim(), marker);
    const wrong = await psql(passwordConn(), 'SELECT 1', { PGPASSWORD: 'not-the-password' });
    assert.notEqual(wrong.code, 0);
    assert.match(wrong.stderr, /28P01|password authentication failed/);
  });

  it('`podman exec NAME weftkit keys ...` reaches the running engine (admin socket): DEK rotated, rows still there', async () => {
    const name = containers[0] as string;
    const rotate = await podman(['exec', name, 'weftkit', 'keys', 'rotate-dek', 'tenant-001']);
    assert.equal(rotate.code, 0, rotate.stderr);
    assert.match(rotate.stdout, /tenant tenant-001 now writes under key version 2; re-encrypting \d+ file\(s\) in the background/);
    let status = '';
    for (let i = 0; i < 120 && !/tenant-001\tkey version 2\tversions 2\t/.test(status); i++) {
      if (i > 0) await new Promise((r) => setTimeout(r, 500));
      status = await podmanOk(['exec', name, 'weftkit', 'keys', 'status']);
    }
    assert.match(status, /tenant-001\tkey version 2\tversions 2\tre-encryption: idle, 0 file\(s\) left/, 'the old key version was retired');
    const read = await psql(passwordConn(), 'SELECT body FROM events WHERE id = 1', { PGPASSWORD: password });
    assert.equal(read.stdout.trim(), marker);
  });

  it('stops within 10 s; the volume holds no plaintext; a new container with mTLS reads the data back', async () => {
    const first = containers[0] as string;
    const stopped = await stopContainer(first);
    assert.ok(stopped.seconds < 10, `podman stop took ${stopped.seconds.toFixed(1)} s`);
    assert.equal(stopped.exitCode, 0);
    await removeContainer(first);
    assert.deepEqual(filesContaining(await volumePath(volume), Buffer.from(marker)), []);

    await start(uniqueName('rel-mtls'), 'mtls');
    const conn = `host=localhost port=${port} user=alice dbname=default sslmode=verify-full sslrootcert=${pki.ca.cert.path} sslcert=${client.cert.path} sslkey=${client.key.path}`;
    const read = await psql(conn, 'SELECT body FROM events WHERE id = 1');
    assert.equal(read.code, 0, read.stderr);
    assert.equal(read.stdout.trim(), marker);
    const other = await pki.client('/CN=alice/O=tenant-001', { ca: pki.otherCa });
    const refused = await psql(conn.replace(client.cert.path, other.cert.path).replace(client.key.path, other.key.path), 'SELECT 1');
    assert.notEqual(refused.code, 0, 'a certificate from another CA is refused');
  });
});
