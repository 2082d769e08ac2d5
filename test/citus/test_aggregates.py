"""test/citus/test_aggregates.py: every engage aggregate split by Citus, against one node.

Run by test/citus/run.sh against the coordinator of its Citus cluster
(PGHOST, PGPORT, PGUSER, PGDATABASE), where engage is installed.  Generates
an xDR table with engage.generate_xdr on the coordinator (a local table,
with NULL, NaN, infinite, negative and 2^62-sized measures put in), and
two distributed copies: one by MSISDN (without the rows that have none: a
table distributed by a column cannot hold NULL there) and one by cell
("Last Location Name", every row).  Then, for every aggregate
(engagement_agg over double precision, bigint and numeric,
traffic_agg(VARIADIC double precision[]) over seven applications and over
bigint columns, scaling_agg zscore and minmax, kmeans_step_agg, kmeans_steps_agg (and with
the centres of its indexes) and quantile_pass_agg over the three measures as features,
hours_agg over the hours of the starts and hours_sum_agg over one-session histograms):

- over the whole table and grouped by columns that are not the
  distribution column, Citus splits it (EXPLAIN VERBOSE: the workers run
  worker_partial_agg of the aggregate, the coordinator coord_combine_agg),
  and every group's result equals the local copy's on the same rows, as
  text (exact: the sums are of whole numbers; float8 in its shortest exact
  form);
- grouped by the distribution column, it is pushed down whole and equal;
- the whole-table results equal plain SQL sums on the local copy (bigint
  sums, exact, and float8 sums of whole numbers below 2^53);
- (agg(...)).* makes the workers compute and ship the state once per output
  column, the subquery form once, with the same results;
- the "any" form of traffic_agg (0.1.0's, the same definition under
  another name) cannot be split: XX000 "worker_partial_agg_sfunc could not
  confirm type correctness", the session still works, and pushed down
  whole it gives the new form's results.

Prints one line per check and ends with "N passed, N failed".

Copyright (c) 2026, engage developers
"""
import os
import re
import sys

import psycopg2

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "python"))
from helpers import check, checked, connect, finish, query  # noqa: E402

ROWS = int(os.environ.get("ENGAGE_CITUS_AGG_ROWS", "200000"))
APPS = ["Social Media", "Google", "Email", "Youtube", "Netflix", "Gaming", "Other"]
MSISDN = '"MSISDN/Number"'
CELL = '"Last Location Name"'


def q(name):
    """A quoted column name."""
    return '"%s"' % name


def as_bigint(col):
    """The column as bigint, NULL where it has none (NaN, infinite)."""
    return "(CASE WHEN %s BETWEEN -9e18 AND 9e18 THEN %s::bigint END)" % (col, col)


MEASURES = [q("Dur. (ms)"), q("Total DL (Bytes)"), q("Total UL (Bytes)")]
APP_COLS = [q("%s %s (Bytes)" % (a, d)) for a in APPS for d in ("DL", "UL")]

# the measures as K-means features, always finite: NULL, negative and
# -Infinity become 0, NaN and Infinity 1e12
FEATURES = "ARRAY[%s]" % ", ".join("least(greatest(%s, 0), 1e12)" % c for c in MEASURES)

