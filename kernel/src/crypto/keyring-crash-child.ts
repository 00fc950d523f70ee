// Test child for keyring.test.ts (never imported by src): rotates the KEK of the keyring in
// argv[2] from key argv[3] to key argv[4] (base64) and SIGKILLs itself after write step argv[5].
import { createLocalKeyProvider } from './local-key-providers.js';
import { Keyring } from './keyring.js';
import { silentLogger } from '../log/logger.js';

const [dataDir, oldKey, newKey, stopAt] = process.argv.slice(2) as [string, string, string, string];
const deps = { dataDir, logger: silentLogger };
const ring = await Keyring.open({
  dataDir,
  provider: createLocalKeyProvider({ kind: 'env', key: oldKey }, deps),
  onWriteStep: (step) => {
    if (step === stopAt) process.kill(process.pid, 'SIGKILL');
  },
});
await ring.rotateKek(createLocalKeyProvider({ kind: 'env', key: newKey }, deps));
process.exit(3);
