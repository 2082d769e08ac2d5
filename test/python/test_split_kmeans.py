"""test/python/test_split_kmeans.py: the split K-means (issue 12:
kmeans_steps_agg, elbow_fit_sampled, kmeans_fit_sampled, scaling_agg)
against scikit-learn.

Run by scripts/test.sh with Debian's python3 (python3-sklearn, -pandas,
-psycopg2) against the throwaway cluster it started (PGHOST, PGPORT, PGUSER),
on the real per-user aggregates of TellCo (test/data/user_engagement_real.csv,
106,855 users) and on generated blobs:
- the Davies-Bouldin and Calinski-Harabasz indexes of elbow_fit_sampled (each
  k, on aggregates and in memory: the same bits) against
  sklearn.metrics.davies_bouldin_score / calinski_harabasz_score of the labels
  of its centroids (each point's nearest centroid in the normalised space);
- those of kmeans_steps_agg: with the centroids as centres at a fixed point
  (a kmeans_fit_sampled model), and with the means of the clusters as centres
  (the next centroids of a step) for centroids that are not a fixed point;
- the normalizations log and robust of the split K-means: robust's scaler of
  kmeans_fit_sampled (exact quantiles in passes of quantile_pass_agg) equal to
  RobustScaler bit for bit, log's (scaling_agg: exact sums of ln(1 + x)) to
  log1p then StandardScaler (1e-13: numpy's vectorised np.log1p can differ
  from the C library's in the last place; 1e-14 against math.log1p); the
  elbow of both (each k's inertia of its centroids on the scikit-learn-
  normalised points, and its indexes, against numpy and sklearn.metrics),
  on aggregates and in memory the same rows.
Prints one line per check and ends with "N passed, N failed".
"""
import math
import os
from fractions import Fraction

import numpy as np
from sklearn.metrics import calinski_harabasz_score, davies_bouldin_score
from sklearn.preprocessing import RobustScaler, StandardScaler

from helpers import checked, finish, fresh_database, query

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
DB = "engage_python_split"
FEATURES = ["sessions", "duration_ms", "total_bytes"]
POINTS = "SELECT msisdn, sessions, duration_ms, total_bytes FROM users"


def rel(a, b):
    a, b = np.asarray(a, float), np.asarray(b, float)
    return float(np.max(np.abs(a - b) / np.maximum(np.abs(b), 1e-300)))


def setup():
    conn = fresh_database(DB)
    cur = conn.cursor()
    cur.execute("CREATE TABLE users (msisdn float8, label int, sessions float8, "
                "duration_ms float8, total_bytes float8)")
    with open(os.path.join(ROOT, "test/data/user_engagement_real.csv")) as f:
        cur.copy_expert("COPY users FROM STDIN CSV HEADER", f)
    # generated: five blobs of 3,000 points in 4 features
    rng = np.random.default_rng(12)
    centers = rng.uniform(-10, 10, size=(5, 4))
    X = np.vstack([c + rng.normal(size=(3000, 4)) for c in centers])
    cur.execute("CREATE TABLE blobs (id int, f float8[])")
    cur.executemany("INSERT INTO blobs VALUES (%s, %s)",
                    [(i, [float(v) for v in x]) for i, x in enumerate(X)])
    cur.execute("ANALYZE users; ANALYZE blobs")
    return conn


def points(conn, sql):
    """The points of a query of (key, features...) or (key, features[])."""
    rows = query(conn, sql)
    if len(rows[0]) == 2:
        return np.array([r[1] for r in rows], float)
    return np.array([r[1:] for r in rows], float)


def scaler(conn, table_features, table, method):
    (s,) = query(conn, "SELECT (s).scale, (s).shift FROM (SELECT engage.scaling_agg(%s, %%s) AS s "
                 "FROM %s) q" % (table_features, table), (method,))[0:1]
    return np.array(s[0]), np.array(s[1])


def normalise(X, scale, shift, method):
    if method == "zscore":
        return (X - shift) / scale
    if method == "minmax":
        return X * scale + shift
    return X


def labels_of(Z, C):
    """Each point's nearest centroid (squared distances)."""
    D = ((Z[:, None, :] - np.asarray(C)[None, :, :]) ** 2).sum(axis=2)
    return np.argmin(D, axis=1)


def scores(Z, labels):
    return davies_bouldin_score(Z, labels), calinski_harabasz_score(Z, labels)


@checked("elbow_fit_sampled davies_bouldin, calinski_harabasz at each k = sklearn.metrics (1e-9), "
         "aggregates = in memory")