# name, SQL, the aggregate's signature as Citus names it in worker_partial_agg
AGGREGATES = [
    ("engagement_agg(double precision x 3)",
     "engage.engagement_agg(%s)" % ", ".join(MEASURES),
     "engage.engagement_agg(double precision,double precision,double precision)"),
    ("engagement_agg(bigint x 3)",
     "engage.engagement_agg(%s)" % ", ".join(as_bigint(c) for c in MEASURES),
     "engage.engagement_agg(bigint,bigint,bigint)"),
    ("engagement_agg(numeric x 3)",
     "engage.engagement_agg(%s)" % ", ".join(c + "::numeric" for c in MEASURES),
     "engage.engagement_agg(numeric,numeric,numeric)"),
    ("traffic_agg(7 applications, double precision)",
     "engage.traffic_agg(%s)" % ", ".join(APP_COLS),
     "engage.traffic_agg(double precision[])"),
    ("traffic_agg(bigint columns, cast implicitly)",
     "engage.traffic_agg(%s)" % ", ".join(as_bigint(c) for c in APP_COLS[6:10]),
     "engage.traffic_agg(double precision[])"),
    # the split K-means: exact sums, so the same bits in any split
    ("scaling_agg(features), zscore",
     "engage.scaling_agg(%s)" % FEATURES,
     "engage.scaling_agg(double precision[])"),
    ("scaling_agg(features, 'minmax')",
     "engage.scaling_agg(%s, 'minmax')" % FEATURES,
     "engage.scaling_agg(double precision[],text)"),
    ("kmeans_step_agg(model, features)",
     None,	# the model of the local rows, set by main() once they exist
     "engage.kmeans_step_agg(engage.kmeans_model,double precision[])"),
    ("kmeans_steps_agg(models k = 2 and 3, features)",
     None,	# the same, with the k = 2 model too
     "engage.kmeans_steps_agg(engage.kmeans_model[],double precision[])"),
    ("kmeans_steps_agg(models k = 2 and 3, features, centres of the indexes)",
     None,	# the same, with 5 x 3 centres
     "engage.kmeans_steps_agg(engage.kmeans_model[],double precision[],double precision[])"),
    # the cutoff of the split K-means' sample queries: the m-th smallest
    ("sample_cutoff(a measure, m = 100)",
     "engage.sample_cutoff(least(greatest(%s, 0), 1e12), 100)" % MEASURES[0],
     "engage.sample_cutoff(double precision,integer)"),
    ("quantile_pass_agg(targets of 3 features, features): a quantile pass of the robust scaler",
     "engage.quantile_pass_agg('{0,0,0,1,0,0,2,0,0,2,8,191}', %s)" % FEATURES,
     "engage.quantile_pass_agg(bigint[],double precision[])"),
    ("hours_agg(the hour of day of each start)",
     "engage.hours_agg(pg_catalog.date_part('hour', engage.parse_start_time(%s))::integer)" % q("Start"),
     "engage.hours_agg(integer)"),
    ("hours_sum_agg(each row's histogram of one session)",
     "engage.hours_sum_agg(decode(lpad(to_hex(pg_catalog.date_part('hour', engage.parse_start_time(%s))::integer), 2, '0')"
     " || '01', 'hex'))" % q("Start"),
     "engage.hours_sum_agg(bytea)"),
]

# the distributed copies: distribution column, the local rows they hold,
# columns to group by that are not the distribution column
TABLES = {
    "agg_by_msisdn": (MSISDN, MSISDN + " IS NOT NULL", [q("Handset Type"), CELL]),
    "agg_by_cell": (CELL, "true", [MSISDN, q("Handset Type")]),
}


