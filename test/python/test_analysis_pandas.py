"""test/python/test_analysis_pandas.py: engage.run_analysis against pandas and scikit-learn.

Run by scripts/test.sh with Debian's python3 (python3-sklearn, -pandas,
-psycopg2) against the throwaway cluster it started (PGHOST, PGPORT, PGUSER).
Creates its own database, generates an xDR table with engage.generate_xdr,
runs engage.run_analysis on it, reads the same table with psycopg2 and does
the same analysis in pandas and scikit-learn: per-user groupby, top 10s
(value descending, MSISDN ascending), StandardScaler + KMeans inertia,
per-application totals, top 10s and top 3; a time window on the text
starts (some damaged) and the hours of activity.  Prints one line per check and
ends with "N passed, N failed"; exits non-zero on any failure.

Copyright (c) 2026, engage developers
"""
import numpy as np
import pandas as pd
import psycopg2
from sklearn.cluster import KMeans
from sklearn.preprocessing import StandardScaler

from helpers import checked, drop_databases, finish, fresh_database, query

DB = "engage_analysis_tests"
ROWS = 30000
APPS = ["Social Media", "Google", "Email", "Youtube", "Netflix", "Gaming", "Other"]
METRICS = ["sessions", "duration_ms", "total_bytes"]


def frame(conn, sql):
    cur = conn.cursor()
    cur.execute(sql)
    return pd.DataFrame(cur.fetchall(), columns=[d[0] for d in cur.description])


def msisdn_text(conn, values):
    """The text form PostgreSQL gives each float8 MSISDN (the key of the results)."""
    rows = query(conn, "SELECT m, m::text FROM unnest(%s::float8[]) AS m", (list(map(float, values)),))
    return dict(rows)


def top10(df, value, key="msisdn"):
    """Top 10 by value descending, ties by key ascending (the key's own order)."""
    return df.sort_values([value, key], ascending=[False, True], kind="mergesort").head(10)


def setup():
    conn = fresh_database(DB)
    cur = conn.cursor()
    cur.execute("SELECT engage.generate_xdr('public.xdr', %s, seed => 3)", (ROWS,))
    cur.execute("SELECT engage.run_analysis()")
    run_id = cur.fetchone()[0]
    cols = ['"MSISDN/Number"', '"Dur. (ms)"', '"Total DL (Bytes)"', '"Total UL (Bytes)"']
    for a in APPS:
        cols += ['"%s DL (Bytes)"' % a, '"%s UL (Bytes)"' % a]
    xdr = frame(conn, "SELECT %s FROM xdr" % ", ".join(cols))
    return conn, run_id, xdr


