import { createKeyProvider, type KeyProvider, loadConfig, rotateKek, silentLogger } from '@weftkit/kernel';
import { openAdminSession } from '../admin-session.js';
import { describeError } from '../describe-error.js';
import { readEnvFile } from '../env-file.js';
import { type Command, EXIT_FAILED, EXIT_OK, EXIT_USAGE, parseArgs } from '../io.js';

const USAGE =
  'usage: weftkit keys rotate-kek (--new-key-file FILE | --new-env FILE)\n' +
  'Rewraps every tenant key under a new KEK. The current KEK comes from the WEFTKIT_* environment, as\n' +
  'for the engine; the new one from:\n' +
  '  --new-key-file FILE  a file holding 32 bytes, raw or base64 (provider file)\n' +
  '  --new-env FILE       WEFTKIT_* lines naming any provider: WEFTKIT_KEY_PROVIDER=vault|kms|gcp-kms|file|env\n' +
  '                       and its settings (cloud credentials still come from this process environment)\n' +
  'Afterwards start engines with the new provider settings.\n';

/** The settings a `--new-env` file may hold: the key provider and nothing else. */
const PROVIDER_SETTING = /^WEFTKIT_(KEY|KEY_FILE|KEY_PROVIDER|KEY_PROVIDER_TIMEOUT_SECONDS|VAULT_[A-Z_]+|KMS_[A-Z_]+|GCP_KMS_[A-Z_]+)$/;

async function newProvider(options: ReadonlyMap<string, string>, dataDir: string): Promise<KeyProvider> {
  const keyFile = options.get('new-key-file');
  const env = keyFile !== undefined ? { WEFTKIT_KEY_PROVIDER: 'file', WEFTKIT_KEY_FILE: keyFile } : readEnvFile(options.get('new-env')!, (n) => PROVIDER_SETTING.test(n));
  const encryption = loadConfig(env, 'cli').encryption;
  if (encryption.provider.kind === 'dev') {
    throw Object.assign(new Error('the new-env file must set WEFTKIT_KEY_PROVIDER (or WEFTKIT_KEY / WEFTKIT_KEY_FILE)'), { code: 'WK_CLI_ENV_FILE_INVALID' });
  }
  return createKeyProvider(encryption.provider, {
    dataDir,
    logger: silentLogger,
    retry: { deadlineMs: encryption.keyProviderTimeoutSeconds * 1000 },
  });
}

/** `weftkit keys rotate-kek`: crash-safe rewrap of every DEK under a new KEK from any provider. */
export const keysRotateKek: Command = async (args, io) => {
  const { positional, options, unknown } = parseArgs(args, [], ['new-key-file', 'new-env']);
  const sources = ['new-key-file', 'new-env'].filter((o) => options.has(o)).length;
  if (positional.length > 0 || unknown.length > 0 || sources !== 1) {
    io.err(USAGE);
    return EXIT_USAGE;
  }
  try {
    const session = await openAdminSession('weftkit keys rotate-kek');
    let next: KeyProvider | undefined;
    try {
      next = await newProvider(options, session.config.dataDir);
      const r = await rotateKek(session.keyring, next);
      await session.audit('keys.rotate_kek', 'keyring', 'success', {
        tenants: r.tenants,
        keys: r.keys,
        keyring_generation: r.keyringGeneration,
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
  } catch (err) {
    io.err(`${describeError(err)}\n`);
    return EXIT_FAILED;
  }
};
