// What every authenticated request carries through its handlers, and what routes are built from.
import type { Logger, Policy, PolicyHolder, SecurityContext } from '@weftkit/kernel';
import type { KvMetrics } from '../ops/metrics.js';
import type { KvStore } from '../store/kv-store.js';
import type { AccessControl } from './access-control.js';
import type { HttpAudit } from './audit-events.js';
import type { WatchHub } from './routes/watch.js';

export interface RequestState {
  /** The request's own SecurityContext, minted by the kernel for this request. */
  readonly ctx: SecurityContext;
  /** The policy in force when the request arrived (a SIGHUP reload affects later requests). */
  readonly policy: Policy;
  /** Item key of `/items/{key}` routes, decoded and checked. */
  key: string;
  /** `performance.now()` when the request arrived. */
  readonly startedAt: number;
}

export interface RouteDeps {
  readonly store: KvStore;
  readonly access: AccessControl;
  readonly audit: HttpAudit;
  readonly metrics: KvMetrics;
  readonly policies: PolicyHolder;
  readonly logger: Logger;
  readonly maxValueBytes: number;
  readonly watches: WatchHub;
  readonly heartbeatMs: number;
}

declare module 'fastify' {
  interface FastifyRequest {
    kv: RequestState | null;
  }
}

/** Milliseconds since the request arrived (audit `latency_ms`). */
export function elapsedMs(state: RequestState): number {
  return Math.round((performance.now() - state.startedAt) * 1000) / 1000;
}

/** The state of a request that passed authentication (every route but /openapi.json). */
export function stateOf(request: { kv: RequestState | null }): RequestState {
  const state = request.kv;
  if (state === null) throw new TypeError('request was not authenticated');
  return state;
}
