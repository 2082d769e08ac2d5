"""bench/analysis.py: the whole analysis, engage's one call against the notebook pipeline.

For each size (150,001 rows, TellCo's size, and ENGAGE_BENCH_ROWS, default
10,000,000) on a generated xDR table: engage.run_analysis (per-user
engagement, top 10s, K-means k = 3, cluster statistics, application usage,
totals and top 10s, the elbow k = 1..10, everything stored in the result
tables) followed by reading the top 10s and the top-3 chart
(engage.svg_bar_chart), against bench/pandas_pipeline.py (psycopg2 COPY into
pandas, groupby, StandardScaler, KMeans(n_clusters=3, n_init=10), cluster
statistics, per-application sums and top 10s, a matplotlib chart, KMeans
inertia for k = 1..10), both from the same table in the same database.
Repetitions alternate between the two; medians and the ratio engage /
pandas.  Then the two results are compared (compare(), which bench/scale.py
uses too): top-10 lists and the application totals identical, cluster sizes
and statistics identical to scikit-learn's Lloyd run to convergence from
engage's centroids (a fixed point), inertias
(k = 3 and the elbow's) within 1e-4 relative, the same elbow k.

Environment: ENGAGE_BENCH_ANALYSIS_SIZES (default "150001 <ENGAGE_BENCH_ROWS>"),
ENGAGE_BENCH_ANALYSIS_REPS (default 3; sizes above 1,000,000 rows run once),
ENGAGE_BENCH_WORK_MEM (engage's work_mem, default 256MB).
"""
import collections
import os
import re
import sys
import time
from decimal import Decimal

import numpy as np
from sklearn.cluster import KMeans

import pandas_pipeline
from common import connect, ensure_xdr, env_int, median

# Kneedle as the kneed package does it (kneed itself is not installable here)
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "test", "python"))
from reference import kneed_reference  # noqa: E402

ROWS = env_int("ENGAGE_BENCH_ROWS", 10000000)
SIZES = [int(x) for x in os.environ.get("ENGAGE_BENCH_ANALYSIS_SIZES", "150001 %d" % ROWS).split()]
REPS = env_int("ENGAGE_BENCH_ANALYSIS_REPS", 3)
WORK_MEM = os.environ.get("ENGAGE_BENCH_WORK_MEM", "256MB")
RTOL = 1e-4


# A progress NOTICE of run_analysis: "analysis run <id>: <step>...", DETAIL "<n> ms."
STEP_NOTICE = re.compile(r"run \d+: ([^:,;\n]+).*\nDETAIL:  (\d+) ms")


def run_analysis(conn, table):
    """engage.run_analysis(table) with its defaults and engage.progress on: the run id, and the
    time of each step in seconds (from the progress NOTICEs, in the order of the steps)."""
    cur = conn.cursor()
    cur.execute("SET work_mem = %s", (WORK_MEM,))
    cur.execute("SET engage.progress = on")
    conn.notices = collections.deque()     # a list would keep only the last 50
    cur.execute("SELECT engage.run_analysis(%s::regclass)", (table,))
    run = cur.fetchone()[0]
    if run is None:
        raise RuntimeError("run_analysis failed: see engage.run")
    steps = {}
    for notice in conn.notices:
        m = STEP_NOTICE.search(notice)
        if m:
            steps[m.group(1)] = int(m.group(2)) / 1000.0
    return run, steps


def engage_run(conn, table):
    """run_analysis, then what a report reads: the top 10s and the top-3 chart."""
    run, steps = run_analysis(conn, table)
    cur = conn.cursor()
    # (the views show the latest run of each analysis: this run's, by its id)
    cur.execute("SELECT metric, rank, msisdn FROM engage.top_users WHERE run_id = %s ORDER BY 1, 2", (run,))
    tops = cur.fetchall()
    cur.execute("SELECT application, rank, msisdn FROM engage.top_users_per_app WHERE run_id = %s ORDER BY 1, 2",
                (run,))
    app_tops = cur.fetchall()
    cur.execute("SELECT engage.svg_bar_chart(array_agg(application ORDER BY rank), "
                "array_agg(total_bytes::float8 ORDER BY rank), 'Top 3 applications by traffic', "
                "'Application', 'Traffic', 'B') FROM engage.top_apps WHERE run_id = %s", (run,))
    svg = cur.fetchone()[0]
    return run, tops, app_tops, svg, steps


def msisdn_text(x):
    return "%d" % int(x)


