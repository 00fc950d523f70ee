#!/usr/bin/env node
// `npm start`: both engines on localhost with safe development defaults, everything under
// ./.weftkit/: a self-signed TLS certificate, a dev user with a random password, a dev JWT key and
// token, a generated key-encryption key (the engines warn that it sits beside the data), and the
// audit logs. Prints a working psql and curl line. Ctrl-C stops both engines cleanly.
// Options (tests use them): --home DIR (default ./.weftkit); --port-base N (default 20000:
// relational on N and ops N+1, kv on N+4 and ops N+5); --no-build.
import { execFileSync, spawn, spawnSync } from 'node:child_process';
import { generateKeyPairSync, randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

function option(name) {
  const i = process.argv.indexOf(`--${name}`);
  return i < 0 ? undefined : process.argv[i + 1];
}

const root = new URL('..', import.meta.url).pathname;
const home = option('home') ?? join(root, '.weftkit');
const portBase = Number(option('port-base') ?? 20000);
if (!Number.isInteger(portBase) || portBase < 1 || portBase > 65530) {
  console.error('--port-base must be a port number (1-65530)');
  process.exit(2);
}
const PORTS = { relational: portBase, relationalOps: portBase + 1, kv: portBase + 4, kvOps: portBase + 5 };
const TENANT = 'dev';
const USER = 'alice';

function sh(cmd, args, opts = {}) {
  execFileSync(cmd, args, { stdio: ['ignore', 'ignore', 'pipe'], ...opts });
}

function ensureBuilt() {
  const r = spawnSync(join(root, 'node_modules/.bin/turbo'), ['run', 'build', '--output-logs=errors-only'], { stdio: 'inherit', cwd: root });
  if (r.status !== 0) process.exit(r.status ?? 1);
}

function ensureTls() {
  const dir = join(home, 'tls');
  if (existsSync(join(dir, 'server.crt'))) return dir;
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  sh('openssl', ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-days', '30',
    '-subj', '/CN=WeftKit dev CA', '-keyout', join(dir, 'ca.key'), '-out', join(dir, 'ca.crt')]);
  sh('openssl', ['req', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-subj', '/CN=localhost',
    '-keyout', join(dir, 'server.key'), '-out', join(dir, 'server.csr')]);
  writeFileSync(join(dir, 'san.ext'), 'subjectAltName=DNS:localhost,IP:127.0.0.1\n');
  sh('openssl', ['x509', '-req', '-in', join(dir, 'server.csr'), '-CA', join(dir, 'ca.crt'), '-CAkey', join(dir, 'ca.key'),
    '-CAcreateserial', '-days', '30', '-extfile', join(dir, 'san.ext'), '-out', join(dir, 'server.crt')]);
  return dir;
}

async function ensureUsers() {
  const file = join(home, 'users.htpasswd');
  const pwFile = join(home, 'dev-password');
  if (!existsSync(file)) {
    const password = `dev-${randomBytes(9).toString('base64url')}7`;
    const { scramVerifier } = await import('@weftkit/kernel');
    writeFileSync(file, `${USER}:${await scramVerifier(password)}\n`, { mode: 0o600 });
    writeFileSync(pwFile, `${password}\n`, { mode: 0o600 });
    writeFileSync(
      join(home, 'roles.yaml'),
      `users:\n  ${USER}: { roles: [superuser], tenants: [${TENANT}], default_tenant: ${TENANT} }\n`,
    );
  }
  return { file, password: readFileSync(pwFile, 'utf8').trim(), roles: join(home, 'roles.yaml') };
}

async function ensureJwt() {
  const dir = join(home, 'jwt');
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  const keyFile = join(dir, 'private.pem');
  if (!existsSync(keyFile)) {
    const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
    writeFileSync(keyFile, privateKey.export({ type: 'pkcs8', format: 'pem' }), { mode: 0o600 });
    writeFileSync(join(dir, 'public.pem'), publicKey.export({ type: 'spki', format: 'pem' }));
  }
  const { SignJWT, importPKCS8 } = await import('jose');
  const key = await importPKCS8(readFileSync(keyFile, 'utf8'), 'ES256');
  const token = await new SignJWT({ tenant_id: TENANT, roles: ['read_write'] })
    .setProtectedHeader({ alg: 'ES256' })
    .setSubject(USER)
    .setIssuedAt()
    .setExpirationTime('24h')
    .sign(key);
  writeFileSync(join(home, 'dev-token'), `${token}\n`, { mode: 0o600 });
  return join(dir, 'public.pem');
}

