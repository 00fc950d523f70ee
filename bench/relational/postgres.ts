// A throwaway PostgreSQL 15 cluster: initdb into a temporary directory, SCRAM password auth for
// TCP, listening on 127.0.0.1 at a free port with the default durability (fsync on), optionally
// with TLS (1.3 only, like WeftKit) on the same port. As root the binaries run as the `postgres`
// OS user, which then owns the directory.
import { randomBytes } from 'node:crypto';
import { chmod, chown, copyFile, mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { PgbenchTarget } from './pgbench.js';
import { cleanEnv, freePort, run, runAsync } from '../lib/processes.js';

const USER = 'bench';

export interface PostgresOptions {
  /** PEM server certificate and key: the cluster then runs with ssl=on (clients choose via PGSSLMODE). */
  readonly tls?: { readonly certFile: string; readonly keyFile: string };
}

export interface PostgresCluster {
  readonly target: PgbenchTarget;
  readonly version: string;
  /** The cluster's data directory (postmaster.pid names the server process). */
  readonly dataDir: string;
  stop(): Promise<void>;
}

interface OsUser {
  uid: number;
  gid: number;
  name: string;
}

function postgresOsUser(): OsUser | undefined {
  if (process.getuid?.() !== 0) return undefined;
  const out = run('id', ['-u', 'postgres']).trim();
  const gid = run('id', ['-g', 'postgres']).trim();
  return { uid: Number(out.split('\n')[0]), gid: Number(gid.split('\n')[0]), name: 'postgres' };
}

export async function startPostgres(binDir: string, dir: string, opts: PostgresOptions = {}): Promise<PostgresCluster> {
  const osUser = postgresOsUser();
  const as = (command: string, args: readonly string[]): [string, string[]] =>
    osUser === undefined ? [command, [...args]] : ['runuser', ['-u', osUser.name, '--', command, ...args]];
  await mkdir(dir, { recursive: true });
  // The parent temp dir is 0700 root's: the postgres user must be able to reach into it.
  if (osUser !== undefined) {
    await chmod(join(dir, '..'), 0o711);
    await chown(dir, osUser.uid, osUser.gid);
  }
  const data = join(dir, 'data');
  const password = randomBytes(18).toString('base64url');
  const pwfile = join(dir, 'pwfile');
  await writeFile(pwfile, `${password}\n`, { mode: 0o600 });
  if (osUser !== undefined) await chown(pwfile, osUser.uid, osUser.gid);
  const env = cleanEnv({ LC_ALL: 'C' });
  const initdb = as(join(binDir, 'initdb'), [
    '-D',
    data,
    '-U',
    USER,
    `--pwfile=${pwfile}`,
    '--auth-host=scram-sha-256',
    '--auth-local=scram-sha-256',
    '-E',
    'UTF8',
    '--locale=C',
  ]);
  run(initdb[0], initdb[1], env);
  const port = await freePort();
  const pgCtl = join(binDir, 'pg_ctl');
  let options = `-c listen_addresses=127.0.0.1 -c port=${port} -c unix_socket_directories=${dir} -c fsync=on -c password_encryption=scram-sha-256`;
  if (opts.tls !== undefined) {
    // PostgreSQL refuses a key readable by others or owned by another user than the server's.
    const certFile = join(dir, 'server.crt');
    const keyFile = join(dir, 'server.key');
    await copyFile(opts.tls.certFile, certFile);
    await copyFile(opts.tls.keyFile, keyFile);
    await chmod(keyFile, 0o600);
    if (osUser !== undefined) {
      await chown(certFile, osUser.uid, osUser.gid);
      await chown(keyFile, osUser.uid, osUser.gid);
    }
    options += ` -c ssl=on -c ssl_cert_file=${certFile} -c ssl_key_file=${keyFile} -c ssl_min_protocol_version=TLSv1.3`;
  }
  const start = as(pgCtl, ['-D', data, '-l', join(dir, 'postgres.log'), '-o', options, '-w', '-t', '60', 'start']);
  await runAsync(start[0], start[1], env);
  const version = run(join(binDir, 'postgres'), ['--version']).trim();
  return {
    target: {
      label: 'PostgreSQL 15',
      host: '127.0.0.1',
      port,
      user: USER,
      database: 'postgres',
      env: cleanEnv({ PGPASSWORD: password, PGSSLMODE: 'disable' }),
    },
    version,
    dataDir: data,
    async stop() {
      const stop = as(pgCtl, ['-D', data, '-m', 'fast', '-w', 'stop']);
      await runAsync(stop[0], stop[1], env).catch(() => {});
    },
  };
}

/** Where initdb, pg_ctl and postgres of PostgreSQL 15 are, or undefined. */
export function findPostgresBin(candidates: readonly string[]): string | undefined {
  for (const dir of candidates) {
    try {
      const v = run(join(dir, 'postgres'), ['--version']);
      run(join(dir, 'initdb'), ['--version']);
      run(join(dir, 'pg_ctl'), ['--version']);
      if (/\) 15\./.test(v)) return dir;
    } catch {
      // not there
    }
  }
  return undefined;
}
