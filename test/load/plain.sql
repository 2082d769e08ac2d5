-- test/load/plain.sql: the results of the analysis recomputed in plain SQL
-- (count, sum over numeric, GROUP BY, ORDER BY ... LIMIT) from the xDR table
-- as it is after the load, for test/load/pgbench.sh to compare with the
-- views of a run made then.  Float8 measures of the generated data are
-- integers below 2^53, so their sums over numeric are exact, as
-- engagement_agg's are.

CREATE TABLE loadtest.plain_users AS
SELECT x."MSISDN/Number" AS m, x."MSISDN/Number"::text AS msisdn, count(*) AS sessions,
       sum(x."Dur. (ms)"::numeric) AS duration_ms,
       sum(x."Total DL (Bytes)"::numeric) AS dl_bytes, sum(x."Total UL (Bytes)"::numeric) AS ul_bytes,
       CASE WHEN count(x."Total DL (Bytes)") + count(x."Total UL (Bytes)") > 0
            THEN COALESCE(sum(x."Total DL (Bytes)"::numeric), 0) + COALESCE(sum(x."Total UL (Bytes)"::numeric), 0)
       END AS total_bytes
FROM public.xdr x
WHERE x."MSISDN/Number" IS NOT NULL
GROUP BY 1;

ANALYZE loadtest.plain_users;

CREATE TABLE loadtest.plain_top_users AS
SELECT metric, rank, msisdn, value
FROM (SELECT 'sessions' AS metric, row_number() OVER (ORDER BY sessions DESC, m) AS rank, msisdn,
             sessions::numeric AS value FROM loadtest.plain_users
      UNION ALL
      SELECT 'duration_ms', row_number() OVER (ORDER BY duration_ms DESC, m), msisdn, duration_ms
      FROM loadtest.plain_users WHERE duration_ms IS NOT NULL
      UNION ALL
      SELECT 'total_bytes', row_number() OVER (ORDER BY total_bytes DESC, m), msisdn, total_bytes
      FROM loadtest.plain_users WHERE total_bytes IS NOT NULL) t
WHERE rank <= 10;

-- One row per user and application (unpivoted), as app_usage
CREATE TABLE loadtest.plain_app_usage AS
SELECT x."MSISDN/Number" AS m, x."MSISDN/Number"::text AS msisdn, a.application,
       sum(a.dl::numeric) AS dl_bytes, sum(a.ul::numeric) AS ul_bytes,
       CASE WHEN count(a.dl) + count(a.ul) > 0
            THEN COALESCE(sum(a.dl::numeric), 0) + COALESCE(sum(a.ul::numeric), 0) END AS total_bytes
FROM public.xdr x
CROSS JOIN LATERAL (VALUES ('Social Media', x."Social Media DL (Bytes)", x."Social Media UL (Bytes)"),
                           ('Google', x."Google DL (Bytes)", x."Google UL (Bytes)"),
                           ('Email', x."Email DL (Bytes)", x."Email UL (Bytes)"),
                           ('Youtube', x."Youtube DL (Bytes)", x."Youtube UL (Bytes)"),
                           ('Netflix', x."Netflix DL (Bytes)", x."Netflix UL (Bytes)"),
                           ('Gaming', x."Gaming DL (Bytes)", x."Gaming UL (Bytes)"),
                           ('Other', x."Other DL (Bytes)", x."Other UL (Bytes)")) AS a(application, dl, ul)
WHERE x."MSISDN/Number" IS NOT NULL
GROUP BY 1, 2, 3;

CREATE TABLE loadtest.plain_app_totals AS
SELECT application,
       row_number() OVER (ORDER BY sum(total_bytes) DESC NULLS LAST, application) AS rank,
       count(*) FILTER (WHERE total_bytes > 0) AS users,
       sum(dl_bytes) AS dl_bytes, sum(ul_bytes) AS ul_bytes, sum(total_bytes) AS total_bytes
FROM loadtest.plain_app_usage
GROUP BY application;

CREATE TABLE loadtest.plain_top_users_per_app AS
SELECT application, rank, msisdn, total_bytes
FROM (SELECT application, row_number() OVER (PARTITION BY application ORDER BY total_bytes DESC, m) AS rank,
             msisdn, total_bytes
      FROM loadtest.plain_app_usage WHERE total_bytes IS NOT NULL) t
WHERE rank <= 10;

-- The clustering of the plain per-user table, with the run's k and seed:
-- the split K-means on aggregates (kmeans_fit_sampled, each user's
-- cluster and distance by kmeans_nearest), which run_analysis runs in
-- memory: the same points in another row order, so the same clusters and
-- distances, bit for bit
CREATE TABLE loadtest.plain_clusters AS
WITH f AS (
  SELECT engage.kmeans_fit_sampled('SELECT msisdn, sessions, COALESCE(duration_ms, 0), COALESCE(total_bytes, 0) '
                                   'FROM loadtest.plain_users ORDER BY random()',
                                   (SELECT k FROM engage.latest_run),
                                   seed => (SELECT (parameters ->> 'seed')::bigint FROM engage.latest_run),
                                   in_memory => false) AS m
)
SELECT u.msisdn::text AS msisdn, n.cluster, n.distance
FROM loadtest.plain_users u, f,
     LATERAL engage.kmeans_nearest(f.m, ARRAY[u.sessions::double precision, COALESCE(u.duration_ms, 0)::double precision,
                                              COALESCE(u.total_bytes, 0)::double precision]) n;

CREATE TABLE loadtest.plain_cluster_stats AS
SELECT c.cluster, count(*) AS users, count(*)::numeric / (SELECT count(*) FROM loadtest.plain_users) AS share,
       min(u.sessions) AS sessions_min, max(u.sessions) AS sessions_max, sum(u.sessions) AS sessions_total,
       min(u.duration_ms) AS duration_ms_min, max(u.duration_ms) AS duration_ms_max, sum(u.duration_ms) AS duration_ms_total,
       min(u.total_bytes) AS total_bytes_min, max(u.total_bytes) AS total_bytes_max, sum(u.total_bytes) AS total_bytes_total
FROM loadtest.plain_clusters c JOIN loadtest.plain_users u USING (msisdn)
GROUP BY c.cluster;

CREATE TABLE loadtest.plain_elbow AS
SELECT e.k, e.inertia, e.silhouette, e.is_elbow
FROM engage.elbow_fit_sampled('SELECT msisdn, sessions, COALESCE(duration_ms, 0), COALESCE(total_bytes, 0) '
                              'FROM loadtest.plain_users ORDER BY random()',
                              1, (SELECT (parameters ->> 'k_max')::integer FROM engage.latest_run),
                              seed => (SELECT (parameters ->> 'seed')::bigint FROM engage.latest_run),
                              in_memory => false) e;
