import { randomBytes } from 'node:crypto';
import { open, rename, unlink } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import bcrypt from 'bcrypt';
import { parseUsersFile, readUsersFileText, withoutUser, withUserAdded, withUserHash } from './users-file.js';
import { scramVerifier } from './scram-verifier.js';

export type PasswordScheme = 'scram-sha-256' | 'bcrypt';

export interface HashPasswordOptions {
  /** `scram-sha-256` (default) works for psql SCRAM and Basic; `bcrypt` only for cleartext/Basic. */
  scheme?: PasswordScheme;
  /** bcrypt cost, 12 by default. */
  bcryptCost?: number;
  /** SCRAM PBKDF2 iterations, 4096 by default (PostgreSQL's default). */
  scramIterations?: number;
}

/** The hash `weftkit user add|passwd` stores for a new password (check the policy first). */
export async function hashPassword(password: string, options: HashPasswordOptions = {}): Promise<string> {
  if ((options.scheme ?? 'scram-sha-256') === 'scram-sha-256') {
    return scramVerifier(password, options.scramIterations === undefined ? {} : { iterations: options.scramIterations });
  }
  const cost = options.bcryptCost ?? 12;
  if (!Number.isInteger(cost) || cost < 4 || cost > 31) throw new RangeError('bcrypt cost must be 4-31');
  // The native module writes $2b$ hashes, which the users file accepts.
  return bcrypt.hash(password, cost);
}

/**
 * Replaces `path` with `text` atomically: a temp file in the same directory (mode 0600),
 * fsync, rename over `path`, fsync the directory. Refuses text that would not load.
 */
export async function writeUsersFileAtomic(path: string, text: string): Promise<void> {
  parseUsersFile(text, path);
  const dir = dirname(path);
  const tmp = join(dir, `.${basename(path)}.${randomBytes(6).toString('hex')}.tmp`);
  const file = await open(tmp, 'wx', 0o600);
  try {
    await file.writeFile(text, 'utf8');
    await file.chmod(0o600);
    await file.sync();
    await file.close();
    await rename(tmp, path);
  } catch (err) {
    await file.close().catch(() => {});
    await unlink(tmp).catch(() => {});
    throw err;
  }
  const d = await open(dir, 'r');
  try {
    await d.sync();
  } finally {
    await d.close();
  }
}

async function readOrEmpty(path: string): Promise<string> {
  try {
    return await readUsersFileText(path);
  } catch (err) {
    if (((err as Error).cause as NodeJS.ErrnoException | undefined)?.code === 'ENOENT') return '';
    throw err;
  }
}

/** Adds a user (creating the file if missing). `UserAlreadyExists` if present. */
export async function addUser(path: string, name: string, hash: string): Promise<void> {
  await writeUsersFileAtomic(path, withUserAdded(await readOrEmpty(path), name, hash, path));
}

/** Sets a new hash for an existing user. `UserNotFound` if absent. */
export async function changeUserPassword(path: string, name: string, hash: string): Promise<void> {
  await writeUsersFileAtomic(path, withUserHash(await readUsersFileText(path), name, hash, path));
}

/** Removes a user. `UserNotFound` if absent. */
export async function removeUser(path: string, name: string): Promise<void> {
  await writeUsersFileAtomic(path, withoutUser(await readUsersFileText(path), name, path));
}