def main():
    conn, run_id, xdr = setup()
    sub = xdr[xdr["MSISDN/Number"].notna()]
    users = sub.groupby("MSISDN/Number").agg(
        sessions=("Dur. (ms)", "size"), duration_ms=("Dur. (ms)", "sum"),
        dl_bytes=("Total DL (Bytes)", "sum"), ul_bytes=("Total UL (Bytes)", "sum"))
    users["total_bytes"] = users["dl_bytes"] + users["ul_bytes"]
    users = users.reset_index().rename(columns={"MSISDN/Number": "msisdn"})
    text = msisdn_text(conn, users["msisdn"])
    users["key"] = users["msisdn"].map(text)

    @checked("run log: status ok, rows read, rows without subscriber, users")
    def t_run():
        r = query(conn, "SELECT run_id, status, rows_read, rows_without_subscriber, users "
                        "FROM engage.latest_run")[0]
        want = (run_id, "ok", len(xdr), int(xdr["MSISDN/Number"].isna().sum()), len(users))
        assert r == want, "%s != %s" % (r, want)
        return "(%s rows, %s without subscriber, %s users)" % want[2:]
    t_run()

    @checked("per-user engagement = pandas groupby (every user, exact)")
    def t_users():
        v = frame(conn, "SELECT msisdn, sessions, duration_ms, dl_bytes, ul_bytes, total_bytes "
                        "FROM engage.user_engagement")
        m = users.merge(v, left_on="key", right_on="msisdn", suffixes=("", "_sql"))
        assert len(m) == len(users) == len(v), "%d / %d / %d users" % (len(m), len(users), len(v))
        for c in ["sessions", "duration_ms", "dl_bytes", "ul_bytes", "total_bytes"]:
            bad = (m[c].astype(float) != m[c + "_sql"].astype(float)).sum()
            assert bad == 0, "%s differs for %d users" % (c, bad)
        return "(%d users)" % len(v)
    t_users()

    for metric in METRICS:
        @checked("top 10 users by %s identical (value desc, MSISDN asc)" % metric)
        def t_top(metric=metric):
            want = top10(users, metric)
            got = frame(conn, "SELECT rank, msisdn, value FROM engage.top_users "
                              "WHERE metric = '%s' ORDER BY rank" % metric)
            assert list(got["msisdn"]) == list(want["key"]), "%s != %s" % (list(got["msisdn"]), list(want["key"]))
            assert list(got["value"].astype(float)) == list(want[metric].astype(float))
            ties = int(want[metric].duplicated().sum())
            return "(%d ties in the list)" % ties
        t_top()

    @checked("KMeans(3, n_init=10) on StandardScaler: inertia within 1e-4 relative (engage's may be lower)")
    def t_kmeans():
        X = StandardScaler().fit_transform(users[METRICS].astype(float).values)
        km = KMeans(n_clusters=3, n_init=10, random_state=0).fit(X)
        ours = query(conn, "SELECT inertia FROM engage.latest_run")[0][0]
        rel = (ours - km.inertia_) / km.inertia_
        assert rel <= 1e-4, "engage %.6f vs scikit-learn %.6f (%.2e)" % (ours, km.inertia_, rel)
        sizes = sorted(np.bincount(km.labels_))
        got = sorted(r[0] for r in query(conn, "SELECT users FROM engage.cluster_stats"))
        return "(engage %.4f, scikit-learn %.4f, relative %.1e; sizes %s vs %s)" % (
            ours, km.inertia_, rel, got, sizes)
    t_kmeans()

    @checked("K-means run to convergence: scikit-learn's KMeans(tol=0) started from engage's centroids "
             "stays there (the same cluster sizes, inertia within 1e-9), and engage's inertia at most "
             "1e-4 above KMeans(3, n_init=10, tol=0)'s")
    def t_kmeans_converged():
        # run_analysis runs K-means to a fixed point (tol 0) of Lloyd's
        # iteration: the split K-means (restarts on a sample, then exact
        # Lloyd steps), which may reach another local optimum than
        # scikit-learn's restarts; so its centroids are checked to be a
        # fixed point of scikit-learn's Lloyd, and its inertia against
        # scikit-learn's converged restarts.
        X = StandardScaler().fit_transform(users[METRICS].astype(float).values)
        C = np.array(query(conn, "SELECT (cluster_model).centroids_normalized FROM engage.run "
                                 "WHERE run_id = (SELECT run_id FROM engage.latest_run)")[0][0], dtype=float)
        fixed = KMeans(n_clusters=3, init=C, n_init=1, tol=0).fit(X)
        km = KMeans(n_clusters=3, n_init=10, random_state=0, tol=0).fit(X)
        ours = query(conn, "SELECT inertia FROM engage.latest_run")[0][0]
        sizes = sorted(int(x) for x in np.bincount(fixed.labels_))
        got = sorted(int(r[0]) for r in query(conn, "SELECT users FROM engage.cluster_stats"))
        assert got == sizes, "sizes %s vs scikit-learn from engage's centroids %s" % (got, sizes)
        rel_fixed = (ours - fixed.inertia_) / fixed.inertia_
        assert abs(rel_fixed) <= 1e-9, "engage %.9f vs scikit-learn from its centroids %.9f (%.2e)" % (
            ours, fixed.inertia_, rel_fixed)
        rel = (ours - km.inertia_) / km.inertia_
        assert rel <= 1e-4, "engage %.9f vs scikit-learn %.9f (%.2e)" % (ours, km.inertia_, rel)
        return "(sizes %s, %d iteration(s) from engage's centroids, relative inertia difference %.1e; " \
            "against scikit-learn's restarts %.1e)" % (got, fixed.n_iter_, rel_fixed, rel)
    t_kmeans_converged()

    @checked("cluster statistics = pandas groupby over the clusters")
    def t_stats():
        c = frame(conn, "SELECT msisdn, cluster FROM engage.user_clusters")
        m = users.merge(c, left_on="key", right_on="msisdn", suffixes=("", "_c"))
        g = m.groupby("cluster").agg(users=("sessions", "size"),
                                     s_min=("sessions", "min"), s_max=("sessions", "max"),
                                     s_avg=("sessions", "mean"), d_sum=("duration_ms", "sum"),
                                     b_avg=("total_bytes", "mean"), b_max=("total_bytes", "max"))
        s = frame(conn, "SELECT cluster, users, sessions_min, sessions_max, sessions_avg, "
                        "duration_ms_total, total_bytes_avg, total_bytes_max FROM engage.cluster_stats "
                        "ORDER BY cluster").set_index("cluster")
        assert list(g.index) == list(s.index)
        assert list(g["users"]) == list(s["users"])
        assert list(g["s_min"]) == list(s["sessions_min"]) and list(g["s_max"]) == list(s["sessions_max"])
        assert np.allclose(g["s_avg"], s["sessions_avg"].astype(float), rtol=1e-12)
        assert list(g["d_sum"].astype(float)) == list(s["duration_ms_total"].astype(float))
        assert np.allclose(g["b_avg"], s["total_bytes_avg"].astype(float), rtol=1e-12)
        assert list(g["b_max"].astype(float)) == list(s["total_bytes_max"].astype(float))
        # cluster 1 is the least engaged: ascending average sessions
        assert list(s["sessions_avg"]) == sorted(s["sessions_avg"])
        return "(sizes %s)" % list(s["users"])
    t_stats()

    # per user per application: DL + UL
    per_app = []
    for a in APPS:
        g = sub.groupby("MSISDN/Number").agg(dl=("%s DL (Bytes)" % a, "sum"), ul=("%s UL (Bytes)" % a, "sum"))
        g["total"] = g["dl"] + g["ul"]
        g["application"] = a
        per_app.append(g.reset_index().rename(columns={"MSISDN/Number": "msisdn"}))
    apps = pd.concat(per_app, ignore_index=True)
    apps["key"] = apps["msisdn"].map(text)

    @checked("per-user per-application traffic = pandas groupby (exact)")
    def t_app_usage():
        v = frame(conn, "SELECT msisdn, application, dl_bytes, ul_bytes, total_bytes FROM engage.app_usage")
        m = apps.merge(v, left_on=["key", "application"], right_on=["msisdn", "application"])
        assert len(m) == len(apps) == len(v), "%d / %d / %d rows" % (len(m), len(apps), len(v))
        for a, b in [("dl", "dl_bytes"), ("ul", "ul_bytes"), ("total", "total_bytes")]:
            bad = (m[a].astype(float) != m[b].astype(float)).sum()
            assert bad == 0, "%s differs in %d rows" % (b, bad)
        return "(%d rows)" % len(v)
    t_app_usage()

    totals = apps.groupby("application")["total"].sum()

    @checked("application totals identical")
    def t_app_totals():
        v = frame(conn, "SELECT application, total_bytes FROM engage.app_totals").set_index("application")
        assert sorted(v.index) == sorted(APPS)
        for a in APPS:
            assert float(v.loc[a, "total_bytes"]) == float(totals[a]), "%s: %s != %s" % (
                a, v.loc[a, "total_bytes"], totals[a])
        return ""
    t_app_totals()

    for a in APPS:
        @checked("top 10 users of %s identical (traffic desc, MSISDN asc)" % a)
        def t_app_top(a=a):
            want = top10(apps[apps["application"] == a], "total")
            got = frame(conn, "SELECT msisdn, total_bytes FROM engage.top_users_per_app "
                              "WHERE application = %s ORDER BY rank" % psycopg2.extensions.adapt(a).getquoted().decode())
            assert list(got["msisdn"]) == list(want["key"]), "%s != %s" % (list(got["msisdn"]), list(want["key"]))
            assert list(got["total_bytes"].astype(float)) == list(want["total"].astype(float))
            return ""
        t_app_top()

    @checked("top 3 applications identical")
    def t_top_apps():
        want = list(totals.sort_values(ascending=False).index[:3])
        got = [r[0] for r in query(conn, "SELECT application FROM engage.top_apps ORDER BY rank")]
        assert got == want, "%s != %s" % (got, want)
        return "(%s)" % ", ".join(got)
    t_top_apps()

    window_checks(conn)
    conn.close()
    drop_databases(DB)


