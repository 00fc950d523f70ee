// Public exports of src/audit (re-exported by src/index.ts).
export {};
