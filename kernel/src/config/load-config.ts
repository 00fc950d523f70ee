import { ConfigConflict, ConfigInvalid, ConfigInvalidValue, ConfigUnknownVariable, type WeftKitError } from '../errors.js';
import { VARIABLES, type VariableSpec } from './schema.js';
import type { AuditEventName, AuthMethodName, EngineName, KeyProviderConfig, WeftKitConfig } from './types.js';

const SPECS: ReadonlyMap<string, VariableSpec> = new Map(VARIABLES.map((v) => [v.name, v]));

type Value = string | number | boolean | readonly string[];

function editDistance(a: string, b: string): number {
  const row = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    let prev = row[0]!;
    row[0] = i;
    for (let j = 1; j <= b.length; j++) {
      const cur = row[j]!;
      row[j] = Math.min(row[j]! + 1, row[j - 1]! + 1, prev + (a[i - 1] === b[j - 1] ? 0 : 1));
      prev = cur;
    }
  }
  return row[b.length]!;
}

function suggestion(name: string): string {
  let best: string | undefined;
  let bestDistance = 4;
  for (const known of SPECS.keys()) {
    const d = editDistance(name, known);
    if (d < bestDistance) {
      best = known;
      bestDistance = d;
    }
  }
  return best === undefined ? '' : ` (did you mean ${best}?)`;
}

type Outcome = { readonly ok: true; readonly value: Value } | { readonly ok: false; readonly reason: string };
const ok = (value: Value): Outcome => ({ ok: true, value });
const bad = (reason: string): Outcome => ({ ok: false, reason });

// Reasons never contain the value itself: a mistyped secret must not end up in a log.
function parseValue(spec: VariableSpec, raw: string): Outcome {
  const kind = spec.kind;
  switch (kind.type) {
    case 'string':
      return raw.includes('\0') ? bad('must not contain NUL') : ok(raw);
    case 'path':
      return raw.includes('\0') ? bad('must be a file path') : ok(raw);
    case 'url': {
      const url = URL.canParse(raw) ? new URL(raw) : undefined;
      if (url === undefined || (url.protocol !== 'http:' && url.protocol !== 'https:')) {
        return bad('must be an absolute http:// or https:// URL');
      }
      return ok(raw);
    }
    case 'bool':
      if (raw === 'true' || raw === '1') return ok(true);
      if (raw === 'false' || raw === '0') return ok(false);
      return bad('must be true or false');
    case 'int': {
      const n = /^[0-9]{1,16}$/.test(raw) ? Number(raw) : Number.NaN;
      if (!Number.isSafeInteger(n) || n < kind.min || n > kind.max) {
        return bad(`must be a whole number from ${kind.min} to ${kind.max}`);
      }
      return ok(n);
    }
    case 'enum':
      return kind.values.includes(raw) ? ok(raw) : bad(`must be one of: ${kind.values.join(', ')}`);
    case 'list': {
      const items = raw
        .split(',')
        .map((s) => s.trim())
        .filter((s) => s.length > 0);
      if (items.length === 0) return bad('must list at least one value');
      if (kind.values !== undefined && items.some((item) => !kind.values!.includes(item))) {
        return bad(`allows only: ${kind.values.join(', ')}`);
      }
      return ok([...new Set(items)]);
    }
  }
}

/**
 * Validates the WEFTKIT_* variables against the schema and returns the frozen config.
 * Every problem is collected; one problem throws its own coded error, several throw
 * `ConfigInvalid` listing each (variable and reason, never a value).
 */
