// The wire floor: the least a PostgreSQL-wire server built this way can do per statement. A TCP
// listener on the main thread (TCP_NODELAY) takes pgbench's connections, accepts any startup
// without authentication, and relays each Query (or extended batch up to Sync/Flush) to a worker
// running PGlite in memory, through the engine's own exchange lane (exchange-lane.ts), then writes
// the answer back. Database `wN` picks worker N. Two variants take the worker away: PGlite inline
// on the main thread, and a canned answer with no database (for a `SELECT 1;` script). What it
// leaves out is what the engine adds: authentication, TLS, sessions, classification,
// authorization, audit, metrics, encryption and fsync. So PostgreSQL over this is a ceiling that
// counts the sockets and the main thread too.
import { once } from 'node:events';
import { createServer, type Server, type Socket } from 'node:net';
import { Worker } from 'node:worker_threads';
import type { PGlite } from '@electric-sql/pglite';
import {
  authenticationOk,
  backendKeyData,
  commandComplete,
  dataRow,
  parameterStatus,
  readyForQuery,
  rowDescription,
  sslResponse,
} from '../../engines/relational/src/protocol/index.js';
import { createLane, type LaneAnswer, LaneMain } from '../../engines/relational/src/tenant/exchange-lane.js';
import { openFloorPglite } from './floor-pglite.js';

const WIRE_WORKER = new URL('./floor-wire-worker.ts', import.meta.url).href;
const SSL_REQUEST = 80877103;
const GSSENC_REQUEST = 80877104;
const PROTOCOL_3 = 196608;
/** A relay for a benchmark, not a server: anything larger is refused. */
const MAX_MESSAGE = 1 << 20;

const PARAMETERS: readonly [string, string][] = [
  ['server_version', '18.0'],
  ['server_encoding', 'UTF8'],
  ['client_encoding', 'UTF8'],
  ['DateStyle', 'ISO, MDY'],
  ['integer_datetimes', 'on'],
  ['standard_conforming_strings', 'on'],
];

/** AuthenticationOk, the parameters libpq reads, BackendKeyData, ReadyForQuery 'I'. */
const STARTUP_REPLY = Buffer.concat([
  authenticationOk(),
  ...PARAMETERS.map(([k, v]) => parameterStatus(k, v)),
  backendKeyData(1, 1),
  readyForQuery('I'),
]);

interface WireBackend {
  exchange(bytes: Uint8Array, done: (b: Uint8Array) => void): void;
  close(): Promise<void>;
}

/** PGlite on the main thread itself: no hop; times each call, to compare with PGlite in a tight loop. */
class InlineBackend implements WireBackend {
  readonly #db: PGlite;
  /** Calls of execProtocolRawSync and their summed wall time (ms). */
  calls = 0;
  execMs = 0;

  constructor(db: PGlite) {
    this.#db = db;
  }

  exchange(bytes: Uint8Array, done: (b: Uint8Array) => void): void {
    const t0 = performance.now();
    const answer = this.#db.execProtocolRawSync(bytes);
    this.execMs += performance.now() - t0;
    this.calls++;
    done(answer);
  }

  async close(): Promise<void> {
    await this.#db.close();
  }
}

/**
 * No database: every batch gets the same answer, one row with the int4 value 1, then
 * ReadyForQuery 'I'. For a pgbench script of `SELECT 1;` (-n -f): what is left is the relay's
 * socket work and pgbench itself, the floor of any server in Node.js here.
 */
class CannedBackend implements WireBackend {
  static readonly #ANSWER = Buffer.concat([
    rowDescription([{ name: 'n', typeOid: 23, typeSize: 4 }]),
    dataRow(['1']),
    commandComplete('SELECT 1'),
    readyForQuery('I'),
  ]);

  exchange(_bytes: Uint8Array, done: (b: Uint8Array) => void): void {
    done(CannedBackend.#ANSWER);
  }

  async close(): Promise<void> {}
}

/** One PGlite worker, one exchange at a time (queued). */
class WireWorker implements WireBackend {
  readonly #worker: Worker;
  readonly #lane: LaneMain;
  readonly #queue: { bytes: Uint8Array; done: (b: Uint8Array) => void }[] = [];
  #busy = false;
  #id = 0;

  constructor() {
    const sab = createLane();
    this.#lane = new LaneMain(sab);
    const boot = `import('tsx/esm/api').then((m) => { m.register(); return import(${JSON.stringify(WIRE_WORKER)}); })`;
    this.#worker = new Worker(boot, { eval: true, workerData: sab });
    this.#worker.on('message', (r: { op?: string; id: number; b: Uint8Array }) => {
      if (typeof r === 'object' && r.op === 'r') this.#answered(r.b);
    });
  }

  async ready(): Promise<void> {
    const [m] = (await once(this.#worker, 'message')) as [unknown];
    if (m !== 'ready') throw new Error(`wire floor worker said ${JSON.stringify(m)}`);
  }

  exchange(bytes: Uint8Array, done: (b: Uint8Array) => void): void {
    this.#queue.push({ bytes, done });
    if (!this.#busy) this.#start();
  }

  #start(): void {
    const next = this.#queue[0];
    if (next === undefined) return;
    this.#busy = true;
    const id = ++this.#id;
    if (!this.#lane.tryRequest(id, next.bytes)) {
      this.#worker.postMessage({ op: 'x', id, bytes: next.bytes });
      this.#lane.portPosted();
    }
    this.#lane.arm(this.#onLane);
  }

  readonly #onLane = (a: LaneAnswer): void => {
    this.#answered(a.bytes ?? new Uint8Array(0));
  };

  #answered(b: Uint8Array): void {
    const done = this.#queue.shift();
    this.#busy = false;
    done?.done(b);
    this.#start();
  }

  async close(): Promise<void> {
    await this.#worker.terminate();
  }
}

