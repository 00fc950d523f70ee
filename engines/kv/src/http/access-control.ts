// Authorization of kv operations with the kernel policy; every denial is audited (durably, before
// the 403 goes out) and counted.
import { AccessDenied, Action, type ActionBits, actionNames } from '@weftkit/kernel';
import type { KvMetrics } from '../ops/metrics.js';
import type { HttpAudit } from './audit-events.js';
import type { RequestState } from './request-state.js';

/** What a caller may do when writing one key: PUT is INSERT for a new key, UPDATE for an existing one. */
export type WriteRight = 'any' | 'insert-only' | 'update-only' | 'none';

export class AccessControl {
  readonly #audit: HttpAudit;
  readonly #metrics: KvMetrics;

  constructor(audit: HttpAudit, metrics: KvMetrics) {
    this.#audit = audit;
    this.#metrics = metrics;
  }

  /** Resolves when allowed; otherwise audits the denial and rejects with `AccessDenied` (403). */
  async require(state: RequestState, action: ActionBits, operation: string, resource: string | null): Promise<void> {
    if (state.policy.authorize(state.ctx, action, resource ?? undefined)) return;
    throw await this.denied(state, action, operation, resource);
  }

  /** Audits a denial and returns the error to throw. */
  async denied(state: RequestState, action: ActionBits, operation: string, resource: string | null): Promise<AccessDenied> {
    this.#metrics.authzDenial();
    const names = actionNames(action).join(', ');
    await this.#audit.deny(state.ctx, operation, resource, names);
    return new AccessDenied(`permission denied for ${names}`);
  }

  writeRight(state: RequestState, key: string): WriteRight {
    const { policy, ctx } = state;
    const insert = policy.authorize(ctx, Action.INSERT, key);
    const update = policy.authorize(ctx, Action.UPDATE, key);
    return insert ? (update ? 'any' : 'insert-only') : update ? 'update-only' : 'none';
  }

  /**
   * Which keys a list or watch may show: `all`, `none`, or a per-key test (only when some role's
   * SELECT is limited by `on:` patterns). `live` re-reads the policy per key (long-lived watches).
   */
  readFilter(state: RequestState, live?: () => RequestState['policy']): 'all' | 'none' | ((key: string) => boolean) {
    const { policy, ctx } = state;
    if (live === undefined) return this.keyFilter(state, Action.SELECT);
    if ((policy.allowedSomewhere(ctx) & Action.SELECT) === 0) return 'none';
    return (key) => live().authorize(ctx, Action.SELECT, key);
  }

  /** Which keys `action` may touch under the request's policy: `all`, `none`, or a per-key test. */
  keyFilter(state: RequestState, action: ActionBits): 'all' | 'none' | ((key: string) => boolean) {
    const { policy, ctx } = state;
    if ((policy.allowedEverywhere(ctx) & action) === action) return 'all';
    if ((policy.allowedSomewhere(ctx) & action) === 0) return 'none';
    return (key) => policy.authorize(ctx, action, key);
  }
}
