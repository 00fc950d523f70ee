// `npm start` (scripts/start.mjs), as the README promises: both engines come up with development
// defaults, and the psql and curl lines it prints work exactly as printed. Runs in its own home
// directory on free ports; Ctrl-C (SIGINT) stops both engines.
import assert from 'node:assert/strict';
import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { once } from 'node:events';
import { mkdtemp, rm } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { fileURLToPath } from 'node:url';

const START = fileURLToPath(new URL('../../scripts/start.mjs', import.meta.url));
/** start.mjs uses base, base+1 (relational) and base+4, base+5 (kv). */
const OFFSETS = [0, 1, 4, 5];

async function isFree(port: number): Promise<boolean> {
  const server = createServer();
  server.listen(port, '127.0.0.1');
  try {
    await once(server, 'listening');
  } catch {
    return false;
  }
  server.close();
  await once(server, 'close');
  return true;
}

async function freePortBase(): Promise<number> {
  for (let i = 0; i < 50; i++) {
    const base = 30000 + Math.floor(Math.random() * 30000);
    const free = await Promise.all(OFFSETS.map((o) => isFree(base + o)));
    if (free.every(Boolean)) return base;
  }
  throw new Error('no free block of ports');
}

/** Resolves with the output once `marker` appears in it; rejects if the process exits first. */
function waitForOutput(child: ChildProcess, marker: string, timeoutMs: number): Promise<string> {
  return new Promise((resolve, reject) => {
    let out = '';
    const timer = setTimeout(() => reject(new Error(`no "${marker}" within ${timeoutMs} ms:\n${out}`)), timeoutMs);
    child.stdout!.on('data', (chunk: Buffer) => {
      out += chunk.toString('utf8');
      if (out.includes(marker)) {
        clearTimeout(timer);
        resolve(out);
      }
    });
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`start.mjs exited (${code}) before printing "${marker}":\n${out}`));
    });
  });
}

function shell(line: string): { status: number | null; stdout: string; stderr: string } {
  const r = spawnSync('bash', ['-c', line], { encoding: 'utf8', timeout: 60_000 });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

let home: string | undefined;
let child: ChildProcess | undefined;
after(async () => {
  if (child !== undefined && child.exitCode === null) {
    child.kill('SIGINT');
    await once(child, 'exit');
  }
  if (home !== undefined) await rm(home, { recursive: true, force: true });
});

test('npm start brings up both engines; its printed psql and curl lines work; Ctrl-C stops them', { timeout: 240_000 }, async () => {
  home = await mkdtemp(join(tmpdir(), 'weftkit-start-'));
  const base = await freePortBase();
  child = spawn(process.execPath, [START, '--home', home, '--port-base', String(base), '--no-build'], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let log = '';
  child.stderr!.on('data', (chunk: Buffer) => {
    log = (log + chunk.toString('utf8')).slice(-20_000);
  });
  const out = await waitForOutput(child, 'Ctrl-C stops both engines.', 180_000).catch((err: Error) => {
    throw new Error(`${err.message}\nstderr:\n${log}`);
  });

  const psql = /relational:\s+(psql "[^"]+")/.exec(out)?.[1];
  assert.ok(psql, `a psql line in:\n${out}`);
  assert.ok(psql.includes(`port=${base} `), psql);
  const curlLines = out.split('\n').map((l) => l.trim().replace(/^kv:\s+/, '')).filter((l) => l.startsWith('curl '));
  assert.equal(curlLines.length, 2, out);
  const [put, get] = curlLines as [string, string];

  const q = shell(`${psql} -tAc "select current_setting('app.user') || '@' || current_setting('app.tenant_id')"`);
  assert.equal(q.status, 0, q.stderr);
  assert.equal(q.stdout.trim(), 'alice@dev');

  const w = shell(`${put} -s -o /dev/null -w '%{http_code}'`);
  assert.equal(w.status, 0, w.stderr);
  assert.match(w.stdout, /^2\d\d$/, `PUT answered ${w.stdout}`);
  const r = shell(`${get} -s`);
  assert.equal(r.status, 0, r.stderr);
  assert.match(r.stdout, /hello/);

  const started = performance.now();
  child.kill('SIGINT');
  const [code] = (await once(child, 'exit')) as [number | null];
  assert.equal(code, 0);
  assert.ok(performance.now() - started < 15_000, 'both engines stopped within 15 s');
  for (const o of OFFSETS) assert.equal(await isFree(base + o), true, `port ${base + o} is released`);
});
