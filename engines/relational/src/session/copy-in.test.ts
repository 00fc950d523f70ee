import assert from 'node:assert/strict';
import { test } from 'node:test';
import { copyInVerdict, mightCopyIn } from './copy-in.js';

test('plain COPY FROM STDIN forms are recognised, with their format', () => {
  for (const sql of ['COPY t FROM STDIN', 'copy t (a, b) from stdin;', '/* c */ copy t from stdin with (format csv)', '-- x\ncopy "T" FROM stdin']) {
    assert.deepEqual(copyInVerdict(sql), { kind: 'copy', format: 0 }, sql);
  }
  for (const sql of ['COPY BINARY t FROM STDIN', "copy t from stdin (format 'binary')", 'copy t from stdin with (format binary)']) {
    assert.deepEqual(copyInVerdict(sql), { kind: 'copy', format: 1 }, sql);
  }
});

test('anything that might hide a COPY FROM STDIN is refused', () => {
  for (const sql of [
    'select 1; copy t from stdin',
    'copy t from stdin; select 1',
    "copy t from stdin (delimiter E'\\t')",
    "select '\\'; copy t from stdin; --'",
    'copy t from stdin; $$x$$',
    'COPY t FROM/**/STDIN; select 1',
  ]) {
    assert.equal(copyInVerdict(sql).kind, 'refuse', sql);
  }
  assert.equal(mightCopyIn('copy t from stdin'), true);
});

test('other statements pass', () => {
  for (const sql of ['select 1', 'copy t to stdout', "select 'copy t from stdin'", 'select stdin from copy_t', "insert into t values ('unterminated"]) {
    assert.equal(copyInVerdict(sql).kind, 'none', sql);
  }
});
