// The running engine's admin channel: a Unix domain socket `<dataDir>/admin.sock`, mode 0600.
// Like the Docker socket, the file permission IS the authentication: only the engine's own OS user
// (and root) can connect, so the data directory and the socket must never be group/world-accessible.
// Node does not expose SO_PEERCRED, so requests are audited as identity `local-socket`.
import { randomUUID } from 'node:crypto';
import { chmod, lstat, mkdtemp, rename, rm, unlink } from 'node:fs/promises';
import { createServer, type Server, type Socket } from 'node:net';
import { join } from 'node:path';
import type { AuditLog } from '../audit/audit-log.js';
import { AdminSocketUnsafe, AdminUnknownCommand, publicError, WeftKitError } from '../errors.js';
import type { Logger } from '../log/logger.js';
import {
  ADMIN_SOCKET_NAME,
  type AdminRequest,
  type AdminResponse,
  encodeAdminLine,
  LineSplitter,
  MAX_ADMIN_LINE_BYTES,
  parseAdminRequest,
} from './admin-protocol.js';

export const ADMIN_IDENTITY = 'local-socket';

export interface AdminCallContext {
  /** `local-socket`: whoever can open the 0600 socket (the engine's OS user or root). */
  readonly identity: string;
  readonly requestId: string;
}

export interface AdminReply {
  readonly result: Readonly<Record<string, unknown>>;
  /** Extra fields for the audit event (counts, versions, provider kinds; never secrets). */
  readonly audit?: Readonly<Record<string, unknown>>;
}

/** Runs one admin command; throw a coded `WeftKitError` to fail (its code and message reach the caller). */
export type AdminHandler = (args: Readonly<Record<string, unknown>>, ctx: AdminCallContext) => Promise<AdminReply>;

/** What an engine uses to add its own admin commands (`tenant.shred`, `keys.rotate-dek`, ...). */
export interface AdminHandlers {
  /** Adds `command` (lowercase, dotted, e.g. `keys.rotate-dek`); registering a name twice throws. */
  register(command: string, handler: AdminHandler): void;
  /** Whether `command` has a handler. */
  has(command: string): boolean;
}

export interface AdminSocketOptions {
  /** WEFTKIT_DATA_DIR; the socket is `<dataDir>/admin.sock`. The caller holds the data-dir lock. */
  readonly dataDir: string;
  readonly logger: Logger;
  /** Every request to a known command is audited as event `admin`, durably before its reply. */
  readonly audit?: AuditLog;
  /** Idle connections are closed after this long (default 10 minutes). */
  readonly idleMs?: number;
}

export interface AdminSocket extends AdminHandlers {
  readonly path: string;
  /** Stops accepting, waits for running commands, closes connections and removes the socket file. */
  close(): Promise<void>;
}

const MAX_CONNECTIONS = 16;
// sun_path holds 108 bytes with its NUL; Node silently truncates a longer path (binding elsewhere).
const MAX_SOCKET_PATH_BYTES = 107;
const STAGING_PREFIX = '.adm-';
// mkdtemp adds six characters, then `/s`.
const STAGING_EXTRA = STAGING_PREFIX.length + 6 + 2;

/** Whether `<dataDir>/admin.sock` (and its staging path) fit in a Unix socket address. */
export function adminSocketFits(dataDir: string): boolean {
  return Buffer.byteLength(join(dataDir, 'x')) - 1 + Math.max(STAGING_EXTRA, ADMIN_SOCKET_NAME.length) <= MAX_SOCKET_PATH_BYTES;
}

/** Starts listening on `<dataDir>/admin.sock`, replacing a stale socket left by a killed engine. */
export async function startAdminSocket(options: AdminSocketOptions): Promise<AdminSocket> {
  const path = join(options.dataDir, ADMIN_SOCKET_NAME);
  if (!adminSocketFits(options.dataDir)) throw new RangeError('the data directory path is too long for a Unix socket');
  await removeStaleSocket(path);
  const handlers = new Map<string, AdminHandler>();
  const connections = new Set<Socket>();
  const running = new Set<Promise<void>>();
  const logger = options.logger.child({ component: 'admin-socket' });
  let closed = false;

  const server: Server = createServer((socket) => {
    if (closed) {
      socket.destroy();
      return;
    }
    connections.add(socket);
    socket.on('close', () => connections.delete(socket));
    socket.on('error', () => socket.destroy());
    socket.setTimeout(options.idleMs ?? 600_000, () => socket.destroy());
    serveConnection(socket, handlers, options.audit, logger, running);
  });
  server.maxConnections = MAX_CONNECTIONS;

  // Bind inside a fresh 0700 directory, chmod, then rename into place: the socket is never
  // reachable at its final path with looser permissions than 0600.
  const staging = await mkdtemp(join(options.dataDir, STAGING_PREFIX));
  const bindPath = join(staging, 's');
  try {
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(bindPath, () => {
        server.off('error', reject);
        resolve();
      });
    });
    server.on('error', (err) => logger.error('admin socket error', { errno: (err as NodeJS.ErrnoException).code }));
    await chmod(bindPath, 0o600);
    await removeStaleSocket(path);
    await rename(bindPath, path);
  } catch (err) {
    server.close();
    throw err;
  } finally {
    await rm(staging, { recursive: true, force: true });
  }

  return {
    path,
    register(command, handler) {
      if (handlers.has(command)) throw new TypeError(`admin command ${command} is already registered`);
      handlers.set(command, handler);
    },
    has: (command) => handlers.has(command),
    async close() {
      if (closed) return;
      closed = true;
      const stopped = new Promise<void>((resolve) => server.close(() => resolve()));
      await Promise.allSettled([...running]);
      for (const s of connections) s.destroy();
      await stopped;
      await unlink(path).catch(() => undefined);
    },
  };
}

