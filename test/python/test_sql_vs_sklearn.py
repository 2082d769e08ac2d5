"""test/python/test_sql_vs_sklearn.py: engage's SQL results against pandas and scikit-learn.

Run by scripts/test.sh with Debian's python3 (python3-sklearn, -pandas,
-psycopg2) against the throwaway cluster it started (PGHOST, PGPORT, PGUSER).
Every check computes the same numbers independently, on the same data:
the real per-user aggregates of TellCo (test/data/user_engagement_real.csv,
106,855 users) and a generated xDR table.  Prints one line per check and
ends with "N passed, N failed"; exits non-zero on any failure.
"""
import io
import os

import numpy as np
import pandas as pd
from sklearn.cluster import KMeans
from sklearn.preprocessing import MinMaxScaler, StandardScaler

from helpers import checked, finish, fresh_database, query
from reference import kneed_reference, simplified_silhouette

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
DB = "engage_python_tests"
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
    df = pd.read_csv(os.path.join(ROOT, "test/data/user_engagement_real.csv"))
    df.columns = ["msisdn", "label"] + FEATURES
    return conn, df



@checked("scaling_params zscore = StandardScaler (1e-12 relative)")
def t_zscore(conn, X):
    rows = query(conn, "SELECT mean, std, scale, shift FROM engage.scaling_params(%s, 'zscore') "
                 "ORDER BY array_position(%s, feature)", (POINTS, FEATURES))
    sk = StandardScaler().fit(X)
    r = max(rel([x[0] for x in rows], sk.mean_), rel([x[1] for x in rows], sk.scale_),
            rel([x[2] for x in rows], sk.scale_), rel([x[3] for x in rows], sk.mean_))
    assert r <= 1e-12, "relative difference %g" % r
    return "(max relative difference %.1e)" % r


@checked("scaling_params minmax = MinMaxScaler (1e-12 relative)")
def t_minmax(conn, X):
    rows = query(conn, "SELECT min, max, scale, shift FROM engage.scaling_params(%s, 'minmax') "
                 "ORDER BY array_position(%s, feature)", (POINTS, FEATURES))
    sk = MinMaxScaler().fit(X)
    r = max(rel([x[0] for x in rows], sk.data_min_), rel([x[1] for x in rows], sk.data_max_),
            rel([x[2] for x in rows], sk.scale_), rel([x[3] for x in rows], sk.min_))
    assert r <= 1e-12, "relative difference %g" % r
    return "(max relative difference %.1e)" % r


@checked("normalize_points = StandardScaler.transform (1e-12)")
def t_normalize(conn, X, keys):
    rows = dict(query(conn, "SELECT key, features FROM engage.normalize_points(%s)", (POINTS,)))
    Z = StandardScaler().fit_transform(X)
    E = np.array([rows[k] for k in keys])
    d = float(np.max(np.abs(E - Z) / np.maximum(1.0, np.abs(Z))))
    assert d <= 1e-12, "max difference %g" % d
    return "(max difference %.1e, relative to max(1, |z|))" % d


def engage_fit(conn, k):
    rows = query(conn, "SELECT cluster, size, centroid_normalized, total_inertia, iterations "
                 "FROM engage.kmeans_centroids(%s, %s) ORDER BY cluster", (POINTS, k))
    return np.array([r[2] for r in rows]), rows[0][3], [r[1] for r in rows]


@checked("k = 3: engage inertia <= scikit-learn's best x (1 + 1e-4)")
def t_inertia(conn, Z, state):
    C, inertia, sizes = engage_fit(conn, 3)
    sk = KMeans(n_clusters=3, n_init=10, random_state=0).fit(Z)
    state["engage3"] = (C, inertia, sizes)
    assert inertia <= sk.inertia_ * (1 + 1e-4), "engage %r, scikit-learn %r" % (inertia, sk.inertia_)
    return "(engage %.6f, scikit-learn %.6f, sizes %s)" % (inertia, sk.inertia_, sizes)


