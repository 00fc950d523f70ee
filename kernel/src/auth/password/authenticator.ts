import { randomBytes } from 'node:crypto';
import type { IdentityBindings } from '../../identity/bindings.js';
import { resolveTenant } from '../../identity/bindings.js';
import { mintSecurityContext, type SecurityContext } from '../../identity/security-context.js';
import { splitLoginName } from '../../identity/tenant.js';
import type { Logger } from '../../log/logger.js';
import { silentLogger } from '../../log/logger.js';
import { authFailed } from './auth-failure.js';
import { type LockoutOptions, LoginLockout, peerAddress } from './lockout.js';
import { mockScramSecret, SCRAM_MECHANISM, ScramServerSession } from './scram.js';
import { isUserName } from './users-file.js';
import type { UsersStore } from './users-store.js';
import { PasswordVerifier, type PasswordVerifierOptions } from './verify.js';

export interface PasswordAuthenticatorOptions {
  users: UsersStore;
  bindings: IdentityBindings;
  lockout?: LockoutOptions;
  verifier?: PasswordVerifierOptions;
  /**
   * Key deriving the SCRAM salts shown for unknown users. Random per process by default; a
   * persistent one keeps those salts stable across restarts (as a real user's are).
   */
  scramMockKey?: Buffer;
  logger?: Logger;
}

export interface PasswordLoginRequest {
  /** `alice` or `alice@tenant-001`. */
  login: string;
  password: string;
  /** `ip:port` of the client. */
  peer: string;
  connectionId?: string;
  requestId?: string;
}

export interface ScramLoginRequest {
  login: string;
  peer: string;
  connectionId?: string;
  requestId?: string;
  /** Tests only: fixed server nonce part. */
  serverNonce?: string;
}

/** How the relational engine must ask for this login's password. */
export type PasswordMethod = 'scram-sha-256' | 'cleartext';

/** Names outside the pattern share one lockout bucket so they cannot grow it per name. */
function lockoutUser(user: string): string {
  return isUserName(user) ? user : '';
}

/**
 * Password authentication: cleartext (kv Basic, PostgreSQL cleartext) and SCRAM-SHA-256.
 * Unknown users and wrong passwords fail alike with `AuthFailed`; lockout per (user, peer IP)
 * is checked before and recorded after every verification.
 */
export class PasswordAuthenticator {
  readonly #users: UsersStore;
  readonly #bindings: IdentityBindings;
  readonly #lockout: LoginLockout;
  readonly #verifier: PasswordVerifier;
  readonly #mockKey: Buffer;
  readonly #logger: Logger;
  /** Cleartext attempts per (user, IP) run one at a time, so parallel guesses meet the lockout. */
  readonly #chains = new Map<string, Promise<unknown>>();

  constructor(options: PasswordAuthenticatorOptions) {
    this.#users = options.users;
    this.#bindings = options.bindings;
    this.#lockout = new LoginLockout(options.lockout);
    this.#verifier = new PasswordVerifier(options.users, options.verifier);
    this.#mockKey = options.scramMockKey ?? randomBytes(32);
    this.#logger = options.logger ?? silentLogger;
  }

  /**
   * SCRAM for users with a SCRAM verifier, cleartext for bcrypt users. Unknown users get what
   * most users in the file have, so the answer says as little as possible about existence.
   */
  methodFor(login: string): PasswordMethod {
    const record = this.#users.get(splitLoginName(login).user);
    const scheme = record === undefined ? this.#users.profile.scheme : record.hash.scheme;
    return scheme === 'bcrypt' ? 'cleartext' : 'scram-sha-256';
  }

