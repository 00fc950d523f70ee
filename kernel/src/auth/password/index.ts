// Public exports of src/auth/password (re-exported by src/index.ts).
export type {
  PasswordAuthenticatorOptions,
  PasswordLoginRequest,
  PasswordMethod,
  ScramLogin,
  ScramLoginRequest,
} from './authenticator.js';
export { PasswordAuthenticator } from './authenticator.js';
export type { LockoutOptions } from './lockout.js';
export { LoginLockout, peerAddress } from './lockout.js';
export { checkPasswordPolicy, PASSWORD_MIN_LENGTH } from './policy.js';
export { SCRAM_MAX_MESSAGE_BYTES, SCRAM_MECHANISM } from './scram.js';
export type { ScramVerifierOptions } from './scram-verifier.js';
export { scramVerifier } from './scram-verifier.js';
export type { PasswordHash, UserRecord, UsersFile } from './users-file.js';
export { assertUserName, isUserName, loadUsersFile, parseUsersFile, USER_NAME_PATTERN } from './users-file.js';
export type { HashPasswordOptions, PasswordScheme } from './users-file-write.js';
export { addUser, changeUserPassword, hashPassword, removeUser, writeUsersFileAtomic } from './users-file-write.js';
export type { UsersProfile } from './users-store.js';
export { UsersStore } from './users-store.js';
export type { PasswordVerifierOptions } from './verify.js';
export { PasswordVerifier } from './verify.js';
