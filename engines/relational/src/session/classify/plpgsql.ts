import { isTree, type Tree } from './names.js';
import { constantString, type StatementWalker } from './walker.js';

/** PL/pgSQL statements whose SQL text is computed at run time, and the field holding it. */
const DYNAMIC: ReadonlyMap<string, string> = new Map([
  ['PLpgSQL_stmt_dynexecute', 'query'],
  ['PLpgSQL_stmt_dynfors', 'query'],
  ['PLpgSQL_stmt_open', 'dynquery'],
  ['PLpgSQL_stmt_return_query', 'dynquery'],
]);

// A dynamic string assembled from pieces (`'SET ' || 'ROLE ' || r`, format('SET %s ...', 'role')):
// its constant pieces are searched for identity changes. A heuristic, backed by the second layer.
const IDENTITY_TEXT = /\b(?:set|reset)\b[\s\S]*?\b(?:role|session|app\.)|set_config|\bauthorization\b/i;

// PLpgSQL_expr parse modes (PostgreSQL's RawParseMode): 0 = a whole statement, 2 = an expression,
// 3..5 = an assignment `target := expression`.
function exprSql(query: string, mode: unknown): string {
  if (mode === 0) return query;
  if (mode === 3 || mode === 4 || mode === 5) {
    const at = query.indexOf(':=');
    return `SELECT ${at >= 0 ? query.slice(at + 2) : query.slice(query.indexOf('=') + 1)}`;
  }
  return `SELECT ${query}`;
}

/**
 * Parses a DO block or CREATE FUNCTION ... LANGUAGE plpgsql (`source`) and walks every SQL
 * statement and expression in it into `w`. Dynamic SQL that is a constant string is classified like
 * any statement; anything else marks `w.unverified`.
 */
export function inspectPlpgsql(w: StatementWalker, source: string): void {
  const tree = w.parsers.plpgsql(source);
  if (tree === undefined) {
    w.unverified = true;
    return;
  }
  visit(w, tree);
}

function visit(w: StatementWalker, v: unknown): void {
  if (Array.isArray(v)) {
    for (const item of v) visit(w, item);
    return;
  }
  if (!isTree(v)) return;
  for (const key in v) {
    const child = v[key];
    if (key === 'PLpgSQL_expr' && isTree(child)) {
      expression(w, child);
      continue;
    }
    const field = DYNAMIC.get(key);
    if (field !== undefined && isTree(child)) dynamic(w, child[field]);
    if (typeof child === 'object') visit(w, child);
  }
}

function expression(w: StatementWalker, e: Tree): void {
  if (typeof e.query !== 'string') return;
  const parsed = w.parsers.sql(exprSql(e.query, e.parseMode));
  if (parsed === undefined) {
    w.unverified = true;
    return;
  }
  for (const s of parsed) w.walk(s.tree);
}

function dynamic(w: StatementWalker, expr: unknown): void {
  const e = isTree(expr) && isTree(expr.PLpgSQL_expr) ? expr.PLpgSQL_expr : undefined;
  if (e === undefined || typeof e.query !== 'string') {
    w.unverified = true;
    return;
  }
  const parsed = w.parsers.sql(`SELECT ${e.query}`);
  const select = parsed?.length === 1 ? parsed[0]?.tree.SelectStmt : undefined;
  const targets = isTree(select) && Array.isArray(select.targetList) ? select.targetList : [];
  const only = targets.length === 1 && isTree(targets[0]) && isTree(targets[0].ResTarget) ? targets[0].ResTarget.val : undefined;
  const text = constantString(only);
  if (text !== undefined) {
    const inner = w.parsers.sql(text);
    if (inner === undefined) {
      w.unverified = true;
      return;
    }
    for (const s of inner) {
      const sub = w.sub(s.text);
      sub.statement(s.tree);
      w.merge(sub);
      w.flags |= sub.flags;
    }
    return;
  }
  w.unverified = true;
  const pieces: string[] = [];
  collectStrings(parsed?.[0]?.tree, pieces);
  if (IDENTITY_TEXT.test(pieces.join(' '))) w.forbid('dynamic_identity_change');
}

function collectStrings(v: unknown, out: string[]): void {
  if (Array.isArray(v)) {
    for (const item of v) collectStrings(item, out);
    return;
  }
  if (!isTree(v)) return;
  const s = constantString(v);
  if (s !== undefined) {
    out.push(s);
    return;
  }
  for (const key in v) if (typeof v[key] === 'object') collectStrings(v[key], out);
}
