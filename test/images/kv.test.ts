// weftkit/kv as a user runs it (DESIGN §4, §5; issue 7): `podman run` with JWT auth against a
// JWKS the test serves over HTTPS, TLS on the API, an env-provided KEK, the audit log on a mounted
// folder, custom roles from a mounted /etc/weftkit/roles.yaml, a read-only root filesystem and a
// named volume for the data. curl is the client.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { copyFileSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:https';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { makeKey, sign, type TestKey } from '../../kernel/src/auth/jwt/testing/jwt-fixtures.js';
import { createTestPki, type TestPki } from '../../kernel/src/testing/certs.js';
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
  treeBytes,
  uniqueName,
  volumePath,
  waitExit,
  waitReady,
} from './harness.js';

const ROLES_YAML = `# /etc/weftkit/roles.yaml
- name: analyst
  allow: [SELECT, "COPY TO"]
  deny: [INSERT, UPDATE, DELETE]
`;

describe('weftkit/kv image', { timeout: 600_000 }, () => {
  let image: BuiltImage;
  let pki: TestPki;
  let key: TestKey;
  let jwks: Server;
  let jwksUri: string;
  let etc: string;
  let auditDir: string;
  const volume = uniqueName('kv-data');
  const containers: string[] = [];
  const kek = randomBytes(32).toString('base64');
  const marker = `plaintext-marker-${randomBytes(8).toString('hex')}`;
  let port: number;
  let opsPort: number;

  const token = async (sub: string, roles: string[]): Promise<string> => {
    const now = Math.floor(Date.now() / 1000);
    return sign(key, { sub, tenant_id: 'tenant-001', roles, iat: now, exp: now + 600 });
  };

  /** `curl` over TLS, trusting only the test CA; returns the status and body. */
  const curl = async (method: string, path: string, bearer?: string, body?: string) => {
    const args = ['-sS', '--cacert', pki.ca.cert.path, '-X', method, '-o', '-', '-w', '\n%{http_code}'];
    if (bearer) args.push('-H', `Authorization: Bearer ${bearer}`);
    if (body !== undefined) args.push('-H', 'Content-Type: text/plain', '--data-binary', body);
    args.push(`https://localhost:${port}${path}`);
    const r = await host('curl', args);
    assert.equal(r.code, 0, `curl failed: ${r.stderr}`);
    const cut = r.stdout.lastIndexOf('\n');
    return { status: Number(r.stdout.slice(cut + 1)), body: r.stdout.slice(0, cut) };
  };

  const env = (key64: string): Record<string, string> => ({
    WEFTKIT_AUTH: 'jwt',
    WEFTKIT_JWT_JWKS_URI: jwksUri,
    // The JWKS is served over HTTPS with the test CA; Node trusts it through this standard variable.
    NODE_EXTRA_CA_CERTS: '/etc/weftkit/tls/ca.crt',
    WEFTKIT_TLS_CERT: '/etc/weftkit/tls/server.crt',
    WEFTKIT_TLS_KEY: '/etc/weftkit/tls/server.key',
    WEFTKIT_ENCRYPTION: 'aes-256-gcm',
    WEFTKIT_KEY_PROVIDER: 'env',
    WEFTKIT_KEY: key64,
    WEFTKIT_AUDIT: 'true',
    WEFTKIT_AUDIT_OUTPUT: '/var/log/weftkit/audit.jsonl',
    WEFTKIT_AUDIT_EVENTS: 'auth,authz_deny,data_write',
  });

  const start = async (name: string, key64 = kek): Promise<string> => {
    containers.push(name);
    return startContainer({
      image: image.image,
      name,
      env: env(key64),
      volumes: [`${volume}:/var/lib/weftkit`, `${etc}:/etc/weftkit:ro`, `${auditDir}:/var/log/weftkit`],
      ports: { 20004: port, 20005: opsPort },
      readOnly: true,
    });
  };

  before(async () => {
    image = await ensureImage('kv');
    [pki, key, port, opsPort] = await Promise.all([createTestPki(), makeKey('ES256', 'k1'), freePort(), freePort()]);
    // The JWKS endpoint is reached from the container as host.containers.internal (podman's
    // bridge gateway), so it listens on all interfaces with a certificate for that name.
    const jwksCert = await pki.issue({ subject: '/CN=jwks', usage: 'server', san: ['DNS:host.containers.internal'] });
    jwks = createServer({ cert: jwksCert.cert.pem, key: jwksCert.key.pem }, (_req, res) => {
      res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ keys: [key.jwk] }));
    });
    await new Promise<void>((resolve) => jwks.listen(0, '0.0.0.0', resolve));
    jwksUri = `https://host.containers.internal:${(jwks.address() as { port: number }).port}/.well-known/jwks.json`;

    const server = await pki.server();
    etc = engineDir('kv-etc');
    mkdirSync(join(etc, 'tls'));
    copyFileSync(pki.ca.cert.path, join(etc, 'tls/ca.crt'));
    copyFileSync(server.cert.path, join(etc, 'tls/server.crt'));
    copyFileSync(server.key.path, join(etc, 'tls/server.key'));
    writeFileSync(join(etc, 'roles.yaml'), ROLES_YAML);
    for (const f of ['tls/ca.crt', 'tls/server.crt', 'tls/server.key', 'roles.yaml', 'tls']) giveToEngine(join(etc, f));
    auditDir = engineDir('kv-audit');
    await podmanOk(['volume', 'create', volume]);
  });

  after(async () => {
    for (const c of containers) await removeContainer(c);
    await removeVolume(volume);
    await new Promise((r) => jwks?.close(r));
    await pki?.cleanup();
    for (const d of [etc, auditDir]) if (d) removeDir(d);
  });

  it('is a small non-root image with the contract metadata', async () => {
    const inspected = JSON.parse(await podmanOk(['image', 'inspect', image.image])) as [{ Healthcheck?: { Test: string[] }; Config: unknown }];
    const config = inspected[0].Config as {
      User: string;
      ExposedPorts: Record<string, unknown>;
      StopSignal: string;
      Labels: Record<string, string>;
      Volumes: Record<string, unknown>;
    };
    assert.equal(config.User, '10001:10001');
    assert.deepEqual(Object.keys(config.ExposedPorts).sort(), ['20004/tcp', '20005/tcp']);
    assert.equal(config.StopSignal, 'SIGTERM');
    const version = JSON.parse(readFileSync(join(root, 'engines/kv/package.json'), 'utf8')).version as string;
    assert.equal(config.Labels['org.opencontainers.image.version'], version);
    assert.ok(inspected[0].Healthcheck?.Test.join(' ').includes('healthcheck.mjs'), 'HEALTHCHECK present');
    assert.ok('/var/lib/weftkit' in config.Volumes);
    // The Docker-format image keeps HEALTHCHECK; its size stays near the base (Node) image's.
    assert.ok(image.size < 400e6, `image is ${image.size} bytes`);
  });

  it('serves HTTPS with a Bearer JWT from the JWKS, runs as 10001 on a read-only root, and is healthy', async () => {
    await start(uniqueName('kv-1'));
    const name = containers[0] as string;
    await waitReady(name, opsPort);
    const alice = await token('alice', ['read_write']);
    assert.equal((await curl('PUT', `/items/${marker}`, alice, `${marker}-value`)).status, 200);
    const got = await curl('GET', `/items/${marker}`, alice);
    assert.equal(got.status, 200);
    assert.equal(got.body, `${marker}-value`);
    assert.equal((await curl('GET', `/items/${marker}`)).status, 401, 'no token');
    const stranger = await sign(await makeKey('ES256', 'k1'), { sub: 'alice', tenant_id: 'tenant-001', roles: ['superuser'] });
    assert.equal((await curl('GET', `/items/${marker}`, stranger)).status, 401, 'token from a key not in the JWKS');

    const uid = await podmanOk(['exec', name, 'node', '-e', 'process.stdout.write(String(process.getuid()))']);
    assert.equal(uid, '10001');
    const write = await podman(['exec', name, 'node', '-e', "require('fs').writeFileSync('/opt/weftkit/x', '')"]);
    assert.notEqual(write.code, 0, 'the root filesystem is read-only');
    assert.match(write.stderr, /EROFS|EACCES/);
    assert.equal((await podman(['healthcheck', 'run', name])).code, 0, 'HEALTHCHECK passes');
  });

  it('enforces custom roles from the mounted /etc/weftkit/roles.yaml', async () => {
    const bob = await token('bob', ['analyst']);
    assert.equal((await curl('GET', `/items/${marker}`, bob)).status, 200, 'analyst may SELECT');
    const put = await curl('PUT', '/items/by-bob', bob, 'x');
    assert.equal(put.status, 403, 'analyst may not INSERT');
    assert.equal((JSON.parse(put.body) as { error: { code: string } }).error.code, 'WK_AUTHZ_ACCESS_DENIED');
  });

  it('`podman exec NAME weftkit keys ...` reaches the running engine (admin socket): DEK rotated, data still readable', async () => {
    const name = containers[0] as string;
    const rotate = await podman(['exec', name, 'weftkit', 'keys', 'rotate-dek', 'tenant-001']);
    assert.equal(rotate.code, 0, rotate.stderr);
    assert.match(rotate.stdout, /tenant tenant-001 now writes under key version 2; re-encrypting \d+ file\(s\) in the background/);
    let status = '';
    for (let i = 0; i < 60 && !/tenant-001\tkey version 2\tversions 2\t/.test(status); i++) {
      if (i > 0) await new Promise((r) => setTimeout(r, 500));
      status = await podmanOk(['exec', name, 'weftkit', 'keys', 'status']);
    }
    assert.match(status, /tenant-001\tkey version 2\tversions 2\tre-encryption: idle, 0 file\(s\) left/, 'the old key version was retired');
    const got = await curl('GET', `/items/${marker}`, await token('alice', ['read_write']));
    assert.equal(got.status, 200);
    assert.equal(got.body, `${marker}-value`);
  });

  it('stops within 10 s on SIGTERM; a new container on the volume has every acknowledged write', async () => {
    const alice = await token('alice', ['read_write']);
    const keys = Array.from({ length: 40 }, (_, i) => `burst-${i}`);
    const puts = await Promise.all(keys.map((k) => curl('PUT', `/items/${k}`, alice, `${marker}-${k}`)));
    assert.deepEqual(
      puts.map((p) => p.status),
      keys.map(() => 200),
    );
    const first = containers[0] as string;
    const stopped = await stopContainer(first);
    assert.ok(stopped.seconds < 10, `podman stop took ${stopped.seconds.toFixed(1)} s`);
    assert.equal(stopped.exitCode, 0, 'clean exit on SIGTERM (137 would mean SIGKILL)');
    await removeContainer(first);

    const dir = await volumePath(volume);
    assert.ok(treeBytes(dir) > 0, 'the volume holds data');
    assert.deepEqual(filesContaining(dir, Buffer.from(marker)), [], 'no plaintext key or value on the volume');

    const second = uniqueName('kv-2');
    await start(second);
    await waitReady(second, opsPort);
    assert.equal((await curl('GET', `/items/${marker}`, alice)).body, `${marker}-value`);
    for (const k of keys) {
      const r = await curl('GET', `/items/${k}`, alice);
      assert.equal(r.status, 200, k);
      assert.equal(r.body, `${marker}-${k}`);
    }
    const again = await stopContainer(second);
    assert.ok(again.seconds < 10);
    assert.equal(again.exitCode, 0);
  });

  it('refuses to start with the wrong key: non-zero exit, one coded line', async () => {
    const name = uniqueName('kv-wrongkey');
    await start(name, randomBytes(32).toString('base64'));
    const exit = await waitExit(name);
    assert.notEqual(exit.code, 0);
    const lines = exit.logs.trim().split('\n');
    assert.equal(lines.length, 1, exit.logs);
    assert.match(lines[0] as string, /^WK_[A-Z0-9_]+: /);
    assert.ok(!exit.logs.includes(kek), 'the key is not echoed');
  });

  it('wrote a hash-chained audit log to the mounted folder that `weftkit audit verify` accepts', async () => {
    const file = join(auditDir, 'audit.jsonl');
    const text = readFileSync(file, 'utf8');
    const events = text
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as Record<string, unknown>);
    assert.ok(events.length > 0);
    const json = JSON.stringify(events);
    assert.ok(json.includes('authz_deny'), 'the analyst denial is audited');
    assert.ok(!json.includes(kek));
    const cli = join(root, 'cli/bin/weftkit.mjs');
    const ok = await host(process.execPath, [cli, 'audit', 'verify', file]);
    assert.equal(ok.code, 0, ok.stdout + ok.stderr);

    // The same check fails on a copy with one event altered.
    const tampered = join(engineDir('kv-tamper'), 'audit.jsonl');
    writeFileSync(tampered, text.replace('"authz_deny"', '"auth"'));
    const bad = await host(process.execPath, [cli, 'audit', 'verify', tampered]);
    assert.equal(bad.code, 1);
    removeDir(join(tampered, '..'));
  });
});
