// Main-thread handle of one tenant worker (tenant-worker.ts): request/response over postMessage,
// streamed response batches, encryption-budget refills, termination when it crashes or hangs.
import { Worker } from 'node:worker_threads';
import {
  TenantBackendClosed,
  TenantBackendCrashed,
  TenantBackendTimeout,
  TenantOpenFailed,
  TenantTemplateInvalid,
  TenantWalUnreadable,
  TenantWrongKey,
} from '../errors.js';
import { ANS_CRASHED, ANS_FATAL, createLane, type LaneAnswer, LaneMain } from './exchange-lane.js';
import type { TransactionStatus } from './tenant-backend.js';
import type { ReencryptProgress, ToMain, ToWorker, WorkerData, WorkerOpen, WorkerRekey } from './worker-messages.js';

const FROM_SOURCE = import.meta.url.endsWith('.ts');
const WORKER_URL = new URL(`./tenant-worker${FROM_SOURCE ? '.ts' : '.js'}`, import.meta.url);

function startWorker(data: WorkerData): Worker {
  if (!FROM_SOURCE) return new Worker(WORKER_URL, { workerData: data });
  // Running from TypeScript sources (tests under tsx): Node 20 does not apply tsx's loader hooks to
  // a worker's entry module, so the worker registers them itself first.
  const boot = `import('tsx/esm/api').then((m) => { m.register(); return import(${JSON.stringify(WORKER_URL.href)}); })`;
  return new Worker(boot, { eval: true, workerData: data });
}

interface Pending {
  readonly onData: (chunk: Uint8Array) => void;
  readonly resolve: (status: TransactionStatus | null) => void;
  readonly reject: (err: Error) => void;
  /** performance.now() after which the backend counts as hung. */
  readonly deadline: number;
}

export interface WorkerEvents {
  onRefill?: (version: number) => void;
  onRekeyProgress?: (progress: ReencryptProgress) => void;
  onLog?: (level: 'warn' | 'error', message: string, fields: Record<string, unknown>) => void;
  /** The worker exited or was terminated (any reason). */
  onExit?: () => void;
}

export class TenantWorker {
  readonly #worker: Worker;
  readonly #lane: LaneMain | undefined;
  readonly #pending = new Map<number, Pending>();
  #nextId = 1;
  /** One timer for every pending exchange's deadline (a timer per exchange cost ~6 µs: measured). */
  #watchdog: NodeJS.Timeout | undefined;
  #waiter: { resolve: (m: ToMain) => void; reject: (err: Error) => void } | undefined;
  #exited = false;
  readonly #exit: Promise<void>;
  events: WorkerEvents = {};
  heapBytes = 0;

