// Public exports of src/authz (re-exported by src/index.ts).
export {};
