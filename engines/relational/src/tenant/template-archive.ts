// A template cluster as one byte string: "WKPGTPL\x01", then entries `kind u8 (1 dir, 2 file) |
// path length u16 BE | path (UTF-8, relative to PGDATA, '/'-separated) | for a file: size u32 BE |
// bytes`, then kind 0. Directories come before their contents.
import { TenantTemplateInvalid } from '../errors.js';

const MAGIC = Buffer.from('WKPGTPL\x01', 'latin1');
const DIR = 1;
const FILE = 2;

export type TemplateEntry =
  | { readonly kind: 'dir'; readonly path: string }
  | { readonly kind: 'file'; readonly path: string; readonly data: Buffer };

export function encodeTemplate(entries: Iterable<TemplateEntry>): Buffer {
  const parts: Buffer[] = [MAGIC];
  for (const e of entries) {
    const path = Buffer.from(e.path, 'utf8');
    const head = Buffer.alloc(3);
    head.writeUInt8(e.kind === 'dir' ? DIR : FILE, 0);
    head.writeUInt16BE(path.length, 1);
    parts.push(head, path);
    if (e.kind === 'file') {
      const size = Buffer.alloc(4);
      size.writeUInt32BE(e.data.length, 0);
      parts.push(size, e.data);
    }
  }
  parts.push(Buffer.alloc(1));
  return Buffer.concat(parts);
}

/** Entries of an archive (views into `bytes`); a malformed archive throws `TenantTemplateInvalid`. */
export function decodeTemplate(bytes: Buffer): TemplateEntry[] {
  const bad = (): never => {
    throw new TenantTemplateInvalid('template archive is malformed');
  };
  if (bytes.length < MAGIC.length + 1 || !bytes.subarray(0, MAGIC.length).equals(MAGIC)) bad();
  const out: TemplateEntry[] = [];
  let at = MAGIC.length;
  for (;;) {
    if (at >= bytes.length) bad();
    const kind = bytes[at]!;
    if (kind === 0) break;
    if (at + 3 > bytes.length) bad();
    const len = bytes.readUInt16BE(at + 1);
    at += 3;
    if (at + len > bytes.length) bad();
    const path = bytes.toString('utf8', at, at + len);
    at += len;
    if (!isSafePath(path)) bad();
    if (kind === DIR) {
      out.push({ kind: 'dir', path });
    } else if (kind === FILE) {
      if (at + 4 > bytes.length) bad();
      const size = bytes.readUInt32BE(at);
      at += 4;
      if (at + size > bytes.length) bad();
      out.push({ kind: 'file', path, data: bytes.subarray(at, at + size) });
      at += size;
    } else {
      bad();
    }
  }
  if (at !== bytes.length - 1) bad();
  return out;
}

function isSafePath(path: string): boolean {
  return path.length > 0 && !path.startsWith('/') && path.split('/').every((p) => p !== '' && p !== '.' && p !== '..' && !p.includes('\0'));
}
