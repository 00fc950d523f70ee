// Test support for the store's tests (not used by the engine): a keyring under a fresh KEK and a
// store over a temporary data directory, reopenable with the same key.
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createLocalKeyProvider, Keyring, silentLogger } from '@weftkit/kernel';
import { createKvStore, type KvStoreOptions, type LogKvStore } from '../store/create-kv-store.js';

export interface StoreFixture {
  readonly dataDir: string;
  readonly kek: string;
  readonly store: LogKvStore;
  readonly keyring: Keyring;
  close(): Promise<void>;
}

export type FixtureOptions = Omit<KvStoreOptions, 'dataDir' | 'keyring'>;

export async function openStore(options: FixtureOptions = {}, reuse?: { dataDir: string; kek: string }): Promise<StoreFixture> {
  const dataDir = reuse?.dataDir ?? mkdtempSync(join(tmpdir(), 'wk-kv-store-'));
  const kek = reuse?.kek ?? randomBytes(32).toString('base64');
  const provider = createLocalKeyProvider({ kind: 'env', key: kek }, { dataDir, logger: silentLogger });
  const keyring = await Keyring.open({ dataDir, provider });
  const store = createKvStore({ dataDir, keyring, ...options });
  return {
    dataDir,
    kek,
    store,
    keyring,
    async close() {
      await store.close();
      keyring.close();
    },
  };
}

export function removeDataDir(dataDir: string): void {
  rmSync(dataDir, { recursive: true, force: true });
}

export function tenantPath(dataDir: string, tenant: string): string {
  return join(dataDir, 'tenants', tenant);
}

/** Log files of a tenant, oldest first. */
export function logFiles(dataDir: string, tenant: string): string[] {
  return readdirSync(tenantPath(dataDir, tenant))
    .filter((n) => /^\d{10}\.(seg|cmp)$/.test(n))
    .sort()
    .map((n) => join(tenantPath(dataDir, tenant), n));
}

export function tenantBytes(dataDir: string, tenant: string): number {
  return logFiles(dataDir, tenant).reduce((n, f) => n + statSync(f).size, 0);
}

/** Every regular file under `dir`, with its contents. */
export function readAllFiles(dir: string): { path: string; data: Buffer }[] {
  const out: { path: string; data: Buffer }[] = [];
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, e.name);
    if (e.isDirectory()) out.push(...readAllFiles(p));
    else if (e.isFile()) out.push({ path: p, data: readFileSync(p) });
  }
  return out;
}
