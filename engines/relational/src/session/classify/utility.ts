import { Action, type ActionBits } from '@weftkit/kernel';
import { functionName, isTree, qualifiedRelation, stringList, type Tree } from './names.js';
import { inspectPlpgsql } from './plpgsql.js';
import { type ForbiddenReason, StatementFlag } from './types.js';
import type { StatementWalker } from './walker.js';

const FORBIDDEN_STATEMENTS: ReadonlyMap<string, ForbiddenReason> = new Map<string, ForbiddenReason>([
  ['CreateRoleStmt', 'role_change'],
  ['AlterRoleStmt', 'role_change'],
  ['AlterRoleSetStmt', 'role_change'],
  ['DropRoleStmt', 'role_change'],
  ['ReassignOwnedStmt', 'role_change'],
  ['AlterSystemStmt', 'alter_system'],
  ['LoadStmt', 'load_library'],
  ['CreateExtensionStmt', 'extension'],
  ['AlterExtensionStmt', 'extension'],
  ['AlterExtensionContentsStmt', 'extension'],
  ['CreatePLangStmt', 'extension'],
  ['CreatedbStmt', 'server_admin'],
  ['DropdbStmt', 'server_admin'],
  ['AlterDatabaseStmt', 'server_admin'],
  ['AlterDatabaseRefreshCollStmt', 'server_admin'],
  ['CreateTableSpaceStmt', 'server_file'],
  ['DropTableSpaceStmt', 'server_admin'],
  ['AlterTableSpaceOptionsStmt', 'server_admin'],
  ['CreateForeignServerStmt', 'external_connection'],
  ['AlterForeignServerStmt', 'external_connection'],
  ['CreateFdwStmt', 'external_connection'],
  ['AlterFdwStmt', 'external_connection'],
  ['CreateUserMappingStmt', 'external_connection'],
  ['AlterUserMappingStmt', 'external_connection'],
  ['DropUserMappingStmt', 'external_connection'],
  ['ImportForeignSchemaStmt', 'external_connection'],
  ['CreateSubscriptionStmt', 'external_connection'],
  ['AlterSubscriptionStmt', 'external_connection'],
  ['DropSubscriptionStmt', 'external_connection'],
]);

/** Roles whose membership is never granted: the bootstrap superuser and the predefined pg_* roles. */
function protectedRole(name: string): ForbiddenReason | undefined {
  if (name === 'postgres') return 'role_change';
  return name.startsWith('pg_') ? 'predefined_role' : undefined;
}

const NON_QUERY_BITS: ActionBits = Action.INSERT | Action.UPDATE | Action.DELETE | Action.DDL | Action.COPY_TO | Action.COPY_FROM;

/** Plain EXPLAIN plans without running: what the statement would write, it only reads. */
function planOnly(bits: ActionBits): ActionBits {
  return (bits & NON_QUERY_BITS) !== 0 ? (bits & ~NON_QUERY_BITS) | Action.SELECT : bits;
}

/** TransactionStmt kinds that end the transaction (ROLLBACK TO, SAVEPOINT and RELEASE do not). */
const TRANSACTION_ENDS: ReadonlySet<string> = new Set([
  'TRANS_STMT_COMMIT',
  'TRANS_STMT_ROLLBACK',
  'TRANS_STMT_PREPARE',
  'TRANS_STMT_COMMIT_PREPARED',
  'TRANS_STMT_ROLLBACK_PREPARED',
]);

