// Starts the kv engine in-process for tests: temp data dir, users and roles files, a JWKS server
// on port 0 with a key made now, captured log lines. Nothing here is committed key material.
import { createServer, type Server } from 'node:http';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type CryptoKey, exportJWK, generateKeyPair, type JWTPayload, SignJWT } from 'jose';
import { createLogger, type KernelServices, loadConfig, scramVerifier, type WeftKitConfig } from '@weftkit/kernel';
import type { HttpTimeouts } from '../http/listener.js';
import { type KvServer, startKvServer } from '../server.js';
import type { KvStore } from '../store/kv-store.js';
import { openKvStore } from '../open-store.js';

export const TEST_ISSUER = 'https://issuer.test';
export const TEST_AUDIENCE = 'weftkit-kv';

export const DEFAULT_ROLES = `roles:
  - name: app_reader
    allow: [SELECT]
    on: ["app:*"]
  - name: app_writer
    allow: [SELECT, INSERT, UPDATE, DELETE]
    on: ["app:*"]
  - name: inserter
    allow: [SELECT, INSERT]
  - name: updater
    allow: [SELECT, UPDATE]
users:
  alice: { roles: [read_write], tenants: [t1, t2], default_tenant: t1 }
  bob: { roles: [app_reader], tenants: [t1], default_tenant: t1 }
  carol: { roles: [read_only], tenants: [t1], default_tenant: t1 }
`;

export const DEFAULT_PASSWORDS: Readonly<Record<string, string>> = {
  alice: 'alice-password-1',
  bob: 'bob-password-22',
  carol: 'carol-password-3',
};

export interface TestEngineOptions {
  /** Extra or overriding WEFTKIT_* variables. */
  readonly env?: Readonly<Record<string, string>>;
  readonly roles?: string;
  /** The real log-structured store on the temp data dir by default; tests of the HTTP layer alone may pass another. */
  readonly store?: (kernel: KernelServices, config: WeftKitConfig) => Promise<KvStore>;
  readonly timeouts?: Partial<HttpTimeouts>;
  readonly heartbeatMs?: number;
  /** Reuse a data directory (restart tests). */
  readonly dataDir?: string;
}

export interface TestEngine {
  readonly dir: string;
  readonly server: KvServer;
  readonly url: string;
  readonly config: WeftKitConfig;
  readonly logs: string[];
  readonly auditFile: string;
  /** A token signed by the trusted key; claims default to alice in t1 with read_write. */
  token(claims?: JWTPayload, options?: { expiresIn?: string | number; audience?: string; key?: CryptoKey }): Promise<string>;
  basic(user: string, password?: string): string;
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

export async function startTestEngine(options: TestEngineOptions = {}): Promise<TestEngine> {
  const dir = await mkdtemp(join(tmpdir(), 'weftkit-kv-test-'));
  const dataDir = options.dataDir ?? join(dir, 'data');
  const { privateKey, publicKey } = await generateKeyPair('ES256');
  const jwk = { ...(await exportJWK(publicKey)), kid: 'test-key', alg: 'ES256', use: 'sig' };
  const jwks = await jwksServer(jwk);
  const users = await Promise.all(Object.entries(DEFAULT_PASSWORDS).map(async ([u, p]) => `${u}:${await scramVerifier(p)}`));
  await writeFile(join(dir, 'users.htpasswd'), `${users.join('\n')}\n`);
  await writeFile(join(dir, 'roles.yaml'), options.roles ?? DEFAULT_ROLES);
  const auditFile = join(dir, 'audit', 'audit.jsonl');
  const env: Record<string, string> = {
    WEFTKIT_HOST: '127.0.0.1',
    WEFTKIT_PORT: '0',
    WEFTKIT_OPS_HOST: '127.0.0.1',
    WEFTKIT_OPS_PORT: '0',
    WEFTKIT_DATA_DIR: dataDir,
    WEFTKIT_AUTH: 'password,jwt',
    WEFTKIT_AUTH_USERS_FILE: join(dir, 'users.htpasswd'),
    WEFTKIT_ROLES_FILE: join(dir, 'roles.yaml'),
    WEFTKIT_JWT_JWKS_URI: `http://127.0.0.1:${(jwks.address() as AddressInfo).port}/jwks`,
    WEFTKIT_JWT_ISSUER: TEST_ISSUER,
    WEFTKIT_JWT_AUDIENCE: TEST_AUDIENCE,
    WEFTKIT_KEY: Buffer.alloc(32, 7).toString('base64'),
    WEFTKIT_AUDIT: 'true',
    WEFTKIT_AUDIT_OUTPUT: auditFile,
    WEFTKIT_AUDIT_EVENTS: 'auth,authz_deny,data_read,data_write',
    ...options.env,
  };
  const config = loadConfig(env, 'kv');
  const logs: string[] = [];
  const logger = createLogger({ level: 'debug', write: (line) => logs.push(line) });
  const openStore = options.store ?? ((kernel: KernelServices) => openKvStore(config, kernel, logger));
  let server: KvServer;
  try {
    server = await startKvServer(config, {
      logger,
      openStore: (kernel) => openStore(kernel, config),
      ...(options.timeouts === undefined ? {} : { timeouts: options.timeouts }),
      ...(options.heartbeatMs === undefined ? {} : { heartbeatMs: options.heartbeatMs }),
    });
  } catch (err) {
    jwks.close();
    await rm(dir, { recursive: true, force: true });
    throw err;
  }
  return {
    dir,
    server,
    url: server.url,
    config,
    logs,
    auditFile,
    token: async (claims = {}, o = {}) =>
      new SignJWT({ sub: 'alice', tenant_id: 't1', roles: ['read_write'], ...claims })
        .setProtectedHeader({ alg: 'ES256', kid: 'test-key' })
        .setIssuer(TEST_ISSUER)
        .setAudience(o.audience ?? TEST_AUDIENCE)
        .setIssuedAt()
        .setExpirationTime(o.expiresIn ?? '5m')
        .sign(o.key ?? privateKey),
    basic: (user, password) => `Basic ${Buffer.from(`${user}:${password ?? DEFAULT_PASSWORDS[user.split('@')[0]!] ?? ''}`).toString('base64')}`,
    close: async () => {
      await server.close();
      jwks.close();
      jwks.closeAllConnections();
      await rm(dir, { recursive: true, force: true });
    },
  };
}
