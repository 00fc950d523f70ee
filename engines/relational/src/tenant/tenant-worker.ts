// Worker thread entry: one tenant's PGlite on its encrypted PGDATA, driven by messages from
// worker-client.ts. Storage calls are synchronous here, off the main event loop.
import { existsSync } from 'node:fs';
import { parentPort, type TransferListItem, workerData } from 'node:worker_threads';
import { PGlite } from '@electric-sql/pglite';
import { BaseFilesystem } from '@electric-sql/pglite/basefs';
import { PageAuthenticationFailed, PageFileCorrupt, TenantDir } from '@weftkit/kernel';
import { GrantedBudgets } from './encryption-grant.js';
import { PgDataFs } from './pgdata-fs.js';
import { ReencryptJob } from './reencrypt-job.js';
import { tenantStartParams } from './pglite-options.js';
import { ResponseScanner } from './response-scanner.js';
import { ANS_CRASHED, ANS_FATAL, LaneWorker } from './exchange-lane.js';
import { buildTemplateArchive } from './template-build.js';
import { materializeTemplate } from './template-copy.js';
import type { TransactionStatus } from './tenant-backend.js';
import type { ToMain, ToWorker, WorkerData, WorkerOpen, WorkerRekey } from './worker-messages.js';
import { WorkerCiphers } from './worker-ciphers.js';

/** Responses are posted in batches of about this size (PGlite streams ~8 KiB chunks). */
const BATCH_BYTES = 64 * 1024;
export const PGDATA_DIR = 'pgdata';

const port = parentPort!;
const { wasmModule, lane: laneBuffer } = workerData as WorkerData;
const lane = laneBuffer === undefined ? undefined : new LaneWorker(laneBuffer);
const post = (m: ToMain, transfer?: TransferListItem[]): void => port.postMessage(m, transfer ?? []);

let db: PGlite | undefined;
let fs: PgDataFs | undefined;
let ciphers: WorkerCiphers | undefined;
let budgets: GrantedBudgets | undefined;
let job: ReencryptJob | undefined;
/** Exchanges running in PGlite: re-encryption slices wait for none. */
let inflight = 0;
/**
 * Whether PGlite must call the FS's syncToFs after each exchange. Durability comes from PostgreSQL's
 * own fsync calls (the stream_ops.fsync hook in pgdata-fs.ts); PGlite's per-call syncToFs only
 * awaits a mutex around the FS's hook, a no-op unless the FS overrides it (measured ~12 µs a call).
 */
let syncAfterExchange = true;
const scanner = new ResponseScanner();

port.on('message', (m: ToWorker) => {
  lane?.received();
  void handle(m).catch((err: unknown) => {
    post({ op: 'failed', code: codeOf(err), message: String((err as Error)?.message ?? err) });
  });
});
post({ op: 'ready' });

async function handle(m: ToWorker): Promise<void> {
  switch (m.op) {
    case 'open':
      await open(m);
      post({ op: 'opened', heapBytes: heapBytes() });
      return;
    case 'x':
      lane?.busy();
      exchange(m.id, m.bytes);
      return;
    case 'rekey': {
      const r = rekey(m);
      post({ op: 'rekeyed', files: r.files, bytes: r.bytes });
      return;
    }
    case 'forget-keys':
      for (const v of m.versions) ciphers?.forget(v);
      return;
    case 'close':
      await close();
      post({ op: 'closed' });
      return;
    case 'build-template': {
      const bytes = await buildTemplateArchive(m.scratchDir, m.setupSql, wasmModule);
      const out = new Uint8Array(bytes.length);
      out.set(bytes);
      post({ op: 'template', bytes: out }, [out.buffer]);
      return;
    }
  }
}

async function open(m: WorkerOpen): Promise<void> {
  const keys = new Map<number, Buffer>();
  for (const k of m.keys) {
    keys.set(k.version, Buffer.from(new Uint8Array(k.key)));
    new Uint8Array(k.key).fill(0);
  }
  budgets = new GrantedBudgets(m.grant, (version) => post({ op: 'refill', version }));
  ciphers = new WorkerCiphers(m.tenant, m.currentVersion, keys, budgets);
  const dir = TenantDir.openSync(m.dataDir, m.tenant);
  if (!existsSync(dir.resolve(PGDATA_DIR))) {
    if (m.template === undefined) throw new OpenError('WK_REL_TENANT_OPEN_FAILED', 'tenant has no data and no template was given');
    await materializeTemplate(dir, PGDATA_DIR, Buffer.from(m.template), ciphers);
  }
  fs = new PgDataFs({
    dir,
    root: PGDATA_DIR,
    ciphers,
    onError: (op, path, errno, err) =>
      post({ op: 'log', level: 'warn', message: 'tenant storage error', fields: { fsOp: op, path, errno, code: codeOf(err), error: String(err) } }),
    ...(m.countFsyncs === true ? { onFsync: () => post({ op: 'fsync' }) } : {}),
  });
  const leftovers = fs.removeRekeyLeftovers();
  if (leftovers > 0) post({ op: 'log', level: 'warn', message: 'removed unfinished re-encryption copies left by a crash', fields: { files: leftovers } });
  // Authenticate before PGlite mounts anything: a wrong key must be an error here, not a wasm crash.
  try {
    fs.verifySync('/global/pg_control');
    fs.verifySync('/PG_VERSION');
  } catch (err) {
    const cause = (err as { cause?: unknown }).cause;
    if (cause instanceof PageAuthenticationFailed || cause instanceof PageFileCorrupt) {
      throw new OpenError('WK_REL_TENANT_WRONG_KEY', 'tenant data does not authenticate under its key');
    }
    throw err;
  }
  // A WAL page whose write a kill cut short is put back from the tail journal (wal-tail.ts).
  const repaired = fs.repairWalTail();
  if (repaired !== undefined) post({ op: 'log', level: 'warn', message: 'restored a write-ahead log page cut short by a crash', fields: { file: repaired.path, page: repaired.page } });
  syncAfterExchange = fs.syncToFs !== BaseFilesystem.prototype.syncToFs;
  db = await PGlite.create({
    fs,
    startParams: tenantStartParams(),
    ...(wasmModule === undefined ? {} : { pgliteWasmModule: wasmModule }),
  });
  const pgFs = fs;
  const c = ciphers;
  job = new ReencryptJob({
    fs: pgFs,
    root: dir.resolve(PGDATA_DIR),
    currentVersion: () => c.currentVersion,
    busy: () => inflight > 0,
    report: (p) => post({ op: 'rekey-progress', ...p }),
    ...(m.reencryptBytesPerSecond === undefined ? {} : { bytesPerSecond: m.reencryptBytesPerSecond }),
  });
  // With one key version every file that opened is under it; with more, resume a rotation.
  if (m.keys.length > 1) job.start();
}

