// Opening a tenant's log: finish or discard an interrupted compaction, replay every file in order
// into the in-memory index, cut a torn tail off the newest segment, refuse anything else broken.
// Files: `<n>.seg` log segments, `<n>.cmp` the output of a compaction that replaced every file
// numbered <= n. Replay order is file number order, so later records win.
import { type Logger, PageAuthenticationFailed, PageFileCorrupt } from '@weftkit/kernel';
import { StoreCorrupt } from '../errors.js';
import { IndexEntry } from './index-entry.js';
import { decodeFrames, OP_PUT } from './record-codec.js';
import type { Segment } from './segment.js';
import { createSegment, listSegments, openSegment, removeSegmentFiles, type SegmentFileOptions } from './segment-files.js';
import { SortedKeys } from './sorted-keys.js';

export interface RecoveredLog {
  /** Oldest first; the last one is the active `.seg` new groups are appended to. */
  readonly segments: Segment[];
  readonly index: Map<string, IndexEntry>;
  readonly sorted: SortedKeys;
  readonly revision: number;
  readonly liveBytes: number;
  readonly nextFileNo: number;
  readonly cutPages: number;
}

export async function recoverLog(o: SegmentFileOptions, logger: Logger): Promise<RecoveredLog> {
  let files = await listSegments(o);
  const lastCmp = files.filter((f) => f.kind === 'cmp').at(-1);
  if (lastCmp !== undefined) {
    // That compaction's output was published: everything it replaced goes (it may not have yet).
    const superseded = files.filter((f) => (f.kind === 'seg' && f.no <= lastCmp.no) || (f.kind === 'cmp' && f.no < lastCmp.no));
    await removeSegmentFiles(o, superseded);
    files = files.filter((f) => !superseded.includes(f));
  }

  const index = new Map<string, IndexEntry>();
  const sorted = new SortedKeys();
  const segments: Segment[] = [];
  let revision = 0;
  let liveBytes = 0;
  let cutPages = 0;
  try {
    for (let i = 0; i < files.length; i++) {
      const f = files[i]!;
      const seg = openOrCorrupt(o, f.no, f.kind);
      segments.push(seg);
      const tolerateTail = f.kind === 'seg' && i === files.length - 1;
      cutPages += await scanOrCorrupt(seg, tolerateTail, (stream, startPage) => {
        const rev = decodeFrames(stream, (op) => {
          const old = index.get(op.key);
          if (old !== undefined) liveBytes -= old.recBytes;
          if (op.kind === OP_PUT) {
            const at = seg.locate(startPage, op.valueOffset);
            index.set(op.key, new IndexEntry(op.version, op.valueLength, op.contentType, op.expiresAt, seg, at.page, at.off, op.bytes));
            if (old === undefined) sorted.insert(op.key);
            liveBytes += op.bytes;
          } else if (old !== undefined) {
            index.delete(op.key);
            sorted.delete(op.key);
          }
          revision = Math.max(revision, op.version);
        });
        revision = Math.max(revision, rev);
      });
    }
    const last = files.at(-1);
    let nextFileNo = (last?.no ?? 0) + 1;
    if (last === undefined || last.kind !== 'seg') segments.push(await createSegment(o, nextFileNo++, 'seg'));
    if (cutPages > 0) logger.warn('cut a torn tail off the newest log segment (a write that was never acknowledged)', { pages: cutPages });
    return { segments, index, sorted, revision, liveBytes, nextFileNo, cutPages };
  } catch (err) {
    for (const s of segments) s.file.closeSync();
    throw err;
  }
}

function openOrCorrupt(o: SegmentFileOptions, no: number, kind: 'seg' | 'cmp'): Segment {
  try {
    return openSegment(o, no, kind);
  } catch (err) {
    if (err instanceof PageAuthenticationFailed || err instanceof PageFileCorrupt) {
      throw new StoreCorrupt('a log file header fails authentication', { cause: err });
    }
    throw err;
  }
}

async function scanOrCorrupt(seg: Segment, tolerateTail: boolean, onGroup: (stream: Buffer, startPage: number) => void): Promise<number> {
  try {
    return await seg.scan(tolerateTail, onGroup);
  } catch (err) {
    if (err instanceof PageFileCorrupt) throw new StoreCorrupt('a log file is malformed', { cause: err });
    throw err;
  }
}
