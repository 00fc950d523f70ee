import assert from 'node:assert/strict';
import { test } from 'node:test';
import { LineSplitter, parseAdminRequest } from './admin-protocol.js';

test('lines are framed the same whatever the chunk boundaries', () => {
  const wire = Buffer.from('{"id":1,"command":"tenant.list"}\n{"id":"b","command":"keys.status","args":{"x":"é"}}\n');
  for (let cut = 0; cut <= wire.length; cut++) {
    for (let cut2 = cut; cut2 <= wire.length; cut2 += 7) {
      const s = new LineSplitter(1024);
      const lines = [...s.push(wire.subarray(0, cut)), ...s.push(wire.subarray(cut, cut2)), ...s.push(wire.subarray(cut2))];
      assert.deepEqual(lines.map((l) => parseAdminRequest(l).request?.command), ['tenant.list', 'keys.status']);
      assert.equal(s.pending, 0);
    }
  }
});

test('a line past the limit is refused before it is buffered, with or without a newline', () => {
  const s = new LineSplitter(16);
  assert.throws(() => s.push(Buffer.alloc(17, 0x61)), { code: 'WK_ADMIN_REQUEST_TOO_LARGE' });
  const t = new LineSplitter(16);
  t.push(Buffer.alloc(10, 0x61));
  assert.throws(() => t.push(Buffer.from('aaaaaaaa\n')), { code: 'WK_ADMIN_REQUEST_TOO_LARGE' });
  assert.deepEqual(new LineSplitter(16).push(Buffer.from(`${'a'.repeat(16)}\n`)), ['a'.repeat(16)]);
});

test('malformed requests are coded errors that keep the id when there is one', () => {
  assert.equal(parseAdminRequest('{nope').error?.code, 'WK_ADMIN_REQUEST_MALFORMED');
  assert.equal(parseAdminRequest('[1]').error?.code, 'WK_ADMIN_REQUEST_MALFORMED');
  assert.equal(parseAdminRequest('{"command":"tenant.list"}').id, null);
  const bad = parseAdminRequest('{"id":7,"command":"../x"}');
  assert.equal(bad.id, 7);
  assert.equal(bad.error?.code, 'WK_ADMIN_REQUEST_MALFORMED');
  assert.equal(parseAdminRequest('{"id":7,"command":"tenant.list","args":[1]}').error?.code, 'WK_ADMIN_REQUEST_MALFORMED');
  assert.deepEqual(parseAdminRequest('{"id":7,"command":"tenant.list"}').request, { id: 7, command: 'tenant.list', args: {} });
});
