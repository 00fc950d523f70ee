// A shared-memory lane for the exchanges between the main thread and a tenant worker. A
// postMessage cost about 40 µs of worker CPU and 20 µs of main-thread CPU per exchange under
// pgbench -S (profiled); the lane moves a request and its answer through one SharedArrayBuffer
// with Atomics instead (per-thread CPU per select-only transaction: main 112 -> 83 µs, worker
// 157 -> 101 µs, measured). Messages that do not fit, control messages, and requests that find
// the worker away from the lane still go by postMessage. Each worker has its own lane, created
// with it and never handed to another tenant.
//
// After an exchange the worker waits on the lane (Atomics.wait, the thread sleeps) for up to
// HOT_MS, so a client's next statement finds it there; then it goes back to its event loop
// ("cold"). It also goes cold at least every STREAK_MS and whenever a port message is posted
// to it, so its timers and control messages are never held back by more than that.
//
// Layout: Int32 words [0, WORDS), then the request area, then the answer area.

/** Worker state word. */
const STATE = 0;
/** Port messages posted to the worker so far: while it has read fewer, it must go cold to read them. */
const POSTED = 1;
const REQ_ID = 2;
const REQ_LEN = 3;
/** 1 while an answer sits in the answer area, unread by the main thread. */
const DONE = 4;
const ANS_ID = 5;
const ANS_LEN = 6;
/** Transaction status byte of the answer ('I', 'T', 'E'), or 0 for none. */
const ANS_STATUS = 7;
/** ANS_FATAL bit: PostgreSQL reported FATAL or PANIC. ANS_CRASHED bit: the exchange threw. */
const ANS_FLAGS = 8;
/** The worker's wasm heap size in MiB (for the memory budget). */
const ANS_HEAP_MIB = 9;
const WORDS = 16;

const COLD = 0;
const HOT = 1;
const REQ = 2;
const BUSY = 3;
const CTRL = 4;

export const ANS_FATAL: number = 1;
export const ANS_CRASHED: number = 2;

/** Requests up to this size go by the lane (a Query or an extended batch, usually < 1 KiB). */
export const LANE_REQUEST_BYTES: number = 64 * 1024;
/** Answers up to this size go by the lane; larger ones stream by postMessage. */
export const LANE_ANSWER_BYTES: number = 256 * 1024;
const HOT_MS = 2;
const STREAK_MS = 25;
/** Node 20 has Atomics.waitAsync; the ES2023 lib this repository compiles against does not declare it. */
const waitAsync = (Atomics as unknown as {
  waitAsync(a: Int32Array, index: number, value: number): { async: false; value: string } | { async: true; value: Promise<string> };
}).waitAsync;

export function createLane(): SharedArrayBuffer {
  return new SharedArrayBuffer(WORDS * 4 + LANE_REQUEST_BYTES + LANE_ANSWER_BYTES);
}

/** An answer taken off the lane (the bytes are a copy, owned by the caller). */
export interface LaneAnswer {
  readonly id: number;
  readonly bytes: Buffer | undefined;
  readonly status: 'I' | 'T' | 'E' | null;
  readonly flags: number;
  readonly heapBytes: number;
}

/** Main-thread side. */
export class LaneMain {
  readonly #ctl: Int32Array;
  readonly #req: Uint8Array;
  readonly #ans: Uint8Array;
  #armed = false;

  constructor(sab: SharedArrayBuffer) {
    this.#ctl = new Int32Array(sab, 0, WORDS);
    this.#req = new Uint8Array(sab, WORDS * 4, LANE_REQUEST_BYTES);
    this.#ans = new Uint8Array(sab, WORDS * 4 + LANE_REQUEST_BYTES, LANE_ANSWER_BYTES);
  }

