"""test/python/test_clustering_options.py: the clustering options of issue 14
against scikit-learn.

Run by scripts/test.sh with Debian's python3 (python3-sklearn, -pandas,
-psycopg2) against the throwaway cluster it started (PGHOST, PGPORT, PGUSER).
On the real per-user aggregates of TellCo (test/data/user_engagement_real.csv,
106,855 users: heavy-tailed traffic, most users with one session) and on
generated columns (heavy tails, runs of ties, every small n):
- the normalizations 'log' (FunctionTransformer(np.log1p) then StandardScaler)
  and 'robust' (RobustScaler, quantile_range (25, 75)): scaling_params,
  normalize_points, and a 'log' model's kmeans_predict;
- the Davies-Bouldin and Calinski-Harabasz indexes of kmeans_centroids and
  of elbow_inertia (each k) against sklearn.metrics on the same labels;
- the window function kmeans: per group the clusters of scikit-learn's
  KMeans (adjusted Rand index 1 on separated groups), whatever the row order.
engage's log1p is the C library's, as Python's math.log1p; numpy's
vectorised np.log1p can differ from it by one unit in the last place (on
this machine it does for about a quarter of the values), so the
comparisons with np.log1p allow 1e-13 and those with math.log1p are exact.
Prints one line per check and ends with "N passed, N failed".
"""
import math
import os

import numpy as np
import pandas as pd
from sklearn.cluster import KMeans
from sklearn.metrics import (adjusted_rand_score, calinski_harabasz_score,
                             davies_bouldin_score)
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import FunctionTransformer, RobustScaler, StandardScaler

from helpers import checked, finish, fresh_database, query

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
DB = "engage_python_options"
FEATURES = ["sessions", "duration_ms", "total_bytes"]
POINTS = "SELECT msisdn, sessions, duration_ms, total_bytes FROM users"


def rel(a, b):
    a, b = np.asarray(a, float), np.asarray(b, float)
    return float(np.max(np.abs(a - b) / np.maximum(np.abs(b), 1e-300)))


def math_log1p(X):
    """log1p of every value with the C library's log1p (Python's math.log1p)."""
    return np.vectorize(math.log1p, otypes=[float])(X)


def setup():
    conn = fresh_database(DB)
    cur = conn.cursor()
    cur.execute("CREATE TABLE users (msisdn float8, label int, sessions float8, "
                "duration_ms float8, total_bytes float8)")
    with open(os.path.join(ROOT, "test/data/user_engagement_real.csv")) as f:
        cur.copy_expert("COPY users FROM STDIN CSV HEADER", f)
    keys = [r[0] for r in query(conn, "SELECT msisdn::text FROM users ORDER BY users.msisdn")]
    df = pd.read_csv(os.path.join(ROOT, "test/data/user_engagement_real.csv"))
    df.columns = ["msisdn", "label"] + FEATURES
    df = df.sort_values("msisdn", kind="stable")
    return conn, df[FEATURES], keys


def params(conn, points, method, names):
    rows = query(conn, "SELECT scale, shift FROM engage.scaling_params(%s, %s) "
                 "ORDER BY array_position(%s, feature)", (points, method, names))
    return np.array([r[0] for r in rows]), np.array([r[1] for r in rows])


@checked("scaling_params log = log1p then StandardScaler, real data (1e-14 relative; np.log1p: 1e-13)")
def t_log_params(conn, df):
    # the sums run over the points in engage's canonical order, scikit-learn's
    # in the table's: the log1p values are not integers, so the last bits of
    # a sum depend on that order
    scale, shift = params(conn, POINTS, "log", FEATURES)
    ref = StandardScaler().fit(pd.DataFrame(math_log1p(df.to_numpy()), columns=FEATURES))
    r1 = max(rel(scale, ref.scale_), rel(shift, ref.mean_))
    assert r1 <= 1e-14, "scale %r vs %r, shift %r vs %r" % (scale, ref.scale_, shift, ref.mean_)
    pipe = make_pipeline(FunctionTransformer(np.log1p), StandardScaler()).fit(df)
    r = max(rel(scale, pipe[1].scale_), rel(shift, pipe[1].mean_))
    assert r <= 1e-13, "relative difference %g with np.log1p" % r
    return "(math.log1p within %.1e, np.log1p within %.1e)" % (r1, r)


@checked("scaling_params robust = RobustScaler, real data (identical)")
def t_robust_params(conn, df):
    scale, shift = params(conn, POINTS, "robust", FEATURES)
    ref = RobustScaler().fit(df)
    assert np.array_equal(scale, ref.scale_) and np.array_equal(shift, ref.center_), \
        "scale %r vs %r, center %r vs %r" % (scale, ref.scale_, shift, ref.center_)
    return "(center %s, scale %s)" % (list(shift), list(scale))


