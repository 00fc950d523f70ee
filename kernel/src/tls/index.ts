// Public exports of src/tls (re-exported by src/index.ts).
export {};
