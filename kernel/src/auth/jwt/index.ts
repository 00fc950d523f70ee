// Public exports of src/auth/jwt (re-exported by src/index.ts).
export {};
