import { ALL_ACTIONS, type ActionBits } from '@weftkit/kernel';
import { loadModule, parsePlPgSQLSync, parseSync } from 'libpg-query';
import { ClassifierNotLoaded } from '../../errors.js';
import { isTree, type Tree } from './names.js';
import type { Classification, ForbiddenReason, ResourceAccess, StatementClassification } from './types.js';
import { type ParsedStatement, type Parsers, StatementWalker } from './walker.js';

let loaded = false;

/** Loads libpg-query's WASM module; call once at startup before `classify`. */
export async function loadClassifier(): Promise<void> {
  if (loaded) return;
  await loadModule();
  loaded = true;
}

const NON_ASCII = /[^\t\n\v\f\r -~]/;
// libpg-query rejects an empty string; PostgreSQL answers it with EmptyQueryResponse.
const EMPTY = /^\s*$/;

/** Parses `sql` into statements with their own text; undefined when PostgreSQL's grammar rejects it. */
export function parseStatements(sql: string): readonly ParsedStatement[] | undefined {
  let result: { stmts?: unknown };
  try {
    result = parseSync(sql) as { stmts?: unknown };
  } catch {
    return undefined;
  }
  const raw = Array.isArray(result.stmts) ? result.stmts : [];
  // stmt_location/stmt_len are byte offsets into the UTF-8 text (stmt_len 0: to the end).
  const bytes = NON_ASCII.test(sql) ? Buffer.from(sql, 'utf8') : undefined;
  const out: ParsedStatement[] = [];
  for (const r of raw) {
    if (!isTree(r) || !isTree(r.stmt)) continue;
    const location = typeof r.stmt_location === 'number' ? r.stmt_location : 0;
    const length = typeof r.stmt_len === 'number' ? r.stmt_len : 0;
    const end = length > 0 ? location + length : undefined;
    const text = bytes === undefined ? sql.slice(location, end) : bytes.subarray(location, end).toString('utf8');
    out.push({ tree: r.stmt, text, location, length });
  }
  return out;
}

function parsePlpgsql(sql: string): Tree | undefined {
  try {
    const tree: unknown = parsePlPgSQLSync(sql);
    return isTree(tree) ? tree : undefined;
  } catch {
    return undefined;
  }
}

const PARSERS: Parsers = { sql: parseStatements, plpgsql: parsePlpgsql };

const UNPARSEABLE: Classification = Object.freeze({
  unparseable: true,
  actions: ALL_ACTIONS,
  unscoped: ALL_ACTIONS,
  resources: Object.freeze([]),
  flags: 0,
  statements: Object.freeze([]),
});

/**
 * Classifies a SQL string with PostgreSQL's own grammar: per statement, the actions it needs, the
 * resources it touches, whether it is forbidden for everyone, and flags for the session layer.
 * A string that does not parse needs every action (only superuser passes; PostgreSQL then reports
 * the real syntax error). Throws `ClassifierNotLoaded` before `loadClassifier()` has finished.
 */
export function classify(sql: string): Classification {
  return classifyWithTrees(sql).classification;
}

/** `classify`, also giving the parsed statements (undefined when the text did not parse). */
export function classifyWithTrees(sql: string): { classification: Classification; parsed: readonly ParsedStatement[] | undefined } {
  if (!loaded) throw new ClassifierNotLoaded('classify() called before loadClassifier()');
  const parsed = parseStatements(sql);
  if (parsed === undefined) return { classification: EMPTY.test(sql) ? combine([]) : UNPARSEABLE, parsed };
  const statements: StatementClassification[] = [];
  for (const p of parsed) {
    const w = new StatementWalker(PARSERS, p.text);
    w.statement(p.tree);
    statements.push(statementOf(w, p));
  }
  return { classification: combine(statements), parsed };
}

function statementOf(w: StatementWalker, p: ParsedStatement): StatementClassification {
  const resources: ResourceAccess[] = [];
  for (const [name, actions] of w.resources) resources.push(Object.freeze({ name, actions }));
  const kind = Object.keys(p.tree)[0] ?? '';
  const pending = w.executes !== undefined;
  const unscoped = pending ? ALL_ACTIONS : w.unscoped;
  let actions = unscoped;
  for (const r of resources) actions |= r.actions;
  const s: {
    -readonly [K in keyof StatementClassification]: StatementClassification[K];
  } = {
    kind,
    actions,
    unscoped,
    resources: Object.freeze(resources),
    flags: w.flags,
    location: p.location,
    length: p.length,
  };
  if (w.forbidden !== undefined) s.forbidden = w.forbidden;
  if (w.prepare !== undefined) s.prepare = w.prepare;
  if (w.deallocate !== undefined) s.deallocate = w.deallocate;
  if (pending) {
    s.executes = Object.freeze([...(w.executes ?? [])]);
    s.ownUnscoped = w.unscoped;
  }
  return Object.freeze(s);
}

/** The union over statements: what the whole string needs. */
export function combine(statements: readonly StatementClassification[]): Classification {
  let actions: ActionBits = 0;
  let unscoped: ActionBits = 0;
  let flags = 0;
  let forbidden: ForbiddenReason | undefined;
  const merged = new Map<string, ActionBits>();
  for (const s of statements) {
    actions |= s.actions;
    unscoped |= s.unscoped;
    flags |= s.flags;
    if (forbidden === undefined && s.forbidden !== undefined) forbidden = s.forbidden;
    for (const r of s.resources) merged.set(r.name, (merged.get(r.name) ?? 0) | r.actions);
  }
  const resources: ResourceAccess[] = [];
  for (const [name, bits] of merged) resources.push(Object.freeze({ name, actions: bits }));
  const c: { -readonly [K in keyof Classification]: Classification[K] } = {
    unparseable: false,
    actions,
    unscoped,
    resources: Object.freeze(resources),
    flags,
    statements: Object.freeze([...statements]),
  };
  if (forbidden !== undefined) c.forbidden = forbidden;
  return Object.freeze(c);
}
