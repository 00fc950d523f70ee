import { BUILTIN_FUNCTIONS, CATALOG_RELATIONS } from './catalog-names.js';

/** A parse-tree node as libpg-query's JSON gives it: `{ NodeType: { ...fields } }` or bare fields. */
export type Tree = { readonly [key: string]: unknown };

export function isTree(v: unknown): v is Tree {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** The `sval`s of a list of `{ String: { sval } }` nodes (qualified names). */
export function stringList(v: unknown): string[] {
  const out: string[] = [];
  if (!Array.isArray(v)) return out;
  for (const item of v) {
    const s = isTree(item) && isTree(item.String) ? item.String.sval : undefined;
    if (typeof s === 'string') out.push(s);
  }
  return out;
}

/** `schema.name` for a relation; unqualified catalog names resolve to pg_catalog, others to public. */
export function relationName(schema: string | undefined, name: string): string {
  if (schema !== undefined && schema.length > 0) return `${schema}.${name}`;
  return CATALOG_RELATIONS.has(name) ? `pg_catalog.${name}` : `public.${name}`;
}

/** `schema.name` for a function; unqualified built-in names resolve to pg_catalog, others to public. */
export function functionName(names: readonly string[]): string {
  const name = names[names.length - 1] ?? '';
  if (names.length >= 2) return `${names[names.length - 2]}.${name}`;
  return BUILTIN_FUNCTIONS.has(name) ? `pg_catalog.${name}` : `public.${name}`;
}

/** A qualified name list (`[db.]schema.name`) as a relation resource. */
export function qualifiedRelation(names: readonly string[]): string | undefined {
  const name = names[names.length - 1];
  if (name === undefined) return undefined;
  return relationName(names.length >= 2 ? names[names.length - 2] : undefined, name);
}

/**
 * Splits the text form of a regclass (`'public."Seq"'`, `'seq'`) into names the way PostgreSQL
 * reads it: unquoted parts lower-cased, quoted parts kept. Undefined when it is not a plain name.
 */
export function regclassText(text: string): string[] | undefined {
  const out: string[] = [];
  let i = 0;
  while (i <= text.length) {
    let part = '';
    if (text[i] === '"') {
      i++;
      for (;;) {
        if (i >= text.length) return undefined;
        if (text[i] === '"') {
          if (text[i + 1] === '"') {
            part += '"';
            i += 2;
            continue;
          }
          i++;
          break;
        }
        part += text[i++];
      }
    } else {
      const start = i;
      while (i < text.length && text[i] !== '.') i++;
      part = text.slice(start, i).trim().toLowerCase();
      if (part.length === 0) return undefined;
    }
    out.push(part);
    if (i >= text.length) break;
    if (text[i] !== '.') return undefined;
    i++;
  }
  return out.length > 0 && out.length <= 3 ? out : undefined;
}
