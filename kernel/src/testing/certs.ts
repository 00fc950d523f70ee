// Test-time PKI built with the `openssl` CLI (OpenSSL 3.0) in a temporary directory. Nothing here
// is committed key material: every run makes fresh EC P-256 keys. Excluded from the build.
import { execFile } from 'node:child_process';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);

export interface PemFile {
  readonly path: string;
  readonly pem: string;
}

export interface TestCa {
  readonly name: string;
  readonly cert: PemFile;
  readonly key: PemFile;
}

export interface IssuedCert {
  readonly cert: PemFile;
  readonly key: PemFile;
}

/**
 * A subject: either OpenSSL `-subj` syntax (`/CN=alice+O=tenant-001/OU=ops`; `+` joins a
 * multi-valued RDN, `\` escapes the next character), or a record with one RDN per key, in order,
 * whose values are taken literally (`{ CN: 'a,b' }`).
 */
export type SubjectSpec = string | Readonly<Record<string, string>>;

export interface IssueOptions {
  readonly subject: SubjectSpec;
  /** Extended key usage; `client` by default. */
  readonly usage?: 'client' | 'server';
  /** subjectAltName entries, e.g. `['DNS:localhost', 'IP:127.0.0.1']`. */
  readonly san?: readonly string[];
  /** `expired` ended a day ago; `not-yet-valid` starts tomorrow. Default `valid` (2 days). */
  readonly validity?: 'valid' | 'expired' | 'not-yet-valid';
  /** `utf8only` (default) encodes values as UTF8String; `default` lets OpenSSL pick PrintableString. */
  readonly stringMask?: 'utf8only' | 'default';
  /** Issuing CA; the PKI's main CA by default. */
  readonly ca?: TestCa;
}

export interface TestPki {
  readonly dir: string;
  /** The CA the server trusts for client certificates (and that signs the server certificate). */
  readonly ca: TestCa;
  /** An unrelated CA: its certificates must not be accepted. */
  readonly otherCa: TestCa;
  issue(options: IssueOptions): Promise<IssuedCert>;
  /** A client certificate of the main CA (or `options.ca`). */
  client(subject: SubjectSpec, options?: Omit<IssueOptions, 'subject'>): Promise<IssuedCert>;
  /** A server certificate for localhost / 127.0.0.1 / ::1. */
  server(options?: Omit<IssueOptions, 'subject' | 'usage' | 'san'>): Promise<IssuedCert>;
  /** A fresh private key that matches no certificate. */
  unrelatedKey(): Promise<PemFile>;
  /** Writes arbitrary contents (e.g. a broken PEM) into the PKI directory. */
  writeFile(name: string, contents: string): Promise<string>;
  cleanup(): Promise<void>;
}

/** Escapes a literal value for `-subj`: OpenSSL takes the character after `\` as is. */
function escapeSubjValue(value: string): string {
  return value.replace(/[\\/+=]/g, (c) => `\\${c}`);
}

export function subjectArgument(subject: SubjectSpec): string {
  if (typeof subject === 'string') return subject;
  return Object.entries(subject)
    .map(([type, value]) => `/${type}=${escapeSubjValue(value)}`)
    .join('');
}

function stamp(date: Date): string {
  return `${date.toISOString().replace(/[-:T]/g, '').slice(0, 14)}Z`;
}

const DAY = 86_400_000;

function caConfig(dir: string): string {
  return `[ ca ]
default_ca = test_ca
[ test_ca ]
database = ${dir}/index.txt
new_certs_dir = ${dir}
serial = ${dir}/serial
default_md = sha256
policy = policy_any
unique_subject = no
copy_extensions = none
email_in_dn = no
[ policy_any ]
commonName = optional
`;
}

function reqConfig(stringMask: string): string {
  return `[ req ]
distinguished_name = dn
string_mask = ${stringMask}
utf8 = yes
[ dn ]
`;
}

