import assert from 'node:assert/strict';
import { test } from 'node:test';
import { decodeTemplate, encodeTemplate } from './template-archive.js';

test('template archives round-trip and refuse malformed or escaping input', () => {
  const entries = [
    { kind: 'dir', path: 'base' },
    { kind: 'file', path: 'base/1', data: Buffer.from('abc') },
    { kind: 'file', path: 'PG_VERSION', data: Buffer.alloc(0) },
  ] as const;
  const bytes = encodeTemplate(entries);
  assert.deepEqual(
    decodeTemplate(bytes).map((e) => [e.kind, e.path, e.kind === 'file' ? e.data.toString() : '']),
    [['dir', 'base', ''], ['file', 'base/1', 'abc'], ['file', 'PG_VERSION', '']],
  );
  for (let cut = 0; cut < bytes.length; cut++) {
    assert.throws(() => decodeTemplate(bytes.subarray(0, cut)), { code: 'WK_REL_TENANT_TEMPLATE_INVALID' });
  }
  for (const path of ['../x', '/abs', 'a//b', 'a/./b']) {
    assert.throws(() => decodeTemplate(encodeTemplate([{ kind: 'dir', path }])), { code: 'WK_REL_TENANT_TEMPLATE_INVALID' });
  }
});
