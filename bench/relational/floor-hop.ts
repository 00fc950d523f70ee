// The thread hop alone: a worker_threads Worker that answers each request the way a tenant worker
// does (tenant-worker.ts: `{ op: 'x', id, bytes }` in, copied; `{ op: 'r', id, status, b }` out, b
// transferred), with no database behind it.
import { Worker } from 'node:worker_threads';

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

export class EchoWorker {
  readonly #worker: Worker;
  readonly #request = new Uint8Array(REQUEST_BYTES).fill(0x51);
  #next: ((r: Reply) => void) | undefined;

  constructor() {
    this.#worker = new Worker(ECHO_WORKER, { eval: true });
    this.#worker.on('message', (r: Reply) => {
      const resolve = this.#next;
      this.#next = undefined;
      resolve?.(r);
    });
  }

  roundTrip(id: number): Promise<Reply> {
    return new Promise((resolve) => {
      this.#next = resolve;
      this.#worker.postMessage({ op: 'x', id, bytes: this.#request });
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
      if (r.op !== 'r' || r.id !== n || r.status !== 'I' || r.b.length !== ANSWER_BYTES) throw new Error(`echo worker answered ${JSON.stringify(r)}`);
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
