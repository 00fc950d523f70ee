// Builds every kernel service an engine needs from its frozen config, in one place, so both
// engines start the same way: policy, authenticators, TLS, reload wiring.
import { type AuditLog, openAuditLog } from '../audit/audit-log.js';
import { InsecureNoAuthAuthenticator } from '../auth/none/insecure-authenticator.js';
import { JwtAuthenticator } from '../auth/jwt/authenticator.js';
import { MtlsAuthenticator } from '../auth/mtls/mtls-authenticator.js';
import { PasswordAuthenticator } from '../auth/password/authenticator.js';
import { UsersStore } from '../auth/password/users-store.js';
import type { WeftKitConfig } from '../config/types.js';
import type { KeyProvider } from '../crypto/key-provider.js';
import { Keyring } from '../crypto/keyring.js';
import { createKeyProvider } from '../crypto/providers/create-key-provider.js';
import type { Logger } from '../log/logger.js';
import { type AdminHandler, type AdminHandlers, type AdminSocket, adminSocketFits, startAdminSocket } from '../runtime/admin-socket.js';
import { registerKernelAdminCommands } from '../runtime/kernel-admin-commands.js';
import { type Reloadable, reloadOnSighup, warnWhileInsecure } from '../runtime/signals.js';
import { type DataDirLock, lockDataDir } from '../storage/data-dir-lock.js';
import { TlsCredentials } from '../tls/credentials.js';
import { PolicyHolder } from './policy-holder.js';

export interface KernelServices {
  readonly config: WeftKitConfig;
  readonly logger: Logger;
  readonly policy: PolicyHolder;
  readonly password?: PasswordAuthenticator;
  readonly users?: UsersStore;
  readonly jwt?: JwtAuthenticator;
  readonly mtls?: MtlsAuthenticator;
  readonly insecure?: InsecureNoAuthAuthenticator;
  readonly tls?: TlsCredentials;
  /** Per-tenant keys under the KEK, unless `WEFTKIT_ENCRYPTION=off`. */
  readonly keyring?: Keyring;
  /** The audit log, when `WEFTKIT_AUDIT=true`. */
  readonly audit?: AuditLog;
  /** What SIGHUP reloads (already wired when `handleSignals` was true). */
  readonly reloadables: readonly Reloadable[];
  /**
   * The admin socket's command registry (`<dataDir>/admin.sock`): the kernel registers `tenant.list`
   * and `keys.rotate-kek`; engines add theirs with `admin.register(command, handler)`.
   */
  readonly admin: AdminHandlers;
  /** Path of the listening admin socket, when it listens. */
  readonly adminSocketPath?: string;
  close(): Promise<void>;
}

export interface StartKernelOptions {
  readonly logger: Logger;
  /** Wire SIGHUP to reload users, roles and TLS (engines: yes; tests: usually no). */
  readonly handleSignals?: boolean;
  /** Listen on `<dataDir>/admin.sock` (default true). */
  readonly adminSocket?: boolean;
}

export async function startKernel(config: WeftKitConfig, options: StartKernelOptions): Promise<KernelServices> {
  const lock = await lockDataDir(config.dataDir, config.engine === 'cli' ? 'weftkit CLI' : `${config.engine} engine`);
  try {
    return await startLocked(config, options, lock);
  } catch (err) {
    await lock.release();
    throw err;
  }
}

