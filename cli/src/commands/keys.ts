import { resolve } from 'node:path';
import { assertTenantName, type KeyProvider, openKekSource, rotateKek } from '@weftkit/kernel';
import { type AdminClient, connectToEngine } from '../admin-client.js';
import { dataDirFromEnvironment, openAdminSession } from '../admin-session.js';
import { describeError } from '../describe-error.js';
import { type Command, EXIT_FAILED, EXIT_OK, EXIT_USAGE, type Io, parseArgs } from '../io.js';
import { reencryptKvTenant, tenantEngine } from './offline-reencrypt.js';

const USAGE =
  'usage: weftkit keys rotate-kek (--new-key-file FILE | --new-env FILE)\n' +
  'Rewraps every tenant key under a new KEK. The current KEK comes from the WEFTKIT_* environment, as\n' +
  'for the engine; the new one from:\n' +
  '  --new-key-file FILE  a file holding 32 bytes, raw or base64 (provider file)\n' +
  '  --new-env FILE       WEFTKIT_* lines naming any provider: WEFTKIT_KEY_PROVIDER=vault|kms|gcp-kms|file|env\n' +
  '                       and its settings (cloud credentials still come from this process environment)\n' +
  'While an engine runs on WEFTKIT_DATA_DIR, the engine does the rotation and reads FILE itself.\n' +
  'Afterwards start engines with the new provider settings.\n';

const DEK_USAGE =
  'usage: weftkit keys rotate-dek TENANT [--rate BYTES_PER_SECOND]\n' +
  "Gives the tenant a new data key and re-encrypts its files under it: in the background while an engine\n" +
  'runs (--rate throttles it; default 32 MiB/s), synchronously offline. Old key versions are then removed.\n';

/** Runs `online` through the engine's admin socket when one runs on the data directory, else `offline`. */
async function viaEngineOr(io: Io, online: (c: AdminClient) => Promise<number>, offline: () => Promise<number>): Promise<number> {
  try {
    const client = await connectToEngine(dataDirFromEnvironment());
    if (client === null) return await offline();
    try {
      return await online(client);
    } finally {
      client.close();
    }
  } catch (err) {
    io.err(`${describeError(err)}\n`);
    return EXIT_FAILED;
  }
}

/** `weftkit keys rotate-kek`: crash-safe rewrap of every DEK under a new KEK from any provider. */
export const keysRotateKek: Command = async (args, io) => {
  const { positional, options, unknown } = parseArgs(args, [], ['new-key-file', 'new-env']);
  const sources = ['new-key-file', 'new-env'].filter((o) => options.has(o)).length;
  if (positional.length > 0 || unknown.length > 0 || sources !== 1) {
    io.err(USAGE);
    return EXIT_USAGE;
  }
  const keyFile = options.get('new-key-file');
  const source = keyFile !== undefined ? { keyFile: resolve(keyFile) } : { envFile: resolve(options.get('new-env')!) };
  return viaEngineOr(
    io,
    async (engine) => {
      const r = await engine.call('keys.rotate-kek', 'keyFile' in source ? { newKeyFile: source.keyFile } : { newEnvFile: source.envFile });
      io.out(
        `rewrapped ${r.keys} key(s) of ${r.tenants} tenant(s) under the new KEK (${r.provider}); the running engine uses it now: ` +
          'set it in the engine configuration before its next restart\n',
      );
      return EXIT_OK;
    },
    async () => {
      const session = await openAdminSession('weftkit keys rotate-kek');
      let next: KeyProvider | undefined;
      try {
        next = await openKekSource(source, { dataDir: session.config.dataDir });
        const r = await rotateKek(session.keyring, next);
        await session.audit('keys.rotate_kek', 'keyring', 'success', {
          tenants: r.tenants,
          wrapped_deks: r.keys,
          generation: r.keyringGeneration,
          previous_provider: session.kek.kind,
          provider: next.kind,
        });
        io.out(`rewrapped ${r.keys} key(s) of ${r.tenants} tenant(s) under the new KEK (${next.kind}); start engines with it from now on\n`);
        return EXIT_OK;
      } catch (err) {
        await session.audit('keys.rotate_kek', 'keyring', 'failure', { error_code: (err as { code?: string }).code ?? 'unknown' });
        throw err;
      } finally {
        await next?.close();
        await session.close();
      }
    },
  );
};

