// Background compaction: seal the active segment, copy every live item of the sealed files into
// one new `<n>.cmp` file (written as `.tmp`, synced, then renamed), point the index at the copies,
// then delete the sealed files. A crash before the rename leaves the old files (the `.tmp` is
// dropped at open); after it, open deletes the files the `.cmp` replaced. Reads continue
// throughout; the copy yields to the event loop between chunks of keys.
import { rm } from 'node:fs/promises';
import type { Logger } from '@weftkit/kernel';
import type { IndexEntry } from './index-entry.js';
import { encodeFrame, type LogOp, OP_PUT, opBytes } from './record-codec.js';
import type { Segment } from './segment.js';
import { createSegmentTmp, publishSegment, removeSegmentFiles, type SegmentFileOptions } from './segment-files.js';
import type { SortedKeys } from './sorted-keys.js';

/** What compaction needs from the tenant store. */
export interface CompactionHost {
  readonly tenant: string;
  readonly files: SegmentFileOptions;
  readonly logger: Logger;
  readonly settings: { readonly now: () => number; readonly maxGroupBytes: number };
  readonly index: Map<string, IndexEntry>;
  readonly sorted: SortedKeys;
  readonly segments: readonly Segment[];
  readonly activeSegment: Segment;
  readonly committedRevision: number;
  rotate(): Promise<void>;
  readEntry(key: string, e: IndexEntry, cache?: boolean): Promise<Buffer>;
  installCompacted(out: Segment, replaced: readonly Segment[]): void;
  isClosing(): boolean;
}

const KEYS_PER_CHUNK = 256;

interface Move {
  readonly key: string;
  readonly entry: IndexEntry;
  readonly page: number;
  readonly off: number;
}

/**
 * Compacts every file but the (new) active segment into `<no>.cmp`; `no` must sort between them.
 * `pace`, when given, is awaited after each item copied with its size (throttling, progress).
 */
export async function compact(host: CompactionHost, no: number, pace?: (bytes: number) => Promise<void>): Promise<void> {
  await host.rotate();
  const active = host.activeSegment;
  const sealed = host.segments.filter((s) => s !== active);
  if (sealed.length === 0) return;
  const sealedSet = new Set(sealed);
  const out = createSegmentTmp(host.files, no, 'cmp');
  const moves: Move[] = [];
  let ops: LogOp[] = [];
  let entries: IndexEntry[] = [];
  let bytes = 0;
  const writeGroup = async (): Promise<void> => {
    const { frame, valueOffsets } = encodeFrame(host.committedRevision, ops);
    const start = await out.appendGroup(frame);
    out.nextSeq++;
    for (let i = 0; i < ops.length; i++) {
      const at = out.locate(start, valueOffsets[i]!);
      moves.push({ key: ops[i]!.key, entry: entries[i]!, page: at.page, off: at.off });
    }
    ops = [];
    entries = [];
    bytes = 0;
  };
  try {
    let after: string | null = null;
    for (;;) {
      if (host.isClosing()) throw new Error('compaction stopped: the store is closing');
      const keys = host.sorted.keysAfter(after, KEYS_PER_CHUNK);
      if (keys.length === 0) break;
      after = keys.at(-1)!;
      const now = host.settings.now();
      for (const key of keys) {
        const e = host.index.get(key);
        if (e === undefined || !sealedSet.has(e.seg) || e.expired(now)) continue;
        const value = await host.readEntry(key, e, false);
        ops.push({ kind: OP_PUT, key, version: e.version, expiresAt: e.expiresAt, contentType: e.contentType, value });
        entries.push(e);
        const size = opBytes(Buffer.byteLength(key), Buffer.byteLength(e.contentType), value.length);
        bytes += size;
        if (bytes >= host.settings.maxGroupBytes) await writeGroup();
        if (pace !== undefined) await pace(size);
      }
      await new Promise<void>((r) => setImmediate(r));
    }
    // The last group always exists: its frame carries the revision even when nothing is live.
    await writeGroup();
    await out.file.sync();
    await publishSegment(host.files, out);
  } catch (err) {
    await out.file.close();
    await rm(host.files.dir.resolve(`${out.name}.tmp`), { force: true });
    throw err;
  }
  // From here the .cmp file is authoritative; an item rewritten meanwhile keeps its newer place.
  let moved = 0;
  for (const m of moves) {
    if (host.index.get(m.key) === m.entry && sealedSet.has(m.entry.seg)) {
      m.entry.seg = out;
      m.entry.page = m.page;
      m.entry.off = m.off;
      moved++;
    }
  }
  host.installCompacted(out, sealed);
  const before = sealed.reduce((n, s) => n + s.bytes, 0);
  for (const s of sealed) await s.file.close();
  await removeSegmentFiles(
    host.files,
    sealed.map((s) => ({ no: s.no, kind: s.kind })),
  );
  host.logger.info('compacted the log', { tenant: host.tenant, files: sealed.length, bytesBefore: before, bytesAfter: out.bytes, items: moved });
}
