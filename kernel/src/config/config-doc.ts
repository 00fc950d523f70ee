import { VARIABLES, type VariableKind } from './schema.js';

function describeKind(kind: VariableKind): string {
  switch (kind.type) {
    case 'int':
      return `integer ${kind.min}–${kind.max}`;
    case 'enum':
      return kind.values.map((v) => `\`${v}\``).join(' \\| ');
    case 'list':
      return kind.values === undefined ? 'comma list' : `comma list of ${kind.values.map((v) => `\`${v}\``).join(', ')}`;
    default:
      return kind.type;
  }
}

/** The Markdown table of every variable, as docs/configuration.md embeds it. */
export function renderConfigTable(): string {
  const rows = VARIABLES.map((v) => {
    const def =
      v.default === undefined
        ? '—'
        : typeof v.default === 'string'
          ? `\`${v.default}\``
          : `relational \`${v.default.relational}\`, kv \`${v.default.kv}\``;
    const doc = v.secret === true ? `${v.doc} **Secret**: never logged or echoed.` : v.doc;
    return `| \`${v.name}\` | ${describeKind(v.kind)} | ${def} | ${doc} |`;
  });
  return ['| variable | type | default | meaning |', '|---|---|---|---|', ...rows].join('\n');
}
