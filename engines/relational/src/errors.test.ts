// Keeps the registry honest: unique stable codes, real SQLSTATEs, only client-safe errors exposed.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { publicError, WeftKitError } from '@weftkit/kernel';
import * as registry from './errors.js';

type ErrorClass = new (message: string) => registry.RelationalError;

const classes: [string, ErrorClass][] = Object.entries(registry as Record<string, unknown>)
  .filter(([, v]) => typeof v === 'function' && v !== registry.RelationalError)
  .filter(([, v]) => (v as { prototype: unknown }).prototype instanceof registry.RelationalError)
  .map(([k, v]) => [k, v as ErrorClass]);

test('every error has a unique WK_REL_ code, a SQLSTATE, and its class name', () => {
  assert.ok(classes.length >= 10);
  const codes = new Set<string>();
  for (const [name, Cls] of classes) {
    const err = new Cls('m');
    assert.ok(err instanceof WeftKitError, name);
    assert.match(err.code, /^WK_REL_[A-Z]+(_[A-Z0-9]+)+$/, name);
    assert.match(err.sqlstate, /^[0-9A-Z]{5}$/, name);
    assert.equal(err.name, name);
    assert.ok(!codes.has(err.code), `duplicate ${err.code}`);
    codes.add(err.code);
  }
});

test('exposed errors carry a specific SQLSTATE and reach the client; others are generic', () => {
  for (const [name, Cls] of classes) {
    const err = new Cls('detail for the client');
    const pub = publicError(err);
    if (err.expose) {
      assert.notEqual(err.sqlstate, 'XX000', name);
      assert.deepEqual([pub.code, pub.sqlstate, pub.message], [err.code, err.sqlstate, 'detail for the client']);
    } else {
      assert.deepEqual([pub.sqlstate, pub.message], ['XX000', 'internal error']);
    }
  }
});
