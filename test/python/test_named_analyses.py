#!/usr/bin/python3
"""test/python/test_named_analyses.py: several analyses side by side.

Connects with the PG* environment (scripts/test.sh sets PGHOST, PGPORT and
PGUSER of its throwaway cluster).  In database engage_named_tests, three
analyses run one after the other: two on one table with different options
(the default name, and "xdr k2": k = 2, another seed and elbow range) and
one on another table (k = 4, no elbow), then the first again.  Each
analysis is also run alone, with the same arguments, in a fresh database of
its own (engage_named_ref, the same generated tables): every result view of
the shared database, filtered by the analysis's name, must hold exactly the
rows of the lone run (float8 values in their shortest exact text form),
and engage.latest_run the same figures.

Then runs of two names at the same time, with three sessions, waiting for
states (never for wall-clock time): session 1 runs analysis "a" in an open
transaction, so that it holds its name's lock (seen in pg_locks); session 2
runs analysis "b" meanwhile and must finish (a lock_timeout turns a wait
into a failure instead of a hang); session 3 runs "a" again and must wait
for session 1 (seen in pg_locks as an ungranted advisory lock); a reader
meanwhile sees the views without waiting and without the uncommitted run;
after session 1 commits, session 3's run succeeds and both runs of "a" are
in engage.run.  Prints one line per check and ends with "N passed, N
failed"; exits non-zero on any failure.

Copyright (c) 2026, engage developers
"""
import threading
import time

from helpers import check, connect, drop_databases, finish, fresh_database, query

DB = "engage_named_tests"
REF_DB = "engage_named_ref"
TABLES = [("public.xdr", 20000, 3), ("public.xdr2", 15000, 4)]
# (name given to run_analysis or None, source, arguments)
ANALYSES = [
    (None, "public.xdr", {"k": 3, "k_max": 4}),
    ("xdr k2", "public.xdr", {"k": 2, "seed": 5, "k_max": 3}),
    (None, "public.xdr2", {"k": 4, "k_max": 0}),
]
VIEWS = ["user_engagement", "user_clusters", "cluster_stats", "top_users", "app_usage",
         "app_totals", "top_users_per_app", "top_apps", "elbow"]
RUN_COLUMNS = ["source", "parameters", "rows_read", "rows_without_subscriber", "rejected_values",
               "users", "k", "inertia", "elbow_k", "elbow_sample", "status", "name"]
# advisory lock key 1 of run_analysis's per-name lock ('enga')
LOCK_KEY = 1701734241
GUARD_SECONDS = 300     # a guard against a hang, never a timing assertion


def make_tables(conn):
    cur = conn.cursor()
    cur.execute("SET client_min_messages = warning")
    for table, rows, seed in TABLES:
        cur.execute("SELECT engage.generate_xdr(%s, %s, seed => %s)", (table, rows, seed))


def analyse(conn, name, source, args):
    names = list(args) + (["name"] if name is not None else [])
    values = list(args.values()) + ([name] if name is not None else [])
    extra = "".join(f", {a} => %s" for a in names)
    return query(conn, f"SELECT engage.run_analysis(%s{extra})", (source, *values))[0][0]


def view_rows(conn, view, name):
    """The rows of a view for one analysis, as text, without run_id and name."""
    cols = [c for (c,) in query(conn, """
        SELECT a.attname FROM pg_attribute a
        WHERE a.attrelid = ('engage.' || %s)::regclass AND a.attnum > 0 AND NOT a.attisdropped
        ORDER BY a.attnum""", (view,)) if c not in ("run_id", "name")]
    sel = ", ".join(f't."{c}"' for c in cols)
    return sorted(r[0] for r in query(conn, f"SELECT ROW({sel})::text FROM engage.{view} t WHERE t.name = %s",
                                      (name,)))


def run_figures(conn, name):
    cols = ", ".join(f"t.{c}::text" for c in RUN_COLUMNS)
    return query(conn, f"SELECT {cols} FROM engage.latest_run t WHERE t.name = %s", (name,))


def side_by_side(conn):
    """The three analyses in one database, each against a lone run of it."""
    runs = {}
    for name, source, args in ANALYSES:
        runs[name or source] = analyse(conn, name, source, args)
    # the first analysis again: its latest run is now the second of its name
    runs["public.xdr"] = analyse(conn, *ANALYSES[0])
    check("four runs of three analyses succeeded", all(r is not None for r in runs.values()), str(runs))
    latest = dict(query(conn, "SELECT name, run_id FROM engage.latest_run"))
    check("engage.latest_run has one row per analysis, its latest run", latest == runs, f"{latest} vs {runs}")
    statuses = query(conn, "SELECT name, count(*) FILTER (WHERE status = 'ok') FROM engage.run GROUP BY 1 ORDER BY 1")
    check("each analysis keeps its own runs (2, 1, 1)",
          statuses == [("public.xdr", 2), ("public.xdr2", 1), ("xdr k2", 1)], str(statuses))

    ref = fresh_database(REF_DB)
    try:
        make_tables(ref)
        for name, source, args in ANALYSES:
            label = name or source
            ref.cursor().execute("TRUNCATE engage.run, engage.result_user_engagement, engage.result_user_cluster, "
                                 "engage.result_cluster_stats, engage.result_top_users, engage.result_app_totals, "
                                 "engage.result_top_users_per_app, engage.result_elbow")
            alone = analyse(ref, name, source, args)
            check(f"{label}: the lone run succeeded", alone is not None)
            for v in VIEWS:
                a, b = view_rows(ref, v, label), view_rows(conn, v, label)
                expect_rows = not (v == "elbow" and args.get("k_max") == 0)
                detail = "" if a == b else (f"{len(a)} rows alone, {len(b)} side by side; "
                                            f"{len(set(a) - set(b))} only alone, {len(set(b) - set(a))} only side by side")
                check(f"{label}: engage.{v} identical to the lone run's ({len(a)} rows)",
                      a == b and (len(a) > 0) == expect_rows, detail)
            fa, fb = run_figures(ref, label), run_figures(conn, label)
            check(f"{label}: engage.latest_run's figures identical to the lone run's", fa == fb and len(fa) == 1,
                  f"{fa} vs {fb}")
    finally:
        ref.close()
        drop_databases(REF_DB)


