import type { FileHandle } from 'node:fs/promises';
import { open } from 'node:fs/promises';
import type { ChainPosition } from './events.js';
import { rotatedNumbers, rotatedPath } from './rotated-files.js';
import { checkLine, GENESIS, readLines } from './verify.js';

/** What start-up found on disk, before anything is changed. */
export interface RecoveredChain {
  /** The event the next append links to. */
  readonly position: ChainPosition;
  /** N for the next `<name>.<N>` rotation. */
  readonly nextRotation: number;
  /** Bytes after the last newline of the current file: a write that was never acknowledged. */
  readonly tornBytes: number;
  /** Length of the current file without its torn tail. */
  readonly keepBytes: number;
  readonly broken?: { readonly firstBadSeq: number; readonly reason: string };
}

const TAIL_READ = 1 << 20;

/** Offset just after the last newline in the file (0 when there is none). */
async function endOfLastLine(fh: FileHandle, size: number): Promise<number> {
  const buf = Buffer.allocUnsafe(Math.min(size, 64 * 1024));
  let pos = size;
  while (pos > 0) {
    const start = Math.max(0, pos - buf.length);
    const { bytesRead } = await fh.read(buf, 0, pos - start, start);
    const nl = buf.subarray(0, bytesRead).lastIndexOf(0x0a);
    if (nl >= 0) return start + nl + 1;
    pos = start;
  }
  return 0;
}

/** The last line of a rotated file, which always ends in a newline. */
async function lastLine(path: string): Promise<string | undefined> {
  const fh = await open(path, 'r');
  try {
    const { size } = await fh.stat();
    const len = Math.min(size, TAIL_READ);
    const buf = Buffer.allocUnsafe(len);
    const { bytesRead } = await fh.read(buf, 0, len, size - len);
    const text = buf.subarray(0, bytesRead).toString('utf8');
    if (!text.endsWith('\n')) return undefined;
    const body = text.slice(0, -1);
    return body.slice(body.lastIndexOf('\n') + 1);
  } finally {
    await fh.close();
  }
}

/**
 * Reads the chain's state: links the current file to the last rotated file's last event, verifies
 * the whole current file (streamed), and finds where appends continue. Changes nothing on disk.
 */
export async function recoverChain(path: string): Promise<RecoveredChain> {
  const rotated = await rotatedNumbers(path);
  const nextRotation = (rotated.at(-1) ?? 0) + 1;
  let anchor: ChainPosition | undefined = GENESIS;
  let broken: { firstBadSeq: number; reason: string } | undefined;
  if (rotated.length > 0) {
    const line = await lastLine(rotatedPath(path, rotated.at(-1)!));
    const v = line === undefined ? undefined : checkLine(line, undefined);
    if (v?.record !== undefined && v.intact) {
      anchor = { seq: v.record.seq, hash: v.record.hash };
    } else {
      anchor = undefined;
      broken = { firstBadSeq: v?.record?.seq ?? 0, reason: 'the last rotated file ends in a damaged event' };
    }
  }

  let fh: FileHandle;
  try {
    fh = await open(path, 'r');
  } catch (err) {
    if ((err as { code?: string }).code !== 'ENOENT') throw err;
    return { position: anchor ?? GENESIS, nextRotation, tornBytes: 0, keepBytes: 0, ...(broken ? { broken } : {}) };
  }
  try {
    const { size } = await fh.stat();
    const keepBytes = size === 0 ? 0 : await endOfLastLine(fh, size);
    let previous = anchor;
    let lastIntact = anchor;
    if (keepBytes > 0) {
      const reader = readLines(fh, keepBytes);
      try {
        for await (const line of reader.lines) {
          const v = checkLine(line, broken === undefined ? previous : undefined);
          if (v.reason !== undefined && broken === undefined) {
            broken = { firstBadSeq: previous === undefined ? (v.record?.seq ?? 0) : previous.seq + 1, reason: v.reason };
          }
          if (v.record !== undefined && v.intact) lastIntact = { seq: v.record.seq, hash: v.record.hash };
          if (v.record !== undefined) previous = { seq: v.record.seq, hash: v.record.hash };
        }
      } finally {
        reader.stop();
      }
    }
    return {
      position: lastIntact ?? GENESIS,
      nextRotation,
      tornBytes: size - keepBytes,
      keepBytes,
      ...(broken ? { broken } : {}),
    };
  } finally {
    await fh.close();
  }
}
