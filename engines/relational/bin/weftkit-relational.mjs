#!/usr/bin/env node
// Starts the relational engine (configured only by WEFTKIT_* variables). Needs the build in dist/.
import { existsSync } from 'node:fs';

const main = new URL('../dist/main.js', import.meta.url);
if (!existsSync(main)) {
  process.stderr.write('WK_REL_NOT_BUILT: dist/main.js is missing; run `npm run build` in engines/relational (and kernel) first\n');
  process.exit(1);
}
await import(main.href);
