// The systems under load: the WeftKit kv engine (JWT, child process) and etcd 3.4 through its
// JSON gateway (auth on or off). Each knows how to start, write/read one key and stop.
import { generateKeyPairSync, type KeyObject, randomBytes, sign } from 'node:crypto';
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { Child, cleanEnv, freePort } from '../lib/processes.js';

export interface KvTarget {
  readonly label: string;
  readonly system: 'weftkit' | 'etcd';
  readonly url: string;
  /** The Authorization header value for wrk ('' for none). */
  readonly authorization: string;
  readonly child: Child;
  put(key: string, value: string): Promise<void>;
  get(key: string): Promise<string>;
  stop(): Promise<void>;
}

async function expectOk(r: Response, what: string): Promise<string> {
  const body = await r.text();
  if (r.status < 200 || r.status > 299) throw new Error(`${what}: HTTP ${r.status} ${body.slice(0, 300)}`);
  return body;
}

function b64url(data: Buffer | string): string {
  return Buffer.from(data).toString('base64url');
}

/** An ES256 JWT signed with node:crypto (JOSE wants the raw r||s signature, not DER). */
function es256Token(privateKey: KeyObject, claims: Record<string, unknown>): string {
  const input = `${b64url(JSON.stringify({ alg: 'ES256', typ: 'JWT' }))}.${b64url(JSON.stringify(claims))}`;
  const signature = sign('sha256', Buffer.from(input), { key: privateKey, dsaEncoding: 'ieee-p1363' });
  return `${input}.${b64url(signature)}`;
}

const ROLES = `roles:
  - name: kv_bench
    allow: [SELECT, INSERT, UPDATE]
    on: ["bench:*"]
`;

export interface WeftkitOptions {
  readonly dir: string;
  readonly root: string;
  /** Directory for a `node --cpu-prof` profile of the engine, written when it stops. */
  readonly cpuProfileDir?: string;
  /** Extra WEFTKIT_* variables (e.g. WEFTKIT_AUDIT=true). */
  readonly env?: Readonly<Record<string, string>>;
}

export async function startWeftkit(o: WeftkitOptions): Promise<KvTarget> {
  await mkdir(o.dir, { recursive: true });
  const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  const publicKeyFile = join(o.dir, 'jwt-public.pem');
  const rolesFile = join(o.dir, 'roles.yaml');
  await writeFile(publicKeyFile, publicKey.export({ type: 'spki', format: 'pem' }));
  await writeFile(rolesFile, ROLES);
  const port = await freePort();
  const opsPort = await freePort();
  const env = cleanEnv({
    WEFTKIT_HOST: '127.0.0.1',
    WEFTKIT_PORT: String(port),
    WEFTKIT_OPS_HOST: '127.0.0.1',
    WEFTKIT_OPS_PORT: String(opsPort),
    WEFTKIT_DATA_DIR: join(o.dir, 'data'),
    WEFTKIT_AUTH: 'jwt',
    WEFTKIT_JWT_PUBLIC_KEY_FILE: publicKeyFile,
    WEFTKIT_JWT_ALGORITHMS: 'ES256',
    WEFTKIT_ROLES_FILE: rolesFile,
    WEFTKIT_KEY: randomBytes(32).toString('base64'),
    WEFTKIT_LOG_LEVEL: 'warn',
    ...o.env,
  });
  const nodeArgs = o.cpuProfileDir === undefined ? [] : ['--cpu-prof', `--cpu-prof-dir=${o.cpuProfileDir}`];
  const child = new Child('weftkit-kv', process.execPath, [...nodeArgs, join(o.root, 'engines/kv/bin/weftkit-kv.mjs')], env);
  try {
    await child.waitReady(`http://127.0.0.1:${opsPort}/readyz`);
  } catch (err) {
    await child.stop();
    throw err;
  }
  const now = Math.floor(Date.now() / 1000);
  const token = es256Token(privateKey, { sub: 'bench', tenant_id: 'bench', roles: ['kv_bench'], iat: now, exp: now + 6 * 3600 });
  const url = `http://127.0.0.1:${port}`;
  const authorization = `Bearer ${token}`;
  return {
    label: 'WeftKit (JWT)',
    system: 'weftkit',
    url,
    authorization,
    child,
    async put(key, value) {
      const r = await fetch(`${url}/items/${key}`, {
        method: 'PUT',
        headers: { authorization, 'content-type': 'application/octet-stream' },
        body: value,
      });
      await expectOk(r, `WeftKit PUT ${key}`);
    },
    async get(key) {
      return expectOk(await fetch(`${url}/items/${key}`, { headers: { authorization } }), `WeftKit GET ${key}`);
    },
    stop: () => child.stop(),
  };
}