def t_elbow(conn):
    out = []
    for name, sql, feats, table, method, sample in (
            ("real zscore", POINTS, "ARRAY[sessions, duration_ms, total_bytes]", "users", "zscore", None),
            ("real minmax", POINTS, "ARRAY[sessions, duration_ms, total_bytes]", "users", "minmax", 20000),
            ("blobs zscore", "SELECT id, f FROM blobs", "f", "blobs", "zscore", 0)):
        q = ("SELECT k, davies_bouldin, calinski_harabasz, centroids_normalized, e::text "
             "FROM engage.elbow_fit_sampled(%s, 1, 7, %s, n_init => 3, sample => %s, "
             "in_memory => %s) e ORDER BY k")
        rows = query(conn, q, (sql, method, sample, False))
        mem = query(conn, q, (sql, method, sample, True))
        assert [r[4] for r in rows] == [r[4] for r in mem], "%s: in memory differs" % name
        scale, shift = scaler(conn, feats, table, method)
        Z = normalise(points(conn, sql), scale, shift, method)
        worst = 0.0
        for k, db, ch, C, _ in rows:
            if k == 1:
                assert db is None and ch is None, "k = 1: %r %r" % (db, ch)
                continue
            rdb, rch = scores(Z, labels_of(Z, C))
            r = max(rel(db, rdb), rel(ch, rch))
            assert r <= 1e-9, "%s k = %d: (%r, %r) vs (%r, %r)" % (name, k, db, ch, rdb, rch)
            worst = max(worst, r)
        out.append("%s %.1e" % (name, worst))
    return "(%s)" % ", ".join(out)


@checked("kmeans_steps_agg davies_bouldin, calinski_harabasz = sklearn.metrics (1e-9): "
         "fixed point, and centres = the means of unconverged centroids")
def t_steps(conn):
    out = []
    # a fixed point: kmeans_fit_sampled's model (converged), its centroids as centres
    (conv,) = query(conn, "SELECT (m).converged FROM (SELECT engage.kmeans_fit_sampled("
                    "'SELECT id, f FROM blobs', 5, n_init => 3) AS m) q")[0]
    assert conv, "kmeans_fit_sampled did not converge"
    (db, ch, C, fixed) = query(conn, """
        WITH m AS (SELECT engage.kmeans_fit_sampled('SELECT id, f FROM blobs', 5, n_init => 3) AS m)
        SELECT (s[1]).davies_bouldin, (s[1]).calinski_harabasz, (m).centroids_normalized, (s[1]).converged
        FROM m, LATERAL (SELECT engage.kmeans_steps_agg(ARRAY[m.m], f) AS s FROM blobs) q""")[0]
    assert fixed, "the fitted model is not a fixed point"
    scale, shift = scaler(conn, "f", "blobs", "zscore")
    Z = normalise(points(conn, "SELECT id, f FROM blobs ORDER BY id"), scale, shift, "zscore")
    rdb, rch = scores(Z, labels_of(Z, C))
    r = max(rel(db, rdb), rel(ch, rch))
    assert r <= 1e-9, "fixed point: (%r, %r) vs (%r, %r)" % (db, ch, rdb, rch)
    out.append("fixed point %.1e" % r)
    # centroids that are not a fixed point (blob centres moved), centres = next
    rows = query(conn, """
        WITH s AS (SELECT engage.scaling_agg(f) AS s FROM blobs),
        m AS (SELECT ARRAY(SELECT (ARRAY['f1','f2','f3','f4'], 'zscore', (s).scale, (s).shift, NULL::float8[],
                                   ARRAY[[-1.5, 0.2, 0.3, 0.1], [1.0, -0.7, 0.2, 0.0], [0.1, 1.1, -0.9, 0.5],
                                         [0.5, 0.5, 0.5, -1.2]]::float8[],
                                   NULL::bigint[], NULL::float8, NULL::int, NULL::boolean, NULL::bigint,
                                   NULL::float8[])::engage.kmeans_model FROM s) AS models),
        one AS (SELECT (engage.kmeans_steps_agg(models, f))[1] AS st FROM m, blobs GROUP BY models),
        two AS (SELECT (engage.kmeans_steps_agg(models, f, (one.st).centroids_normalized))[1] AS st
                FROM m, one, blobs GROUP BY models, one.st)
        SELECT (one.st).converged, (one.st).empty_clusters, (two.st).davies_bouldin, (two.st).calinski_harabasz,
               (two.st).inertia = (one.st).inertia AND (two.st).silhouette = (one.st).silhouette,
               (models[1]).centroids_normalized, (one.st).davies_bouldin
        FROM one, two, m""")
    conv, empty, db, ch, same, C, db_centroids = rows[0]
    assert not conv and empty == 0, "the step converged or left a cluster empty"
    assert same, "the centres changed the step's inertia or silhouette"
    rdb, rch = scores(Z, labels_of(Z, C))
    r = max(rel(db, rdb), rel(ch, rch))
    assert r <= 1e-9, "centres = means: (%r, %r) vs (%r, %r)" % (db, ch, rdb, rch)
    assert rel(db_centroids, rdb) > 1e-6, "the centroids as centres gave the means' value"
    out.append("centres = means %.1e" % r)
    return "(%s)" % ", ".join(out)