  private constructor(worker: Worker, lane: SharedArrayBuffer | undefined) {
    this.#worker = worker;
    this.#lane = lane === undefined ? undefined : new LaneMain(lane);
    this.#exit = new Promise((resolve) => {
      worker.once('exit', () => {
        this.#exited = true;
        const err = new TenantBackendCrashed('tenant backend stopped');
        for (const p of this.#pending.values()) p.reject(err);
        this.#pending.clear();
        clearTimeout(this.#watchdog);
        this.#watchdog = undefined;
        this.#waiter?.reject(err);
        this.#waiter = undefined;
        this.events.onExit?.();
        resolve();
      });
    });
    worker.on('message', (m: ToMain) => this.#onMessage(m));
    worker.on('error', () => {});
  }

  /** Starts a worker; resolves once PGlite and the kernel are loaded in it. */
  static async spawn(data: WorkerData): Promise<TenantWorker> {
    const lane = createLane();
    const w = new TenantWorker(startWorker({ ...data, lane }), lane);
    await w.#next('ready');
    return w;
  }

  /** Whether this worker keeps the process alive (a spare does not). */
  ref(on: boolean): void {
    if (on) this.#worker.ref();
    else this.#worker.unref();
  }

  get exited(): boolean {
    return this.#exited;
  }

  /** Opens the tenant (creating its PGDATA from the template if given). Keys in `m.keys` are transferred. */
  async open(m: WorkerOpen): Promise<void> {
    const reply = this.#next('opened');
    this.#post(m, m.keys.map((k) => k.key));
    const r = await reply;
    if (r.op === 'opened') this.heapBytes = r.heapBytes;
  }

  /** Hands the worker a new DEK version (transferred) and starts re-encrypting under it. */
  async rekey(m: WorkerRekey): Promise<{ readonly files: number; readonly bytes: number }> {
    const reply = this.#next('rekeyed');
    this.#post(m, [m.key.key]);
    const r = await reply;
    return r.op === 'rekeyed' ? { files: r.files, bytes: r.bytes } : { files: 0, bytes: 0 };
  }

  /** Tells the worker to zero retired key versions. */
  forgetKeys(versions: readonly number[]): void {
    this.#post({ op: 'forget-keys', versions });
  }

  async buildTemplate(scratchDir: string, setupSql: string): Promise<Buffer> {
    const reply = this.#next('template');
    this.#post({ op: 'build-template', scratchDir, setupSql });
    const r = await reply;
    if (r.op !== 'template') throw new TenantTemplateInvalid('template build failed');
    return Buffer.from(r.bytes.buffer, r.bytes.byteOffset, r.bytes.length);
  }

  exchange(bytes: Uint8Array, onData: (chunk: Uint8Array) => void, timeoutMs: number): Promise<TransactionStatus | null> {
    if (this.#exited) return Promise.reject(new TenantBackendCrashed('tenant backend stopped'));
    const id = this.#nextId++;
    return new Promise((resolve, reject) => {
      this.#pending.set(id, { onData, resolve, reject, deadline: timeoutMs > 0 ? performance.now() + timeoutMs : Number.POSITIVE_INFINITY });
      if (timeoutMs > 0 && this.#watchdog === undefined) this.#watch(timeoutMs);
      if (this.#lane === undefined) {
        this.#post({ op: 'x', id, bytes });
        return;
      }
      if (!this.#lane.tryRequest(id, bytes)) this.#post({ op: 'x', id, bytes });
      this.#lane.arm(this.#onLane);
    });
  }

  readonly #onLane = (a: LaneAnswer): void => {
    this.#finish(a.id, a.status, a.bytes, (a.flags & ANS_FATAL) !== 0, (a.flags & ANS_CRASHED) !== 0, a.heapBytes);
    if (this.#pending.size > 0 && !this.#exited) this.#lane!.arm(this.#onLane);
  };

  /** The end of exchange `id` (from the lane or a port 'r' message). */
  #finish(id: number, status: TransactionStatus | null, b: Uint8Array | undefined, fatal: boolean, crashed: boolean, heapBytes: number | undefined): void {
    const p = this.#pending.get(id);
    if (p === undefined) return;
    this.#pending.delete(id);
    if (heapBytes !== undefined) this.heapBytes = heapBytes;
    if (b !== undefined) p.onData(b);
    if (crashed || fatal) {
      p.reject(new TenantBackendCrashed('tenant backend crashed'));
      void this.terminate();
    } else {
      p.resolve(status);
    }
  }

  #watch(delayMs: number): void {
    this.#watchdog = setTimeout(() => this.#checkDeadlines(), delayMs);
    // The worker itself keeps the process alive while it is in use.
    this.#watchdog.unref();
  }

  /** Times out the exchanges past their deadline (the worker is terminated); re-arms for the rest. */
  #checkDeadlines(): void {
    this.#watchdog = undefined;
    const now = performance.now();
    let next = Number.POSITIVE_INFINITY;
    let hung = false;
    for (const [id, p] of this.#pending) {
      if (p.deadline <= now) {
        this.#pending.delete(id);
        p.reject(new TenantBackendTimeout('tenant backend did not answer in time'));
        hung = true;
      } else if (p.deadline < next) next = p.deadline;
    }
    if (hung) void this.terminate();
    else if (next !== Number.POSITIVE_INFINITY) this.#watch(Math.max(1, next - now));
  }

  /** Clean close (PostgreSQL shutdown checkpoint); terminates the worker if it takes longer than `deadlineMs`. */
  async close(deadlineMs: number): Promise<void> {
    if (this.#exited) return;
    const reply = this.#next('closed').catch(() => undefined);
    this.#post({ op: 'close' });
    let timer: NodeJS.Timeout | undefined;
    const late = new Promise<'late'>((resolve) => {
      timer = setTimeout(() => resolve('late'), deadlineMs);
    });
    await Promise.race([reply, late, this.#exit]);
    clearTimeout(timer);
    await this.terminate();
  }

  async terminate(): Promise<void> {
    if (!this.#exited) await this.#worker.terminate();
    await this.#exit;
  }

  #post(m: ToWorker, transfer: ArrayBuffer[] = []): void {
    if (this.#exited) return;
    this.#worker.postMessage(m, transfer);
    this.#lane?.portPosted();
  }

  /** The next control reply; a `failed` reply rejects with the coded error. */
  #next(op: ToMain['op']): Promise<ToMain> {
    if (this.#exited) return Promise.reject(new TenantBackendCrashed('tenant backend stopped'));
    return new Promise((resolve, reject) => {
      // One control request at a time; one overtaken (e.g. by a close) fails instead of hanging.
      this.#waiter?.reject(new TenantBackendClosed('tenant backend is closing'));
      this.#waiter = {
        resolve: (m) => (m.op === op ? resolve(m) : reject(new TenantOpenFailed(`unexpected worker reply ${m.op}`))),
        reject,
      };
    });
  }

  #onMessage(m: ToMain): void {
    switch (m.op) {
      case 'd':
        this.#pending.get(m.id)?.onData(m.b);
        return;
      case 'r':
        this.#finish(m.id, m.status, m.b, m.fatal === true, m.crashed === true, m.heapBytes);
        return;
      case 'refill':
        this.events.onRefill?.(m.version);
        return;
      case 'rekey-progress': {
        const { op: _op, ...progress } = m;
        this.events.onRekeyProgress?.(progress);
        return;
      }
      case 'log':
        this.events.onLog?.(m.level, m.message, m.fields);
        return;
      case 'failed': {
        const w = this.#waiter;
        this.#waiter = undefined;
        w?.reject(openError(m.code, m.message));
        return;
      }
      default: {
        const w = this.#waiter;
        this.#waiter = undefined;
        w?.resolve(m);
      }
    }
  }
}

function openError(code: string, message: string): Error {
  if (code === 'WK_REL_TENANT_WRONG_KEY') return new TenantWrongKey('tenant data does not authenticate under its key');
  if (code === 'WK_REL_TENANT_TEMPLATE_INVALID') return new TenantTemplateInvalid('template archive is malformed');
  if (code === 'WK_REL_TENANT_WAL_UNREADABLE') {
    return new TenantWalUnreadable('the tenant write-ahead log cannot be read (damaged or tampered); the tenant stays closed');
  }
  return new TenantOpenFailed(`tenant backend failed to start (${code}): ${message}`);
}
