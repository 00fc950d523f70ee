import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { test } from 'node:test';
import * as errors from './errors.js';
import { publicError, WeftKitError } from './errors.js';

type ErrorClass = new (message: string, ...rest: never[]) => WeftKitError;
const classes = Object.values(errors).filter(
  (v): v is ErrorClass => typeof v === 'function' && v.prototype instanceof WeftKitError,
);
const instances = classes.map((C) => new (C as unknown as new (m: string, p: never[]) => WeftKitError)('m', []));

test('every kernel error has a unique, well-formed code and a valid SQLSTATE and HTTP status', () => {
  assert.ok(instances.length >= 5);
  const codes = instances.map((e) => e.code);
  assert.equal(new Set(codes).size, codes.length, 'codes are never reused');
  for (const e of instances) {
    assert.match(e.code, /^WK_[A-Z0-9]+(_[A-Z0-9]+)+$/, e.code);
    assert.match(e.sqlstate, /^[0-9A-Z]{5}$/, e.code);
    assert.ok(e.httpStatus >= 400 && e.httpStatus <= 599, e.code);
    assert.equal(e.name, e.constructor.name);
  }
});

test('docs/errors.md lists every kernel error code', async () => {
  const doc = await readFile(new URL('../../docs/errors.md', import.meta.url), 'utf8');
  const missing = instances.map((e) => e.code).filter((code) => !doc.includes(`\`${code}\``));
  assert.deepEqual(missing, [], 'add these codes to docs/errors.md');
});

test('publicError never reveals the message of an error that is not exposable', () => {
  class Internal extends WeftKitError {
    readonly code = 'WK_TEST_INTERNAL';
  }
  assert.deepEqual(publicError(new Internal('db password is hunter2')).message, 'internal error');
  assert.equal(publicError(new Error('ENOENT /secret/path')).message, 'internal error');
  const exposed = publicError(new errors.InvalidTenantName('tenant name is not valid'));
  assert.equal(exposed.code, 'WK_IDENTITY_INVALID_TENANT');
  assert.equal(exposed.sqlstate, '28000');
  assert.equal(exposed.message, 'tenant name is not valid');
});