def math_log1p(X):
    """log1p of every value with the C library's log1p (Python's math.log1p)."""
    return np.vectorize(math.log1p, otypes=[float])(X)


@checked("robust: kmeans_fit_sampled's scaler = RobustScaler bit for bit (real data, ties, blobs)")
def t_robust(conn):
    out = []
    # heavy ties (most users have one session), and values of every scale
    cur = conn.cursor()
    cur.execute("CREATE TABLE ties AS SELECT g AS id, (g % 7)::float8 AS a, "
                "CASE WHEN g % 3 = 0 THEN 0 ELSE (g % 1000) * 1e-3 END AS b, "
                "(g % 17) * 1e12 AS c FROM generate_series(1, 4001) g")
    for name, sql in (("real", POINTS), ("ties", "SELECT id, a, b, c FROM ties"),
                      ("blobs", "SELECT id, f FROM blobs")):
        scale, shift, norm = query(conn, "SELECT (m).scale, (m).shift, (m).normalization FROM "
                                   "(SELECT engage.kmeans_fit_sampled(%s, 3, 'robust', n_init => 1, "
                                   "max_iter => 2) AS m) q", (sql,))[0]
        assert norm == "robust", norm
        ref = RobustScaler().fit(points(conn, sql))
        ref_scale = np.where(ref.scale_ == 0, 1.0, ref.scale_)
        assert list(ref.center_) == list(shift), "%s: centre %r vs %r" % (name, shift, list(ref.center_))
        assert list(ref_scale) == list(scale), "%s: scale %r vs %r" % (name, scale, list(ref_scale))
        out.append(name)
    return "(%s)" % ", ".join(out)


@checked("log: scaling_agg = log1p then StandardScaler column-major (1e-14 with math.log1p, "
         "1e-13 with np.log1p), = the exact mean and std rounded (fractions)")
def t_log(conn):
    X = points(conn, POINTS)
    scale, shift = scaler(conn, "ARRAY[sessions, duration_ms, total_bytes]", "users", "log")
    # column-major: numpy sums the columns pairwise, as scaling_params does
    # (a row-major array is summed one value after the other: 1e-12 off)
    ref = StandardScaler().fit(np.asfortranarray(math_log1p(X)))
    r = max(rel(scale, ref.scale_), rel(shift, ref.mean_))
    assert r <= 1e-14, "math.log1p: %.2e" % r
    ref = StandardScaler().fit(np.asfortranarray(np.log1p(X)))
    r2 = max(rel(scale, ref.scale_), rel(shift, ref.mean_))
    assert r2 <= 1e-13, "np.log1p: %.2e" % r2
    # the exact mean and variance of the math.log1p values, rounded once
    Y = math_log1p(X)
    for j in range(Y.shape[1]):
        col = [Fraction(v) for v in Y[:, j]]
        mean = sum(col) / len(col)
        var = sum((c - mean) ** 2 for c in col) / len(col)
        assert shift[j] == float(mean), "feature %d: mean %r vs %r" % (j, shift[j], float(mean))
        assert scale[j] == math.sqrt(float(var)), "feature %d: std %r vs %r" % (j, scale[j], math.sqrt(float(var)))
    return "(%.1e, %.1e; exact: equal)" % (r, r2)


@checked("elbow_fit_sampled log and robust: inertias and indexes of its centroids on the "
         "scikit-learn-normalised points (1e-9), aggregates = in memory")
def t_elbow_lr(conn):
    out = []
    X = points(conn, POINTS)
    for method in ("log", "robust"):
        q = ("SELECT k, inertia, davies_bouldin, calinski_harabasz, centroids_normalized, e::text "
             "FROM engage.elbow_fit_sampled(%s, 1, 6, %s, n_init => 3, in_memory => %s) e ORDER BY k")
        rows = query(conn, q, (POINTS, method, False))
        mem = query(conn, q, (POINTS, method, True))
        assert [r[5] for r in rows] == [r[5] for r in mem], "%s: in memory differs" % method
        if method == "log":
            Z = StandardScaler().fit_transform(math_log1p(X))
        else:
            Z = RobustScaler().fit_transform(X)
        worst = 0.0
        for k, inertia, db, ch, C, _ in rows:
            C = np.array(C)
            lab = labels_of(Z, C)
            ref_in = float(((Z - C[lab]) ** 2).sum())
            r = rel(inertia, ref_in)
            if k > 1:
                rdb, rch = scores(Z, lab)
                r = max(r, rel(db, rdb), rel(ch, rch))
            assert r <= 1e-9, "%s k = %d: %.2e" % (method, k, r)
            worst = max(worst, r)
        out.append("%s %.1e" % (method, worst))
    return "(%s)" % ", ".join(out)


def main():
    conn = setup()
    t_elbow(conn)
    t_steps(conn)
    t_robust(conn)
    t_log(conn)
    t_elbow_lr(conn)
    conn.close()


if __name__ == "__main__":
    finish(main)