@checked("k = 3, tol 0: engage's centroids are a fixed point of scikit-learn's KMeans")
def t_fixed_point(conn, Z, state, keys):
    # run to convergence (tol = 0: until no point changes cluster), the
    # centroids are the means of their points and each point is nearest its own
    rows = query(conn, "SELECT size, centroid_normalized FROM engage.kmeans_centroids(%s, 3, tol => 0) "
                 "ORDER BY cluster", (POINTS,))
    C = np.array([r[1] for r in rows])
    sizes = [r[0] for r in rows]
    sk = KMeans(n_clusters=3, init=C, n_init=1, max_iter=300, tol=1e-4).fit(Z)
    shift = float(np.max(np.abs(sk.cluster_centers_ - C)))
    assert shift <= 1e-9, "centroids moved by %g" % shift
    assert sk.n_iter_ == 1, "scikit-learn needed %d iterations" % sk.n_iter_
    labels = dict(query(conn, "SELECT key, cluster FROM engage.kmeans_cluster(%s, 3, tol => 0)", (POINTS,)))
    mine = np.array([labels[k] - 1 for k in keys])
    differ = int(np.sum(mine != sk.labels_))
    assert differ == 0, "%d labels differ" % differ
    assert list(np.bincount(sk.labels_)) == sizes, "sizes %s vs %s" % (np.bincount(sk.labels_), sizes)
    return "(max centroid shift %.1e, labels identical)" % shift


@checked("kmeans_cluster distances and kmeans_centroids inertia agree with numpy")
def t_distances(conn, Z, state, keys):
    C, inertia, sizes = state["engage3"]
    rows = {r[0]: (r[1], r[2]) for r in
            query(conn, "SELECT key, cluster, distance FROM engage.kmeans_cluster(%s, 3)", (POINTS,))}
    lab = np.array([rows[k][0] - 1 for k in keys])
    dist = np.array([rows[k][1] for k in keys])
    ref = np.sqrt(((Z - C[lab]) ** 2).sum(axis=1))
    d = float(np.max(np.abs(dist - ref)))
    assert d <= 1e-9, "distance differs by %g" % d
    r = abs((ref ** 2).sum() - inertia) / inertia
    assert r <= 1e-9, "inertia differs by %g relative" % r
    return "(max distance difference %.1e)" % d


@checked("elbow k = 1..10: engage inertia <= scikit-learn's x (1 + 1e-3) at every k")
def t_elbow(conn, Z, state):
    rows = query(conn, "SELECT k, inertia, silhouette, is_elbow, centroids_normalized "
                 "FROM engage.elbow_inertia(%s, 1, 10) "
                 "ORDER BY k", (POINTS,))
    state["elbow"] = rows
    state["sk_elbow"] = {}
    worst = 0.0
    for k, inertia, _, _, _ in rows:
        sk = KMeans(n_clusters=k, n_init=10, random_state=0).fit(Z).inertia_
        state["sk_elbow"][k] = sk
        worst = max(worst, inertia / sk - 1)
        assert inertia <= sk * (1 + 1e-3), "k = %d: engage %r, scikit-learn %r" % (k, inertia, sk)
    return "(largest engage / scikit-learn - 1: %.2e)" % worst


