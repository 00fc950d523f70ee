import { Action, type ActionBits } from '@weftkit/kernel';
import { FunctionKind, functionRule } from './functions.js';
import { functionName, isTree, regclassText, qualifiedRelation, relationName, stringList, type Tree } from './names.js';
import { protectedSetting } from './settings.js';
import type { ForbiddenReason } from './types.js';
import { StatementFlag } from './types.js';
import { walkUtility } from './utility.js';

/** Actions that write; on a pg_catalog object they are refused (a superuser could rewrite pg_authid). */
const WRITES = Action.INSERT | Action.UPDATE | Action.DELETE | Action.DDL | Action.COPY_FROM;
const CATALOG_SCHEMAS: ReadonlySet<string> = new Set(['pg_catalog', 'information_schema', 'pg_toast']);

/** One statement of a parsed SQL string, with its own text. */
export interface ParsedStatement {
  readonly tree: Tree;
  readonly text: string;
  readonly location: number;
  readonly length: number;
}

/** Parses SQL text (top level, function bodies, dynamic SQL); undefined when it does not parse. */
export type SqlParser = (sql: string) => readonly ParsedStatement[] | undefined;

/** Parses a PL/pgSQL function or DO block; undefined when it does not parse. */
export type PlpgsqlParser = (sql: string) => Tree | undefined;

export interface Parsers {
  readonly sql: SqlParser;
  readonly plpgsql: PlpgsqlParser;
}

/**
 * Walks one statement's parse tree and accumulates what it needs. Node handlers for the query
 * language live here; utility statements (COPY, EXPLAIN, DDL, ...) in utility.ts.
 */
export class StatementWalker {
  readonly resources: Map<string, ActionBits> = new Map();
  unscoped: ActionBits = 0;
  flags = 0;
  forbidden: ForbiddenReason | undefined;
  prepare: string | undefined;
  deallocate: string | undefined;
  executes: string[] | undefined;
  /** The action a RangeVar met by the generic walk gets (SELECT in queries, DDL in DDL statements). */
  relAction: ActionBits = Action.SELECT;
  /** Count of resources recorded with DDL (tells a DDL statement whether it named its object). */
  ddlTargets = 0;
  /** Set when nested code (a body, dynamic SQL) could not be inspected. */
  unverified = false;
  readonly parsers: Parsers;
  /** The SQL text of the statement being walked (PL/pgSQL bodies are parsed from it). */
  readonly text: string;
  readonly #ctes: string[] = [];

  constructor(parsers: Parsers, text: string) {
    this.parsers = parsers;
    this.text = text;
  }

  get actions(): ActionBits {
    let bits = this.unscoped;
    for (const a of this.resources.values()) bits |= a;
    return bits;
  }

  /** A fresh walker for a nested statement (EXPLAIN, COPY (query), function bodies). */
  sub(text: string = this.text): StatementWalker {
    return new StatementWalker(this.parsers, text);
  }

  /** Walks `root` as a whole statement: a bare query needs SELECT even when it reads no table. */
  statement(root: unknown): void {
    this.walk(root);
    if (isTree(root) && (isTree(root.SelectStmt) || isTree(root.DeclareCursorStmt))) {
      if ((this.actions & Action.SELECT) === 0) this.unscoped |= Action.SELECT;
    }
  }

  forbid(reason: ForbiddenReason): void {
    if (this.forbidden === undefined) this.forbidden = reason;
  }

  add(resource: string, actions: ActionBits): void {
    if (actions === 0) return;
    this.resources.set(resource, (this.resources.get(resource) ?? 0) | actions);
    if ((actions & Action.DDL) !== 0) this.ddlTargets++;
    const dot = resource.indexOf('.');
    if ((actions & WRITES) !== 0 && dot > 0 && CATALOG_SCHEMAS.has(resource.slice(0, dot))) {
      this.forbid(resource === 'pg_catalog.pg_settings' ? 'settings_table' : 'catalog_write');
    }
  }

  /** Merges a nested walker's result, passing each action set through `map`. */
  merge(other: StatementWalker, map: (bits: ActionBits) => ActionBits = (b) => b): void {
    for (const [name, bits] of other.resources) this.add(name, map(bits));
    this.unscoped |= map(other.unscoped);
    if (other.forbidden !== undefined) this.forbid(other.forbidden);
    if (other.unverified) this.unverified = true;
    if (other.executes !== undefined) for (const n of other.executes) this.execute(n);
  }

