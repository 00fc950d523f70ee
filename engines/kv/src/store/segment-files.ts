// Creating, listing and removing a tenant's log files. New files are built under a `.tmp` name and
// renamed into place durably, so a file with a final name always has a complete, synced header.
import { open, readdir, rename, unlink } from 'node:fs/promises';
import type { TenantCiphers, TenantDir } from '@weftkit/kernel';
import { type PageWriteHook, parseSegmentName, Segment, type SegmentKind, segmentName } from './segment.js';

export interface SegmentFileOptions {
  readonly dir: TenantDir;
  readonly ciphers: TenantCiphers;
  readonly pageSize: number;
  readonly hook: PageWriteHook | undefined;
}

/** Creates `<no>.<kind>.tmp`; `publish` gives it its final name. */
export function createSegmentTmp(o: SegmentFileOptions, no: number, kind: SegmentKind): Segment {
  const file = o.dir.createPageFileSync(`${segmentName(no, kind)}.tmp`, { ciphers: o.ciphers, pageSize: o.pageSize });
  return new Segment(no, kind, file, o.hook);
}

/** Renames a `.tmp` segment to its final name and syncs the directory. */
export async function publishSegment(o: SegmentFileOptions, seg: Segment): Promise<void> {
  await rename(o.dir.resolve(`${seg.name}.tmp`), o.dir.resolve(seg.name));
  await syncDir(o.dir.path);
}

export async function createSegment(o: SegmentFileOptions, no: number, kind: SegmentKind): Promise<Segment> {
  const seg = createSegmentTmp(o, no, kind);
  try {
    await publishSegment(o, seg);
  } catch (err) {
    await seg.file.close();
    throw err;
  }
  return seg;
}

export function openSegment(o: SegmentFileOptions, no: number, kind: SegmentKind): Segment {
  return new Segment(no, kind, o.dir.openPageFileSync(segmentName(no, kind), { ciphers: o.ciphers }), o.hook);
}

/** The tenant's log files by name; leftover `.tmp` files (never published) are removed. */
export async function listSegments(o: SegmentFileOptions): Promise<{ no: number; kind: SegmentKind }[]> {
  const out: { no: number; kind: SegmentKind }[] = [];
  let removed = false;
  for (const name of await readdir(o.dir.path)) {
    if (name.endsWith('.tmp') && parseSegmentName(name.slice(0, -4)) !== null) {
      await unlink(o.dir.resolve(name));
      removed = true;
      continue;
    }
    const parsed = parseSegmentName(name);
    if (parsed !== null) out.push(parsed);
  }
  if (removed) await syncDir(o.dir.path);
  return out.sort((a, b) => a.no - b.no || (a.kind === b.kind ? 0 : a.kind === 'cmp' ? -1 : 1));
}

export async function removeSegmentFiles(o: SegmentFileOptions, files: readonly { no: number; kind: SegmentKind }[]): Promise<void> {
  if (files.length === 0) return;
  for (const f of files) await unlink(o.dir.resolve(segmentName(f.no, f.kind)));
  await syncDir(o.dir.path);
}

export async function syncDir(path: string): Promise<void> {
  const handle = await open(path, 'r');
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
}
