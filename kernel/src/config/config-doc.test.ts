import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { test } from 'node:test';
import { renderConfigTable } from './config-doc.js';

const BEGIN = '<!-- BEGIN VARIABLES (generated: npx weftkit config doc) -->';
const END = '<!-- END VARIABLES -->';

test('docs/configuration.md lists every variable exactly as the schema says', async () => {
  const doc = await readFile(new URL('../../../docs/configuration.md', import.meta.url), 'utf8');
  const start = doc.indexOf(BEGIN);
  const end = doc.indexOf(END);
  assert.ok(start >= 0 && end > start, 'docs/configuration.md must hold the generated table markers');
  assert.equal(doc.slice(start + BEGIN.length, end).trim(), renderConfigTable());
});