/** Handles statement types other than the query language; false leaves `type` to the generic walk. */
export function walkUtility(w: StatementWalker, type: string, b: Tree): boolean {
  const reason = FORBIDDEN_STATEMENTS.get(type);
  if (reason !== undefined) {
    w.forbid(reason);
    return true;
  }
  switch (type) {
    case 'TransactionStmt':
      w.flags |= StatementFlag.TRANSACTION;
      if (b.kind === 'TRANS_STMT_BEGIN' || b.kind === 'TRANS_STMT_START') w.flags |= StatementFlag.TRANSACTION_BEGIN;
      else if (TRANSACTION_ENDS.has(String(b.kind))) w.flags |= StatementFlag.TRANSACTION_END;
      return true;
    case 'VariableShowStmt':
      return true;
    case 'DiscardStmt':
      if (b.target === 'DISCARD_ALL') {
        w.flags |= StatementFlag.SESSION_RESET | StatementFlag.DEALLOCATE | StatementFlag.TEMP_OBJECT;
        w.deallocate = '*';
      } else if (b.target === 'DISCARD_TEMP') w.flags |= StatementFlag.TEMP_OBJECT;
      return true;
    case 'DeallocateStmt':
      w.flags |= StatementFlag.DEALLOCATE;
      w.deallocate = b.isall === true || typeof b.name !== 'string' ? '*' : b.name;
      return true;
    case 'ListenStmt':
      w.flags |= StatementFlag.LISTEN;
      return true;
    case 'UnlistenStmt':
      w.flags |= StatementFlag.UNLISTEN;
      return true;
    case 'NotifyStmt':
      w.flags |= StatementFlag.NOTIFY;
      return true;
    case 'FetchStmt':
    case 'ClosePortalStmt':
      w.flags |= StatementFlag.CURSOR;
      return true;
    case 'PrepareStmt':
      if (typeof b.name === 'string') w.prepare = b.name;
      w.flags |= StatementFlag.PREPARE;
      nested(w, b.query);
      return true;
    case 'DeclareCursorStmt':
      w.flags |= StatementFlag.CURSOR;
      nested(w, b.query);
      return true;
    case 'ExplainStmt':
      explain(w, b);
      return true;
    case 'CopyStmt':
      copy(w, b);
      return true;
    case 'DoStmt':
      doBlock(w, b);
      return true;
    case 'CallStmt': {
      w.flags |= StatementFlag.USER_CODE;
      const before = w.actions;
      if (isTree(b.funccall)) w.node('FuncCall', b.funccall);
      if (((w.actions & ~before) & Action.EXECUTE) === 0) w.unscoped |= Action.EXECUTE;
      return true;
    }
    case 'CreateFunctionStmt':
      createFunction(w, b);
      return true;
    case 'TruncateStmt':
      w.walkAs(b.relations, Action.DELETE);
      return true;
    case 'LockStmt':
      // Mode 1 is ACCESS SHARE, which SELECT allows; every stronger mode needs a write privilege.
      w.walkAs(b.relations, b.mode === 1 ? Action.SELECT : Action.UPDATE);
      return true;
    case 'GrantRoleStmt':
      w.unscoped |= Action.ROLE_ADMIN;
      if (Array.isArray(b.granted_roles)) {
        for (const r of b.granted_roles) {
          const name = isTree(r) && isTree(r.AccessPriv) ? r.AccessPriv.priv_name : undefined;
          const why = typeof name === 'string' ? protectedRole(name) : undefined;
          if (why !== undefined) w.forbid(why);
        }
      }
      return true;
    case 'RenameStmt':
      if (b.renameType === 'OBJECT_ROLE') w.forbid('role_change');
      else if (b.renameType === 'OBJECT_DATABASE' || b.renameType === 'OBJECT_TABLESPACE') w.forbid('server_admin');
      ddl(w, b);
      return true;
    case 'DropStmt':
      if (b.removeType === 'OBJECT_EXTENSION') w.forbid('extension');
      ddl(w, b);
      return true;
    case 'CreateTableAsStmt': {
      const into = b.into;
      if (isTree(into) && isTree(into.rel) && into.skipData !== true) w.rangeVar(into.rel, Action.INSERT);
      ddl(w, b);
      return true;
    }
  }
  if (type.endsWith('Stmt')) {
    ddl(w, b);
    return true;
  }
  return false;
}

