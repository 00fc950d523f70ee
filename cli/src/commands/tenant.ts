import { assertTenantName, createTenant, listTenants, shredTenant } from '@weftkit/kernel';
import { connectToEngine } from '../admin-client.js';
import { dataDirFromEnvironment, openAdminSession } from '../admin-session.js';
import { describeError } from '../describe-error.js';
import { type Command, EXIT_FAILED, EXIT_OK, EXIT_USAGE, parseArgs } from '../io.js';

/** `weftkit tenant list`: tenants with keys in this data directory. */
export const tenantList: Command = async (args, io) => {
  if (args.length > 0) {
    io.err('usage: weftkit tenant list\n');
    return EXIT_USAGE;
  }
  try {
    const engine = await connectToEngine(dataDirFromEnvironment());
    if (engine !== null) {
      try {
        const r = await engine.call('tenant.list');
        for (const t of r.tenants as { tenant: string; currentVersion: number }[]) io.out(`${t.tenant}\tkey version ${t.currentVersion}\n`);
        return EXIT_OK;
      } finally {
        engine.close();
      }
    }
    const session = await openAdminSession('weftkit tenant list');
    try {
      for (const t of listTenants(session.keyring)) io.out(`${t.tenant}\tkey version ${t.currentVersion}\n`);
      return EXIT_OK;
    } finally {
      await session.close();
    }
  } catch (err) {
    io.err(`${describeError(err)}\n`);
    return EXIT_FAILED;
  }
};

/** `weftkit tenant create NAME`: a new tenant key (engines also create tenants on first use). */
export const tenantCreate: Command = async (args, io) => {
  const { positional, unknown } = parseArgs(args, [], []);
  if (positional.length !== 1 || unknown.length > 0) {
    io.err('usage: weftkit tenant create NAME\n');
    return EXIT_USAGE;
  }
  try {
    const tenant = assertTenantName(positional[0]);
    const session = await openAdminSession('weftkit tenant create');
    try {
      const created = await createTenant(session.keyring, session.config.dataDir, tenant);
      await session.audit('tenant.create', tenant, 'success', { key_version: created.keyVersion });
      io.out(`created tenant ${tenant} (key version ${created.keyVersion})\n`);
      return EXIT_OK;
    } finally {
      await session.close();
    }
  } catch (err) {
    io.err(`${describeError(err)}\n`);
    return EXIT_FAILED;
  }
};

/**
 * `weftkit tenant shred NAME --yes`: destroys the tenant's wrapped keys durably (from then on its
 * pages are unreadable, including copies in backups of the data files), then deletes its files.
 */
export const tenantShred: Command = async (args, io) => {
  const { positional, flags, unknown } = parseArgs(args, ['yes'], []);
  if (positional.length !== 1 || unknown.length > 0) {
    io.err('usage: weftkit tenant shred NAME --yes\n');
    return EXIT_USAGE;
  }
  if (!flags.has('yes')) {
    io.err('tenant shred destroys every byte of the tenant for good; add --yes to go ahead\n');
    return EXIT_USAGE;
  }
  try {
    const tenant = assertTenantName(positional[0]);
    const engine = await connectToEngine(dataDirFromEnvironment());
    if (engine !== null) {
      try {
        const r = await engine.call('tenant.shred', { tenant });
        const versions = (r.destroyedVersions as number[]).length;
        io.out(`shredded tenant ${tenant}: ${versions} key version(s) destroyed, ${r.filesRemoved} file(s) removed (by the running engine)\n`);
        return EXIT_OK;
      } finally {
        engine.close();
      }
    }
    const session = await openAdminSession('weftkit tenant shred');
    try {
      try {
        const r = await shredTenant(session.keyring, session.config.dataDir, tenant);
        await session.audit('tenant.shred', tenant, 'success', {
          destroyed_key_versions: r.destroyedKeyVersions.length,
          files_removed: r.filesRemoved,
          keyring_generation: r.keyringGeneration,
        });
        io.out(`shredded tenant ${tenant}: ${r.destroyedKeyVersions.length} key version(s) destroyed, ${r.filesRemoved} file(s) removed\n`);
        return EXIT_OK;
      } catch (err) {
        await session.audit('tenant.shred', tenant, 'failure', { error_code: (err as { code?: string }).code ?? 'unknown' });
        throw err;
      }
    } finally {
      await session.close();
    }
  } catch (err) {
    io.err(`${describeError(err)}\n`);
    return EXIT_FAILED;
  }
};
