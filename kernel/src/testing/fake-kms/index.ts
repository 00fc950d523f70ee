// Local servers that speak the Vault, AWS KMS and GCP KMS HTTP APIs, for tests. Excluded from the build.
export { FakeAwsKms, type FakeAwsKmsOptions, type FakeKmsKeyState } from './fake-aws-kms.js';
export { FakeGcpKms, type FakeGcpKeyState } from './fake-gcp-kms.js';
export { type FakeReply, type Fault, FakeHttpServer } from './fake-http.js';
export { FakeVault, type FakeTokenOptions } from './fake-vault.js';
