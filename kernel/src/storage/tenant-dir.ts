import { lstatSync, mkdirSync, readdirSync, realpathSync, rmSync } from 'node:fs';
import { isAbsolute, join, relative } from 'node:path';
import { PathNotAllowed } from '../errors.js';
import { assertTenantName } from '../identity/tenant.js';
import { syncDirSync } from './atomic-file.js';
import { PageFile, type PageFileOptions } from './page-file.js';

export const TENANTS_DIR_NAME = 'tenants';

/** `<dataDir>/tenants/<tenant>` (the tenant name is validated, so it cannot escape). */
export function tenantDirPath(dataDir: string, tenant: string): string {
  return join(dataDir, TENANTS_DIR_NAME, assertTenantName(tenant));
}

/**
 * A tenant's directory. Every path handed in is relative to it and confined to it: `..`, absolute
 * paths, NUL and backslashes are refused, and so is any existing symlink on the way (the directory
 * itself is checked by realpath at open). Page files are opened with O_NOFOLLOW.
 */
export class TenantDir {
  readonly tenant: string;
  /** Real (symlink-free) absolute path of the directory. */
  readonly path: string;

  private constructor(tenant: string, path: string) {
    this.tenant = tenant;
    this.path = path;
  }

  /** Opens (creating with mode 0700 if needed) the tenant's directory under `dataDir`. */
  static openSync(dataDir: string, tenant: string): TenantDir {
    const dir = tenantDirPath(dataDir, tenant);
    mkdirSync(dir, { recursive: true, mode: 0o700 });
    const base = realpathSync(dataDir);
    for (const p of [join(dataDir, TENANTS_DIR_NAME), dir]) {
      if (lstatSync(p).isSymbolicLink()) throw new PathNotAllowed('tenant directory is a symlink');
    }
    const real = realpathSync(dir);
    if (real !== join(base, TENANTS_DIR_NAME, tenant)) throw new PathNotAllowed('tenant directory resolves outside the data directory');
    return new TenantDir(tenant, real);
  }

  /** The absolute path of `rel` inside this directory; throws `PathNotAllowed` if it would escape. */
  resolve(rel: string): string {
    if (typeof rel !== 'string' || rel.length === 0 || rel.includes('\0') || rel.includes('\\') || isAbsolute(rel)) {
      throw new PathNotAllowed('path is not a relative path inside the tenant directory');
    }
    const parts = rel.split('/').filter((p) => p !== '' && p !== '.');
    if (parts.length === 0 || parts.includes('..')) throw new PathNotAllowed('path is not a relative path inside the tenant directory');
    let at = this.path;
    for (const part of parts) {
      at = join(at, part);
      let isLink: boolean;
      try {
        isLink = lstatSync(at).isSymbolicLink();
      } catch {
        break;
      }
      // Any symlink is refused, pointing inside or out: nothing legitimate creates one here.
      if (isLink) throw new PathNotAllowed('path contains a symlink');
    }
    return join(this.path, ...parts);
  }

  createPageFileSync(rel: string, options: PageFileOptions): PageFile {
    this.#checkTenant(options);
    return PageFile.createSync(this.resolve(rel), options);
  }

  openPageFileSync(rel: string, options: PageFileOptions): PageFile {
    this.#checkTenant(options);
    return PageFile.openSync(this.resolve(rel), options);
  }

  async createPageFile(rel: string, options: PageFileOptions): Promise<PageFile> {
    return this.createPageFileSync(rel, options);
  }

  async openPageFile(rel: string, options: PageFileOptions): Promise<PageFile> {
    return this.openPageFileSync(rel, options);
  }

  /** Creates a subdirectory (and its parents) inside the tenant directory. */
  mkdirSync(rel: string): string {
    const p = this.resolve(rel);
    mkdirSync(p, { recursive: true, mode: 0o700 });
    this.resolve(rel);
    return p;
  }

  /** Every regular file below the directory, as relative paths. */
  listFilesSync(): string[] {
    const out: string[] = [];
    const walk = (dir: string): void => {
      for (const e of readdirSync(dir, { withFileTypes: true })) {
        const full = join(dir, e.name);
        if (e.isDirectory()) walk(full);
        else if (e.isFile()) out.push(relative(this.path, full));
      }
    };
    walk(this.path);
    return out.sort();
  }

  /** Removes the directory and everything in it, durably. */
  removeSync(): void {
    rmSync(this.path, { recursive: true, force: true });
    syncDirSync(join(this.path, '..'));
  }

  #checkTenant(options: PageFileOptions): void {
    if (options.ciphers.tenant !== this.tenant) throw new PathNotAllowed('ciphers belong to another tenant');
  }
}
