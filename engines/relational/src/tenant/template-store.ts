// The template cluster new tenants are copied from: built once per data directory (initdb in a
// worker, 2–7 s measured) and kept as `<dataDir>/relational/template-<pglite>-<setup hash>.bin`.
//
// Stored in the clear, authenticated: it is initdb's catalog plus our setup SQL, the same bytes on
// every installation of this PGlite release, with no tenant data (the copy happens before any
// tenant writes). What matters is that nobody can slip a doctored catalog (say, a superuser role
// or a trojan function) into every future tenant, so the file carries an HMAC under a key derived
// from the keyring's MAC key; a file that fails it is rebuilt. A KEK rotation changes that key,
// which costs one rebuild. Once loaded, the archive sits in a SharedArrayBuffer workers read
// without a copy (about 10 MB).
import { createHash, timingSafeEqual } from 'node:crypto';
import { mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { type Keyring, type Logger, writeFileAtomicSync } from '@weftkit/kernel';
import { TenantTemplateInvalid } from '../errors.js';
import { PGLITE_VERSION } from './pglite-options.js';
import { decodeTemplate } from './template-archive.js';

const MAC_PURPOSE = 'relational-template';
const TAG_BYTES = 32;
export const RELATIONAL_DIR = 'relational';

export interface TemplateStoreOptions {
  readonly dataDir: string;
  readonly keyring: Keyring;
  readonly logger: Logger;
  readonly setupSql: string;
  /** Runs initdb + setup and returns the archive (done in a worker). */
  readonly build: (scratchDir: string, setupSql: string) => Promise<Buffer>;
}

export class TemplateStore {
  readonly path: string;
  readonly #o: TemplateStoreOptions;
  #loading: Promise<Uint8Array> | undefined;

  constructor(options: TemplateStoreOptions) {
    this.#o = options;
    const setupHash = createHash('sha256').update(options.setupSql).digest('hex').slice(0, 16);
    this.path = join(options.dataDir, RELATIONAL_DIR, `template-pglite-${PGLITE_VERSION}-${setupHash}.bin`);
  }

  /** The archive, loaded (or built) on first call; concurrent callers share one load. */
  get(): Promise<Uint8Array> {
    this.#loading ??= this.#load().catch((err: unknown) => {
      this.#loading = undefined;
      throw err;
    });
    return this.#loading;
  }

  async #load(): Promise<Uint8Array> {
    const stored = this.#readStored();
    if (stored !== undefined) return shared(stored);
    const t0 = performance.now();
    const archive = await this.#o.build(join(this.#o.dataDir, RELATIONAL_DIR, 'template-build'), this.#o.setupSql);
    decodeTemplate(archive);
    const file = Buffer.concat([this.#o.keyring.macTag(MAC_PURPOSE, archive), archive]);
    mkdirSync(join(this.#o.dataDir, RELATIONAL_DIR), { recursive: true, mode: 0o700 });
    writeFileAtomicSync(this.path, file, { mode: 0o600 });
    this.#o.logger.info('tenant template built', { bytes: archive.length, ms: Math.round(performance.now() - t0) });
    return shared(archive);
  }

  #readStored(): Buffer | undefined {
    let file: Buffer;
    try {
      file = readFileSync(this.path);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
      throw err;
    }
    try {
      if (file.length <= TAG_BYTES) throw new TenantTemplateInvalid('template file is truncated');
      const archive = file.subarray(TAG_BYTES);
      const tag = this.#o.keyring.macTag(MAC_PURPOSE, archive);
      if (!timingSafeEqual(tag, file.subarray(0, TAG_BYTES))) throw new TenantTemplateInvalid('template file fails authentication');
      decodeTemplate(archive);
      return archive;
    } catch (err) {
      if (!(err instanceof TenantTemplateInvalid)) throw err;
      this.#o.logger.warn('stored tenant template rejected; rebuilding it', { code: err.code });
      return undefined;
    }
  }
}

function shared(bytes: Buffer): Uint8Array {
  const out = new Uint8Array(new SharedArrayBuffer(bytes.length));
  out.set(bytes);
  return out;
}
