// The authentication exchange after a StartupMessage (DESIGN.md §2, §3): SCRAM-SHA-256 for users
// with a SCRAM verifier; a cleartext password (over TLS unless insecure dev mode) for bcrypt users
// and for a JWT sent as the password; the client certificate for mTLS. Every outcome is audited
// (`auth`) before the client hears it.
import type { TLSSocket } from 'node:tls';
import {
  type AuditLog,
  AuthFailed,
  type InsecureNoAuthAuthenticator,
  type JwtAuthenticator,
  type MtlsAuthenticator,
  type PasswordAuthenticator,
  publicError,
  type SecurityContext,
  splitLoginName,
  type UsersStore,
} from '@weftkit/kernel';
import { ServerAuthMethodUnavailable, ServerAuthProtocolViolation, ServerTlsRequired, ServerUserMismatch } from '../errors.js';
import {
  authenticationCleartextPassword,
  authenticationSASL,
  authenticationSASLContinue,
  authenticationSASLFinal,
  decodePassword,
  decodeSASLInitialResponse,
  type FrontendMessage,
  type PasswordMessage,
  type StartupMessage,
} from '../protocol/index.js';

export interface AuthServices {
  readonly password?: PasswordAuthenticator;
  readonly users?: UsersStore;
  readonly jwt?: JwtAuthenticator;
  readonly mtls?: MtlsAuthenticator;
  readonly insecure?: InsecureNoAuthAuthenticator;
  readonly audit?: AuditLog;
  /** `WEFTKIT_INSECURE_DEV`: allows cleartext passwords without TLS. */
  readonly insecureDev: boolean;
}

/** The connection as the exchange sees it. */
export interface AuthChannel {
  write(chunk: Buffer): void;
  next(): Promise<FrontendMessage | null>;
  /** The TLS socket when the connection was upgraded. */
  readonly tls: TLSSocket | undefined;
  readonly peer: string;
  readonly connectionId: string;
}

/** The verified context and what to send before AuthenticationOk (SASLFinal). */
export interface AuthOutcome {
  readonly ctx: SecurityContext;
  readonly preamble: readonly Buffer[];
}

/** The client closed the connection during the exchange: nothing to answer or audit. */
export class ClientGone extends Error {}

/** A compact JWS: three base64url parts. */
const COMPACT_JWS = /^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+$/;

async function nextPassword(channel: AuthChannel): Promise<PasswordMessage> {
  const msg = await channel.next();
  if (msg === null || msg.type === 'terminate') throw new ClientGone('client closed the connection during authentication');
  if (msg.type !== 'password') throw new ServerAuthProtocolViolation('expected an authentication response');
  return msg;
}

/** `user` or `user@tenant` naming exactly the verified identity and its tenant. */
function sameUser(startupUser: string, ctx: SecurityContext): boolean {
  return startupUser === ctx.identity || startupUser === `${ctx.identity}@${ctx.tenant}`;
}

function wantsScram(services: AuthServices, login: string): boolean {
  const { password } = services;
  if (password === undefined) return false;
  if (services.jwt === undefined) return password.methodFor(login) === 'scram-sha-256';
  // With JWT on, a name that is not a SCRAM user must be asked for cleartext: it may be a token's subject.
  let user: string;
  try {
    user = splitLoginName(login).user;
  } catch {
    return false;
  }
  return services.users?.get(user)?.hash.scheme === 'scram-sha-256';
}

async function scram(password: PasswordAuthenticator, login: string, channel: AuthChannel): Promise<AuthOutcome> {
  const exchange = password.startScram({ login, peer: channel.peer, connectionId: channel.connectionId });
  channel.write(authenticationSASL([exchange.mechanism]));
  const first = decodeSASLInitialResponse(await nextPassword(channel));
  if (first.mechanism !== exchange.mechanism) {
    throw new ServerAuthProtocolViolation('client selected an invalid SASL authentication mechanism');
  }
  if (first.data === null) throw new ServerAuthProtocolViolation('SASLInitialResponse carries no client-first-message');
  channel.write(authenticationSASLContinue(exchange.serverFirst(first.data)));
  const final = await nextPassword(channel);
  const { serverFinal, context } = exchange.serverFinal(final.data);
  return { ctx: context, preamble: [authenticationSASLFinal(serverFinal)] };
}

