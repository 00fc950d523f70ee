// Shared helpers for end-to-end tests: run psql/pgbench, raw protocol sockets.
import { execFile } from 'node:child_process';
import { connect, type Socket } from 'node:net';
import { type BackendErrorFields, readErrorFields, splitBackendFrames } from '../src/protocol/index.js';

export interface RunResult {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

/** Runs a client program; never rejects (the exit code is in the result). */
export function run(file: string, args: readonly string[], env: Record<string, string> = {}, timeoutMs = 60_000): Promise<RunResult> {
  return new Promise((resolve) => {
    execFile(
      file,
      [...args],
      { env: { PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: process.env.HOME ?? '/tmp', LANG: 'C.UTF-8', ...env }, timeout: timeoutMs },
      (err, stdout, stderr) => {
        const code = err === null ? 0 : typeof (err as { code?: unknown }).code === 'number' ? (err as { code: number }).code : 1;
        resolve({ code, stdout: String(stdout), stderr: String(stderr) });
      },
    );
  });
}

export function psql(conninfo: string, sql: string, env: Record<string, string> = {}): Promise<RunResult> {
  return run('/usr/bin/psql', [conninfo, '-X', '-A', '-t', '-v', 'ON_ERROR_STOP=1', '-c', sql], env);
}

/** A StartupMessage for protocol 3.0 with these parameters. */
export function startupPacket(params: Record<string, string>, version = 196608): Buffer {
  const body = Buffer.concat([
    ...Object.entries(params).flatMap(([k, v]) => [Buffer.from(`${k}\0`), Buffer.from(`${v}\0`)]),
    Buffer.from([0]),
  ]);
  const head = Buffer.alloc(8);
  head.writeInt32BE(8 + body.length, 0);
  head.writeInt32BE(version, 4);
  return Buffer.concat([head, body]);
}

/** One typed frontend message. */
export function frame(code: string, body: Buffer = Buffer.alloc(0)): Buffer {
  const head = Buffer.alloc(5);
  head[0] = code.charCodeAt(0);
  head.writeInt32BE(4 + body.length, 1);
  return Buffer.concat([head, body]);
}

export function openSocket(port: number): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const s = connect(port, '127.0.0.1', () => resolve(s));
    s.once('error', reject);
  });
}

/** Sends `bytes` on a new connection and collects everything until the server closes (or `waitMs`). */
export async function exchangeRaw(port: number, chunks: readonly Buffer[], waitMs = 3000): Promise<{ data: Buffer; closed: boolean }> {
  const s = await openSocket(port);
  const got: Buffer[] = [];
  s.on('data', (c) => got.push(c));
  s.on('error', () => {});
  const closed = new Promise<boolean>((resolve) => {
    s.once('close', () => resolve(true));
    setTimeout(() => resolve(false), waitMs).unref();
  });
  for (const c of chunks) s.write(c);
  const wasClosed = await closed;
  s.destroy();
  return { data: Buffer.concat(got), closed: wasClosed };
}

/** The ErrorResponses in a backend byte stream (ignores a leading 'S'/'N' byte when asked). */
export function errorsIn(data: Buffer, skip = 0): BackendErrorFields[] {
  return splitBackendFrames(data.subarray(skip))
    .filter((f) => f.code === 0x45)
    .map(readErrorFields);
}

export interface RawSession {
  readonly socket: Socket;
  /** Everything received since login. */
  received(): Buffer;
  readonly closed: Promise<void>;
}

/** Logs `user` in with a cleartext password (dev mode, plain TCP) on a raw socket; resolves after the first ReadyForQuery. */
export async function rawSession(port: number, user: string, password: string, database?: string): Promise<RawSession> {
  const socket = await openSocket(port);
  const chunks: Buffer[] = [];
  let wake: (() => void) | undefined;
  socket.on('data', (c) => {
    chunks.push(c);
    wake?.();
  });
  socket.on('error', () => {});
  const closed = new Promise<void>((resolve) => socket.once('close', () => resolve()));
  const waitFor = async (pred: (b: Buffer) => boolean): Promise<void> => {
    while (!pred(Buffer.concat(chunks))) await new Promise<void>((r) => (wake = r));
  };
  socket.write(startupPacket(database === undefined ? { user } : { user, database }));
  await waitFor((b) => b.length >= 9);
  socket.write(frame('p', Buffer.from(`${password}\0`)));
  await waitFor((b) => b.includes(Buffer.from([0x5a, 0, 0, 0, 5, 0x49])));
  chunks.length = 0;
  return { socket, received: () => Buffer.concat(chunks), closed };
}
