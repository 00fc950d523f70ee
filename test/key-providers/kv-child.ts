// Runs the kv engine as a child process (`node --import tsx engines/kv/src/main.ts`) with exactly
// the WEFTKIT_* (and AWS_*) variables given, and talks to it over HTTP with dev (auth none) logins.
import { type ChildProcess, spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));

export interface KvChild {
  readonly url: string;
  readonly stderr: () => string;
  readonly stdout: () => string;
  put(tenant: string, key: string, value: string): Promise<Response>;
  get(tenant: string, key: string): Promise<Response>;
  stop(): Promise<void>;
}

/** Starts the engine; resolves with its exit code and stderr if it exits before listening. */
export function runKv(env: Record<string, string>): {
  child: ChildProcess;
  done: Promise<{ code: number; stderr: string; stdout: string }>;
  started: Promise<KvChild>;
} {
  const child = spawn(process.execPath, ['--import', 'tsx', 'engines/kv/src/main.ts'], {
    cwd: ROOT,
    env: { PATH: process.env.PATH ?? '', AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stderr = '';
  let stdout = '';
  child.stdout!.on('data', (d: Buffer) => {
    stdout += d.toString();
  });
  const done = new Promise<{ code: number; stderr: string; stdout: string }>((resolve) =>
    child.on('close', (code) => resolve({ code: code ?? -1, stderr, stdout })),
  );
  const started = new Promise<KvChild>((resolve, reject) => {
    child.stderr!.on('data', (d: Buffer) => {
      stderr += d.toString();
      const m = /"msg":"weftkit kv listening".*?"url":"([^"]+)"/.exec(stderr);
      if (m === null) return;
      const url = m[1]!;
      const auth = (tenant: string) => ({ authorization: `Basic ${Buffer.from(`dev@${tenant}:x`).toString('base64')}` });
      resolve({
        url,
        stderr: () => stderr,
        stdout: () => stdout,
        put: (tenant, key, value) => fetch(`${url}/items/${key}`, { method: 'PUT', headers: { ...auth(tenant), 'content-type': 'text/plain' }, body: value, signal: AbortSignal.timeout(20_000) }),
        get: (tenant, key) => fetch(`${url}/items/${key}`, { headers: auth(tenant), signal: AbortSignal.timeout(20_000) }),
        stop: async () => {
          child.kill('SIGTERM');
          await done;
        },
      });
    });
    void done.then(({ code }) => reject(new Error(`kv exited with ${code}: ${stderr}`)));
  });
  started.catch(() => undefined);
  return { child, done, started };
}

export function kvEnv(dataDir: string, extra: Record<string, string>): Record<string, string> {
  return {
    WEFTKIT_INSECURE_DEV: 'true',
    WEFTKIT_AUTH: 'none',
    WEFTKIT_HOST: '127.0.0.1',
    WEFTKIT_PORT: '0',
    WEFTKIT_OPS_HOST: '127.0.0.1',
    WEFTKIT_OPS_PORT: '0',
    WEFTKIT_DATA_DIR: dataDir,
    ...extra,
  };
}
