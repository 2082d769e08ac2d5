"""test/citus/test_run_analysis.py: run_analysis on Citus distributed sources.

One generated xDR table (engage.generate_xdr, some rows without MSISDN) is
analysed as a local table on the coordinator (the one-node reference) and
as distributed tables of the same rows:
  (a) hash-distributed by MSISDN, its rows without MSISDN in a local table
      passed as without_msisdn;
  (b) distributed by another column ("Start"), rows without MSISDN included;
  (c) the MSISDN as text (ties in the top 10s ordered as text), distributed
      by it, against a local copy of its own;
  (e) a time window (since, until) on TellCo's text starts, some of which
      do not parse, in both layouts (a) and (b);
  (f) a warm start (issue 13): a run of changed rows distributed by MSISDN
      that starts from the previous run's centroids beside its restarts.
The local runs are analyses named after their tables; the distributed runs
are all runs of one analysis, "citus_ra" (a name given to runs of several
sources).  Every view of engage, filtered by the analysis's name, and
engage.run's counts must be identical to the local run's (float8 values
compared in their exact text form, cluster distances bit for bit; K-means
and the elbow are the split K-means', in memory on one node and on
aggregates on Citus, where the points never gather on the coordinator:
checked by the function calls), and the
local analyses' views stay as they were beside the distributed one.  Also checked: the per-user tables (distributed by the MSISDN
in the source's type, colocated with a source distributed by it), the
counts against plain SQL, a failed run that leaves no table behind, rows
with an MSISDN in without_msisdn, the pruning of distributed runs (of
their name only), and
run_analysis called on a worker (an error, nothing logged there).

Runs against a coordinator and two workers (scripts/lib.sh
start_citus_cluster: PGHOST, PGPORT, PGUSER name the coordinator; the
workers listen on 127.0.0.1, ports PGPORT + 1 and + 2), alone with
`python3 test/citus/test_run_analysis.py` or from the Citus suite.  Works
in schema citus_ra of the current database, dropped at the start and at
the end; CREATE EXTENSION engage if it is not there.

Copyright (c) 2026, engage developers
"""
import collections
import os
import sys

import psycopg2

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "python"))
from helpers import check, connect, finish, query  # noqa: E402

ROWS = int(os.environ.get("ENGAGE_CITUS_ROWS", "150000"))
SEED = 5
VIEWS = ["latest_run", "user_engagement", "user_clusters", "cluster_stats", "top_users",
         "app_usage", "app_totals", "top_users_per_app", "top_apps", "elbow", "cluster_activity"]
# views empty for a source without a start column (no hours of activity)
MAY_BE_EMPTY = {"cluster_activity"}
# engage.run's columns that a run on the same rows must repeat
RUN_COLUMNS = ["rows_read", "rows_without_subscriber", "rejected_values", "users", "k",
               "inertia", "elbow_k", "elbow_sample", "status", "error",
               "rows_unparsed_start", "since", "until", "start_column"]
# the columns of latest_run that differ from run to run
# (clusters_on_read: where a run keeps its users' clusters, on one node
# computed where read, on Citus in its distributed table)
RUN_SPECIFIC = {"run_id", "started", "ended", "source", "parameters", "name", "warm_start_run",
                "clusters_on_read"}
# the analysis of the distributed runs
DIST = "citus_ra"


def view_rows(conn, view, name):
    """Every row of a view for the analysis name as text, but its run_id
    (and what else names the run), sorted: float8 values in their shortest
    exact form."""
    cols = [c for (c,) in query(conn, """
        SELECT a.attname FROM pg_attribute a
        WHERE a.attrelid = ('engage.' || %s)::regclass AND a.attnum > 0 AND NOT a.attisdropped
        ORDER BY a.attnum""", (view,)) if c not in RUN_SPECIFIC]
    sel = ", ".join(f't."{c}"' for c in cols)
    return sorted(r[0] for r in query(conn, f"SELECT ROW({sel})::text FROM engage.{view} t WHERE t.name = %s",
                                      (name,)))


def snapshot(conn, name):
    """Every view of the latest run of the analysis name, in one REPEATABLE
    READ snapshot."""
    conn.autocommit = False
    conn.set_session(isolation_level="REPEATABLE READ")
    try:
        return {v: view_rows(conn, v, name) for v in VIEWS}
    finally:
        conn.rollback()
        conn.set_session(isolation_level="READ COMMITTED")
        conn.autocommit = True