def cluster_stats_agree(cur, run, X, km):
    """Whether engage's stored cluster statistics equal those of scikit-learn's labels km.labels_ on
    the per-user values X (sessions, duration, traffic): each engage cluster paired with the
    scikit-learn cluster of the nearest normalised centroid; users, minima, maxima and sums exact
    (integers: int64 sums), averages within 1e-15 relative (numeric's avg keeps 16 significant digits
    or more).  Returns (ok, detail)."""
    cur.execute("SELECT cluster, users, sessions_min, sessions_max, sessions_avg, sessions_total, "
                "duration_ms_min, duration_ms_max, duration_ms_avg, duration_ms_total, "
                "total_bytes_min, total_bytes_max, total_bytes_avg, total_bytes_total, centroid_normalized "
                "FROM engage.result_cluster_stats WHERE run_id = %s ORDER BY cluster", (run,))
    rows = cur.fetchall()
    paired = set()
    for row in rows:
        j = int(np.argmin(((km.cluster_centers_ - np.array(row[14])) ** 2).sum(axis=1)))
        paired.add(j)
        members = X[km.labels_ == j]
        mine = [int(row[1])]
        theirs = [len(members)]
        for f in range(3):
            col = members[:, f]
            lo, hi, avg, total = row[2 + 4 * f: 6 + 4 * f]
            exact = col.astype(np.int64)
            if not np.array_equal(exact, col):
                return False, "cluster %d: feature %d is not integer-valued" % (row[0], f)
            mine += [int(lo), int(hi), int(total)]
            theirs += [int(exact.min()), int(exact.max()), int(exact.sum())]
            want = Decimal(int(exact.sum())) / len(members)
            if abs(Decimal(avg) - want) > abs(want) * Decimal("1e-15"):
                return False, "cluster %d: average of feature %d is %s, not %s" % (row[0], f, avg, want)
        if mine != theirs:
            return False, "cluster %d: %s, scikit-learn %s" % (row[0], mine, theirs)
    if len(paired) != len(rows) or len(rows) != len(km.cluster_centers_):
        return False, "the clusters do not pair one to one"
    return True, ""


def compare(conn, run, ref, elbow_rtol=RTOL):
    """Agreement of engage's stored results with the pandas pipeline's: the counts, the top-10
    lists, the application totals and the top 3, the cluster sizes and statistics (against
    scikit-learn's Lloyd run to convergence from engage's centroids: not timed), the k = 3 inertia (within RTOL, or lower), every
    elbow inertia (at most elbow_rtol above) and the elbow k (Kneedle on scikit-learn's curve).
    Returns (checks, failures, k = 3 inertia relative to scikit-learn's, the largest relative
    excess of an elbow inertia, users that the pipeline's default tol left in another cluster)."""
    cur = conn.cursor()
    checks, bad = [], []

    def check(name, ok, detail=""):
        checks.append(name)
        if not ok:
            bad.append("%s %s" % (name, detail))

    cur.execute("SELECT rows_read, rows_without_subscriber, users, inertia, elbow_k FROM engage.run "
                "WHERE run_id = %s", (run,))
    rows, nosub, users, inertia, elbow_k = cur.fetchone()
    check("rows, rows without subscriber, users",
          (rows, nosub, users) == (ref["rows"], ref["rows_without_subscriber"], ref["users"]),
          str(((rows, nosub, users), (ref["rows"], ref["rows_without_subscriber"], ref["users"]))))
    for metric, frame in ref["tops"].items():
        cur.execute("SELECT msisdn FROM engage.result_top_users WHERE run_id = %s AND metric = %s "
                    "ORDER BY rank", (run, metric))
        mine = [r[0] for r in cur.fetchall()]
        theirs = [msisdn_text(x) for x in frame[pandas_pipeline.MSISDN]]
        check("top 10 by %s" % metric, mine == theirs, str((mine, theirs)))
    for app, frame in ref["app_tops"].items():
        cur.execute("SELECT msisdn FROM engage.result_top_users_per_app WHERE run_id = %s AND application = %s "
                    "ORDER BY rank", (run, app))
        mine = [r[0] for r in cur.fetchall()]
        theirs = [msisdn_text(x) for x in frame[pandas_pipeline.MSISDN]]
        check("top 10 of %s" % app, mine == theirs, str((mine, theirs)))
    # the pipeline's totals are float64 sums of integers: exact while below 2^53
    cur.execute("SELECT application, total_bytes FROM engage.result_app_totals WHERE run_id = %s", (run,))
    mine = {a: (None if t is None else int(t)) for a, t in cur.fetchall()}
    theirs = {a: int(t) for a, t in ref["app_totals"].items()}
    check("application totals (exact)",
          mine == theirs and all(t < 2 ** 53 for t in theirs.values()), str((mine, theirs)))
    cur.execute("SELECT application FROM engage.result_app_totals WHERE run_id = %s AND rank <= 3 "
                "ORDER BY rank", (run,))
    check("top 3 applications", [r[0] for r in cur.fetchall()] == ref["top3"])
    # run_analysis runs K-means to a fixed point of Lloyd's iteration (the
    # split K-means: restarts on a sample, exact steps); the pipeline's
    # default tol stops a few users short of a fixed point, and its
    # restarts may reach another local optimum, so the sizes and the
    # statistics are compared with scikit-learn's Lloyd run to convergence
    # from engage's centroids (which must stay where they are)
    cur.execute("SELECT users FROM engage.result_cluster_stats WHERE run_id = %s ORDER BY users", (run,))
    sizes = [int(r[0]) for r in cur.fetchall()]
    cur.execute("SELECT (cluster_model).centroids_normalized FROM engage.run WHERE run_id = %s", (run,))
    start = np.array(cur.fetchone()[0], dtype=float)
    km = KMeans(n_clusters=3, init=start, n_init=1, tol=0).fit(ref["Z"])
    converged = sorted(int(x) for x in np.bincount(km.labels_))
    check("cluster sizes (scikit-learn run to convergence from engage's centroids)", sizes == converged,
          str((sizes, converged)))
    ok, detail = cluster_stats_agree(cur, run, ref["X"], km)
    check("cluster statistics (exact, scikit-learn run to convergence from engage's centroids)", ok, detail)
    moved = sum(abs(a - b) for a, b in zip(sizes, ref["sizes"])) // 2
    rel = (inertia - ref["inertia"]) / ref["inertia"]
    check("k = 3 inertia", abs(rel) <= RTOL or rel < 0, "%.3g relative" % rel)
    cur.execute("SELECT k, inertia FROM engage.result_elbow WHERE run_id = %s ORDER BY k", (run,))
    worst = 0.0
    for k, value in cur.fetchall():
        r = (value - ref["elbow"][k]) / ref["elbow"][k] if ref["elbow"][k] > 0 else value
        worst = max(worst, r)
    check("elbow inertias k = 1..10 (at most %g above)" % elbow_rtol, worst <= elbow_rtol,
          "%.3g relative" % worst)
    ks = sorted(ref["elbow"])
    knee = kneed_reference(ks, [ref["elbow"][k] for k in ks])
    theirs = None if knee < 0 else ks[knee]
    check("elbow k (Kneedle on scikit-learn's inertias)", elbow_k == theirs, str((elbow_k, theirs)))
    return checks, bad, rel, worst, moved


