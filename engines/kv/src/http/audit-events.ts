// What the HTTP layer records in the audit log. Every method resolves only once the event is
// durable, so callers await it before replying. Resources are key names; values never appear.
import type { AuditLog, AuditResult, SecurityContext } from '@weftkit/kernel';

export interface RequestSubject {
  readonly peer: string;
  readonly connectionId: string;
  readonly requestId: string;
}

export class HttpAudit {
  readonly #log: AuditLog | undefined;

  constructor(log: AuditLog | undefined) {
    this.#log = log;
  }

  get recordsReads(): boolean {
    return this.#log?.records('data_read') === true;
  }

  get recordsWrites(): boolean {
    return this.#log?.records('data_write') === true;
  }

  async authSuccess(ctx: SecurityContext): Promise<void> {
    if (this.#log === undefined) return;
    await this.#log.append(ctx, { event: 'auth', operation: 'login', result: 'success', details: { method: ctx.authMethod } });
  }

  async authFailure(subject: RequestSubject, method: string, claimed: string | null, errorCode: string): Promise<void> {
    if (this.#log === undefined) return;
    await this.#log.appendUnauthenticated({
      event: 'auth',
      operation: 'login',
      result: 'failure',
      identity: claimed,
      errorCode,
      peer: subject.peer,
      connectionId: subject.connectionId,
      requestId: subject.requestId,
      details: { method },
    });
  }

  async deny(ctx: SecurityContext, operation: string, resource: string | null, action: string): Promise<void> {
    if (this.#log === undefined) return;
    await this.#log.append(ctx, {
      event: 'authz_deny',
      operation,
      resource,
      result: 'denied',
      errorCode: 'WK_AUTHZ_ACCESS_DENIED',
      details: { action },
    });
  }

  async read(ctx: SecurityContext, operation: string, resource: string | null, result: AuditResult, latencyMs: number, details?: Record<string, unknown>): Promise<void> {
    if (this.#log === undefined || !this.#log.records('data_read')) return;
    await this.#log.append(ctx, { event: 'data_read', operation, resource, result, latencyMs, ...(details === undefined ? {} : { details }) });
  }

  /** A `data_export` event (recorded whenever the audit log keeps that type, as it does by default). */
  async exported(ctx: SecurityContext, operation: string, resource: string | null, result: AuditResult, latencyMs: number, details?: Record<string, unknown>): Promise<void> {
    if (this.#log === undefined || !this.#log.records('data_export')) return;
    await this.#log.append(ctx, { event: 'data_export', operation, resource, result, latencyMs, ...(details === undefined ? {} : { details }) });
  }

  async write(ctx: SecurityContext, operation: string, resource: string | null, result: AuditResult, latencyMs: number, details?: Record<string, unknown>): Promise<void> {
    if (this.#log === undefined || !this.#log.records('data_write')) return;
    await this.#log.append(ctx, { event: 'data_write', operation, resource, result, latencyMs, ...(details === undefined ? {} : { details }) });
  }
}
