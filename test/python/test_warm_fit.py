"""test/python/test_warm_fit.py: the previous run's centroids as one more
starting point of the fit (issue 13: kmeans_fit_sampled's initial_centroids,
run_analysis's warm start) against scikit-learn.

Run by scripts/test.sh with Debian's python3 (python3-sklearn, -psycopg2)
against the throwaway cluster it started (PGHOST, PGPORT, PGUSER), on the
real per-user aggregates of TellCo (test/data/user_engagement_real.csv,
106,855 users) and on generated blobs.  For each start (centroids in the
features' units: a "previous week's" model fitted on changed data, users'
points, a weak model of the same data):
- the start's candidate: KMeans(init=<the start normalised by the fit's own
  scaler>, n_init=1, tol=0, algorithm='lloyd') on the same normalised points
  reaches its fixed point;
- kmeans_fit_sampled with initial_centroids keeps the lower inertia of that
  fixed point and of kmeans_fit_sampled without initial_centroids (the
  restarts' model bit for bit when the start is not lower; the start's
  centroids, those of scikit-learn to 1e-9, when it is); in memory the same
  bits.
And run_analysis on changed data: its model is kmeans_fit_sampled's from the
previous run's centroids (the same centroids, bit for bit, up to the
numbering), and scikit-learn's fixed point from them, or the restarts'.
Prints one line per check and ends with "N passed, N failed".

Copyright (c) 2026, engage developers
"""
import os

import numpy as np
from sklearn.cluster import KMeans

from helpers import checked, finish, fresh_database, query

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
DB = "engage_python_warm_fit"
WORST = [0.0]  # the largest distance of a kept start's centroids from sklearn's
REAL = "SELECT msisdn, sessions, duration_ms, total_bytes FROM users"
BLOBS = "SELECT id, a, b, c, e FROM blobs"
FIT = ("SELECT (m).centroids, (m).centroids_normalized, (m).inertia, (m).scale, (m).shift, "
       "(m).sizes, m::text FROM (SELECT engage.kmeans_fit_sampled(%s, %s, %s, n_init => %s, "
       "sample => %s, seed => %s, in_memory => %s, initial_centroids => %s) AS m) q")


def setup():
    conn = fresh_database(DB)
    cur = conn.cursor()
    cur.execute("CREATE TABLE users (msisdn float8, label int, sessions float8, "
                "duration_ms float8, total_bytes float8)")
    with open(os.path.join(ROOT, "test/data/user_engagement_real.csv")) as f:
        cur.copy_expert("COPY users FROM STDIN CSV HEADER", f)
    # last week's users: a third of them with 1.5 times the traffic
    cur.execute("CREATE TABLE users_before AS SELECT msisdn, sessions, duration_ms, "
                "CASE WHEN msisdn::bigint % 3 = 0 THEN total_bytes * 1.5 ELSE total_bytes END "
                "AS total_bytes FROM users")
    rng = np.random.default_rng(21)
    centers = rng.uniform(-10, 10, size=(6, 4))
    X = np.vstack([c + rng.normal(scale=2.5, size=(2000, 4)) for c in centers])
    cur.execute("CREATE TABLE blobs (id int, a float8, b float8, c float8, e float8)")
    cur.executemany("INSERT INTO blobs VALUES (%s, %s, %s, %s, %s)",
                    [(i, *[float(v) for v in x]) for i, x in enumerate(X)])
    cur.execute("ANALYZE users; ANALYZE users_before; ANALYZE blobs")
    return conn


def fit(conn, sql, k, method, init=None, n_init=10, sample=None, seed=0, in_memory=False):
    (r,) = query(conn, FIT, (sql, k, method, n_init, sample, seed, in_memory,
                             None if init is None else [list(map(float, c)) for c in init]))
    return {"C": np.array(r[0]), "Z": np.array(r[1]), "inertia": r[2], "scale": np.array(r[3]),
            "shift": np.array(r[4]), "sizes": list(r[5]), "text": r[6]}


def normalise(X, m, method):
    """The model's scaler applied to X (as kmeans_predict does)."""
    if method == "zscore":
        return (X - m["shift"]) / m["scale"]
    if method == "minmax":
        return X * m["scale"] + m["shift"]
    return np.array(X, float)


def rel(a, b):
    a, b = np.asarray(a, float), np.asarray(b, float)
    return float(np.max(np.abs(a - b) / np.maximum(np.abs(b), 1e-12)))


def set_distance(A, B):
    """The largest distance of a row of A from its row of B (each row of A
    matched to a distinct row of B, nearest first), relative to the norm of
    the largest row of B (at least 1)."""
    used = set()
    worst = 0.0
    scale = max(1.0, float(np.max(np.linalg.norm(B, axis=1))))
    for a in A:
        j = min((j for j in range(len(B)) if j not in used), key=lambda j: np.sum((B[j] - a) ** 2))
        worst = max(worst, float(np.linalg.norm(B[j] - a)) / scale)
        used.add(j)
    return worst


