"""bench/citus.py: run_analysis on Citus (issue 12), one node against two layouts, and how far it goes.

Run by `bash bench/run.sh citus`, against the coordinator of a local Citus
cluster (a coordinator and two workers on this machine, PG* naming the
coordinator, ENGAGE_BENCH_CITUS_WORKER_PORTS the workers on 127.0.0.1).

1. Data, made once and reused (each table's comment says what it holds):
   ENGAGE_BENCH_CITUS_ROWS generated xDR rows (engage.generate_xdr, seed 1)
   as a local table on the coordinator (the one-node reference: the same
   server, Citus loaded, the table local); the same rows hash-distributed by
   MSISDN, the rows without MSISDN in a local companion table passed as
   without_msisdn; the same rows distributed by "Start"; and, for the
   per-shard costs only, as many rows of ten times fewer subscribers
   distributed by MSISDN (colocated with the first).
2. Timed: engage.run_analysis with its defaults on the three, each in a
   fresh backend with engage.progress on, ENGAGE_BENCH_CITUS_REPS
   repetitions (default 3), the order rotated from one repetition to the
   next; medians of the wall time and of each step (the progress NOTICEs).
   Before each run the result tables are vacuumed (untimed), as in
   bench/scale.py.  The ratio to one node (issue 12's goal: at most 1.3x
   for the MSISDN layout).
3. Agreement, after the timed runs, of the last run of each layout with the
   one-node run: engage.run's counts, the cluster statistics, the top 10s,
   the application totals and top 10s, the elbow, and every user's row and
   cluster (EXCEPT ALL both ways, on the coordinator).
4. Per-shard costs, untimed by the runs: on a worker, directly on the shard
   tables, one query at a time (EXPLAIN ANALYZE, modifications rolled back),
   on ENGAGE_BENCH_CITUS_SHARDS shards (default 4, both workers), in each
   repetition: the per-user INSERT ... SELECT that run_analysis pushes down
   (on both data sets: cost per row and per user solved from the two), the
   totals and the 10 top-10 queries, the kmeans_nearest INSERT ... SELECT,
   the cluster statistics, one kmeans_step_agg scan (k = 3 and k = 10), one
   scaling_agg scan and the sample query of kmeans_fit_sampled.  The shard
   queries are written here as run_analysis and kmeans_fit_sampled write
   them (keep them in step).  On the coordinator: a distributed query over
   an empty colocated table (what each task costs the coordinator), reading
   every point through the coordinator, store_cluster_model and
   store_elbow_curve on them (the fit and the elbow of today's Citus path,
   with the coordinator backend's memory), the companion table's count,
   kmeans_fit_sampled on the distributed per-user table (its phases from
   its progress NOTICEs) and the elbow's restarts on a 32,768-point sample.
5. The projection (computed from 4, printed with the results): 1 billion
   rows and 100 million subscribers on 4, 16 and 64 workers of
   ENGAGE_BENCH_CITUS_CORES cores (default 16) with as many shards per
   worker as cores (ENGAGE_BENCH_CITUS_SHARDS_PER_WORKER): each step's
   time, the coordinator's share and the step that dominates, today
   (points gathered on the coordinator for K-means and the elbow) and with
   the split K-means (kmeans_fit_sampled; the elbow on aggregates assumed
   as ENGAGE_BENCH_CITUS_ELBOW_CANDIDATES Lloyd refinements per k, default 4).
   Assumptions, printed too: costs linear in rows and users per shard as
   measured (no spilling modelled), a worker's cores each running one
   shard query at a time, every distributed query costing the coordinator
   the measured per-task cost for each shard, the network only as the
   coordinator's cost of receiving rows over loopback.

Environment: ENGAGE_BENCH_CITUS_ROWS (default 2000000),
ENGAGE_BENCH_CITUS_REPS (default 3), ENGAGE_BENCH_CITUS_SHARDS (default 4),
ENGAGE_BENCH_CITUS_CORES (default 16), ENGAGE_BENCH_CITUS_SHARDS_PER_WORKER
(default: the cores), ENGAGE_BENCH_CITUS_ELBOW_CANDIDATES (default 4),
ENGAGE_BENCH_CITUS_WORKER_PORTS (set by bench/run.sh),
ENGAGE_BENCH_WORK_MEM (default 256MB; the workers' comes from their
configuration).

Copyright (c) 2026, engage developers
"""
import collections
import math
import os
import re
import sys
import time

import psycopg2

from common import connect, copy_seconds, env_int, median, timed

ROWS = env_int("ENGAGE_BENCH_CITUS_ROWS", 2000000)
REPS = env_int("ENGAGE_BENCH_CITUS_REPS", 3)
N_SHARDS = env_int("ENGAGE_BENCH_CITUS_SHARDS", 4)
CORES = env_int("ENGAGE_BENCH_CITUS_CORES", 16)
SHARDS_PER_WORKER = env_int("ENGAGE_BENCH_CITUS_SHARDS_PER_WORKER", CORES)
ELBOW_CANDIDATES = env_int("ENGAGE_BENCH_CITUS_ELBOW_CANDIDATES", 4)
WORKER_PORTS = [int(p) for p in os.environ.get("ENGAGE_BENCH_CITUS_WORKER_PORTS", "").split()]
WORK_MEM = os.environ.get("ENGAGE_BENCH_WORK_MEM", "256MB")
DENSE_FACTOR = 10			# the dense data set: ten times fewer subscribers
SEED = 1
OTHER_COLUMN = "Start"
PROJ_ROWS = 1000000000
PROJ_USERS = 100000000
PROJ_WORKERS = [4, 16, 64]
SAMPLE = 32768				# kmeans_fit_sampled's and the elbow's sample above 200,000 points
K_MAX = 10

