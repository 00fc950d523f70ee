import { createLocalKeyProvider, rotateKek, silentLogger } from '@weftkit/kernel';
import { openAdminSession } from '../admin-session.js';
import { describeError } from '../describe-error.js';
import { type Command, EXIT_FAILED, EXIT_OK, EXIT_USAGE, parseArgs } from '../io.js';

const USAGE =
  'usage: weftkit keys rotate-kek --new-key-file FILE\n' +
  'Rewraps every tenant key under the KEK in FILE (32 bytes, raw or base64). The current KEK comes\n' +
  'from WEFTKIT_KEY / WEFTKIT_KEY_FILE as for the engine; afterwards start engines with the new one.\n';

/** `weftkit keys rotate-kek --new-key-file FILE`: crash-safe rewrap of every DEK under a new KEK. */
export const keysRotateKek: Command = async (args, io) => {
  const { positional, options, unknown } = parseArgs(args, [], ['new-key-file']);
  const newKeyFile = options.get('new-key-file');
  if (positional.length > 0 || unknown.length > 0 || newKeyFile === undefined) {
    io.err(USAGE);
    return EXIT_USAGE;
  }
  try {
    const session = await openAdminSession('weftkit keys rotate-kek');
    const next = createLocalKeyProvider({ kind: 'file', keyFile: newKeyFile }, { dataDir: session.config.dataDir, logger: silentLogger });
    try {
      const r = await rotateKek(session.keyring, next);
      await session.audit('keys.rotate_kek', 'keyring', 'success', { tenants: r.tenants, keys: r.keys, keyring_generation: r.keyringGeneration });
      io.out(`rewrapped ${r.keys} key(s) of ${r.tenants} tenant(s) under the new KEK; start engines with it from now on\n`);
      return EXIT_OK;
    } catch (err) {
      await session.audit('keys.rotate_kek', 'keyring', 'failure', { error_code: (err as { code?: string }).code ?? 'unknown' });
      throw err;
    } finally {
      await next.close();
      await session.close();
    }
  } catch (err) {
    io.err(`${describeError(err)}\n`);
    return EXIT_FAILED;
  }
};
