import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { PasswordPolicyViolation } from '../../errors.js';
import { checkPasswordPolicy } from './policy.js';

function ruleOf(password: string): string | undefined {
  try {
    checkPasswordPolicy(password);
    return undefined;
  } catch (err) {
    assert.equal((err as PasswordPolicyViolation).code, 'WK_AUTH_PASSWORD_POLICY');
    if (password !== '') assert.ok(!(err as Error).message.includes(password));
    return (err as PasswordPolicyViolation).rule;
  }
}

describe('password policy', () => {
  test('12 characters, an ASCII letter and a digit pass', () => {
    assert.equal(ruleOf('abcdefghijk1'), undefined);
    assert.equal(ruleOf('1234567890 Z'), undefined);
  });
  test('each rule is named when it fails', () => {
    assert.equal(ruleOf('abcdefghij1'), 'min_length');
    assert.equal(ruleOf(''), 'min_length');
    assert.equal(ruleOf('abcdefghijkl'), 'digit');
    assert.equal(ruleOf('123456789012'), 'letter');
    assert.equal(ruleOf('ääääääääääää1'), 'letter');
  });
  test('length counts characters, not UTF-16 units', () => {
    assert.equal(ruleOf('a1😀😀😀😀😀😀😀😀😀'), 'min_length');
  });
});