# the fits and elbows of run_analysis: on a distributed source, with
# every normalization, the split K-means on aggregates (the points never
# gather on the coordinator); store_* read the points there (on Citus
# store_cluster_model only for k above 1000)
FITS = ["kmeans_fit_sampled", "elbow_fit_sampled", "store_cluster_model", "store_elbow_curve"]


def fit_calls(conn):
    """Calls of FITS in this database so far (track_functions 'all')."""
    query(conn, "SELECT pg_stat_force_next_flush()")
    query(conn, "SELECT pg_stat_clear_snapshot()")
    rows = dict(query(conn, "SELECT funcname, sum(calls)::bigint FROM pg_stat_user_functions "
                            "WHERE schemaname = 'engage' AND funcname = ANY (%s) GROUP BY 1", (FITS,)))
    return [int(rows.get(f, 0)) for f in FITS]


def run_counts(conn, run_id):
    cols = ", ".join(RUN_COLUMNS)
    return query(conn, f"SELECT {cols} FROM engage.run WHERE run_id = %s", (run_id,))[0]


def analyse(conn, source, **args):
    """run_analysis on source: the run id (NULL when it failed)."""
    extra = "".join(f", {k} => %s" for k in args)
    return query(conn, f"SELECT engage.run_analysis(%s{extra})", (source, *args.values()))[0][0]


def compare(conn, label, ref, ref_run, run):
    """Every view and engage.run's counts of run against the reference."""
    check(f"{label}: the run succeeded", run is not None)
    if run is None:
        return
    got = snapshot(conn, DIST)
    for v in VIEWS:
        a, b = ref[v], got[v]
        detail = ""
        if a != b:
            only_ref = len(set(a) - set(b))
            only_got = len(set(b) - set(a))
            detail = f"{len(a)} rows on one node, {len(b)} here; {only_ref} only on one node, {only_got} only here"
        check(f"{label}: view engage.{v} identical to one node's ({len(a)} rows)",
              a == b and (len(a) > 0 or v in MAY_BE_EMPTY), detail)
    rc, gc = run_counts(conn, ref_run), run_counts(conn, run)
    check(f"{label}: engage.run's counts identical to one node's {rc[:4]}", rc == gc, f"{rc} vs {gc}")


# The users' clusters of a run on one node (two %s: the run): stored
# (result_user_cluster), or computed where read (engage.run.clusters_on_read;
# no anonymous record in the subquery: joined with a distributed table, it
# becomes an intermediate result, which cannot carry one)
ONE_NODE_USERS = """(SELECT c.msisdn, c.cluster, c.distance FROM engage.result_user_cluster c WHERE c.run_id = %s
                    UNION ALL
                    SELECT e.msisdn,
                           (engage.user_cluster(r.cluster_model, e.sessions, e.duration_ms, e.total_bytes)).cluster,
                           (engage.user_cluster(r.cluster_model, e.sessions, e.duration_ms, e.total_bytes)).distance
                    FROM engage.result_user_engagement e JOIN engage.run r ON r.run_id = e.run_id
                    WHERE e.run_id = %s AND r.clusters_on_read)"""


def distances_bitwise(conn, ref_run, run):
    """The users' cluster distances of run, bit for bit those of ref_run."""
    diff = query(conn, f"""
        SELECT count(*) FROM (
            (SELECT msisdn, cluster, float8send(distance) FROM {ONE_NODE_USERS} l
             EXCEPT ALL
             SELECT msisdn, cluster, float8send(distance) FROM engage.distributed_user_cluster(%s))
            UNION ALL
            (SELECT msisdn, cluster, float8send(distance) FROM engage.distributed_user_cluster(%s)
             EXCEPT ALL
             SELECT msisdn, cluster, float8send(distance) FROM {ONE_NODE_USERS} l)) x""",
                 (ref_run, ref_run, run, run, ref_run, ref_run))[0][0]
    n = query(conn, "SELECT count(*) FROM engage.distributed_user_cluster(%s)", (run,))[0][0]
    check(f"run {run}: clusters and distances of {n} users bit for bit one node's", diff == 0 and n > 0,
          f"{diff} differ")


