// Process entry point of the kv engine: config from WEFTKIT_* (read here and only here), start,
// one log line with the address, SIGTERM/SIGINT → drain and stop within 10 s.
import { createLogger, loadConfig, pageCipherLibrary, readEnvironment, stopOnSignals } from '@weftkit/kernel';
import { openKvStore } from './open-store.js';
import { startKvServer } from './server.js';

function fatal(err: unknown): never {
  const code = typeof (err as { code?: unknown })?.code === 'string' ? (err as { code: string }).code : 'WK_KV_START_FAILED';
  const message = err instanceof Error ? err.message : String(err);
  process.stderr.write(`${code}: ${message.replace(/\s*\n\s*/g, '; ')}\n`);
  process.exit(1);
}

try {
  const config = loadConfig(readEnvironment(), 'kv');
  const logger = createLogger({ level: config.logLevel, base: { engine: 'kv' } });
  const server = await startKvServer(config, { logger, handleSignals: true, openStore: (kernel) => openKvStore(config, kernel, logger) });
  logger.info('weftkit kv listening', {
    url: server.url,
    ops: `http://${server.opsAddress.address}:${server.opsAddress.port}`,
    tls: server.kernel.tls !== undefined,
    encryption: config.encryption.mode === 'off' ? 'off' : `aes-256-gcm via ${pageCipherLibrary()}`,
  });
  stopOnSignals(() => server.close(), logger);
} catch (err) {
  fatal(err);
}