export function loadConfig(env: Readonly<Record<string, string | undefined>>, engine: EngineName): WeftKitConfig {
  const problems: WeftKitError[] = [];
  const values = new Map<string, Value>();
  const explicit = new Set<string>();

  for (const [name, raw] of Object.entries(env)) {
    if (!name.startsWith('WEFTKIT_') || raw === undefined) continue;
    const spec = SPECS.get(name);
    if (spec === undefined) {
      problems.push(new ConfigUnknownVariable(`${name} is not a WeftKit setting${suggestion(name)}`));
      continue;
    }
    if (raw === '') continue;
    const result = parseValue(spec, raw);
    if (!result.ok) {
      problems.push(new ConfigInvalidValue(`${name} ${result.reason}`));
      continue;
    }
    values.set(name, result.value);
    explicit.add(name);
  }
  for (const spec of VARIABLES) {
    if (values.has(spec.name) || spec.default === undefined) continue;
    const raw = typeof spec.default === 'string' ? spec.default : spec.default[engine === 'kv' ? 'kv' : 'relational'];
    const result = parseValue(spec, raw);
    if (result.ok) values.set(spec.name, result.value);
  }

  const str = (n: string): string | undefined => values.get(n) as string | undefined;
  const num = (n: string): number => values.get(n) as number;
  const bool = (n: string): boolean => values.get(n) === true;
  const list = (n: string): readonly string[] => (values.get(n) as readonly string[] | undefined) ?? [];
  const conflict = (msg: string): void => {
    problems.push(new ConfigConflict(msg));
  };

  const insecureDev = bool('WEFTKIT_INSECURE_DEV');
  const methods = list('WEFTKIT_AUTH') as readonly AuthMethodName[];
  if (methods.includes('none')) {
    if (methods.length > 1) conflict('WEFTKIT_AUTH=none cannot be combined with other methods');
    if (!insecureDev) conflict('WEFTKIT_AUTH=none needs WEFTKIT_INSECURE_DEV=true');
  }

  const mtlsCa = str('WEFTKIT_MTLS_CA');
  const tlsCa = str('WEFTKIT_TLS_CA');
  if (mtlsCa !== undefined && tlsCa !== undefined && mtlsCa !== tlsCa) {
    conflict('WEFTKIT_TLS_CA and WEFTKIT_MTLS_CA name different files (one is an alias of the other)');
  }
  const caFile = mtlsCa ?? tlsCa;
  const certFile = str('WEFTKIT_TLS_CERT');
  const keyFile = str('WEFTKIT_TLS_KEY');
  if ((certFile === undefined) !== (keyFile === undefined)) conflict('WEFTKIT_TLS_CERT and WEFTKIT_TLS_KEY must be set together');
  const tlsRequired = bool('WEFTKIT_TLS_REQUIRED');
  if (tlsRequired && certFile === undefined) conflict('WEFTKIT_TLS_REQUIRED=true needs WEFTKIT_TLS_CERT and WEFTKIT_TLS_KEY');

  let jwt: WeftKitConfig['auth']['jwt'];
  const jwksUri = str('WEFTKIT_JWT_JWKS_URI');
  const publicKeyFile = str('WEFTKIT_JWT_PUBLIC_KEY_FILE');
  if (methods.includes('jwt')) {
    if (jwksUri === undefined && publicKeyFile === undefined) conflict('WEFTKIT_AUTH=jwt needs WEFTKIT_JWT_JWKS_URI or WEFTKIT_JWT_PUBLIC_KEY_FILE');
    if (jwksUri !== undefined && publicKeyFile !== undefined) conflict('set only one of WEFTKIT_JWT_JWKS_URI and WEFTKIT_JWT_PUBLIC_KEY_FILE');
    jwt = {
      ...(jwksUri === undefined ? {} : { jwksUri }),
      ...(publicKeyFile === undefined ? {} : { publicKeyFile }),
      ...(str('WEFTKIT_JWT_ISSUER') === undefined ? {} : { issuer: str('WEFTKIT_JWT_ISSUER')! }),
      ...(str('WEFTKIT_JWT_AUDIENCE') === undefined ? {} : { audience: str('WEFTKIT_JWT_AUDIENCE')! }),
      algorithms: list('WEFTKIT_JWT_ALGORITHMS'),
      clockToleranceSeconds: num('WEFTKIT_JWT_CLOCK_TOLERANCE_SECONDS'),
      tenantClaim: str('WEFTKIT_JWT_TENANT_CLAIM')!,
      rolesClaim: str('WEFTKIT_JWT_ROLES_CLAIM')!,
    };
  }

  let mtls: WeftKitConfig['auth']['mtls'];
  if (methods.includes('mtls')) {
    if (caFile === undefined) conflict('WEFTKIT_AUTH=mtls needs WEFTKIT_MTLS_CA (or WEFTKIT_TLS_CA)');
    if (certFile === undefined) conflict('WEFTKIT_AUTH=mtls needs WEFTKIT_TLS_CERT and WEFTKIT_TLS_KEY');
    mtls = { caFile: caFile ?? '', tenantAttribute: str('WEFTKIT_MTLS_TENANT_ATTRIBUTE')! };
  }

  const mode = str('WEFTKIT_ENCRYPTION') as 'aes-256-gcm' | 'off';
  if (mode === 'off' && !insecureDev) conflict('WEFTKIT_ENCRYPTION=off needs WEFTKIT_INSECURE_DEV=true');
  const provider = keyProvider(str, conflict);

  const audit = {
    enabled: bool('WEFTKIT_AUDIT'),
    output: str('WEFTKIT_AUDIT_OUTPUT')!,
    events: list('WEFTKIT_AUDIT_EVENTS') as readonly AuditEventName[],
    allowBrokenChain: bool('WEFTKIT_AUDIT_ALLOW_BROKEN_CHAIN'),
    rotateBytes: num('WEFTKIT_AUDIT_ROTATE_BYTES'),
  };

  if (problems.length === 1) throw problems[0];
  if (problems.length > 1) {
    throw new ConfigInvalid(`invalid configuration:\n${problems.map((p) => `  ${p.code}: ${p.message}`).join('\n')}`, problems);
  }

  const config: WeftKitConfig = {
    engine,
    insecureDev,
    logLevel: str('WEFTKIT_LOG_LEVEL') as WeftKitConfig['logLevel'],
    listen: { host: str('WEFTKIT_HOST')!, port: num('WEFTKIT_PORT') },
    ops: { host: str('WEFTKIT_OPS_HOST')!, port: num('WEFTKIT_OPS_PORT') },
    dataDir: str('WEFTKIT_DATA_DIR')!,
    auth: {
      methods,
      usersFile: str('WEFTKIT_AUTH_USERS_FILE')!,
      failureWindowSeconds: num('WEFTKIT_AUTH_FAILURE_WINDOW_SECONDS'),
      failureLimit: num('WEFTKIT_AUTH_FAILURE_LIMIT'),
      lockoutSeconds: num('WEFTKIT_AUTH_LOCKOUT_SECONDS'),
      ...(jwt === undefined ? {} : { jwt }),
      ...(mtls === undefined ? {} : { mtls }),
    },
    rolesFile: str('WEFTKIT_ROLES_FILE')!,
    rolesFileExplicit: explicit.has('WEFTKIT_ROLES_FILE'),
    encryption: {
      mode,
      provider,
      dekCacheTtlSeconds: num('WEFTKIT_DEK_CACHE_TTL_SECONDS'),
      keyProviderTimeoutSeconds: num('WEFTKIT_KEY_PROVIDER_TIMEOUT_SECONDS'),
    },
    audit,
    ...(certFile !== undefined && keyFile !== undefined
      ? { tls: { certFile, keyFile, ...(caFile === undefined ? {} : { caFile }) } }
      : {}),
    tlsRequired,
    limits: {
      maxConnections: num('WEFTKIT_MAX_CONNECTIONS'),
      startupTimeoutSeconds: num('WEFTKIT_STARTUP_TIMEOUT_SECONDS'),
      idleInTransactionTimeoutSeconds: num('WEFTKIT_IDLE_IN_TRANSACTION_TIMEOUT_SECONDS'),
      maxMessageBytes: num('WEFTKIT_MAX_MESSAGE_BYTES'),
      sessionWaitTimeoutSeconds: num('WEFTKIT_SESSION_WAIT_TIMEOUT_SECONDS'),
      maxOpenTenants: num('WEFTKIT_MAX_OPEN_TENANTS'),
      maxValueBytes: num('WEFTKIT_MAX_VALUE_BYTES'),
    },
  };
  return deepFreeze(config);
}

