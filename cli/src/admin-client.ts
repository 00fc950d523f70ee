// Talks to a running engine over `<dataDir>/admin.sock` (see the kernel's admin socket): used by
// the key and tenant commands when an engine holds the data directory.
import { existsSync, lstatSync } from 'node:fs';
import { createConnection, type Socket } from 'node:net';
import { join } from 'node:path';
import { ADMIN_SOCKET_NAME, AdminUnavailable, encodeAdminLine, LineSplitter, LOCK_FILE_NAME, parseAdminResponse } from '@weftkit/kernel';

/** An error the engine answered with; `code` is the engine's `WK_*` code. */
export class AdminCommandFailed extends Error {
  readonly code: string;
  constructor(code: string, message: string) {
    super(message);
    this.code = code;
  }
}

export interface AdminClient {
  /** Sends one command; resolves with its result or rejects with `AdminCommandFailed`. */
  call(command: string, args?: Record<string, unknown>): Promise<Record<string, unknown>>;
  close(): void;
}

/**
 * Connects when a live engine holds the data directory (its lock file is there) and its admin
 * socket answers; null otherwise (the caller works offline, taking the lock itself).
 */
export async function connectToEngine(dataDir: string, timeoutMs = 600_000): Promise<AdminClient | null> {
  const path = join(dataDir, ADMIN_SOCKET_NAME);
  if (!existsSync(join(dataDir, LOCK_FILE_NAME))) return null;
  try {
    if (!lstatSync(path).isSocket()) return null;
  } catch {
    return null;
  }
  const socket = await new Promise<Socket | null>((resolve) => {
    const s = createConnection(path);
    s.once('connect', () => resolve(s));
    s.once('error', () => resolve(null));
  });
  if (socket === null) return null;
  return new SocketClient(socket, timeoutMs);
}

class SocketClient implements AdminClient {
  readonly #socket: Socket;
  readonly #timeoutMs: number;
  readonly #splitter = new LineSplitter();
  readonly #waiting = new Map<number, { resolve(v: Record<string, unknown>): void; reject(e: unknown): void }>();
  #next = 1;
  #failure: Error | null = null;

  constructor(socket: Socket, timeoutMs: number) {
    this.#socket = socket;
    this.#timeoutMs = timeoutMs;
    socket.on('data', (chunk: Buffer) => {
      try {
        for (const line of this.#splitter.push(chunk)) this.#answer(line);
      } catch (err) {
        this.#fail(err as Error);
      }
    });
    socket.on('error', () => this.#fail(new AdminUnavailable('the engine closed the admin connection')));
    socket.on('close', () => this.#fail(new AdminUnavailable('the engine closed the admin connection')));
  }

  call(command: string, args: Record<string, unknown> = {}): Promise<Record<string, unknown>> {
    if (this.#failure !== null) return Promise.reject(this.#failure);
    const id = this.#next++;
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.#waiting.delete(id);
        reject(new AdminUnavailable('the engine did not answer in time'));
      }, this.#timeoutMs);
      this.#waiting.set(id, {
        resolve: (v) => {
          clearTimeout(timer);
          resolve(v);
        },
        reject: (e) => {
          clearTimeout(timer);
          reject(e);
        },
      });
      this.#socket.write(encodeAdminLine({ id, command, args }));
    });
  }

  close(): void {
    this.#socket.destroy();
  }

  #answer(line: string): void {
    const r = parseAdminResponse(line);
    const w = typeof r.id === 'number' ? this.#waiting.get(r.id) : undefined;
    if (w === undefined) {
      // A reply to no request of ours (e.g. to an oversized line): fail everything outstanding.
      if (!r.ok) this.#fail(new AdminCommandFailed(r.error.code, r.error.message));
      return;
    }
    this.#waiting.delete(r.id as number);
    if (r.ok) w.resolve(r.result as Record<string, unknown>);
    else w.reject(new AdminCommandFailed(r.error.code, r.error.message));
  }

  #fail(err: Error): void {
    this.#failure ??= err;
    for (const w of this.#waiting.values()) w.reject(err);
    this.#waiting.clear();
  }
}
