import { readFile } from 'node:fs/promises';
import {
  InvalidUserName,
  UserAlreadyExists,
  UserNotFound,
  UsersFileInvalid,
  type UsersFileIssue,
  UsersFileUnreadable,
} from '../../errors.js';
import { parseScramVerifier, type ScramSecret } from './scram-verifier.js';

/** User names in the users file; no '@', which separates the tenant in a login name. */
export const USER_NAME_PATTERN: RegExp = /^[A-Za-z0-9._-]{1,63}$/;

export function isUserName(value: unknown): value is string {
  return typeof value === 'string' && USER_NAME_PATTERN.test(value);
}

export function assertUserName(value: unknown): string {
  if (!isUserName(value)) throw new InvalidUserName('user name must match ^[A-Za-z0-9._-]{1,63}$');
  return value;
}

export type PasswordHash =
  | { readonly scheme: 'bcrypt'; readonly text: string; readonly cost: number }
  | { readonly scheme: 'scram-sha-256'; readonly text: string; readonly secret: ScramSecret };

export interface UserRecord {
  readonly name: string;
  readonly hash: PasswordHash;
  /** 1-based line in the file it came from. */
  readonly line: number;
}

export interface UsersFile {
  readonly users: ReadonlyMap<string, UserRecord>;
}

const BCRYPT = /^\$2[by]\$([0-9]{2})\$[./A-Za-z0-9]{53}$/;

/** Classifies one hash: an accepted bcrypt hash or SCRAM verifier, or the reason it is refused. */
export function parsePasswordHash(text: string): { ok: true; hash: PasswordHash } | { ok: false; reason: string } {
  if (text.length === 0) return { ok: false, reason: 'empty hash' };
  if (text.startsWith('$2y$') || text.startsWith('$2b$')) {
    const m = BCRYPT.exec(text);
    if (m === null) return { ok: false, reason: 'malformed bcrypt hash' };
    const cost = Number(m[1]);
    if (cost < 4 || cost > 31) return { ok: false, reason: 'bcrypt cost must be 04-31' };
    return { ok: true, hash: { scheme: 'bcrypt', text, cost } };
  }
  if (text.startsWith('SCRAM-SHA-256$')) {
    const parsed = parseScramVerifier(text);
    if (!parsed.ok) return parsed;
    return { ok: true, hash: { scheme: 'scram-sha-256', text, secret: parsed.secret } };
  }
  return { ok: false, reason: refusedScheme(text) };
}

function refusedScheme(text: string): string {
  if (/^\$2[ax]\$/.test(text)) return 'bcrypt $2a$/$2x$ hashes are not accepted (re-hash as $2b$ or $2y$)';
  if (text.startsWith('$apr1$') || text.startsWith('$1$') || /^md5[0-9a-f]{32}$/.test(text)) {
    return 'MD5 hashes are not accepted';
  }
  if (text.startsWith('{SHA}') || text.startsWith('{SSHA}')) return 'SHA-1 hashes are not accepted';
  if (/^\$[0-9a-z-]+\$/.test(text)) return 'this crypt(3) scheme is not accepted';
  if (/^SCRAM-/.test(text)) return 'only SCRAM-SHA-256 verifiers are accepted';
  return 'not a bcrypt hash or SCRAM-SHA-256 verifier (plain text or an unsupported scheme)';
}

/** One line of the file: a user, or anything kept verbatim (comments, blank lines). */
type Line = { kind: 'user'; name: string; hash: string } | { kind: 'other'; text: string };

function splitLines(text: string): string[] {
  const lines = text.split(/\r?\n/);
  if (lines.length > 0 && lines[lines.length - 1] === '') lines.pop();
  return lines;
}