async function cleartext(services: AuthServices, login: string, channel: AuthChannel): Promise<AuthOutcome> {
  if (channel.tls === undefined && !services.insecureDev) {
    throw new ServerTlsRequired('password authentication needs an encrypted connection (sslmode=require)');
  }
  channel.write(authenticationCleartextPassword());
  const secret = decodePassword(await nextPassword(channel));
  const request = { peer: channel.peer, connectionId: channel.connectionId };
  if (services.jwt !== undefined && COMPACT_JWS.test(secret)) {
    const ctx = await services.jwt.authenticate(secret, request);
    if (!sameUser(login, ctx)) throw new ServerUserMismatch('the user name does not match the token subject');
    return { ctx, preamble: [] };
  }
  if (services.password === undefined) throw new AuthFailed('password authentication failed');
  const ctx = await services.password.authenticate({ login, password: secret, ...request });
  return { ctx, preamble: [] };
}

async function exchange(startup: StartupMessage, services: AuthServices, channel: AuthChannel): Promise<AuthOutcome> {
  const login = startup.user;
  if (services.insecure !== undefined) {
    return { ctx: services.insecure.authenticate({ login, peer: channel.peer, connectionId: channel.connectionId }), preamble: [] };
  }
  const { mtls } = services;
  const secretMethods = services.password !== undefined || services.jwt !== undefined;
  if (mtls !== undefined) {
    if (channel.tls === undefined) {
      throw new ServerAuthMethodUnavailable('a client certificate is required: connect with TLS and a certificate');
    }
    if (!secretMethods) {
      const ctx = mtls.authenticate(channel.tls, { connectionId: channel.connectionId });
      if (!sameUser(login, ctx)) throw new ServerUserMismatch('the user name does not match the client certificate');
      return { ctx, preamble: [] };
    }
  }
  if (!secretMethods) throw new ServerAuthMethodUnavailable('no authentication method is configured');
  const outcome =
    services.password !== undefined && wantsScram(services, login)
      ? await scram(services.password, login, channel)
      : await cleartext(services, login, channel);
  // mTLS is additive: the certificate must belong to the identity that logged in.
  if (mtls !== undefined && channel.tls !== undefined) mtls.requireUser(channel.tls, outcome.ctx.identity);
  return outcome;
}

/**
 * Runs the exchange and audits it. `after` runs checks on the verified context (e.g. the startup
 * database) whose failure is audited as a failed login. Throws `ClientGone` (not audited) when the
 * client leaves mid-exchange, else the coded error to send as FATAL.
 */
export async function authenticateStartup(
  startup: StartupMessage,
  services: AuthServices,
  channel: AuthChannel,
  after: (ctx: SecurityContext) => void,
): Promise<AuthOutcome> {
  const started = performance.now();
  let outcome: AuthOutcome;
  try {
    outcome = await exchange(startup, services, channel);
    after(outcome.ctx);
  } catch (err) {
    if (err instanceof ClientGone) throw err;
    await services.audit?.appendUnauthenticated({
      event: 'auth',
      operation: 'login',
      result: 'failure',
      errorCode: publicError(err).expose ? (err as { code: string }).code : 'WK_INTERNAL',
      identity: startup.user,
      peer: channel.peer,
      connectionId: channel.connectionId,
      latencyMs: performance.now() - started,
      details: { protocol: 'postgresql', tls: channel.tls !== undefined },
    });
    throw err;
  }
  await services.audit?.append(outcome.ctx, {
    event: 'auth',
    operation: 'login',
    result: 'success',
    latencyMs: performance.now() - started,
    details: { protocol: 'postgresql', method: outcome.ctx.authMethod, tls: channel.tls !== undefined },
  });
  return outcome;
}
