// Runs pgbench against one target and reads TPS and average latency from its summary.
import { runAsync } from '../lib/processes.js';

export interface PgbenchTarget {
  readonly label: string;
  readonly host: string;
  readonly port: number;
  readonly user: string;
  readonly database: string;
  /** Environment for pgbench: PGPASSWORD, PGSSLMODE and the rest. */
  readonly env: NodeJS.ProcessEnv;
}

export interface PgbenchResult {
  tps: number;
  latencyMs: number;
  transactions: number;
  failed: number;
}

function connectionArgs(t: PgbenchTarget): string[] {
  return ['-h', t.host, '-p', String(t.port), '-U', t.user];
}

export async function pgbenchInit(pgbench: string, t: PgbenchTarget, scale: number): Promise<void> {
  await runAsync(pgbench, ['-i', '-I', 'dtGvp', '-s', String(scale), ...connectionArgs(t), t.database], t.env);
}

function number(out: string, re: RegExp, what: string): number {
  const m = re.exec(out);
  if (m === null) throw new Error(`pgbench output has no ${what}:\n${out.slice(-2000)}`);
  return Number(m[1]);
}

export async function pgbenchRun(pgbench: string, t: PgbenchTarget, args: readonly string[]): Promise<PgbenchResult> {
  const out = await runAsync(pgbench, [...args, ...connectionArgs(t), t.database], t.env);
  const failedMatch = /number of failed transactions: (\d+)/.exec(out);
  return {
    tps: number(out, /tps = ([\d.]+) \(without initial connection time\)/, 'tps'),
    latencyMs: number(out, /latency average = ([\d.]+) ms/, 'latency average'),
    transactions: number(out, /number of transactions actually processed: (\d+)/, 'transaction count'),
    failed: failedMatch === null ? 0 : Number(failedMatch[1]),
  };
}