function classify(raw: string, lineNo: number, issues: UsersFileIssue[]): Line {
  const trimmed = raw.trim();
  if (trimmed === '' || trimmed.startsWith('#')) return { kind: 'other', text: raw };
  const colon = trimmed.indexOf(':');
  if (colon < 0) {
    issues.push({ line: lineNo, reason: 'expected name:hash' });
    return { kind: 'other', text: raw };
  }
  const name = trimmed.slice(0, colon);
  const hash = trimmed.slice(colon + 1);
  if (!isUserName(name)) issues.push({ line: lineNo, reason: 'user name must match ^[A-Za-z0-9._-]{1,63}$' });
  return { kind: 'user', name, hash };
}

function parseLines(text: string, source: string): { lines: Line[]; users: Map<string, UserRecord> } {
  const issues: UsersFileIssue[] = [];
  const users = new Map<string, UserRecord>();
  const lines = splitLines(text).map((raw, i) => classify(raw, i + 1, issues));
  lines.forEach((line, i) => {
    if (line.kind !== 'user' || !isUserName(line.name)) return;
    const parsed = parsePasswordHash(line.hash);
    if (!parsed.ok) {
      issues.push({ line: i + 1, reason: parsed.reason });
      return;
    }
    const first = users.get(line.name);
    if (first !== undefined) {
      issues.push({ line: i + 1, reason: `duplicate user (first defined on line ${first.line})` });
      return;
    }
    users.set(line.name, Object.freeze({ name: line.name, hash: Object.freeze(parsed.hash), line: i + 1 }));
  });
  if (issues.length > 0) throw new UsersFileInvalid(issues.sort((a, b) => a.line - b.line), source);
  return { lines, users };
}

/** Parses users-file text. Throws `UsersFileInvalid` naming every bad line and why. */
export function parseUsersFile(text: string, source = 'users file'): UsersFile {
  return Object.freeze({ users: parseLines(text, source).users });
}

export async function readUsersFileText(path: string): Promise<string> {
  try {
    return await readFile(path, 'utf8');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code ?? 'error';
    throw new UsersFileUnreadable(`cannot read users file ${path} (${code})`, { cause: err });
  }
}

export async function loadUsersFile(path: string): Promise<UsersFile> {
  return parseUsersFile(await readUsersFileText(path), path);
}

function serialize(lines: readonly Line[]): string {
  return lines.map((l) => (l.kind === 'user' ? `${l.name}:${l.hash}` : l.text)).join('\n') + (lines.length > 0 ? '\n' : '');
}

function checkNewHash(hash: string, lineNo: number, source: string): void {
  const parsed = parsePasswordHash(hash);
  if (!parsed.ok) throw new UsersFileInvalid([{ line: lineNo, reason: parsed.reason }], source);
}

/** `text` with user `name` appended; `UserAlreadyExists` if the file has her. */
export function withUserAdded(text: string, name: string, hash: string, source = 'users file'): string {
  assertUserName(name);
  const { lines, users } = parseLines(text, source);
  if (users.has(name)) throw new UserAlreadyExists('user already exists');
  checkNewHash(hash, lines.length + 1, source);
  return serialize([...lines, { kind: 'user', name, hash }]);
}

/** `text` with the hash of user `name` replaced in place; `UserNotFound` if absent. */
export function withUserHash(text: string, name: string, hash: string, source = 'users file'): string {
  assertUserName(name);
  const { lines, users } = parseLines(text, source);
  const record = users.get(name);
  if (record === undefined) throw new UserNotFound('no such user');
  checkNewHash(hash, record.line, source);
  return serialize(lines.map((l, i) => (i + 1 === record.line ? { kind: 'user', name, hash } : l)));
}

/** `text` without user `name`; `UserNotFound` if the file does not have her. */
export function withoutUser(text: string, name: string, source = 'users file'): string {
  assertUserName(name);
  const { lines, users } = parseLines(text, source);
  const record = users.get(name);
  if (record === undefined) throw new UserNotFound('no such user');
  return serialize(lines.filter((_, i) => i + 1 !== record.line));
}
