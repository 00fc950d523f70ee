// The engine's Prometheus metrics, kept as plain counters (no client library) and rendered in the
// text exposition format on the ops port.

const LATENCY_BUCKETS: readonly number[] = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];

interface Histogram {
  readonly counts: number[];
  sum: number;
  count: number;
}

/** A gauge read when metrics are scraped; one sample per returned entry. */
export type GaugeSource = () => readonly { readonly labels?: Readonly<Record<string, string>>; readonly value: number }[];

interface Gauge {
  readonly help: string;
  readonly read: GaugeSource;
  readonly type: 'gauge' | 'counter';
}

function escapeLabel(value: string): string {
  return value.replace(/[\\"\n]/g, (c) => (c === '\n' ? '\\n' : `\\${c}`));
}

function labelText(labels: Readonly<Record<string, string>> | undefined): string {
  if (labels === undefined) return '';
  const parts = Object.entries(labels).map(([k, v]) => `${k}="${escapeLabel(v)}"`);
  return parts.length === 0 ? '' : `{${parts.join(',')}}`;
}

export class KvMetrics {
  readonly #requests = new Map<string, number>();
  readonly #latency = new Map<string, Histogram>();
  readonly #authFailures = new Map<string, number>();
  #authzDenials = 0;
  #tlsHandshakeErrors = 0;
  readonly #gauges = new Map<string, Gauge>();

  /** One answered request; `route` is the route pattern (never the raw URL, which holds keys). */
  request(route: string, method: string, status: number, seconds: number): void {
    const key = `${route}\u0000${method}\u0000${status}`;
    this.#requests.set(key, (this.#requests.get(key) ?? 0) + 1);
    let h = this.#latency.get(route);
    if (h === undefined) {
      h = { counts: LATENCY_BUCKETS.map(() => 0), sum: 0, count: 0 };
      this.#latency.set(route, h);
    }
    for (let i = 0; i < LATENCY_BUCKETS.length; i++) if (seconds <= LATENCY_BUCKETS[i]!) h.counts[i]!++;
    h.sum += seconds;
    h.count++;
  }

  authFailure(method: string): void {
    this.#authFailures.set(method, (this.#authFailures.get(method) ?? 0) + 1);
  }

  authzDenial(): void {
    this.#authzDenials++;
  }

  tlsHandshakeError(): void {
    this.#tlsHandshakeErrors++;
  }

  /** Registers (or replaces) a gauge sampled at scrape time. */
  gauge(name: string, help: string, read: GaugeSource): void {
    this.#gauges.set(name, { help, read, type: 'gauge' });
  }

  /** Registers (or replaces) a counter kept elsewhere and read at scrape time. */
  counter(name: string, help: string, read: GaugeSource): void {
    this.#gauges.set(name, { help, read, type: 'counter' });
  }

  render(): string {
    const out: string[] = [];
    out.push('# HELP weftkit_kv_http_requests_total HTTP requests answered, by route pattern, method and status.');
    out.push('# TYPE weftkit_kv_http_requests_total counter');
    for (const [key, n] of this.#requests) {
      const [route, method, status] = key.split('\u0000') as [string, string, string];
      out.push(`weftkit_kv_http_requests_total${labelText({ route, method, status })} ${n}`);
    }
    out.push('# HELP weftkit_kv_http_request_duration_seconds Time from request start to the last byte of the reply.');
    out.push('# TYPE weftkit_kv_http_request_duration_seconds histogram');
    for (const [route, h] of this.#latency) {
      for (let i = 0; i < LATENCY_BUCKETS.length; i++) {
        out.push(`weftkit_kv_http_request_duration_seconds_bucket${labelText({ route, le: String(LATENCY_BUCKETS[i]) })} ${h.counts[i]}`);
      }
      out.push(`weftkit_kv_http_request_duration_seconds_bucket${labelText({ route, le: '+Inf' })} ${h.count}`);
      out.push(`weftkit_kv_http_request_duration_seconds_sum${labelText({ route })} ${h.sum}`);
      out.push(`weftkit_kv_http_request_duration_seconds_count${labelText({ route })} ${h.count}`);
    }
    out.push('# HELP weftkit_kv_auth_failures_total Requests refused for missing or invalid credentials, by method.');
    out.push('# TYPE weftkit_kv_auth_failures_total counter');
    for (const [method, n] of this.#authFailures) out.push(`weftkit_kv_auth_failures_total${labelText({ method })} ${n}`);
    out.push('# HELP weftkit_kv_authz_denials_total Operations refused by the authorization policy.');
    out.push('# TYPE weftkit_kv_authz_denials_total counter');
    out.push(`weftkit_kv_authz_denials_total ${this.#authzDenials}`);
    out.push('# HELP weftkit_kv_tls_handshake_errors_total TLS handshakes that failed (bad or missing client certificate, protocol).');
    out.push('# TYPE weftkit_kv_tls_handshake_errors_total counter');
    out.push(`weftkit_kv_tls_handshake_errors_total ${this.#tlsHandshakeErrors}`);
    for (const [name, g] of this.#gauges) {
      out.push(`# HELP ${name} ${g.help}`);
      out.push(`# TYPE ${name} ${g.type}`);
      for (const sample of g.read()) out.push(`${name}${labelText(sample.labels)} ${sample.value}`);
    }
    return `${out.join('\n')}\n`;
  }
}