def main():
    conn = connect()
    print("# The whole analysis: engage.run_analysis against pandas + scikit-learn + matplotlib\n")
    print("| xDR rows | users | engage (s) | pandas pipeline (s) | engage / pandas | speed-up | agreement |")
    print("|---:|---:|---:|---:|---:|---:|---|")
    notes = []
    failures = 0
    for size in SIZES:
        table = "bench_xdr_%d" % size
        made = ensure_xdr(conn, table, size)
        if made:
            notes.append("generated %s in %.1f s" % (table, made))
        reps = REPS if size <= 1000000 else 1
        t_engage, t_pandas = [], []
        s_engage, s_pandas = {}, {}
        run = ref = None
        for _ in range(reps):
            start = time.perf_counter()
            run, _, _, _, steps = engage_run(conn, table)
            t_engage.append(time.perf_counter() - start)
            for name, sec in steps.items():
                s_engage.setdefault(name, []).append(sec)
            start = time.perf_counter()
            ref = pandas_pipeline.run(conn, table)
            t_pandas.append(time.perf_counter() - start)
            for name, sec in ref["times"].items():
                s_pandas.setdefault(name, []).append(sec)
        checks, bad, rel, worst, moved = compare(conn, run, ref)
        failures += len(bad)
        e, p = median(t_engage), median(t_pandas)
        agree = "%d/%d checks" % (len(checks) - len(bad), len(checks))
        print("| %s | %s | %.2f | %.2f | %.3fx | %.1fx | %s |"
              % (format(size, ","), format(ref["users"], ","), e, p, e / p, p / e, agree), flush=True)
        notes.append("%s rows: engage runs %s s, pandas runs %s s; k = 3 inertia %.3g relative to "
                     "scikit-learn's (negative: lower), elbow at most %.3g above; the pipeline's "
                     "default tol left %d users in another cluster than the fixed point; %s"
                     % (format(size, ","), ", ".join("%.2f" % x for x in t_engage),
                        ", ".join("%.2f" % x for x in t_pandas), rel, worst, moved,
                        "; ".join(bad) if bad else "all checks agree"))
        notes.append("%s rows, medians of the steps: engage %s; pandas pipeline %s"
                     % (format(size, ","),
                        ", ".join("%s %.2f s" % (n, median(v)) for n, v in s_engage.items()),
                        ", ".join("%s %.2f s" % (n, median(v)) for n, v in s_pandas.items())))
    print()
    for n in notes:
        print("- " + n)
    print("- engage: work_mem %s; %d repetitions (sizes above 1,000,000 rows: 1), alternating, medians"
          % (WORK_MEM, REPS))
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