def per_user_tables(conn, run, source, colocated):
    """The run's per-user tables: registered, distributed by msisdn of the
    source column's type, colocated with the source when it is distributed
    by MSISDN."""
    row = query(conn, "SELECT user_engagement, user_cluster FROM engage.run_distributed WHERE run_id = %s",
                (run,))
    check(f"run {run}: per-user tables registered in engage.run_distributed", len(row) == 1)
    if not row:
        return
    src_type = query(conn, """SELECT format_type(atttypid, atttypmod) FROM pg_attribute
                              WHERE attrelid = %s::regclass AND attname = 'MSISDN/Number'""", (source,))[0][0]
    for tab in row[0]:
        info = query(conn, """
            SELECT p.partmethod::text, column_to_column_name(p.logicalrelid, p.partkey),
                   format_type(a.atttypid, a.atttypmod),
                   p.colocationid = (SELECT s.colocationid FROM pg_dist_partition s
                                     WHERE s.logicalrelid = %s::regclass)
            FROM pg_dist_partition p
            JOIN pg_attribute a ON a.attrelid = p.logicalrelid AND a.attname = 'msisdn'
            WHERE p.logicalrelid = %s::regclass""", (source, tab))
        ok = len(info) == 1 and info[0][0] == "h" and info[0][1] == "msisdn" and info[0][2] == src_type
        if colocated:
            ok = ok and info[0][3]
        check(f"run {run}: {tab} hash-distributed by msisdn {src_type}"
              + (", colocated with the source" if colocated else ""), ok, str(info))


def plain_sql_counts(conn, run, sources, without=None):
    """engage.run's rows, rows without subscriber and users against plain
    SQL over the distributed source(s)."""
    total = sum(query(conn, f"SELECT count(*) FROM {s}")[0][0] for s in sources + ([without] if without else []))
    nosub = sum(query(conn, f'SELECT count(*) FROM {s} WHERE "MSISDN/Number" IS NULL')[0][0]
                for s in sources + ([without] if without else []))
    users = query(conn, f'SELECT count(DISTINCT "MSISDN/Number") FROM {sources[0]}')[0][0]
    got = query(conn, "SELECT rows_read, rows_without_subscriber, users FROM engage.run WHERE run_id = %s",
                (run,))[0]
    check(f"run {run}: rows read, without subscriber and users as plain SQL counts them ({total}, {nosub}, {users})",
          tuple(got) == (total, nosub, users), str(got))


def error_of(conn, sql, args=None):
    try:
        query(conn, sql, args)
    except psycopg2.Error as e:
        return e.pgcode, e.pgerror
    return None, None


def main():
    conn = connect()
    query(conn, "SELECT 1")
    conn.cursor().execute("SET client_min_messages = warning")
    conn.cursor().execute("CREATE EXTENSION IF NOT EXISTS engage")
    conn.cursor().execute("DROP SCHEMA IF EXISTS citus_ra CASCADE")
    conn.cursor().execute("CREATE SCHEMA citus_ra")
    try:
        body(conn)
    finally:
        conn.cursor().execute("DROP SCHEMA IF EXISTS citus_ra CASCADE")


