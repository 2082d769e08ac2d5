"""bench/pandas_pipeline.py: the notebook engage replaces, as one function.

The seed's analysis written the usual way with pandas, scikit-learn and
matplotlib: read the xDR table from PostgreSQL with psycopg2, group per
user, the top 10s, StandardScaler + KMeans(n_clusters=3, n_init=10), cluster
statistics, application usage with its top 10s, a bar chart of the top 3
applications, and the inertia for k = 1..10.  bench/analysis.py times it
against engage.run_analysis on the same table; its results are also what
engage's are checked against there.

Copyright (c) 2026, engage developers
"""
import io
import time

import matplotlib

matplotlib.use("svg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
from sklearn.cluster import KMeans  # noqa: E402
from sklearn.preprocessing import StandardScaler  # noqa: E402

APPS = ["Email", "Gaming", "Google", "Netflix", "Other", "Social Media", "Youtube"]
MSISDN = "MSISDN/Number"


def read_xdr(conn, table):
    """The columns the analysis needs, in one DataFrame (COPY, the fastest way psycopg2 has)."""
    cols = [MSISDN, "Dur. (ms)", "Total DL (Bytes)", "Total UL (Bytes)"]
    for a in APPS:
        cols += ["%s DL (Bytes)" % a, "%s UL (Bytes)" % a]
    buf = io.StringIO()
    conn.cursor().copy_expert("COPY (SELECT %s FROM %s) TO STDOUT WITH (FORMAT csv, HEADER)"
                              % (", ".join('"%s"' % c for c in cols), table), buf)
    buf.seek(0)
    return pd.read_csv(buf, dtype={c: "float64" for c in cols})


def top10(frame, column):
    """Top 10 by column descending, ties by MSISDN ascending."""
    return frame.sort_values([column, MSISDN], ascending=[False, True], kind="mergesort").head(10)


def run(conn, table, seed=0, k=3, k_max=10):
    """The whole analysis; returns its results (for the agreement checks), the SVG chart and the
    time of each step (seconds, in "times")."""
    times = {}
    clock = [time.perf_counter()]

    def lap(step):
        """Records the time since the previous lap as the step's."""
        now = time.perf_counter()
        times[step] = now - clock[0]
        clock[0] = now

    df = read_xdr(conn, table)
    lap("read")
    users = df.dropna(subset=[MSISDN])
    rows_without_subscriber = len(df) - len(users)

    # 1. Per-user engagement and the top 10s
    g = users.groupby(MSISDN, sort=False)
    eng = pd.DataFrame({"sessions": g.size(),
                        "duration_ms": g["Dur. (ms)"].sum(),
                        "dl_bytes": g["Total DL (Bytes)"].sum(),
                        "ul_bytes": g["Total UL (Bytes)"].sum()}).reset_index()
    eng["total_bytes"] = eng["dl_bytes"] + eng["ul_bytes"]
    tops = {m: top10(eng, m)[[MSISDN, m]] for m in ("sessions", "duration_ms", "total_bytes")}

    lap("users")

    # 2. Normalisation, K-means and the cluster statistics
    X = eng[["sessions", "duration_ms", "total_bytes"]].to_numpy(dtype=float)
    Z = StandardScaler().fit_transform(X)
    km = KMeans(n_clusters=k, n_init=10, random_state=seed).fit(Z)
    eng["cluster"] = km.labels_
    stats = eng.groupby("cluster")[["sessions", "duration_ms", "total_bytes"]].agg(
        ["min", "max", "mean", "sum"])
    sizes = eng["cluster"].value_counts()

    lap("kmeans")

    # 3. Application usage, totals, top 10 per application, top 3 chart
    app_cols = {}
    for a in APPS:
        app_cols[a] = users["%s DL (Bytes)" % a].fillna(0) + users["%s UL (Bytes)" % a].fillna(0)
    per_app = pd.DataFrame(app_cols)
    per_app[MSISDN] = users[MSISDN]
    app_usage = per_app.groupby(MSISDN, sort=False).sum().reset_index()
    totals = app_usage[APPS].sum().sort_values(ascending=False)
    app_tops = {a: top10(app_usage, a)[[MSISDN, a]] for a in APPS}
    top3 = totals.head(3)
    fig, ax = plt.subplots(figsize=(6, 4))
    ax.bar(top3.index, top3.values / 1e12)
    ax.set_title("Top 3 applications by traffic")
    ax.set_ylabel("Traffic (TB)")
    svg = io.StringIO()
    fig.savefig(svg, format="svg")
    plt.close(fig)

    lap("apps")

    # 4. The elbow: inertia for k = 1..k_max
    inertias = {}
    for kk in range(1, min(k_max, len(Z)) + 1):
        inertias[kk] = KMeans(n_clusters=kk, n_init=10, random_state=seed).fit(Z).inertia_
    lap("elbow")

    return {
        "rows": len(df), "rows_without_subscriber": rows_without_subscriber, "users": len(eng),
        "tops": tops, "inertia": km.inertia_, "sizes": sorted(sizes.tolist()), "stats": stats,
        "app_totals": totals, "app_tops": app_tops, "top3": list(top3.index),
        "elbow": inertias, "svg": svg.getvalue(), "X": X, "Z": Z, "seed": seed,
        "times": times,
    }