MSISDN = "MSISDN/Number"
APPS = ["Email", "Gaming", "Google", "Netflix", "Other", "Social Media", "Youtube"]	# by name
LOCAL = "bench_citus_local"
BY_MSISDN = "bench_citus_msisdn"
WITHOUT = "bench_citus_without_msisdn"
BY_OTHER = "bench_citus_other"
DENSE = "bench_citus_dense"
EMPTY = "bench_citus_empty"
LAYOUTS = [("one node", LOCAL, None), ("by MSISDN", BY_MSISDN, WITHOUT), ("by Start", BY_OTHER, None)]

RESULT_TABLES = ["engage.result_%s" % t for t in ("user_engagement", "user_cluster", "cluster_stats",
                                                   "top_users", "app_totals", "top_users_per_app", "elbow")]
STEP_NOTICE = re.compile(r"analysis run \d+: ([^\n]*)\nDETAIL:\s+(\d+) ms")
STEP_NAMES = [("Citus: rows with an MSISDN repartitioned", "repartition"),
              ("Citus: per-user rows written", "per-user rows"),
              ("per-user engagement", "tops"),
              ("K-means", "kmeans"),
              ("elbow curve", "elbow"),
              ("done", "done")]
FIT_NOTICE = re.compile(r"kmeans_fit_sampled: ([^\n]*)\nDETAIL:\s+(\d+) ms")


def ident(name):
    return '"%s"' % name.replace('"', '""')


def query(conn, sql, args=None):
    cur = conn.cursor()
    cur.execute(sql, args)
    return cur.fetchall() if cur.description else None


def log(msg):
    sys.stderr.write("==> citus: %s\n" % msg)
    sys.stderr.flush()


# ---------------------------------------------------------------------------
# 1. Data

def ensure_table(conn, table, want, make):
    """Run make() unless table's comment is want; then comment and analyse it."""
    if query(conn, "SELECT obj_description(to_regclass(%s), 'pg_class')", (table,))[0][0] == want:
        return 0.0
    start = time.time()
    query(conn, "DROP TABLE IF EXISTS %s" % table)
    make()
    query(conn, "COMMENT ON TABLE %s IS '%s'" % (table, want))
    query(conn, "VACUUM ANALYZE %s" % table)
    return time.time() - start


def distribute(conn, table, source, column, where):
    query(conn, "CREATE TABLE %s (LIKE %s)" % (table, source))
    query(conn, "SELECT create_distributed_table(%s, %s)", (table, column))
    query(conn, "INSERT INTO %s SELECT * FROM %s WHERE %s" % (table, source, where))


