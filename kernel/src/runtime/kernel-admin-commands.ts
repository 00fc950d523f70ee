// The admin commands every engine gets from the kernel: they need only the keyring and the KEK.
import type { KeyProvider } from '../crypto/key-provider.js';
import type { Keyring } from '../crypto/keyring.js';
import { AdminInvalidArgument, KeyProviderUnavailable } from '../errors.js';
import type { Logger } from '../log/logger.js';
import type { AdminHandlers } from './admin-socket.js';
import { type KekSource, openKekSource } from './kek-source.js';

export interface KernelAdminDeps {
  readonly dataDir: string;
  readonly keyring: Keyring | undefined;
  readonly logger: Logger;
  /** Makes `next` the kernel's KEK after a rotation and returns the previous one (the caller closes it). */
  readonly swapKek: (next: KeyProvider) => KeyProvider | undefined;
}

/** `tenant.list` and `keys.rotate-kek`. */
export function registerKernelAdminCommands(admin: AdminHandlers, deps: KernelAdminDeps): void {
  const keyring = (): Keyring => {
    if (deps.keyring === undefined) throw new KeyProviderUnavailable('WEFTKIT_ENCRYPTION=off: there are no keys to manage');
    return deps.keyring;
  };

  admin.register('tenant.list', async () => ({
    result: {
      tenants: keyring().listTenants().map((t) => ({ tenant: t.tenant, currentVersion: t.currentVersion, versions: t.versions })),
      shredded: keyring().listShreddedTenants().map((t) => ({ tenant: t.tenant, shreddedAt: t.shreddedAt })),
    },
  }));

  // Rotations run one at a time.
  let rotating: Promise<unknown> = Promise.resolve();
  admin.register('keys.rotate-kek', async (args) => {
    const ring = keyring();
    const source = kekSource(args);
    const run = rotating.then(async () => {
      const next = await openKekSource(source, { dataDir: deps.dataDir, logger: deps.logger });
      let previous: KeyProvider | undefined;
      try {
        const r = await ring.rotateKek(next);
        previous = deps.swapKek(next);
        deps.logger.warn('key-encryption key rotated online; configure the new key provider before the next restart', { provider: next.kind });
        return {
          result: { tenants: r.tenants, keys: r.keys, generation: r.keyringGeneration, provider: next.kind, previousProvider: previous?.kind ?? null },
          audit: { tenants: r.tenants, wrapped_deks: r.keys, generation: r.keyringGeneration, provider: next.kind, previous_provider: previous?.kind ?? null },
        };
      } catch (err) {
        await next.close();
        throw err;
      } finally {
        await previous?.close();
      }
    });
    rotating = run.catch(() => undefined);
    return run;
  });
}

function kekSource(args: Readonly<Record<string, unknown>>): KekSource {
  const { newKeyFile, newEnvFile } = args;
  if ((newKeyFile === undefined) === (newEnvFile === undefined)) {
    throw new AdminInvalidArgument('give exactly one of newKeyFile or newEnvFile (an absolute path the engine reads)');
  }
  if (newKeyFile !== undefined) {
    if (typeof newKeyFile !== 'string') throw new AdminInvalidArgument('newKeyFile must be a path');
    return { keyFile: newKeyFile };
  }
  if (typeof newEnvFile !== 'string') throw new AdminInvalidArgument('newEnvFile must be a path');
  return { envFile: newEnvFile };
}
