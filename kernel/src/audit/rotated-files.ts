import { readdir } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';

// Rotation renames the current file to `<name>.<N>` with N = 1, 2, 3, ... (newest highest) and
// never renames a rotated file again, so a file's name stays fixed once written and retention
// may delete the lowest numbers.

/** Numbers of the rotated files of `path`, ascending. */
export async function rotatedNumbers(path: string): Promise<number[]> {
  const prefix = `${basename(path)}.`;
  let names: string[];
  try {
    names = await readdir(dirname(path));
  } catch (err) {
    if ((err as { code?: string }).code === 'ENOENT') return [];
    throw err;
  }
  const out: number[] = [];
  for (const name of names) {
    if (!name.startsWith(prefix)) continue;
    const suffix = name.slice(prefix.length);
    if (/^[1-9][0-9]{0,8}$/.test(suffix)) out.push(Number(suffix));
  }
  return out.sort((a, b) => a - b);
}

export function rotatedPath(path: string, n: number): string {
  return join(dirname(path), `${basename(path)}.${n}`);
}

/** Every file of the chain in order, rotated ones first, for `verifyAuditFiles`. */
export async function listAuditFiles(path: string): Promise<string[]> {
  const numbers = await rotatedNumbers(path);
  const files = numbers.map((n) => rotatedPath(path, n));
  const names = await readdir(dirname(path)).catch(() => [] as string[]);
  if (names.includes(basename(path))) files.push(path);
  return files;
}
