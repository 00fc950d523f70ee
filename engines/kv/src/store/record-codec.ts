// Log records inside a group's payload stream. A frame is one atomic unit (a batch, or a chunk of
// compacted records); it is applied only if every page of its group authenticates.
//   frame: u32 bodyLength | u8 type (1) | u48 revision | u32 opCount | op*
//   op:    u8 kind | u48 version | u48 expiresAt (0 = none) | u16 keyLength | u16 typeLength |
//          u32 valueLength | key (UTF-8) | content type (UTF-8) | value
// `revision` is the tenant revision the frame was written at (a batch's own revision; for
// compacted records the revision when compaction ran), so the revision survives compaction.
import { StoreCorrupt } from '../errors.js';

export const FRAME_OPS = 1;
export const OP_PUT = 1;
export const OP_DELETE = 2;
export const OP_EXPIRE = 3;
export type OpKind = typeof OP_PUT | typeof OP_DELETE | typeof OP_EXPIRE;

export const FRAME_HEADER_BYTES: number = 4 + 1 + 6 + 4;
export const OP_HEADER_BYTES: number = 1 + 6 + 6 + 2 + 2 + 4;
export const MAX_KEY_BYTES = 1024;
export const MAX_CONTENT_TYPE_BYTES = 1024;

export interface LogOp {
  readonly kind: OpKind;
  readonly key: string;
  readonly version: number;
  readonly expiresAt: number | null;
  readonly contentType: string;
  readonly value: Buffer | null;
}

/** Encoded size of one op (what the op costs on disk, before page overhead). */
export function opBytes(keyBytes: number, typeBytes: number, valueBytes: number): number {
  return OP_HEADER_BYTES + keyBytes + typeBytes + valueBytes;
}

/** One frame holding `ops`; returns the frame and each op's value offset inside it. */
export function encodeFrame(revision: number, ops: readonly LogOp[]): { frame: Buffer; valueOffsets: number[] } {
  let size = FRAME_HEADER_BYTES;
  const keys: Buffer[] = [];
  const types: Buffer[] = [];
  for (const op of ops) {
    const k = Buffer.from(op.key, 'utf8');
    const t = Buffer.from(op.contentType, 'utf8');
    keys.push(k);
    types.push(t);
    size += opBytes(k.length, t.length, op.value?.length ?? 0);
  }
  const frame = Buffer.allocUnsafe(size);
  frame.writeUInt32BE(size - 4, 0);
  frame.writeUInt8(FRAME_OPS, 4);
  frame.writeUIntBE(revision, 5, 6);
  frame.writeUInt32BE(ops.length, 11);
  const valueOffsets: number[] = [];
  let at = FRAME_HEADER_BYTES;
  for (let i = 0; i < ops.length; i++) {
    const op = ops[i]!;
    const k = keys[i]!;
    const t = types[i]!;
    const v = op.value;
    frame.writeUInt8(op.kind, at);
    frame.writeUIntBE(op.version, at + 1, 6);
    frame.writeUIntBE(op.expiresAt ?? 0, at + 7, 6);
    frame.writeUInt16BE(k.length, at + 13);
    frame.writeUInt16BE(t.length, at + 15);
    frame.writeUInt32BE(v?.length ?? 0, at + 17);
    at += OP_HEADER_BYTES;
    k.copy(frame, at);
    at += k.length;
    t.copy(frame, at);
    at += t.length;
    valueOffsets.push(at);
    if (v !== null) {
      v.copy(frame, at);
      at += v.length;
    }
  }
  return { frame, valueOffsets };
}

/** A decoded op with where its value starts in the stream it was decoded from. */
export interface DecodedOp {
  readonly kind: OpKind;
  readonly key: string;
  readonly version: number;
  readonly expiresAt: number | null;
  readonly contentType: string;
  readonly valueOffset: number;
  readonly valueLength: number;
  readonly bytes: number;
}

/**
 * Decodes every frame in `stream` (a group's payload) and calls `onOp` for each op in order;
 * returns the highest frame revision. Anything malformed inside authenticated pages is corruption.
 */
export function decodeFrames(stream: Buffer, onOp: (op: DecodedOp) => void): number {
  let revision = 0;
  let at = 0;
  while (at < stream.length) {
    if (stream.length - at < FRAME_HEADER_BYTES) throw new StoreCorrupt('log frame is truncated');
    const end = at + 4 + stream.readUInt32BE(at);
    if (end > stream.length || stream.readUInt8(at + 4) !== FRAME_OPS) throw new StoreCorrupt('log frame is malformed');
    revision = Math.max(revision, stream.readUIntBE(at + 5, 6));
    const count = stream.readUInt32BE(at + 11);
    let p = at + FRAME_HEADER_BYTES;
    for (let i = 0; i < count; i++) {
      if (end - p < OP_HEADER_BYTES) throw new StoreCorrupt('log op is truncated');
      const kind = stream.readUInt8(p);
      if (kind !== OP_PUT && kind !== OP_DELETE && kind !== OP_EXPIRE) throw new StoreCorrupt('log op has an unknown kind');
      const version = stream.readUIntBE(p + 1, 6);
      const expiresAt = stream.readUIntBE(p + 7, 6);
      const keyLength = stream.readUInt16BE(p + 13);
      const typeLength = stream.readUInt16BE(p + 15);
      const valueLength = stream.readUInt32BE(p + 17);
      const bytes = opBytes(keyLength, typeLength, valueLength);
      if (end - p < bytes) throw new StoreCorrupt('log op is truncated');
      const keyAt = p + OP_HEADER_BYTES;
      onOp({
        kind,
        key: stream.toString('utf8', keyAt, keyAt + keyLength),
        version,
        expiresAt: expiresAt === 0 ? null : expiresAt,
        contentType: stream.toString('utf8', keyAt + keyLength, keyAt + keyLength + typeLength),
        valueOffset: keyAt + keyLength + typeLength,
        valueLength,
        bytes,
      });
      p += bytes;
    }
    if (p !== end) throw new StoreCorrupt('log frame length does not match its ops');
    at = end;
  }
  return revision;
}