  /** Hands a request to a worker waiting on the lane; false if it is not there (send it by port). */
  tryRequest(id: number, bytes: Uint8Array): boolean {
    if (bytes.length > LANE_REQUEST_BYTES || Atomics.load(this.#ctl, STATE) !== HOT) return false;
    this.#req.set(bytes, 0);
    Atomics.store(this.#ctl, REQ_ID, id);
    Atomics.store(this.#ctl, REQ_LEN, bytes.length);
    if (Atomics.compareExchange(this.#ctl, STATE, HOT, REQ) !== HOT) return false;
    Atomics.notify(this.#ctl, STATE, 1);
    return true;
  }

  /** Call right after posting a port message: a worker on the lane goes back to its event loop to read it. */
  portPosted(): void {
    Atomics.add(this.#ctl, POSTED, 1);
    if (Atomics.compareExchange(this.#ctl, STATE, HOT, CTRL) === HOT) Atomics.notify(this.#ctl, STATE, 1);
  }

  /**
   * Calls `onAnswer` once for the next answer the worker puts on the lane. One wait at a time: a
   * second call while one is armed does nothing.
   */
  arm(onAnswer: (a: LaneAnswer) => void): void {
    if (this.#armed) return;
    this.#armed = true;
    const r = waitAsync(this.#ctl, DONE, 0);
    const take = (): void => {
      this.#armed = false;
      onAnswer(this.#take());
    };
    if (r.async) void r.value.then(take);
    else queueMicrotask(take);
  }

  #take(): LaneAnswer {
    const len = Atomics.load(this.#ctl, ANS_LEN);
    const status = Atomics.load(this.#ctl, ANS_STATUS);
    const answer: LaneAnswer = {
      id: Atomics.load(this.#ctl, ANS_ID),
      bytes: len > 0 ? Buffer.from(this.#ans.subarray(0, len)) : undefined,
      status: status === 0 ? null : (String.fromCharCode(status) as 'I' | 'T' | 'E'),
      flags: Atomics.load(this.#ctl, ANS_FLAGS),
      heapBytes: Atomics.load(this.#ctl, ANS_HEAP_MIB) * 1024 * 1024,
    };
    Atomics.store(this.#ctl, DONE, 0);
    return answer;
  }
}

/** Worker side. */
export class LaneWorker {
  readonly #ctl: Int32Array;
  readonly #req: Uint8Array;
  readonly #ans: Uint8Array;
  /** Bytes of the current answer in the answer area; -1 when it did not fit (or the lane was busy). */
  #ansLen = -1;
  /** When the current run of lane waits began (performance.now()). */
  #streakStart = 0;
  /** The worker is in (or back from) its event loop: the next wait starts a new run. */
  #cold = true;
  /** Port messages the worker has received (compared with POSTED). */
  #received = 0;

  constructor(sab: SharedArrayBuffer) {
    this.#ctl = new Int32Array(sab, 0, WORDS);
    this.#req = new Uint8Array(sab, WORDS * 4, LANE_REQUEST_BYTES);
    this.#ans = new Uint8Array(sab, WORDS * 4 + LANE_REQUEST_BYTES, LANE_ANSWER_BYTES);
  }

  /** Starts collecting an answer on the lane, if the main thread has read the previous one. */
  begin(): void {
    this.#ansLen = Atomics.load(this.#ctl, DONE) === 0 ? 0 : -1;
  }

  /** Copies a chunk into the answer area; false if it does not fit (the caller takes over from `spill`). */
  push(chunk: Uint8Array): boolean {
    if (this.#ansLen < 0) return false;
    if (this.#ansLen + chunk.length > LANE_ANSWER_BYTES) return false;
    this.#ans.set(chunk, this.#ansLen);
    this.#ansLen += chunk.length;
    return true;
  }

  /** A copy of what the answer area holds so far, and stops using it for this answer. */
  spill(): Uint8Array<ArrayBuffer> | undefined {
    const n = this.#ansLen;
    this.#ansLen = -1;
    return n > 0 ? this.#ans.slice(0, n) : undefined;
  }

  /** Whether the current answer is (still) on the lane. */
  get collecting(): boolean {
    return this.#ansLen >= 0;
  }

  /**
   * Publishes the answer collected on the lane. The worker marks itself waiting on the lane before
   * the main thread can see the answer, so the next request can find it there. Returns whether it
   * will wait (call `next`) or must go back to its event loop.
   */
  finish(id: number, status: 'I' | 'T' | 'E' | null, flags: number, heapBytes: number): boolean {
    const hot = this.#enter();
    Atomics.store(this.#ctl, ANS_ID, id);
    Atomics.store(this.#ctl, ANS_LEN, this.#ansLen);
    Atomics.store(this.#ctl, ANS_STATUS, status === null ? 0 : status.charCodeAt(0));
    Atomics.store(this.#ctl, ANS_FLAGS, flags);
    Atomics.store(this.#ctl, ANS_HEAP_MIB, Math.ceil(heapBytes / (1024 * 1024)));
    this.#ansLen = -1;
    Atomics.store(this.#ctl, DONE, 1);
    Atomics.notify(this.#ctl, DONE);
    return hot;
  }

  /** After an answer sent by port: whether the worker will wait on the lane. */
  finishedByPort(): boolean {
    this.#ansLen = -1;
    return this.#enter();
  }

  #enter(): boolean {
    const now = performance.now();
    if (this.#cold) {
      this.#cold = false;
      this.#streakStart = now;
    } else if (now - this.#streakStart > STREAK_MS) {
      this.#cold = true;
      Atomics.store(this.#ctl, STATE, COLD);
      return false;
    }
    Atomics.store(this.#ctl, STATE, HOT);
    return true;
  }

  /**
   * Waits on the lane (after `finish` or `finishedByPort` returned true). Returns the next
   * request (a view of the request area, valid until the next answer) with its id, or undefined
   * when the worker went cold: a port message is waiting or nothing came within HOT_MS.
   */
  next(): { readonly id: number; readonly bytes: Uint8Array } | undefined {
    const deadline = performance.now() + HOT_MS;
    for (;;) {
      const s = Atomics.load(this.#ctl, STATE);
      if (s === REQ) {
        Atomics.store(this.#ctl, STATE, BUSY);
        return { id: Atomics.load(this.#ctl, REQ_ID), bytes: this.#req.subarray(0, Atomics.load(this.#ctl, REQ_LEN)) };
      }
      const left = deadline - performance.now();
      if (s === CTRL || left <= 0 || Atomics.load(this.#ctl, POSTED) !== this.#received) {
        // A request may land between the load and here: the exchange fails and the loop takes it.
        if (Atomics.compareExchange(this.#ctl, STATE, s, COLD) !== s) continue;
        this.#cold = true;
        return undefined;
      }
      Atomics.wait(this.#ctl, STATE, HOT, left);
    }
  }

  /** Call for every port message the worker receives. */
  received(): void {
    this.#received = (this.#received + 1) | 0;
  }

  /** The worker is running an exchange that came by port (not waiting on the lane). */
  busy(): void {
    Atomics.store(this.#ctl, STATE, BUSY);
  }
}
