// Shared by the key-operation end-to-end tests: the engine as a process (from source), the real
// `weftkit` CLI, `weftkit keys status` parsing, keyring.json versions, polling.
import assert from 'node:assert/strict';
import { type ChildProcess, spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { weftkit } from '../../../cli/src/testing/run-cli.js';

const pkg = fileURLToPath(new URL('..', import.meta.url));
const main = join(pkg, 'src', 'main.ts');

export interface Engine {
  readonly child: ChildProcess;
  readonly port: number;
  readonly ops: string;
  stderr(): string;
}

/** Starts `src/main.ts` with exactly `env` (plus PATH) and waits for its "listening" line. */
export async function startEngine(env: Record<string, string>): Promise<Engine> {
  const child = spawn(process.execPath, ['--import', 'tsx', main], { cwd: pkg, env: { PATH: process.env.PATH ?? '', ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  let stderr = '';
  const collect = (d: Buffer): void => {
    stderr += d.toString();
  };
  child.stderr!.on('data', collect);
  child.stdout!.on('data', collect);
  const started = await new Promise<{ address: string; ops: string }>((resolve, reject) => {
    const look = (): void => {
      const line = stderr.split('\n').find((l) => l.includes('weftkit relational listening'));
      if (line !== undefined) resolve(JSON.parse(line));
    };
    child.stderr!.on('data', look);
    child.stdout!.on('data', look);
    child.on('exit', () => reject(new Error(`engine exited: ${stderr}`)));
  });
  return { child, port: Number(started.address.split(':').pop()), ops: started.ops, stderr: () => stderr };
}

/** The built `weftkit` CLI as a child process. */
export const cli = (args: string[], env: Record<string, string>): Promise<{ code: number; out: string; err: string }> => weftkit(args, env);

/** DEK versions keyring.json holds for `tenant` (undefined: none). */
export function keyringVersions(dataDir: string, tenant: string): number[] | undefined {
  const body = JSON.parse(readFileSync(join(dataDir, 'keyring.json'), 'utf8').split('\n')[0]!);
  return body.tenants[tenant]?.keys.map((k: { version: number }) => k.version);
}

/**
 * `weftkit keys status` for one tenant, answered by the running engine (`remaining` -1 when it reports
 * none; `rate`, bytes per second, undefined when it reports none).
 */
export async function status(
  env: Record<string, string>,
  tenant: string,
): Promise<{ versions: string; remaining: number; running: boolean; rate: number | undefined }> {
  const r = await cli(['keys', 'status'], env);
  assert.equal(r.code, 0, r.err);
  const line = r.out.split('\n').find((l) => l.startsWith(`${tenant}\t`))!;
  const m = /versions ([\d,]+).*?(running|idle), (\d+) file\(s\) left(?:, \d+ bytes done)?(?:, rate (\d+) B\/s)?/.exec(line);
  if (m === null) return { versions: /versions ([\d,]+)/.exec(line)![1]!, remaining: -1, running: false, rate: undefined };
  return { versions: m[1]!, running: m[2] === 'running', remaining: Number(m[3]), rate: m[4] === undefined ? undefined : Number(m[4]) };
}

export async function until(what: string, check: () => Promise<boolean>, timeoutMs = 90_000): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}