async function startLocked(config: WeftKitConfig, options: StartKernelOptions, lock: DataDirLock): Promise<KernelServices> {
  const { logger } = options;
  const methods = config.auth.methods;
  const policy = await PolicyHolder.load({ path: config.rolesFile, required: config.rolesFileExplicit, logger });
  const reloadables: Reloadable[] = [policy];
  const stops: (() => void)[] = [];

  let users: UsersStore | undefined;
  let password: PasswordAuthenticator | undefined;
  if (methods.includes('password')) {
    users = await UsersStore.load(config.auth.usersFile);
    reloadables.push({ name: 'users file', reload: () => users!.reload() });
    password = new PasswordAuthenticator({
      users,
      bindings: policy,
      lockout: {
        failureWindowSeconds: config.auth.failureWindowSeconds,
        failureLimit: config.auth.failureLimit,
        lockoutSeconds: config.auth.lockoutSeconds,
      },
      logger,
    });
  }

  let jwt: JwtAuthenticator | undefined;
  const jwtConfig = config.auth.jwt;
  if (jwtConfig !== undefined) {
    jwt = new JwtAuthenticator({
      ...(jwtConfig.jwksUri === undefined ? {} : { jwksUri: jwtConfig.jwksUri }),
      ...(jwtConfig.publicKeyFile === undefined ? {} : { publicKeyFile: jwtConfig.publicKeyFile }),
      ...(jwtConfig.issuer === undefined ? {} : { issuer: jwtConfig.issuer }),
      ...(jwtConfig.audience === undefined ? {} : { audience: jwtConfig.audience }),
      algorithms: jwtConfig.algorithms,
      clockToleranceSeconds: jwtConfig.clockToleranceSeconds,
      tenantClaim: jwtConfig.tenantClaim,
      rolesClaim: jwtConfig.rolesClaim,
      logger,
    });
  }

  let mtls: MtlsAuthenticator | undefined;
  if (config.auth.mtls !== undefined) {
    mtls = new MtlsAuthenticator({ tenantAttribute: config.auth.mtls.tenantAttribute, bindings: policy });
  }

  let tls: TlsCredentials | undefined;
  if (config.tls !== undefined) {
    tls = await TlsCredentials.load(
      {
        certFile: config.tls.certFile,
        keyFile: config.tls.keyFile,
        ...(config.tls.caFile === undefined ? {} : { caFile: config.tls.caFile }),
        requestClientCert: mtls !== undefined,
        rejectUnauthorized: mtls !== undefined,
      },
      { logger },
    );
    const credentials = tls;
    reloadables.push({ name: 'tls', reload: () => credentials.reload() });
  }

  let insecure: InsecureNoAuthAuthenticator | undefined;
  if (methods.includes('none')) {
    insecure = new InsecureNoAuthAuthenticator();
    stops.push(warnWhileInsecure(logger, 'authentication is off (WEFTKIT_AUTH=none)'));
  }
  if (config.encryption.mode === 'off') {
    stops.push(warnWhileInsecure(logger, 'encryption at rest is off (WEFTKIT_ENCRYPTION=off)'));
  }
  let keyring: Keyring | undefined;
  let kek: KeyProvider | undefined;
  if (config.encryption.mode === 'aes-256-gcm') {
    kek = await createKeyProvider(config.encryption.provider, {
      dataDir: config.dataDir,
      logger,
      retry: { deadlineMs: config.encryption.keyProviderTimeoutSeconds * 1000 },
    });
    try {
      keyring = await Keyring.open({ dataDir: config.dataDir, provider: kek, logger, dekCacheTtlSeconds: config.encryption.dekCacheTtlSeconds });
    } catch (err) {
      await kek.close();
      throw err;
    }
  }

  let audit: AuditLog | undefined;
  if (config.audit.enabled) {
    audit = await openAuditLog({
      output: config.audit.output,
      events: config.audit.events,
      maxBytes: config.audit.rotateBytes,
      allowBrokenChain: config.audit.allowBrokenChain,
      logger,
    });
  }
  if (options.handleSignals === true) stops.push(reloadOnSighup(reloadables, logger));

  let socket: AdminSocket | undefined;
  const admin = options.adminSocket === false ? localRegistry() : undefined;
  if (admin === undefined && !adminSocketFits(config.dataDir)) {
    logger.warn('admin socket not started: the data directory path is too long for a Unix socket; online key commands are unavailable');
  } else if (admin === undefined) {
    try {
      socket = await startAdminSocket({ dataDir: config.dataDir, logger, ...(audit === undefined ? {} : { audit }) });
    } catch (err) {
      for (const stop of stops) stop();
      keyring?.close();
      await kek?.close();
      await audit?.close();
      throw err;
    }
  }
  const registry = socket ?? admin ?? localRegistry();
  registerKernelAdminCommands(registry, {
    dataDir: config.dataDir,
    keyring,
    logger,
    swapKek: (next) => {
      const previous = kek;
      kek = next;
      return previous;
    },
  });

  return {
    config,
    logger,
    policy,
    reloadables,
    ...(password === undefined ? {} : { password, users: users! }),
    ...(jwt === undefined ? {} : { jwt }),
    ...(mtls === undefined ? {} : { mtls }),
    ...(insecure === undefined ? {} : { insecure }),
    ...(tls === undefined ? {} : { tls }),
    ...(audit === undefined ? {} : { audit }),
    ...(keyring === undefined ? {} : { keyring }),
    admin: registry,
    ...(socket === undefined ? {} : { adminSocketPath: socket.path }),
    close: async () => {
      await socket?.close();
      for (const stop of stops) stop();
      keyring?.close();
      await kek?.close();
      await audit?.close();
      await lock.release();
    },
  };
}

/** A registry with no socket behind it (admin socket disabled or not startable). */
function localRegistry(): AdminHandlers {
  const handlers = new Map<string, AdminHandler>();
  return {
    register(command, handler) {
      if (handlers.has(command)) throw new TypeError(`admin command ${command} is already registered`);
      handlers.set(command, handler);
    },
    has: (command) => handlers.has(command),
  };
}
