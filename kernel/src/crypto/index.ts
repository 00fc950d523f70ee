// Public exports of src/crypto (re-exported by src/index.ts).
export {};