def check_start(conn, name, sql, k, method, init, n_init=10, sample=None, seed=0):
    """One start: kmeans_fit_sampled with it against scikit-learn's fixed
    point from it and kmeans_fit_sampled without it.  Returns whether the
    start was kept."""
    without = fit(conn, sql, k, method, n_init=n_init, sample=sample, seed=seed)
    m = fit(conn, sql, k, method, init, n_init=n_init, sample=sample, seed=seed)
    mem = fit(conn, sql, k, method, init, n_init=n_init, sample=sample, seed=seed, in_memory=True)
    assert m["text"] == mem["text"], "%s: in memory differs" % name
    # the fit's own scaler: the model's without the start, the same
    assert np.array_equal(m["scale"], without["scale"]) and np.array_equal(m["shift"], without["shift"])
    X = np.array([r[1:] for r in query(conn, sql)], float)
    Z = normalise(X, m, method)
    Z0 = normalise(np.asarray(init, float), m, method)
    km = KMeans(n_clusters=k, init=Z0, n_init=1, tol=0.0, algorithm="lloyd", max_iter=300).fit(Z)
    lower = min(km.inertia_, without["inertia"])
    assert rel(m["inertia"], lower) <= 1e-9, "%s: inertia %r, not the lower of %r (start) and %r (restarts)" % (
        name, m["inertia"], km.inertia_, without["inertia"])
    if km.inertia_ < without["inertia"] * (1 - 1e-9):
        d = set_distance(m["Z"], km.cluster_centers_)
        assert d <= 1e-9, "%s: not the start's centroids (%.2e)" % (name, d)
        WORST[0] = max(WORST[0], d)
        assert sorted(m["sizes"]) == sorted(np.bincount(km.labels_, minlength=k).tolist())
        return True
    if km.inertia_ > without["inertia"] * (1 + 1e-9):
        assert m["text"] == without["text"], "%s: not the restarts' model" % name
        return False
    # a tie within 1e-9: either, the same inertia
    return m["inertia"] < without["inertia"]


@checked("kmeans_fit_sampled initial_centroids: the lower of the restarts' and of sklearn's fixed point "
         "from the start (1e-9), the restarts' model bit for bit otherwise, in memory the same bits")
def t_starts(conn):
    out = []
    kept = 0
    total = 0
    for name, sql, k, method, before in (
            ("real zscore k=4", REAL, 4, "zscore", REAL.replace("users", "users_before")),
            ("real minmax k=5", REAL, 5, "minmax", REAL.replace("users", "users_before")),
            ("blobs zscore k=6", BLOBS, 6, "zscore", None),
            ("blobs none k=6", BLOBS, 6, "none", None)):
        starts = []
        if before is not None:
            # the previous week's model, in the features' units
            starts.append(("previous", fit(conn, before, k, method)["C"], {}))
        # a weak model of the same data (1 restart on k points)
        weak = fit(conn, sql, k, method, n_init=1, sample=k, seed=3)["C"]
        starts.append(("weak", weak, {}))
        # the best model (10 restarts) against weak restarts: the start should win
        best = fit(conn, sql, k, method)["C"]
        starts.append(("best vs weak restarts", best, {"n_init": 1, "sample": k, "seed": 3}))
        # users' points
        X = np.array([r[1:] for r in query(conn, sql + " ORDER BY 1 LIMIT 5000")], float)
        rng = np.random.default_rng(k)
        for j in range(2):
            starts.append(("points %d" % j, X[rng.choice(len(X), size=k, replace=False)],
                           {"n_init": 2, "sample": 1000, "seed": j}))
        for sname, init, opts in starts:
            total += 1
            kept += check_start(conn, "%s %s" % (name, sname), sql, k, method, init, **opts)
        out.append(name)
    assert 0 < kept < total, "every start kept or none: %d of %d" % (kept, total)
    return "(%d starts, %d kept; centroids within %.1e of sklearn's)" % (total, kept, WORST[0])


@checked("run_analysis warm start on changed data: the model of kmeans_fit_sampled from the previous "
         "run's centroids (bit for bit up to the numbering), the lower of sklearn's fixed point and the restarts'")
def t_run_analysis(conn):
    cur = conn.cursor()
    cur.execute("SET client_min_messages = warning")
    cur.execute("SELECT engage.generate_xdr('public.wf_xdr', 20000, seed => 9)")
    (run1,) = query(conn, "SELECT engage.run_analysis('public.wf_xdr', k => 4, k_max => 0, name => 'wf')")[0]
    cur.execute("UPDATE public.wf_xdr SET \"Total UL (Bytes)\" = \"Total UL (Bytes)\" * 6 "
                "WHERE hashtext(\"MSISDN/Number\"::text) % 4 = 0")
    (run2,) = query(conn, "SELECT engage.run_analysis('public.wf_xdr', k => 4, k_max => 0, name => 'wf')")[0]
    ((warm, prev, Cn, inertia),) = query(conn, "SELECT r.warm_start_run, (p.cluster_model).centroids, "
                                         "(r.cluster_model).centroids_normalized, (r.cluster_model).inertia "
                                         "FROM engage.run r, engage.run p WHERE r.run_id = %s AND p.run_id = %s",
                                         (run2, run1))
    assert warm == run1, "warm_start_run %r" % warm
    sql = ("SELECT msisdn, sessions, COALESCE(duration_ms, 0), COALESCE(total_bytes, 0) "
           "FROM engage.result_user_engagement WHERE run_id = %d" % run2)
    m = fit(conn, sql, 4, "zscore", prev)
    assert m["inertia"] == inertia, "inertia %r vs %r" % (inertia, m["inertia"])
    assert sorted(map(tuple, m["Z"])) == sorted(map(tuple, Cn)), "other centroids"
    kept = check_start(conn, "run_analysis", sql, 4, "zscore", prev)
    return "(start kept: %s)" % kept


def main():
    conn = setup()
    t_starts(conn)
    t_run_analysis(conn)


if __name__ == "__main__":
    finish(main)