def body(conn):
    cur = conn.cursor()
    cur.execute("SELECT engage.generate_xdr('citus_ra.xdr_local', %s, NULL, %s)", (ROWS, SEED))
    nulls = query(conn, 'SELECT count(*) FROM citus_ra.xdr_local WHERE "MSISDN/Number" IS NULL')[0][0]
    check(f"the generated table has rows without MSISDN ({nulls} of {ROWS})", nulls > 0)

    # (a) by MSISDN, the rows without it apart
    cur.execute("CREATE TABLE citus_ra.xdr_msisdn (LIKE citus_ra.xdr_local)")
    cur.execute("SELECT create_distributed_table('citus_ra.xdr_msisdn', 'MSISDN/Number')")
    cur.execute('INSERT INTO citus_ra.xdr_msisdn SELECT * FROM citus_ra.xdr_local WHERE "MSISDN/Number" IS NOT NULL')
    cur.execute('CREATE TABLE citus_ra.xdr_nomsisdn AS SELECT * FROM citus_ra.xdr_local WHERE "MSISDN/Number" IS NULL')
    code, _ = error_of(conn, 'INSERT INTO citus_ra.xdr_msisdn SELECT * FROM citus_ra.xdr_nomsisdn LIMIT 1')
    check("a table distributed by MSISDN refuses a row without MSISDN (22004)", code == "22004", str(code))
    # (b) by another column
    cur.execute("CREATE TABLE citus_ra.xdr_other (LIKE citus_ra.xdr_local)")
    cur.execute("SELECT create_distributed_table('citus_ra.xdr_other', 'Start')")
    cur.execute("INSERT INTO citus_ra.xdr_other SELECT * FROM citus_ra.xdr_local")

    local = analyse(conn, "citus_ra.xdr_local", keep_runs=100)
    check("the one-node run succeeded", local is not None)
    ref = snapshot(conn, "citus_ra.xdr_local")
    check("the one-node run stored no distributed tables",
          query(conn, "SELECT count(*) FROM engage.run_distributed WHERE run_id = %s", (local,))[0][0] == 0)

    query(conn, "SELECT set_config('track_functions', 'all', false)")
    calls = fit_calls(conn)
    run_a = analyse(conn, "citus_ra.xdr_msisdn", keep_runs=100, without_msisdn="citus_ra.xdr_nomsisdn", name=DIST)
    delta = [a - b for a, b in zip(fit_calls(conn), calls)]
    check("(a) K-means and the elbow by kmeans_fit_sampled and elbow_fit_sampled on aggregates, "
          "no store_cluster_model or store_elbow_curve (the points never gather on the coordinator)",
          delta == [1, 1, 0, 0], str(dict(zip(FITS, delta))))
    compare(conn, "(a) distributed by MSISDN + without_msisdn", ref, local, run_a)
    if run_a is not None:
        distances_bitwise(conn, local, run_a)
        per_user_tables(conn, run_a, "citus_ra.xdr_msisdn", True)
        plain_sql_counts(conn, run_a, ["citus_ra.xdr_msisdn"], "citus_ra.xdr_nomsisdn")
        layout = query(conn, "SELECT layout FROM engage.run_distributed WHERE run_id = %s", (run_a,))
        check("(a) layout msisdn", layout == [("msisdn",)], str(layout))

    run_b = analyse(conn, "citus_ra.xdr_other", keep_runs=100, name=DIST)
    compare(conn, "(b) distributed by another column", ref, local, run_b)
    if run_b is not None:
        distances_bitwise(conn, local, run_b)
        per_user_tables(conn, run_b, "citus_ra.xdr_other", False)
        plain_sql_counts(conn, run_b, ["citus_ra.xdr_other"])
        staging = query(conn, "SELECT to_regclass(%s)", (f"engage.xdr_staging_{run_b}",))[0][0]
        check("(b) the staging table is gone after the run", staging is None, str(staging))
    check("the local analysis's views are as they were, beside the distributed one's",
          snapshot(conn, "citus_ra.xdr_local") == ref)

    # (d) run_analysis's normalization and k chosen for it (issue 14): the
    # fit and the elbow curve on the log(1 + x) features, k chosen by the
    # Davies-Bouldin index, and on robust-scaled features (the median and
    # quartiles by quantile_pass_agg's passes on the workers), k chosen by
    # the silhouette, as on one node; by kmeans_fit_sampled and elbow_fit_sampled
    # on aggregates (the points never gather on the coordinator)
    for norm, ksel in (("log", "davies_bouldin"), ("robust", "silhouette")):
        local_d = analyse(conn, "citus_ra.xdr_local", keep_runs=100, k_max=6, name=f"citus_ra.xdr_local {norm}",
                          normalization=norm, k_selection=ksel)
        ref_d = snapshot(conn, f"citus_ra.xdr_local {norm}")
        calls = fit_calls(conn)
        run_d = analyse(conn, "citus_ra.xdr_msisdn", keep_runs=100, k_max=6, without_msisdn="citus_ra.xdr_nomsisdn",
                        name=DIST, normalization=norm, k_selection=ksel)
        delta = [a - b for a, b in zip(fit_calls(conn), calls)]
        check(f"(d) {norm}: K-means and the elbow by kmeans_fit_sampled and elbow_fit_sampled on aggregates, "
              "no store_cluster_model or store_elbow_curve",
              delta == [1, 1, 0, 0], str(dict(zip(FITS, delta))))
        compare(conn, f"(d) normalization {norm}, k_selection {ksel}", ref_d, local_d, run_d)
        if run_d is not None:
            distances_bitwise(conn, local_d, run_d)
            got = query(conn, "SELECT normalization, k_selection, k_chosen, k FROM engage.run "
                              "WHERE run_id IN (%s, %s) ORDER BY run_id", (local_d, run_d))
            check(f"(d) engage.run: normalization, k_selection, k chosen and k as on one node {got[0]}",
                  len(got) == 2 and got[0] == got[1] and got[0][0] == norm and got[0][2] == got[0][3], str(got))

    # (c) a text MSISDN: the top 10s' ties ordered as text
    cur.execute("""CREATE TABLE citus_ra.xdr_text_local AS
                   SELECT "MSISDN/Number"::bigint::text AS "MSISDN/Number", "Dur. (ms)",
                          "Total DL (Bytes)", "Total UL (Bytes)",
                          "Social Media DL (Bytes)", "Social Media UL (Bytes)", "Google DL (Bytes)",
                          "Google UL (Bytes)", "Email DL (Bytes)", "Email UL (Bytes)",
                          "Youtube DL (Bytes)", "Youtube UL (Bytes)", "Netflix DL (Bytes)",
                          "Netflix UL (Bytes)", "Gaming DL (Bytes)", "Gaming UL (Bytes)",
                          "Other DL (Bytes)", "Other UL (Bytes)"
                   FROM citus_ra.xdr_local""")
    cur.execute("CREATE TABLE citus_ra.xdr_text (LIKE citus_ra.xdr_text_local)")
    cur.execute("SELECT create_distributed_table('citus_ra.xdr_text', 'MSISDN/Number')")
    cur.execute('INSERT INTO citus_ra.xdr_text SELECT * FROM citus_ra.xdr_text_local WHERE "MSISDN/Number" IS NOT NULL')
    cur.execute('CREATE TABLE citus_ra.xdr_text_nomsisdn AS '
                'SELECT * FROM citus_ra.xdr_text_local WHERE "MSISDN/Number" IS NULL')
    local_t = analyse(conn, "citus_ra.xdr_text_local", keep_runs=100, k_max=4)
    ref_t = snapshot(conn, "citus_ra.xdr_text_local")
    ties = query(conn, "SELECT count(*) FROM (SELECT value FROM engage.top_users WHERE metric = 'sessions' "
                       "AND name = 'citus_ra.xdr_text_local' GROUP BY value HAVING count(*) > 1) x")[0][0]
    check(f"(c) the sessions top 10 has ties ({ties} values), ordered by the MSISDN", ties > 0)
    run_c = analyse(conn, "citus_ra.xdr_text", keep_runs=100, k_max=4,
                    without_msisdn="citus_ra.xdr_text_nomsisdn", name=DIST)
    compare(conn, "(c) text MSISDN distributed by it", ref_t, local_t, run_c)
    if run_c is not None:
        per_user_tables(conn, run_c, "citus_ra.xdr_text", True)

    # rows with an MSISDN in without_msisdn: a failed run, logged
    cur.execute("SET client_min_messages = error")
    bad = analyse(conn, "citus_ra.xdr_msisdn", without_msisdn="citus_ra.xdr_local", keep_runs=100, name=DIST)
    err = query(conn, "SELECT status, sqlstate, error FROM engage.run ORDER BY run_id DESC LIMIT 1")[0]
    check("without_msisdn holding rows with an MSISDN: the run fails (22023), logged",
          bad is None and err[0] == "failed" and err[1] == "22023" and "rows with an MSISDN" in err[2], str(err))

    # a run that fails once its tables are made leaves none behind
    bad = analyse(conn, "citus_ra.xdr_msisdn", duration_column="no such column", keep_runs=100, name=DIST)
    failed = query(conn, "SELECT run_id, status, sqlstate FROM engage.run ORDER BY run_id DESC LIMIT 1")[0]
    left = query(conn, "SELECT to_regclass(%s), to_regclass(%s), "
                       "(SELECT count(*) FROM engage.run_distributed WHERE run_id = %s)",
                 (f"engage.user_engagement_{failed[0]}", f"engage.user_cluster_{failed[0]}", failed[0]))[0]
    check("a run failing in its per-user INSERT ... SELECT (no such column): logged, its tables rolled back",
          bad is None and failed[1] == "failed" and left == (None, None, 0), f"{failed} {left}")
    cur.execute("SET client_min_messages = warning")

    # the views still show the last successful run (c)
    check("after the failed runs the views show the last successful run",
          snapshot(conn, DIST) == ref_t)

    # warm_start on Citus: run c's clusters renumbered 3, 1, 2 (its model,
    # statistics and distributed per-user table, as a warm start would have
    # left them); a run on the same rows fits the same clusters and takes
    # those numbers: its users' rows renumbered on the workers, no mover
    run_d = None
    if run_c is not None:
        cur.execute("UPDATE engage.run SET cluster_model = engage.kmeans_model_clusters(cluster_model, '{2,3,1}') "
                    "WHERE run_id = %s", (run_c,))
        # (array_position: an UPDATE of a distributed table that sets a
        # column to an array subscript, (ARRAY[3, 1, 2])[cluster], crashes
        # Citus 13.2's coordinator)
        cur.execute(f"UPDATE engage.user_cluster_{run_c} SET cluster = array_position('{{2,3,1}}'::int[], cluster)")
        cur.execute("UPDATE engage.result_cluster_stats SET cluster = (ARRAY[3, 1, 2])[cluster] + 10 WHERE run_id = %s",
                    (run_c,))
        cur.execute("UPDATE engage.result_cluster_stats SET cluster = cluster - 10, "
                    "label = engage.cluster_label(cluster - 10, 3) WHERE run_id = %s", (run_c,))
        run_d = analyse(conn, "citus_ra.xdr_text", keep_runs=100, k_max=4,
                        without_msisdn="citus_ra.xdr_text_nomsisdn", name=DIST)
        got = query(conn, "SELECT warm_start_run FROM engage.run WHERE run_id = %s", (run_d,))
        check("warm_start on Citus: the run follows the previous run's numbering",
              run_d is not None and got == [(run_c,)], str(got))
        moved = query(conn, "SELECT (SELECT count(*) FROM engage.segment_movers WHERE name = %s), "
                            "(SELECT count(*) FROM engage.segment_migration WHERE name = %s "
                            " AND from_cluster IS DISTINCT FROM to_cluster)", (DIST, DIST))[0]
        check("... no subscriber moved (segment_movers, segment_migration)", moved == (0, 0), str(moved))
        off = query(conn, f"""SELECT count(*), count(*) FILTER (WHERE d.cluster <> array_position('{{2,3,1}}'::int[], l.cluster)
                                                         OR d.distance <> l.distance)
                               FROM engage.user_cluster_{run_d} d
                               JOIN {ONE_NODE_USERS} l ON l.msisdn = d.msisdn::text""",
                    (local_t, local_t))[0]
        check("... each user's cluster the one-node run's renumbered, distances bit for bit",
              off[0] > 0 and off[1] == 0, str(off))

    # (e) a time window (issue 13) on the text starts, some damaged (no
    # NULL: (b)'s distribution column), in layouts (a) and (b): every view
    # (the hours of activity too) and the counts as on one node, the rows
    # left out for their start as plain SQL counts them.  After the warm
    # start case, without warm start (the previous run of the distributed
    # analysis would renumber the clusters; the one-node run has none)
    cur.execute("CREATE TABLE citus_ra.xdr_win_local AS SELECT * FROM citus_ra.xdr_local")
    cur.execute("""UPDATE citus_ra.xdr_win_local SET "Start" = CASE WHEN "Dur. (ms)"::bigint % 2 = 0 THEN 'n/a'
                                                                    ELSE '2/30/2019 10:00' END
                   WHERE "Dur. (ms)"::bigint % 37 < 2""")
    damaged = query(conn, """SELECT count(*) FROM citus_ra.xdr_win_local WHERE "Start" IN ('n/a', '2/30/2019 10:00')""")[0][0]
    cur.execute("CREATE TABLE citus_ra.xdr_win_msisdn (LIKE citus_ra.xdr_local)")
    cur.execute("SELECT create_distributed_table('citus_ra.xdr_win_msisdn', 'MSISDN/Number')")
    cur.execute('INSERT INTO citus_ra.xdr_win_msisdn SELECT * FROM citus_ra.xdr_win_local WHERE "MSISDN/Number" IS NOT NULL')
    cur.execute('CREATE TABLE citus_ra.xdr_win_nomsisdn AS SELECT * FROM citus_ra.xdr_win_local WHERE "MSISDN/Number" IS NULL')
    cur.execute("CREATE TABLE citus_ra.xdr_win_other (LIKE citus_ra.xdr_local)")
    cur.execute("SELECT create_distributed_table('citus_ra.xdr_win_other', 'Start')")
    cur.execute("INSERT INTO citus_ra.xdr_win_other SELECT * FROM citus_ra.xdr_win_local")
    window = {"since": "2019-04-08 00:00+00", "until": "2019-04-15 00:00+00"}
    local_e = analyse(conn, "citus_ra.xdr_win_local", keep_runs=100, k_max=4, name="citus_ra.xdr_win_local",
                      warm_start=False, **window)
    ref_e = snapshot(conn, "citus_ra.xdr_win_local")
    got = query(conn, "SELECT rows_unparsed_start, users FROM engage.run WHERE run_id = %s", (local_e,))[0]
    check(f"(e) one node: {damaged} rows left out for their start, as plain SQL counts the damaged starts",
          got[0] == damaged and damaged > 0, str(got))
    check("(e) one node: hours of activity stored", len(ref_e["cluster_activity"]) > 0)
    runs_e = []
    for label, source, extra in (("(e) a window, distributed by MSISDN + without_msisdn", "citus_ra.xdr_win_msisdn",
                                  {"without_msisdn": "citus_ra.xdr_win_nomsisdn"}),
                                 ("(e) a window, distributed by another column", "citus_ra.xdr_win_other", {})):
        run_e = analyse(conn, source, keep_runs=100, k_max=4, name=DIST, warm_start=False, **extra, **window)
        runs_e.append(run_e)
        compare(conn, label, ref_e, local_e, run_e)
        if run_e is not None:
            distances_bitwise(conn, local_e, run_e)
            staging = query(conn, "SELECT to_regclass(%s)", (f"engage.xdr_staging_{run_e}",))[0][0]
            check(f"{label}: no staging table left", staging is None, str(staging))
            # the hours of activity (issue 11): each user's histogram
            # written on the workers with the user's row and carried into
            # the clusters table, summed by cluster in the statistics'
            # query, which Citus splits (hours_sum_agg's partial sums on the
            # workers); each user's histogram the one-node run's
            plan = "\n".join(r[0] for r in query(conn, f"""
                EXPLAIN (VERBOSE, COSTS OFF)
                SELECT u.cluster, engage.hours_sum_agg(u.hours) FROM engage.user_cluster_{run_e} u GROUP BY u.cluster"""))
            check(f"{label}: the hours of activity summed by cluster on the workers (worker_partial_agg, coord_combine_agg)",
                  "worker_partial_agg" in plan and "coord_combine_agg" in plan and "Task Count: " in plan, plan[:600])
            diff = query(conn, f"""SELECT count(*), count(*) FILTER (WHERE d.hours IS DISTINCT FROM l.hours),
                                          count(*) FILTER (WHERE c.hours IS DISTINCT FROM l.hours)
                                   FROM engage.user_engagement_{run_e} d
                                   JOIN engage.user_cluster_{run_e} c ON c.msisdn = d.msisdn
                                   JOIN engage.result_user_engagement l ON l.run_id = %s AND l.msisdn = d.msisdn::text""",
                         (local_e,))[0]
            check(f"{label}: each user's hours the one-node run's (users and clusters tables)",
                  diff[0] > 0 and diff[1] == 0 and diff[2] == 0, str(diff))

    # (f) the warm start's fit on Citus (issue 13): a first run of the same
    # rows on one node and distributed (warm_start false: the same model),
    # then a run of changed rows that starts from the previous run's
    # centroids beside its restarts: every view and count as on one node;
    # its model is kmeans_fit_sampled's from those centroids
    lf1 = analyse(conn, "citus_ra.xdr_local", keep_runs=100, k_max=0, name="citus_ra f local", warm_start=False)
    df1 = analyse(conn, "citus_ra.xdr_msisdn", keep_runs=100, k_max=0, name=DIST, warm_start=False,
                  without_msisdn="citus_ra.xdr_nomsisdn")
    same = query(conn, "SELECT a.cluster_model::text = b.cluster_model::text FROM engage.run a, engage.run b "
                       "WHERE a.run_id = %s AND b.run_id = %s", (lf1, df1))
    check("(f) the first runs: the same model on one node and distributed", same == [(True,)], str(same))
    cur.execute("CREATE TABLE citus_ra.xdr_f_local AS SELECT * FROM citus_ra.xdr_local")
    cur.execute("""UPDATE citus_ra.xdr_f_local SET "Total DL (Bytes)" = "Total DL (Bytes)" * 5
                   WHERE "MSISDN/Number"::bigint % 3 = 0""")
    cur.execute("CREATE TABLE citus_ra.xdr_f_msisdn (LIKE citus_ra.xdr_local)")
    cur.execute("SELECT create_distributed_table('citus_ra.xdr_f_msisdn', 'MSISDN/Number')")
    cur.execute('INSERT INTO citus_ra.xdr_f_msisdn SELECT * FROM citus_ra.xdr_f_local WHERE "MSISDN/Number" IS NOT NULL')
    cur.execute('CREATE TABLE citus_ra.xdr_f_nomsisdn AS SELECT * FROM citus_ra.xdr_f_local WHERE "MSISDN/Number" IS NULL')
    lf2 = analyse(conn, "citus_ra.xdr_f_local", keep_runs=100, k_max=3, name="citus_ra f local")
    ref_f = snapshot(conn, "citus_ra f local")
    # with engage.progress, kmeans_fit_sampled says what became of the start
    # (every notice kept: psycopg2 keeps the last 50 by default)
    conn.notices = collections.deque()
    cur.execute("SET client_min_messages = notice")
    cur.execute("SET engage.progress = on")
    df2 = analyse(conn, "citus_ra.xdr_f_msisdn", keep_runs=100, k_max=3, name=DIST,
                  without_msisdn="citus_ra.xdr_f_nomsisdn")
    cur.execute("RESET engage.progress")
    cur.execute("SET client_min_messages = warning")
    start_notes = [n.strip() for n in conn.notices if "initial centroids' candidate" in n]
    conn.notices = []
    check("(f) the distributed fit ran the previous centroids as a candidate (engage.progress)",
          len(start_notes) == 1, str(start_notes))
    compare(conn, "(f) a warm-started run distributed by MSISDN", ref_f, lf2, df2)
    if lf2 is not None and df2 is not None:
        distances_bitwise(conn, lf2, df2)
        got = query(conn, "SELECT run_id, warm_start_run FROM engage.run WHERE run_id IN (%s, %s) ORDER BY run_id",
                    (lf2, df2))
        check("(f) both runs warm-started from their previous runs", got == [(lf2, lf1), (df2, df1)], str(got))
        # the distributed run's model: kmeans_fit_sampled's on its users
        # from the previous centroids (the same centroids up to the
        # numbering); and whether they beat the restarts' model
        points = ("SELECT u.msisdn::text, u.sessions, COALESCE(u.duration_ms, 0), COALESCE(u.total_bytes, 0) "
                  "FROM engage.user_engagement_%d u" % df2)
        row = query(conn, """
            SELECT (r.cluster_model).inertia = (f).inertia,
                   (SELECT array_agg(c ORDER BY c) FROM unnest((r.cluster_model).centroids_normalized) c)
                   = (SELECT array_agg(c ORDER BY c) FROM unnest((f).centroids_normalized) c),
                   (f).inertia < (engage.kmeans_fit_sampled(%s, 3, 'zscore')).inertia
            FROM engage.run r, engage.run p,
                 LATERAL (SELECT engage.kmeans_fit_sampled(%s, 3, 'zscore',
                                                           initial_centroids => (p.cluster_model).centroids) AS f) x
            WHERE r.run_id = %s AND p.run_id = %s""", (points, points, df2, df1))
        check("(f) the distributed model is kmeans_fit_sampled's from the previous centroids "
              f"(the start kept: {row[0][2] if row else None})",
              len(row) == 1 and row[0][0] and row[0][1], str(row))

    # run_analysis on a worker: an error, nothing logged on the worker
    port = int(os.environ.get("PGPORT", "5432")) + 1
    wconn = psycopg2.connect(host="127.0.0.1", port=port, dbname=conn.info.dbname, user=conn.info.user)
    wconn.autocommit = True
    before = query(wconn, "SELECT count(*) FROM engage.run")[0][0]
    code, msg = error_of(wconn, "SELECT engage.run_analysis('citus_ra.xdr_msisdn')")
    after = query(wconn, "SELECT count(*) FROM engage.run")[0][0]
    check("run_analysis of a distributed table on a worker: 0A000, must run on the coordinator",
          code == "0A000" and "coordinator" in (msg or ""), f"{code} {msg}")
    check("... and nothing is logged in the worker's engage.run", before == after, f"{before} -> {after}")
    wconn.close()

    # pruning: keep_runs => 1 drops the distributed runs' tables (a run of
    # the distributed runs' analysis, here on the local table), and leaves
    # the other analyses' runs
    dist_runs = [r for r in (run_a, run_b, run_c, run_d, *runs_e) if r is not None]
    last = analyse(conn, "citus_ra.xdr_local", keep_runs=1, k_max=0, name=DIST)
    left = query(conn, "SELECT count(*) FROM engage.run_distributed")[0][0]
    tables = [query(conn, "SELECT to_regclass(%s)", (f"engage.{t}_{r}",))[0][0]
              for r in dist_runs for t in ("user_engagement", "user_cluster")]
    check(f"pruning drops the per-user tables of the {len(dist_runs)} distributed runs",
          last is not None and left == 0 and all(t is None for t in tables) and len(dist_runs) > 0,
          f"{left} registered, {tables}")
    kept = query(conn, "SELECT run_id, status FROM engage.run WHERE run_id IN (%s, %s) ORDER BY run_id", (local, local_t))
    check("... and keeps the runs of the other analyses", kept == [(local, "ok"), (local_t, "ok")], str(kept))
    check("... whose views are as they were", snapshot(conn, "citus_ra.xdr_local") == ref
          and snapshot(conn, "citus_ra.xdr_text_local") == ref_t)


if __name__ == "__main__":
    finish(main)
