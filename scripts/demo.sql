-- scripts/demo.sql: the engagement analysis of the demo, on table public.xdr
-- (TellCo layout).  Run by scripts/demo.sh.
\pset footer off
\pset null '(null)'
\timing off

\echo
\echo '== engage demo: user engagement in the TellCo xDR data (table public.xdr)'

-- Rows without a subscriber (NULL MSISDN) are left out of per-user results,
-- and counted here so that nothing disappears silently.
\echo
\echo '-- Data (rows without a subscriber, NULL MSISDN, are left out of every per-user result below)'
SELECT count(*) AS xdr_rows,
       count(*) FILTER (WHERE "MSISDN/Number" IS NULL) AS rows_left_out_without_subscriber,
       count(DISTINCT "MSISDN/Number") AS users
FROM public.xdr;

-- Per-user engagement with engage.engagement_agg
CREATE TEMP TABLE user_engagement AS
SELECT "MSISDN/Number"::bigint AS msisdn,
       (engage.engagement_agg("Dur. (ms)", "Total DL (Bytes)", "Total UL (Bytes)")).*
FROM public.xdr
WHERE "MSISDN/Number" IS NOT NULL
GROUP BY "MSISDN/Number";

\echo
\echo '-- Engagement over all users'
SELECT count(*) AS users,
       sum(sessions) AS sessions,
       round(avg(sessions), 3) AS avg_sessions,
       round(sum(duration_ms) / 3600000, 1) AS total_duration_hours,
       round(sum(total_bytes) / 1e12, 3) AS total_traffic_tb,
       sum(null_values) AS null_values,
       sum(rejected_values) AS rejected_values
FROM user_engagement;

\echo
\echo '-- Sessions per user'
SELECT sessions, count(*) AS users
FROM user_engagement GROUP BY 1 ORDER BY 1;

-- Top 10 per metric; ties broken by MSISDN ascending
\echo
\echo '-- Top 10 users by session frequency (ties: MSISDN ascending)'
SELECT msisdn, sessions, duration_ms, total_bytes
FROM user_engagement ORDER BY sessions DESC, msisdn LIMIT 10;

\echo
\echo '-- Top 10 users by total session duration (ms)'
SELECT msisdn, sessions, duration_ms, total_bytes
FROM user_engagement ORDER BY duration_ms DESC NULLS LAST, msisdn LIMIT 10;

\echo
\echo '-- Top 10 users by total traffic (DL + UL bytes)'
SELECT msisdn, sessions, duration_ms, total_bytes,
       pg_size_pretty(total_bytes) AS traffic
FROM user_engagement ORDER BY total_bytes DESC NULLS LAST, msisdn LIMIT 10;

-- K-means (k = 3) on the z-scored engagement metrics; clusters are numbered
-- by ascending centroid norm, so 1 is the least engaged group
CREATE TEMP TABLE user_clusters AS
SELECT * FROM engage.kmeans_cluster(
  'SELECT msisdn, sessions, duration_ms, total_bytes FROM user_engagement', 3);

\echo
\echo '-- Engagement clusters (k = 3, z-scored): min / max / average / total per metric'
SELECT c.cluster, count(*) AS users,
       round(100.0 * count(*) / sum(count(*)) OVER (), 1) AS pct_users,
       min(u.sessions) AS min_sessions, max(u.sessions) AS max_sessions,
       round(avg(u.sessions), 2) AS avg_sessions, sum(u.sessions) AS total_sessions,
       min(u.duration_ms) AS min_duration_ms, max(u.duration_ms) AS max_duration_ms,
       round(avg(u.duration_ms)) AS avg_duration_ms, sum(u.duration_ms) AS total_duration_ms,
       pg_size_pretty(min(u.total_bytes)) AS min_traffic, pg_size_pretty(max(u.total_bytes)) AS max_traffic,
       pg_size_pretty(round(avg(u.total_bytes))) AS avg_traffic, pg_size_pretty(sum(u.total_bytes)) AS total_traffic
FROM user_clusters c JOIN user_engagement u ON u.msisdn::text = c.key
GROUP BY c.cluster ORDER BY c.cluster;

\echo
\echo '-- Elbow method: inertia for k = 1..10 and the elbow (Kneedle)'
SELECT k, round(inertia::numeric, 1) AS inertia, round(silhouette::numeric, 4) AS silhouette,
       CASE WHEN is_elbow THEN '<- elbow' ELSE '' END AS elbow
FROM engage.elbow_inertia('SELECT msisdn, sessions, duration_ms, total_bytes FROM user_engagement')
ORDER BY k;