export interface EtcdOptions {
  readonly dir: string;
  readonly auth: boolean;
}

const b64 = (s: string): string => Buffer.from(s).toString('base64');

export async function startEtcd(o: EtcdOptions): Promise<KvTarget> {
  await mkdir(o.dir, { recursive: true });
  const clientPort = await freePort();
  const peerPort = await freePort();
  const url = `http://127.0.0.1:${clientPort}`;
  const peer = `http://127.0.0.1:${peerPort}`;
  const args = [
    '--name=bench',
    `--data-dir=${join(o.dir, 'data')}`,
    `--listen-client-urls=${url}`,
    `--advertise-client-urls=${url}`,
    `--listen-peer-urls=${peer}`,
    `--initial-advertise-peer-urls=${peer}`,
    `--initial-cluster=bench=${peer}`,
    '--logger=zap',
    '--log-outputs=stderr',
    '--log-level=error',
  ];
  const child = new Child(o.auth ? 'etcd (auth on)' : 'etcd (auth off)', 'etcd', args, cleanEnv({}));
  let authorization = '';
  try {
    await child.waitReady(`${url}/health`);
    if (o.auth) {
      const password = randomBytes(12).toString('hex');
      const call = async (path: string, body: unknown): Promise<string> =>
        expectOk(await fetch(`${url}${path}`, { method: 'POST', body: JSON.stringify(body) }), `etcd ${path}`);
      await call('/v3/auth/user/add', { name: 'root', password: randomBytes(12).toString('hex') });
      await call('/v3/auth/user/grant', { user: 'root', role: 'root' });
      await call('/v3/auth/role/add', { name: 'kv_bench' });
      // READWRITE on the prefix "bench:" (range end "bench;"), like WeftKit's `on: ["bench:*"]`.
      await call('/v3/auth/role/grant', { name: 'kv_bench', perm: { permType: 'READWRITE', key: b64('bench:'), range_end: b64('bench;') } });
      await call('/v3/auth/user/add', { name: 'bench', password });
      await call('/v3/auth/user/grant', { user: 'bench', role: 'kv_bench' });
      await call('/v3/auth/enable', {});
      const reply = JSON.parse(await call('/v3/auth/authenticate', { name: 'bench', password })) as { token?: string };
      if (typeof reply.token !== 'string') throw new Error('etcd authenticate returned no token');
      authorization = reply.token;
    }
  } catch (err) {
    await child.stop();
    throw err;
  }
  const headers: Record<string, string> = { 'content-type': 'application/json' };
  if (authorization !== '') headers['authorization'] = authorization;
  return {
    label: o.auth ? 'etcd auth on' : 'etcd auth off',
    system: 'etcd',
    url,
    authorization,
    child,
    async put(key, value) {
      const r = await fetch(`${url}/v3/kv/put`, { method: 'POST', headers, body: JSON.stringify({ key: b64(key), value: b64(value) }) });
      await expectOk(r, `etcd put ${key}`);
    },
    async get(key) {
      const r = await fetch(`${url}/v3/kv/range`, { method: 'POST', headers, body: JSON.stringify({ key: b64(key) }) });
      const reply = JSON.parse(await expectOk(r, `etcd range ${key}`)) as { kvs?: { value: string }[] };
      const value = reply.kvs?.[0]?.value;
      if (value === undefined) throw new Error(`etcd range ${key}: not found`);
      return Buffer.from(value, 'base64').toString();
    },
    stop: () => child.stop(),
  };
}
