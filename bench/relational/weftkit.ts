// The WeftKit relational engine as a child process: SCRAM password user bound to tenant `bench`
// as superuser, encrypted storage in a temporary directory, TCP on 127.0.0.1 (with a server
// certificate, TLS 1.3 on the same port for clients that ask; plain TCP stays allowed).
import { randomBytes } from 'node:crypto';
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { scramVerifier } from '@weftkit/kernel';
import type { PgbenchTarget } from './pgbench.js';
import { Child, cleanEnv, freePort } from '../lib/processes.js';

const USER = 'bench';
const TENANT = 'bench';
/** Extra tenants for the one-client-per-tenant workload. */
export const EXTRA_TENANTS: readonly string[] = ['bench1', 'bench2', 'bench3', 'bench4'];

export interface WeftkitRelational {
  readonly target: PgbenchTarget;
  /** The same user on each of EXTRA_TENANTS. */
  readonly tenantTargets: readonly PgbenchTarget[];
  readonly child: Child;
  /** The engine's Prometheus samples (name with labels -> value) from its ops port. */
  metrics(): Promise<Map<string, number>>;
  stop(): Promise<void>;
}

export interface WeftkitOptions {
  /** Tenants besides `bench` the user is bound to (default EXTRA_TENANTS). */
  readonly tenants?: readonly string[];
  /** PEM server certificate and key (WEFTKIT_TLS_CERT / WEFTKIT_TLS_KEY). */
  readonly tls?: { readonly certFile: string; readonly keyFile: string };
  /** Extra WEFTKIT_* variables. */
  readonly env?: Readonly<Record<string, string>>;
}

export async function startWeftkit(root: string, dir: string, options: WeftkitOptions = {}): Promise<WeftkitRelational> {
  const extra = options.tenants ?? EXTRA_TENANTS;
  await mkdir(dir, { recursive: true });
  const password = randomBytes(18).toString('base64url');
  const usersFile = join(dir, 'users.htpasswd');
  const rolesFile = join(dir, 'roles.yaml');
  await writeFile(usersFile, `${USER}:${await scramVerifier(password)}\n`, { mode: 0o600 });
  await writeFile(rolesFile, `users:\n  ${USER}: { roles: [superuser], tenants: [${[TENANT, ...extra].join(', ')}], default_tenant: ${TENANT} }\n`);
  const port = await freePort();
  const opsPort = await freePort();
  const env = cleanEnv({
    WEFTKIT_HOST: '127.0.0.1',
    WEFTKIT_PORT: String(port),
    WEFTKIT_OPS_HOST: '127.0.0.1',
    WEFTKIT_OPS_PORT: String(opsPort),
    WEFTKIT_DATA_DIR: join(dir, 'data'),
    WEFTKIT_AUTH_USERS_FILE: usersFile,
    WEFTKIT_ROLES_FILE: rolesFile,
    WEFTKIT_KEY: randomBytes(32).toString('base64'),
    WEFTKIT_LOG_LEVEL: 'warn',
    ...(options.tls === undefined ? {} : { WEFTKIT_TLS_CERT: options.tls.certFile, WEFTKIT_TLS_KEY: options.tls.keyFile }),
    ...options.env,
  });
  const child = new Child('weftkit-relational', process.execPath, [join(root, 'engines/relational/bin/weftkit-relational.mjs')], env);
  try {
    await child.waitReady(`http://127.0.0.1:${opsPort}/readyz`);
  } catch (err) {
    await child.stop();
    throw err;
  }
  const target = (database: string): PgbenchTarget => ({
    label: 'WeftKit relational',
    host: '127.0.0.1',
    port,
    user: database === TENANT ? USER : `${USER}@${database}`,
    database,
    env: cleanEnv({ PGPASSWORD: password, PGSSLMODE: 'disable' }),
  });
  return {
    target: target(TENANT),
    tenantTargets: extra.map(target),
    child,
    async metrics() {
      const res = await fetch(`http://127.0.0.1:${opsPort}/metrics`);
      const out = new Map<string, number>();
      for (const line of (await res.text()).split('\n')) {
        const m = /^([a-z_]+(?:\{[^}]*\})?) (\S+)$/.exec(line);
        if (m !== null) out.set(m[1]!, Number(m[2]));
      }
      return out;
    },
    stop: () => child.stop(),
  };
}