@checked("normalize_points log and robust = the scikit-learn transforms, real data")
def t_normalize(conn, df, keys):
    out = []
    for method, ref, tol in (
            ("log", StandardScaler().fit_transform(pd.DataFrame(math_log1p(df.to_numpy()),
                                                                columns=FEATURES)), 1e-13),
            ("log", make_pipeline(FunctionTransformer(np.log1p), StandardScaler()).fit_transform(df),
             1e-12),
            ("robust", RobustScaler().fit_transform(df), 0.0)):
        rows = dict(query(conn, "SELECT key, features FROM engage.normalize_points(%s, %s)",
                          (POINTS, method)))
        E = np.array([rows[k] for k in keys])
        d = float(np.max(np.abs(E - ref) / np.maximum(1.0, np.abs(ref))))
        assert d <= tol, "%s: max difference %g" % (method, d)
        out.append("%s %.1e" % (method, d))
    return "(max differences: %s)" % ", ".join(out)


@checked("robust and log on generated columns: heavy tails, ties, n = 1..12 and larger")
def t_generated(conn):
    rng = np.random.default_rng(14)
    cur = conn.cursor()
    cases = 0
    for n in list(range(1, 13)) + [99, 100, 1001, 5000]:
        X = np.column_stack([
            rng.lognormal(8, 3, n),                    # heavy tail
            np.floor(rng.random(n) * 3),               # three values, ties
            np.where(rng.random(n) < 0.7, 0.0, rng.pareto(1.2, n) * 1e6),  # mostly zero
            np.full(n, 5.0),                           # constant: scale 1
            rng.normal(0, 1, n) * 1e-3 + 1e6,          # large offset
        ])
        cur.execute("DROP TABLE IF EXISTS g")
        cur.execute("CREATE TABLE g (id int, f double precision[])")
        cur.executemany("INSERT INTO g VALUES (%s, %s)", [(i, list(map(float, X[i]))) for i in range(n)])
        names = ["f%d" % (j + 1) for j in range(X.shape[1])]
        scale, shift = params(conn, "SELECT id, f FROM g", "robust", names)
        ref = RobustScaler().fit(X)
        assert np.array_equal(scale, ref.scale_) and np.array_equal(shift, ref.center_), \
            "n = %d: robust scale %r vs %r, center %r vs %r" % (n, scale, ref.scale_, shift, ref.center_)
        scale, shift = params(conn, "SELECT id, f FROM g", "log", names)
        ref = StandardScaler().fit(pd.DataFrame(math_log1p(X)))
        # the std of a column whose log1p values barely move (column 5) is
        # ill-conditioned: the order of the sums moves it by a few eps x |mean|
        ok_scale = np.all(np.abs(scale - ref.scale_) <= 1e-13 * ref.scale_ + 64 * 2.2e-16 * np.abs(ref.mean_))
        assert ok_scale and rel(shift, ref.mean_) <= 1e-13, \
            "n = %d: log scale - sklearn %r, shift - sklearn %r" % (n, scale - ref.scale_, shift - ref.mean_)
        cases += 1
    return "(%d column sets)" % cases


@checked("kmeans_predict with a log model = log1p, scaled, nearest normalised centroid")
def t_predict_log(conn, df):
    model = query(conn, "SELECT engage.kmeans_model(%s, 4, 'log')::text", (POINTS,))[0][0]
    rows = query(conn, "SELECT (m).scale, (m).shift, (m).centroids_normalized, (m).normalization "
                 "FROM (SELECT %s::engage.kmeans_model AS m) s", (model,))[0]
    scale, shift, C, norm = np.array(rows[0]), np.array(rows[1]), np.array(rows[2]), rows[3]
    assert norm == "log", norm
    rng = np.random.default_rng(3)
    new = df.to_numpy()[rng.integers(0, len(df), 500)] * rng.uniform(0.5, 2.0, (500, 3))
    cur = conn.cursor()
    cur.execute("DROP TABLE IF EXISTS newpts")
    cur.execute("CREATE TABLE newpts (i int, x double precision[])")
    cur.executemany("INSERT INTO newpts VALUES (%s, %s)", [(i, list(map(float, v))) for i, v in enumerate(new)])
    mine = [r[0] for r in query(conn, "SELECT engage.kmeans_predict(%s::engage.kmeans_model, x) "
                                "FROM newpts ORDER BY i", (model,))]
    Zn = (math_log1p(new) - shift) / scale
    ref = np.argmin(((Zn[:, None, :] - C[None, :, :]) ** 2).sum(axis=2), axis=1) + 1
    differ = int(np.sum(np.array(mine) != ref))
    assert differ == 0, "%d of 500 clusters differ" % differ
    return "(500 new points)"


def scores(Z, labels):
    return davies_bouldin_score(Z, labels), calinski_harabasz_score(Z, labels)


