#!/usr/bin/env node
// Writes docs/errors.md from every package's errors.ts: code, class, SQLSTATE, HTTP status,
// whether the message reaches clients, and the class's doc comment. Tests check the doc lists
// every code; run `node scripts/gen-errors-doc.mjs` after adding an error.
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

const root = new URL('..', import.meta.url).pathname;
const sources = [
  ['Kernel (`@weftkit/kernel`)', 'kernel/src/errors.ts'],
  ['Relational engine (`@weftkit/relational`)', 'engines/relational/src/errors.ts'],
  ['Key-value engine (`@weftkit/kv`)', 'engines/kv/src/errors.ts'],
  ['CLI (`@weftkit/cli`)', 'cli/src/errors.ts'],
];

const sections = [];
for (const [title, file] of sources) {
  let text;
  try {
    text = readFileSync(join(root, file), 'utf8');
  } catch {
    continue;
  }
  const rows = [];
  const re = /((?:\/\*\*(?:(?!\*\/)[\s\S])*\*\/\s*)?)export class (\w+) extends (\w+) \{([\s\S]*?)\n\}/g;
  for (const m of text.matchAll(re)) {
    const body = m[4];
    const code = /readonly code = '([^']+)'/.exec(body)?.[1];
    if (!code) continue;
    const sqlstate = /readonly sqlstate = '([^']+)'/.exec(body)?.[1] ?? 'XX000';
    const http = /readonly httpStatus = (\d+)/.exec(body)?.[1] ?? '500';
    const exposed = /readonly expose = true/.test(body) ? 'yes' : 'no';
    const doc = m[1]
      .replace(/\/\*\*|\*\//g, '')
      .split('\n')
      .map((l) => l.replace(/^\s*\*\s?/, '').trim())
      .filter(Boolean)
      .join(' ')
      .replace(/\|/g, '\\|');
    rows.push(`| \`${code}\` | ${m[2]} | ${sqlstate} | ${http} | ${exposed} | ${doc} |`);
  }
  sections.push(`## ${title}\n\n| code | class | SQLSTATE | HTTP | client sees message | when |\n|---|---|---|---|---|---|\n${rows.join('\n')}\n`);
}

const doc = `# Errors

Every failure WeftKit reports has a stable code (\`WK_<AREA>_<NAME>\`) that is never reused.
Wire errors carry a real PostgreSQL SQLSTATE; REST errors carry the code in
\`{ "error": { "code", "message", "request_id" } }\` with the HTTP status below.

Only errors marked "client sees message: yes" send their own message to a client. Any other
error is logged with its request id and answered with a generic message (SQLSTATE XX000 /
HTTP 500, code \`WK_INTERNAL\`), so internal details such as paths or key material never reach a
client. Start-up errors (configuration, keys, TLS files, users and roles files) are printed as
one line, \`CODE: reason\`, and the process exits non-zero.

This file is generated from each package's \`errors.ts\` by \`node scripts/gen-errors-doc.mjs\`;
a test fails when a code is missing here.

| code | meaning |
|---|---|
| \`WK_INTERNAL\` | An error that is not meant for clients; its details are only in the server log. |

${sections.join('\n')}`;
writeFileSync(join(root, 'docs/errors.md'), doc);
console.log('wrote docs/errors.md');
