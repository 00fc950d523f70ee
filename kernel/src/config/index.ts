// Public exports of src/config (re-exported by src/index.ts).
export {};
