// Public exports of src/auth/mtls (re-exported by src/index.ts).
export {};