def lock_holders(conn, name, granted):
    """pids holding (granted) or waiting for (not granted) the name's lock."""
    return [r[0] for r in query(conn, """
        SELECT l.pid FROM pg_locks l
        WHERE l.locktype = 'advisory' AND l.database = (SELECT oid FROM pg_database WHERE datname = current_database())
          AND l.classid = %s AND l.objid = (hashtext(%s)::bigint & 4294967295)::oid AND l.objsubid = 2
          AND l.granted = %s""", (LOCK_KEY, name, granted))]


def wait_for(what, fn):
    """Poll fn until it is true (a state, not a duration); a guard against a hang."""
    deadline = time.monotonic() + GUARD_SECONDS
    while time.monotonic() < deadline:
        if fn():
            return True
        time.sleep(0.05)
    check(what, False, f"not reached in {GUARD_SECONDS} s")
    return False


def concurrent(conn):
    """Runs of different names at the same time; one name at a time."""
    s1 = connect(DB)
    s2 = connect(DB, lock_timeout="120s")
    s3 = connect(DB)
    reader = connect(DB, lock_timeout="60s", statement_timeout="120s")
    pid1 = s1.get_backend_pid()
    pid3 = s3.get_backend_pid()
    try:
        s1.autocommit = False
        run_a1 = analyse(s1, "a", "public.xdr2", {"k": 3, "k_max": 0})
        check("session 1: the run of analysis \"a\" succeeded in its open transaction", run_a1 is not None)
        check("session 1 holds the lock of \"a\" (pg_locks)", lock_holders(conn, "a", True) == [pid1],
              str(lock_holders(conn, "a", True)))

        # another name goes on meanwhile
        run_b = analyse(s2, "b", "public.xdr", {"k": 2, "k_max": 0})
        check("session 2: a run of analysis \"b\" succeeded while \"a\" is locked", run_b is not None)
        check("... and session 1 still holds the lock of \"a\"", lock_holders(conn, "a", True) == [pid1])
        check("analysis \"b\" is in the views at once",
              query(reader, "SELECT count(*) > 0 FROM engage.user_engagement WHERE name = 'b'")[0][0])

        # the same name waits
        result = {}

        def third():
            try:
                result["run"] = analyse(s3, "a", "public.xdr2", {"k": 2, "k_max": 0})
            except Exception as e:  # noqa: BLE001 - reported as a failed check below
                result["error"] = str(e)
        t = threading.Thread(target=third)
        t.start()
        if wait_for("session 3 waits for the lock of \"a\"", lambda: lock_holders(conn, "a", False) == [pid3]):
            check("session 3 waits for the lock of \"a\" held by session 1 (pg_locks)",
                  lock_holders(conn, "a", True) == [pid1] and "run" not in result)
        # readers never wait, and see no uncommitted run
        seen = query(reader, "SELECT (SELECT count(*) FROM engage.latest_run WHERE name = 'a'), "
                             "(SELECT count(*) FROM engage.user_engagement WHERE name = 'a')")[0]
        check("a reader meanwhile: no wait, no uncommitted run of \"a\"", seen == (0, 0), str(seen))

        s1.commit()
        t.join(GUARD_SECONDS)
        check("session 3: its run of \"a\" succeeded once session 1 committed",
              not t.is_alive() and result.get("run") is not None, str(result))
        rows = query(conn, "SELECT run_id, status, k FROM engage.run WHERE name = 'a' ORDER BY run_id")
        check("both runs of \"a\" are logged, ok, in order", rows == [(run_a1, "ok", 3), (result.get("run"), "ok", 2)],
              str(rows))
        latest = query(conn, "SELECT name, run_id FROM engage.latest_run WHERE name IN ('a', 'b') ORDER BY name")
        check("engage.latest_run: session 3's run for \"a\", session 2's for \"b\"",
              latest == [("a", result.get("run")), ("b", run_b)], str(latest))
        check("no lock of \"a\" is left", lock_holders(conn, "a", True) + lock_holders(conn, "a", False) == [])
    finally:
        for c in (s1, s2, s3, reader):
            try:
                c.rollback() if not c.autocommit else None
                c.close()
            except Exception:  # noqa: BLE001 - closing after a failure
                pass


def main():
    conn = fresh_database(DB)
    try:
        make_tables(conn)
        side_by_side(conn)
        concurrent(conn)
    finally:
        conn.close()
        drop_databases(DB)


if __name__ == "__main__":
    finish(main)
