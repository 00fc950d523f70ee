// Test worker for exchange-lane.test.ts: answers each request with its bytes reversed (by the lane
// when it can), and 'pong' to any other port message.
import { parentPort, workerData } from 'node:worker_threads';
import { LaneWorker } from '../tenant/exchange-lane.js';

const port = parentPort!;
const lane = new LaneWorker(workerData as SharedArrayBuffer);

function serve(id: number, bytes: Uint8Array): void {
  lane.begin();
  lane.push(Uint8Array.from(bytes).reverse());
  if (!lane.finish(id, 'I', 0, 0)) return;
  const next = lane.next();
  if (next !== undefined) queueMicrotask(() => serve(next.id, next.bytes));
}

port.on('message', (m: { op: string; id?: number; bytes?: Uint8Array }) => {
  lane.received();
  if (m.op === 'x') serve(m.id!, m.bytes!);
  else port.postMessage('pong');
});
port.postMessage('ready');
