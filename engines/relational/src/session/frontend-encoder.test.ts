import assert from 'node:assert/strict';
import { test } from 'node:test';
import { FrontendParser, type TypedFrontendMessage } from '../protocol/index.js';
import { FrontendBatch } from './frontend-encoder.js';

test('every forwarded message re-encodes to bytes the parser reads back identically', () => {
  const messages: TypedFrontendMessage[] = [
    { type: 'query', sql: 'select 1; select ☃' },
    { type: 'parse', name: 's1', sql: 'select $1::int', paramTypes: [23, 0] },
    { type: 'bind', portal: 'p', statement: 's1', paramFormats: [1], params: [Buffer.from([0, 0, 0, 7]), null], resultFormats: [0, 1] },
    { type: 'describe', target: 'S', name: 's1' },
    { type: 'execute', portal: 'p', maxRows: 5 },
    { type: 'close', target: 'P', name: 'p' },
    { type: 'flush' },
    { type: 'copyData', data: Buffer.from('1\tone\n') },
    { type: 'copyDone' },
    { type: 'copyFail', message: 'stop' },
    { type: 'sync' },
  ];
  const batch = new FrontendBatch(8);
  for (const m of messages) batch.add(m);
  assert.equal(batch.count, messages.length);
  const bytes = batch.take();
  assert.equal(batch.byteLength, 0);
  const parser = new FrontendParser();
  parser.push(Buffer.concat([Buffer.from([0, 0, 0, 16, 0, 3, 0, 0]), Buffer.from('user\0a\0\0')]));
  assert.equal(parser.next()?.type, 'startup');
  parser.authenticated();
  parser.push(bytes);
  const back: unknown[] = [];
  for (let m = parser.next(); m !== undefined; m = parser.next()) back.push(m);
  assert.deepEqual(back, messages);
});

test('messages the session handles itself are never encoded', () => {
  assert.throws(() => new FrontendBatch().add({ type: 'terminate' }), TypeError);
  assert.throws(() => new FrontendBatch().add({ type: 'password', data: Buffer.from('x\0') }), TypeError);
});
