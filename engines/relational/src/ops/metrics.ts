// The relational engine's Prometheus metrics: plain counters and one latency histogram, rendered
// in the text exposition format on the ops port. Gauges are sampled at scrape time.
import type { ConnectionMetrics } from '../server/connection.js';
import type { SessionMetrics } from '../session/session.js';

const LATENCY_BUCKETS: readonly number[] = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];

/** A gauge read when metrics are scraped. */
export type GaugeRead = () => number;

/** A gauge with one sample per label set (e.g. per tenant), read when metrics are scraped. */
export type LabeledGaugeRead = () => readonly { readonly labels: Readonly<Record<string, string>>; readonly value: number }[];

export class RelationalMetrics implements SessionMetrics, ConnectionMetrics {
  readonly #buckets: number[] = LATENCY_BUCKETS.map(() => 0);
  #latencySum = 0;
  #queries = 0;
  #authFailures = 0;
  #tlsHandshakeErrors = 0;
  #waitTimeouts = 0;
  readonly #gauges = new Map<string, { readonly help: string; readonly read: GaugeRead }>();
  readonly #sampledCounters = new Map<string, { readonly help: string; readonly read: GaugeRead }>();
  readonly #labeledGauges = new Map<string, { readonly help: string; readonly read: LabeledGaugeRead }>();

  exchange(seconds: number): void {
    this.#queries++;
    this.#latencySum += seconds;
    for (let i = 0; i < LATENCY_BUCKETS.length; i++) {
      if (seconds <= LATENCY_BUCKETS[i]!) {
        this.#buckets[i]!++;
        break;
      }
    }
  }

  waitTimeout(): void {
    this.#waitTimeouts++;
  }

  authFailure(): void {
    this.#authFailures++;
  }

  tlsHandshakeError(): void {
    this.#tlsHandshakeErrors++;
  }

  /** Registers (or replaces) a gauge sampled at scrape time. */
  gauge(name: string, help: string, read: GaugeRead): void {
    this.#gauges.set(name, { help, read });
  }

  /** Registers (or replaces) a counter kept elsewhere (e.g. the classifier cache), read at scrape time. */
  sampledCounter(name: string, help: string, read: GaugeRead): void {
    this.#sampledCounters.set(name, { help, read });
  }

  /** Registers (or replaces) a labeled gauge sampled at scrape time. */
  labeledGauge(name: string, help: string, read: LabeledGaugeRead): void {
    this.#labeledGauges.set(name, { help, read });
  }

  render(): string {
    const out: string[] = [];
    const counter = (name: string, help: string, value: number): void => {
      out.push(`# HELP ${name} ${help}`, `# TYPE ${name} counter`, `${name} ${value}`);
    };
    counter('weftkit_relational_queries_total', 'Units (a Query, or extended messages up to Sync/Flush) run on tenant backends.', this.#queries);
    counter('weftkit_relational_auth_failures_total', 'Logins refused (bad password or token, lockout, wrong database, ...).', this.#authFailures);
    counter('weftkit_relational_tls_handshake_errors_total', 'TLS handshakes that failed after an SSLRequest.', this.#tlsHandshakeErrors);
    counter('weftkit_relational_session_wait_timeouts_total', 'Units refused with 55P03 after waiting for a busy tenant backend.', this.#waitTimeouts);
    const h = 'weftkit_relational_query_duration_seconds';
    out.push(`# HELP ${h} Time a unit spent on its tenant backend.`, `# TYPE ${h} histogram`);
    let cumulative = 0;
    for (let i = 0; i < LATENCY_BUCKETS.length; i++) {
      cumulative += this.#buckets[i]!;
      out.push(`${h}_bucket{le="${LATENCY_BUCKETS[i]}"} ${cumulative}`);
    }
    out.push(`${h}_bucket{le="+Inf"} ${this.#queries}`, `${h}_sum ${this.#latencySum}`, `${h}_count ${this.#queries}`);
    for (const [name, c] of this.#sampledCounters) counter(name, c.help, c.read());
    for (const [name, g] of this.#gauges) out.push(`# HELP ${name} ${g.help}`, `# TYPE ${name} gauge`, `${name} ${g.read()}`);
    for (const [name, g] of this.#labeledGauges) {
      out.push(`# HELP ${name} ${g.help}`, `# TYPE ${name} gauge`);
      for (const sample of g.read()) out.push(`${name}{${labelText(sample.labels)}} ${sample.value}`);
    }
    return `${out.join('\n')}\n`;
  }
}

function labelText(labels: Readonly<Record<string, string>>): string {
  return Object.entries(labels)
    .map(([k, v]) => `${k}="${v.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n')}"`)
    .join(',');
}
