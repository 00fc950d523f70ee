// Public exports of src/tls (re-exported by src/index.ts).
export type { CertificateFields, DistinguishedName, NameAttribute } from './certificate-fields.js';
export { readCertificateFields } from './certificate-fields.js';
export type { TlsCredentialsDeps } from './credentials.js';
export { TlsCredentials } from './credentials.js';
export type { TlsOptions } from './tls-material.js';
export { TLS_VERSION } from './tls-material.js';
export type { UpgradeOptions } from './upgrade.js';
export { upgradeToTls } from './upgrade.js';
