import type { Logger } from '../log/logger.js';

/** Something SIGHUP reloads: the users file, TLS credentials, the roles file. */
export interface Reloadable {
  readonly name: string;
  /** Replaces the live state atomically; on failure keeps the old state and throws a coded error. */
  reload(): Promise<void>;
}

/**
 * Reloads every target on SIGHUP, one after another; a failing target keeps its old state and is
 * logged by code (never by content). Reloads do not overlap: a SIGHUP during one queues one more.
 * Returns a function that removes the handler.
 */
export function reloadOnSighup(targets: readonly Reloadable[], logger: Logger): () => void {
  let running: Promise<void> | undefined;
  let again = false;
  const reloadAll = async (): Promise<void> => {
    for (const target of targets) {
      try {
        await target.reload();
        logger.info('reloaded', { target: target.name });
      } catch (err) {
        logger.error('reload failed; still serving the previous version', { target: target.name, error_code: (err as { code?: unknown }).code ?? 'unknown' });
      }
    }
  };
  const handler = (): void => {
    if (running !== undefined) {
      again = true;
      return;
    }
    running = (async () => {
      do {
        again = false;
        await reloadAll();
      } while (again);
      running = undefined;
    })();
  };
  process.on('SIGHUP', handler);
  return () => {
    process.off('SIGHUP', handler);
  };
}

/**
 * Calls `stop` once on SIGTERM or SIGINT (Node as PID 1 in a container ignores SIGTERM unless a
 * handler exists). If `stop` has not finished after `timeoutMs`, exits with code 1 so an
 * orchestrator's kill deadline (10 s) is never what ends the process.
 */
export function stopOnSignals(stop: () => Promise<void>, logger: Logger, timeoutMs = 9000): () => void {
  let stopping = false;
  const handler = (signal: NodeJS.Signals): void => {
    if (stopping) return;
    stopping = true;
    logger.info('stopping', { signal });
    const timer = setTimeout(() => {
      logger.error('clean stop took too long; exiting', { timeout_ms: timeoutMs });
      process.exit(1);
    }, timeoutMs);
    timer.unref();
    stop().then(
      () => {
        clearTimeout(timer);
        logger.info('stopped');
        process.exitCode ??= 0;
      },
      (err: unknown) => {
        clearTimeout(timer);
        logger.error('stop failed', { error_code: (err as { code?: unknown }).code ?? 'unknown' });
        process.exitCode = 1;
      },
    );
  };
  process.on('SIGTERM', handler);
  process.on('SIGINT', handler);
  return () => {
    process.off('SIGTERM', handler);
    process.off('SIGINT', handler);
  };
}

/** While `WEFTKIT_AUTH=none` is on, says so at start and every minute. Returns a stop function. */
export function warnWhileInsecure(logger: Logger, what: string, everyMs = 60_000): () => void {
  const warn = (): void => logger.warn(`INSECURE: ${what}; never run this in production`);
  warn();
  const timer = setInterval(warn, everyMs);
  timer.unref();
  return () => clearInterval(timer);
}
