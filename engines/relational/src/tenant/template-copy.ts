// Builds a new tenant's PGDATA from the template archive: every file re-encrypted under the
// tenant's key in a staging directory, fsynced, then renamed into place, so a crash leaves either
// no PGDATA (the copy is redone) or a complete one.
import { mkdirSync, renameSync, rmSync } from 'node:fs';
import { dirname } from 'node:path';
import { type PageCipherSource, type PageFile, syncDirSync, type TenantDir } from '@weftkit/kernel';
import { PG_PAGE, writeSizePage } from './size-page.js';
import { decodeTemplate } from './template-archive.js';

export async function materializeTemplate(dir: TenantDir, root: string, archive: Buffer, ciphers: PageCipherSource): Promise<void> {
  const staging = `${root}.new`;
  const stagingAbs = dir.resolve(staging);
  rmSync(stagingAbs, { recursive: true, force: true });
  mkdirSync(stagingAbs, { mode: 0o700 });
  const dirs = [stagingAbs];
  const files: PageFile[] = [];
  const scratch = Buffer.alloc(PG_PAGE);
  try {
    for (const e of decodeTemplate(archive)) {
      if (e.kind === 'dir') {
        dirs.push(dir.mkdirSync(`${staging}/${e.path}`));
        continue;
      }
      // Every file and directory is synced below, before the staging directory is renamed in.
      const pf = dir.createPageFileSync(`${staging}/${e.path}`, { ciphers, syncOnCreate: false });
      files.push(pf);
      if (e.data.length === 0) continue;
      writeSizePage(pf, e.data.length, scratch);
      for (let p = 0; p * PG_PAGE < e.data.length; p++) {
        const chunk = e.data.subarray(p * PG_PAGE, (p + 1) * PG_PAGE);
        if (chunk.length === PG_PAGE) {
          pf.writeSync(p + 1, chunk);
        } else {
          scratch.fill(0);
          chunk.copy(scratch);
          pf.writeSync(p + 1, scratch);
        }
      }
    }
    // In parallel on libuv's pool: ~0.3 ms each on this VM, hundreds of files.
    await Promise.all(files.map((f) => f.sync()));
  } finally {
    for (const f of files) f.closeSync();
    scratch.fill(0);
  }
  for (const d of dirs) syncDirSync(d);
  renameSync(stagingAbs, dir.resolve(root));
  syncDirSync(dirname(stagingAbs));
}
