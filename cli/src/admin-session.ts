import { userInfo } from 'node:os';
import {
  type AuditLog,
  createKeyProvider,
  type DataDirLock,
  type KeyProvider,
  Keyring,
  KeyProviderUnavailable,
  loadConfig,
  lockDataDir,
  openAuditLog,
  readEnvironment,
  silentLogger,
  type WeftKitConfig,
} from '@weftkit/kernel';

/**
 * Offline key and tenant administration: holds the data directory's lock (so no engine runs on it
 * meanwhile), the KEK from the same WEFTKIT_* variables the engine uses, the keyring, and the audit
 * log when WEFTKIT_AUDIT=true.
 */
export interface AdminSession {
  readonly config: WeftKitConfig;
  readonly keyring: Keyring;
  readonly kek: KeyProvider;
  /** Records an admin event (identity: the OS user running the CLI); durable when it resolves. */
  audit(operation: string, resource: string, result: 'success' | 'failure', details?: Record<string, unknown>): Promise<void>;
  close(): Promise<void>;
}

/** WEFTKIT_DATA_DIR as the engine would resolve it (to find a running engine's admin socket). */
export function dataDirFromEnvironment(): string {
  return loadConfig(readEnvironment(), 'cli').dataDir;
}

export async function openAdminSession(command: string): Promise<AdminSession> {
  const config = loadConfig(readEnvironment(), 'cli');
  if (config.encryption.mode === 'off') throw new KeyProviderUnavailable('WEFTKIT_ENCRYPTION=off: there are no keys to manage');
  const lock: DataDirLock = await lockDataDir(config.dataDir, command);
  let kek: KeyProvider | undefined;
  let log: AuditLog | undefined;
  try {
    kek = await createKeyProvider(config.encryption.provider, {
      dataDir: config.dataDir,
      logger: silentLogger,
      retry: { deadlineMs: config.encryption.keyProviderTimeoutSeconds * 1000 },
    });
    const keyring = await Keyring.open({ dataDir: config.dataDir, provider: kek, logger: silentLogger });
    if (config.audit.enabled) {
      log = await openAuditLog({
        output: config.audit.output,
        events: config.audit.events,
        maxBytes: config.audit.rotateBytes,
        allowBrokenChain: config.audit.allowBrokenChain,
      });
    }
    const who = userInfo().username;
    const openedKek = kek;
    return {
      config,
      keyring,
      kek: openedKek,
      audit: async (operation, resource, result, details) => {
        await log?.appendUnauthenticated({ event: 'admin', operation, resource, result, identity: who, details: { via: 'weftkit-cli', ...details } });
      },
      close: async () => {
        keyring.close();
        await openedKek.close();
        await log?.close();
        await lock.release();
      },
    };
  } catch (err) {
    await kek?.close();
    await log?.close();
    await lock.release();
    throw err;
  }
}
