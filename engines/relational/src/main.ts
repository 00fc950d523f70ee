// Process entry point of the relational engine: config from WEFTKIT_* (read here and only here),
// start, one log line with the address, SIGTERM/SIGINT → 57P01 to sessions, close tenants, exit
// within 10 s. A start-up failure prints one line `CODE: message` and exits 1.
import { createLogger, loadConfig, pageCipherLibrary, readEnvironment, stopOnSignals } from '@weftkit/kernel';
import { ServerStartFailed } from './errors.js';
import { startRelationalEngine } from './server/start-engine.js';
import { createTenantManager } from './tenant/index.js';

/** Shutdown budget: sessions drain, then tenants close, inside stopOnSignals' 9 s. */
const DRAIN_MS = 3000;
const TENANT_CLOSE_MS = 5000;

function fatal(err: unknown): never {
  const code = typeof (err as { code?: unknown })?.code === 'string' ? (err as { code: string }).code : 'WK_REL_SERVER_START_FAILED';
  const message = err instanceof Error ? err.message : String(err);
  process.stderr.write(`${code}: ${message.replace(/\s*\n\s*/g, '; ')}\n`);
  process.exit(1);
}

try {
  const config = loadConfig(readEnvironment(), 'relational');
  const logger = createLogger({ level: config.logLevel, base: { engine: 'relational' } });
  const engine = await startRelationalEngine(config, {
    logger,
    handleSignals: true,
    drainMs: DRAIN_MS,
    openTenants: async (kernel) => {
      if (kernel.keyring === undefined) {
        throw new ServerStartFailed('the relational engine stores tenants encrypted: set WEFTKIT_ENCRYPTION=aes-256-gcm');
      }
      return createTenantManager({
        dataDir: config.dataDir,
        keyring: kernel.keyring,
        logger,
        maxOpenTenants: config.limits.maxOpenTenants,
        closeDeadlineMs: TENANT_CLOSE_MS,
      });
    },
  });
  const host = config.listen.host === '0.0.0.0' || config.listen.host === '::' ? '127.0.0.1' : config.listen.host;
  logger.info('weftkit relational listening', {
    address: `${engine.address.address}:${engine.address.port}`,
    ops: `http://${engine.opsAddress.address}:${engine.opsAddress.port}`,
    tls: engine.kernel.tls !== undefined,
    encryption: config.encryption.mode === 'off' ? 'off' : `aes-256-gcm via ${pageCipherLibrary()}`,
    psql: `psql "host=${host} port=${engine.address.port} user=<user> dbname=<tenant> sslmode=${engine.kernel.tls === undefined ? 'disable' : 'require'}"`,
  });
  stopOnSignals(() => engine.close(), logger);
} catch (err) {
  fatal(err);
}