  execute(name: string): void {
    if (this.executes === undefined) this.executes = [name];
    else this.executes.push(name);
    this.flags |= StatementFlag.EXECUTE_PREPARED;
  }

  /** Records a RangeVar (its fields) with `actions`, unless it names a CTE in scope. */
  rangeVar(rv: Tree, actions: ActionBits): void {
    const relname = rv.relname;
    if (typeof relname !== 'string') return;
    const schema = typeof rv.schemaname === 'string' ? rv.schemaname : undefined;
    if (schema === undefined && this.#ctes.includes(relname)) return;
    if (rv.relpersistence === 't' && (actions & Action.DDL) !== 0) this.flags |= StatementFlag.TEMP_OBJECT;
    this.add(relationName(schema, relname), actions);
  }

  /** Walks any value: arrays, wrapped nodes (`{ Type: {...} }`) and bare field objects. */
  walk(v: unknown): void {
    if (Array.isArray(v)) {
      for (const item of v) this.walk(item);
      return;
    }
    if (!isTree(v)) return;
    if (typeof v.relname === 'string') {
      this.rangeVar(v, this.relAction);
      return;
    }
    for (const key in v) this.#child(key, v[key]);
  }

  #child(key: string, child: unknown): void {
    if (typeof child !== 'object' || child === null) return;
    const c = key.charCodeAt(0);
    if (c >= 65 && c <= 90 && isTree(child)) this.node(key, child);
    // The one bare (unwrapped) statement field: AlterDatabaseSetStmt/AlterRoleSetStmt.setstmt.
    else if (key === 'setstmt' && isTree(child)) this.variableSet(child);
    else this.walk(child);
  }

  /** Walks a node's fields with its WITH clause in scope, skipping `skip`. */
  fields(body: Tree, skip?: ReadonlySet<string>): void {
    const depth = this.#ctes.length;
    const w = body.withClause;
    if (isTree(w)) this.#with(w);
    for (const key in body) {
      if (key === 'withClause' || skip?.has(key)) continue;
      this.#child(key, body[key]);
    }
    this.#ctes.length = depth;
  }

  /** Walks `v` with RangeVars taking `action`, restoring the context afterwards. */
  walkAs(v: unknown, action: ActionBits): void {
    const saved = this.relAction;
    this.relAction = action;
    this.walk(v);
    this.relAction = saved;
  }

