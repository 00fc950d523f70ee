// Public exports of src/storage (re-exported by src/index.ts).
export {};
