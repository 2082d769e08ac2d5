-- test/load/direct.sql (pgbench script): the SQL functions called directly
-- on live data.  Each check is one statement, so the points query that the
-- clustering functions run (SPI, read-only) sees the statement's snapshot:
-- the users of the latest run, however many runs commit meanwhile.
\set k random(2, 4)
\set lo random(0, 40)
-- K-means of the latest run's users: one row per user, clusters 1..k
SELECT loadtest.check(count(*) = max(l.users) AND count(DISTINCT c.cluster) = :k
                      AND min(c.cluster) = 1 AND max(c.cluster) = :k AND min(c.distance) >= 0,
                      format('kmeans_cluster: %s rows, %s clusters for %s users, k = %s',
                             count(*), count(DISTINCT c.cluster), max(l.users), :k))
FROM engage.kmeans_cluster('SELECT msisdn, sessions, duration_ms, total_bytes FROM engage.user_engagement',
                           :k, n_init => 2) c
CROSS JOIN engage.latest_run l;
-- The elbow: k = 1..3; with z-scored features the inertia at k = 1 is
-- (users x 3 features), up to rounding
SELECT loadtest.check(count(*) = 3 AND count(*) FILTER (WHERE e.is_elbow) <= 1
                      AND abs(max(e.inertia) FILTER (WHERE e.k = 1) - 3.0 * max(l.users)) <= 1e-9 * 3.0 * max(l.users),
                      format('elbow_inertia: %s rows, inertia at k = 1 is %s for %s users',
                             count(*), max(e.inertia) FILTER (WHERE e.k = 1), max(l.users)))
FROM engage.elbow_inertia('SELECT msisdn, sessions, duration_ms, total_bytes FROM engage.user_engagement',
                          1, 3, n_init => 2) e
CROSS JOIN engage.latest_run l;
-- engagement_agg on the live table against plain exact sums, for the
-- subscribers of 1/40 of the number range
SELECT loadtest.check(bool_and((g.e).sessions = g.n AND (g.e).duration_ms IS NOT DISTINCT FROM g.dur
                               AND (g.e).dl_bytes IS NOT DISTINCT FROM g.dl AND (g.e).ul_bytes IS NOT DISTINCT FROM g.ul
                               AND (g.e).null_values = 0 AND (g.e).rejected_values = 0),
                      'engagement_agg disagrees with count and sum')
FROM (SELECT x."MSISDN/Number",
             engage.engagement_agg(x."Dur. (ms)", x."Total DL (Bytes)", x."Total UL (Bytes)") AS e,
             count(*) AS n, sum(x."Dur. (ms)"::numeric) AS dur,
             sum(x."Total DL (Bytes)"::numeric) AS dl, sum(x."Total UL (Bytes)"::numeric) AS ul
      FROM public.xdr x
      WHERE x."MSISDN/Number"::bigint % 41 = :lo
      GROUP BY 1) g;