function rekey(m: WorkerRekey): { files: number; bytes: number } {
  const key = Buffer.from(new Uint8Array(m.key.key));
  new Uint8Array(m.key.key).fill(0);
  if (ciphers === undefined || budgets === undefined || job === undefined) {
    key.fill(0);
    throw new OpenError('WK_REL_TENANT_BACKEND_CLOSED', 'tenant is not open');
  }
  budgets.addChannel(m.grant);
  ciphers.addKey(m.key.version, key, m.currentVersion);
  return job.start(m.bytesPerSecond);
}

function exchange(id: number, bytes: Uint8Array): void {
  scanner.reset();
  lane?.begin();
  if (db === undefined) {
    answer(id, null, ANS_CRASHED);
    return;
  }
  inflight++;
  db.execProtocolRawStream(bytes, { onRawData, syncToFs: syncAfterExchange }).then(
    () => {
      inflight--;
      answer(id, scanner.status, scanner.fatal ? ANS_FATAL : 0);
    },
    () => {
      inflight--;
      answer(id, null, ANS_CRASHED);
    },
  );

  function onRawData(chunk: Uint8Array): void {
    scanner.push(chunk);
    if (lane?.push(chunk) === true) return;
    if (lane?.collecting === true) {
      // Too big for the lane: what it holds so far streams by port, with the rest.
      const held = lane.spill();
      if (held !== undefined) addPart(held);
    }
    addPart(chunk.slice());
    if (answerBytes >= BATCH_BYTES) {
      const b = takeParts()!;
      post({ op: 'd', id, b }, [b.buffer]);
    }
  }
}

let answerParts: Uint8Array<ArrayBuffer>[] = [];
let answerBytes = 0;

function addPart(p: Uint8Array<ArrayBuffer>): void {
  answerParts.push(p);
  answerBytes += p.length;
}

function takeParts(): Uint8Array<ArrayBuffer> | undefined {
  if (answerBytes === 0) return undefined;
  // One chunk (most answers): its copy is already a buffer of its own, ready to transfer.
  let out = answerParts[0]!;
  if (answerParts.length > 1) {
    out = new Uint8Array(answerBytes);
    let at = 0;
    for (const p of answerParts) {
      out.set(p, at);
      at += p.length;
    }
  }
  answerParts = [];
  answerBytes = 0;
  return out;
}

/** Sends the end of an exchange (by the lane when its answer is there), then waits on the lane for the next. */
function answer(id: number, status: TransactionStatus | null, flags: number): void {
  let onLane: boolean;
  if (lane?.collecting === true) {
    onLane = lane.finish(id, status, flags, heapBytes());
  } else {
    const b = takeParts();
    const crashed = (flags & ANS_CRASHED) !== 0;
    post(
      {
        op: 'r',
        id,
        status,
        ...(crashed ? { crashed } : { fatal: (flags & ANS_FATAL) !== 0, heapBytes: heapBytes() }),
        ...(b ? { b } : {}),
      },
      b ? [b.buffer] : [],
    );
    onLane = lane?.finishedByPort() ?? false;
  }
  if (!onLane) return;
  const next = lane!.next();
  if (next !== undefined) exchange(next.id, next.bytes);
}

async function close(): Promise<void> {
  job?.stop();
  job = undefined;
  try {
    if (db !== undefined && !db.closed) await db.close();
  } finally {
    db = undefined;
    fs?.closeAllSync();
    ciphers?.destroy();
  }
}

function heapBytes(): number {
  try {
    return (db as unknown as { Module: { HEAPU8: Uint8Array } } | undefined)?.Module.HEAPU8.length ?? 0;
  } catch {
    return 0;
  }
}

class OpenError extends Error {
  readonly code: string;
  constructor(code: string, message: string) {
    super(message);
    this.code = code;
  }
}

function codeOf(err: unknown): string {
  const code = (err as { code?: unknown } | null)?.code;
  if (typeof code === 'string') return code;
  const cause = (err as { cause?: { code?: unknown } } | null)?.cause?.code;
  return typeof cause === 'string' ? cause : 'WK_REL_TENANT_OPEN_FAILED';
}