@checked("kmeans_centroids davies_bouldin, calinski_harabasz = sklearn.metrics on its labels (1e-9)")
def t_centroid_scores(conn, keys):
    out = []
    for method, k in (("zscore", 4), ("log", 3), ("robust", 5), ("none", 2)):
        rows = query(conn, "SELECT davies_bouldin, calinski_harabasz FROM "
                     "engage.kmeans_centroids(%s, %s, %s)", (POINTS, k, method))
        assert len(set(rows)) == 1, "the scores differ between the rows"
        db, ch = rows[0]
        lab = dict(query(conn, "SELECT key, cluster FROM engage.kmeans_cluster(%s, %s, %s)",
                         (POINTS, k, method)))
        Z = dict(query(conn, "SELECT key, features FROM engage.normalize_points(%s, %s)", (POINTS, method)))
        Zm = np.array([Z[x] for x in keys])
        L = np.array([lab[x] for x in keys])
        rdb, rch = scores(Zm, L)
        r = max(rel(db, rdb), rel(ch, rch))
        assert r <= 1e-9, "%s k = %d: (%r, %r) vs (%r, %r)" % (method, k, db, ch, rdb, rch)
        out.append("%s %.1e" % (method, r))
    return "(%s)" % ", ".join(out)


@checked("elbow_inertia davies_bouldin, calinski_harabasz at each k = sklearn.metrics (1e-9)")
def t_elbow_scores(conn, keys):
    out = []
    for method, sample in (("log", 0), ("robust", 20000)):
        rows = query(conn, "SELECT k, davies_bouldin, calinski_harabasz, centroids_normalized "
                     "FROM engage.elbow_inertia(%s, 1, 6, %s, sample => %s) ORDER BY k",
                     (POINTS, method, sample))
        Z = dict(query(conn, "SELECT key, features FROM engage.normalize_points(%s, %s)", (POINTS, method)))
        Zm = np.array([Z[x] for x in keys])
        worst = 0.0
        for k, db, ch, C in rows:
            if k == 1:
                assert db is None and ch is None, "k = 1: %r %r" % (db, ch)
                continue
            C = np.array(C)
            # the labels of the curve's k: each point's nearest centroid
            D = ((Zm[:, None, :] - C[None, :, :]) ** 2).sum(axis=2)
            L = np.argmin(D, axis=1)
            rdb, rch = scores(Zm, L)
            r = max(rel(db, rdb), rel(ch, rch))
            assert r <= 1e-9, "%s k = %d: (%r, %r) vs (%r, %r)" % (method, k, db, ch, rdb, rch)
            worst = max(worst, r)
        out.append("%s %.1e" % (method, worst))
    return "(%s)" % ", ".join(out)


@checked("window kmeans per group = scikit-learn KMeans per group (ARI 1), any row order")
def t_window(conn):
    rng = np.random.default_rng(7)
    cur = conn.cursor()
    cur.execute("DROP TABLE IF EXISTS w")
    cur.execute("CREATE TABLE w (id int, grp int, f double precision[])")
    rows, truth = [], {}
    for g in range(5):
        centres = rng.uniform(-50, 50, (3, 2)) + np.array([[0, 0], [200, 0], [0, 200]])
        for i in range(300):
            c = i % 3
            x = centres[c] + rng.normal(0, 1, 2)
            rows.append((g * 1000 + i, g, [float(x[0]), float(x[1])]))
            truth[g * 1000 + i] = c
    cur.executemany("INSERT INTO w VALUES (%s, %s, %s)", rows)
    res = {}
    for order in ("id", "id DESC", "random()"):
        got = dict(query(conn, "SELECT id, engage.kmeans(f, 3) OVER (PARTITION BY grp) FROM "
                     "(SELECT * FROM w ORDER BY %s) s" % order))
        if res:
            assert got == res, "the clusters depend on the row order (%s)" % order
        res = got
    for g in range(5):
        ids = [r[0] for r in rows if r[1] == g]
        X = np.array([r[2] for r in rows if r[1] == g])
        sk = KMeans(n_clusters=3, n_init=10, random_state=0).fit(StandardScaler().fit_transform(X))
        ari = adjusted_rand_score(sk.labels_, [res[i] for i in ids])
        assert ari == 1.0, "group %d: adjusted Rand index %g" % (g, ari)
    return "(5 groups of 300 points, 3 row orders)"


def main():
    conn, df, keys = setup()
    t_log_params(conn, df)
    t_robust_params(conn, df)
    t_normalize(conn, df, keys)
    t_generated(conn)
    t_predict_log(conn, df)
    t_centroid_scores(conn, keys)
    t_elbow_scores(conn, keys)
    t_window(conn)
    conn.close()


if __name__ == "__main__":
    finish(main)