export async function createTestPki(): Promise<TestPki> {
  const dir = await mkdtemp(join(tmpdir(), 'weftkit-pki-'));
  let counter = 0;
  const nextName = (prefix: string): string => `${prefix}-${++counter}`;
  // `openssl ca` updates its database and serial file, so issuance is serialized per PKI.
  let queue: Promise<unknown> = Promise.resolve();
  const serialized = <T>(job: () => Promise<T>): Promise<T> => {
    const result = queue.then(job, job);
    queue = result.catch(() => undefined);
    return result;
  };

  const write = async (name: string, contents: string): Promise<string> => {
    const path = join(dir, name);
    await writeFile(path, contents, { mode: 0o600 });
    return path;
  };
  const pemFile = async (path: string): Promise<PemFile> => ({ path, pem: await readFile(path, 'utf8') });

  const newKey = async (name: string): Promise<PemFile> => {
    const path = join(dir, `${name}.key`);
    await run('openssl', ['genpkey', '-algorithm', 'EC', '-pkeyopt', 'ec_paramgen_curve:P-256', '-out', path]);
    return pemFile(path);
  };

  const reqCnf = {
    utf8only: await write('req-utf8only.cnf', reqConfig('utf8only')),
    default: await write('req-default.cnf', reqConfig('default')),
  };

  const makeCa = async (name: string): Promise<TestCa> => {
    const key = await newKey(name);
    const certPath = join(dir, `${name}.pem`);
    await run('openssl', [
      'req', '-x509', '-new', '-config', reqCnf.utf8only, '-key', key.path, '-subj', `/CN=${name}`, '-days', '3',
      '-addext', 'basicConstraints=critical,CA:TRUE', '-addext', 'keyUsage=critical,keyCertSign,cRLSign',
      '-out', certPath,
    ]);
    const caDir = join(dir, `${name}-db`);
    await mkdir(caDir);
    await writeFile(join(caDir, 'index.txt'), '');
    await writeFile(join(caDir, 'serial'), '1000\n');
    await writeFile(join(caDir, 'ca.cnf'), caConfig(caDir));
    return { name, cert: await pemFile(certPath), key };
  };

  const ca = await makeCa('test-ca');
  const otherCa = await makeCa('other-ca');

  const issue = (options: IssueOptions): Promise<IssuedCert> =>
    serialized(async () => {
      const issuer = options.ca ?? ca;
      const name = nextName(options.usage ?? 'client');
      const key = await newKey(name);
      const csr = join(dir, `${name}.csr`);
      await run('openssl', [
        'req', '-new', '-utf8', '-config', reqCnf[options.stringMask ?? 'utf8only'], '-key', key.path,
        '-subj', subjectArgument(options.subject), '-out', csr,
      ]);
      const ext = [
        '[ ext ]',
        'basicConstraints = CA:FALSE',
        'keyUsage = critical,digitalSignature',
        `extendedKeyUsage = ${options.usage === 'server' ? 'serverAuth' : 'clientAuth'}`,
        ...(options.san && options.san.length > 0 ? [`subjectAltName = ${options.san.join(',')}`] : []),
      ].join('\n');
      const extFile = await write(`${name}.ext`, `${ext}\n`);
      const now = Date.now();
      const [start, end] =
        options.validity === 'expired'
          ? [now - 3 * DAY, now - DAY]
          : options.validity === 'not-yet-valid'
            ? [now + DAY, now + 3 * DAY]
            : [now - 60_000, now + 2 * DAY];
      const certPath = join(dir, `${name}.pem`);
      await run('openssl', [
        'ca', '-batch', '-config', join(dir, `${issuer.name}-db`, 'ca.cnf'), '-cert', issuer.cert.path,
        '-keyfile', issuer.key.path, '-in', csr, '-out', certPath, '-startdate', stamp(new Date(start)),
        '-enddate', stamp(new Date(end)), '-preserveDN', '-extfile', extFile, '-extensions', 'ext', '-notext',
      ]);
      return { cert: await pemFile(certPath), key };
    });

  return {
    dir,
    ca,
    otherCa,
    issue,
    client: (subject, options = {}) => issue({ ...options, subject, usage: 'client' }),
    server: (options = {}) =>
      issue({ ...options, subject: '/CN=localhost', usage: 'server', san: ['DNS:localhost', 'IP:127.0.0.1', 'IP:::1'] }),
    unrelatedKey: () => newKey(nextName('unrelated')),
    writeFile: write,
    cleanup: () => rm(dir, { recursive: true, force: true }),
  };
}
