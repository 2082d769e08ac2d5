"""bench/options.py: issue 14's clustering options against scikit-learn, same data, same run.

Points: the per-user engagement of bench/kmeans.py (1,000,000 generated
subscribers: sessions, duration, traffic), table bench_points_1000000.

1. Clusters per group.  The users fall into 100 groups of about 10,000
   (msisdn % 100, a column g with an index), and each group is clustered
   with k = 3, zscore, n_init 10:
   - engage's window function: kmeans(ARRAY[...], 3) OVER (PARTITION BY g),
     one statement over the table;
   - kmeans_cluster called once per group: one statement, a LATERAL call per
     group whose points query reads its group through the index;
   - scikit-learn: StandardScaler + KMeans(n_clusters=3, n_init=10) per
     group, on the points already in numpy arrays (not timed: its best case),
     with its default OpenMP threads (2 here, as engage.threads) and with one
     (threadpoolctl): on a busy machine its threads spin-wait for each other
     on every small group, so the two-thread times swing by 10x.
   Wall times of the statements (their rows counted in the server), medians
   over repetitions that alternate the three; the share of rows to which the
   window function and kmeans_cluster give the same cluster (they are the
   same clustering up to the points' order, which steers k-means++).
2. The quality indexes at 1,000,000 points, per k: engage's
   ecore_cluster_scores (behind test/unit/kmeans_cli: the time of the two
   indexes together, the best of ENGAGE_BENCH_OPTIONS_SCORE_REPS) against
   scikit-learn's davies_bouldin_score + calinski_harabasz_score on the same
   z-scored points and the same labels (median of as many repetitions); the
   values must agree within 1e-9 relative.  In elbow_inertia this is the
   cost that the indexes add to each k of the curve.

Environment: ENGAGE_BENCH_OPTIONS_REPS (default 3),
ENGAGE_BENCH_OPTIONS_SCORE_REPS (default 5), ENGAGE_BENCH_OPTIONS_KS
(default 2,3,5,8,10).  Prints Markdown; bench/run.sh options saves it to
bench/results/options.md.
"""
import os
import subprocess
import sys
import tempfile

import numpy as np
from sklearn.cluster import KMeans
from sklearn.metrics import calinski_harabasz_score, davies_bouldin_score
from sklearn.preprocessing import StandardScaler
from threadpoolctl import threadpool_limits

from common import connect, env_int, median, timed
from kmeans import ensure_points

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
REPS = env_int("ENGAGE_BENCH_OPTIONS_REPS", 3)
SCORE_REPS = env_int("ENGAGE_BENCH_OPTIONS_SCORE_REPS", 5)
KS = [int(k) for k in os.environ.get("ENGAGE_BENCH_OPTIONS_KS", "2,3,5,8,10").split(",")]
GROUPS = 100


def ensure_groups(conn, points):
    """Table <points>_groups: the points with g = msisdn % 100, indexed on g."""
    table = points + "_groups"
    cur = conn.cursor()
    cur.execute("SELECT obj_description(to_regclass(%s), 'pg_class')", (table,))
    if cur.fetchone()[0] == "engage bench groups":
        return table
    cur.execute("DROP TABLE IF EXISTS %s" % table)
    cur.execute("CREATE TABLE %s AS SELECT msisdn, (msisdn %% %d)::int AS g, sessions, duration_ms, "
                "total_bytes FROM %s" % (table, GROUPS, points))
    cur.execute("CREATE INDEX ON %s (g)" % table)
    cur.execute("VACUUM ANALYZE %s" % table)
    cur.execute("COMMENT ON TABLE %s IS 'engage bench groups'" % table)
    return table


def one_value(conn, sql):
    cur = conn.cursor()
    cur.execute(sql)
    return cur.fetchone()[0]


