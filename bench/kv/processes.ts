// Child servers for the kv benchmark: free ports, readiness polling, a stderr tail for errors,
// and a clean stop (SIGTERM, then SIGKILL) of exactly the processes started here.
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

  get pid(): number {
    return this.process.pid!;
  }

  /** Polls `url` until it answers 200, failing if the process exits first or after `timeoutMs`. */
  async waitReady(url: string, timeoutMs = 30_000): Promise<void> {
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

/** The parent's environment without any WEFTKIT_* variable, so only what the benchmark sets applies. */
export function cleanEnv(extra: Readonly<Record<string, string>>): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(process.env)) if (!k.startsWith('WEFTKIT_')) env[k] = v;
  return { ...env, ...extra };
}