/** Ends a batch: the worker answers up to here. */
function endsBatch(type: number): boolean {
  return type === 0x51 /* Q */ || type === 0x53 /* S */ || type === 0x48 /* H */;
}

function serve(socket: Socket, workers: readonly WireBackend[]): void {
  socket.setNoDelay(true);
  let buf: Buffer = Buffer.alloc(0);
  let started = false;
  let worker: WireBackend | undefined;
  let batchEnd = 0;
  const fail = (why: string): void => {
    socket.destroy(new Error(why));
  };
  socket.on('error', () => {});
  socket.on('data', (chunk: Buffer) => {
    buf = buf.length === 0 ? chunk : Buffer.concat([buf, chunk]);
    for (;;) {
      if (!started) {
        if (buf.length < 8) return;
        const len = buf.readInt32BE(0);
        if (len < 8 || len > MAX_MESSAGE) return fail('bad startup length');
        if (buf.length < len) return;
        const code = buf.readInt32BE(4);
        const body = buf.subarray(8, len);
        buf = buf.subarray(len);
        if (code === SSL_REQUEST || code === GSSENC_REQUEST) {
          socket.write(sslResponse(false));
          continue;
        }
        if (code !== PROTOCOL_3) return fail('unsupported protocol');
        const params = body.toString('utf8').split('\0');
        const db = params[params.indexOf('database') + 1] ?? '';
        worker = workers[/^w\d+$/.test(db) ? Number(db.slice(1)) : -1];
        if (worker === undefined) return fail(`no worker for database ${db}`);
        started = true;
        socket.write(STARTUP_REPLY);
        continue;
      }
      // Complete messages from batchEnd on; send everything up to the last one that ends a batch.
      let at = batchEnd;
      let cut = -1;
      while (at + 5 <= buf.length) {
        const len = buf.readInt32BE(at + 1);
        if (len < 4 || len > MAX_MESSAGE) return fail('bad message length');
        if (at + 1 + len > buf.length) break;
        if (buf[at] === 0x58 /* X */) return void socket.end();
        if (endsBatch(buf[at]!)) cut = at + 1 + len;
        at += 1 + len;
      }
      batchEnd = at;
      if (cut < 0) return;
      const batch = buf.subarray(0, cut);
      buf = buf.subarray(cut);
      batchEnd -= cut;
      worker!.exchange(batch, (answer) => {
        if (!socket.destroyed) socket.write(answer);
      });
    }
  });
}

export class WireFloor {
  readonly #server: Server;
  readonly #workers: WireBackend[];

  private constructor(server: Server, workers: WireBackend[]) {
    this.#server = server;
    this.#workers = workers;
  }

  /**
   * Starts the relay on 127.0.0.1, any free port, with `workers` PGlite workers (database w0 …
   * wN-1); `inline`: one PGlite on this thread (w0); `canned`: `workers` canned answers, no database.
   */
  static async start(workers: number, kind: 'worker' | 'inline' | 'canned' = 'worker'): Promise<WireFloor> {
    if (kind === 'inline') return WireFloor.#listen([new InlineBackend(await openFloorPglite())]);
    if (kind === 'canned') return WireFloor.#listen(Array.from({ length: workers }, () => new CannedBackend()));
    const ws = Array.from({ length: workers }, () => new WireWorker());
    try {
      await Promise.all(ws.map((w) => w.ready()));
    } catch (err) {
      await Promise.all(ws.map((w) => w.close()));
      throw err;
    }
    return WireFloor.#listen(ws);
  }

  static async #listen(ws: WireBackend[]): Promise<WireFloor> {
    try {
      const server = createServer((s) => serve(s, ws));
      server.listen(0, '127.0.0.1');
      await once(server, 'listening');
      return new WireFloor(server, ws);
    } catch (err) {
      await Promise.all(ws.map((w) => w.close()));
      throw err;
    }
  }

  /** The inline PGlite's execProtocolRawSync calls and average wall time since the last take (inline only). */
  takeInlineExec(): { calls: number; avgUs: number } | undefined {
    const b = this.#workers[0];
    if (!(b instanceof InlineBackend)) return undefined;
    const r = { calls: b.calls, avgUs: b.calls === 0 ? 0 : (b.execMs * 1000) / b.calls };
    b.calls = 0;
    b.execMs = 0;
    return r;
  }

  get port(): number {
    const a = this.#server.address();
    if (a === null || typeof a === 'string') throw new Error('wire floor is not listening');
    return a.port;
  }

  async close(): Promise<void> {
    this.#server.close();
    await Promise.all(this.#workers.map((w) => w.close()));
  }
}
