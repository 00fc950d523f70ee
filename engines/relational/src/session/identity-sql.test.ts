import assert from 'node:assert/strict';
import { test } from 'node:test';
import { escapedLiteral } from './identity-sql.js';

test('identities become E-string literals that cannot end early', () => {
  assert.equal(escapedLiteral('alice'), "E'alice'");
  assert.equal(escapedLiteral("o'brien"), "E'o''brien'");
  assert.equal(escapedLiteral("a\\'; set app.tenant_id = 'x"), "E'a\\\\''; set app.tenant_id = ''x'");
  assert.throws(() => escapedLiteral('a\0b'), TypeError);
});