def setup(conn):
    """The local xDR table with bad and large measures, and its two distributed copies."""
    cur = conn.cursor()
    cur.execute("SET client_min_messages = warning")
    cur.execute("DROP TABLE IF EXISTS agg_local, agg_by_msisdn, agg_by_cell, agg_empty")
    cur.execute("DROP AGGREGATE IF EXISTS public.traffic_agg_any(VARIADIC \"any\")")
    cur.execute("SELECT engage.generate_xdr('public.agg_local', %s, seed => 12)", (ROWS,))
    # Deterministic rows (by a hash of their start and IMEI) get NULL, NaN,
    # infinite and negative measures, and measures of 2^62, whose sums pass
    # 2^64 (engagement_agg's wide state, on some shards only); every row
    # gets a cell (a table distributed by cell cannot hold NULL there)
    h = "(abs(hashtext(\"Start\" || ' ' || coalesce(\"IMEI\"::text, '') || ' ' || \"Start ms\"::text)) % 1009)"
    cur.execute(f"""
        UPDATE agg_local SET
          "Dur. (ms)" = CASE {h} WHEN 1 THEN NULL WHEN 2 THEN 'NaN' WHEN 3 THEN 4611686018427387904
                                 ELSE "Dur. (ms)" END,
          "Total DL (Bytes)" = CASE {h} WHEN 4 THEN 'Infinity' WHEN 5 THEN -5 WHEN 6 THEN 4611686018427387904
                                        WHEN 7 THEN NULL ELSE "Total DL (Bytes)" END,
          "Total UL (Bytes)" = CASE {h} WHEN 8 THEN '-Infinity' WHEN 9 THEN 4611686018427387904
                                        ELSE "Total UL (Bytes)" END,
          "Youtube DL (Bytes)" = CASE {h} WHEN 10 THEN NULL WHEN 11 THEN 'NaN' WHEN 12 THEN -1
                                          ELSE "Youtube DL (Bytes)" END,
          "Netflix UL (Bytes)" = CASE {h} WHEN 13 THEN 'Infinity' WHEN 14 THEN NULL
                                          ELSE "Netflix UL (Bytes)" END,
          "Gaming DL (Bytes)" = CASE {h} WHEN 15 THEN '-Infinity' ELSE "Gaming DL (Bytes)" END,
          {CELL} = coalesce({CELL}, 'no cell')""")
    cur.execute("ANALYZE agg_local")
    for table, (dist, where, _) in TABLES.items():
        cur.execute(f"CREATE TABLE {table} (LIKE agg_local)")
        cur.execute("SELECT create_distributed_table(%s, %s)", (table, dist.strip('"')))
        cur.execute(f"INSERT INTO {table} SELECT * FROM agg_local WHERE {where}")
        cur.execute(f"ANALYZE {table}")
    cur.execute("CREATE TABLE agg_empty (LIKE agg_local)")
    cur.execute("SELECT create_distributed_table('agg_empty', %s)", (MSISDN.strip('"'),))


def results(conn, table, where, group, aggs):
    """{group: (aggregate results as text)} of one query."""
    cols = ", ".join("(%s)::text" % a for a in aggs)
    if group is None:
        sql = f"SELECT NULL, {cols} FROM {table} WHERE {where}"
    else:
        sql = f"SELECT {group}, {cols} FROM {table} WHERE {where} GROUP BY 1"
    return {r[0]: r[1:] for r in query(conn, sql)}


def explain(conn, sql):
    """EXPLAIN VERBOSE of a query, as one text."""
    return "\n".join(r[0] for r in query(conn, "EXPLAIN (VERBOSE) " + sql))


def task_queries(plan):
    """The queries of the plan's tasks (what the workers run)."""
    return re.findall(r"Query: (.*)", plan)


def compare(name, local, dist, index):
    """Check that the index-th aggregate of every group is the same in both."""
    if set(local) != set(dist):
        check(name, False, "groups differ: %d local, %d distributed, %d in common"
              % (len(local), len(dist), len(set(local) & set(dist))))
        return
    bad = [g for g in local if local[g][index] != dist[g][index]]
    check("%s (%d group%s)" % (name, len(local), "" if len(local) == 1 else "s"), not bad,
          "%d differ, e.g. %r: local %s, distributed %s"
          % (len(bad), bad[0], local[bad[0]][index], dist[bad[0]][index]) if bad else "")


def split_and_equal(conn, table, where, group, label):
    """Every aggregate over table (grouped by group, or whole): split by
    Citus, and equal to the local copy's on the same rows."""
    aggs = [a[1] for a in AGGREGATES]
    cols = ", ".join(aggs)
    sql = f"SELECT {cols} FROM {table}" if group is None else \
        f"SELECT {group}, {cols} FROM {table} GROUP BY {group}"
    plan = explain(conn, sql)
    tasks = task_queries(plan)
    for name, _, signature in AGGREGATES:
        partial = "worker_partial_agg('%s'::regprocedure" % signature
        check(f"{table}, {label}: Citus splits {name} (worker_partial_agg, coord_combine_agg)",
              bool(tasks) and all(partial in t for t in tasks) and "coord_combine_agg(" in plan,
              "plan:\n" + plan)
    local = results(conn, "agg_local", where, group, aggs)
    dist = results(conn, table, "true", group, aggs)
    for i, (name, _, _) in enumerate(AGGREGATES):
        compare(f"{table}, {label}: {name} = one node's", local, dist, i)