/** A nested statement walked on its own (so a bare query still needs SELECT), then merged. */
function nested(w: StatementWalker, query: unknown, map?: (bits: ActionBits) => ActionBits): StatementWalker {
  const sub = w.sub();
  sub.statement(query);
  w.merge(sub, map);
  return sub;
}

function ddl(w: StatementWalker, b: Tree): void {
  const before = w.ddlTargets;
  objectNames(w, b);
  ddlFields(w, b);
  if (w.ddlTargets === before) w.unscoped |= Action.DDL;
}

// SET clauses inside DDL (ALTER FUNCTION ... SET, ALTER DATABASE ... SET) are checked for
// protected names but do not change the session's own settings.
function ddlFields(w: StatementWalker, b: Tree, skip?: ReadonlySet<string>): void {
  const flags = w.flags;
  const saved = w.relAction;
  w.relAction = Action.DDL;
  w.fields(b, skip);
  w.relAction = saved;
  w.flags = (w.flags & ~StatementFlag.SETTING) | (flags & StatementFlag.SETTING);
}

const RELATION_OBJECTS: ReadonlySet<string> = new Set([
  'OBJECT_TABLE',
  'OBJECT_VIEW',
  'OBJECT_MATVIEW',
  'OBJECT_INDEX',
  'OBJECT_SEQUENCE',
  'OBJECT_FOREIGN_TABLE',
  'OBJECT_TYPE',
  'OBJECT_DOMAIN',
]);
const RELATION_MEMBERS: ReadonlySet<string> = new Set([
  'OBJECT_COLUMN',
  'OBJECT_POLICY',
  'OBJECT_TRIGGER',
  'OBJECT_RULE',
  'OBJECT_TABCONSTRAINT',
]);
const ROUTINE_OBJECTS: ReadonlySet<string> = new Set([
  'OBJECT_FUNCTION',
  'OBJECT_PROCEDURE',
  'OBJECT_ROUTINE',
  'OBJECT_AGGREGATE',
]);

// Objects named by lists rather than RangeVars (DROP, COMMENT, GRANT ON FUNCTION, ALTER ... OWNER).
function objectNames(w: StatementWalker, b: Tree): void {
  const objtype = b.objtype ?? b.removeType ?? b.renameType ?? b.objectType;
  if (typeof objtype !== 'string') return;
  const objects: unknown[] = Array.isArray(b.objects) ? b.objects : [b.object, b.func];
  for (const obj of objects) {
    if (!isTree(obj)) continue;
    let resource: string | undefined;
    if (ROUTINE_OBJECTS.has(objtype)) {
      const owa = isTree(obj.ObjectWithArgs) ? obj.ObjectWithArgs : obj;
      const names = stringList(owa.objname);
      if (names.length > 0) resource = functionName(names);
    } else if (RELATION_OBJECTS.has(objtype) || RELATION_MEMBERS.has(objtype)) {
      let names = isTree(obj.List) ? stringList(obj.List.items) : isTree(obj.TypeName) ? stringList(obj.TypeName.names) : [];
      if (RELATION_MEMBERS.has(objtype)) names = names.slice(0, -1);
      resource = qualifiedRelation(names);
    }
    if (resource !== undefined) w.add(resource, Action.DDL);
  }
}

function truthy(arg: unknown): boolean {
  if (!isTree(arg)) return true;
  if (isTree(arg.Boolean)) return arg.Boolean.boolval === true;
  if (isTree(arg.Integer)) return arg.Integer.ival !== undefined && arg.Integer.ival !== 0;
  if (isTree(arg.String) && typeof arg.String.sval === 'string') {
    return !['false', 'off', 'no', '0'].includes(arg.String.sval.toLowerCase());
  }
  return true;
}

