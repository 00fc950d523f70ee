import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { test } from 'node:test';
import * as errors from './errors.js';
import { publicError, WeftKitError } from './errors.js';

interface Declared {
  name: string;
  code: string;
  sqlstate?: string;
  httpStatus?: number;
}

// Read from the source: several classes take constructor arguments of their own, so the
// registry is checked as written rather than by constructing each class.
async function declaredErrors(): Promise<Declared[]> {
  const source = await readFile(new URL('./errors.ts', import.meta.url), 'utf8');
  const out: Declared[] = [];
  const classRe = /export class (\w+) extends WeftKitError \{([\s\S]*?)\n\}/g;
  for (const m of source.matchAll(classRe)) {
    const body = m[2]!;
    const code = /readonly code = '([^']+)'/.exec(body)?.[1];
    assert.ok(code, `${m[1]} declares a code`);
    const sqlstate = /readonly sqlstate = '([^']+)'/.exec(body)?.[1];
    const http = /readonly httpStatus = (\d+)/.exec(body)?.[1];
    out.push({ name: m[1]!, code, ...(sqlstate ? { sqlstate } : {}), ...(http ? { httpStatus: Number(http) } : {}) });
  }
  return out;
}

test('every kernel error has a unique, well-formed code, SQLSTATE and HTTP status', async () => {
  const declared = await declaredErrors();
  const exported = Object.values(errors).filter((v) => typeof v === 'function' && v.prototype instanceof WeftKitError);
  assert.equal(declared.length, exported.length, 'every error class is exported and parsed');
  const codes = declared.map((e) => e.code);
  assert.equal(new Set(codes).size, codes.length, 'codes are never reused');
  for (const e of declared) {
    assert.match(e.code, /^WK_[A-Z0-9]+(_[A-Z0-9]+)+$/, e.name);
    if (e.sqlstate !== undefined) assert.match(e.sqlstate, /^[0-9A-Z]{5}$/, e.name);
    if (e.httpStatus !== undefined) assert.ok(e.httpStatus >= 400 && e.httpStatus <= 599, e.name);
  }
});

test('docs/errors.md lists every kernel error code', async () => {
  const doc = await readFile(new URL('../../docs/errors.md', import.meta.url), 'utf8');
  const missing = (await declaredErrors()).map((e) => e.code).filter((code) => !doc.includes(`\`${code}\``));
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