def pushed_down_and_equal(conn, table, dist_col, where):
    """Grouped by the distribution column: pushed down whole, and equal."""
    aggs = [a[1] for a in AGGREGATES]
    plan = explain(conn, f"SELECT {dist_col}, {', '.join(aggs)} FROM {table} GROUP BY 1")
    tasks = task_queries(plan)
    check(f"{table}, grouped by its distribution column: every aggregate pushed down whole",
          bool(tasks) and "coord_combine_agg" not in plan and "worker_partial_agg" not in plan
          and all("engage.engagement_agg(" in t and "engage.traffic_agg(" in t for t in tasks),
          "plan:\n" + plan)
    local = results(conn, "agg_local", where, dist_col, aggs)
    dist = results(conn, table, "true", dist_col, aggs)
    for i, (name, _, _) in enumerate(AGGREGATES):
        compare(f"{table}, grouped by its distribution column: {name} = one node's", local, dist, i)


def plain_sql(conn, table, where):
    """The whole-table engagement_agg and traffic_agg of the distributed
    table against plain SQL sums on the local copy."""
    def valid(c):
        return f"{c} >= 0 AND {c} < 'Infinity'"
    e = query(conn, "SELECT (e).sessions, (e).duration_ms, (e).dl_bytes, (e).ul_bytes, (e).total_bytes, "
                    "(e).null_values, (e).rejected_values FROM (SELECT %s AS e FROM %s) s"
              % (AGGREGATES[0][1], table))[0]
    # the accepted measures are whole numbers below 2^63 here: bigint sums are
    # exact (a float8 cast to numeric keeps 15 digits only)
    sums = ", ".join(f"sum({c}::bigint) FILTER (WHERE {valid(c)})" for c in MEASURES)
    nulls = " + ".join(f"count(*) FILTER (WHERE {c} IS NULL)" for c in MEASURES)
    rejected = " + ".join(f"count(*) FILTER (WHERE NOT ({valid(c)}))" for c in MEASURES)
    p = query(conn, f"SELECT count(*), {sums}, {nulls}, {rejected} FROM agg_local WHERE {where}")[0]
    want = (p[0], p[1], p[2], p[3], p[2] + p[3], p[4], p[5])
    check(f"{table}: engagement_agg over the whole table = plain SQL sums (bigint, exact)",
          e == want and want[5] > 0 and want[6] > 0,
          f"{e} != {want}")
    t = query(conn, "SELECT (t).dl_bytes, (t).ul_bytes, (t).null_values, (t).rejected_values "
                    "FROM (SELECT %s AS t FROM %s) s" % (AGGREGATES[3][1], table))[0]
    fsums = ", ".join(f"sum({c}) FILTER (WHERE {valid(c)})" for c in APP_COLS)
    nulls = " + ".join(f"count(*) FILTER (WHERE {c} IS NULL)" for c in APP_COLS)
    rejected = " + ".join(f"count(*) FILTER (WHERE NOT ({valid(c)}))" for c in APP_COLS)
    p = query(conn, f"SELECT {fsums}, {nulls}, {rejected} FROM agg_local WHERE {where}")[0]
    want = (list(p[0:len(APP_COLS):2]), list(p[1:len(APP_COLS):2]), p[-2], p[-1])
    check(f"{table}: traffic_agg over the whole table = plain SQL float8 sums of whole numbers",
          tuple(t) == want and p[-2] > 0 and p[-1] > 0, f"{t} != {want}")


