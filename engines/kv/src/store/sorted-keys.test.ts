import assert from 'node:assert/strict';
import { test } from 'node:test';
import { compareKeys, SortedKeys } from './sorted-keys.js';

test('compareKeys is UTF-8 byte order', () => {
  const keys = ['b', 'a', '', 'ab', '\uFFFD', '\u{1F600}', '\uE000', 'z\u{10000}', 'z\uFFFF', '\u00e9'];
  const bytes = [...keys].sort((x, y) => Buffer.compare(Buffer.from(x), Buffer.from(y)));
  assert.deepEqual([...keys].sort(compareKeys), bytes);
});

test('SortedKeys keeps order through inserts and deletes across many chunks', () => {
  const s = new SortedKeys();
  const ref = new Set<string>();
  let seed = 7;
  const rnd = (): number => {
    seed = (seed * 1103515245 + 12345) % 2147483648;
    return seed;
  };
  for (let i = 0; i < 20000; i++) {
    const k = `k${rnd() % 5000}`;
    if (rnd() % 3 === 0) {
      s.delete(k);
      ref.delete(k);
    } else {
      s.insert(k);
      ref.add(k);
    }
  }
  const expected = [...ref].sort(compareKeys);
  assert.equal(s.size, expected.length);
  assert.deepEqual(s.keysAfter(null, 1e9), expected);
  const mid = expected[Math.floor(expected.length / 2)]!;
  assert.deepEqual(s.keysAfter(mid, 3), expected.slice(expected.indexOf(mid) + 1, expected.indexOf(mid) + 4));
  const from: string[] = [];
  s.forEachFrom('k2', false, (k) => {
    from.push(k);
    return from.length < 5;
  });
  assert.deepEqual(from, expected.filter((k) => compareKeys(k, 'k2') >= 0).slice(0, 5));
});
