// Child processes for the benchmarks: free ports, readiness polling, a stderr tail for errors, a
// clean stop (SIGTERM, then SIGKILL) of exactly the processes started here, and command runners
// that report output on failure.
import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { createServer } from 'node:net';

export async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  await new Promise<void>((resolve) => server.close(() => resolve()));
  if (address === null || typeof address === 'string') throw new Error('no port');
  return address.port;
}

/** Whether `command` runs; `args` must make it exit at once (e.g. `--version`). */
export function hasCommand(command: string, args: readonly string[]): boolean {
  const r = spawnSync(command, args, { stdio: 'ignore' });
  return r.error === undefined;
}

/** The parent's environment without WEFTKIT_* or PG* variables, so only what the benchmark sets applies. */
export function cleanEnv(extra: Readonly<Record<string, string>>): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(process.env)) if (!k.startsWith('WEFTKIT_') && !k.startsWith('PG')) env[k] = v;
  return { ...env, ...extra };
}

/** Runs a command to completion; throws with its output when it fails. */
export function run(command: string, args: readonly string[], env: NodeJS.ProcessEnv = cleanEnv({})): string {
  const r = spawnSync(command, args, { env, encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 });
  if (r.error !== undefined) throw new Error(`${command}: ${r.error.message}`);
  if (r.status !== 0) {
    throw new Error(`${command} ${args.join(' ')} exited ${r.status ?? r.signal}:\n${r.stdout}\n${r.stderr}`.slice(-4000));
  }
  return `${r.stdout}\n${r.stderr}`;
}

/** Runs a command without blocking the event loop (the servers' readiness polling keeps going). */
export function runAsync(command: string, args: readonly string[], env: NodeJS.ProcessEnv): Promise<string> {
  return new Promise((resolve, reject) => {
    const p = spawn(command, args, { env, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    p.stdout.on('data', (d: Buffer) => {
      out += d.toString();
    });
    p.stderr.on('data', (d: Buffer) => {
      out += d.toString();
    });
    p.on('error', reject);
    p.on('exit', (code, signal) => {
      if (code === 0) resolve(out);
      else reject(new Error(`${command} ${args.join(' ')} exited ${code ?? signal}:\n${out.slice(-4000)}`));
    });
  });
}

export class Child {
  readonly name: string;
  readonly process: ChildProcess;
  #tail = '';
  #exited: Promise<number | null>;

  constructor(name: string, command: string, args: readonly string[], env: NodeJS.ProcessEnv) {
    this.name = name;
    this.process = spawn(command, args, { env, stdio: ['ignore', 'ignore', 'pipe'] });
    this.process.stderr!.on('data', (d: Buffer) => {
      this.#tail = (this.#tail + d.toString()).slice(-4000);
    });
    this.#exited = new Promise((resolve) => this.process.on('exit', (code) => resolve(code)));
  }

  get stderrTail(): string {
    return this.#tail;
  }

  /** Polls `url` until it answers 200, failing if the process exits first or after `timeoutMs`. */
  async waitReady(url: string, timeoutMs = 60_000): Promise<void> {
    const until = Date.now() + timeoutMs;
    let exited = false;
    void this.#exited.then(() => {
      exited = true;
    });
    while (Date.now() < until) {
      if (exited) throw new Error(`${this.name} exited during start:\n${this.#tail}`);
      try {
        const r = await fetch(url);
        await r.arrayBuffer();
        if (r.status === 200) return;
      } catch {
        // not listening yet
      }
      await new Promise((r) => setTimeout(r, 100));
    }
    throw new Error(`${this.name} not ready at ${url} after ${timeoutMs} ms:\n${this.#tail}`);
  }

  async stop(): Promise<void> {
    if (this.process.exitCode !== null || this.process.signalCode !== null) return;
    this.process.kill('SIGTERM');
    const timer = setTimeout(() => this.process.kill('SIGKILL'), 15_000);
    await this.#exited;
    clearTimeout(timer);
  }
}