function explain(w: StatementWalker, b: Tree): void {
  let analyze = false;
  if (Array.isArray(b.options)) {
    for (const o of b.options) {
      const d = isTree(o) && isTree(o.DefElem) ? o.DefElem : undefined;
      if (d !== undefined && d.defname === 'analyze') analyze = truthy(d.arg);
    }
  }
  const sub = nested(w, b.query, analyze ? undefined : planOnly);
  if (analyze) w.flags |= sub.flags;
}

function copy(w: StatementWalker, b: Tree): void {
  if (b.is_program === true) w.forbid('copy_program');
  else if (typeof b.filename === 'string') w.forbid('server_file');
  const from = b.is_from === true;
  w.flags |= from ? StatementFlag.COPY_IN : StatementFlag.COPY_OUT;
  if (isTree(b.relation)) {
    w.rangeVar(b.relation, from ? Action.COPY_FROM : Action.COPY_TO);
    w.walkAs(b.whereClause, Action.SELECT);
    return;
  }
  // COPY (query) TO exports what the query reads: COPY TO on each of those relations too.
  const sub = w.sub();
  sub.statement(b.query);
  w.merge(sub);
  w.flags |= sub.flags;
  if (sub.resources.size === 0) w.unscoped |= Action.COPY_TO;
  for (const name of sub.resources.keys()) w.add(name, Action.COPY_TO);
}

function defElems(list: unknown): Map<string, unknown> {
  const out = new Map<string, unknown>();
  if (!Array.isArray(list)) return out;
  for (const o of list) {
    const d = isTree(o) && isTree(o.DefElem) ? o.DefElem : undefined;
    if (d !== undefined && typeof d.defname === 'string') out.set(d.defname, d.arg);
  }
  return out;
}

function svalOf(v: unknown): string | undefined {
  return isTree(v) && isTree(v.String) && typeof v.String.sval === 'string' ? v.String.sval : undefined;
}

function dollarQuote(body: string): string {
  let tag = '$weftkit$';
  for (let i = 0; body.includes(tag); i++) tag = `$weftkit${i}$`;
  return `${tag}${body}${tag}`;
}

function doBlock(w: StatementWalker, b: Tree): void {
  w.unscoped |= Action.EXECUTE;
  w.flags |= StatementFlag.USER_CODE;
  const opts = defElems(b.args);
  const body = svalOf(opts.get('as'));
  const language = (svalOf(opts.get('language')) ?? 'plpgsql').toLowerCase();
  if (language !== 'plpgsql' || body === undefined) {
    w.unverified = true;
    return;
  }
  inspectPlpgsql(w, `DO ${dollarQuote(body)}`);
}

function createFunction(w: StatementWalker, b: Tree): void {
  w.add(functionName(stringList(b.funcname)), Action.DDL);
  const opts = defElems(b.options);
  const language = svalOf(opts.get('language'))?.toLowerCase() ?? 'sql';
  const as = opts.get('as');
  const source = isTree(as) && isTree(as.List) ? stringList(as.List.items) : [];
  // LANGUAGE c/internal binds any symbol in the server (internal: e.g. pg_read_file under a new name).
  if (language === 'c' || language === 'internal') w.forbid('load_library');
  ddlFields(w, b, FUNCTION_SKIP);
  // The body runs later under EXECUTE; here it is checked for forbidden statements only, and a body
  // the classifier cannot read makes creating the function need EXECUTE.
  const body = w.sub();
  if (b.sql_body !== undefined) body.walk(b.sql_body);
  else if (language === 'sql' && source[0] !== undefined) {
    const parsed = w.parsers.sql(source[0]);
    if (parsed === undefined) body.unverified = true;
    else for (const s of parsed) body.walk(s.tree);
  } else if (language === 'plpgsql') inspectPlpgsql(body, w.text);
  else if (language !== 'c' && language !== 'internal') body.unverified = true;
  if (body.forbidden !== undefined) w.forbid(body.forbidden);
  if (body.unverified) w.unscoped |= Action.EXECUTE;
}

const FUNCTION_SKIP: ReadonlySet<string> = new Set(['funcname', 'sql_body']);
