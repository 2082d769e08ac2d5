"""bench/kmeans.py: engage's K-means and elbow against scikit-learn, same data, same run.

Points: per-user engagement (sessions, duration, traffic) of a generated xDR
data set, 1,000,000 users (and 10,000,000 for the large run).  engage: the
whole SQL call reading from the table (normalisation, canonical ordering,
clustering, the result rows).  scikit-learn: StandardScaler + KMeans(
n_clusters=3, n_init=10) on the same points already in a numpy array (its
best case: no data loading is timed).  Repetitions alternate between the
two; medians and ratios; inertias side by side.  Peak memory of the engage
backend from /proc (VmHWM of a fresh backend).
"""
import os
import sys

import numpy as np
from sklearn.cluster import KMeans
from sklearn.preprocessing import StandardScaler

from common import connect, env_int, median, peak_rss_mb, timed

REPS = env_int("ENGAGE_BENCH_KMEANS_REPS", 3)
N = env_int("ENGAGE_BENCH_KMEANS_POINTS", 1000000)
N_LARGE = env_int("ENGAGE_BENCH_KMEANS_LARGE", 10000000)
WORK_MEM = os.environ.get("ENGAGE_BENCH_WORK_MEM", "256MB")	# holds the result rows
ELBOW = env_int("ENGAGE_BENCH_KMEANS_ELBOW", 1)


def ensure_points(conn, n):
    """Table bench_points_<n>: engagement of n generated subscribers."""
    table = "bench_points_%d" % n
    cur = conn.cursor()
    cur.execute("SELECT obj_description(to_regclass(%s), 'pg_class')", (table,))
    if cur.fetchone()[0] == "engage bench points":
        return table
    rows = int(round(n * 150001 / 106856.0))
    xdr = "bench_xdr_points_%d" % n
    cur.execute("DROP TABLE IF EXISTS %s" % xdr)
    cur.execute("SELECT engage.generate_xdr(%s, %s, users => %s, seed => 5)", (xdr, rows, n))
    cur.execute("DROP TABLE IF EXISTS %s" % table)
    cur.execute('CREATE TABLE %s AS SELECT "MSISDN/Number"::bigint AS msisdn, '
                "(e).sessions::float8 AS sessions, (e).duration_ms::float8 AS duration_ms, "
                "(e).total_bytes::float8 AS total_bytes FROM (SELECT \"MSISDN/Number\", "
                'engage.engagement_agg("Dur. (ms)", "Total DL (Bytes)", "Total UL (Bytes)") AS e '
                'FROM %s WHERE "MSISDN/Number" IS NOT NULL GROUP BY 1) s' % (table, xdr))
    cur.execute("DROP TABLE %s" % xdr)
    cur.execute("VACUUM ANALYZE %s" % table)
    cur.execute("COMMENT ON TABLE %s IS 'engage bench points'" % table)
    return table


def load(conn, table):
    cur = conn.cursor()
    cur.execute("SELECT sessions, duration_ms, total_bytes FROM %s" % table)
    return np.array(cur.fetchall(), dtype=float)


def engage_cluster(conn, points, k=3):
    cur = conn.cursor()
    cur.execute("SELECT count(*) FROM engage.kmeans_cluster(%s, %s)", (points, k))
    return cur.fetchone()[0]


def engage_elbow(conn, points):
    cur = conn.cursor()
    cur.execute("SELECT k, inertia FROM engage.elbow_inertia(%s, 1, 10)", (points,))
    return dict(cur.fetchall())


def sk_cluster(X, k=3):
    Z = StandardScaler().fit_transform(X)
    return KMeans(n_clusters=k, n_init=10).fit(Z)


def sk_elbow(X):
    Z = StandardScaler().fit_transform(X)
    return {k: KMeans(n_clusters=k, n_init=10).fit(Z).inertia_ for k in range(1, 11)}


def main():
    conn = connect()
    conn.cursor().execute("SET work_mem = '%s'" % WORK_MEM)
    table = ensure_points(conn, N)
    points = "SELECT msisdn, sessions, duration_ms, total_bytes FROM %s" % table
    X = load(conn, table)
    print("# K-means benchmark\n")
    print("%d points x 3 features (sessions, duration, traffic of generated subscribers), "
          "z-scored; %d repetitions alternating; median wall time; work_mem %s.\n" % (len(X), REPS, WORK_MEM))
    print("| task | engage (s) | scikit-learn (s) | engage / scikit-learn | inertia engage | inertia scikit-learn |")
    print("|---|---:|---:|---:|---:|---:|")
    sys.stdout.flush()

    cur = conn.cursor()
    cur.execute("SELECT total_inertia FROM engage.kmeans_centroids(%s, 3) LIMIT 1", (points,))
    e_inertia = cur.fetchone()[0]
    te, ts, s_inertia = [], [], []
    for _ in range(REPS):
        te.append(timed(lambda: engage_cluster(conn, points))[0])
        t, km = timed(lambda: sk_cluster(X))
        ts.append(t)
        s_inertia.append(km.inertia_)
    print("| kmeans k = 3, n_init = 10 | %.2f | %.2f | %.2fx | %.1f | %.1f (best of runs %.1f) |"
          % (median(te), median(ts), median(te) / median(ts), e_inertia, median(s_inertia), min(s_inertia)))
    sys.stdout.flush()

    te, ts = [], []
    e_curve = s_curve = None
    for _ in range(REPS if ELBOW else 0):
        t, e_curve = timed(lambda: engage_elbow(conn, points))
        te.append(t)
        t, s_curve = timed(lambda: sk_elbow(X))
        ts.append(t)
    if ELBOW:
        worst = max(e_curve[k] / s_curve[k] - 1 for k in range(1, 11))
        print("| elbow k = 1..10, n_init = 10 | %.2f | %.2f | %.2fx | max(engage / sklearn - 1) over k: %.1e | |"
              % (median(te), median(ts), median(te) / median(ts), worst))
    sys.stdout.flush()

    if N_LARGE > 0:
        large = ensure_points(conn, N_LARGE)
        lpoints = "SELECT msisdn, sessions, duration_ms, total_bytes FROM %s" % large
        fresh = connect()
        fcur = fresh.cursor()
        fcur.execute("SET engage.max_memory = '16GB'")
        fcur.execute("SET work_mem = '%s'" % WORK_MEM)
        fcur.execute("SELECT pg_backend_pid()")
        pid = fcur.fetchone()[0]
        base = peak_rss_mb(pid)
        t, n = timed(lambda: engage_cluster(fresh, lpoints))
        peak = peak_rss_mb(pid)
        fcur.execute("SELECT total_inertia FROM engage.kmeans_centroids(%s, 3) LIMIT 1", (lpoints,))
        li = fcur.fetchone()[0]
        XL = load(conn, large)
        ts, km = timed(lambda: sk_cluster(XL))
        print("| kmeans k = 3, %d points (one run) | %.2f | %.2f | %.2fx | %.1f | %.1f |"
              % (n, t, ts, t / ts, li, km.inertia_))
        print("\nengage backend peak memory (VmHWM) for %d points: %.0f MB (%.0f MB before the call)."
              % (n, peak, base))
        fresh.close()


if __name__ == "__main__":
    main()
