// Public exports of src/auth/mtls (re-exported by src/index.ts).
export type { CertificateIdentity, CertificateInput, MtlsOptions } from './certificate-identity.js';
export { certificateIdentity } from './certificate-identity.js';
export type { MtlsAuthenticatorOptions, MtlsRequest } from './mtls-authenticator.js';
export { MtlsAuthenticator } from './mtls-authenticator.js';