@checked("elbow on a sample of 32,768 users: inertia <= scikit-learn's x (1 + 1e-3), Kneedle's elbow k")
def t_elbow_sampled(conn, Z, state):
    # the restarts on a sample (what elbow_inertia chooses above 200,000
    # points), the inertias of all points, against scikit-learn's best of
    # 10 on all points
    rows = query(conn, "SELECT k, inertia, is_elbow, centroids_normalized, sample_size "
                 "FROM engage.elbow_inertia(%s, 1, 10, sample => 32768) ORDER BY k", (POINTS,))
    worst = 0.0
    for k, inertia, _, C, m in rows:
        assert m == 32768, "k = %d: sample_size %r" % (k, m)
        sk = state["sk_elbow"][k]
        worst = max(worst, inertia / sk - 1)
        assert inertia <= sk * (1 + 1e-3), "k = %d: engage %r, scikit-learn %r" % (k, inertia, sk)
        # the inertia is that of the centroids on all points
        C = np.array(C)
        d2 = ((Z[:, None, :] - C[None, :, :]) ** 2).sum(axis=2).min(axis=1)
        assert abs(d2.sum() - inertia) <= 1e-9 * inertia, "k = %d: inertia %r, numpy %r" % (k, inertia, d2.sum())
    ks = sorted(state["sk_elbow"])
    ref = kneed_reference(ks, [state["sk_elbow"][k] for k in ks])
    mine = [r[0] for r in rows if r[2]]
    assert mine == ([] if ref < 0 else [ks[ref]]), "engage %s, kneed on scikit-learn %s" % (mine, ref)
    return "(largest engage / scikit-learn - 1: %.2e, elbow at k = %s)" % (worst, mine)


@checked("elbow silhouettes = simplified silhouette computed with numpy")
def t_silhouette(Z, state):
    worst = 0.0
    for k, _, silhouette, _, centroids in state["elbow"]:
        if k == 1:
            assert silhouette is None, "k = 1 must have no silhouette"
            continue
        C = np.array(centroids)
        lab = np.sqrt(((Z[:, None, :] - C[None, :, :]) ** 2).sum(axis=2)).argmin(axis=1)
        s = simplified_silhouette(Z, C, lab)
        worst = max(worst, abs(s - silhouette))
        assert abs(s - silhouette) <= 1e-9, "k = %d: engage %r, numpy %r" % (k, silhouette, s)
    return "(max difference %.1e)" % worst


@checked("is_elbow = Kneedle's knee on engage's inertia curve")
def t_knee(conn, state):
    ks = [r[0] for r in state["elbow"]]
    inertia = [r[1] for r in state["elbow"]]
    ref = kneed_reference(ks, inertia)
    mine = [r[0] for r in state["elbow"] if r[3]]
    assert mine == ([] if ref < 0 else [ks[ref]]), "engage %s, kneed %s" % (mine, ref)
    return "(elbow at k = %s)" % mine


@checked("kmeans_predict = scikit-learn's predict with engage's centroids")
def t_predict(conn, Z, X, state):
    C, _, _ = state["engage3"]
    cur = conn.cursor()
    cur.execute("CREATE TABLE model AS SELECT engage.kmeans_model(%s, 3) AS m", (POINTS,))
    rng = np.random.default_rng(1)
    new = X[rng.integers(0, len(X), 2000)] * rng.uniform(0.5, 1.5, (2000, 3))
    cur.execute("SELECT engage.kmeans_predict(m, ARRAY[a, b, c]) FROM model, "
                "unnest(%s::float8[], %s::float8[], %s::float8[]) WITH ORDINALITY AS p(a, b, c, i) "
                "ORDER BY i", (list(new[:, 0]), list(new[:, 1]), list(new[:, 2])))
    mine = np.array([r[0] - 1 for r in cur.fetchall()])
    scaler = StandardScaler().fit(X)
    sk = KMeans(n_clusters=3, init=C, n_init=1, max_iter=1).fit(Z)
    sk.cluster_centers_ = C
    ref = sk.predict(scaler.transform(new))
    differ = int(np.sum(mine != ref))
    assert differ == 0, "%d of 2000 differ" % differ
    return "(2000 new points)"