  /** Verifies a cleartext password and mints the context (authMethod `password`). */
  async authenticate(request: PasswordLoginRequest): Promise<SecurityContext> {
    const { user, tenant } = splitLoginName(request.login);
    const lockUser = lockoutUser(user);
    const ip = peerAddress(request.peer);
    await this.#serialized(`${lockUser}\0${ip}`, async () => {
      this.#lockout.check(lockUser, ip);
      const ok = await this.#verifier.verifyPassword(user, request.password);
      this.#record(lockUser, ip, ok);
      if (!ok) throw authFailed(user);
    });
    return this.#mint(user, tenant, 'password', request);
  }

  /** Starts a SCRAM-SHA-256 exchange; `AuthLockedOut` if the pair is locked. */
  startScram(request: ScramLoginRequest): ScramLogin {
    const { user, tenant } = splitLoginName(request.login);
    const lockUser = lockoutUser(user);
    const ip = peerAddress(request.peer);
    this.#lockout.check(lockUser, ip);
    const record = this.#users.get(user);
    const real = record !== undefined && record.hash.scheme === 'scram-sha-256' ? record.hash.secret : undefined;
    const session = new ScramServerSession({
      user,
      secret: real ?? mockScramSecret(this.#mockKey, user, this.#users.profile.scramIterations),
      doomed: real === undefined,
      ...(request.serverNonce === undefined ? {} : { serverNonce: request.serverNonce }),
    });
    return new ScramLogin(session, {
      finish: (clientFinal) => {
        this.#lockout.check(lockUser, ip);
        let serverFinal: string;
        try {
          serverFinal = session.handleClientFinal(clientFinal);
        } catch (err) {
          if ((err as { code?: unknown }).code === 'WK_AUTH_FAILED') this.#record(lockUser, ip, false);
          throw err;
        }
        this.#record(lockUser, ip, true);
        return { serverFinal, context: this.#mint(user, tenant, 'scram', request) };
      },
    });
  }

  /** Drops cached verifications (the users store's reload does this too). */
  clearCache(): void {
    this.#verifier.clearCache();
  }

  #record(lockUser: string, ip: string, ok: boolean): void {
    if (ok) {
      this.#lockout.recordSuccess(lockUser, ip);
      return;
    }
    if (this.#lockout.recordFailure(lockUser, ip)) {
      this.#logger.warn('login locked out after repeated failures', { user: lockUser, ip });
    }
  }

  #mint(user: string, requested: string | undefined, authMethod: 'password' | 'scram', request: ScramLoginRequest): SecurityContext {
    const binding = this.#bindings.lookup(user);
    const tenant = resolveTenant(binding, requested);
    return mintSecurityContext({
      identity: user,
      tenant,
      roles: binding?.roles ?? [],
      authMethod,
      peer: request.peer,
      ...(request.connectionId === undefined ? {} : { connectionId: request.connectionId }),
      ...(request.requestId === undefined ? {} : { requestId: request.requestId }),
    });
  }

  async #serialized(key: string, fn: () => Promise<void>): Promise<void> {
    const previous = this.#chains.get(key) ?? Promise.resolve();
    const run = previous.then(fn, fn);
    const tail = run.catch(() => {});
    this.#chains.set(key, tail);
    try {
      await run;
    } finally {
      if (this.#chains.get(key) === tail) this.#chains.delete(key);
    }
  }
}

/** One SCRAM-SHA-256 login in progress: feed it the client's two messages in order. */
export class ScramLogin {
  readonly mechanism: string = SCRAM_MECHANISM;
  readonly #session: ScramServerSession;
  readonly #finish: (clientFinal: string | Uint8Array) => { serverFinal: string; context: SecurityContext };

  constructor(
    session: ScramServerSession,
    hooks: { finish: (clientFinal: string | Uint8Array) => { serverFinal: string; context: SecurityContext } },
  ) {
    this.#session = session;
    this.#finish = hooks.finish;
  }

  /** client-first-message → server-first-message. */
  serverFirst(clientFirst: string | Uint8Array): string {
    return this.#session.handleClientFirst(clientFirst);
  }

  /**
   * client-final-message → server-final-message and the minted context (authMethod `scram`).
   * Throws `AuthFailed` for a wrong password or unknown user, `TenantNotAllowed` after a right
   * password for a tenant the user is not bound to.
   */
  serverFinal(clientFinal: string | Uint8Array): { serverFinal: string; context: SecurityContext } {
    return this.#finish(clientFinal);
  }
}