def bench_groups(conn, table):
    window = ("SELECT count(c) FROM (SELECT engage.kmeans(ARRAY[sessions, duration_ms, total_bytes], 3) "
              "OVER (PARTITION BY g) AS c FROM %s) s" % table)
    per_group = ("SELECT count(c.cluster) FROM generate_series(0, %d) g, LATERAL engage.kmeans_cluster("
                 "format('SELECT msisdn, sessions, duration_ms, total_bytes FROM %s WHERE g = %%s', g), 3) c"
                 % (GROUPS - 1, table))
    cur = conn.cursor()
    cur.execute("SELECT g, sessions, duration_ms, total_bytes FROM %s" % table)
    rows = np.array(cur.fetchall(), dtype=float)
    groups = [rows[rows[:, 0] == g][:, 1:] for g in range(GROUPS)]

    def sklearn_groups():
        total = 0
        for X in groups:
            km = KMeans(n_clusters=3, n_init=10, random_state=0).fit(StandardScaler().fit_transform(X))
            total += len(km.labels_)
        return total

    def sklearn_groups_1():
        with threadpool_limits(limits=1):
            return sklearn_groups()

    times = {"window": [], "per_group": [], "sklearn": [], "sklearn1": []}
    for rep in range(REPS):
        order = ["window", "per_group", "sklearn", "sklearn1"]
        if rep % 2:
            order.reverse()
        for name in order:
            if name == "window":
                t, n = timed(lambda: one_value(conn, window))
            elif name == "per_group":
                t, n = timed(lambda: one_value(conn, per_group))
            elif name == "sklearn":
                t, n = timed(sklearn_groups)
            else:
                t, n = timed(sklearn_groups_1)
            assert n == len(rows), "%s: %d rows of %d" % (name, n, len(rows))
            times[name].append(t)
    same = one_value(conn, (
        "SELECT avg((w.c = k.cluster)::int) FROM (SELECT msisdn::text AS key, g, engage.kmeans(ARRAY[sessions, "
        "duration_ms, total_bytes], 3) OVER (PARTITION BY g) AS c FROM {t}) w JOIN (SELECT g, c.key, c.cluster "
        "FROM generate_series(0, {m}) g, LATERAL engage.kmeans_cluster(format('SELECT msisdn, sessions, "
        "duration_ms, total_bytes FROM {t} WHERE g = %s', g), 3) c) k USING (g, key)").format(t=table, m=GROUPS - 1))
    w, p, s = (median(times[x]) for x in ("window", "per_group", "sklearn"))
    print("## Clusters per group: %d groups of about %d points (k = 3, zscore, n_init 10)\n"
          % (GROUPS, len(rows) // GROUPS))
    print("| contender | median (s) | runs (s) | engage window / contender |")
    print("|---|---:|---|---:|")
    for name, label in (("window", "engage `kmeans(...) OVER (PARTITION BY g)`"),
                        ("per_group", "engage `kmeans_cluster` once per group"),
                        ("sklearn", "scikit-learn per group (arrays in memory), 2 threads"),
                        ("sklearn1", "scikit-learn per group (arrays in memory), 1 thread")):
        print("| %s | %.2f | %s | %.2fx |" % (label, median(times[name]),
                                             ", ".join("%.2f" % t for t in times[name]), w / median(times[name])))
    print("\nRows with the same cluster from the window function and from kmeans_cluster: %.4f\n" % float(same))
    return w, p, s


def bench_scores(conn, points):
    cli = os.path.join(ROOT, "test/unit/build/kmeans_cli")
    subprocess.run(["make", "-s", "-C", os.path.join(ROOT, "test/unit"), "cli"], check=True,
                   stdout=subprocess.DEVNULL)
    cur = conn.cursor()
    cur.execute("SELECT sessions, duration_ms, total_bytes FROM %s ORDER BY msisdn" % points)
    X = np.array(cur.fetchall(), dtype=float)
    n, d = X.shape
    print("## Davies-Bouldin + Calinski-Harabasz at %d points, per k\n" % n)
    print("| k | engage (ms, best of %d) | scikit-learn (ms, median of %d) | engage / scikit-learn | "
          "Davies-Bouldin | Calinski-Harabasz | max relative difference |" % (SCORE_REPS, SCORE_REPS))
    print("|---:|---:|---:|---:|---:|---:|---:|")
    with tempfile.TemporaryDirectory(prefix="engage-bench-options.") as tmp:
        raw = os.path.join(tmp, "points.f64")
        X.astype("<f8").tofile(raw)
        for k in KS:
            labels_file = os.path.join(tmp, "labels.txt")
            scaled_file = os.path.join(tmp, "scaled.f64")
            out = subprocess.run([cli, "raw", raw, str(n), str(d), "--k", str(k), "--n-init", "1",
                                  "--scores", str(SCORE_REPS), "--labels-out", labels_file,
                                  "--scaled-out", scaled_file], check=True, capture_output=True,
                                 text=True).stdout
            vals = dict(line.split(" ", 1) for line in out.splitlines() if " " in line)
            db, ch = float(vals["davies_bouldin"]), float(vals["calinski_harabasz"])
            t_engage = float(vals["time_scores"])
            Z = np.fromfile(scaled_file, dtype="<f8").reshape(n, d)
            L = np.loadtxt(labels_file, dtype=np.int64)
            ts = []
            for _ in range(SCORE_REPS):
                t, (rdb, rch) = timed(lambda: (davies_bouldin_score(Z, L), calinski_harabasz_score(Z, L)))
                ts.append(t)
            r = max(abs(db - rdb) / rdb, abs(ch - rch) / rch)
            assert r <= 1e-9, "k = %d: (%r, %r) vs (%r, %r)" % (k, db, ch, rdb, rch)
            print("| %d | %.1f | %.1f | %.3fx | %.6f | %.1f | %.1e |" % (
                k, t_engage * 1e3, median(ts) * 1e3, t_engage / median(ts), db, ch, r))
    print()


def main():
    conn = connect()
    points = ensure_points(conn, 1000000)
    table = ensure_groups(conn, points)
    print("# bench/options.py: issue 14's clustering options against scikit-learn\n")
    bench_groups(conn, table)
    bench_scores(conn, points)
    conn.close()


if __name__ == "__main__":
    sys.exit(main())
