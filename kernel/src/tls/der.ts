// A small strict DER reader: enough of ASN.1 to walk an X.509 certificate to its validity and
// subject. Every failure is `CertificateMalformed`; nothing is read past a declared length.
import { CertificateMalformed } from '../errors.js';

export const Tag = {
  Integer: 0x02,
  Oid: 0x06,
  Utf8String: 0x0c,
  NumericString: 0x12,
  PrintableString: 0x13,
  TeletexString: 0x14,
  Ia5String: 0x16,
  UtcTime: 0x17,
  GeneralizedTime: 0x18,
  VisibleString: 0x1a,
  UniversalString: 0x1c,
  BmpString: 0x1e,
  Sequence: 0x30,
  Set: 0x31,
  /** `[0] EXPLICIT`, the X.509 version field. */
  ContextConstructed0: 0xa0,
} as const;

export interface Tlv {
  readonly tag: number;
  /** First content byte. */
  readonly start: number;
  /** One past the last content byte. */
  readonly end: number;
}

function malformed(): never {
  throw new CertificateMalformed('certificate is not valid DER');
}

/** Reads the element at `pos`, which must end at or before `limit`. */
export function readTlv(der: Uint8Array, pos: number, limit: number): Tlv {
  if (pos + 2 > limit) malformed();
  const tag = der[pos]!;
  // High-tag-number form never occurs in the parts of a certificate read here.
  if ((tag & 0x1f) === 0x1f) malformed();
  let len = der[pos + 1]!;
  let start = pos + 2;
  if (len & 0x80) {
    const n = len & 0x7f;
    // 0x80 is BER's indefinite length; DER forbids it. Four length bytes cover any certificate.
    if (n === 0 || n > 4 || start + n > limit) malformed();
    len = 0;
    for (let i = 0; i < n; i++) len = len * 256 + der[start + i]!;
    // DER: the shortest length form only.
    if (len < 0x80 || der[start] === 0) malformed();
    start += n;
  }
  const end = start + len;
  if (end > limit) malformed();
  return { tag, start, end };
}

/** Reads the element at `pos` and checks its tag. */
export function expectTlv(der: Uint8Array, pos: number, limit: number, tag: number): Tlv {
  const tlv = readTlv(der, pos, limit);
  if (tlv.tag !== tag) malformed();
  return tlv;
}

/** Dotted-decimal form of an OBJECT IDENTIFIER's content. */
export function decodeOid(der: Uint8Array, tlv: Tlv): string {
  if (tlv.end === tlv.start) malformed();
  const arcs: number[] = [];
  let value = 0;
  for (let i = tlv.start; i < tlv.end; i++) {
    const byte = der[i]!;
    // A leading 0x80 is a non-minimal encoding.
    if (value === 0 && byte === 0x80) malformed();
    value = value * 128 + (byte & 0x7f);
    if (value > Number.MAX_SAFE_INTEGER / 128) malformed();
    if ((byte & 0x80) === 0) {
      if (arcs.length === 0) {
        const first = value < 80 ? Math.floor(value / 40) : 2;
        arcs.push(first, value - first * 40);
      } else {
        arcs.push(value);
      }
      value = 0;
    }
  }
  if ((der[tlv.end - 1]! & 0x80) !== 0) malformed();
  return arcs.join('.');
}

const utf8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });
const utf16be = new TextDecoder('utf-16be', { fatal: true, ignoreBOM: true });

function ascii(bytes: Uint8Array, allowed: (b: number) => boolean): string {
  let out = '';
  for (const b of bytes) {
    if (!allowed(b)) malformed();
    out += String.fromCharCode(b);
  }
  return out;
}

const PRINTABLE = /^[A-Za-z0-9 '()+,\-./:=?]$/;

/**
 * The text of a directory string (or another ASN.1 character string), decoded exactly; undefined
 * when the element is not a string type. Invalid encodings are `CertificateMalformed`.
 */
export function decodeString(der: Uint8Array, tlv: Tlv): string | undefined {
  const bytes = der.subarray(tlv.start, tlv.end);
  try {
    switch (tlv.tag) {
      case Tag.Utf8String:
        return utf8.decode(bytes);
      case Tag.PrintableString:
        return ascii(bytes, (b) => PRINTABLE.test(String.fromCharCode(b)));
      case Tag.NumericString:
        return ascii(bytes, (b) => b === 0x20 || (b >= 0x30 && b <= 0x39));
      case Tag.Ia5String:
        return ascii(bytes, (b) => b < 0x80);
      case Tag.VisibleString:
        return ascii(bytes, (b) => b >= 0x20 && b < 0x7f);
      // T.61 is not Latin-1; only its ASCII-compatible printable subset is read unambiguously.
      case Tag.TeletexString:
        return ascii(bytes, (b) => b >= 0x20 && b < 0x7f);
      case Tag.BmpString:
        if (bytes.length % 2 !== 0) malformed();
        return utf16be.decode(bytes);
      case Tag.UniversalString: {
        if (bytes.length % 4 !== 0) malformed();
        let out = '';
        for (let i = 0; i < bytes.length; i += 4) {
          const cp = ((bytes[i]! << 24) | (bytes[i + 1]! << 16) | (bytes[i + 2]! << 8) | bytes[i + 3]!) >>> 0;
          if (cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff)) malformed();
          out += String.fromCodePoint(cp);
        }
        return out;
      }
      default:
        return undefined;
    }
  } catch (err) {
    if (err instanceof CertificateMalformed) throw err;
    malformed();
  }
}

function digits(der: Uint8Array, from: number, count: number): number {
  let n = 0;
  for (let i = from; i < from + count; i++) {
    const d = der[i]! - 0x30;
    if (d < 0 || d > 9) malformed();
    n = n * 10 + d;
  }
  return n;
}

/** An X.509 Time: UTCTime `YYMMDDHHMMSSZ` or GeneralizedTime `YYYYMMDDHHMMSSZ` (RFC 5280 4.1.2.5). */
export function decodeTime(der: Uint8Array, tlv: Tlv): Date {
  const len = tlv.end - tlv.start;
  let year: number;
  let p = tlv.start;
  if (tlv.tag === Tag.UtcTime && len === 13) {
    const yy = digits(der, p, 2);
    year = yy < 50 ? 2000 + yy : 1900 + yy;
    p += 2;
  } else if (tlv.tag === Tag.GeneralizedTime && len === 15) {
    year = digits(der, p, 4);
    p += 4;
  } else {
    malformed();
  }
  if (der[tlv.end - 1] !== 0x5a /* Z */) malformed();
  const month = digits(der, p, 2);
  const day = digits(der, p + 2, 2);
  const hour = digits(der, p + 4, 2);
  const minute = digits(der, p + 6, 2);
  const second = digits(der, p + 8, 2);
  if (month < 1 || month > 12 || day < 1 || day > 31 || hour > 23 || minute > 59 || second > 59) malformed();
  return new Date(Date.UTC(year, month - 1, day, hour, minute, second));
}
