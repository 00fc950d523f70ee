// Test helpers: keys generated per run, tokens signed on demand, a JWKS served on 127.0.0.1:0.
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { base64url, type CryptoKey, exportJWK, exportSPKI, generateKeyPair, type JWK, type JWTPayload, SignJWT } from 'jose';

export const T0 = 1_800_000_000;

export interface TestKey {
  readonly alg: string;
  readonly kid: string;
  readonly privateKey: CryptoKey;
  /** Public JWK with `kid` and `alg`. */
  readonly jwk: JWK;
  readonly pem: string;
}

export async function makeKey(alg: 'RS256' | 'ES256' | 'EdDSA', kid: string): Promise<TestKey> {
  const { publicKey, privateKey } = await generateKeyPair(alg, { extractable: true });
  const jwk = { ...(await exportJWK(publicKey)), kid, alg };
  return { alg, kid, privateKey, jwk, pem: await exportSPKI(publicKey) };
}

/** Claims a valid token carries at `T0` unless overridden; `undefined` values remove a claim. */
export function claims(overrides: Record<string, unknown> = {}): JWTPayload {
  const base: Record<string, unknown> = {
    sub: 'alice',
    tenant_id: 'tenant-001',
    roles: ['read_write'],
    iat: T0,
    exp: T0 + 600,
    ...overrides,
  };
  for (const [k, v] of Object.entries(base)) if (v === undefined) delete base[k];
  return base as JWTPayload;
}

export async function sign(key: TestKey, payload: JWTPayload = claims(), header: Record<string, unknown> = {}): Promise<string> {
  return new SignJWT(payload).setProtectedHeader({ alg: key.alg, kid: key.kid, ...header }).sign(key.privateKey);
}

/** An unsigned (`alg: none`) token. */
export function unsigned(payload: JWTPayload = claims()): string {
  const enc = (v: unknown): string => base64url.encode(JSON.stringify(v));
  return `${enc({ alg: 'none', typ: 'JWT' })}.${enc(payload)}.`;
}

/** A controllable clock in epoch ms starting at `T0`. */
export function testClock(): { now: () => number; advance: (seconds: number) => void } {
  let ms = T0 * 1000;
  return { now: () => ms, advance: (seconds) => (ms += seconds * 1000) };
}

export interface JwksServer {
  readonly url: string;
  /** Requests served so far. */
  readonly hits: number;
  keys: JWK[];
  /** When set, answers with this status and no JWKS. */
  status: number | undefined;
  close(): Promise<void>;
}

export async function startJwksServer(keys: JWK[]): Promise<JwksServer> {
  const state = { hits: 0, keys, status: undefined as number | undefined };
  const server: Server = createServer((_req, res) => {
    state.hits++;
    if (state.status !== undefined) {
      res.writeHead(state.status).end('unavailable');
      return;
    }
    res.writeHead(200, { 'content-type': 'application/jwk-set+json' }).end(JSON.stringify({ keys: state.keys }));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/.well-known/jwks.json`,
    get hits() {
      return state.hits;
    },
    get keys() {
      return state.keys;
    },
    set keys(k: JWK[]) {
      state.keys = k;
    },
    get status() {
      return state.status;
    },
    set status(s: number | undefined) {
      state.status = s;
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

export const request = { peer: '127.0.0.1:40000', connectionId: 'conn-1' } as const;
