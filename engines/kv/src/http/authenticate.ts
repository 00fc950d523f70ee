// Turns one HTTP request into a fresh SecurityContext: Bearer JWT, Basic (password users), the
// client certificate (mTLS), or the dev-only WEFTKIT_AUTH=none. Every failure is a coded error.
import type { Socket } from 'node:net';
import type { TLSSocket } from 'node:tls';
import { type KernelServices, publicError, type SecurityContext, splitLoginName } from '@weftkit/kernel';
import { AuthenticationRequired, CredentialsMalformed } from '../errors.js';
import type { KvMetrics } from '../ops/metrics.js';
import type { HttpAudit, RequestSubject } from './audit-events.js';

const MAX_AUTHORIZATION_BYTES = 8192;
const BASE64 = /^[A-Za-z0-9+/]+={0,2}$/;
const utf8 = new TextDecoder('utf-8', { fatal: true });

export interface AuthRequest extends RequestSubject {
  readonly authorization: string | undefined;
  readonly socket: Socket;
}

interface BasicCredentials {
  readonly login: string;
  readonly password: string;
}

function parseBasic(value: string): BasicCredentials {
  if (!BASE64.test(value)) throw new CredentialsMalformed('Basic credentials are not base64');
  let text: string;
  try {
    text = utf8.decode(Buffer.from(value, 'base64'));
  } catch {
    throw new CredentialsMalformed('Basic credentials are not UTF-8');
  }
  const colon = text.indexOf(':');
  if (colon <= 0) throw new CredentialsMalformed('Basic credentials must be user:password');
  return { login: text.slice(0, colon), password: text.slice(colon + 1) };
}

/** The claimed user of a login, for failure audit records (null when it is not a usable name). */
function claimedUser(login: string): string | null {
  try {
    return splitLoginName(login).user;
  } catch {
    return null;
  }
}

export class RequestAuthenticator {
  readonly #kernel: KernelServices;
  readonly #audit: HttpAudit;
  readonly #metrics: KvMetrics;
  /** mTLS is additive when another method is also configured (DESIGN §2). */
  readonly #mtlsOnly: boolean;
  /** Per connection, the last context audited as a successful login (one auth event per login). */
  readonly #audited = new WeakMap<Socket, string>();
  /** The `WWW-Authenticate` value of a 401. */
  readonly challenge: string;

  constructor(kernel: KernelServices, audit: HttpAudit, metrics: KvMetrics) {
    this.#kernel = kernel;
    this.#audit = audit;
    this.#metrics = metrics;
    this.#mtlsOnly = kernel.mtls !== undefined && kernel.password === undefined && kernel.jwt === undefined;
    const challenges: string[] = [];
    if (kernel.jwt !== undefined) challenges.push('Bearer realm="weftkit"');
    if (kernel.password !== undefined || kernel.insecure !== undefined) challenges.push('Basic realm="weftkit", charset="UTF-8"');
    if (challenges.length === 0) challenges.push('Mutual realm="weftkit"');
    this.challenge = challenges.join(', ');
  }

  async authenticate(request: AuthRequest): Promise<SecurityContext> {
    let method = 'none';
    let claimed: string | null = null;
    try {
      const { ctx, method: used } = await this.#authenticate(request, (m, c) => {
        method = m;
        claimed = c;
      });
      await this.#auditSuccess(request.socket, ctx, used);
      return ctx;
    } catch (err) {
      this.#metrics.authFailure(method);
      await this.#audit.authFailure(request, method, claimed, publicError(err).code);
      throw err;
    }
  }

  async #authenticate(
    request: AuthRequest,
    note: (method: string, claimed: string | null) => void,
  ): Promise<{ ctx: SecurityContext; method: string }> {
    const k = this.#kernel;
    const info = { peer: request.peer, connectionId: request.connectionId, requestId: request.requestId };
    const header = request.authorization;
    if (header !== undefined && header.length > MAX_AUTHORIZATION_BYTES) throw new CredentialsMalformed('Authorization header is too long');

    if (k.insecure !== undefined) {
      // Dev mode: everyone is the superuser `dev`; a Basic login `any@tenant` picks the tenant.
      note('none', null);
      const basic = header !== undefined && /^basic /i.test(header) ? parseBasic(header.slice(6).trim()) : undefined;
      return { ctx: k.insecure.authenticate({ ...(basic === undefined ? {} : { login: basic.login }), ...info }), method: 'none' };
    }

    if (this.#mtlsOnly) {
      note('mtls', null);
      return { ctx: k.mtls!.authenticate(request.socket as TLSSocket, info), method: 'mtls' };
    }

    if (header === undefined) throw new AuthenticationRequired('authentication is required');
    const space = header.indexOf(' ');
    const scheme = (space < 0 ? header : header.slice(0, space)).toLowerCase();
    const value = space < 0 ? '' : header.slice(space + 1).trim();

    if (scheme === 'bearer') {
      note('jwt', null);
      if (k.jwt === undefined) throw new AuthenticationRequired('bearer tokens are not accepted here');
      if (value.length === 0) throw new CredentialsMalformed('Bearer token is empty');
      const ctx = await k.jwt.authenticate(value, info);
      if (k.mtls !== undefined) k.mtls.requireUser(request.socket as TLSSocket, ctx.identity);
      return { ctx, method: 'jwt' };
    }
    if (scheme === 'basic') {
      note('password', null);
      if (k.password === undefined) throw new AuthenticationRequired('password authentication is not accepted here');
      const basic = parseBasic(value);
      note('password', claimedUser(basic.login));
      // mTLS first: a certificate for someone else never gets as far as a password check.
      if (k.mtls !== undefined) k.mtls.requireUser(request.socket as TLSSocket, splitLoginName(basic.login).user);
      const ctx = await k.password.authenticate({ login: basic.login, password: basic.password, ...info });
      return { ctx, method: 'password' };
    }
    throw new AuthenticationRequired('unsupported authorization scheme');
  }

  async #auditSuccess(socket: Socket, ctx: SecurityContext, method: string): Promise<void> {
    const who = `${method}\u0000${ctx.identity}\u0000${ctx.tenant}`;
    if (this.#audited.get(socket) === who) return;
    await this.#audit.authSuccess(ctx);
    this.#audited.set(socket, who);
  }
}
