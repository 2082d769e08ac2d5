-- test/load/refresh.sql (pgbench script): the refreshes.  (1) Ingest and
-- refresh in one transaction: new rows, then run_analysis, which must see
-- them and succeed; (2) a BI tool's cache (a materialized view over
-- engage.cluster_stats) refreshed concurrently, whose rows must agree with
-- the run log of the run they come from.
\set first random(0, 999995)
BEGIN;
INSERT INTO public.xdr SELECT * FROM engage.xdr_rows(1000000, 7000, 1, :first, 5);
INSERT INTO loadtest.inserted VALUES ('refresh', 5);
SELECT COALESCE(engage.run_analysis('public.xdr', k => 3, k_max => 2, seed => 1), -1) AS rid \gset
SELECT loadtest.check(r.status = 'ok' AND r.rows_read >= 5, format('ingest and refresh: run %s has status %s', :rid, r.status))
FROM (SELECT NULL) x LEFT JOIN engage.run r ON r.run_id = :rid;
COMMIT;
REFRESH MATERIALIZED VIEW CONCURRENTLY loadtest.dashboard;
SELECT loadtest.check(count(DISTINCT d.run_id) = 1 AND sum(d.users) = max(r.users) AND count(*) = max(r.k),
                      'loadtest.dashboard disagrees with engage.run')
FROM loadtest.dashboard d JOIN engage.run r ON r.run_id = d.run_id;
