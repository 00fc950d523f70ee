#!/usr/bin/env node
// `npm test`: build, typecheck and lint everything, run every workspace's tests, then print
// one line summing them all — "N passed, M failed[, K skipped]" — which CI reads.
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

const root = new URL('..', import.meta.url).pathname;
const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8'));
const run = (cmd, args) => spawnSync(cmd, args, { stdio: 'inherit', cwd: root }).status ?? 1;

let failed = 0;
let passed = 0;
let skipped = 0;
const problems = [];

const checks = [
  ['build', ['turbo', 'run', 'build', '--output-logs=errors-only']],
  ['typecheck', ['turbo', 'run', 'typecheck', '--output-logs=errors-only']],
  ['lint', ['biome', 'check', '.']],
];
for (const [name, [cmd, ...args]] of checks) {
  // A failed build, typecheck or lint counts as one failure; a clean one is not a test.
  if (run(join(root, 'node_modules/.bin', cmd), args) !== 0) {
    failed += 1;
    problems.push(name);
  }
}

const testStatus = run(join(root, 'node_modules/.bin/turbo'), ['run', 'test', '--continue', '--concurrency=1']);
for (const ws of pkg.workspaces) {
  const file = join(root, ws, '.test-results', 'summary.json');
  if (!existsSync(file)) {
    const wsPkg = JSON.parse(readFileSync(join(root, ws, 'package.json'), 'utf8'));
    if (wsPkg.scripts?.test) {
      failed += 1;
      problems.push(`${ws} (no test results)`);
    }
    continue;
  }
  const s = JSON.parse(readFileSync(file, 'utf8').trim().split('\n').pop());
  passed += s.passed;
  failed += s.failed;
  skipped += s.skipped;
  if (s.failed > 0) problems.push(`${ws} (${s.failed} failed)`);
}
if (testStatus !== 0 && failed === 0) {
  failed += 1;
  problems.push('turbo run test exited non-zero');
}
if (problems.length > 0) console.log(`failing: ${problems.join(', ')}`);
console.log(`${passed} passed, ${failed} failed${skipped > 0 ? `, ${skipped} skipped` : ''}`);
process.exit(failed > 0 ? 1 : 0);
