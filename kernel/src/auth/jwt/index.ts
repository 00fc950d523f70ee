// Public exports of src/auth/jwt (re-exported by src/index.ts).
export type { JwtRequestInfo } from './authenticator.js';
export { JwtAuthenticator } from './authenticator.js';
export type { JwtOptions } from './options.js';
export { DEFAULT_JWT_ALGORITHMS } from './options.js';