/** A leftover socket is stale (we hold weftkit.lock); anything else at that path is refused. */
async function removeStaleSocket(path: string): Promise<void> {
  let st: Awaited<ReturnType<typeof lstat>>;
  try {
    st = await lstat(path);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return;
    throw err;
  }
  if (st.isSymbolicLink()) throw new AdminSocketUnsafe(`${ADMIN_SOCKET_NAME} in the data directory is a symlink; remove it`);
  if (!st.isSocket()) throw new AdminSocketUnsafe(`${ADMIN_SOCKET_NAME} in the data directory is not a socket; remove it`);
  await unlink(path);
}

function serveConnection(socket: Socket, handlers: Map<string, AdminHandler>, audit: AuditLog | undefined, logger: Logger, running: Set<Promise<void>>): void {
  const splitter = new LineSplitter(MAX_ADMIN_LINE_BYTES);
  // Requests on one connection run one after another, replies in request order.
  let chain: Promise<void> = Promise.resolve();
  const send = (response: AdminResponse): void => {
    if (!socket.destroyed) socket.write(encodeAdminLine(response));
  };
  socket.on('data', (chunk: Buffer) => {
    let lines: string[];
    try {
      lines = splitter.push(chunk);
    } catch (err) {
      socket.pause();
      chain = chain.then(() => {
        send({ id: null, ok: false, error: errorBody(err) });
        socket.end();
      });
      return;
    }
    for (const line of lines) {
      if (line.trim() === '') continue;
      const task = chain.then(() => handleLine(line, handlers, audit, logger)).then(send, () => undefined);
      chain = task;
      running.add(task);
      void task.finally(() => running.delete(task));
    }
  });
}

async function handleLine(line: string, handlers: Map<string, AdminHandler>, audit: AuditLog | undefined, logger: Logger): Promise<AdminResponse> {
  const parsed = parseAdminRequest(line);
  if (parsed.request === undefined) return { id: parsed.id, ok: false, error: errorBody(parsed.error) };
  const request = parsed.request;
  const handler = handlers.get(request.command);
  const ctx: AdminCallContext = { identity: ADMIN_IDENTITY, requestId: randomUUID() };
  const started = performance.now();
  let reply: AdminReply | undefined;
  let failure: unknown;
  try {
    if (handler === undefined) throw new AdminUnknownCommand(`this engine has no admin command ${request.command}`);
    reply = await handler(request.args, ctx);
  } catch (err) {
    failure = err;
    if (!(err instanceof WeftKitError)) logger.error('admin command failed unexpectedly', { command: request.command, requestId: ctx.requestId, err });
  }
  try {
    await audit?.appendUnauthenticated({
      event: 'admin',
      operation: auditOperation(request.command, handler !== undefined),
      resource: auditResource(request),
      result: failure === undefined ? 'success' : 'failure',
      identity: ctx.identity,
      requestId: ctx.requestId,
      latencyMs: Math.round(performance.now() - started),
      ...(failure === undefined ? {} : { errorCode: codeOf(failure) }),
      details: { via: 'admin-socket', ...(reply?.audit ?? {}) },
    });
  } catch (err) {
    // The operation is not acknowledged without its audit record.
    logger.error('could not audit an admin command', { command: request.command, requestId: ctx.requestId, error_code: codeOf(err) });
    return { id: request.id, ok: false, error: errorBody(err) };
  }
  if (failure !== undefined) return { id: request.id, ok: false, error: errorBody(failure) };
  return { id: request.id, ok: true, result: reply!.result };
}

function auditOperation(command: string, known: boolean): string {
  return known ? command.replaceAll('-', '_') : 'admin.unknown_command';
}

function auditResource(request: AdminRequest): string {
  const tenant = request.args.tenant;
  if (typeof tenant === 'string' && /^[a-z0-9][a-z0-9_-]{0,62}$/.test(tenant)) return tenant;
  return request.command.startsWith('keys.') ? 'keyring' : 'engine';
}

function codeOf(err: unknown): string {
  return err instanceof WeftKitError ? err.code : 'WK_INTERNAL';
}

/** Operators see kernel errors' codes and messages (they are written to hold no secrets); anything else is generic. */
function errorBody(err: unknown): { code: string; message: string } {
  if (err instanceof WeftKitError) return { code: err.code, message: err.message };
  const p = publicError(err);
  return { code: p.code, message: p.message };
}
