// Public exports of src/auth/password (re-exported by src/index.ts).
export {};
