import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { test } from 'node:test';

const root = new URL('../../', import.meta.url);
const REGISTRIES = ['kernel/src/errors.ts', 'engines/relational/src/errors.ts', 'engines/kv/src/errors.ts'];

async function codes(file: string): Promise<string[]> {
  const text = await readFile(new URL(file, root), 'utf8');
  return [...text.matchAll(/readonly code = '([A-Z0-9_]+)'/g)].map((m) => m[1]!);
}

test('error codes are unique across every package and all listed in docs/errors.md', async () => {
  const doc = await readFile(new URL('docs/errors.md', root), 'utf8');
  const all: string[] = [];
  for (const file of REGISTRIES) {
    const found = await codes(file);
    assert.ok(found.length > 0, `${file} declares error codes`);
    all.push(...found);
  }
  assert.deepEqual(
    all.filter((c, i) => all.indexOf(c) !== i),
    [],
    'codes are never reused',
  );
  assert.deepEqual(
    all.filter((c) => !doc.includes(`\`${c}\``)),
    [],
    'run node scripts/gen-errors-doc.mjs',
  );
});
