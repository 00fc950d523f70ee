// Starts the relational engine in-process for tests: temp data dir, users (SCRAM and bcrypt) and
// roles files, optional TLS/mTLS from a test PKI, a JWKS server on port 0 with a key made now,
// captured log lines. Nothing here is committed key material.
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createLogger, hashPassword, type KernelServices, loadConfig, type WeftKitConfig } from '@weftkit/kernel';
import { type CryptoKey, exportJWK, generateKeyPair, type JWTPayload, SignJWT } from 'jose';
import { type RelationalEngine, startRelationalEngine } from '../server/start-engine.js';
import { createTenantManager } from '../tenant/index.js';
import type { TenantManager } from '../tenant/tenant-backend.js';
import { createPgliteTenants } from './pglite-tenants.js';

export const TEST_ISSUER = 'https://issuer.test';
export const TEST_AUDIENCE = 'weftkit-relational';

export const PASSWORDS: Readonly<Record<string, string>> = {
  alice: 'alice-password-1',
  bob: 'bob-password-22',
  carol: 'carol-password-3',
  rita: 'rita-password-44',
  sam: 'sam-password-555',
  olga: 'olga-password-66',
};

const ROLES = `roles:
  - name: orders_reader
    allow: [SELECT]
    on: ["public.orders"]
  - name: bulk
    allow: [COPY TO, COPY FROM]
users:
  alice: { roles: [read_write, schema_admin, bulk], tenants: [t1, t2], default_tenant: t1 }
  rita: { roles: [read_write], tenants: [t1], default_tenant: t1 }
  sam: { roles: [schema_admin], tenants: [t1], default_tenant: t1 }
  olga: { roles: [orders_reader], tenants: [t1], default_tenant: t1 }
  bob: { roles: [read_only], tenants: [t1], default_tenant: t1 }
  carol: { roles: [superuser], tenants: ["*"], default_tenant: t2 }
  dave: { roles: [read_write], tenants: [t1], default_tenant: t1 }
`;

export interface TestServerOptions {
  readonly env?: Readonly<Record<string, string>>;
  /** Serve TLS with these files; with `caFile`, also require client certificates (mTLS). */
  readonly tls?: { readonly certFile: string; readonly keyFile: string; readonly caFile?: string };
  /**
   * `real` (default): the engine's TenantManager (worker per tenant, encrypted storage); `double`:
   * in-process PGlite without encryption (faster start); or a custom opener.
   */
  readonly tenants?: 'real' | 'double' | ((kernel: KernelServices, config: WeftKitConfig) => Promise<TenantManager>);
  readonly drainMs?: number;
  /** TEST ONLY: run without authorization layer one (the classifier's policy checks). */
  readonly bypassClassifier?: boolean;
}

export interface TestServer {
  readonly dir: string;
  readonly engine: RelationalEngine;
  readonly port: number;
  readonly opsPort: number;
  readonly config: WeftKitConfig;
  readonly logs: string[];
  readonly auditFile: string;
  /** A token signed by the trusted key; claims default to alice in t1. */
  token(claims?: JWTPayload, options?: { key?: CryptoKey; expiresIn?: string | number }): Promise<string>;
  /** The audit lines written so far, parsed. */
  audit(): Promise<Record<string, unknown>[]>;
  close(): Promise<void>;
}