def window_checks(conn):
    """A time window (issue 13) on TellCo's text starts, some damaged: the
    run's counts, each user's engagement and each cluster's sessions by
    hour against pandas (the starts parsed by pd.to_datetime with the
    format M/D/YYYY H:MM, what does not parse NaT)."""
    cur = conn.cursor()
    cur.execute("""UPDATE xdr SET "Start" = CASE "Dur. (ms)"::bigint % 4 WHEN 0 THEN 'n/a' WHEN 1 THEN NULL
                                                 WHEN 2 THEN '2/30/2019 10:00' ELSE '4/10/2019 24:00' END
                   WHERE "Dur. (ms)"::bigint % 29 = 0""")
    cur.execute("SET TimeZone = 'UTC'")
    cur.execute("SELECT engage.run_analysis(name => 'pandas window', k_max => 0, "
                "since => '2019-04-08 00:00+00', until => '2019-04-15 00:00+00')")
    run_id = cur.fetchone()[0]
    x = frame(conn, 'SELECT "MSISDN/Number", "Start", "Dur. (ms)", "Total DL (Bytes)", "Total UL (Bytes)" FROM xdr')
    x["st"] = pd.to_datetime(x["Start"], format="%m/%d/%Y %H:%M", errors="coerce")
    inside = x[(x["st"] >= pd.Timestamp("2019-04-08")) & (x["st"] < pd.Timestamp("2019-04-15"))]
    unparsed = int(x["st"].isna().sum())
    users = inside[inside["MSISDN/Number"].notna()].groupby("MSISDN/Number").agg(
        sessions=("Dur. (ms)", "size"), duration_ms=("Dur. (ms)", "sum"),
        dl=("Total DL (Bytes)", "sum"), ul=("Total UL (Bytes)", "sum")).reset_index()
    users["total_bytes"] = users["dl"] + users["ul"]
    text = msisdn_text(conn, users["MSISDN/Number"])
    users["key"] = users["MSISDN/Number"].map(text)

    @checked("a time window: rows read, without subscriber, left out for their start, users = pandas")
    def t_window_run():
        r = query(conn, "SELECT status, rows_read, rows_without_subscriber, rows_unparsed_start, users "
                        "FROM engage.run WHERE run_id = %s", (run_id,))[0]
        want = ("ok", len(inside) + unparsed, int(inside["MSISDN/Number"].isna().sum()), unparsed, len(users))
        assert r == want and unparsed > 0, "%s != %s" % (r, want)
        return "(%s rows read, %s without subscriber, %s left out, %s users)" % want[1:]
    t_window_run()

    @checked("a time window: per-user engagement = pandas groupby of the window's rows (exact)")
    def t_window_users():
        v = frame(conn, "SELECT msisdn, sessions, duration_ms, total_bytes FROM engage.user_engagement "
                        "WHERE name = 'pandas window'")
        m = users.merge(v, left_on="key", right_on="msisdn", suffixes=("", "_sql"))
        assert len(m) == len(users) == len(v), "%d / %d / %d users" % (len(m), len(users), len(v))
        for c in ["sessions", "duration_ms", "total_bytes"]:
            bad = (m[c].astype(float) != m[c + "_sql"].astype(float)).sum()
            assert bad == 0, "%s differs for %d users" % (c, bad)
        return "(%d users)" % len(v)
    t_window_users()

    @checked("hours of activity: each cluster's sessions by hour = pandas (the window's rows by the users' clusters)")
    def t_activity():
        c = frame(conn, "SELECT msisdn, cluster FROM engage.user_clusters WHERE name = 'pandas window'")
        rows = inside[inside["MSISDN/Number"].notna()].copy()
        rows["key"] = rows["MSISDN/Number"].map(text)
        m = rows.merge(c, left_on="key", right_on="msisdn")
        assert len(m) == len(rows), "%d of %d rows joined" % (len(m), len(rows))
        want = m.groupby(["cluster", m["st"].dt.hour]).size()
        got = frame(conn, "SELECT cluster, hour, sessions, share FROM engage.cluster_activity "
                          "WHERE name = 'pandas window' ORDER BY cluster, hour")
        assert len(got) == 24 * c["cluster"].nunique(), "%d rows" % len(got)
        for r in got.itertuples():
            assert int(r.sessions) == int(want.get((r.cluster, r.hour), 0)), "cluster %s hour %s: %s != %s" % (
                r.cluster, r.hour, r.sessions, want.get((r.cluster, r.hour), 0))
            share = want.get((r.cluster, r.hour), 0) / want[r.cluster].sum()
            assert abs(float(r.share) - share) <= 1e-12, "share %s != %s" % (r.share, share)
        return "(%d clusters x 24 hours, %d sessions)" % (c["cluster"].nunique(), int(got["sessions"].sum()))
    t_activity()


if __name__ == "__main__":
    finish(main)
