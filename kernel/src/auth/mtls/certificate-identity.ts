// Identity and tenant from a client certificate's subject, read from its DER so that multi-valued
// RDNs (`CN=alice+O=t1`) and escaped separators (`CN=a\,b`) cannot be confused with each other.
import type { PeerCertificate } from 'node:tls';
import type { X509Certificate } from 'node:crypto';
import {
  ConfigInvalidValue,
  MtlsInvalidCommonName,
  MtlsInvalidTenant,
  MtlsMissingCommonName,
  MtlsTenantAmbiguous,
  MtlsTenantMissing,
} from '../../errors.js';
import { isTenantName } from '../../identity/tenant.js';
import { type DistinguishedName, readCertificateFields } from '../../tls/certificate-fields.js';

export interface MtlsOptions {
  /** `WEFTKIT_MTLS_TENANT_ATTRIBUTE`: subject attribute holding the tenant, short name or dotted OID. Default `O`. */
  readonly tenantAttribute?: string;
}

export interface CertificateIdentity {
  /** Subject CN. */
  readonly identity: string;
  readonly tenant: string;
}

/** A DER certificate, a `X509Certificate`, or a `getPeerCertificate(true)` result. */
export type CertificateInput = Uint8Array | X509Certificate | Pick<PeerCertificate, 'raw'>;

const COMMON_NAME = '2.5.4.3';

const ATTRIBUTE_OIDS: Readonly<Record<string, string>> = {
  CN: COMMON_NAME,
  SERIALNUMBER: '2.5.4.5',
  C: '2.5.4.6',
  L: '2.5.4.7',
  ST: '2.5.4.8',
  STREET: '2.5.4.9',
  O: '2.5.4.10',
  OU: '2.5.4.11',
  TITLE: '2.5.4.12',
  DC: '0.9.2342.19200300.100.1.25',
  UID: '0.9.2342.19200300.100.1.1',
};

/** The OID of a tenant attribute setting; throws `ConfigInvalidValue` for an unknown name. */
export function tenantAttributeOid(attribute: string = 'O'): string {
  if (/^[0-2](\.(0|[1-9][0-9]*))+$/.test(attribute)) return attribute;
  const oid = ATTRIBUTE_OIDS[attribute.toUpperCase()];
  if (oid === undefined) {
    throw new ConfigInvalidValue('WEFTKIT_MTLS_TENANT_ATTRIBUTE: unknown subject attribute (use e.g. O, OU or an OID)');
  }
  return oid;
}

// C0 and C1 controls, DEL, and the Unicode line/paragraph separators: none belongs in a name that
// ends up in logs and audit lines.
const CONTROL = /[\p{Cc}\u2028\u2029]/u;

function valuesOf(subject: DistinguishedName, oid: string): (string | undefined)[] {
  const out: (string | undefined)[] = [];
  for (const rdn of subject) {
    for (const attr of rdn) if (attr.oid === oid) out.push(attr.value);
  }
  return out;
}

function derOf(cert: CertificateInput): Uint8Array {
  if (cert instanceof Uint8Array) return cert;
  return cert.raw;
}

/** Identity (subject CN) and tenant (the configured attribute) of a certificate. */
export function identityFromSubject(subject: DistinguishedName, tenantOid: string): CertificateIdentity {
  const names = valuesOf(subject, COMMON_NAME);
  if (names.length === 0) throw new MtlsMissingCommonName('client certificate has no subject CN');
  if (names.length > 1) throw new MtlsInvalidCommonName('client certificate has more than one subject CN');
  const identity = names[0];
  if (identity === undefined || identity.length === 0 || CONTROL.test(identity)) {
    throw new MtlsInvalidCommonName('client certificate subject CN is not a valid name');
  }
  const tenants = valuesOf(subject, tenantOid);
  if (tenants.length === 0) throw new MtlsTenantMissing('client certificate subject has no tenant attribute');
  if (tenants.length > 1) throw new MtlsTenantAmbiguous('client certificate subject has more than one tenant attribute');
  const tenant = tenants[0];
  if (!isTenantName(tenant)) throw new MtlsInvalidTenant('client certificate tenant is not a valid tenant name');
  return Object.freeze({ identity, tenant });
}

/**
 * Identity and tenant of a certificate the handshake already verified (this does not verify it).
 * For `password,mtls` the engine compares `identity` with the user name that logged in.
 */
export function certificateIdentity(cert: CertificateInput, options: MtlsOptions = {}): CertificateIdentity {
  const tenantOid = tenantAttributeOid(options.tenantAttribute);
  return identityFromSubject(readCertificateFields(derOf(cert)).subject, tenantOid);
}