def make_data(conn):
    base = "engage.generate_xdr rows=%d seed=%d" % (ROWS, SEED)
    made = []

    def gen_local():
        query(conn, "SELECT engage.generate_xdr(%s, %s, seed => %s)", (LOCAL, ROWS, SEED))
    made.append(ensure_table(conn, LOCAL, base, gen_local))
    notnull = "%s IS NOT NULL" % ident(MSISDN)
    made.append(ensure_table(conn, BY_MSISDN, base + "; rows with an MSISDN, distributed by it",
                             lambda: distribute(conn, BY_MSISDN, LOCAL, MSISDN, notnull)))
    made.append(ensure_table(conn, WITHOUT, base + "; rows without MSISDN",
                             lambda: query(conn, "CREATE TABLE %s AS SELECT * FROM %s WHERE %s IS NULL"
                                           % (WITHOUT, LOCAL, ident(MSISDN)))))
    made.append(ensure_table(conn, BY_OTHER, base + "; distributed by " + OTHER_COLUMN,
                             lambda: distribute(conn, BY_OTHER, LOCAL, OTHER_COLUMN, "true")))

    def gen_dense():
        query(conn, "DROP TABLE IF EXISTS bench_citus_dense_local")
        query(conn, "SELECT engage.generate_xdr('bench_citus_dense_local', %s, %s, seed => %s)",
              (ROWS, ROWS // DENSE_FACTOR, SEED))
        distribute(conn, DENSE, "bench_citus_dense_local", MSISDN, notnull)
        query(conn, "DROP TABLE bench_citus_dense_local")
    made.append(ensure_table(conn, DENSE, "engage.generate_xdr rows=%d users=%d seed=%d; rows with an MSISDN, "
                             "distributed by it" % (ROWS, ROWS // DENSE_FACTOR, SEED), gen_dense))

    def make_empty():
        query(conn, "CREATE TABLE %s (LIKE %s)" % (EMPTY, LOCAL))
        query(conn, "SELECT create_distributed_table(%s, %s, colocate_with => %s)", (EMPTY, MSISDN, BY_MSISDN))
    made.append(ensure_table(conn, EMPTY, "empty, colocated with " + BY_MSISDN, make_empty))
    return sum(made)


# ---------------------------------------------------------------------------
# 2. Timed runs

def run_analysis(table, without):
    """run_analysis in a fresh backend: (wall seconds, run id, {step: seconds})."""
    conn = connect()
    cur = conn.cursor()
    cur.execute("SET work_mem = %s", (WORK_MEM,))
    cur.execute("SET engage.progress = on")
    # psycopg2 trims a list of notices to its last 50; a deque keeps them
    # all (the split K-means' steps came after the per-user step's and
    # pushed its notices out)
    conn.notices = collections.deque()
    seconds, _ = timed(lambda: cur.execute("SELECT engage.run_analysis(%s::regclass, without_msisdn => %s::regclass)",
                                           (table, without)))
    run = cur.fetchone()[0]
    notices = list(conn.notices)
    conn.close()
    if run is None:
        raise RuntimeError("run_analysis(%s) failed: see engage.run; %s" % (table, notices[-3:]))
    steps = {}
    for notice in notices:
        m = STEP_NOTICE.search(notice)
        if not m:
            continue
        for prefix, name in STEP_NAMES:
            if m.group(1).startswith(prefix):
                steps[name] = int(m.group(2)) / 1000.0
    steps["outside the steps"] = seconds - sum(steps.values())
    return seconds, run, steps


def per_user_step(steps):
    return sum(steps.get(s, 0.0) for s in ("repartition", "per-user rows", "tops"))


# ---------------------------------------------------------------------------
# 3. Agreement

def columns(conn, table, skip=("run_id",)):
    return [c for (c,) in query(conn, """SELECT attname FROM pg_attribute WHERE attrelid = %s::regclass
                                         AND attnum > 0 AND NOT attisdropped ORDER BY attnum""", (table,))
            if c not in skip]


def differ(conn, a, b):
    """Rows of query a not in b and of b not in a (EXCEPT ALL both ways)."""
    return query(conn, "SELECT (SELECT count(*) FROM ((%s) EXCEPT ALL (%s)) x) + "
                       "(SELECT count(*) FROM ((%s) EXCEPT ALL (%s)) y)" % (a, b, b, a))[0][0]


def agreement(conn, ref, run):
    """[(what, rows compared, rows that differ)] of run against the one-node run ref."""
    out = []
    cols = "rows_read, rows_without_subscriber, rejected_values, users, k, inertia, elbow_k, elbow_sample, status"
    out.append(("engage.run's counts", 1, differ(conn, "SELECT %s FROM engage.run WHERE run_id = %d" % (cols, ref),
                                                 "SELECT %s FROM engage.run WHERE run_id = %d" % (cols, run))))
    for t in ("cluster_stats", "top_users", "app_totals", "top_users_per_app", "elbow"):
        table = "engage.result_" + t
        c = ", ".join(ident(x) for x in columns(conn, table))
        n = query(conn, "SELECT count(*) FROM %s WHERE run_id = %d" % (table, ref))[0][0]
        out.append((table, n, differ(conn, "SELECT %s FROM %s WHERE run_id = %d" % (c, table, ref),
                                     "SELECT %s FROM %s WHERE run_id = %d" % (c, table, run))))
    for local, dist in (("result_user_engagement", "distributed_user_engagement"),
                        ("result_user_cluster", "distributed_user_cluster")):
        c = ", ".join(ident(x) for x in columns(conn, "engage." + local, ("run_id", "rejected_values")))
        n = query(conn, "SELECT count(*) FROM engage.%s WHERE run_id = %d" % (local, ref))[0][0]
        out.append(("every user: engage.%s" % local, n,
                    differ(conn, "SELECT %s FROM engage.%s WHERE run_id = %d" % (c, local, ref),
                           "SELECT %s FROM engage.%s(%d)" % (c, dist, run))))
    return out


# ---------------------------------------------------------------------------
# 4. Per-shard costs

def shards(conn, table):
    """[(shard index, qualified shard name, worker port)] of table, by hash range."""
    rows = query(conn, """
        SELECT s.shardid, p.nodeport, s.shardminvalue::int
        FROM pg_dist_shard s JOIN pg_dist_placement pl USING (shardid)
        JOIN pg_dist_node p ON p.groupid = pl.groupid
        WHERE s.logicalrelid = %s::regclass ORDER BY s.shardminvalue::int""", (table,))
    name = query(conn, """SELECT n.nspname, c.relname FROM pg_class c JOIN pg_namespace n
                          ON n.oid = c.relnamespace WHERE c.oid = %s::regclass""", (table,))[0]
    return [(i, "%s.%s" % (ident(name[0]), ident("%s_%d" % (name[1], sid))), port)
            for i, (sid, port, _) in enumerate(rows)]


def pick_shards(conn):
    """N_SHARDS shard indexes, alternating between the workers."""
    by_port = {}
    for i, _, port in shards(conn, BY_MSISDN):
        by_port.setdefault(port, []).append(i)
    picked, ports = [], sorted(by_port)
    while len(picked) < N_SHARDS and any(by_port.values()):
        for p in ports:
            if by_port[p] and len(picked) < N_SHARDS:
                picked.append(by_port[p].pop(0))
    return picked


def cpu_ms(pid):
    """CPU time of process pid so far, in ms (/proc/<pid>/schedstat: nanoseconds on a CPU)."""
    with open("/proc/%d/schedstat" % pid) as f:
        return int(f.read().split()[0]) / 1e6


def worker_ms(wconn, sql):
    """(wall ms, CPU ms) of sql on a worker, the lesser of two executions under EXPLAIN ANALYZE, each
    rolled back: the wall time is EXPLAIN's execution time, the CPU time the backend's (the workers run
    on this machine)."""
    cur = wconn.cursor()
    best = None
    for _ in range(2):
        cur.execute("BEGIN")
        try:
            before = cpu_ms(wconn.get_backend_pid())
            cur.execute("EXPLAIN (ANALYZE, TIMING OFF, COSTS OFF) " + sql)
            cpu = cpu_ms(wconn.get_backend_pid()) - before
            plan = "\n".join(r[0] for r in cur.fetchall())
        finally:
            cur.execute("ROLLBACK")
        wall = float(re.search(r"Execution Time: ([0-9.]+) ms", plan).group(1))
        best = (wall, cpu) if best is None else (min(best[0], wall), min(best[1], cpu))
    return best


def user_insert_sql(target, source):
    """run_analysis's pushed-down per-user INSERT ... SELECT, on one shard."""
    app_args = ", ".join("s.%s::double precision, s.%s::double precision"
                         % (ident("%s DL (Bytes)" % a), ident("%s UL (Bytes)" % a)) for a in APPS)
    return ("INSERT INTO %s (msisdn, sessions, duration_ms, dl_bytes, ul_bytes, total_bytes, app_dl_bytes, "
            "app_ul_bytes, rejected_values) SELECT g.m, (g.e).sessions, (g.e).duration_ms, (g.e).dl_bytes, "
            "(g.e).ul_bytes, (g.e).total_bytes, (g.t).dl_bytes, (g.t).ul_bytes, "
            "(g.e).rejected_values + (g.t).rejected_values FROM (SELECT s.%s AS m, "
            "engage.engagement_agg(s.%s, s.%s, s.%s) AS e, engage.traffic_agg(%s) AS t FROM %s AS s "
            "WHERE s.%s IS NOT NULL GROUP BY 1) g"
            % (target, ident(MSISDN), ident("Dur. (ms)"), ident("Total DL (Bytes)"),
               ident("Total UL (Bytes)"), app_args, source, ident(MSISDN)))


def totals_sql(users):
    """store_user_engagement_citus's counts and application totals, on one shard."""
    parts = "".join(", engage.engagement_agg(NULL::double precision, u.app_dl_bytes[%d], u.app_ul_bytes[%d]), "
                    "count(*) FILTER (WHERE COALESCE(u.app_dl_bytes[%d], 0) + COALESCE(u.app_ul_bytes[%d], 0) > 0)"
                    % (i, i, i, i) for i in range(1, len(APPS) + 1))
    return ("SELECT COALESCE(sum(u.sessions), 0)::bigint, count(*), COALESCE(sum(u.rejected_values), 0)::bigint%s "
            "FROM %s u" % (parts, users))


def top_metric_sql(users, metric):
    return ("SELECT u.msisdn, u.%s FROM %s u WHERE u.%s IS NOT NULL ORDER BY u.%s DESC, u.msisdn LIMIT 10"
            % (metric, users, metric, metric))


def top_app_sql(users, i):
    return ("SELECT u.msisdn, u.app_dl_bytes[%d], u.app_ul_bytes[%d] FROM %s u "
            "WHERE u.app_dl_bytes[%d] IS NOT NULL OR u.app_ul_bytes[%d] IS NOT NULL "
            "ORDER BY COALESCE(u.app_dl_bytes[%d], 0) + COALESCE(u.app_ul_bytes[%d], 0) DESC, u.msisdn LIMIT 10"
            % (i, i, users, i, i, i, i))


FEATURES = ("ARRAY[u.sessions::double precision, COALESCE(u.duration_ms, 0)::double precision, "
            "COALESCE(u.total_bytes, 0)::double precision]")


def nearest_sql(clusters, users, model):
    return ("INSERT INTO %s (msisdn, cluster, distance, sessions, duration_ms, total_bytes) "
            "SELECT u.msisdn, p.cluster, p.distance, u.sessions, u.duration_ms, u.total_bytes "
            "FROM %s u CROSS JOIN LATERAL engage.kmeans_nearest('%s'::engage.kmeans_model, %s) p"
            % (clusters, users, model, FEATURES))


def stats_sql(clusters):
    return ("SELECT u.cluster, count(*), min(u.sessions), max(u.sessions), avg(u.sessions), sum(u.sessions), "
            "min(u.duration_ms), max(u.duration_ms), avg(u.duration_ms), sum(u.duration_ms), "
            "min(u.total_bytes), max(u.total_bytes), avg(u.total_bytes), sum(u.total_bytes), "
            "count(u.duration_ms), count(u.total_bytes) FROM %s u GROUP BY u.cluster" % clusters)


def step_sql(users, model):
    return "SELECT engage.kmeans_step_agg('%s'::engage.kmeans_model, %s) FROM %s u" % (model, FEATURES, users)


def scaling_sql(users):
    return "SELECT engage.scaling_agg(%s, 'zscore') FROM %s u" % (FEATURES, users)


def sample_sql(users):
    return ("SELECT %s FROM %s u ORDER BY engage.sample_hash(u.msisdn::text, 0), u.msisdn::text COLLATE \"C\", 1 "
            "LIMIT %d" % (FEATURES, users, SAMPLE))


def points_sql(users):
    """run_analysis's points query on Citus."""
    return ("SELECT u.msisdn::text, u.sessions, COALESCE(u.duration_ms, 0), COALESCE(u.total_bytes, 0) FROM %s u"
            % users)


def shard_costs(conn, run, model3, model10, picked):
    """One pass over the picked shards: {name: [(ms, rows, users)]} with the shard's rows and users."""
    users_t, clusters_t = query(conn, "SELECT user_engagement::text, user_cluster::text FROM engage.run_distributed "
                                      "WHERE run_id = %s", (run,))[0]
    src, dense, us, cl = (shards(conn, t) for t in (BY_MSISDN, DENSE, users_t, clusters_t))
    wconns = {p: psycopg2.connect(host="127.0.0.1", port=p, dbname=conn.info.dbname, user=conn.info.user)
              for p in WORKER_PORTS}
    for w in wconns.values():
        w.autocommit = True
        # one core per shard query, as the projection assumes
        query(w, "SET max_parallel_workers_per_gather = 0")
    out = {}
    try:
        for i in picked:
            port = src[i][2]
            w = wconns[port]
            assert dense[i][2] == port and us[i][2] == port and cl[i][2] == port, "shards not colocated"
            rows = query(w, "SELECT count(*) FROM %s" % src[i][1])[0][0]
            users = query(w, "SELECT count(*) FROM %s" % us[i][1])[0][0]
            d_rows, d_users = query(w, "SELECT count(*), count(DISTINCT %s) FROM %s" % (ident(MSISDN), dense[i][1]))[0]

            def add(name, t, r=rows, u=users):
                out.setdefault(name, []).append((t[1], r, u, t[0]))
            add("per-user INSERT ... SELECT", worker_ms(w, user_insert_sql(us[i][1], src[i][1])))
            add("per-user INSERT ... SELECT, dense", worker_ms(w, user_insert_sql(us[i][1], dense[i][1])),
                d_rows, d_users)
            add("counts and application totals", worker_ms(w, totals_sql(us[i][1])))
            add("top 10, each metric (3)", [sum(x) for x in zip(*(worker_ms(w, top_metric_sql(us[i][1], m))
                                               for m in ("sessions", "duration_ms", "total_bytes")))])
            add("top 10, each application (7)", [sum(x) for x in zip(*(worker_ms(w, top_app_sql(us[i][1], a))
                                                    for a in range(1, len(APPS) + 1)))])
            add("kmeans_nearest INSERT ... SELECT", worker_ms(w, nearest_sql(cl[i][1], us[i][1], model3)))
            add("cluster statistics", worker_ms(w, stats_sql(cl[i][1])))
            add("kmeans_step_agg, k = 3", worker_ms(w, step_sql(us[i][1], model3)))
            add("kmeans_step_agg, k = 10", worker_ms(w, step_sql(us[i][1], model10)))
            add("scaling_agg", worker_ms(w, scaling_sql(us[i][1])))
            add("sample query (ORDER BY sample_hash LIMIT 32768)", worker_ms(w, sample_sql(us[i][1])))
    finally:
        for w in wconns.values():
            w.close()
    return out


def rss_anon_mb(pid):
    with open("/proc/%d/status" % pid) as f:
        for line in f:
            if line.startswith("RssAnon:"):
                return int(line.split()[1]) / 1024.0
    return float("nan")


def coordinator_costs(conn, run, users_t, n_shards):
    """One pass of the coordinator's costs: {name: seconds}, and facts: the coordinator backend's CPU
    seconds of some (the workers, on the same cores, serve them meanwhile), memory, iterations."""
    out, facts = {}, {}
    cur = conn.cursor()
    pid = conn.get_backend_pid()
    # what a task costs the coordinator: a distributed query that reads nothing, 50 times
    before = cpu_ms(pid)
    walls = [timed(lambda: cur.execute("SELECT count(*) FROM %s" % EMPTY))[0] for _ in range(50)]
    out["distributed query over an empty table"] = median(walls)
    out["coordinator CPU per task (of that query)"] = (cpu_ms(pid) - before) / 1000.0 / 50 / n_shards
    before = cpu_ms(pid)
    out["reading every point through the coordinator"] = copy_seconds(conn, points_sql(users_t))
    out["coordinator CPU of reading every point"] = (cpu_ms(pid) - before) / 1000.0
    # the companion table's scan: count(*) and count(MSISDN) of the local table, per row
    out["count(*), count(MSISDN) of the local table"], _ = timed(
        lambda: cur.execute("SELECT count(*), count(%s) FROM %s" % (ident(MSISDN), LOCAL)))
    # today's fit and elbow, in a fresh backend (its memory measured)
    c2 = connect()
    k2 = c2.cursor()
    k2.execute("SET work_mem = %s", (WORK_MEM,))
    pid2 = c2.get_backend_pid()
    k2.execute("BEGIN")
    k2.execute("SET LOCAL enable_seqscan = off")
    k2.execute("SET LOCAL jit = off")
    before = rss_anon_mb(pid2)
    out["store_cluster_model (read and fit)"], _ = timed(
        lambda: k2.execute("SELECT engage.store_cluster_model(%s, %s, 3, 0)", (run, points_sql(users_t))))
    facts["fit memory MB"] = rss_anon_mb(pid2) - before
    out["store_elbow_curve (kept points)"], _ = timed(
        lambda: k2.execute("SELECT k, iterations, sample_size FROM engage.store_elbow_curve(%s, %s, %s, 0, NULL)",
                           (run, points_sql(users_t), K_MAX)))
    facts["elbow iterations"] = {k: it for k, it, _ in k2.fetchall()}
    k2.execute("ROLLBACK")
    c2.close()
    # the sample of kmeans_fit_sampled: the distributed query, then the restarts on it alone
    cur.execute("DROP TABLE IF EXISTS pg_temp.bench_sample")
    out["sample query, distributed (%d rows)" % SAMPLE], _ = timed(lambda: cur.execute(
        "CREATE TEMP TABLE bench_sample AS SELECT k, f[1] AS f1, f[2] AS f2, f[3] AS f3 FROM "
        "(SELECT u.msisdn::text AS k, %s AS f FROM %s u ORDER BY engage.sample_hash(u.msisdn::text, 0), "
        "u.msisdn::text COLLATE \"C\" LIMIT %d) x" % (FEATURES, users_t, SAMPLE)))
    out["fit restarts on the sample (kmeans_model, n_init 10)"], _ = timed(
        lambda: cur.execute("SELECT (engage.kmeans_model('SELECT * FROM bench_sample', 3, seed => 0)).inertia"))
    out["elbow restarts on the sample (elbow_inertia, n_init 30)"], _ = timed(
        lambda: cur.execute("SELECT count(*) FROM engage.elbow_inertia('SELECT * FROM bench_sample', 1, %s, "
                            "n_init => 30, sample => 0)", (K_MAX,)))
    cur.execute("DROP TABLE bench_sample")
    # the split K-means, whole
    c3 = connect()
    k3 = c3.cursor()
    k3.execute("SET work_mem = %s", (WORK_MEM,))
    k3.execute("SET engage.progress = on")
    del c3.notices[:]
    out["kmeans_fit_sampled, k = 3"], _ = timed(
        lambda: k3.execute("SELECT (engage.kmeans_fit_sampled(%s, 3)).iterations", (points_sql(users_t),)))
    facts["split iterations"] = k3.fetchone()[0]
    marks = [(m.group(1), int(m.group(2)) / 1000.0) for m in (FIT_NOTICE.search(n) for n in c3.notices) if m]
    c3.close()
    prev, steps = 0.0, []
    for what, at in marks:
        if what.startswith("scaler"):
            out["kmeans_fit_sampled: scaler"] = at - prev
        elif "restarts" in what:
            out["kmeans_fit_sampled: sample and restarts"] = at - prev
        elif what.startswith("step"):
            steps.append(at - prev)
        prev = at
    out["kmeans_fit_sampled: one Lloyd step (median)"] = median(steps) if steps else float("nan")
    return out, facts


# ---------------------------------------------------------------------------
# 5. Projection

def fit_rows_users(samples, dense_samples):
    """Per-row and per-user cost (ms) of the per-user INSERT from the two data sets: solves
    t = a rows + b users with the medians of each (rows, users, ms)."""
    r1, u1, t1 = (median([s[i] for s in samples]) for i in (1, 2, 0))
    r2, u2, t2 = (median([s[i] for s in dense_samples]) for i in (1, 2, 0))
    det = r1 * u2 - r2 * u1
    a = (t1 * u2 - t2 * u1) / det
    b = (r1 * t2 - r2 * t1) / det
    if a < 0 or b < 0:			# noise: fall back to all of it per row
        a, b = median([t1 / r1, t2 / r2]), 0.0
    return a, b


def per_user_ms(samples):
    return median([ms / u for ms, _, u, _w in samples])


def projection(costs, coord, facts, n_tasks_local):
    """The rows of the projection: {workers: (today steps, split steps)} each [(step, workers s, coordinator s)]."""
    a, b = fit_rows_users(costs["per-user INSERT ... SELECT"], costs["per-user INSERT ... SELECT, dense"])
    task = coord["coordinator CPU per task (of that query)"]		# s per task
    recv = coord["coordinator CPU of reading every point"] / facts["users"]	# s per row received
    fit = max(coord["store_cluster_model (read and fit)"] - coord["reading every point through the coordinator"],
              0.0) / facts["users"]
    restarts_fit = coord["fit restarts on the sample (kmeans_model, n_init 10)"]
    restarts_elbow = coord["elbow restarts on the sample (elbow_inertia, n_init 30)"]
    elbow = max(coord["store_elbow_curve (kept points)"] - restarts_elbow, 0.0) / facts["users"]
    without = coord["count(*), count(MSISDN) of the local table"] / facts["rows"]
    tops = per_user_ms(costs["counts and application totals"]) + per_user_ms(costs["top 10, each metric (3)"]) \
        + per_user_ms(costs["top 10, each application (7)"])
    nearest = per_user_ms(costs["kmeans_nearest INSERT ... SELECT"]) + per_user_ms(costs["cluster statistics"])
    step3 = per_user_ms(costs["kmeans_step_agg, k = 3"])
    step10 = per_user_ms(costs["kmeans_step_agg, k = 10"])
    scaling = per_user_ms(costs["scaling_agg"])
    sample = per_user_ms(costs["sample query (ORDER BY sample_hash LIMIT 32768)"])
    nosub_share = facts["rows without MSISDN"] / float(facts["rows"])
    iters = facts["elbow iterations"]
    out = {}
    for w in PROJ_WORKERS:
        shards_total = w * SHARDS_PER_WORKER
        rows_shard = PROJ_ROWS / shards_total
        users_shard = PROJ_USERS / shards_total
        waves = math.ceil(SHARDS_PER_WORKER / float(CORES))	# shard queries per core, one after the other

        def wk(per_shard_ms):		# seconds on the workers of one pushed-down query
            return waves * per_shard_ms / 1000.0

        def tasks(queries):			# the coordinator's seconds for dispatching and merging
            return queries * shards_total * task
        today = [
            ("per-user rows (INSERT ... SELECT on the shards)",
             wk(a * rows_shard + b * users_shard), tasks(1) + PROJ_ROWS * nosub_share * without),
            ("counts, totals, top 10s (11 queries)", wk(tops * users_shard), tasks(11)),
            ("K-means: points read by the coordinator, the fit there",
             0.0, PROJ_USERS * (recv + fit) + tasks(1)),
            ("K-means: kmeans_nearest INSERT ... SELECT, statistics", wk(nearest * users_shard), tasks(2)),
            ("elbow on the coordinator's points", 0.0, restarts_elbow + PROJ_USERS * elbow),
        ]
        steps_elbow = sum(iters.values()) * ELBOW_CANDIDATES
        step_k = lambda k: step3 + (step10 - step3) * (k - 3) / 7.0	# noqa: E731
        split = today[:2] + [
            ("K-means: kmeans_fit_sampled (scaler, sample, %d Lloyd steps)" % facts["split iterations"],
             wk((scaling + sample + facts["split iterations"] * step3) * users_shard),
             restarts_fit + shards_total * min(SAMPLE, users_shard) * recv + tasks(2 + facts["split iterations"])),
            today[3],
            ("elbow on aggregates (%d Lloyd steps over k = 1..%d)" % (steps_elbow, K_MAX),
             wk(sum(iters[k] * ELBOW_CANDIDATES * step_k(k) for k in iters) * users_shard),
             restarts_elbow + shards_total * min(SAMPLE, users_shard) * recv + tasks(steps_elbow + 1)),
        ]
        out[w] = (today, split)
    params = {"a": a, "b": b, "task": task, "recv": recv, "fit": fit, "elbow": elbow, "without": without}
    return out, params


# ---------------------------------------------------------------------------

def fmt(x):
    return "%.2f" % x


def main():
    conn = connect()
    cur = conn.cursor()
    cur.execute("SET client_min_messages = warning")
    load = os.getloadavg()
    log("data")
    made = make_data(conn)
    n_tasks = query(conn, "SELECT count(*) FROM pg_dist_shard WHERE logicalrelid = %s::regclass", (BY_MSISDN,))[0][0]
    rows, nosub = query(conn, "SELECT count(*), count(*) - count(%s) FROM %s" % (ident(MSISDN), LOCAL))[0]
    for t in (LOCAL, BY_MSISDN, WITHOUT, BY_OTHER):		# warm-up: into shared buffers
        query(conn, "SELECT count(*) FROM %s" % t)

    log("timed runs")
    wall = {l: [] for l, _, _ in LAYOUTS}
    steps = {l: {} for l, _, _ in LAYOUTS}
    last = {}
    loads = [load[0]]
    for rep in range(REPS):
        order = LAYOUTS[rep % 3:] + LAYOUTS[:rep % 3]
        for label, table, without in order:
            cur.execute("VACUUM " + ", ".join(RESULT_TABLES))
            seconds, run, st = run_analysis(table, without)
            log("rep %d %s: %.2f s %s" % (rep + 1, label, seconds, {k: round(v, 2) for k, v in st.items()}))
            wall[label].append(seconds)
            for k, v in st.items():
                steps[label].setdefault(k, []).append(v)
            steps[label].setdefault("per-user step", []).append(per_user_step(st))
            last[label] = run
            loads.append(os.getloadavg()[0])
    users = query(conn, "SELECT users FROM engage.run WHERE run_id = %s", (last["one node"],))[0][0]

    print("# Citus: run_analysis on a coordinator and two workers against one node\n")
    print("%s generated xDR rows (%s without MSISDN), %s users; Citus %s, %d shards per table, the coordinator "
          "and two workers on this machine (%d cores, shared); work_mem %s. one node: the table local on the "
          "coordinator; by MSISDN: hash-distributed by it, the rows without MSISDN in a local table passed as "
          "`without_msisdn`; by Start: distributed by \"Start\". %d repetitions, the order rotated; medians. "
          "Load average (1 min) during the runs: %s.%s\n"
          % (format(rows, ","), format(nosub, ","), format(users, ","),
             query(conn, "SELECT extversion FROM pg_extension WHERE extname = 'citus'")[0][0], n_tasks,
             os.cpu_count(), WORK_MEM, REPS, ", ".join("%.1f" % x for x in loads),
             " (data made in %.0f s)" % made if made else ""))
    ref = {k: median(v) for k, v in steps["one node"].items()}
    print("| step of run_analysis | one node (s) | by MSISDN (s) | / one node | by Start (s) | / one node |")
    print("|---|---:|---:|---:|---:|---:|")
    rows_def = [("repartition by MSISDN into a staging table", "repartition"),
                ("per-user rows written on the workers", "per-user rows"),
                ("counts, top 10s, application totals (one node: the whole step)", "tops"),
                ("**per-user step**", "per-user step"),
                ("K-means, k = 3, and cluster statistics", "kmeans"),
                ("elbow, k = 1..10", "elbow"),
                ("pruning, the commit, outside the steps", None)]
    for name, key in rows_def:
        cells = []
        for label in ("one node", "by MSISDN", "by Start"):
            if key is None:
                v = median([a + b for a, b in zip(steps[label]["done"], steps[label]["outside the steps"])])
            elif key in steps[label]:
                v = median(steps[label][key])
            else:
                v = None
            cells.append(v)
        base = cells[0]
        ratio = lambda v: ("%.2fx" % (v / base)) if v is not None and base else ""	# noqa: E731
        c = lambda v: fmt(v) if v is not None else ""	# noqa: E731
        if key in ("per-user rows", "repartition", "tops") or key is None:
            print("| %s | %s | %s | | %s | |" % (name, c(cells[0]), c(cells[1]), c(cells[2])))
        else:
            print("| %s | %s | %s | %s | %s | %s |" % (name, c(cells[0]), c(cells[1]), ratio(cells[1]),
                                                       c(cells[2]), ratio(cells[2])))
    w = {l: median(v) for l, v in wall.items()}
    print("| **run_analysis, wall** | **%s** | **%s** | **%.2fx** (goal 1.3x) | **%s** | **%.2fx** |"
          % (fmt(w["one node"]), fmt(w["by MSISDN"]), w["by MSISDN"] / w["one node"], fmt(w["by Start"]),
             w["by Start"] / w["one node"]))
    print("\nEvery run (s): " + "; ".join("%s %s" % (l, ", ".join(fmt(x) for x in v)) for l, v in wall.items()))
    sys.stdout.flush()

    log("agreement")
    print("\nAgreement of the last runs with the one-node run (%d), rows that differ (EXCEPT ALL both ways):\n"
          % last["one node"])
    print("| compared | rows | by MSISDN | by Start |")
    print("|---|---:|---:|---:|")
    failures = 0
    got = {l: agreement(conn, last["one node"], last[l]) for l in ("by MSISDN", "by Start")}
    for i, (what, n, d) in enumerate(got["by MSISDN"]):
        d2 = got["by Start"][i][2]
        failures += (d != 0) + (d2 != 0) + (n == 0)
        print("| %s | %s | %d | %d |" % (what, format(n, ","), d, d2))
    sys.stdout.flush()

    log("per-shard and coordinator costs")
    users_t = query(conn, "SELECT user_engagement::text FROM engage.run_distributed WHERE run_id = %s",
                    (last["by MSISDN"],))[0][0]
    model3 = query(conn, "SELECT engage.kmeans_model(%s, 3, seed => 0)::text",
                   ("SELECT * FROM (%s) p ORDER BY 1 LIMIT 20000" % points_sql(users_t),))[0][0]
    model10 = query(conn, "SELECT engage.kmeans_model(%s, 10, seed => 0)::text",
                    ("SELECT * FROM (%s) p ORDER BY 1 LIMIT 20000" % points_sql(users_t),))[0][0]
    picked = pick_shards(conn)
    costs, coord, facts = {}, {}, {}
    for rep in range(REPS):
        for k, v in shard_costs(conn, last["by MSISDN"], model3, model10, picked).items():
            costs.setdefault(k, []).extend(v)
        c, facts = coordinator_costs(conn, last["by MSISDN"], users_t, n_tasks)
        for k, v in c.items():
            coord.setdefault(k, []).append(v)
        loads.append(os.getloadavg()[0])
    coord = {k: median(v) for k, v in coord.items()}
    facts.update({"users": users, "rows": rows, "rows without MSISDN": nosub})

    print("\nPer-shard costs: on a worker, on the shard tables directly, one query at a time (EXPLAIN ANALYZE, "
          "modifications rolled back), %d shards (of %d) x %d repetitions; medians.\n" % (len(picked), n_tasks, REPS))
    print("| query on one shard | wall ms | CPU ms | rows per shard | users per shard | CPU us per row "
          "| CPU us per user |")
    print("|---|---:|---:|---:|---:|---:|---:|")
    for k, v in costs.items():
        ms, r, u, wall = (median([s[i] for s in v]) for i in range(4))
        print("| %s | %.1f | %.1f | %s | %s | %.3f | %.3f |" % (k, wall, ms, format(int(r), ","), format(int(u), ","),
                                                                 1000 * ms / r, 1000 * ms / u))
    print("\nOn the coordinator (%d tasks per distributed query here; medians of %d):\n" % (n_tasks, REPS))
    print("| what | s | per unit |")
    print("|---|---:|---|")
    per = {"coordinator CPU per task (of that query)": "%.3f ms per task" % (
        1000 * coord["coordinator CPU per task (of that query)"]),
        "reading every point through the coordinator": "%.3f us per user" % (
            1e6 * coord["reading every point through the coordinator"] / users),
        "coordinator CPU of reading every point": "%.3f us per user" % (
            1e6 * coord["coordinator CPU of reading every point"] / users),
        "count(*), count(MSISDN) of the local table": "%.3f us per row" % (
            1e6 * coord["count(*), count(MSISDN) of the local table"] / rows),
        "store_cluster_model (read and fit)": "%.3f us per user; %.0f MB of backend memory (%.0f bytes per user)"
        % (1e6 * coord["store_cluster_model (read and fit)"] / users, facts["fit memory MB"],
           facts["fit memory MB"] * 1048576 / users),
        "store_elbow_curve (kept points)": "%.3f us per user; iterations per k %s"
        % (1e6 * coord["store_elbow_curve (kept points)"] / users,
           ", ".join(str(facts["elbow iterations"][k]) for k in sorted(facts["elbow iterations"]))),
        "kmeans_fit_sampled, k = 3": "%d Lloyd steps over every point" % facts["split iterations"]}
    for k, v in coord.items():
        print("| %s | %.3f | %s |" % (k, v, per.get(k, "")))

    proj, p = projection(costs, coord, facts, n_tasks)
    print("\n## Projection: %s rows, %s subscribers\n" % (format(PROJ_ROWS, ","), format(PROJ_USERS, ",")))
    print("Computed from the costs above. Assumptions: each worker has %d cores and %d shards per table (%s "
          "shards per table at 64 workers), each core runs one shard query at a time; per shard the per-user "
          "INSERT ... SELECT costs %.3f us per row + %.3f us per user (solved from the two data sets: %.2f and "
          "%.2f rows per subscriber; projected: %d), every other shard query its measured cost per user; no "
          "spilling modelled (at 4 workers a shard holds %s users, in one hash table of work_mem); every "
          "distributed query costs the coordinator %.3f ms of CPU per shard (its backend's CPU time over an "
          "empty table's %d tasks); the network only as the coordinator's %.3f us of CPU per row received "
          "(loopback here); the coordinator's fit %.3f us per user and the elbow %.3f us per user after its "
          "restarts on the sample, linear; the rows without MSISDN (%.2f%%) in a local table, counted on the "
          "coordinator at %.3f us per row; with the split K-means, the restarts on the %d-point sample as "
          "measured and each shard sending its first %d sample rows (kmeans_fit_sampled's ORDER BY "
          "sample_hash ... LIMIT, which Citus pushes to every shard); the elbow on aggregates: for each k the "
          "restarts on the sample on the coordinator, then %d candidates refined by Lloyd steps over every "
          "point, as many steps as store_elbow_curve reported for k, each a kmeans_step_agg scan (cost between "
          "k = 3 and k = 10 linear in k).\n"
          % (CORES, SHARDS_PER_WORKER, format(64 * SHARDS_PER_WORKER, ","), 1000 * p["a"], 1000 * p["b"],
             rows / float(users), median([r / float(u) for _, r, u, _w in costs["per-user INSERT ... SELECT, dense"]]),
             PROJ_ROWS // PROJ_USERS,
             format(PROJ_USERS // (4 * SHARDS_PER_WORKER), ","), 1000 * p["task"], n_tasks, 1e6 * p["recv"],
             1e6 * p["fit"], 1e6 * p["elbow"], 100.0 * nosub / rows, 1e6 * p["without"], SAMPLE, SAMPLE,
             ELBOW_CANDIDATES))
    for name, idx in (("today (K-means and the elbow on the points gathered on the coordinator)", 0),
                      ("with the split K-means (kmeans_fit_sampled) and the elbow on aggregates", 1)):
        print("\n**%s** (seconds; workers + coordinator per step):\n" % name)
        print("| step | " + " | ".join("%d workers" % w for w in PROJ_WORKERS) + " |")
        print("|---|" + "---:|" * len(PROJ_WORKERS))
        names = [s[0] for s in proj[PROJ_WORKERS[0]][idx]]
        for j, sname in enumerate(names):
            cells = []
            for w in PROJ_WORKERS:
                _, wk, co = proj[w][idx][j]
                cells.append("%.0f (%.0f + %.0f)" % (wk + co, wk, co))
            print("| %s | %s |" % (sname, " | ".join(cells)))
        tot, share, dom = [], [], []
        for w in PROJ_WORKERS:
            st = proj[w][idx]
            t = sum(wk + co for _, wk, co in st)
            c = sum(co for _, _, co in st)
            tot.append("**%.0f** (%.1f min)" % (t, t / 60))
            share.append("%.0f%%" % (100 * c / t))
            top = max(st, key=lambda s: s[1] + s[2])
            dom.append("%s (%.0f%%)" % (top[0].split(" (")[0], 100 * (top[1] + top[2]) / t))
        print("| **total** | " + " | ".join(tot) + " |")
        print("| coordinator's share | " + " | ".join(share) + " |")
        print("| step that dominates | " + " | ".join(dom) + " |")
    if facts["fit memory MB"] > 0:
        print("\nToday's fit keeps every point in the coordinator's backend: %.0f bytes per user measured, %.1f GB "
              "for %s subscribers (engage.max_memory: %s)."
              % (facts["fit memory MB"] * 1048576 / users, facts["fit memory MB"] * 1048576 / users * PROJ_USERS / 1e9,
                 format(PROJ_USERS, ","), query(conn, "SELECT current_setting('engage.max_memory', true)")[0][0]))
    print("\nLoad average (1 min) over the whole benchmark: %s." % ", ".join("%.1f" % x for x in loads))
    if failures:
        print("\n%d agreement checks FAILED" % failures)
        sys.exit(1)


if __name__ == "__main__":
    main()
