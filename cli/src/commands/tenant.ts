import { existsSync } from 'node:fs';
import { assertTenantName, createTenant, listTenants, shredTenant, TenantDir, TenantKeyShredded, tenantDirPath } from '@weftkit/kernel';
import { connectToEngine } from '../admin-client.js';
import { dataDirFromEnvironment, openAdminSession } from '../admin-session.js';
import { describeError } from '../describe-error.js';
import { type Command, EXIT_FAILED, EXIT_OK, EXIT_USAGE, parseArgs } from '../io.js';

const liveLine = (t: { tenant: string; currentVersion: number }): string => `${t.tenant}\tkey version ${t.currentVersion}\n`;
const shreddedLine = (t: { tenant: string; shreddedAt: string }): string => `${t.tenant}\tshredded ${t.shreddedAt}\n`;

/** `weftkit tenant list`: tenants with keys in this data directory, then shredded tenants. */
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
        for (const t of r.tenants as { tenant: string; currentVersion: number }[]) io.out(liveLine(t));
        // Engines whose `tenant.list` predates tombstones send no `shredded`.
        for (const t of (r.shredded ?? []) as { tenant: string; shreddedAt: string }[]) io.out(shreddedLine(t));
        return EXIT_OK;
      } finally {
        engine.close();
      }
    }
    const session = await openAdminSession('weftkit tenant list');
    try {
      for (const t of listTenants(session.keyring)) io.out(liveLine(t));
      for (const t of session.keyring.listShreddedTenants()) io.out(shreddedLine(t));
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
 * `weftkit tenant create NAME [--recreate]`: a new tenant key (engines also create tenants on first
 * use, but never under a shredded name). `--recreate` makes a new, empty tenant under a shredded name.
 */
export const tenantCreate: Command = async (args, io) => {
  const { positional, flags, unknown } = parseArgs(args, ['recreate'], []);
  if (positional.length !== 1 || unknown.length > 0) {
    io.err('usage: weftkit tenant create NAME [--recreate]\n');
    return EXIT_USAGE;
  }
  try {
    const tenant = assertTenantName(positional[0]);
    const session = await openAdminSession('weftkit tenant create');
    const { keyring, config } = session;
    try {
      const recreated = flags.has('recreate') && keyring.isShredded(tenant);
      let keyVersion: number;
      try {
        if (recreated) {
          // A shred interrupted before its files were deleted: finish it, so the new tenant starts empty.
          if (existsSync(tenantDirPath(config.dataDir, tenant))) await shredTenant(keyring, config.dataDir, tenant);
          keyVersion = (await keyring.createTenant(tenant, { recreate: true })).currentVersion;
          TenantDir.openSync(config.dataDir, tenant);
        } else {
          keyVersion = (await createTenant(keyring, config.dataDir, tenant)).keyVersion;
        }
      } catch (err) {
        await session.audit('tenant.create', tenant, 'failure', { error_code: (err as { code?: string }).code ?? 'unknown' });
        throw err;
      }
      await session.audit('tenant.create', tenant, 'success', { key_version: keyVersion, recreated });
      io.out(`${recreated ? 're-created shredded' : 'created'} tenant ${tenant} (key version ${keyVersion})\n`);
      return EXIT_OK;
    } finally {
      await session.close();
    }
  } catch (err) {
    io.err(`${describeError(err)}\n`);
    if (err instanceof TenantKeyShredded) io.err('add --recreate to create a new, empty tenant under this name\n');
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
