-- test/load/bi_read.sql (pgbench script): what a BI dashboard reads: every
-- result view, a user's row, and the HTML report, which must be a whole
-- page of the latest run (report_html is STABLE: one snapshot).
\set u random(1, 7000)
SELECT * FROM engage.latest_run;
SELECT metric, rank, msisdn, value FROM engage.top_users ORDER BY metric, rank;
SELECT cluster, label, description, users, share, sessions_avg, duration_ms_avg, total_bytes_avg
FROM engage.cluster_stats ORDER BY cluster;
SELECT cluster, label, count(*), avg(distance), max(distance) FROM engage.user_clusters GROUP BY 1, 2 ORDER BY 1;
SELECT rank, application, users, total_bytes FROM engage.top_apps ORDER BY rank;
SELECT rank, application, users, dl_bytes, ul_bytes, total_bytes FROM engage.app_totals ORDER BY rank;
SELECT application, rank, msisdn, total_bytes FROM engage.top_users_per_app ORDER BY application, rank;
SELECT k, inertia, silhouette, is_elbow FROM engage.elbow ORDER BY k;
SELECT msisdn, sessions, duration_ms, total_bytes FROM engage.user_engagement
ORDER BY total_bytes DESC NULLS LAST, msisdn LIMIT 20 OFFSET :u % 100;
SELECT a.application, a.total_bytes FROM engage.app_usage a
WHERE a.msisdn = (SELECT min(msisdn) FROM engage.user_engagement WHERE sessions >= 1 + :u % 3);
SELECT loadtest.check(r.h LIKE '<!DOCTYPE html>%' AND r.h LIKE '%</html>%'
                      AND position(format(', run %s</title>', l.run_id) IN r.h) > 0,
                      format('report_html: %s characters, not a whole report of run %s', length(r.h), l.run_id))
FROM (SELECT engage.report_html() AS h) r CROSS JOIN engage.latest_run l;
