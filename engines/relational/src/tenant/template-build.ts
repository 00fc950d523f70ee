// Runs initdb once (in a worker) and captures the cleanly shut down cluster as a template archive.
// The cluster is built on our own filesystem under a throwaway key, then read back.
import { randomBytes } from 'node:crypto';
import { rmSync } from 'node:fs';
import { PGlite } from '@electric-sql/pglite';
import { EncryptionBudget, PageCipher, type PageCipherSource, TenantDir } from '@weftkit/kernel';
import { TenantTemplateInvalid } from '../errors.js';
import { PgDataFs } from './pgdata-fs.js';
import { TEMPLATE_INITDB_PARAMS, TEMPLATE_SETUP_SQL, TENANT_HARDENING_SQL, tenantStartParams } from './pglite-options.js';
import { encodeTemplate, type TemplateEntry } from './template-archive.js';
import type { WasmModule } from './worker-messages.js';

const SCRATCH_TENANT = 'template';
// Not copied into tenants (each file costs a durable create, ~0.7 ms here): files PostgreSQL
// rebuilds at start or removes at shutdown, and free-space and visibility maps, which it treats as
// empty when missing and recreates on demand.
const SKIP = /(^|\/)(pg_internal\.init|postmaster\.pid|postmaster\.opts)$|_(fsm|vm)$/;
const WAL_SEGMENT = /^pg_wal\/[0-9A-F]{24}$/;

export async function buildTemplateArchive(scratchDir: string, setupSql: string, wasmModule?: WasmModule): Promise<Buffer> {
  rmSync(scratchDir, { recursive: true, force: true });
  const key = randomBytes(32);
  const cipher = new PageCipher({ key, tenant: SCRATCH_TENANT, keyVersion: 1, budget: new EncryptionBudget() });
  key.fill(0);
  const ciphers: PageCipherSource = { tenant: SCRATCH_TENANT, currentVersion: 1, cipher: () => cipher };
  try {
    const dir = TenantDir.openSync(scratchDir, SCRATCH_TENANT);
    dir.mkdirSync('pgdata');
    const db = await PGlite.create({
      fs: new PgDataFs({ dir, root: 'pgdata', ciphers }),
      startParams: tenantStartParams(),
      initDbStartParams: [...TEMPLATE_INITDB_PARAMS],
      ...(wasmModule === undefined ? {} : { pgliteWasmModule: wasmModule }),
    });
    for (const sql of TEMPLATE_SETUP_SQL) await db.exec(sql);
    await db.exec(TENANT_HARDENING_SQL);
    if (setupSql.trim() !== '') await db.exec(setupSql);
    await db.close();
    const fs = new PgDataFs({ dir, root: 'pgdata', ciphers });
    try {
      const entries = [...walk(fs, '')];
      // After the shutdown checkpoint the lowest segment holds it; higher ones are recycled spares.
      const wal = entries.filter((e) => WAL_SEGMENT.test(e.path)).map((e) => e.path).sort();
      return encodeTemplate(entries.filter((e) => !SKIP.test(e.path) && (!WAL_SEGMENT.test(e.path) || e.path === wal[0])));
    } finally {
      fs.closeAllSync();
    }
  } finally {
    cipher.destroy();
    rmSync(scratchDir, { recursive: true, force: true });
  }
}

function* walk(fs: PgDataFs, dir: string): Generator<TemplateEntry> {
  for (const name of fs.readdir(dir === '' ? '/' : `/${dir}`).sort()) {
    const path = dir === '' ? name : `${dir}/${name}`;
    const st = fs.lstat(`/${path}`);
    if ((st.mode & 0o170000) === 0o040000) {
      yield { kind: 'dir', path };
      yield* walk(fs, path);
      continue;
    }
    const data = Buffer.alloc(st.size);
    const fd = fs.open(`/${path}`);
    try {
      if (st.size > 0 && fs.read(fd, data, 0, st.size, 0) !== st.size) throw new TenantTemplateInvalid('short read while archiving the template');
    } finally {
      fs.close(fd);
    }
    yield { kind: 'file', path, data };
  }
}
