// Opens tenants on demand, each in its own worker, and keeps them in an LRU bounded by a count and
// a memory budget; idle, unheld tenants are closed after a timeout. Held tenants are never evicted.
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { assertTenantName, type Keyring, type Logger, silentLogger, tenantDirPath } from '@weftkit/kernel';
import {
  TenantBackendClosed,
  TenantBackendCrashed,
  TenantBackendTimeout,
  TenantCapacityExhausted,
  TenantKeyMissing,
  TenantManagerClosed,
  TenantShredded,
} from '../errors.js';
import { answerGrant, createGrantChannel, type GrantChannel, INITIAL_GRANT, REFILL_GRANT } from './encryption-grant.js';
import type {
  DekRotation,
  TenantBackend,
  TenantKeyAdmin,
  TenantKeyStatus,
  TenantManager,
  TenantManagerStats,
  TenantShredResult,
  TransactionStatus,
} from './tenant-backend.js';
import { DEFAULT_REENCRYPT_BYTES_PER_SECOND } from './reencrypt-job.js';
import { TenantKeys } from './tenant-key-admin.js';
import { TemplateStore } from './template-store.js';
import { compilePgliteWasm } from './wasm-module.js';
import { TenantWorker } from './worker-client.js';
import type { WasmModule, WorkerData } from './worker-messages.js';

export interface TenantManagerOptions {
  /** WEFTKIT_DATA_DIR: holds keyring.json, tenants/<name>/pgdata and relational/template-*.bin. */
  readonly dataDir: string;
  readonly keyring: Keyring;
  readonly logger?: Logger;
  /** WEFTKIT_MAX_OPEN_TENANTS. */
  readonly maxOpenTenants: number;
  /** Memory the open tenants may use together (wasm heaps + per-worker overhead); unbounded if omitted. */
  readonly memoryBudgetBytes?: number;
  /** Unheld tenants are closed after this long without use (default 300). */
  readonly idleCloseSeconds?: number;
  /** How long `open` waits for a slot when every open tenant is held (default 30). */
  readonly openTimeoutSeconds?: number;
  /** An exchange running longer is treated as a hung backend: worker terminated (default 600; 0 = never). */
  readonly backendTimeoutSeconds?: number;
  /** Budget for closing every tenant in `close()` (default 8000 ms; the engine's SIGTERM deadline is 10 s). */
  readonly closeDeadlineMs?: number;
  /** SQL run once in the template cluster (e.g. REVOKE hardening) so every new tenant starts with it. */
  readonly templateSetupSql?: string;
  /** Keep one started worker ready so an open skips the worker start (default true). */
  readonly spareWorker?: boolean;
  /** Precompiled pglite.wasm shared by every worker (default: compiled once by the manager). */
  readonly wasmModule?: WasmModule;
  /** Default rate of background re-encryption after a DEK rotation (default 32 MiB/s). */
  readonly reencryptBytesPerSecond?: number;
}

/** Per-worker memory beside the wasm heap (V8 isolate, modules, buffers); measured ~25–35 MB. */
const WORKER_OVERHEAD_BYTES = 32 * 2 ** 20;
/** Assumed size of a tenant not opened yet (shared_buffers=8MB: wasm heap ~130–150 MB). */
const NEW_TENANT_BYTES = 160 * 2 ** 20;
const PGDATA_DIR = 'pgdata';

interface Entry {
  readonly tenant: string;
  state: 'opening' | 'open' | 'closing' | 'gone';
  /** The worker stopped on its own (crash, PANIC, hang), not by a close. */
  crashed: boolean;
  ready: Promise<void>;
  closed: Promise<void> | undefined;
  worker: TenantWorker | undefined;
  holds: number;
  lastUsed: number;
  idleTimer: NodeJS.Timeout | undefined;
  backend: TenantBackend;
  /** Crypto-shredded: every exchange fails `TenantShredded`. */
  shredded: boolean;
  /** Encryption grants handed to the worker; a version is served by the first that lists it. */
  grants: GrantChannel[];
}