async function jwksServer(jwk: Record<string, unknown>): Promise<Server> {
  const server = createServer((_req, res) => {
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end(JSON.stringify({ keys: [jwk] }));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return server;
}

export async function startTestServer(options: TestServerOptions = {}): Promise<TestServer> {
  const dir = await mkdtemp(join(tmpdir(), 'weftkit-rel-test-'));
  const { privateKey, publicKey } = await generateKeyPair('ES256');
  const jwk = { ...(await exportJWK(publicKey)), kid: 'test-key', alg: 'ES256', use: 'sig' };
  const jwks = await jwksServer(jwk);
  const lines = [
    `alice:${await hashPassword(PASSWORDS.alice!)}`,
    `bob:${await hashPassword(PASSWORDS.bob!, { scheme: 'bcrypt', bcryptCost: 4 })}`,
    `carol:${await hashPassword(PASSWORDS.carol!)}`,
    ...(await Promise.all(['rita', 'sam', 'olga'].map(async (u) => `${u}:${await hashPassword(PASSWORDS[u]!)}`))),
  ];
  await writeFile(join(dir, 'users.htpasswd'), `${lines.join('\n')}\n`);
  await writeFile(join(dir, 'roles.yaml'), ROLES);
  const auditFile = join(dir, 'audit.jsonl');
  const tlsEnv: Record<string, string> = {};
  if (options.tls !== undefined) {
    tlsEnv.WEFTKIT_TLS_CERT = options.tls.certFile;
    tlsEnv.WEFTKIT_TLS_KEY = options.tls.keyFile;
    if (options.tls.caFile !== undefined) tlsEnv.WEFTKIT_MTLS_CA = options.tls.caFile;
  }
  const env: Record<string, string> = {
    WEFTKIT_HOST: '127.0.0.1',
    WEFTKIT_PORT: '0',
    WEFTKIT_OPS_HOST: '127.0.0.1',
    WEFTKIT_OPS_PORT: '0',
    WEFTKIT_DATA_DIR: join(dir, 'data'),
    WEFTKIT_AUTH: options.tls?.caFile === undefined ? 'password,jwt' : 'password,jwt,mtls',
    WEFTKIT_AUTH_USERS_FILE: join(dir, 'users.htpasswd'),
    WEFTKIT_ROLES_FILE: join(dir, 'roles.yaml'),
    WEFTKIT_JWT_JWKS_URI: `http://127.0.0.1:${(jwks.address() as AddressInfo).port}/jwks`,
    WEFTKIT_JWT_ISSUER: TEST_ISSUER,
    WEFTKIT_JWT_AUDIENCE: TEST_AUDIENCE,
    WEFTKIT_KEY: Buffer.alloc(32, 7).toString('base64'),
    WEFTKIT_AUDIT: 'true',
    WEFTKIT_AUDIT_OUTPUT: auditFile,
    ...tlsEnv,
    ...options.env,
  };
  const config = loadConfig(env, 'relational');
  const logs: string[] = [];
  const logger = createLogger({ level: 'debug', write: (line) => logs.push(line) });
  let engine: RelationalEngine;
  try {
    engine = await startRelationalEngine(config, {
      logger,
      openTenants: async (kernel) => {
        const choice = options.tenants ?? 'real';
        if (choice === 'double') return createPgliteTenants();
        if (choice !== 'real') return choice(kernel, config);
        if (kernel.keyring === undefined) throw new Error('the real tenant manager needs encryption on');
        return createTenantManager({ dataDir: config.dataDir, keyring: kernel.keyring, logger, maxOpenTenants: config.limits.maxOpenTenants, closeDeadlineMs: 5000 });
      },
      ...(options.drainMs === undefined ? {} : { drainMs: options.drainMs }),
      ...(options.bypassClassifier === true ? { bypassClassifierForTests: true } : {}),
    });
  } catch (err) {
    jwks.close();
    await rm(dir, { recursive: true, force: true });
    throw err;
  }
  return {
    dir,
    engine,
    port: engine.address.port,
    opsPort: engine.opsAddress.port,
    config,
    logs,
    auditFile,
    token: (claims = {}, o = {}) =>
      new SignJWT({ sub: 'alice', tenant_id: 't1', roles: ['read_write'], ...claims })
        .setProtectedHeader({ alg: 'ES256', kid: 'test-key' })
        .setIssuer(TEST_ISSUER)
        .setAudience(TEST_AUDIENCE)
        .setIssuedAt()
        .setExpirationTime(o.expiresIn ?? '5m')
        .sign(o.key ?? privateKey),
    audit: async () => {
      const text = await readFile(auditFile, 'utf8').catch(() => '');
      return text
        .split('\n')
        .filter((l) => l !== '')
        .map((l) => JSON.parse(l) as Record<string, unknown>);
    },
    close: async () => {
      await engine.close();
      jwks.close();
      jwks.closeAllConnections();
      await rm(dir, { recursive: true, force: true });
    },
  };
}
