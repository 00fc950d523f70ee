// Worker for the wire floor (floor-wire.ts): PGlite in memory with pgbench's scale-1 schema
// (floor-pglite.ts), answering each request through execProtocolRawSync, by the engine's exchange
// lane when the answer fits and by port otherwise. No encryption, no fsync, no classification.
import { parentPort, workerData } from 'node:worker_threads';
import { LaneWorker } from '../../engines/relational/src/tenant/exchange-lane.js';
import { ResponseScanner } from '../../engines/relational/src/tenant/response-scanner.js';
import { openFloorPglite } from './floor-pglite.js';

const port = parentPort!;
const lane = new LaneWorker(workerData as SharedArrayBuffer);
const db = await openFloorPglite();
/** The answer's last ReadyForQuery status, as the tenant worker finds it. */
const scanner = new ResponseScanner();

function serve(first: { id: number; bytes: Uint8Array }): void {
  let req: { id: number; bytes: Uint8Array } | undefined = first;
  while (req !== undefined) {
    lane.begin();
    const out = db.execProtocolRawSync(req.bytes);
    scanner.reset();
    scanner.push(out);
    const status = scanner.status;
    let waits: boolean;
    if (lane.push(out)) {
      waits = lane.finish(req.id, status, 0, 0);
    } else {
      lane.spill();
      const b = out.slice();
      port.postMessage({ op: 'r', id: req.id, status, b }, [b.buffer]);
      waits = lane.finishedByPort();
    }
    req = waits ? lane.next() : undefined;
  }
}

port.on('message', (m: { op: string; id: number; bytes: Uint8Array }) => {
  lane.received();
  if (m.op === 'x') serve({ id: m.id, bytes: m.bytes });
});
port.postMessage('ready');
