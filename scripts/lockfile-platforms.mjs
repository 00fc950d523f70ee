#!/usr/bin/env node
// The npm registry reachable here serves only this platform's builds of packages that ship one
// package per OS/CPU (biome, turbo, esbuild, ...), so `npm install` leaves the other platforms'
// optional dependencies out of package-lock.json, and `npm ci` then refuses the lock as out of
// sync. This adds a version-only entry for each missing optional dependency: `npm ci` accepts
// the lock and skips those packages (optional, not installable here), elsewhere it installs them.
// Run after any `npm install`: `node scripts/lockfile-platforms.mjs` (`--check` only reports).
import { readFileSync, writeFileSync } from 'node:fs';

const file = new URL('../package-lock.json', import.meta.url);
const lock = JSON.parse(readFileSync(file, 'utf8'));
const packages = lock.packages;
const added = [];
for (const [path, meta] of Object.entries(packages)) {
  for (const [dep, version] of Object.entries(meta.optionalDependencies ?? {})) {
    const nested = `${path ? `${path}/` : ''}node_modules/${dep}`;
    const hoisted = `node_modules/${dep}`;
    if (packages[nested] !== undefined || packages[hoisted] !== undefined) continue;
    packages[hoisted] = { version, ...(meta.dev ? { dev: true } : {}), optional: true };
    added.push(`${dep}@${version}`);
  }
}
if (process.argv.includes('--check')) {
  if (added.length > 0) {
    console.error(`package-lock.json lacks ${added.length} optional platform packages; run node scripts/lockfile-platforms.mjs`);
    process.exit(1);
  }
} else if (added.length > 0) {
  lock.packages = Object.fromEntries(Object.entries(packages).sort(([a], [b]) => (a === '' ? -1 : b === '' ? 1 : a < b ? -1 : 1)));
  writeFileSync(file, `${JSON.stringify(lock, null, 2)}\n`);
  console.log(`added ${added.length} optional platform entries to package-lock.json`);
}
