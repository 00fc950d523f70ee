#!/usr/bin/env node
import { main } from '../dist/main.js';
import { readSecretLine } from '../dist/read-secret.js';

process.exitCode = await main(process.argv.slice(2), {
  out: (s) => process.stdout.write(s),
  err: (s) => process.stderr.write(s),
  readSecret: readSecretLine,
});
