// Runs wrk with the kv Lua script and reads throughput, p99 and failures from its --latency output.
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const SCRIPT = fileURLToPath(new URL('./load.lua', import.meta.url));

export interface WrkRun {
  readonly system: 'weftkit' | 'etcd';
  readonly op: 'put' | 'get';
  readonly url: string;
  readonly keys: number;
  readonly valueBytes: number;
  /** The whole Authorization header value, or '' for none. */
  readonly authorization: string;
  readonly threads: number;
  readonly connections: number;
  readonly seconds: number;
}

export interface WrkResult {
  readonly requestsPerSecond: number;
  readonly p99Ms: number;
  readonly p50Ms: number;
  readonly requests: number;
  /** Non-2xx/3xx responses plus socket errors; any is a broken run. */
  readonly failures: number;
}

const UNIT_MS: Readonly<Record<string, number>> = { us: 0.001, ms: 1, s: 1000, m: 60_000, h: 3_600_000 };

function durationMs(text: string): number {
  const m = /^([\d.]+)(us|ms|s|m|h)$/.exec(text);
  if (m === null) throw new Error(`unreadable wrk duration ${text}`);
  return Number(m[1]) * UNIT_MS[m[2]!]!;
}

export function parseWrk(out: string): WrkResult {
  const rps = /Requests\/sec:\s+([\d.]+)/.exec(out);
  const p99 = /^\s+99%\s+(\S+)/m.exec(out);
  const p50 = /^\s+50%\s+(\S+)/m.exec(out);
  const total = /(\d+) requests in/.exec(out);
  if (rps === null || p99 === null || p50 === null || total === null) throw new Error(`unreadable wrk output:\n${out}`);
  let failures = 0;
  const non2xx = /Non-2xx or 3xx responses:\s+(\d+)/.exec(out);
  if (non2xx !== null) failures += Number(non2xx[1]);
  const socket = /Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)/.exec(out);
  if (socket !== null) failures += Number(socket[1]) + Number(socket[2]) + Number(socket[3]) + Number(socket[4]);
  return {
    requestsPerSecond: Number(rps[1]),
    p99Ms: durationMs(p99[1]!),
    p50Ms: durationMs(p50[1]!),
    requests: Number(total[1]),
    failures,
  };
}

export function runWrk(run: WrkRun): Promise<WrkResult> {
  const args = [
    `-t${run.threads}`,
    `-c${run.connections}`,
    `-d${run.seconds}s`,
    '--latency',
    '--timeout',
    '10s',
    '-s',
    SCRIPT,
    run.url,
    '--',
    run.system,
    run.op,
    String(run.keys),
    String(run.valueBytes),
    run.authorization,
  ];
  return new Promise((resolve, reject) => {
    const child = spawn('wrk', args, { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    child.stdout.on('data', (d: Buffer) => {
      out += d.toString();
    });
    child.stderr.on('data', (d: Buffer) => {
      err += d.toString();
    });
    child.on('error', reject);
    child.on('close', (code) => {
      if (code !== 0) reject(new Error(`wrk exited with ${code}: ${err}${out}`));
      else {
        try {
          resolve(parseWrk(out));
        } catch (e) {
          reject(e);
        }
      }
    });
  });
}