export function createTenantManager(options: TenantManagerOptions): TenantManager & TenantKeyAdmin {
  return new WorkerTenantManager(options);
}

class WorkerTenantManager implements TenantManager, TenantKeyAdmin {
  readonly #o: TenantManagerOptions;
  readonly #log: Logger;
  readonly #entries = new Map<string, Entry>();
  readonly #templates: TemplateStore;
  readonly #workerData: Promise<WorkerData>;
  #waiters: (() => void)[] = [];
  #spare: Promise<TenantWorker> | undefined;
  readonly #keys: TenantKeys;
  #closed = false;
  #created = 0;
  #evicted = 0;

  constructor(options: TenantManagerOptions) {
    if (!Number.isInteger(options.maxOpenTenants) || options.maxOpenTenants < 1) throw new RangeError('maxOpenTenants must be at least 1');
    this.#o = options;
    this.#log = options.logger ?? silentLogger;
    this.#workerData = (options.wasmModule === undefined ? compilePgliteWasm() : Promise.resolve(options.wasmModule)).then(
      (wasmModule) => ({ wasmModule }),
      (err: unknown) => {
        this.#log.warn('could not precompile pglite.wasm; each worker compiles its own', { error: String(err) });
        return {};
      },
    );
    this.#templates = new TemplateStore({
      dataDir: options.dataDir,
      keyring: options.keyring,
      logger: this.#log,
      setupSql: options.templateSetupSql ?? '',
      build: async (scratchDir, sql) => {
        const w = await TenantWorker.spawn(await this.#workerData);
        try {
          return await w.buildTemplate(scratchDir, sql);
        } finally {
          await w.terminate();
        }
      },
    });
    this.#keys = new TenantKeys({
      keyring: options.keyring,
      reencryptBytesPerSecond: options.reencryptBytesPerSecond ?? DEFAULT_REENCRYPT_BYTES_PER_SECOND,
      dataDir: options.dataDir,
      pgdataDir: PGDATA_DIR,
      log: this.#log,
      isClosed: () => this.#closed,
      open: (tenant) => this.open(tenant),
      entry: (tenant) => this.#entries.get(tenant),
      kill: (tenant) => this.#killAll(tenant),
    });
    this.#refillSpare();
    this.#keys.resumeReencryption();
  }

  stats(): TenantManagerStats {
    let open = 0;
    let opening = 0;
    for (const e of this.#entries.values()) {
      if (e.state === 'open') open++;
      else if (e.state === 'opening') opening++;
    }
    return { open, opening, created: this.#created, evicted: this.#evicted };
  }

  async open(tenant: string): Promise<{ readonly backend: TenantBackend; release(): void }> {
    assertTenantName(tenant);
    const deadline = Date.now() + (this.#o.openTimeoutSeconds ?? 30) * 1000;
    for (;;) {
      if (this.#closed) throw new TenantManagerClosed('tenant manager is closed');
      if (this.#keys.isShredded(tenant)) throw new TenantShredded('this tenant was crypto-shredded');
      const e = this.#entries.get(tenant);
      if (e !== undefined && (e.state === 'opening' || e.state === 'open')) return this.#hold(e);
      if (e !== undefined) {
        await e.closed;
        continue;
      }
      if (this.#makeRoom()) return this.#hold(this.#start(tenant));
      await this.#waitForRoom(deadline);
    }
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    for (const w of this.#waiters.splice(0)) w();
    const spare = this.#spare;
    this.#spare = undefined;
    const deadline = this.#o.closeDeadlineMs ?? 8000;
    await Promise.all([
      ...[...this.#entries.values()].map((e) => this.#closeEntry(e, deadline)),
      spare?.then((w) => w.terminate()).catch(() => {}),
    ]);
  }

  // --- key operations (TenantKeyAdmin, in tenant-key-admin.ts) ------------------------------

  get reencryptedBytes(): number {
    return this.#keys.reencryptedBytes;
  }

  rotateDek(tenant: string, options?: { readonly bytesPerSecond?: number }): Promise<DekRotation> {
    return this.#keys.rotateDek(tenant, options);
  }

  shred(tenant: string): Promise<TenantShredResult> {
    return this.#keys.shred(tenant);
  }

  keyStatus(): TenantKeyStatus[] {
    return this.#keys.keyStatus();
  }

  reencryptRemaining(): { readonly tenant: string; readonly files: number; readonly bytes: number }[] {
    return this.#keys.reencryptRemaining();
  }

  async #killAll(tenant: string): Promise<void> {
    for (let e = this.#entries.get(tenant); e !== undefined; e = this.#entries.get(tenant)) await this.#kill(e);
  }

  /** Shred: fails every exchange of the tenant with `TenantShredded` and stops its worker at once (no checkpoint: its data goes). */
  async #kill(e: Entry): Promise<void> {
    e.shredded = true;
    clearTimeout(e.idleTimer);
    e.state = 'gone';
    await e.worker?.terminate();
    // A boot under way notices the state and stops its worker itself.
    await e.ready.catch(() => undefined);
    await e.worker?.terminate();
    await e.closed?.catch(() => undefined);
    if (this.#entries.get(e.tenant) === e) this.#entries.delete(e.tenant);
    this.#wake();
  }

  // --- internals ---------------------------------------------------------------------------

  async #hold(e: Entry): Promise<{ readonly backend: TenantBackend; release(): void }> {
    e.holds++;
    if (e.state !== 'open') {
      try {
        await e.ready;
      } catch (err) {
        this.#unhold(e);
        throw err;
      }
    }
    if (e.shredded) {
      this.#unhold(e);
      throw new TenantShredded('this tenant was crypto-shredded');
    }
    let released = false;
    return {
      backend: e.backend,
      release: () => {
        if (released) return;
        released = true;
        this.#unhold(e);
      },
    };
  }

  #unhold(e: Entry): void {
    e.holds = Math.max(0, e.holds - 1);
    e.lastUsed = Date.now();
    if (e.holds > 0 || e.state !== 'open') return;
    // One timer per idle stretch, not per hold (a session holds its tenant once per transaction):
    // when it fires early because the tenant was used meanwhile, it waits out the rest.
    if (e.idleTimer === undefined) this.#idleCheck(e, (this.#o.idleCloseSeconds ?? 300) * 1000);
    this.#wake();
  }

  #idleCheck(e: Entry, delayMs: number): void {
    e.idleTimer = setTimeout(() => {
      e.idleTimer = undefined;
      if (e.holds > 0 || e.state !== 'open') return;
      const idleMs = (this.#o.idleCloseSeconds ?? 300) * 1000;
      // A re-encryption runs only while the tenant is open: let it finish first.
      if (this.#keys.isReencrypting(e.tenant)) {
        this.#idleCheck(e, idleMs);
        return;
      }
      const left = idleMs - (Date.now() - e.lastUsed);
      if (left > 0) this.#idleCheck(e, left);
      else void this.#closeEntry(e, this.#o.closeDeadlineMs ?? 8000);
    }, delayMs);
    e.idleTimer.unref();
  }

  /** True when a new tenant may start now; evicts idle tenants (LRU first) to get there. */
  #makeRoom(): boolean {
    for (;;) {
      const live = [...this.#entries.values()].filter((e) => e.state === 'opening' || e.state === 'open');
      const budget = this.#o.memoryBudgetBytes;
      const used = live.reduce((sum, e) => sum + WORKER_OVERHEAD_BYTES + (e.worker?.heapBytes || NEW_TENANT_BYTES), 0);
      const overCount = live.length >= this.#o.maxOpenTenants;
      const overMemory = budget !== undefined && live.length > 0 && used + NEW_TENANT_BYTES + WORKER_OVERHEAD_BYTES > budget;
      if (!overCount && !overMemory) return true;
      const victim = live.filter((e) => e.state === 'open' && e.holds === 0).sort((a, b) => a.lastUsed - b.lastUsed)[0];
      if (victim === undefined) return false;
      this.#evicted++;
      void this.#closeEntry(victim, this.#o.closeDeadlineMs ?? 8000);
    }
  }

  #waitForRoom(deadline: number): Promise<void> {
    return new Promise((resolve, reject) => {
      const left = deadline - Date.now();
      if (left <= 0) {
        reject(new TenantCapacityExhausted('every open tenant is in use; try again later'));
        return;
      }
      const timer = setTimeout(() => {
        this.#waiters = this.#waiters.filter((w) => w !== wake);
        reject(new TenantCapacityExhausted('every open tenant is in use; try again later'));
      }, left);
      const wake = (): void => {
        clearTimeout(timer);
        resolve();
      };
      this.#waiters.push(wake);
    });
  }

  #wake(): void {
    if (this.#waiters.length === 0) return;
    for (const w of this.#waiters.splice(0)) w();
  }

  #start(tenant: string): Entry {
    const e: Entry = {
      tenant,
      state: 'opening',
      crashed: false,
      ready: Promise.resolve(),
      closed: undefined,
      worker: undefined,
      holds: 0,
      lastUsed: Date.now(),
      idleTimer: undefined,
      backend: { tenant, exchange: (m, onData) => this.#exchange(e, m, onData) },
      shredded: false,
      grants: [],
    };
    this.#entries.set(tenant, e);
    e.ready = this.#boot(e).then(
      () => {
        if (e.state === 'opening') e.state = 'open';
        if (e.holds === 0) this.#unhold(e);
      },
      (err: unknown) => {
        e.state = 'gone';
        if (this.#entries.get(tenant) === e) this.#entries.delete(tenant);
        this.#wake();
        throw e.shredded ? new TenantShredded('this tenant was crypto-shredded', { cause: err }) : err;
      },
    );
    e.ready.catch(() => {});
    return e;
  }

  async #boot(e: Entry): Promise<void> {
    const { keyring, dataDir } = this.#o;
    const t0 = performance.now();
    const hasData = existsSync(join(tenantDirPath(dataDir, e.tenant), PGDATA_DIR));
    if (!keyring.hasTenant(e.tenant)) {
      if (hasData) throw new TenantKeyMissing('tenant has data but no data key');
      try {
        await keyring.createTenant(e.tenant);
      } catch (err) {
        // The keyring's tombstone for a shredded name (kernel error, already 3D000): one code for clients.
        if ((err as { code?: unknown }).code === 'WK_CRYPTO_TENANT_SHREDDED') {
          throw new TenantShredded('this tenant was crypto-shredded', { cause: err });
        }
        throw err;
      }
      this.#created++;
    }
    const template = hasData ? undefined : await this.#templates.get();
    const exported = await keyring.exportTenantKeys(e.tenant);
    // A rotation cut short by a restart resumes at the rate it was started with.
    const reencryptRate = keyring.reencryptRate(e.tenant) ?? this.#o.reencryptBytesPerSecond;
    const keys = exported.keys.map((k) => {
      const key = new ArrayBuffer(k.key.length);
      new Uint8Array(key).set(k.key);
      k.key.fill(0);
      return { version: k.version, key };
    });
    const grant = createGrantChannel(keys.map((k) => k.version));
    e.grants = [grant];
    const reserve = (version: number): number => keyring.reserveEncryptions(e.tenant, version, REFILL_GRANT);
    answerGrant(grant, exported.currentVersion, (v) => keyring.reserveEncryptions(e.tenant, v, INITIAL_GRANT));
    const tKeys = performance.now();
    const worker = await this.#takeWorker();
    const tWorker = performance.now();
    e.worker = worker;
    worker.events = {
      onRefill: (version) => answerGrant(e.grants.find((g) => g.versions.includes(version)) ?? grant, version, reserve),
      onRekeyProgress: (p) => this.#keys.onRekeyProgress(e, p),
      onLog: (level, message, fields) => this.#log[level](message, { tenant: e.tenant, ...fields }),
      onExit: () => this.#onWorkerExit(e, worker),
    };
    if (this.#closed || e.state !== 'opening') {
      await worker.terminate();
      throw new TenantManagerClosed('tenant manager is closed');
    }
    try {
      await worker.open({
        op: 'open',
        dataDir,
        tenant: e.tenant,
        currentVersion: exported.currentVersion,
        keys,
        grant: grant satisfies GrantChannel,
        ...(template === undefined ? {} : { template }),
        ...(reencryptRate === undefined ? {} : { reencryptBytesPerSecond: reencryptRate }),
      });
    } catch (err) {
      await worker.terminate();
      throw err;
    }
    this.#log.info(template === undefined ? 'tenant opened' : 'tenant created from template', {
      tenant: e.tenant,
      ms: Math.round(performance.now() - t0),
      prepareMs: Math.round(tKeys - t0),
      workerMs: Math.round(tWorker - tKeys),
      startMs: Math.round(performance.now() - tWorker),
    });
  }

  async #takeWorker(): Promise<TenantWorker> {
    const spare = this.#spare;
    this.#spare = undefined;
    let w: TenantWorker | undefined;
    if (spare !== undefined) w = await spare.catch(() => undefined);
    if (w === undefined || w.exited) w = await TenantWorker.spawn(await this.#workerData);
    w.ref(true);
    this.#refillSpare();
    return w;
  }

  #refillSpare(): void {
    if (this.#o.spareWorker === false || this.#closed || this.#spare !== undefined) return;
    this.#spare = this.#workerData.then(async (d) => {
      const spare = await TenantWorker.spawn(d);
      spare.ref(false);
      return spare;
    });
    this.#spare.catch(() => {});
  }

  async #exchange(e: Entry, messages: Uint8Array, onData: (chunk: Uint8Array) => void): Promise<TransactionStatus | null> {
    if (e.shredded) throw new TenantShredded('terminating connection: the tenant was crypto-shredded');
    if (e.crashed) throw new TenantBackendCrashed('tenant backend stopped');
    if (e.state !== 'open' || e.worker === undefined) throw new TenantBackendClosed('tenant backend is closed');
    e.lastUsed = Date.now();
    try {
      return await e.worker.exchange(messages, onData, (this.#o.backendTimeoutSeconds ?? 600) * 1000);
    } catch (err) {
      if (e.shredded) throw new TenantShredded('terminating connection: the tenant was crypto-shredded', { cause: err });
      // The worker is being terminated: forget it now so the next open starts a fresh one.
      if (err instanceof TenantBackendCrashed || err instanceof TenantBackendTimeout) this.#markCrashed(e);
      throw err;
    }
  }

  #markCrashed(e: Entry): void {
    if (e.state !== 'open' && e.state !== 'opening') return;
    this.#log.warn('tenant backend stopped unexpectedly; it will be reopened', { tenant: e.tenant });
    e.state = 'gone';
    e.crashed = true;
    clearTimeout(e.idleTimer);
    // The entry stays until the worker is gone: a reopen must not run beside a dying instance.
    e.closed ??= (async () => {
      await e.worker?.terminate();
      if (this.#entries.get(e.tenant) === e) this.#entries.delete(e.tenant);
      this.#wake();
    })();
  }

  #onWorkerExit(e: Entry, worker: TenantWorker): void {
    if (e.worker === worker) this.#markCrashed(e);
  }

  #closeEntry(e: Entry, deadlineMs: number): Promise<void> {
    if (e.closed !== undefined) return e.closed;
    clearTimeout(e.idleTimer);
    // Synchronously, so #makeRoom does not pick the same victim twice.
    if (e.state === 'open') e.state = 'closing';
    e.closed = (async () => {
      await e.ready.catch(() => {});
      if (e.state === 'open' || e.state === 'opening') e.state = 'closing';
      const t0 = performance.now();
      await e.worker?.close(deadlineMs);
      e.state = 'gone';
      if (this.#entries.get(e.tenant) === e) this.#entries.delete(e.tenant);
      this.#log.info('tenant closed', { tenant: e.tenant, ms: Math.round(performance.now() - t0) });
      this.#wake();
    })();
    return e.closed;
  }
}
