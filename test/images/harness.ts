// Runs the engine images the way a user does: `podman run` with WEFTKIT_* variables, mounted
// files and a named volume, published ports on 127.0.0.1. Images are built once per run by
// `npm run images` (which skips an image whose staged context is unchanged).
import { execFile, spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { chmodSync, chownSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';

const exec = promisify(execFile);
export const root: string = new URL('../..', import.meta.url).pathname.replace(/\/$/, '');
/** The engines' user in the images. */
export const ENGINE_UID = 10001;
// Within the host's limits (a higher value fails with `setrlimit ... Operation not permitted`).
const ULIMITS = ['--ulimit', 'nofile=1024:1024', '--ulimit', 'nproc=1024:1024'];

let tool: string[] | undefined;

/** podman's command line here; fails the test (no skip) when podman is missing or broken. */
export function podmanTool(): string[] {
  if (tool) return tool;
  const probe = spawnSync(process.execPath, [join(root, 'scripts/images.mjs'), '--print-tool'], {
    encoding: 'utf8',
    env: { ...process.env, CONTAINER_TOOL: '' },
  });
  const found = JSON.parse(probe.stdout.trim() || 'null') as string[] | null;
  if (!found?.[0]?.endsWith('podman')) {
    throw new Error(
      'the image tests need a working podman: apt-get install -y podman runc uidmap (CI installs it in .ci/run)',
    );
  }
  tool = found;
  return tool;
}

export interface Result {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

/** Runs podman with `args`; resolves with its exit code and output (never rejects on exit code). */
export async function podman(args: readonly string[], timeoutMs = 120_000): Promise<Result> {
  const [cmd, ...base] = podmanTool();
  try {
    const { stdout, stderr } = await exec(cmd as string, [...base, ...args], { timeout: timeoutMs, maxBuffer: 1 << 26 });
    return { code: 0, stdout, stderr };
  } catch (err) {
    const e = err as { code?: number | string; stdout?: string; stderr?: string };
    return { code: typeof e.code === 'number' ? e.code : 1, stdout: e.stdout ?? '', stderr: e.stderr ?? String(err) };
  }
}

export async function podmanOk(args: readonly string[], timeoutMs?: number): Promise<string> {
  const r = await podman(args, timeoutMs);
  if (r.code !== 0) throw new Error(`podman ${args.slice(0, 2).join(' ')} failed (${r.code}): ${r.stderr.trim()}`);
  return r.stdout.trim();
}

export interface BuiltImage {
  readonly engine: string;
  readonly image: string;
  readonly size: number;
  readonly base: string;
}

const built = new Map<string, Promise<BuiltImage>>();

/** Builds (or reuses) the engine's image through `npm run images`; returns its tag. */
export function ensureImage(engine: 'kv' | 'relational'): Promise<BuiltImage> {
  podmanTool();
  let pending = built.get(engine);
  if (!pending) {
    pending = exec(process.execPath, [join(root, 'scripts/images.mjs'), engine, '--json'], {
      cwd: root,
      timeout: 900_000,
      maxBuffer: 1 << 26,
    }).then(({ stdout }) => {
      const out = JSON.parse(stdout.trim().split('\n').pop() as string) as { images: BuiltImage[] };
      const image = out.images.find((i) => i.engine === engine);
      if (!image) throw new Error(`npm run images did not build ${engine}`);
      return image;
    });
    built.set(engine, pending);
  }
  return pending;
}

/** A port free on 127.0.0.1 right now. */
export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}

/** A temporary directory the engine user can write (a bind-mounted folder, as a user would chown it). */
export function engineDir(prefix: string): string {
  const dir = mkdtempSync(join(tmpdir(), `weftkit-${prefix}-`));
  chownSync(dir, ENGINE_UID, ENGINE_UID);
  chmodSync(dir, 0o750);
  return dir;
}

/** Makes a mounted file readable by the engine user only (as a Secret mount or `chown` would). */
export function giveToEngine(path: string): void {
  chownSync(path, ENGINE_UID, ENGINE_UID);
  chmodSync(path, statSync(path).isDirectory() ? 0o750 : 0o400);
}

export const uniqueName = (prefix: string): string => `weftkit-e2e-${prefix}-${randomBytes(4).toString('hex')}`;

export interface RunOptions {
  readonly image: string;
  readonly name: string;
  readonly env?: Readonly<Record<string, string>>;
  /** `host:container[:opts]` or `volume:container`. */
  readonly volumes?: readonly string[];
  /** Container port → host port on 127.0.0.1. */
  readonly ports?: Readonly<Record<number, number>>;
  readonly readOnly?: boolean;
  readonly extra?: readonly string[];
}

export function runArgs(o: RunOptions): string[] {
  const args = ['run', '-d', '--name', o.name, ...ULIMITS];
  if (o.readOnly) args.push('--read-only');
  for (const [k, v] of Object.entries(o.env ?? {})) args.push('-e', `${k}=${v}`);
  for (const v of o.volumes ?? []) args.push('-v', v);
  for (const [inner, outer] of Object.entries(o.ports ?? {})) args.push('-p', `127.0.0.1:${outer}:${inner}`);
  args.push(...(o.extra ?? []), o.image);
  return args;
}

/** Starts a detached container; returns its name. */
export async function startContainer(o: RunOptions): Promise<string> {
  await podmanOk(runArgs(o));
  return o.name;
}

/** Waits until GET http://127.0.0.1:<opsPort>/readyz answers 200 or the container exits. */
export async function waitReady(name: string, opsPort: number, timeoutMs = 60_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    try {
      const res = await fetch(`http://127.0.0.1:${opsPort}/readyz`, { signal: AbortSignal.timeout(2000) });
      if (res.status === 200) return;
    } catch {}
    const state = await podman(['inspect', '--format', '{{.State.Status}}', name]);
    if (state.stdout.trim() === 'exited') {
      throw new Error(`${name} exited before ready: ${(await podman(['logs', name])).stderr.slice(-2000)}`);
    }
    await new Promise((r) => setTimeout(r, 250));
  }
  throw new Error(`${name} not ready after ${timeoutMs} ms: ${(await podman(['logs', name])).stderr.slice(-2000)}`);
}

export interface Exit {
  readonly code: number;
  /** Container output (stdout + stderr) without podman's own messages. */
  readonly logs: string;
}

/** Waits for a container to exit by itself. */
export async function waitExit(name: string, timeoutMs = 60_000): Promise<Exit> {
  const waited = await podman(['wait', name], timeoutMs);
  const logs = await podman(['logs', name]);
  return { code: Number(waited.stdout.trim()), logs: `${logs.stdout}${logs.stderr}` };
}

/** `podman stop` (SIGTERM, then SIGKILL after `grace` s); returns the seconds it took and the exit code. */
export async function stopContainer(name: string, grace = 10): Promise<{ seconds: number; exitCode: number }> {
  const t0 = process.hrtime.bigint();
  await podmanOk(['stop', '-t', String(grace), name], (grace + 30) * 1000);
  const seconds = Number(process.hrtime.bigint() - t0) / 1e9;
  const exitCode = Number(await podmanOk(['inspect', '--format', '{{.State.ExitCode}}', name]));
  return { seconds, exitCode };
}

export async function removeContainer(name: string): Promise<void> {
  await podman(['rm', '-f', '-t', '0', name]);
}

export async function removeVolume(name: string): Promise<void> {
  await podman(['volume', 'rm', '-f', name]);
}

export async function volumePath(name: string): Promise<string> {
  return podmanOk(['volume', 'inspect', '--format', '{{.Mountpoint}}', name]);
}

/** Every regular file under `dir` whose bytes contain `needle`. */
export function filesContaining(dir: string, needle: Buffer): string[] {
  const hits: string[] = [];
  const walk = (d: string): void => {
    for (const entry of readdirSync(d, { withFileTypes: true })) {
      const full = join(d, entry.name);
      if (entry.isDirectory()) walk(full);
      else if (entry.isFile() && readFileSync(full).includes(needle)) hits.push(full);
    }
  };
  walk(dir);
  return hits;
}

/** Total bytes of regular files under `dir` (to show the scan looked at real data). */
export function treeBytes(dir: string): number {
  let total = 0;
  const walk = (d: string): void => {
    for (const entry of readdirSync(d, { withFileTypes: true })) {
      const full = join(d, entry.name);
      if (entry.isDirectory()) walk(full);
      else if (entry.isFile()) total += statSync(full).size;
    }
  };
  walk(dir);
  return total;
}

export function removeDir(dir: string): void {
  rmSync(dir, { recursive: true, force: true });
}

/** Runs a host command (curl, psql, the CLI); never rejects on exit code. */
export async function host(cmd: string, args: readonly string[], env?: NodeJS.ProcessEnv, input?: string): Promise<Result> {
  return new Promise((resolve) => {
    const child = execFile(
      cmd,
      args,
      { env: { ...process.env, ...env }, timeout: 60_000, maxBuffer: 1 << 26 },
      (err, stdout, stderr) => {
        const code = err ? (typeof (err as { code?: unknown }).code === 'number' ? (err as { code: number }).code : 1) : 0;
        resolve({ code, stdout, stderr });
      },
    );
    if (input !== undefined) child.stdin?.end(input);
  });
}