def star_forms(conn):
    """(agg(...)).* ships the state once per column, the subquery form once."""
    table, group = "agg_by_msisdn", q("Handset Type")
    for name, agg, signature, ncols in ((AGGREGATES[0][0], AGGREGATES[0][1], AGGREGATES[0][2], 7),
                                        (AGGREGATES[3][0], AGGREGATES[3][1], AGGREGATES[3][2], 4)):
        star = f"SELECT {group} AS g, ({agg}).* FROM {table} GROUP BY 1"
        sub = f"SELECT g, (a).* FROM (SELECT {group} AS g, {agg} AS a FROM {table} GROUP BY 1) s"
        partial = "worker_partial_agg('%s'::regprocedure" % signature
        counts = []
        for sql in (star, sub):
            tasks = task_queries(explain(conn, sql))
            counts.append(sorted({t.count(partial) for t in tasks if partial in t}))
        check(f"{name}: (agg(...)).* makes the workers compute and ship the state "
              f"{ncols} times, the subquery form once", counts == [[ncols], [1]],
              f"worker_partial_agg per task query: {counts}")
        local = {r[0]: r[1:] for r in query(conn, f"SELECT {group}, ({agg}).* FROM agg_local "
                                                  f"WHERE {TABLES[table][1]} GROUP BY 1")}
        for form, sql in (("(agg(...)).*", star), ("the subquery form", sub)):
            dist = {r[0]: r[1:] for r in query(conn, sql)}
            check(f"{name}: {form} = one node's", dist == local,
                  f"{len(dist)} groups, {len(local)} local")


def any_form(conn):
    """The "any" form cannot be split: a clear error, not a crash."""
    cur = conn.cursor()
    cur.execute("""CREATE AGGREGATE public.traffic_agg_any(VARIADIC "any") (
                     SFUNC = engage.traffic_accum, STYPE = double precision[],
                     FINALFUNC = engage.traffic_final, COMBINEFUNC = engage.traffic_combine,
                     PARALLEL = SAFE)""")
    same = query(conn, """
        SELECT a.aggtransfn::regprocedure::text, a.aggfinalfn::regprocedure::text,
               a.aggcombinefn::regprocedure::text, a.aggtranstype::regtype::text
        FROM pg_aggregate a WHERE a.aggfnoid IN ('engage.traffic_agg("any")'::regprocedure,
                                                 'public.traffic_agg_any("any")'::regprocedure)""")
    check("traffic_agg_any: the definition of traffic_agg(VARIADIC \"any\")",
          len(same) == 2 and same[0] == same[1], str(same))
    cols = ", ".join(APP_COLS[:4])
    try:
        query(conn, f"SELECT {q('Handset Type')}, public.traffic_agg_any({cols}) FROM agg_by_msisdn GROUP BY 1")
        check("the \"any\" form, split by Citus: XX000, type correctness not confirmed", False, "no error")
    except psycopg2.Error as e:
        check("the \"any\" form, split by Citus: XX000, type correctness not confirmed",
              e.pgcode == "XX000" and "could not confirm type correctness" in str(e),
              f"{e.pgcode}: {e}")
    check("the session works after that error", query(conn, "SELECT 1") == [(1,)])
    grouped = f"SELECT {MSISDN}, (%s)::text FROM agg_by_msisdn GROUP BY 1"
    old = dict(query(conn, grouped % f"public.traffic_agg_any({cols})"))
    new = dict(query(conn, grouped % f"engage.traffic_agg({cols})"))
    check(f"the \"any\" form pushed down whole (grouped by MSISDN) = the double precision[] form "
          f"({len(new)} groups)", old == new and len(new) > 0)


def every_aggregate(conn):
    """Every aggregate of engage is tested here (or is the "any" form), has
    a combine function and a state that is neither internal nor a pseudo-type."""
    rows = query(conn, """
        SELECT a.aggfnoid::regprocedure::text, a.aggcombinefn <> 0, t.typtype <> 'p'
        FROM pg_aggregate a JOIN pg_proc p ON p.oid = a.aggfnoid JOIN pg_type t ON t.oid = a.aggtranstype
        WHERE p.pronamespace = 'engage'::regnamespace ORDER BY 1""")
    tested = {a[2] for a in AGGREGATES} | {'engage.traffic_agg("any")'}
    names = {r[0] for r in rows}
    check("every engage aggregate is tested here (%d)" % len(names), names == tested,
          "not tested: %s; not found: %s" % (sorted(names - tested), sorted(tested - names)))
    bad = [r[0] for r in rows if not (r[1] and r[2])]
    check("every engage aggregate has a combine function and a state Citus can ship", not bad,
          "without: %s" % bad)


