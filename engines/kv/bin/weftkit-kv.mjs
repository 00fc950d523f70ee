#!/usr/bin/env node
// Starts the kv engine (configured only by WEFTKIT_* variables). Needs the build in dist/.
import { existsSync } from 'node:fs';

const main = new URL('../dist/main.js', import.meta.url);
if (!existsSync(main)) {
  process.stderr.write('WK_KV_NOT_BUILT: dist/main.js is missing; run `npm run build` in engines/kv (and kernel) first\n');
  process.exit(1);
}
await import(main.href);