function baseEnv() {
  const env = { PATH: process.env.PATH ?? '/usr/bin:/bin' };
  if (process.env.HOME) env.HOME = process.env.HOME;
  return env;
}

async function waitReady(port, child, name) {
  for (let i = 0; i < 300; i++) {
    if (child.exitCode !== null) throw new Error(`${name} exited with code ${child.exitCode}`);
    try {
      const r = await fetch(`http://127.0.0.1:${port}/readyz`);
      if (r.ok) return;
    } catch {}
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`${name} did not become ready`);
}

if (!process.argv.includes('--no-build')) ensureBuilt();
mkdirSync(home, { recursive: true, mode: 0o700 });
const tls = ensureTls();
const users = await ensureUsers();
const jwtKey = await ensureJwt();

const common = {
  WEFTKIT_HOST: '127.0.0.1',
  WEFTKIT_OPS_HOST: '127.0.0.1',
  WEFTKIT_AUTH_USERS_FILE: users.file,
  WEFTKIT_ROLES_FILE: users.roles,
  WEFTKIT_TLS_CERT: join(tls, 'server.crt'),
  WEFTKIT_TLS_KEY: join(tls, 'server.key'),
  WEFTKIT_AUDIT: 'true',
  WEFTKIT_AUDIT_EVENTS: 'auth,authz_deny,schema_change,data_export,admin',
};
const engines = [
  {
    name: 'relational',
    bin: join(root, 'engines/relational/bin/weftkit-relational.mjs'),
    ops: PORTS.relationalOps,
    env: {
      ...common,
      WEFTKIT_PORT: String(PORTS.relational),
      WEFTKIT_OPS_PORT: String(PORTS.relationalOps),
      WEFTKIT_AUTH: 'password',
      WEFTKIT_DATA_DIR: join(home, 'relational'),
      WEFTKIT_AUDIT_OUTPUT: join(home, 'relational-audit.jsonl'),
      // As in the image: fewer glibc malloc arenas, less memory per open tenant (docs/relational.md).
      MALLOC_ARENA_MAX: '2',
    },
  },
  {
    name: 'kv',
    bin: join(root, 'engines/kv/bin/weftkit-kv.mjs'),
    ops: PORTS.kvOps,
    env: {
      ...common,
      WEFTKIT_PORT: String(PORTS.kv),
      WEFTKIT_OPS_PORT: String(PORTS.kvOps),
      WEFTKIT_AUTH: 'password,jwt',
      WEFTKIT_JWT_PUBLIC_KEY_FILE: jwtKey,
      WEFTKIT_DATA_DIR: join(home, 'kv'),
      WEFTKIT_AUDIT_OUTPUT: join(home, 'kv-audit.jsonl'),
    },
  },
];

const children = engines.map((e) => {
  const child = spawn(process.execPath, [e.bin], { env: { ...baseEnv(), ...e.env }, stdio: ['ignore', 'inherit', 'inherit'] });
  return { ...e, child };
});
let stopping = false;
const stop = () => {
  if (stopping) return;
  stopping = true;
  for (const c of children) c.child.kill('SIGTERM');
};
process.on('SIGINT', stop);
process.on('SIGTERM', stop);
for (const c of children) c.child.on('exit', (code) => {
  if (!stopping) {
    console.error(`${c.name} engine exited (code ${code}); stopping`);
    stop();
    process.exitCode = 1;
  }
});

try {
  await Promise.all(children.map((c) => waitReady(c.ops, c.child, c.name)));
} catch (err) {
  console.error(String(err.message ?? err));
  stop();
  process.exit(1);
}
const rel = `psql "host=localhost port=${PORTS.relational} user=${USER}@${TENANT} password=${users.password} dbname=default sslmode=require"`;
const kv = `curl --cacert ${join(tls, 'ca.crt')} -X PUT -H "Authorization: Bearer $(cat ${join(home, 'dev-token')})" --data 'hello' https://localhost:${PORTS.kv}/items/greeting`;
console.log(`
WeftKit is running (development defaults; data, keys and logs in ${home}).

  relational:  ${rel}
  kv:          ${kv}
               curl --cacert ${join(tls, 'ca.crt')} -u ${USER}:${users.password} https://localhost:${PORTS.kv}/items/greeting

Ctrl-C stops both engines.
`);
