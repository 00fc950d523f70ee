// Reads validity and subject straight from a certificate's DER. Node's string forms of the
// subject are lossy (multi-valued RDNs and escaped separators are ambiguous), so identity
// decisions are made on this structure instead.
import { CertificateMalformed } from '../errors.js';
import { decodeOid, decodeString, decodeTime, expectTlv, readTlv, Tag } from './der.js';

/** One AttributeTypeAndValue of a Name. */
export interface NameAttribute {
  /** Dotted OID, e.g. `2.5.4.3` for CN. */
  readonly oid: string;
  /** Decoded text; undefined when the value is not an ASN.1 string type. */
  readonly value: string | undefined;
}

/** A Name: its RDNs in certificate order, each a set of one or more attributes. */
export type DistinguishedName = readonly (readonly NameAttribute[])[];

export interface CertificateFields {
  readonly notBefore: Date;
  readonly notAfter: Date;
  readonly subject: DistinguishedName;
}

function readName(der: Uint8Array, pos: number, limit: number): { name: DistinguishedName; end: number } {
  const seq = expectTlv(der, pos, limit, Tag.Sequence);
  const rdns: NameAttribute[][] = [];
  for (let p = seq.start; p < seq.end; ) {
    const set = expectTlv(der, p, seq.end, Tag.Set);
    const rdn: NameAttribute[] = [];
    for (let q = set.start; q < set.end; ) {
      const atv = expectTlv(der, q, set.end, Tag.Sequence);
      const type = expectTlv(der, atv.start, atv.end, Tag.Oid);
      const value = readTlv(der, type.end, atv.end);
      if (value.end !== atv.end) throw new CertificateMalformed('certificate is not valid DER');
      rdn.push(Object.freeze({ oid: decodeOid(der, type), value: decodeString(der, value) }));
      q = atv.end;
    }
    if (rdn.length === 0) throw new CertificateMalformed('certificate is not valid DER');
    rdns.push(Object.freeze(rdn) as NameAttribute[]);
    p = set.end;
  }
  return { name: Object.freeze(rdns), end: seq.end };
}

/** Validity and subject of a DER certificate. Throws `CertificateMalformed` on anything unexpected. */
export function readCertificateFields(der: Uint8Array): CertificateFields {
  const cert = expectTlv(der, 0, der.length, Tag.Sequence);
  if (cert.end !== der.length) throw new CertificateMalformed('certificate is not valid DER');
  const tbs = expectTlv(der, cert.start, cert.end, Tag.Sequence);
  let p = tbs.start;
  let el = readTlv(der, p, tbs.end);
  if (el.tag === Tag.ContextConstructed0) {
    p = el.end;
    el = readTlv(der, p, tbs.end);
  }
  if (el.tag !== Tag.Integer) throw new CertificateMalformed('certificate is not valid DER');
  const signature = expectTlv(der, el.end, tbs.end, Tag.Sequence);
  const issuer = readName(der, signature.end, tbs.end);
  const validity = expectTlv(der, issuer.end, tbs.end, Tag.Sequence);
  const notBefore = readTlv(der, validity.start, validity.end);
  const notAfter = readTlv(der, notBefore.end, validity.end);
  if (notAfter.end !== validity.end) throw new CertificateMalformed('certificate is not valid DER');
  const subject = readName(der, validity.end, tbs.end);
  return Object.freeze({
    notBefore: decodeTime(der, notBefore),
    notAfter: decodeTime(der, notAfter),
    subject: subject.name,
  });
}
