// Offline DEK rotation for kv data: every log file of the tenant is copied page by page under the
// current DEK (`<name>.tmp`, synced, renamed over the original), then old DEK versions no file uses
// are retired. Page contents do not depend on the key, so the copy is the engine's format as is.
import { existsSync, renameSync } from 'node:fs';
import { EngineUnknown, TenantFilesCorrupt } from '../errors.js';
import { type Keyring, PageAuthenticationFailed, type PageFile, syncDirSync, TenantDir, tenantDirPath } from '@weftkit/kernel';

const KV_LOG_FILE = /^\d{10}\.(seg|cmp)$/;

export interface OfflineReencryption {
  readonly filesRewritten: number;
  readonly retiredVersions: readonly number[];
}

/** Which engine wrote the tenant's files: 'kv', 'none' (no files yet), or throws `EngineUnknown`. */
export function tenantEngine(dataDir: string, tenant: string): 'kv' | 'none' {
  if (!existsSync(tenantDirPath(dataDir, tenant))) return 'none';
  const files = TenantDir.openSync(dataDir, tenant).listFilesSync();
  if (files.length === 0) return 'none';
  if (files.every((f) => KV_LOG_FILE.test(f) || (f.endsWith('.tmp') && KV_LOG_FILE.test(f.slice(0, -4))))) return 'kv';
  throw new EngineUnknown('cannot tell offline which engine wrote this tenant\'s files; start its engine and run the command while it runs');
}

/** Rewrites every kv log file of `tenant` under its current DEK, then retires unused old versions. */
export async function reencryptKvTenant(keyring: Keyring, dataDir: string, tenant: string): Promise<OfflineReencryption> {
  const ciphers = await keyring.tenantCiphers(tenant);
  let rewritten = 0;
  const inUse = new Set<number>([ciphers.currentVersion]);
  try {
    if (existsSync(tenantDirPath(dataDir, tenant))) {
      const dir = TenantDir.openSync(dataDir, tenant);
      const files = dir.listFilesSync().filter((f) => KV_LOG_FILE.test(f));
      const lastSeg = files.filter((f) => f.endsWith('.seg')).at(-1);
      for (const name of files) {
        const src = dir.openPageFileSync(name, { ciphers });
        try {
          if (src.keyVersion === ciphers.currentVersion) continue;
          const out = dir.createPageFileSync(`${name}.tmp`, { ciphers, pageSize: src.pageSize, syncOnCreate: false });
          try {
            copyPages(src, out, name === lastSeg);
            out.syncSync();
          } finally {
            out.closeSync();
          }
          renameSync(dir.resolve(`${name}.tmp`), dir.resolve(name));
          syncDirSync(dir.path);
          rewritten++;
        } finally {
          src.closeSync();
        }
      }
      for (const name of files) {
        const f = dir.openPageFileSync(name, { ciphers });
        inUse.add(f.keyVersion);
        f.closeSync();
      }
    }
  } finally {
    ciphers.destroy();
  }
  const retired: number[] = [];
  const info = keyring.listTenants().find((t) => t.tenant === tenant);
  for (const v of info?.versions ?? []) {
    if (!inUse.has(v)) {
      keyring.retireDekVersion(tenant, v);
      retired.push(v);
    }
  }
  return { filesRewritten: rewritten, retiredVersions: retired };
}

/** A torn tail (pages that fail authentication, none authentic after them) of the newest segment is dropped, as the engine would. */
function copyPages(src: PageFile, out: PageFile, tolerateTail: boolean): void {
  for (let p = 0; p < src.pageCount; p++) {
    let page: Buffer | null;
    try {
      page = src.readSync(p);
    } catch (err) {
      if (!(err instanceof PageAuthenticationFailed)) throw err;
      if (!tolerateTail || authenticAfter(src, p + 1)) throw new TenantFilesCorrupt('a log file fails authentication before its end; start the engine to examine it');
      return;
    }
    if (page === null) return;
    out.writeSync(p, page);
    page.fill(0);
  }
}

function authenticAfter(src: PageFile, from: number): boolean {
  for (let p = from; p < src.pageCount; p++) {
    try {
      src.readSync(p)?.fill(0);
      return true;
    } catch {}
  }
  return false;
}
