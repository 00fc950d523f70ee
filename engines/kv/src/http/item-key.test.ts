import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { checkKey, decodeKey, keyFromUrl } from './item-key.js';
import { parseIfMatch, parseTtl, versionOfEtag } from './preconditions.js';
import { parseQueryString } from './query-string.js';

const codeOf = (fn: () => unknown): string | undefined => {
  try {
    fn();
  } catch (err) {
    return (err as { code?: string }).code;
  }
  return undefined;
};

describe('item keys', () => {
  test('decoded exactly once; slashes and dots are ordinary characters', () => {
    assert.equal(keyFromUrl('/items/..%2F..%2Fetc%2Fpasswd?ttl=1', 7), '../../etc/passwd');
    assert.equal(keyFromUrl('/items/a/b/../c', 7), 'a/b/../c');
    assert.equal(decodeKey('%2541'), '%41');
    assert.equal(decodeKey(Buffer.from('clé', 'utf8').toString('latin1')), 'clé');
  });

  test('refuses empty, oversize, malformed and control-character keys with codes', () => {
    assert.equal(codeOf(() => decodeKey('')), 'WK_KV_KEY_EMPTY');
    assert.equal(codeOf(() => checkKey('x'.repeat(1025))), 'WK_KV_KEY_TOO_LONG');
    assert.equal(checkKey('x'.repeat(1024)).length, 1024);
    assert.equal(codeOf(() => checkKey('€'.repeat(342))), 'WK_KV_KEY_TOO_LONG');
    for (const bad of ['%FF', '%C3', '%ED%A0%80', '%00', '%1B', '%7F', '%C2%85']) assert.equal(codeOf(() => decodeKey(bad)), 'WK_KV_KEY_INVALID', bad);
    assert.equal(codeOf(() => checkKey('\ud800x')), 'WK_KV_KEY_INVALID');
    assert.equal(checkKey('', 'prefix', true), '');
  });
});

describe('request headers and query', () => {
  test('entity tags, If-Match and TTLs', () => {
    assert.equal(versionOfEtag('"42"'), 42);
    assert.equal(versionOfEtag('W/"42"'), 42);
    assert.equal(versionOfEtag('"x"'), null);
    assert.deepEqual(parseIfMatch('*'), { kind: 'any' });
    assert.deepEqual(parseIfMatch('"abc"'), { kind: 'none' });
    assert.equal(codeOf(() => parseIfMatch('"1", "2"')), 'WK_KV_INVALID_REQUEST');
    assert.equal(parseTtl(' 30 ', 'ttl'), 30);
    for (const bad of ['0', '1.5', '-1', '99999999999', 'abc']) assert.equal(codeOf(() => parseTtl(bad, 'ttl')), 'WK_KV_INVALID_REQUEST', bad);
  });

  test('query strings decode once and turn undecodable values into a refused NUL', () => {
    assert.deepEqual({ ...parseQueryString('prefix=a%2Fb&limit=2&x') }, { prefix: 'a/b', limit: '2', x: '' });
    assert.equal(parseQueryString('prefix=%FF').prefix, '\u0000');
    assert.deepEqual(parseQueryString('a=1&a=2').a, ['1', '2']);
  });
});
