import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ResponseScanner } from './response-scanner.js';

const frame = (type: string, body: Buffer): Buffer => {
  const head = Buffer.alloc(5);
  head.write(type, 0, 'latin1');
  head.writeInt32BE(body.length + 4, 1);
  return Buffer.concat([head, body]);
};
const error = (severity: string): Buffer =>
  frame('E', Buffer.from(`S${severity}\0V${severity}\0C58030\0Mcould not write\0\0`, 'latin1'));

test('finds the last ReadyForQuery status and PANIC/FATAL, whatever the chunking', () => {
  const ok = Buffer.concat([frame('C', Buffer.from('SELECT 1\0')), frame('Z', Buffer.from('T'))]);
  const panic = Buffer.concat([frame('D', Buffer.alloc(300, 1)), error('PANIC'), frame('Z', Buffer.from('E'))]);
  const plain = Buffer.concat([error('ERROR'), frame('Z', Buffer.from('I'))]);
  for (const [bytes, status, fatal] of [
    [ok, 'T', false],
    [panic, 'E', true],
    [plain, 'I', false],
  ] as const) {
    for (let cut = 1; cut < bytes.length; cut++) {
      const s = new ResponseScanner();
      s.push(bytes.subarray(0, cut));
      s.push(bytes.subarray(cut));
      assert.deepEqual([s.status, s.fatal], [status, fatal], `cut at ${cut}`);
    }
  }
  const s = new ResponseScanner();
  s.push(frame('C', Buffer.from('X\0')));
  assert.equal(s.status, null, 'no ReadyForQuery (e.g. after Flush)');
});
