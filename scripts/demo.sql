-- scripts/demo.sql: the engagement analysis of the demo, on table public.xdr
-- (TellCo layout), with engage.run_analysis, and a summary of its results
-- from the result views.  Run by scripts/demo.sh, which then writes the HTML
-- report (engage.report_html) to report/engagement.html.
\set ON_ERROR_STOP 1
\pset footer off
\pset null '(null)'
\timing off
-- The analysis the summary shows (psql -v name=...): by default the one
-- run_analysis names after public.xdr.  Every result view holds the latest
-- run of each analysis, so each query filters by its name.
\if :{?name}
\else
\set name public.xdr
\endif

\echo
\echo '== engage demo: user engagement in the TellCo xDR data (table public.xdr)'

-- The whole analysis in one call: per-user engagement, top 10s, K-means
-- (k = 3) with cluster statistics, application usage, the elbow (k = 1..10).
-- engage.progress reports each step as a NOTICE (on the terminal only).
SET engage.progress = on;
\echo
\echo '-- The analysis: SELECT engage.run_analysis(''public.xdr'')'
SELECT engage.run_analysis('public.xdr') AS run_id;
RESET engage.progress;

-- Rows without a subscriber (NULL MSISDN) are left out of every per-user
-- result, and counted here so that nothing disappears silently.
\echo
\echo '-- The run (rows without a subscriber, NULL MSISDN, are left out of every per-user result below)'
SELECT run_id, source, rows_read,
       rows_without_subscriber AS rows_left_out_without_subscriber,
       rejected_values AS nan_infinite_negative_values_skipped,
       users, k, round(inertia::numeric, 1) AS inertia, elbow_k
FROM engage.latest_run WHERE name = :'name';

-- Top 10 per metric (engage.top_users); ties broken by MSISDN ascending
\echo
\echo '-- Top 10 users by session frequency (ties: MSISDN ascending)'
SELECT t.rank, t.msisdn, u.sessions, u.duration_ms, u.total_bytes
FROM engage.top_users t JOIN engage.user_engagement u USING (name, run_id, msisdn)
WHERE t.name = :'name' AND t.metric = 'sessions' ORDER BY t.rank;

\echo
\echo '-- Top 10 users by total session duration (ms)'
SELECT t.rank, t.msisdn, u.sessions, u.duration_ms, round(u.duration_ms / 60000, 1) AS minutes, u.total_bytes
FROM engage.top_users t JOIN engage.user_engagement u USING (name, run_id, msisdn)
WHERE t.name = :'name' AND t.metric = 'duration_ms' ORDER BY t.rank;

\echo
\echo '-- Top 10 users by total traffic (DL + UL bytes; 1 GB = 10^9 bytes)'
SELECT t.rank, t.msisdn, u.sessions, u.duration_ms, u.total_bytes,
       engage.format_bytes(u.total_bytes) AS traffic
FROM engage.top_users t JOIN engage.user_engagement u USING (name, run_id, msisdn)
WHERE t.name = :'name' AND t.metric = 'total_bytes' ORDER BY t.rank;

-- K-means (k = 3) on the z-scored engagement metrics; clusters are numbered
-- by ascending centroid norm, so 1 is the least engaged group
\echo
\echo '-- Engagement clusters (k = 3, z-scored): min / max / average / total per metric'
SELECT cluster, label, users, round(100 * share, 1) AS pct_users,
       sessions_min AS min_sessions, sessions_max AS max_sessions,
       round(sessions_avg, 2) AS avg_sessions, sessions_total AS total_sessions,
       round(duration_ms_min / 60000, 1) AS min_minutes, round(duration_ms_max / 60000, 1) AS max_minutes,
       round(duration_ms_avg / 60000, 1) AS avg_minutes, round(duration_ms_total / 3600000) AS total_hours,
       engage.format_bytes(total_bytes_min) AS min_traffic, engage.format_bytes(total_bytes_max) AS max_traffic,
       engage.format_bytes(total_bytes_avg) AS avg_traffic, engage.format_bytes(total_bytes_total) AS total_traffic
FROM engage.cluster_stats WHERE name = :'name' ORDER BY cluster;

\echo
\echo '-- The clusters in words'
SELECT cluster, label, description FROM engage.cluster_stats WHERE name = :'name' ORDER BY cluster;

\echo
\echo '-- Top 3 applications by total traffic (DL + UL)'
SELECT rank, application, users, total_bytes, engage.format_bytes(total_bytes) AS traffic
FROM engage.top_apps WHERE name = :'name' ORDER BY rank;

\echo
\echo '-- Elbow method: inertia for k = 1..10 and the elbow (Kneedle)'
SELECT k, round(inertia::numeric, 1) AS inertia, round(silhouette::numeric, 4) AS silhouette,
       CASE WHEN is_elbow THEN '<- elbow' ELSE '' END AS elbow
FROM engage.elbow WHERE name = :'name' ORDER BY k;

SELECT format('The elbow is at k = %s; the clustering above uses k = %s.',
              COALESCE(elbow_k::text, 'none (no knee)'), k) AS elbow
FROM engage.latest_run WHERE name = :'name' \gset
\echo
\echo :elbow
