import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { compileResourcePatterns } from './resource-pattern.js';

describe('resource patterns', () => {
  test('exact, prefix and middle-star patterns', () => {
    const m = compileResourcePatterns(['public.orders', 'app:*', 'logs:*:2024', 'a*b*c']);
    assert.equal(m.matches('public.orders'), true);
    assert.equal(m.matches('public.orders2'), false);
    assert.equal(m.matches('public.order'), false);
    assert.equal(m.matches('app:'), true);
    assert.equal(m.matches('app:users:1'), true);
    assert.equal(m.matches('app'), false);
    assert.equal(m.matches('xapp:1'), false);
    assert.equal(m.matches('logs:eu:2024'), true);
    assert.equal(m.matches('logs::2024'), true);
    assert.equal(m.matches('logs:eu:2025'), false);
    assert.equal(m.matches('abc'), true);
    assert.equal(m.matches('a-b-c'), true);
    assert.equal(m.matches('acb'), false);
    assert.equal(m.matches('ab'), false);
  });

  test('a prefix is found among longer sorted neighbours', () => {
    const m = compileResourcePatterns(['app:x*', 'app:*', 'apq*', 'b*', 'app:zzz*']);
    assert.equal(m.matches('app:y'), true);
    assert.equal(m.matches('app:zzzz'), true);
    assert.equal(m.matches('apq'), true);
    assert.equal(m.matches('apo'), false);
    assert.equal(m.matches('a'), false);
    assert.equal(m.matches('c'), false);
  });

  test('globs sharing a literal prefix, and globs starting with a star', () => {
    const m = compileResourcePatterns(['log:*:1', 'log:*:2', '*.orders', 'k*']);
    assert.equal(m.matches('log:eu:1'), true);
    assert.equal(m.matches('log:eu:2'), true);
    assert.equal(m.matches('log:eu:3'), false);
    assert.equal(m.matches('log:'), false);
    assert.equal(m.matches('public.orders'), true);
    assert.equal(m.matches('public.orders2'), false);
    assert.equal(m.matches('k'), true);
    assert.equal(m.matches('xk'), false);
  });

  test('a prefix whose hash collides with the resource\'s does not match', () => {
    // "Aa" and "BB" have the same 31-based rolling hash.
    const m = compileResourcePatterns(['Aa*', 'Aa*z']);
    assert.equal(m.matches('Aa1'), true);
    assert.equal(m.matches('BB1'), false);
    assert.equal(m.matches('BBz'), false);
  });

  test('a lone star matches everything, the empty resource included', () => {
    const m = compileResourcePatterns(['*']);
    assert.equal(m.matches(''), true);
    assert.equal(m.matches('anything'), true);
  });

  test('globs do not overlap their prefix and suffix', () => {
    const m = compileResourcePatterns(['ab*ba']);
    assert.equal(m.matches('aba'), false);
    assert.equal(m.matches('abba'), true);
    assert.equal(m.matches('ab-ba'), true);
    const n = compileResourcePatterns(['*x*x*']);
    assert.equal(n.matches('x'), false);
    assert.equal(n.matches('xx'), true);
    assert.equal(n.matches('axbxc'), true);
  });

  test('50 patterns: every listed resource matches, others do not', () => {
    const patterns: string[] = [];
    for (let i = 0; i < 20; i++) patterns.push(`public.table_${i}`);
    for (let i = 0; i < 25; i++) patterns.push(`tenant:${i}:*`);
    for (let i = 0; i < 5; i++) patterns.push(`log:*:${i}`);
    const m = compileResourcePatterns(patterns);
    for (let i = 0; i < 20; i++) assert.equal(m.matches(`public.table_${i}`), true);
    for (let i = 0; i < 25; i++) assert.equal(m.matches(`tenant:${i}:key`), true);
    for (let i = 0; i < 5; i++) assert.equal(m.matches(`log:x:${i}`), true);
    assert.equal(m.matches('public.table_20'), false);
    assert.equal(m.matches('tenant:25:key'), false);
    assert.equal(m.matches('tenant:1'), false);
    assert.equal(m.matches('log:x:5'), false);
  });
});
