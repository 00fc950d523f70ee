import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { loadConfig } from './load-config.js';

const codeOf = (fn: () => unknown): string => {
  try {
    fn();
  } catch (err) {
    return (err as { code: string }).code;
  }
  return 'no error';
};
const messageOf = (fn: () => unknown): string => {
  try {
    fn();
  } catch (err) {
    return (err as Error).message;
  }
  return '';
};

describe('loadConfig', () => {
  test('defaults follow the contract, per engine', () => {
    const rel = loadConfig({}, 'relational');
    assert.equal(rel.listen.port, 20000);
    assert.equal(rel.ops.port, 20001);
    assert.deepEqual(rel.auth.methods, ['password']);
    assert.equal(rel.auth.usersFile, '/etc/weftkit/users.htpasswd');
    assert.equal(rel.encryption.mode, 'aes-256-gcm');
    assert.deepEqual(rel.encryption.provider, { kind: 'dev' });
    assert.deepEqual(rel.audit.events, ['auth', 'authz_deny', 'schema_change', 'data_export']);
    assert.equal(rel.limits.maxMessageBytes, 64 * 1024 * 1024);
    assert.equal(rel.limits.maxConnections, 200);
    const kv = loadConfig({}, 'kv');
    assert.equal(kv.listen.port, 20004);
    assert.equal(kv.ops.port, 20005);
    assert.equal(kv.limits.maxValueBytes, 1024 * 1024);
  });

  test('the result is frozen at every level', () => {
    const c = loadConfig({ WEFTKIT_AUTH: 'password,jwt', WEFTKIT_JWT_JWKS_URI: 'https://idp.example/jwks' }, 'kv');
    assert.ok(Object.isFrozen(c) && Object.isFrozen(c.auth) && Object.isFrozen(c.auth.jwt) && Object.isFrozen(c.auth.methods));
    assert.throws(() => (c.auth.methods as string[]).push('none'), TypeError);
  });

  test('the seed configurations load', () => {
    const key = Buffer.alloc(32, 7).toString('base64');
    const c = loadConfig(
      {
        WEFTKIT_AUTH: 'password',
        WEFTKIT_AUTH_USERS_FILE: '/etc/weftkit/users.htpasswd',
        WEFTKIT_ENCRYPTION: 'aes-256-gcm',
        WEFTKIT_KEY_PROVIDER: 'env',
        WEFTKIT_KEY: key,
        WEFTKIT_AUDIT: 'true',
        WEFTKIT_AUDIT_OUTPUT: '/var/log/weftkit/audit.jsonl',
        WEFTKIT_AUDIT_EVENTS: 'auth,authz_deny,schema_change,data_export',
        WEFTKIT_TLS_CERT: '/etc/weftkit/tls/server.crt',
        WEFTKIT_TLS_KEY: '/etc/weftkit/tls/server.key',
        WEFTKIT_TLS_CA: '/etc/weftkit/tls/ca.crt',
      },
      'relational',
    );
    assert.deepEqual(c.encryption.provider, { kind: 'env', key });
    assert.equal(c.tls?.caFile, '/etc/weftkit/tls/ca.crt');
    assert.equal(c.audit.enabled, true);
    const m = loadConfig({ WEFTKIT_AUTH: 'mtls', WEFTKIT_MTLS_CA: '/ca', WEFTKIT_TLS_CERT: '/c', WEFTKIT_TLS_KEY: '/k' }, 'relational');
    assert.deepEqual(m.auth.mtls, { caFile: '/ca', tenantAttribute: 'O' });
  });

  test('an unknown WEFTKIT_ variable (a typo) stops start-up and is named, with a suggestion', () => {
    const fn = () => loadConfig({ WEFTKIT_AUHT: 'password' }, 'kv');
    assert.equal(codeOf(fn), 'WK_CONFIG_UNKNOWN_VARIABLE');
    assert.match(messageOf(fn), /WEFTKIT_AUHT.*did you mean WEFTKIT_AUTH/);
    // Variables outside the WEFTKIT_ namespace are none of our business.
    assert.doesNotThrow(() => loadConfig({ PATH: '/bin', WEFTKITX: '1' }, 'kv'));
  });

  for (const [name, value] of [
    ['WEFTKIT_PORT', '70000'],
    ['WEFTKIT_PORT', '20x'],
    ['WEFTKIT_PORT', '-1'],
    ['WEFTKIT_AUDIT', 'yes'],
    ['WEFTKIT_AUTH', 'password,kerberos'],
    ['WEFTKIT_AUTH', ' , '],
    ['WEFTKIT_ENCRYPTION', 'aes-128-cbc'],
    ['WEFTKIT_JWT_JWKS_URI', 'file:///etc/passwd'],
    ['WEFTKIT_JWT_ALGORITHMS', 'RS256,none'],
    ['WEFTKIT_JWT_ALGORITHMS', 'HS256'],
    ['WEFTKIT_AUDIT_EVENTS', 'auth,everything'],
    ['WEFTKIT_MAX_MESSAGE_BYTES', '99999999999999999999'],
  ] as const) {
    test(`${name}=${JSON.stringify(value)} is refused, naming the variable but not the value`, () => {
      const fn = () => loadConfig({ [name]: value }, 'relational');
      assert.equal(codeOf(fn), 'WK_CONFIG_INVALID_VALUE');
      const msg = messageOf(fn);
      assert.ok(msg.startsWith(name), msg);
      assert.ok(!msg.includes(value.trim() || '\u0000'), msg);
    });
  }

  test('insecure settings need WEFTKIT_INSECURE_DEV=true', () => {
    assert.equal(codeOf(() => loadConfig({ WEFTKIT_AUTH: 'none' }, 'kv')), 'WK_CONFIG_CONFLICT');
    assert.equal(codeOf(() => loadConfig({ WEFTKIT_ENCRYPTION: 'off' }, 'kv')), 'WK_CONFIG_CONFLICT');
    assert.equal(codeOf(() => loadConfig({ WEFTKIT_AUTH: 'none,password', WEFTKIT_INSECURE_DEV: 'true' }, 'kv')), 'WK_CONFIG_CONFLICT');
    const dev = loadConfig({ WEFTKIT_AUTH: 'none', WEFTKIT_ENCRYPTION: 'off', WEFTKIT_INSECURE_DEV: 'true' }, 'kv');
    assert.deepEqual(dev.auth.methods, ['none']);
  });

  test('methods without what they need are refused', () => {
    assert.equal(codeOf(() => loadConfig({ WEFTKIT_AUTH: 'jwt' }, 'kv')), 'WK_CONFIG_CONFLICT');
    assert.equal(codeOf(() => loadConfig({ WEFTKIT_AUTH: 'mtls', WEFTKIT_MTLS_CA: '/ca' }, 'kv')), 'WK_CONFIG_CONFLICT');
    assert.equal(codeOf(() => loadConfig({ WEFTKIT_TLS_CERT: '/c' }, 'kv')), 'WK_CONFIG_CONFLICT');
    assert.equal(codeOf(() => loadConfig({ WEFTKIT_TLS_REQUIRED: 'true' }, 'kv')), 'WK_CONFIG_CONFLICT');
    assert.equal(codeOf(() => loadConfig({ WEFTKIT_KEY_PROVIDER: 'kms', WEFTKIT_KMS_REGION: 'eu-west-1' }, 'kv')), 'WK_CONFIG_CONFLICT');
    assert.throws(() => loadConfig({ WEFTKIT_KEY_PROVIDER: 'vault', WEFTKIT_VAULT_ADDR: 'http://127.0.0.1:8200' }, 'kv'), (err: { code: string; problems: { code: string }[] }) => {
      assert.equal(err.code, 'WK_CONFIG_INVALID');
      assert.deepEqual(err.problems.map((p) => p.code), ['WK_CONFIG_CONFLICT', 'WK_CONFIG_CONFLICT']);
      return true;
    });
    assert.equal(codeOf(() => loadConfig({ WEFTKIT_TLS_CA: '/a', WEFTKIT_MTLS_CA: '/b' }, 'kv')), 'WK_CONFIG_CONFLICT');
  });

  test('the key provider is inferred from the key variables, and a secret is never echoed', () => {
    const key = Buffer.alloc(32, 9).toString('base64');
    assert.equal(loadConfig({ WEFTKIT_KEY: key }, 'kv').encryption.provider.kind, 'env');
    assert.equal(loadConfig({ WEFTKIT_KEY_FILE: '/run/secrets/kek' }, 'kv').encryption.provider.kind, 'file');
    const fn = () => loadConfig({ WEFTKIT_KEY: key, WEFTKIT_KEY_PROVIDER: 'file', WEFTKIT_VAULT_TOKEN: 's.secret-token-123' }, 'kv');
    assert.ok(['WK_CONFIG_CONFLICT', 'WK_CONFIG_INVALID'].includes(codeOf(fn)));
    assert.ok(!messageOf(fn).includes(key));
    assert.ok(!messageOf(fn).includes('secret-token-123'));
  });

  test('several problems are reported together, each with its code', () => {
    try {
      loadConfig({ WEFTKIT_PORT: 'x', WEFTKIT_TYPO: '1', WEFTKIT_AUTH: 'none' }, 'kv');
      assert.fail('should throw');
    } catch (err) {
      const e = err as { code: string; problems: { code: string }[] };
      assert.equal(e.code, 'WK_CONFIG_INVALID');
      assert.deepEqual(e.problems.map((p) => p.code).sort(), ['WK_CONFIG_CONFLICT', 'WK_CONFIG_INVALID_VALUE', 'WK_CONFIG_UNKNOWN_VARIABLE']);
    }
  });

  test('an empty value means unset', () => {
    assert.equal(loadConfig({ WEFTKIT_PORT: '' }, 'kv').listen.port, 20004);
  });
});