def main():
    conn = connect()
    every_aggregate(conn)
    setup(conn)
    model = {}
    for k in (2, 3):
        model[k] = query(conn, "SELECT engage.kmeans_model($$SELECT key, f[1], f[2], f[3] "
                               "FROM (SELECT ctid::text AS key, %s AS f FROM agg_local) s$$, %d)::text"
                         % (FEATURES, k))[0][0].replace("'", "''")
    i = [a[2] for a in AGGREGATES].index("engage.kmeans_step_agg(engage.kmeans_model,double precision[])")
    AGGREGATES[i] = (AGGREGATES[i][0], "engage.kmeans_step_agg('%s'::engage.kmeans_model, %s)"
                     % (model[3], FEATURES), AGGREGATES[i][2])
    i = [a[2] for a in AGGREGATES].index("engage.kmeans_steps_agg(engage.kmeans_model[],double precision[])")
    AGGREGATES[i] = (AGGREGATES[i][0], "engage.kmeans_steps_agg(ARRAY['%s'::engage.kmeans_model, '%s'], %s)"
                     % (model[2], model[3], FEATURES), AGGREGATES[i][2])
    i = [a[2] for a in AGGREGATES].index(
        "engage.kmeans_steps_agg(engage.kmeans_model[],double precision[],double precision[])")
    AGGREGATES[i] = (AGGREGATES[i][0], "engage.kmeans_steps_agg(ARRAY['%s'::engage.kmeans_model, '%s'], %s, "
                     "'{{0,0,0},{1,1,1},{-1,0,1},{0.5,-0.5,0},{2,0,-1}}')"
                     % (model[2], model[3], FEATURES), AGGREGATES[i][2])
    for table in TABLES:
        n = query(conn, f"SELECT count(*), count(DISTINCT nodeport) FROM citus_shards "
                        f"WHERE table_name = '{table}'::regclass")[0]
        rows = query(conn, f"SELECT count(*) FROM {table}")[0][0]
        want = query(conn, f"SELECT count(*) FROM agg_local WHERE {TABLES[table][1]}")[0][0]
        check(f"{table}: {rows} rows in {n[0]} shards on {n[1]} workers", n[1] == 2 and rows == want,
              f"{rows} rows, {want} wanted")

    for table, (dist_col, where, groups) in TABLES.items():
        @checked(f"{table}: every aggregate over the whole table and grouped by other columns")
        def t_split():
            split_and_equal(conn, table, where, None, "whole table")
            for g in groups:
                split_and_equal(conn, table, where, g, f"grouped by {g}")
        t_split()
        checked(f"{table}: grouped by {dist_col}")(
            lambda: pushed_down_and_equal(conn, table, dist_col, where))()
        checked(f"{table}: against plain SQL")(lambda: plain_sql(conn, table, where))()

    @checked("an empty distributed table: the aggregates of no rows, as on one node")
    def t_empty():
        aggs = [a[1] for a in AGGREGATES]
        local = results(conn, "agg_local", "false", None, aggs)
        dist = results(conn, "agg_empty", "true", None, aggs)
        assert local == dist, f"{dist} != {local}"
        return str(list(dist.values())[0])
    t_empty()

    checked("(agg(...)).* and the subquery form")(lambda: star_forms(conn))()
    checked("traffic_agg(VARIADIC \"any\") on Citus")(lambda: any_form(conn))()

    cur = conn.cursor()
    cur.execute("DROP TABLE agg_local, agg_by_msisdn, agg_by_cell, agg_empty")
    cur.execute("DROP AGGREGATE public.traffic_agg_any(VARIADIC \"any\")")


if __name__ == "__main__":
    finish(main)