/** `weftkit keys rotate-dek TENANT`: a new DEK version, the tenant's files re-encrypted under it. */
export const keysRotateDek: Command = async (args, io) => {
  const { positional, options, unknown } = parseArgs(args, [], ['rate']);
  const rate = options.get('rate');
  if (positional.length !== 1 || unknown.length > 0 || (rate !== undefined && !/^[1-9]\d{3,12}$/.test(rate))) {
    io.err(DEK_USAGE);
    return EXIT_USAGE;
  }
  let tenant: string;
  try {
    tenant = assertTenantName(positional[0]);
  } catch (err) {
    io.err(`${describeError(err)}\n`);
    return EXIT_USAGE;
  }
  return viaEngineOr(
    io,
    async (engine) => {
      const r = await engine.call('keys.rotate-dek', { tenant, ...(rate === undefined ? {} : { bytesPerSecond: Number(rate) }) });
      io.out(
        `tenant ${tenant} now writes under key version ${r.keyVersion}; re-encrypting ${r.segmentsToReencrypt} file(s) in the background ` +
          '(progress: weftkit keys status)\n',
      );
      return EXIT_OK;
    },
    async () => {
      const session = await openAdminSession('weftkit keys rotate-dek');
      try {
        try {
          // Refuse before rotating when the files cannot be re-encrypted here.
          tenantEngine(session.config.dataDir, tenant);
          const info = await session.keyring.rotateDek(tenant);
          const r = await reencryptKvTenant(session.keyring, session.config.dataDir, tenant);
          await session.audit('keys.rotate_dek', tenant, 'success', { version: info.currentVersion, files: r.filesRewritten, retired: r.retiredVersions.length });
          io.out(
            `tenant ${tenant} now writes under key version ${info.currentVersion}; re-encrypted ${r.filesRewritten} file(s), ` +
              `removed ${r.retiredVersions.length} old key version(s)\n`,
          );
          return EXIT_OK;
        } catch (err) {
          await session.audit('keys.rotate_dek', tenant, 'failure', { error_code: (err as { code?: string }).code ?? 'unknown' });
          throw err;
        }
      } finally {
        await session.close();
      }
    },
  );
};

interface StatusRow {
  tenant: string;
  currentVersion: number;
  versions: number[];
  reencryption?: { running: boolean; segmentsRemaining: number; bytesDone: number; bytesPerSecond?: number; lastError: string | null } | null;
}

/** `weftkit keys status`: each tenant's key versions, and re-encryption progress when an engine runs. */
export const keysStatus: Command = async (args, io) => {
  if (args.length > 0) {
    io.err('usage: weftkit keys status\n');
    return EXIT_USAGE;
  }
  const print = (rows: readonly StatusRow[]): void => {
    for (const t of rows) {
      const r = t.reencryption;
      const progress =
        r === undefined
          ? ''
          : r === null
            ? '\tre-encryption: none'
            : `\tre-encryption: ${r.running ? 'running' : 'idle'}, ${r.segmentsRemaining} file(s) left, ${r.bytesDone} bytes done` +
              `${r.bytesPerSecond === undefined ? '' : `, rate ${r.bytesPerSecond} B/s`}${r.lastError === null ? '' : `, last error ${r.lastError}`}`;
      io.out(`${t.tenant}\tkey version ${t.currentVersion}\tversions ${t.versions.join(',')}${progress}\n`);
    }
  };
  return viaEngineOr(
    io,
    async (engine) => {
      const r = await engine.call('keys.status');
      print(r.tenants as StatusRow[]);
      return EXIT_OK;
    },
    async () => {
      const session = await openAdminSession('weftkit keys status');
      try {
        print(session.keyring.listTenants().map((t) => ({ tenant: t.tenant, currentVersion: t.currentVersion, versions: [...t.versions] })));
        return EXIT_OK;
      } finally {
        await session.close();
      }
    },
  );
};
