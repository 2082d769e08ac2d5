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
pandas.  Then the two results are compared: top-10 lists identical, cluster
sizes identical, inertias (k = 3 and the elbow's) within 1e-4 relative.

Environment: ENGAGE_BENCH_ANALYSIS_SIZES (default "150001 <ENGAGE_BENCH_ROWS>"),
ENGAGE_BENCH_ANALYSIS_REPS (default 3; sizes above 1,000,000 rows run once),
ENGAGE_BENCH_WORK_MEM (engage's work_mem, default 256MB).
"""
import os
import re
import sys
import time

import numpy as np
from sklearn.cluster import KMeans

import pandas_pipeline
from common import connect, ensure_xdr, env_int, median

ROWS = env_int("ENGAGE_BENCH_ROWS", 10000000)
SIZES = [int(x) for x in os.environ.get("ENGAGE_BENCH_ANALYSIS_SIZES", "150001 %d" % ROWS).split()]
REPS = env_int("ENGAGE_BENCH_ANALYSIS_REPS", 3)
WORK_MEM = os.environ.get("ENGAGE_BENCH_WORK_MEM", "256MB")
RTOL = 1e-4


def engage_run(conn, table):
    """run_analysis, then what a report reads: the top 10s and the top-3 chart."""
    cur = conn.cursor()
    cur.execute("SET work_mem = %s", (WORK_MEM,))
    cur.execute("SET engage.progress = on")
    del conn.notices[:]
    cur.execute("SELECT engage.run_analysis(%s::regclass)", (table,))
    run = cur.fetchone()[0]
    if run is None:
        raise RuntimeError("run_analysis failed: see engage.run")
    # the steps' times, from the progress NOTICEs ("...: <step>...\nDETAIL:  <n> ms.")
    steps = {}
    for notice in conn.notices:
        m = re.search(r"run \d+: ([^:,\n]+).*\nDETAIL:  (\d+) ms", notice)
        if m:
            steps[m.group(1)] = int(m.group(2)) / 1000.0
    cur.execute("SELECT metric, rank, msisdn FROM engage.top_users ORDER BY 1, 2")
    tops = cur.fetchall()
    cur.execute("SELECT application, rank, msisdn FROM engage.top_users_per_app ORDER BY 1, 2")
    app_tops = cur.fetchall()
    cur.execute("SELECT engage.svg_bar_chart(array_agg(application ORDER BY rank), "
                "array_agg(total_bytes::float8 ORDER BY rank), 'Top 3 applications by traffic', "
                "'Application', 'Traffic', 'B') FROM engage.top_apps")
    svg = cur.fetchone()[0]
    return run, tops, app_tops, svg, steps


def msisdn_text(x):
    return "%d" % int(x)


def compare(conn, run, ref):
    """Agreement of engage's stored results with the pandas pipeline's; returns (checks, failures)."""
    cur = conn.cursor()
    checks, bad = [], []

    def check(name, ok, detail=""):
        checks.append(name)
        if not ok:
            bad.append("%s %s" % (name, detail))

    cur.execute("SELECT rows_read, rows_without_subscriber, users, inertia FROM engage.run WHERE run_id = %s",
                (run,))
    rows, nosub, users, inertia = cur.fetchone()
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
    cur.execute("SELECT application FROM engage.result_app_totals WHERE run_id = %s AND rank <= 3 "
                "ORDER BY rank", (run,))
    check("top 3 applications", [r[0] for r in cur.fetchall()] == ref["top3"])
    # run_analysis runs K-means to convergence (tol 0); the pipeline's default
    # tol stops a few users short of the fixed point, so the sizes are
    # compared with scikit-learn run to convergence too (not timed)
    cur.execute("SELECT users FROM engage.result_cluster_stats WHERE run_id = %s ORDER BY users", (run,))
    sizes = [int(r[0]) for r in cur.fetchall()]
    km = KMeans(n_clusters=3, n_init=10, random_state=ref["seed"], tol=0).fit(ref["Z"])
    converged = sorted(int(x) for x in np.bincount(km.labels_))
    check("cluster sizes (scikit-learn run to convergence)", sizes == converged, str((sizes, converged)))
    moved = sum(abs(a - b) for a, b in zip(sizes, ref["sizes"])) // 2
    rel = (inertia - ref["inertia"]) / ref["inertia"]
    check("k = 3 inertia", abs(rel) <= RTOL or rel < 0, "%.3g relative" % rel)
    cur.execute("SELECT k, inertia FROM engage.result_elbow WHERE run_id = %s ORDER BY k", (run,))
    worst = 0.0
    for k, value in cur.fetchall():
        r = (value - ref["elbow"][k]) / ref["elbow"][k] if ref["elbow"][k] > 0 else value
        worst = max(worst, r)
    check("elbow inertias k = 1..10", worst <= RTOL, "%.3g relative" % worst)
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
