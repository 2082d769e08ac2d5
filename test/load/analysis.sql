-- test/load/analysis.sql (pgbench script): one whole analysis of the live
-- xDR table, with random k, seed and elbow range (k_max 0 skips the elbow).
-- run_analysis returns NULL when the run failed (it logs the failure and
-- raises a WARNING): that is a failure of the load test.
\set k random(2, 4)
\set seed random(0, 3)
\set kmax random(0, 3)
SELECT loadtest.check(engage.run_analysis('public.xdr', k => :k, seed => :seed, k_max => :kmax) IS NOT NULL,
                      'run_analysis failed (see engage.run)');