function keyProvider(str: (n: string) => string | undefined, conflict: (msg: string) => void): KeyProviderConfig {
  const key = str('WEFTKIT_KEY');
  const keyFile = str('WEFTKIT_KEY_FILE');
  const kind = str('WEFTKIT_KEY_PROVIDER') ?? (key !== undefined ? 'env' : keyFile !== undefined ? 'file' : 'dev');
  const need = (name: string, value: string | undefined): string => {
    if (value === undefined) conflict(`WEFTKIT_KEY_PROVIDER=${kind} needs ${name}`);
    return value ?? '';
  };
  if (key !== undefined && kind !== 'env') conflict(`WEFTKIT_KEY is set but WEFTKIT_KEY_PROVIDER is ${kind}`);
  if (keyFile !== undefined && kind !== 'file') conflict(`WEFTKIT_KEY_FILE is set but WEFTKIT_KEY_PROVIDER is ${kind}`);
  const optional = (name: string, field: string): Record<string, string> => {
    const v = str(name);
    return v === undefined ? {} : { [field]: v };
  };
  switch (kind) {
    case 'env':
      return { kind, key: need('WEFTKIT_KEY', key) };
    case 'file':
      return { kind, keyFile: need('WEFTKIT_KEY_FILE', keyFile) };
    case 'vault': {
      const token = str('WEFTKIT_VAULT_TOKEN');
      const roleId = str('WEFTKIT_VAULT_ROLE_ID');
      const secretId = str('WEFTKIT_VAULT_SECRET_ID');
      if (token !== undefined && (roleId !== undefined || secretId !== undefined)) {
        conflict('set either WEFTKIT_VAULT_TOKEN or WEFTKIT_VAULT_ROLE_ID with WEFTKIT_VAULT_SECRET_ID, not both');
      } else if (token === undefined && roleId === undefined && secretId === undefined) {
        conflict('WEFTKIT_KEY_PROVIDER=vault needs WEFTKIT_VAULT_TOKEN (or WEFTKIT_VAULT_ROLE_ID with WEFTKIT_VAULT_SECRET_ID)');
      } else if (token === undefined && (roleId === undefined || secretId === undefined)) {
        conflict('WEFTKIT_VAULT_ROLE_ID and WEFTKIT_VAULT_SECRET_ID must be set together');
      }
      return {
        kind,
        addr: need('WEFTKIT_VAULT_ADDR', str('WEFTKIT_VAULT_ADDR')),
        transitKey: need('WEFTKIT_VAULT_TRANSIT_KEY', str('WEFTKIT_VAULT_TRANSIT_KEY')),
        transitMount: str('WEFTKIT_VAULT_TRANSIT_MOUNT') ?? 'transit',
        ...optional('WEFTKIT_VAULT_NAMESPACE', 'namespace'),
        ...(token === undefined ? { appRole: { roleId: roleId ?? '', secretId: secretId ?? '' } } : { token }),
      };
    }
    case 'kms':
      return {
        kind,
        keyArn: need('WEFTKIT_KMS_KEY_ARN', str('WEFTKIT_KMS_KEY_ARN')),
        region: need('WEFTKIT_KMS_REGION', str('WEFTKIT_KMS_REGION')),
        ...optional('WEFTKIT_KMS_ENDPOINT', 'endpoint'),
      };
    case 'gcp-kms':
      return { kind, key: need('WEFTKIT_GCP_KMS_KEY', str('WEFTKIT_GCP_KMS_KEY')), ...optional('WEFTKIT_GCP_KMS_ENDPOINT', 'endpoint') };
    default:
      return { kind: 'dev' };
  }
}

function deepFreeze<T>(value: T): T {
  if (value !== null && typeof value === 'object') {
    for (const v of Object.values(value as Record<string, unknown>)) deepFreeze(v);
    Object.freeze(value);
  }
  return value;
}
