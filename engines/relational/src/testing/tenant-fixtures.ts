// Test support (not used by the engine): one template archive per machine, cached in the OS temp
// directory, so test files do not each run initdb (5–15 s here).
import { randomBytes } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createLocalKeyProvider, Keyring, silentLogger } from '@weftkit/kernel';
import { serialize } from 'pg-protocol';
import { BackendCode } from '../protocol/backend-codes.js';
import { readDataRow, readErrorFields, splitBackendFrames } from '../protocol/backend-reader.js';
import { PGLITE_VERSION } from '../tenant/pglite-options.js';
import { buildTemplateArchive } from '../tenant/template-build.js';
import { TemplateStore } from '../tenant/template-store.js';

const CACHE = join(tmpdir(), `weftkit-test-template-${PGLITE_VERSION}-v1.bin`);

export async function cachedTemplateArchive(): Promise<Buffer> {
  if (existsSync(CACHE)) return readFileSync(CACHE);
  const scratch = mkdtempSync(join(tmpdir(), 'wk-tpl-build-'));
  try {
    const archive = await buildTemplateArchive(scratch, '');
    const tmp = `${CACHE}.${process.pid}`;
    writeFileSync(tmp, archive);
    renameSync(tmp, CACHE);
    return archive;
  } finally {
    rmSync(scratch, { recursive: true, force: true });
  }
}

/** Stores the cached template in `dataDir` as the manager would after building it. */
export async function seedTemplate(dataDir: string, keyring: Keyring): Promise<void> {
  const archive = await cachedTemplateArchive();
  await new TemplateStore({ dataDir, keyring, logger: silentLogger, setupSql: '', build: async () => archive }).get();
}

export async function openTestKeyring(dataDir: string, key: string = randomBytes(32).toString('base64')): Promise<Keyring> {
  const provider = createLocalKeyProvider({ kind: 'env', key }, { dataDir, logger: silentLogger });
  return Keyring.open({ dataDir, provider });
}

export interface QueryResult {
  readonly status: string | null;
  readonly rows: (string | null)[][];
  /** SQLSTATEs of ErrorResponses. */
  readonly errors: string[];
  readonly bytes: number;
}

/** Sends a simple Query through `exchange` and reads the answer with the protocol layer's reader. */
export async function simpleQuery(
  exchange: (m: Uint8Array, onData: (c: Uint8Array) => void) => Promise<string | null>,
  sql: string,
): Promise<QueryResult> {
  const chunks: Buffer[] = [];
  const status = await exchange(serialize.query(sql), (c) => chunks.push(Buffer.from(c)));
  const rows: (string | null)[][] = [];
  const errors: string[] = [];
  const all = Buffer.concat(chunks);
  for (const f of splitBackendFrames(all)) {
    if (f.code === BackendCode.ErrorResponse) errors.push(readErrorFields(f).code);
    if (f.code === BackendCode.DataRow) rows.push(readDataRow(f));
  }
  return { status, rows, errors, bytes: all.length };
}