  // A CTE sees the CTEs before it (all of them, itself included, when RECURSIVE): in
  // `WITH t AS (SELECT * FROM t)` the inner t is the real table.
  #with(w: Tree): void {
    const ctes = Array.isArray(w.ctes) ? w.ctes : [];
    const names = ctes.map((c) => (isTree(c) && isTree(c.CommonTableExpr) ? c.CommonTableExpr.ctename : undefined));
    if (w.recursive === true) for (const n of names) if (typeof n === 'string') this.#ctes.push(n);
    for (let i = 0; i < ctes.length; i++) {
      const cte = ctes[i];
      if (isTree(cte) && isTree(cte.CommonTableExpr)) this.walkAs(cte.CommonTableExpr.ctequery, Action.SELECT);
      const n = names[i];
      if (w.recursive !== true && typeof n === 'string') this.#ctes.push(n);
    }
  }

  node(type: string, body: Tree): void {
    switch (type) {
      case 'RangeVar':
        this.rangeVar(body, this.relAction);
        return;
      case 'SelectStmt':
        this.#select(body);
        return;
      case 'InsertStmt':
        this.#insert(body);
        return;
      case 'UpdateStmt':
        this.#update(body);
        return;
      case 'DeleteStmt':
        this.#delete(body);
        return;
      case 'MergeStmt':
        this.#merge(body);
        return;
      case 'FuncCall':
        this.#funcCall(body);
        return;
      case 'VariableSetStmt':
        this.variableSet(body);
        return;
      case 'ExecuteStmt':
        if (typeof body.name === 'string') this.execute(body.name);
        this.walk(body.params);
        return;
      default:
        if (!walkUtility(this, type, body)) this.fields(body);
    }
  }

  #select(b: Tree): void {
    const saved = this.relAction;
    this.relAction = Action.SELECT;
    const depth = this.#ctes.length;
    if (isTree(b.withClause)) this.#with(b.withClause);
    const into = b.intoClause;
    if (isTree(into) && isTree(into.rel)) this.rangeVar(into.rel, Action.DDL | Action.INSERT);
    if (Array.isArray(b.lockingClause)) {
      for (const lc of b.lockingClause) {
        const locking = isTree(lc) ? lc.LockingClause : undefined;
        if (!isTree(locking)) continue;
        // Every row-locking strength (FOR UPDATE/NO KEY UPDATE/SHARE/KEY SHARE) needs UPDATE in PostgreSQL.
        if (Array.isArray(locking.lockedRels) && locking.lockedRels.length > 0) this.walkAs(locking.lockedRels, Action.UPDATE);
        else this.#lockFrom(b.fromClause);
      }
    }
    this.fields(b, SELECT_SKIP);
    this.#ctes.length = depth;
    this.relAction = saved;
  }

  // FOR UPDATE without OF: every table in this level's FROM (joins included, subqueries not).
  #lockFrom(from: unknown): void {
    if (Array.isArray(from)) {
      for (const item of from) this.#lockFrom(item);
      return;
    }
    if (!isTree(from)) return;
    if (isTree(from.RangeVar)) this.rangeVar(from.RangeVar, Action.UPDATE);
    else if (isTree(from.JoinExpr)) {
      this.#lockFrom(from.JoinExpr.larg);
      this.#lockFrom(from.JoinExpr.rarg);
    }
  }

  /** The DML target (needs `actions`), plus SELECT on it when the statement reads its rows. */
  #target(rel: unknown, actions: ActionBits, reads: boolean): void {
    if (isTree(rel)) this.rangeVar(rel, reads ? actions | Action.SELECT : actions);
  }

  #insert(b: Tree): void {
    const conflict = isTree(b.onConflictClause) ? b.onConflictClause : undefined;
    let actions: ActionBits = Action.INSERT;
    let reads = hasReturning(b);
    if (conflict !== undefined && conflict.action === 'ONCONFLICT_UPDATE') {
      actions |= Action.UPDATE;
      reads = true;
    }
    this.#dml(b, actions, reads);
  }

  #update(b: Tree): void {
    const reads =
      b.whereClause !== undefined || hasReturning(b) || b.fromClause !== undefined || containsKey(b.targetList, 'ColumnRef');
    this.#dml(b, Action.UPDATE, reads);
  }

  #delete(b: Tree): void {
    this.#dml(b, Action.DELETE, b.whereClause !== undefined || hasReturning(b) || b.usingClause !== undefined);
  }

  #merge(b: Tree): void {
    let actions: ActionBits = 0;
    if (Array.isArray(b.mergeWhenClauses)) {
      for (const w of b.mergeWhenClauses) {
        const c = isTree(w) && isTree(w.MergeWhenClause) ? w.MergeWhenClause.commandType : undefined;
        if (c === 'CMD_INSERT') actions |= Action.INSERT;
        else if (c === 'CMD_UPDATE') actions |= Action.UPDATE;
        else if (c === 'CMD_DELETE') actions |= Action.DELETE;
      }
    }
    this.#dml(b, actions, true);
  }

  #dml(b: Tree, actions: ActionBits, reads: boolean): void {
    const saved = this.relAction;
    this.relAction = Action.SELECT;
    const depth = this.#ctes.length;
    if (isTree(b.withClause)) this.#with(b.withClause);
    this.#target(b.relation, actions, reads);
    this.fields(b, DML_SKIP);
    this.#ctes.length = depth;
    this.relAction = saved;
  }

  #funcCall(b: Tree): void {
    const names = stringList(b.funcname);
    const name = names[names.length - 1];
    if (name !== undefined) {
      const rule = functionRule(names.length >= 2 ? names[names.length - 2] : undefined, name);
      switch (rule.kind) {
        case FunctionKind.Builtin:
          break;
        case FunctionKind.User:
          this.add(functionName(names), Action.EXECUTE);
          this.flags |= StatementFlag.USER_CODE;
          break;
        case FunctionKind.Unverifiable:
          this.unscoped |= Action.EXECUTE;
          this.flags |= StatementFlag.USER_CODE;
          break;
        case FunctionKind.SetConfig: {
          const setting = constantArgument(b.args, 0, 'setting_name');
          if (setting === undefined) this.forbid('dynamic_set_config');
          else {
            const reason = protectedSetting(setting);
            if (reason !== undefined) this.forbid(reason);
            this.flags |= StatementFlag.SETTING;
          }
          break;
        }
        case FunctionKind.SequenceWrite:
        case FunctionKind.SequenceRead: {
          const action = rule.kind === FunctionKind.SequenceWrite ? Action.UPDATE : Action.SELECT;
          const text = constantArgument(b.args, 0, undefined);
          const seq = text === undefined ? undefined : regclassText(text);
          const resource = seq === undefined ? undefined : qualifiedRelation(seq);
          if (resource === undefined) this.unscoped |= action;
          else this.add(resource, action);
          break;
        }
        case FunctionKind.AdvisoryLock:
          this.flags |= StatementFlag.ADVISORY_LOCK;
          break;
        case FunctionKind.Notify:
          this.flags |= StatementFlag.NOTIFY;
          break;
        case FunctionKind.Forbidden:
          if (rule.reason !== undefined) this.forbid(rule.reason);
          break;
      }
    }
    this.fields(b, FUNC_SKIP);
  }

  variableSet(b: Tree): void {
    if (b.kind === 'VAR_RESET_ALL') {
      this.flags |= StatementFlag.SESSION_RESET;
      return;
    }
    if (b.kind === 'VAR_SET_MULTI') {
      // SET TRANSACTION ..., SET SESSION CHARACTERISTICS AS TRANSACTION ...
      this.flags |= b.name === 'TRANSACTION' || b.name === 'TRANSACTION SNAPSHOT' ? StatementFlag.TRANSACTION : StatementFlag.SETTING;
      return;
    }
    if (typeof b.name !== 'string') {
      this.forbid('engine_setting');
      return;
    }
    const reason = protectedSetting(b.name);
    if (reason !== undefined) this.forbid(reason);
    this.flags |= StatementFlag.SETTING;
  }
}

