import { randomFillSync } from 'node:crypto';
import { closeSync, constants, existsSync, fstatSync, fsyncSync, linkSync, mkdirSync, openSync, readSync, rmSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { KeyFileUnreadable, KeyMaterialInvalid } from '../errors.js';
import type { Logger } from '../log/logger.js';
import { syncDirSync } from '../storage/atomic-file.js';
import { type KeyProvider, LocalKeyProvider } from './key-provider.js';

/** Matches the config's `encryption.provider` for the providers that hold the KEK in process. */
export type LocalKeyProviderOptions =
  | { readonly kind: 'env'; /** WEFTKIT_KEY: base64 of 32 bytes. */ readonly key: string }
  | { readonly kind: 'file'; /** WEFTKIT_KEY_FILE: 32 raw bytes or base64 of 32 bytes. */ readonly keyFile: string }
  | { readonly kind: 'dev' };

export interface LocalKeyProviderDeps {
  /** WEFTKIT_DATA_DIR: where the `dev` provider keeps its key. */
  readonly dataDir: string;
  readonly logger: Logger;
}

export const DEV_KEY_FILE_NAME = 'dev-kek.key';
const MAX_KEY_FILE_BYTES = 1024;
const BASE64_32 = /^(?:[A-Za-z0-9+/]{43}=|[A-Za-z0-9_-]{43}=?)$/;

/** The `env`, `file` or `dev` key provider. Throws coded errors naming the setting, never its value. */
export function createLocalKeyProvider(options: LocalKeyProviderOptions, deps: LocalKeyProviderDeps): KeyProvider {
  let kek: Buffer;
  switch (options.kind) {
    case 'env':
      kek = decodeBase64Key(options.key, 'WEFTKIT_KEY');
      break;
    case 'file':
      kek = readKeyFile(options.keyFile, 'WEFTKIT_KEY_FILE', deps.logger);
      break;
    case 'dev': {
      const path = join(deps.dataDir, DEV_KEY_FILE_NAME);
      kek = createOrReadDevKey(deps.dataDir, path, deps.logger);
      deps.logger.warn(
        'ENCRYPTION KEY STORED BESIDE THE DATA: development default, anyone who can read the data directory can decrypt it; set WEFTKIT_KEY, WEFTKIT_KEY_FILE or WEFTKIT_KEY_PROVIDER for production',
        { path },
      );
      break;
    }
    default:
      throw new KeyMaterialInvalid('unknown local key provider');
  }
  try {
    return new LocalKeyProvider(options.kind, kek, settingFor(options.kind)) satisfies KeyProvider;
  } finally {
    kek.fill(0);
  }
}

function settingFor(kind: string): string {
  return kind === 'env' ? 'WEFTKIT_KEY' : kind === 'file' ? 'WEFTKIT_KEY_FILE' : 'the development key file';
}

function decodeBase64Key(text: string, setting: string): Buffer {
  const trimmed = text.trim();
  if (!BASE64_32.test(trimmed)) throw new KeyMaterialInvalid(`${setting} must be the base64 encoding of exactly 32 bytes`);
  const key = Buffer.from(trimmed, trimmed.includes('-') || trimmed.includes('_') ? 'base64url' : 'base64');
  if (key.length !== 32) {
    key.fill(0);
    throw new KeyMaterialInvalid(`${setting} must be the base64 encoding of exactly 32 bytes`);
  }
  return key;
}

/** Reads a key file: exactly 32 raw bytes, or base64 of 32 bytes (surrounding whitespace allowed). */
function readKeyFile(path: string, setting: string, logger: Logger): Buffer {
  let fd: number;
  try {
    // No O_NOFOLLOW: Kubernetes mounts secrets as symlinks into a `..data` directory.
    fd = openSync(path, constants.O_RDONLY);
  } catch (err) {
    throw new KeyFileUnreadable(`${setting} cannot be opened (${(err as NodeJS.ErrnoException).code ?? 'error'})`);
  }
  const buf = Buffer.alloc(MAX_KEY_FILE_BYTES + 1);
  try {
    const st = fstatSync(fd);
    if (!st.isFile()) throw new KeyFileUnreadable(`${setting} is not a regular file`);
    if ((st.mode & 0o077) !== 0) {
      // Warn, not refuse: Kubernetes secret volumes default to 0644 on a root-owned tmpfs.
      logger.warn(`${setting} is readable by group or others; restrict it to mode 0600`, { path });
    }
    let n = 0;
    for (;;) {
      const r = readSync(fd, buf, n, buf.length - n, null);
      if (r === 0) break;
      n += r;
      if (n > MAX_KEY_FILE_BYTES) throw new KeyMaterialInvalid(`${setting} must hold 32 raw bytes or their base64 encoding`);
    }
    if (n === 32) return Buffer.from(buf.subarray(0, 32));
    return decodeBase64Key(buf.toString('latin1', 0, n), setting);
  } finally {
    buf.fill(0);
    closeSync(fd);
  }
}

function createOrReadDevKey(dataDir: string, path: string, logger: Logger): Buffer {
  mkdirSync(dataDir, { recursive: true, mode: 0o700 });
  if (existsSync(path)) return readKeyFile(path, 'the development key file', logger);
  // Written whole to a temp file, then linked into place: link fails if another process won the
  // race, and a crash never leaves a short key file behind.
  const kek = Buffer.alloc(32);
  randomFillSync(kek);
  const tmp = `${path}.${process.pid}.tmp`;
  rmSync(tmp, { force: true });
  try {
    const fd = openSync(tmp, constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL | constants.O_NOFOLLOW, 0o600);
    try {
      writeSync(fd, kek, 0, 32, 0);
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
    linkSync(tmp, path);
  } catch (err) {
    kek.fill(0);
    if ((err as NodeJS.ErrnoException).code === 'EEXIST') return readKeyFile(path, 'the development key file', logger);
    throw new KeyFileUnreadable(`the development key file cannot be created (${(err as NodeJS.ErrnoException).code ?? 'error'})`);
  } finally {
    rmSync(tmp, { force: true });
  }
  syncDirSync(dataDir);
  return kek;
}
