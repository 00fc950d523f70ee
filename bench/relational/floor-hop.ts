// The thread hop alone: a worker_threads Worker that answers each request the way a tenant worker
// does, with no database behind it. Two ways, as the engine has them: by port (tenant-worker.ts:
// `{ op: 'x', id, bytes }` in, copied; `{ op: 'r', id, status, b }` out, b transferred), and by the
// shared-memory exchange lane (exchange-lane.ts, the engine's own code; its test echo worker).
import { Worker } from 'node:worker_threads';
import { createLane, type LaneAnswer, LaneMain } from '../../engines/relational/src/tenant/exchange-lane.js';

const REQUEST_BYTES = 100;
const ANSWER_BYTES = 120;

const ECHO_WORKER = `
const { parentPort } = require('node:worker_threads');
parentPort.on('message', (m) => {
  if (m.op !== 'x') return;
  const b = new Uint8Array(${ANSWER_BYTES});
  b[0] = m.bytes[0];
  parentPort.postMessage({ op: 'r', id: m.id, status: 'I', b }, [b.buffer]);
});
`;

interface Reply {
  readonly op: string;
  readonly id: number;
  readonly status: string;
  readonly b: Uint8Array;
}

export interface HopTiming {
  readonly roundTrips: number;
  /** Average round-trip wall time, µs (post to the awaiting code running again). */
  readonly rttUs: number;
  readonly p50Us: number;
  readonly p99Us: number;
  /**
   * Process CPU (all threads) per round trip, µs. Back-to-back: measured. Gapped: process CPU minus
   * the busy-wait's wall time, so an estimate (a busy-wait preempted by other load makes it too low).
   */
  readonly cpuUs: number;
}

const LANE_ECHO_WORKER = new URL('../../engines/relational/src/testing/lane-echo-worker.ts', import.meta.url).href;

export class EchoWorker {
  readonly #worker: Worker;
  readonly #lane: LaneMain | undefined;
  readonly #request = new Uint8Array(REQUEST_BYTES).fill(0x51);
  readonly #answerBytes: number;
  #next: ((r: Reply) => void) | undefined;

  /** `lane`: the exchange lane first (port when the worker is not waiting on it), as the engine does. */
  constructor(kind: 'port' | 'lane') {
    if (kind === 'lane') {
      const sab = createLane();
      this.#lane = new LaneMain(sab);
      const boot = `import('tsx/esm/api').then((m) => { m.register(); return import(${JSON.stringify(LANE_ECHO_WORKER)}); })`;
      this.#worker = new Worker(boot, { eval: true, workerData: sab });
      this.#answerBytes = REQUEST_BYTES;
    } else {
      this.#worker = new Worker(ECHO_WORKER, { eval: true });
      this.#answerBytes = ANSWER_BYTES;
    }
    this.#worker.on('message', (r: Reply) => {
      if (typeof r !== 'object') return;
      this.#deliver(r);
    });
  }

  /** Resolves once the worker is up. */
  ready(): Promise<void> {
    if (this.#lane === undefined) return Promise.resolve();
    return new Promise((resolve) => this.#worker.once('message', () => resolve()));
  }

  #deliver(r: Reply): void {
    const resolve = this.#next;
    this.#next = undefined;
    resolve?.(r);
  }

  readonly #onLane = (a: LaneAnswer): void => {
    this.#deliver({ op: 'r', id: a.id, status: a.status ?? '', b: a.bytes ?? new Uint8Array(0) });
  };

  roundTrip(id: number): Promise<Reply> {
    return new Promise((resolve) => {
      this.#next = resolve;
      const lane = this.#lane;
      if (lane === undefined) {
        this.#worker.postMessage({ op: 'x', id, bytes: this.#request });
        return;
      }
      if (!lane.tryRequest(id, this.#request)) {
        this.#worker.postMessage({ op: 'x', id, bytes: this.#request });
        lane.portPosted();
      }
      lane.arm(this.#onLane);
    });
  }

  /**
   * Round trips for `seconds`; before each one the main thread busy-waits `gapMs` (a client's think
   * time, the worker idle meanwhile), or none for back-to-back.
   */
  async measure(seconds: number, gapMs: number): Promise<HopTiming> {
    const samples = new Float64Array(1_000_000);
    const deadline = performance.now() + seconds * 1000;
    let waitedMs = 0;
    let n = 0;
    const cpu0 = process.cpuUsage();
    while (performance.now() < deadline && n < samples.length) {
      if (gapMs > 0) {
        const w0 = performance.now();
        const until = w0 + gapMs;
        while (performance.now() < until) {
          // busy-wait: the main thread is working, the worker idle
        }
        waitedMs += performance.now() - w0;
      }
      const t0 = performance.now();
      const r = await this.roundTrip(n);
      samples[n] = performance.now() - t0;
      if (r.op !== 'r' || r.id !== n || r.status !== 'I' || r.b.length !== this.#answerBytes) throw new Error(`echo worker answered ${JSON.stringify(r)}`);
      n++;
    }
    const cpu = process.cpuUsage(cpu0);
    const sorted = samples.subarray(0, n).sort();
    const total = sorted.reduce((a, b) => a + b, 0);
    return {
      roundTrips: n,
      rttUs: (total * 1000) / n,
      p50Us: sorted[Math.floor(n * 0.5)]! * 1000,
      p99Us: sorted[Math.floor(n * 0.99)]! * 1000,
      cpuUs: (cpu.user + cpu.system - waitedMs * 1000) / n,
    };
  }

  async close(): Promise<void> {
    await this.#worker.terminate();
  }
}