const SELECT_SKIP: ReadonlySet<string> = new Set(['intoClause', 'lockingClause']);
const DML_SKIP: ReadonlySet<string> = new Set(['relation']);
const FUNC_SKIP: ReadonlySet<string> = new Set(['funcname']);

function hasReturning(b: Tree): boolean {
  const r = b.returningClause;
  return (isTree(r) && Array.isArray(r.exprs) && r.exprs.length > 0) || Array.isArray(b.returningList);
}

/** Whether `key` occurs anywhere under `v`. */
export function containsKey(v: unknown, key: string): boolean {
  if (Array.isArray(v)) return v.some((item) => containsKey(item, key));
  if (!isTree(v)) return false;
  for (const k in v) if (k === key || containsKey(v[k], key)) return true;
  return false;
}

/** A string constant (`'x'` or `'x'::type`), or undefined when the expression is anything else. */
export function constantString(v: unknown): string | undefined {
  if (!isTree(v)) return undefined;
  if (isTree(v.TypeCast)) return constantString(v.TypeCast.arg);
  const c = v.A_Const;
  if (isTree(c) && isTree(c.sval) && typeof c.sval.sval === 'string') return c.sval.sval;
  return undefined;
}

// Positional argument `index`, or the named one (`setting_name => 'role'`): a named argument
// anywhere means positions no longer tell, so only the name is trusted.
function constantArgument(args: unknown, index: number, named: string | undefined): string | undefined {
  if (!Array.isArray(args)) return undefined;
  const anyNamed = args.some((a) => isTree(a) && isTree(a.NamedArgExpr));
  if (anyNamed) {
    for (const a of args) {
      if (isTree(a) && isTree(a.NamedArgExpr) && a.NamedArgExpr.name === named) return constantString(a.NamedArgExpr.arg);
    }
    const first: unknown = args[0];
    return index === 0 && isTree(first) && !isTree(first.NamedArgExpr) ? constantString(first) : undefined;
  }
  return constantString(args[index]);
}