@checked("kmeans_assign of 2000 new points = scikit-learn's predict and transform with the model")
def t_assign(conn, X, state):
    C, _, _ = state["engage3"]
    rng = np.random.default_rng(2)
    new = X[rng.integers(0, len(X), 2000)] * rng.uniform(0.5, 1.5, (2000, 3))
    cur = conn.cursor()
    cur.execute("CREATE TABLE new_points AS SELECT i, a, b, c FROM "
                "unnest(%s::float8[], %s::float8[], %s::float8[]) WITH ORDINALITY AS p(a, b, c, i)",
                (list(new[:, 0]), list(new[:, 1]), list(new[:, 2])))
    cur.execute("SELECT a.cluster, a.distance FROM model, "
                "engage.kmeans_assign(m, 'SELECT i, a, b, c FROM new_points') a ORDER BY a.key::bigint")
    rows = cur.fetchall()
    mine = np.array([r[0] - 1 for r in rows])
    dist = np.array([r[1] for r in rows])
    scaler = StandardScaler().fit(X)
    sk = KMeans(n_clusters=3, init=C, n_init=1, max_iter=1).fit(scaler.transform(X))
    sk.cluster_centers_ = C
    Zn = scaler.transform(new)
    ref = sk.predict(Zn)
    ref_dist = sk.transform(Zn)[np.arange(len(Zn)), ref]
    differ = int(np.sum(mine != ref))
    assert differ == 0, "%d of 2000 clusters differ" % differ
    d = float(np.max(np.abs(dist - ref_dist)))
    assert d <= 1e-9, "distance differs by %g" % d
    return "(2000 new points, max distance difference %.1e)" % d


@checked("engagement_agg = pandas groupby on a generated xDR table")
def t_engagement(conn):
    cur = conn.cursor()
    cur.execute("SELECT engage.generate_xdr('gen', 50000, seed => 11)")
    buf = io.StringIO()
    cur.copy_expert('COPY (SELECT "MSISDN/Number", "Dur. (ms)", "Total DL (Bytes)", "Total UL (Bytes)" '
                    "FROM gen) TO STDOUT CSV", buf)
    buf.seek(0)
    df = pd.read_csv(buf, header=None, names=["msisdn", "dur", "dl", "ul"])
    df = df[df.msisdn.notna()]
    ref = df.groupby("msisdn").agg(sessions=("dur", "size"), dur=("dur", "sum"),
                                   dl=("dl", "sum"), ul=("ul", "sum"))
    cur.execute('SELECT "MSISDN/Number", (e).sessions, (e).duration_ms, (e).total_bytes FROM '
                '(SELECT "MSISDN/Number", engage.engagement_agg("Dur. (ms)", "Total DL (Bytes)", '
                '"Total UL (Bytes)") AS e FROM gen WHERE "MSISDN/Number" IS NOT NULL GROUP BY 1) s')
    mine = {r[0]: r[1:] for r in cur.fetchall()}
    assert len(mine) == len(ref), "%d users vs %d" % (len(mine), len(ref))
    bad = 0
    for msisdn, row in ref.iterrows():
        s, d, t = mine[msisdn]
        if (s != row.sessions or d != int(row.dur) or t != int(row.dl) + int(row.ul)):
            bad += 1
    assert bad == 0, "%d users differ" % bad
    return "(%d users)" % len(ref)


def main():
    conn, df = setup()
    X = df[FEATURES].to_numpy(dtype=float)
    # the key comes back as PostgreSQL's text form of the float8 MSISDN
    keys = [r[0] for r in query(conn, "SELECT msisdn::text FROM users ORDER BY users.msisdn")]
    order = np.argsort(df.msisdn.to_numpy(), kind="stable")
    X = X[order]
    Z = StandardScaler().fit_transform(X)
    state = {}
    t_zscore(conn, X)
    t_minmax(conn, X)
    t_normalize(conn, X, keys)
    t_inertia(conn, Z, state)
    if "engage3" in state:
        t_fixed_point(conn, Z, state, keys)
        t_distances(conn, Z, state, keys)
        t_predict(conn, Z, X, state)
        t_assign(conn, X, state)
    t_elbow(conn, Z, state)
    if "elbow" in state:
        t_silhouette(Z, state)
        t_knee(conn, state)
        t_elbow_sampled(conn, Z, state)
    t_engagement(conn)
    conn.close()


if __name__ == "__main__":
    finish(main)
