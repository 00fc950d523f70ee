# Run by tests/psycopg2.test.ts: psycopg2 (libpq) against the engine. Prints one line per check.
import os
import sys

import psycopg2

port = int(sys.argv[1])


def connect(user, password):
    return psycopg2.connect(host="127.0.0.1", port=port, user=user, password=password, dbname="t1", sslmode="disable")


admin = connect("alice", os.environ["ALICE_PASSWORD"])
cur = admin.cursor()
cur.execute("create table py_items (id serial primary key, name text, price numeric)")
cur.executemany("insert into py_items (name, price) values (%s, %s)", [("tea", 2.5), ("o'hara", 3), ("bread", None)])
admin.commit()
cur.execute("select name, price from py_items order by id")
print("rows", cur.fetchall())
cur.execute("select current_setting('app.tenant_id'), current_setting('app.user'), current_user, session_user like 'wk_r_%'")
print("identity", cur.fetchone())
admin.close()

reader = connect("bob", os.environ["BOB_PASSWORD"])
cur = reader.cursor()
cur.execute("select count(*) from py_items")
print("reader count", cur.fetchone()[0])
try:
    cur.execute("insert into py_items (name) values ('x')")
    print("reader insert succeeded")
except psycopg2.Error as e:
    print("reader insert", e.pgcode)
reader.rollback()
try:
    cur.execute("set role postgres")
    print("reader set role succeeded")
except psycopg2.Error as e:
    print("reader set role", e.pgcode)
reader.rollback()
cur.execute("select current_setting('is_superuser')")
print("reader superuser", cur.fetchone()[0])
reader.close()
