#!/usr/bin/env node
// Runs one workspace's tests (every *.test.ts under src/ and tests/) with node:test + tsx,
// printing the spec report and writing counts to .test-results/summary.json for test-all.mjs.
import { spawnSync } from 'node:child_process';
import { mkdirSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = fileURLToPath(new URL('.', import.meta.url));
const pkgDir = process.cwd();
const roots = process.argv.slice(2).length > 0 ? process.argv.slice(2) : ['src', 'tests'];

function findTests(dir, out) {
  let entries;
  try {
    entries = readdirSync(dir);
  } catch {
    return out;
  }
  for (const name of entries) {
    if (name === 'node_modules' || name === 'dist') continue;
    const full = join(dir, name);
    if (statSync(full).isDirectory()) findTests(full, out);
    else if (name.endsWith('.test.ts') || name.endsWith('.test.mjs')) out.push(relative(pkgDir, full));
  }
  return out;
}

const files = roots.flatMap((r) => findTests(join(pkgDir, r), [])).sort();
const resultsDir = join(pkgDir, '.test-results');
rmSync(resultsDir, { recursive: true, force: true });
mkdirSync(resultsDir, { recursive: true });
const summaryFile = join(resultsDir, 'summary.json');
if (files.length === 0) {
  writeFileSync(summaryFile, JSON.stringify({ passed: 0, failed: 0, skipped: 0 }));
  console.log('no tests');
  process.exit(0);
}
const result = spawnSync(
  process.execPath,
  [
    '--import',
    'tsx',
    '--test',
    '--test-concurrency=2',
    '--test-timeout=300000',
    '--test-reporter=spec',
    '--test-reporter-destination=stdout',
    `--test-reporter=${join(here, 'count-reporter.mjs')}`,
    `--test-reporter-destination=${summaryFile}`,
    ...files,
  ],
  { stdio: 'inherit', cwd: pkgDir },
);
process.exit(result.status ?? 1);
