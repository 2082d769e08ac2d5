-- analysis: engage.run_analysis and its result views, checked against plain
-- SQL on the same table; run log, failed runs, renamed columns, bad input.
SET extra_float_digits = 0;
SET client_min_messages = warning;
SELECT engage.generate_xdr('public.xdr', 30000, seed => 3);
RESET client_min_messages;

-- The references of run_analysis's K-means and elbow on a points query
-- (key, three features), computed apart: the split K-means on aggregates
-- (kmeans_fit_sampled, each point's cluster and distance by
-- kmeans_nearest for its model; elbow_fit_sampled), which run_analysis
-- runs in memory on one node, with every normalization (robust's scaler by
-- quantile_pass_agg's passes there, by the same passes in memory here)
CREATE FUNCTION ref_clusters(points text, k integer, norm text, seed bigint)
RETURNS TABLE (msisdn text, cluster integer, distance double precision)
LANGUAGE plpgsql AS $f$
DECLARE
	m engage.kmeans_model;
BEGIN
	m := engage.kmeans_fit_sampled(points, k, norm, seed => seed, in_memory => false);
	RETURN QUERY EXECUTE format('SELECT p.k::text, n.cluster, n.distance FROM (%s) p(k, f1, f2, f3) '
	                            'CROSS JOIN LATERAL engage.kmeans_nearest($1, ARRAY[p.f1, p.f2, p.f3]::double precision[]) n',
	                            points) USING m;
END
$f$;
CREATE FUNCTION ref_curve(points text, k_max integer, norm text, seed bigint, smp integer DEFAULT NULL)
RETURNS TABLE (k integer, inertia double precision, silhouette double precision, iterations integer,
               is_elbow boolean, centroids_normalized double precision[], sample_size integer,
               davies_bouldin double precision, calinski_harabasz double precision)
LANGUAGE plpgsql AS $f$
BEGIN
	RETURN QUERY SELECT * FROM engage.elbow_fit_sampled(points, 1, k_max, norm, seed => seed, sample => smp,
	                                                     in_memory => false);
END
$f$;

-- No run yet: the views are empty
SELECT count(*) FROM engage.user_engagement;
SELECT count(*) FROM engage.latest_run;

-- The whole analysis, with progress notices (their durations are in the
-- DETAIL, which terse verbosity leaves out)
SET engage.progress = on;
\set VERBOSITY terse
DO $$
DECLARE r bigint;
BEGIN
  r := engage.run_analysis();
  RAISE NOTICE 'run_analysis returned %', r;
END $$;
\set VERBOSITY default
RESET engage.progress;

-- The run log
SELECT run_id, source, rows_read, rows_without_subscriber, users, k, round(inertia::numeric, 4) AS inertia,
       elbow_k, status, error, ended >= started AS timed, parameters ->> 'k_max' AS k_max
FROM engage.run;
SELECT run_id, status FROM engage.latest_run;
-- rows without subscriber, counted independently
SELECT count(*) AS rows_read, count(*) FILTER (WHERE "MSISDN/Number" IS NULL) AS rows_without_subscriber,
       count(DISTINCT "MSISDN/Number") AS users
FROM xdr;

-- Plain-SQL reference: per-user sums and per-user per-app sums
CREATE TABLE ref_users AS
SELECT "MSISDN/Number" AS m, count(*) AS sessions, sum("Dur. (ms)"::numeric) AS duration_ms,
       sum("Total DL (Bytes)"::numeric) AS dl_bytes, sum("Total UL (Bytes)"::numeric) AS ul_bytes,
       sum("Total DL (Bytes)"::numeric) + sum("Total UL (Bytes)"::numeric) AS total_bytes
FROM xdr WHERE "MSISDN/Number" IS NOT NULL GROUP BY 1;
CREATE TABLE ref_apps AS
SELECT x."MSISDN/Number" AS m, a.application, sum(a.dl::numeric) AS dl_bytes, sum(a.ul::numeric) AS ul_bytes,
       sum(a.dl::numeric) + sum(a.ul::numeric) AS total_bytes
FROM xdr x CROSS JOIN LATERAL (VALUES
  ('Social Media', x."Social Media DL (Bytes)", x."Social Media UL (Bytes)"),
  ('Google', x."Google DL (Bytes)", x."Google UL (Bytes)"),
  ('Email', x."Email DL (Bytes)", x."Email UL (Bytes)"),
  ('Youtube', x."Youtube DL (Bytes)", x."Youtube UL (Bytes)"),
  ('Netflix', x."Netflix DL (Bytes)", x."Netflix UL (Bytes)"),
  ('Gaming', x."Gaming DL (Bytes)", x."Gaming UL (Bytes)"),
  ('Other', x."Other DL (Bytes)", x."Other UL (Bytes)")) AS a(application, dl, ul)
WHERE x."MSISDN/Number" IS NOT NULL GROUP BY 1, 2;
-- statistics for the joins below, as autovacuum would gather them
ANALYZE ref_users, ref_apps, engage.result_user_engagement, engage.result_user_cluster;

-- Every row of every view of one analysis (name), as text
CREATE FUNCTION named_rows(analysis text) RETURNS TABLE (view text, row_text text)
LANGUAGE sql STABLE AS $$
SELECT 'latest_run', t::text FROM engage.latest_run t WHERE t.name = analysis
UNION ALL SELECT 'user_engagement', t::text FROM engage.user_engagement t WHERE t.name = analysis
UNION ALL SELECT 'user_clusters', t::text FROM engage.user_clusters t WHERE t.name = analysis
UNION ALL SELECT 'cluster_stats', t::text FROM engage.cluster_stats t WHERE t.name = analysis
UNION ALL SELECT 'top_users', t::text FROM engage.top_users t WHERE t.name = analysis
UNION ALL SELECT 'app_usage', t::text FROM engage.app_usage t WHERE t.name = analysis
UNION ALL SELECT 'app_totals', t::text FROM engage.app_totals t WHERE t.name = analysis
UNION ALL SELECT 'top_users_per_app', t::text FROM engage.top_users_per_app t WHERE t.name = analysis
UNION ALL SELECT 'top_apps', t::text FROM engage.top_apps t WHERE t.name = analysis
UNION ALL SELECT 'elbow', t::text FROM engage.elbow t WHERE t.name = analysis
$$;

-- user_engagement: the same users and sums (differences in either direction)
SELECT count(*) AS users, (SELECT count(*) FROM engage.user_engagement) AS view_users FROM ref_users;
SELECT count(*) AS differing FROM (
  (SELECT m::text, sessions, duration_ms, dl_bytes, ul_bytes, total_bytes FROM ref_users
   EXCEPT SELECT msisdn, sessions, duration_ms, dl_bytes, ul_bytes, total_bytes FROM engage.user_engagement)
  UNION ALL
  (SELECT msisdn, sessions, duration_ms, dl_bytes, ul_bytes, total_bytes FROM engage.user_engagement
   EXCEPT SELECT m::text, sessions, duration_ms, dl_bytes, ul_bytes, total_bytes FROM ref_users)) d;

-- top_users: identical to ORDER BY value DESC, msisdn ASC LIMIT 10, ties included
WITH ref AS (
  (SELECT 'sessions' AS metric, row_number() OVER (ORDER BY sessions DESC, m) AS rank, m::text AS msisdn, sessions::numeric AS value
   FROM ref_users ORDER BY sessions DESC, m LIMIT 10)
  UNION ALL
  (SELECT 'duration_ms', row_number() OVER (ORDER BY duration_ms DESC, m), m::text, duration_ms
   FROM ref_users ORDER BY duration_ms DESC, m LIMIT 10)
  UNION ALL
  (SELECT 'total_bytes', row_number() OVER (ORDER BY total_bytes DESC, m), m::text, total_bytes
   FROM ref_users ORDER BY total_bytes DESC, m LIMIT 10))
SELECT (SELECT count(*) FROM ref) AS ref_rows, (SELECT count(*) FROM engage.top_users) AS view_rows,
       (SELECT count(*) FROM (SELECT metric, rank, msisdn, value FROM ref
                              EXCEPT SELECT metric, rank, msisdn, value FROM engage.top_users) d) AS differing;
-- ties are present in the sessions list, and broken by MSISDN ascending
SELECT rank, value, msisdn < lead(msisdn) OVER (ORDER BY rank) AS before_next_tie
FROM engage.top_users WHERE metric = 'sessions' ORDER BY rank;

-- user_clusters: the model of kmeans_fit_sampled on aggregates over the
-- same points, bit for bit (run_analysis fits it in memory), and each
-- user's cluster and distance as kmeans_nearest gives them for it
CREATE TABLE an_fit AS
SELECT engage.kmeans_fit_sampled('SELECT msisdn, sessions, COALESCE(duration_ms, 0), COALESCE(total_bytes, 0) FROM engage.user_engagement',
                                 3, in_memory => false) AS m;
SELECT r.cluster_model::text = f.m::text AS model_agrees FROM engage.run r, an_fit f WHERE r.run_id = 1;
SELECT count(*) AS differing FROM (
  (SELECT msisdn, cluster, distance FROM engage.user_clusters
   EXCEPT SELECT * FROM ref_clusters('SELECT msisdn, sessions, COALESCE(duration_ms, 0), COALESCE(total_bytes, 0) FROM engage.user_engagement', 3, 'zscore', 0))
  UNION ALL
  (SELECT * FROM ref_clusters('SELECT msisdn, sessions, COALESCE(duration_ms, 0), COALESCE(total_bytes, 0) FROM engage.user_engagement', 3, 'zscore', 0)
   EXCEPT SELECT msisdn, cluster, distance FROM engage.user_clusters)) d;
-- The users written once (issue 11): the run stored no per-user cluster
-- rows; the view computes each user's cluster and distance from the run's
-- model, as store_user_clusters (run_analysis's K-means step before) writes
-- them, bit for bit (written here in a transaction rolled back)
SELECT r.clusters_on_read, (SELECT count(*) FROM engage.result_user_cluster x WHERE x.run_id = r.run_id) AS rows_stored
FROM engage.run r WHERE r.run_id = 1;
BEGIN;
SELECT engage.store_user_clusters(1, 'SELECT msisdn, sessions, COALESCE(duration_ms, 0), COALESCE(total_bytes, 0), duration_ms, total_bytes '
                                     'FROM engage.result_user_engagement WHERE run_id = 1', 3, 0)::text = r.cluster_model::text AS same_model
FROM engage.run r WHERE r.run_id = 1;
SELECT (SELECT count(*) FROM engage.user_clusters) AS view_users, count(*) AS written_users,
       count(*) FILTER (WHERE v.cluster = w.cluster AND float8send(v.distance) = float8send(w.distance)
                        AND v.sessions = w.sessions AND v.duration_ms IS NOT DISTINCT FROM w.duration_ms
                        AND v.total_bytes IS NOT DISTINCT FROM w.total_bytes) AS identical
FROM engage.result_user_cluster w JOIN engage.user_clusters v ON v.run_id = w.run_id AND v.msisdn = w.msisdn
WHERE w.run_id = 1;
ROLLBACK;
SELECT s.cluster, s.users = (f.m).sizes[s.cluster] AS size_agrees, s.inertia = (f.m).cluster_inertia[s.cluster] AS inertia_agrees,
       s.centroid = ARRAY[(f.m).centroids[s.cluster][1], (f.m).centroids[s.cluster][2], (f.m).centroids[s.cluster][3]] AS centroid_agrees
FROM engage.cluster_stats s, an_fit f
ORDER BY 1;
-- and close to kmeans_cluster's optimum on the same points: the inertia
-- within 1e-4 (relative), at least 99% of the users in the same cluster
SELECT abs(sum(s.inertia) - (SELECT sum(c.inertia) FROM engage.kmeans_centroids(
         'SELECT msisdn, sessions, duration_ms, total_bytes FROM engage.user_engagement', 3, tol => 0) c))
       <= 1e-4 * sum(s.inertia) AS inertia_close_to_kmeans_cluster
FROM engage.cluster_stats s;
SELECT count(*) FILTER (WHERE u.cluster = c.cluster) >= 0.99 * count(*) AS clusters_close_to_kmeans_cluster
FROM engage.user_clusters u
JOIN engage.kmeans_cluster('SELECT msisdn, sessions, duration_ms, total_bytes FROM engage.user_engagement', 3, tol => 0) c
  ON c.key = u.msisdn;
SELECT abs(r.inertia - (SELECT sum(inertia) FROM engage.cluster_stats)) < 1e-6 AS run_inertia_agrees
FROM engage.latest_run r;

-- cluster_stats: equal to a GROUP BY over the join, labels and descriptions
SELECT count(*) AS differing FROM (
  SELECT c.cluster, count(*) AS users, count(*)::numeric / (SELECT count(*) FROM ref_users) AS share,
         min(u.sessions) AS s1, max(u.sessions) AS s2, avg(u.sessions) AS s3, sum(u.sessions) AS s4,
         min(u.duration_ms) AS d1, max(u.duration_ms) AS d2, avg(u.duration_ms) AS d3, sum(u.duration_ms) AS d4,
         min(u.total_bytes) AS b1, max(u.total_bytes) AS b2, avg(u.total_bytes) AS b3, sum(u.total_bytes) AS b4
  FROM engage.user_clusters c JOIN ref_users u ON u.m::text = c.msisdn
  GROUP BY c.cluster
  EXCEPT
  SELECT cluster, users, share, sessions_min, sessions_max, sessions_avg, sessions_total,
         duration_ms_min, duration_ms_max, duration_ms_avg, duration_ms_total,
         total_bytes_min, total_bytes_max, total_bytes_avg, total_bytes_total
  FROM engage.cluster_stats) d;
SELECT cluster, label, users, round(share, 4) AS share, description FROM engage.cluster_stats ORDER BY cluster;
SELECT sum(users) AS users, sum(share) AS share FROM engage.cluster_stats;
SELECT DISTINCT c.cluster, c.label FROM engage.user_clusters c ORDER BY 1;

-- app_usage: equal to the per-user per-app sums
SELECT count(*) AS rows, (SELECT count(*) FROM engage.app_usage) AS view_rows FROM ref_apps;
SELECT count(*) AS differing FROM (
  (SELECT m::text, application, dl_bytes, ul_bytes, total_bytes FROM ref_apps
   EXCEPT SELECT msisdn, application, dl_bytes, ul_bytes, total_bytes FROM engage.app_usage)
  UNION ALL
  (SELECT msisdn, application, dl_bytes, ul_bytes, total_bytes FROM engage.app_usage
   EXCEPT SELECT m::text, application, dl_bytes, ul_bytes, total_bytes FROM ref_apps)) d;

-- app_totals and top_apps: equal to the plain totals
SELECT r.application, r.rank, a.rank = r.rank AS rank_agrees, a.users = r.users AS users_agree,
       a.dl_bytes = r.dl AND a.ul_bytes = r.ul AND a.total_bytes = r.total AS totals_agree
FROM (SELECT application, row_number() OVER (ORDER BY sum(total_bytes) DESC, application) AS rank,
             count(*) FILTER (WHERE total_bytes > 0) AS users,
             sum(dl_bytes) AS dl, sum(ul_bytes) AS ul, sum(total_bytes) AS total
      FROM ref_apps GROUP BY application) r
LEFT JOIN engage.app_totals a USING (application)
ORDER BY r.rank;
SELECT rank, application FROM engage.top_apps ORDER BY rank;

-- top_users_per_app: identical to ORDER BY traffic DESC, msisdn ASC LIMIT 10 per application
SELECT count(*) AS view_rows,
       (SELECT count(*) FROM (
          SELECT application, rank, msisdn, total_bytes FROM engage.top_users_per_app
          EXCEPT
          SELECT application, rank, m::text, total_bytes
          FROM (SELECT application, m, total_bytes,
                       row_number() OVER (PARTITION BY application ORDER BY total_bytes DESC, m) AS rank
                FROM ref_apps) r WHERE rank <= 10) d) AS differing
FROM engage.top_users_per_app;

-- elbow: the curve of elbow_fit_sampled on aggregates over the same
-- points, bit for bit (the indexes too), and the chosen k; each inertia
-- at most 1e-3 (relative: elbow_fit_sampled drops a run 1e-3 above its
-- k's best) above elbow_inertia's, the same elbow
SELECT count(*) AS differing FROM (
  SELECT k, inertia, silhouette, is_elbow, davies_bouldin, calinski_harabasz FROM engage.elbow
  EXCEPT
  SELECT k, inertia, silhouette, is_elbow, davies_bouldin, calinski_harabasz
  FROM ref_curve('SELECT msisdn, sessions, COALESCE(duration_ms, 0), COALESCE(total_bytes, 0) FROM engage.user_engagement', 10, 'zscore', 0)) d;
SELECT count(*) AS ks, count(*) FILTER (WHERE x.inertia <= e.inertia * (1 + 1e-3)) AS inertia_not_above,
       count(*) FILTER (WHERE x.is_elbow = e.is_elbow) AS same_elbow
FROM engage.elbow x
JOIN engage.elbow_inertia('SELECT msisdn, sessions, duration_ms, total_bytes FROM engage.user_engagement') e USING (k);
SELECT count(*) AS ks, (SELECT k FROM engage.elbow WHERE is_elbow) = (SELECT elbow_k FROM engage.latest_run) AS elbow_k_agrees
FROM engage.elbow;

-- store_elbow_curve, run_analysis's elbow step: elbow_fit_sampled's rows
-- (here on aggregates), bit for bit, from the points store_user_clusters
-- kept in the same
-- (sub)transaction (exact path: sample 0; sampled path: sample 50), or read
-- again without them.  The users' rows are changed after the clustering
-- (sessions squared): a curve from the kept points is still the one of the
-- points clustered, one read again is the one of the changed rows.  Each
-- check runs in a subtransaction that it rolls back.
CREATE TABLE se_q AS
SELECT r.run_id,
       format('SELECT msisdn, sessions, COALESCE(duration_ms, 0), COALESCE(total_bytes, 0) FROM engage.result_user_engagement WHERE run_id = %s', r.run_id) AS q4,
       format('SELECT msisdn, sessions, COALESCE(duration_ms, 0), COALESCE(total_bytes, 0), duration_ms, total_bytes FROM engage.result_user_engagement WHERE run_id = %s', r.run_id) AS q6
FROM engage.latest_run r;
CREATE TABLE se_ref AS
SELECT s.sample, e.*
FROM se_q, (VALUES (0), (50)) s(sample),
     LATERAL engage.elbow_fit_sampled(se_q.q4, 1, 5, seed => 7, sample => s.sample) e;
SELECT count(*) AS ref_rows, count(*) FILTER (WHERE sample_size = 50) AS sampled_rows FROM se_ref;
CREATE FUNCTION se_check(label text, smp integer, clustered boolean) RETURNS TABLE (check_name text, differing bigint)
LANGUAGE plpgsql AS $$
DECLARE
	q se_q;
BEGIN
	SELECT * INTO q FROM se_q;
	IF clustered THEN
		DELETE FROM engage.result_user_cluster u WHERE u.run_id = q.run_id;
		PERFORM engage.store_user_clusters(q.run_id, q.q6, 3, 7);
	END IF;
	UPDATE engage.result_user_engagement x SET sessions = x.sessions * x.sessions WHERE x.run_id = q.run_id;
	CREATE TEMP TABLE se_got AS SELECT * FROM engage.store_elbow_curve(q.run_id, q.q4, 5, 7, smp);
	-- kept points: the curve of the rows clustered; read again: of the changed rows
	RETURN QUERY SELECT label || ': got but not expected', count(*) FROM (
		SELECT * FROM se_got
		EXCEPT ALL
		SELECT k, inertia, silhouette, iterations, is_elbow, centroids_normalized, sample_size, davies_bouldin, calinski_harabasz
		FROM se_ref WHERE clustered AND sample = smp
		EXCEPT ALL
		SELECT k, inertia, silhouette, iterations, is_elbow, centroids_normalized, sample_size, davies_bouldin, calinski_harabasz FROM engage.elbow_fit_sampled(q.q4, 1, 5, seed => 7, sample => smp) WHERE NOT clustered) d;
	RETURN QUERY SELECT label || ': expected but not got', count(*) FROM (
		(SELECT k, inertia, silhouette, iterations, is_elbow, centroids_normalized, sample_size, davies_bouldin, calinski_harabasz
		 FROM se_ref WHERE clustered AND sample = smp
		 UNION ALL
		 SELECT k, inertia, silhouette, iterations, is_elbow, centroids_normalized, sample_size, davies_bouldin, calinski_harabasz FROM engage.elbow_fit_sampled(q.q4, 1, 5, seed => 7, sample => smp) WHERE NOT clustered)
		EXCEPT ALL
		SELECT * FROM se_got) d;
	-- and the changed rows have a curve of their own (1: it differs)
	RETURN QUERY SELECT label || ': unlike the clustered rows'' curve', least(count(*), 1) FROM (
		SELECT * FROM se_got
		EXCEPT ALL
		SELECT k, inertia, silhouette, iterations, is_elbow, centroids_normalized, sample_size, davies_bouldin, calinski_harabasz
		FROM se_ref WHERE sample = smp) d;
	-- a second call has no kept points: the changed rows
	RETURN QUERY SELECT label || ': second call', count(*) FROM (
		SELECT * FROM engage.store_elbow_curve(q.run_id, q.q4, 5, 7, smp)
		EXCEPT ALL
		SELECT k, inertia, silhouette, iterations, is_elbow, centroids_normalized, sample_size, davies_bouldin, calinski_harabasz FROM engage.elbow_fit_sampled(q.q4, 1, 5, seed => 7, sample => smp)) d;
	DROP TABLE se_got;
	RAISE EXCEPTION USING ERRCODE = 'P0001', MESSAGE = 'undo';
EXCEPTION WHEN raise_exception THEN
	RETURN;
END
$$;
SELECT * FROM se_check('exact, kept points', 0, true);
SELECT * FROM se_check('sampled, kept points', 50, true);
SELECT * FROM se_check('exact, read again', 0, false);
SELECT * FROM se_check('sampled, read again', 50, false);

-- Every view shows the latest successful run
SELECT (SELECT count(DISTINCT run_id) FROM engage.user_engagement) + (SELECT count(DISTINCT run_id) FROM engage.user_clusters)
     + (SELECT count(DISTINCT run_id) FROM engage.cluster_stats) + (SELECT count(DISTINCT run_id) FROM engage.top_users)
     + (SELECT count(DISTINCT run_id) FROM engage.app_usage) + (SELECT count(DISTINCT run_id) FROM engage.app_totals)
     + (SELECT count(DISTINCT run_id) FROM engage.top_users_per_app) + (SELECT count(DISTINCT run_id) FROM engage.top_apps)
     + (SELECT count(DISTINCT run_id) FROM engage.elbow) AS views_with_one_run;

-- A failing run: a wrong column name.  It is logged as failed, returns NULL
-- with a WARNING, and leaves the previous results and views intact.
CREATE TABLE before AS SELECT * FROM engage.user_engagement;
SELECT engage.run_analysis(duration_column => 'Duration');
SELECT run_id, status, error, sqlstate, rows_read, users FROM engage.run ORDER BY run_id;
SELECT (SELECT run_id FROM engage.latest_run) AS latest_run,
       (SELECT count(*) FROM (SELECT * FROM before EXCEPT SELECT * FROM engage.user_engagement) d) AS differing,
       (SELECT count(*) FROM engage.result_user_engagement WHERE run_id = 2) AS failed_run_rows;
-- too few users for k
CREATE TABLE tiny AS SELECT * FROM xdr WHERE "MSISDN/Number" IS NOT NULL ORDER BY "MSISDN/Number" LIMIT 2;
SELECT engage.run_analysis('tiny', k => 3);
SELECT run_id, status, sqlstate FROM engage.run WHERE run_id = 3;
SELECT run_id FROM engage.latest_run;

-- Overridden column names on a renamed copy of the table, k = 4, no elbow,
-- two applications
CREATE TABLE renamed AS
SELECT "MSISDN/Number" AS "Sub.scriber (id)", "Dur. (ms)" AS "dur", "Total DL (Bytes)" AS "down", "Total UL (Bytes)" AS "up",
       "Youtube DL (Bytes)" AS "yt ""dl""", "Youtube UL (Bytes)" AS "yt ul", "Gaming DL (Bytes)" AS "g.dl", "Gaming UL (Bytes)" AS "g.ul"
FROM xdr;
SELECT engage.run_analysis('renamed', k => 4, seed => 1, k_max => 0, msisdn_column => 'Sub.scriber (id)',
                           duration_column => 'dur', dl_column => 'down', ul_column => 'up',
                           applications => '{"Video": ["yt \"dl\"", "yt ul"], "Games": ["g.dl", "g.ul"]}') IS NOT NULL AS ok;
-- It is an analysis of its own (named after its source): the views show
-- it beside the analysis of public.xdr, each with its name
SELECT name, run_id, source, rows_read, rows_without_subscriber, users, k, elbow_k, status
FROM engage.latest_run ORDER BY name;
SELECT count(*) AS differing FROM (
  SELECT m::text, sessions, duration_ms, dl_bytes, ul_bytes, total_bytes FROM ref_users
  EXCEPT SELECT msisdn, sessions, duration_ms, dl_bytes, ul_bytes, total_bytes FROM engage.user_engagement
  WHERE name = 'public.renamed') d;
SELECT cluster, label FROM engage.cluster_stats WHERE name = 'public.renamed' ORDER BY cluster;
SELECT s.cluster, s.users = c.users AS size_agrees
FROM engage.cluster_stats s
JOIN (SELECT c.cluster, count(*) AS users
      FROM ref_clusters('SELECT msisdn, sessions, COALESCE(duration_ms, 0), COALESCE(total_bytes, 0) FROM engage.user_engagement WHERE name = ''public.renamed''',
                        4, 'zscore', 1) c
      GROUP BY c.cluster) c
  USING (cluster)
WHERE s.name = 'public.renamed'
ORDER BY 1;
SELECT a.application, a.total_bytes = r.total AS totals_agree
FROM engage.app_totals a
JOIN (SELECT CASE application WHEN 'Youtube' THEN 'Video' ELSE 'Games' END AS application, sum(total_bytes) AS total
      FROM ref_apps WHERE application IN ('Youtube', 'Gaming') GROUP BY 1) r USING (application)
WHERE a.name = 'public.renamed'
ORDER BY a.rank;
SELECT count(*) AS elbow_rows FROM engage.elbow WHERE name = 'public.renamed';
CREATE TABLE renamed_rows AS SELECT * FROM named_rows('public.renamed');
SELECT name, run_id, count(*) AS users FROM engage.user_engagement GROUP BY 1, 2 ORDER BY 1;

-- Older runs: only the last keep_runs successful runs of the name keep
-- their results; the runs of other names are left alone (run 4, of
-- public.renamed, stays)
SELECT engage.run_analysis(k_max => 0, keep_runs => 1) IS NOT NULL AS ok;
SELECT run_id, name, status FROM engage.run ORDER BY run_id;
SELECT run_id, count(*) FROM engage.result_user_engagement GROUP BY 1 ORDER BY 1;
SELECT run_id, count(*) FROM engage.result_app_totals GROUP BY 1 ORDER BY 1;

-- Named analyses: several analyses side by side, each with its own latest
-- run, kept runs and lock.  Two analyses of public.xdr, the default name
-- (k = 3, k_max = 4) and "xdr k2" (k = 2, another seed, k_max = 3), beside
-- public.renamed: each view shows each name's latest run, equal to plain
-- SQL on the table (what a run of that name alone gives).
SELECT engage.run_analysis(k => 3, seed => 0, k_max => 4) IS NOT NULL AS ok;
SELECT engage.run_analysis('public.xdr', k => 2, seed => 5, k_max => 3, name => 'xdr k2') IS NOT NULL AS ok;
SELECT name, run_id, source, k, elbow_k, users, parameters ->> 'k_max' AS k_max, parameters ->> 'seed' AS seed
FROM engage.latest_run ORDER BY name;

-- One analysis's views against plain SQL on public.xdr (ref_users and
-- ref_apps) and the clustering functions on the same points, with the
-- analysis's k, seed and k_max: per view, its rows and the rows that
-- differ (in either direction)
CREATE FUNCTION named_vs_plain(analysis text, k integer, seed bigint, k_max integer)
RETURNS TABLE (view text, view_rows bigint, differing bigint)
LANGUAGE sql AS $f$
WITH km AS MATERIALIZED (
  SELECT c.msisdn, c.cluster, c.distance
  FROM ref_clusters('SELECT m::text, sessions, COALESCE(duration_ms, 0), COALESCE(total_bytes, 0) FROM ref_users', $2, 'zscore', $3) c
), stats AS MATERIALIZED (
  SELECT c.cluster, engage.cluster_label(c.cluster, $2) AS label, count(*) AS users,
         count(*)::numeric / (SELECT count(*) FROM ref_users) AS share,
         min(u.sessions) AS s1, max(u.sessions) AS s2, avg(u.sessions) AS s3, sum(u.sessions) AS s4,
         min(u.duration_ms) AS d1, max(u.duration_ms) AS d2, avg(u.duration_ms) AS d3, sum(u.duration_ms) AS d4,
         min(u.total_bytes) AS b1, max(u.total_bytes) AS b2, avg(u.total_bytes) AS b3, sum(u.total_bytes) AS b4
  FROM km c JOIN ref_users u ON u.m::text = c.msisdn
  GROUP BY c.cluster
), tops AS MATERIALIZED (
  SELECT v.metric, v.m::text AS msisdn, v.value,
         row_number() OVER (PARTITION BY v.metric ORDER BY v.value DESC, v.m) AS rank
  FROM ref_users u
  CROSS JOIN LATERAL (VALUES ('sessions', u.m, u.sessions::numeric), ('duration_ms', u.m, u.duration_ms),
                             ('total_bytes', u.m, u.total_bytes)) AS v(metric, m, value)
  WHERE v.value IS NOT NULL
), totals AS MATERIALIZED (
  SELECT application, row_number() OVER (ORDER BY sum(total_bytes) DESC, application) AS rank,
         count(*) FILTER (WHERE total_bytes > 0) AS users,
         sum(dl_bytes) AS dl_bytes, sum(ul_bytes) AS ul_bytes, sum(total_bytes) AS total_bytes
  FROM ref_apps GROUP BY application
), app_tops AS MATERIALIZED (
  SELECT application, m::text AS msisdn, total_bytes,
         row_number() OVER (PARTITION BY application ORDER BY total_bytes DESC, m) AS rank
  FROM ref_apps
), curve AS MATERIALIZED (
  SELECT e.k, e.inertia, e.silhouette, e.is_elbow
  FROM ref_curve('SELECT m::text, sessions, COALESCE(duration_ms, 0), COALESCE(total_bytes, 0) FROM ref_users', $4, 'zscore', $3) e
)
SELECT 'latest_run', (SELECT count(*) FROM engage.latest_run l WHERE l.name = $1),
       (SELECT count(*) FROM engage.latest_run l
        WHERE l.name = $1 AND (l.source, l.k, l.users, l.rows_read, l.status, l.parameters ->> 'seed', l.parameters ->> 'k_max',
                               l.elbow_k::text, round(l.inertia::numeric, 6))
              IS DISTINCT FROM ('public.xdr', $2, (SELECT count(*) FROM ref_users), (SELECT count(*) FROM xdr), 'ok',
                                $3::text, $4::text, (SELECT c.k::text FROM curve c WHERE c.is_elbow),
                                (SELECT round(sum(s.inertia)::numeric, 6) FROM engage.cluster_stats s WHERE s.name = $1)))
UNION ALL
SELECT 'user_engagement', (SELECT count(*) FROM engage.user_engagement v WHERE v.name = $1),
       (SELECT count(*) FROM (
          (SELECT m::text, sessions, duration_ms, dl_bytes, ul_bytes, total_bytes FROM ref_users
           EXCEPT ALL SELECT msisdn, sessions, duration_ms, dl_bytes, ul_bytes, total_bytes FROM engage.user_engagement v WHERE v.name = $1)
          UNION ALL
          (SELECT msisdn, sessions, duration_ms, dl_bytes, ul_bytes, total_bytes FROM engage.user_engagement v WHERE v.name = $1
           EXCEPT ALL SELECT m::text, sessions, duration_ms, dl_bytes, ul_bytes, total_bytes FROM ref_users)) d)
UNION ALL
SELECT 'user_clusters', (SELECT count(*) FROM engage.user_clusters v WHERE v.name = $1),
       (SELECT count(*) FROM (
          (SELECT msisdn, cluster, engage.cluster_label(cluster, $2), distance FROM km
           EXCEPT ALL SELECT msisdn, cluster, label, distance FROM engage.user_clusters v WHERE v.name = $1)
          UNION ALL
          (SELECT msisdn, cluster, label, distance FROM engage.user_clusters v WHERE v.name = $1
           EXCEPT ALL SELECT msisdn, cluster, engage.cluster_label(cluster, $2), distance FROM km)) d)
UNION ALL
SELECT 'cluster_stats', (SELECT count(*) FROM engage.cluster_stats v WHERE v.name = $1),
       (SELECT count(*) FROM (
          (SELECT * FROM stats
           EXCEPT ALL
           SELECT cluster, label, users, share, sessions_min, sessions_max, sessions_avg, sessions_total,
                  duration_ms_min, duration_ms_max, duration_ms_avg, duration_ms_total,
                  total_bytes_min, total_bytes_max, total_bytes_avg, total_bytes_total
           FROM engage.cluster_stats v WHERE v.name = $1)
          UNION ALL
          (SELECT cluster, label, users, share, sessions_min, sessions_max, sessions_avg, sessions_total,
                  duration_ms_min, duration_ms_max, duration_ms_avg, duration_ms_total,
                  total_bytes_min, total_bytes_max, total_bytes_avg, total_bytes_total
           FROM engage.cluster_stats v WHERE v.name = $1
           EXCEPT ALL SELECT * FROM stats)) d)
UNION ALL
SELECT 'top_users', (SELECT count(*) FROM engage.top_users v WHERE v.name = $1),
       (SELECT count(*) FROM (
          (SELECT metric, rank, msisdn, value FROM tops WHERE rank <= 10
           EXCEPT ALL SELECT metric, rank, msisdn, value FROM engage.top_users v WHERE v.name = $1)
          UNION ALL
          (SELECT metric, rank, msisdn, value FROM engage.top_users v WHERE v.name = $1
           EXCEPT ALL SELECT metric, rank, msisdn, value FROM tops WHERE rank <= 10)) d)
UNION ALL
SELECT 'app_usage', (SELECT count(*) FROM engage.app_usage v WHERE v.name = $1),
       (SELECT count(*) FROM (
          (SELECT m::text, application, dl_bytes, ul_bytes, total_bytes FROM ref_apps
           EXCEPT ALL SELECT msisdn, application, dl_bytes, ul_bytes, total_bytes FROM engage.app_usage v WHERE v.name = $1)
          UNION ALL
          (SELECT msisdn, application, dl_bytes, ul_bytes, total_bytes FROM engage.app_usage v WHERE v.name = $1
           EXCEPT ALL SELECT m::text, application, dl_bytes, ul_bytes, total_bytes FROM ref_apps)) d)
UNION ALL
SELECT 'app_totals', (SELECT count(*) FROM engage.app_totals v WHERE v.name = $1),
       (SELECT count(*) FROM (
          (SELECT * FROM totals
           EXCEPT ALL SELECT application, rank, users, dl_bytes, ul_bytes, total_bytes FROM engage.app_totals v WHERE v.name = $1)
          UNION ALL
          (SELECT application, rank, users, dl_bytes, ul_bytes, total_bytes FROM engage.app_totals v WHERE v.name = $1
           EXCEPT ALL SELECT * FROM totals)) d)
UNION ALL
SELECT 'top_users_per_app', (SELECT count(*) FROM engage.top_users_per_app v WHERE v.name = $1),
       (SELECT count(*) FROM (
          (SELECT application, rank, msisdn, total_bytes FROM app_tops WHERE rank <= 10
           EXCEPT ALL SELECT application, rank, msisdn, total_bytes FROM engage.top_users_per_app v WHERE v.name = $1)
          UNION ALL
          (SELECT application, rank, msisdn, total_bytes FROM engage.top_users_per_app v WHERE v.name = $1
           EXCEPT ALL SELECT application, rank, msisdn, total_bytes FROM app_tops WHERE rank <= 10)) d)
UNION ALL
SELECT 'top_apps', (SELECT count(*) FROM engage.top_apps v WHERE v.name = $1),
       (SELECT count(*) FROM (
          (SELECT rank, application, users, total_bytes FROM totals WHERE rank <= 3
           EXCEPT ALL SELECT rank, application, users, total_bytes FROM engage.top_apps v WHERE v.name = $1)
          UNION ALL
          (SELECT rank, application, users, total_bytes FROM engage.top_apps v WHERE v.name = $1
           EXCEPT ALL SELECT rank, application, users, total_bytes FROM totals WHERE rank <= 3)) d)
UNION ALL
SELECT 'elbow', (SELECT count(*) FROM engage.elbow v WHERE v.name = $1),
       (SELECT count(*) FROM (
          (SELECT * FROM curve
           EXCEPT ALL SELECT k, inertia, silhouette, is_elbow FROM engage.elbow v WHERE v.name = $1)
          UNION ALL
          (SELECT k, inertia, silhouette, is_elbow FROM engage.elbow v WHERE v.name = $1
           EXCEPT ALL SELECT * FROM curve)) d)
$f$;
SELECT * FROM named_vs_plain('public.xdr', 3, 0, 4);
SELECT * FROM named_vs_plain('xdr k2', 2, 5, 3);
-- public.renamed: the same rows as right after its run
SELECT (SELECT count(*) FROM renamed_rows) AS rows_then,
       (SELECT count(*) FROM (TABLE renamed_rows EXCEPT ALL SELECT * FROM named_rows('public.renamed')) d) AS gone,
       (SELECT count(*) FROM (SELECT * FROM named_rows('public.renamed') EXCEPT ALL TABLE renamed_rows) d) AS added;
-- each view holds exactly the latest runs, by name (the elbow: those with
-- a curve), and nothing else
SELECT v.view, string_agg(v.name || ' ' || v.run_id, ', ' ORDER BY v.name) AS runs,
       bool_and(EXISTS (SELECT FROM engage.latest_run l WHERE l.name = v.name AND l.run_id = v.run_id)) AS latest
FROM (SELECT DISTINCT 'user_engagement' AS view, name, run_id FROM engage.user_engagement
      UNION ALL SELECT DISTINCT 'user_clusters', name, run_id FROM engage.user_clusters
      UNION ALL SELECT DISTINCT 'cluster_stats', name, run_id FROM engage.cluster_stats
      UNION ALL SELECT DISTINCT 'top_users', name, run_id FROM engage.top_users
      UNION ALL SELECT DISTINCT 'app_usage', name, run_id FROM engage.app_usage
      UNION ALL SELECT DISTINCT 'app_totals', name, run_id FROM engage.app_totals
      UNION ALL SELECT DISTINCT 'top_users_per_app', name, run_id FROM engage.top_users_per_app
      UNION ALL SELECT DISTINCT 'top_apps', name, run_id FROM engage.top_apps
      UNION ALL SELECT DISTINCT 'elbow', name, run_id FROM engage.elbow) v
GROUP BY v.view ORDER BY v.view;

-- keep_runs counts the runs of the name: a run of "xdr k2" with keep_runs
-- 1 prunes the earlier run of "xdr k2" only, and gives the same clusters
CREATE TABLE k2_before AS
SELECT cluster, label, description, users, centroid, inertia FROM engage.cluster_stats WHERE name = 'xdr k2';
SELECT engage.run_analysis('public.xdr', k => 2, seed => 5, k_max => 3, name => 'xdr k2', keep_runs => 1) IS NOT NULL AS ok;
SELECT run_id, name, status FROM engage.run WHERE run_id > 3 ORDER BY run_id;
SELECT name, run_id FROM engage.latest_run ORDER BY name;
SELECT (SELECT count(*) FROM k2_before) AS clusters,
       (SELECT count(*) FROM (TABLE k2_before
                              EXCEPT SELECT cluster, label, description, users, centroid, inertia
                              FROM engage.cluster_stats WHERE name = 'xdr k2') d) AS differing;

-- A failed run of a name leaves every name's latest run, and so its
-- results, as they were; a name whose only run failed has no latest run
CREATE TABLE named_before AS SELECT * FROM engage.latest_run;
SELECT engage.run_analysis('public.xdr', duration_column => 'no such column', name => 'xdr k2');
SELECT engage.run_analysis('tiny', k => 3, name => 'tiny k3');
SELECT name, run_id, status, sqlstate FROM engage.run WHERE run_id > 8 ORDER BY run_id;
SELECT count(*) AS latest_runs,
       (SELECT count(*) FROM (TABLE named_before EXCEPT SELECT * FROM engage.latest_run) d) AS gone,
       (SELECT count(*) FROM (SELECT * FROM engage.latest_run EXCEPT TABLE named_before) d) AS added
FROM named_before;
SELECT count(*) AS tiny_k3_latest_runs FROM engage.latest_run WHERE name = 'tiny k3';

-- A dashboard of one name can read that name's run only: the per-user rows
-- through the BRIN index on run_id (summarised by VACUUM, as autovacuum
-- does after a run's inserts), each name's run by its run_id (here 4 runs
-- of the same size are kept).  With 4 runs a name's rows are a quarter of
-- the table, where the planner's costs of a lossy BRIN bitmap scan and of a
-- sequential scan are close: which one it picks depends on ANALYZE's random
-- sample.  So the plans are shown with sequential scans off, as
-- run_analysis reads its own run: what is checked is that the views let
-- the index find one run's pages (no function or expression in the way).
VACUUM ANALYZE engage.run, engage.result_user_engagement, engage.result_user_cluster;
SET enable_seqscan = off;
EXPLAIN (COSTS OFF) SELECT count(*) FROM engage.user_engagement WHERE name = 'xdr k2';
EXPLAIN (COSTS OFF) SELECT * FROM engage.user_clusters WHERE name = 'xdr k2';
EXPLAIN (COSTS OFF) SELECT * FROM engage.cluster_stats WHERE name = 'xdr k2';
-- the heap blocks that a query reads from a table (Bitmap Heap Scans, or
-- the whole table when it is scanned sequentially)
CREATE FUNCTION heap_blocks(q text, tab regclass) RETURNS bigint LANGUAGE plpgsql AS $$
DECLARE
	plan json;
	n bigint := 0;
	node json;
BEGIN
	EXECUTE 'EXPLAIN (ANALYZE, TIMING OFF, FORMAT JSON) ' || q INTO plan;
	FOR node IN WITH RECURSIVE t(p) AS (
		SELECT plan -> 0 -> 'Plan'
		UNION ALL
		SELECT c FROM t, json_array_elements(t.p -> 'Plans') c)
		SELECT p FROM t WHERE p ->> 'Relation Name' = (SELECT relname FROM pg_class WHERE oid = tab) LOOP
		n := n + CASE WHEN node ->> 'Node Type' = 'Bitmap Heap Scan'
		              THEN (node ->> 'Exact Heap Blocks')::bigint + (node ->> 'Lossy Heap Blocks')::bigint
		              ELSE (SELECT relpages FROM pg_class WHERE oid = tab) END;
	END LOOP;
	RETURN n;
END
$$;
SELECT (SELECT count(*) FROM engage.run WHERE status = 'ok') AS kept_runs,
       heap_blocks('SELECT count(*) FROM engage.user_engagement WHERE name = ''xdr k2''', 'engage.result_user_engagement') * 3
         < (SELECT relpages FROM pg_class WHERE oid = 'engage.result_user_engagement'::regclass) AS engagement_reads_one_run,
       heap_blocks('SELECT count(*) FROM engage.user_clusters WHERE name = ''xdr k2''', 'engage.result_user_engagement') * 3
         < (SELECT relpages FROM pg_class WHERE oid = 'engage.result_user_engagement'::regclass) AS clusters_read_one_run;
RESET enable_seqscan;

-- Bad input: errors, and no run logged
\set VERBOSITY terse
SELECT engage.run_analysis(NULL);
SELECT engage.run_analysis(k => NULL);
SELECT engage.run_analysis(msisdn_column => NULL);
SELECT engage.run_analysis(k => 0);
SELECT engage.run_analysis(k_max => -1);
SELECT engage.run_analysis(keep_runs => 0);
SELECT engage.run_analysis(applications => '["Youtube"]');
SELECT engage.run_analysis(applications => '{"Youtube": ["Youtube DL (Bytes)"]}');
SELECT engage.run_analysis('no_such_table');
SELECT engage.run_analysis(name => '');
SELECT engage.run_analysis(name => E' \t\n');
SELECT engage.run_analysis(name => repeat('x', 501));
SELECT count(*) AS runs FROM engage.run;
\set VERBOSITY default

-- The labels
SELECT k, array_agg(engage.cluster_label(c, k) ORDER BY c) AS labels
FROM (VALUES (1), (2), (3), (4), (5)) AS ks(k), generate_series(1, 5) AS c
WHERE c <= k GROUP BY k ORDER BY k;

-- Every object of the analysis has a comment
SELECT c.relname, obj_description(c.oid, 'pg_class') IS NOT NULL AS commented
FROM pg_class c
WHERE c.relnamespace = 'engage'::regnamespace AND c.relkind IN ('r', 'v')
ORDER BY 1;
SELECT p.proname, obj_description(p.oid, 'pg_proc') IS NOT NULL AS commented
FROM pg_proc p
WHERE p.pronamespace = 'engage'::regnamespace
  AND p.proname IN ('run_analysis', 'cluster_label', 'compare_to_average', 'analysis_progress')
ORDER BY 1;

-- The per-user step in parallel workers.  With parallel query made cheap
-- and the planner told of few subscribers (so that partial aggregation
-- pays), run_analysis's per-user query (written out here as run_analysis
-- builds it) gets a parallel plan: partial aggregates in the workers,
-- combined in the leader, which writes the users' rows while the workers
-- run.  The results are those of the plain-SQL reference, as in the serial
-- runs above.
ALTER TABLE xdr ALTER "MSISDN/Number" SET (n_distinct = 100);
ANALYZE xdr;
SET parallel_setup_cost = 0;
SET parallel_tuple_cost = 0;
SET min_parallel_table_scan_size = 0;
SET max_parallel_workers_per_gather = 2;
EXPLAIN (COSTS OFF)
SELECT g.m::text, g.m, (g.e).sessions, (g.e).duration_ms, (g.e).dl_bytes, (g.e).ul_bytes,
       (g.e).total_bytes, (g.e).rejected_values, (g.t).dl_bytes, (g.t).ul_bytes, (g.t).rejected_values
FROM (SELECT s."MSISDN/Number" AS m, engage.engagement_agg(s."Dur. (ms)", s."Total DL (Bytes)", s."Total UL (Bytes)") AS e,
             engage.traffic_agg(s."Email DL (Bytes)"::double precision, s."Email UL (Bytes)"::double precision, s."Gaming DL (Bytes)"::double precision, s."Gaming UL (Bytes)"::double precision, s."Google DL (Bytes)"::double precision, s."Google UL (Bytes)"::double precision, s."Netflix DL (Bytes)"::double precision, s."Netflix UL (Bytes)"::double precision, s."Other DL (Bytes)"::double precision, s."Other UL (Bytes)"::double precision, s."Social Media DL (Bytes)"::double precision, s."Social Media UL (Bytes)"::double precision, s."Youtube DL (Bytes)"::double precision, s."Youtube UL (Bytes)"::double precision) AS t
      FROM public.xdr AS s
      GROUP BY 1) g;
SELECT engage.run_analysis(k_max => 0) IS NOT NULL AS ok;
SELECT r.rows_read = (SELECT count(*) FROM xdr) AS rows_read_ok, r.users = (SELECT count(*) FROM ref_users) AS users_ok,
       r.rows_without_subscriber = (SELECT count(*) FROM xdr WHERE "MSISDN/Number" IS NULL) AS without_subscriber_ok,
       (SELECT count(*) FROM (
          (SELECT m::text, sessions, duration_ms, dl_bytes, ul_bytes, total_bytes FROM ref_users
           EXCEPT SELECT msisdn, sessions, duration_ms, dl_bytes, ul_bytes, total_bytes FROM engage.user_engagement WHERE name = r.name)
          UNION ALL
          (SELECT msisdn, sessions, duration_ms, dl_bytes, ul_bytes, total_bytes FROM engage.user_engagement WHERE name = r.name
           EXCEPT SELECT m::text, sessions, duration_ms, dl_bytes, ul_bytes, total_bytes FROM ref_users)) d) AS users_differing,
       (SELECT count(*) FROM (
          (SELECT m::text, application, dl_bytes, ul_bytes, total_bytes FROM ref_apps
           EXCEPT SELECT msisdn, application, dl_bytes, ul_bytes, total_bytes FROM engage.app_usage WHERE name = r.name)
          UNION ALL
          (SELECT msisdn, application, dl_bytes, ul_bytes, total_bytes FROM engage.app_usage WHERE name = r.name
           EXCEPT SELECT m::text, application, dl_bytes, ul_bytes, total_bytes FROM ref_apps)) d) AS app_usage_differing
FROM engage.latest_run r WHERE r.name = 'public.xdr';
-- the top users per metric and per application, ranks included
SELECT (SELECT count(*) FROM engage.top_users WHERE name = 'public.xdr') AS top_users,
       (SELECT count(*) FROM (
          SELECT metric, rank, msisdn, value FROM engage.top_users WHERE name = 'public.xdr'
          EXCEPT
          SELECT metric, rank, m::text, value
          FROM (SELECT v.metric, v.m, v.value, row_number() OVER (PARTITION BY v.metric ORDER BY v.value DESC, v.m) AS rank
                FROM ref_users u
                CROSS JOIN LATERAL (VALUES ('sessions', u.m, u.sessions::numeric), ('duration_ms', u.m, u.duration_ms),
                                           ('total_bytes', u.m, u.total_bytes)) AS v(metric, m, value)
                WHERE v.value IS NOT NULL) r
          WHERE rank <= 10) d) AS top_users_differing,
       (SELECT count(*) FROM engage.top_users_per_app WHERE name = 'public.xdr') AS top_users_per_app,
       (SELECT count(*) FROM (
          SELECT application, rank, msisdn, total_bytes FROM engage.top_users_per_app WHERE name = 'public.xdr'
          EXCEPT
          SELECT application, rank, m::text, total_bytes
          FROM (SELECT application, m, total_bytes,
                       row_number() OVER (PARTITION BY application ORDER BY total_bytes DESC, m) AS rank
                FROM ref_apps) r WHERE rank <= 10) d) AS top_users_per_app_differing;
SELECT count(*) AS applications,
       count(*) FILTER (WHERE a.users = r.users AND a.dl_bytes = r.dl AND a.ul_bytes = r.ul
                        AND a.total_bytes = r.total AND a.rank = r.rank) AS totals_agree
FROM (SELECT application, row_number() OVER (ORDER BY sum(total_bytes) DESC, application) AS rank,
             count(*) FILTER (WHERE total_bytes > 0) AS users,
             sum(dl_bytes) AS dl, sum(ul_bytes) AS ul, sum(total_bytes) AS total
      FROM ref_apps GROUP BY application) r
JOIN engage.app_totals a USING (application)
WHERE a.name = 'public.xdr';
-- A text MSISDN: ties in the top lists are broken by the text order of the
-- MSISDN (in its collation, here "C"), not the numeric one
CREATE TABLE xdr_text AS
SELECT x.*, x."MSISDN/Number"::bigint::text COLLATE "C" AS msisdn_text FROM xdr x;
ALTER TABLE xdr_text ALTER msisdn_text SET (n_distinct = 100);
ANALYZE xdr_text;
SELECT engage.run_analysis('xdr_text', msisdn_column => 'msisdn_text', k_max => 0) IS NOT NULL AS ok;
SELECT count(*) AS top_users,
       count(*) FILTER (WHERE t.msisdn = r.msisdn AND t.value = r.value) AS agree
FROM engage.top_users t
JOIN (SELECT v.metric, v.m AS msisdn, v.value,
             row_number() OVER (PARTITION BY v.metric ORDER BY v.value DESC, v.m COLLATE "C") AS rank
      FROM ref_users u
      CROSS JOIN LATERAL (VALUES ('sessions', u.m::bigint::text, u.sessions::numeric),
                                 ('duration_ms', u.m::bigint::text, u.duration_ms),
                                 ('total_bytes', u.m::bigint::text, u.total_bytes)) AS v(metric, m, value)
      WHERE v.value IS NOT NULL) r USING (metric, rank)
WHERE t.name = 'public.xdr_text';
RESET parallel_setup_cost;
RESET parallel_tuple_cost;
RESET min_parallel_table_scan_size;
RESET max_parallel_workers_per_gather;

-- k chosen for you (k_selection) and the normalization of run_analysis.
-- Each run under a name of its own; its k against the reference curve's
-- rows (ref_curve) on the plain-SQL users (ref_users) with the run's
-- normalization and seed, chosen here in SQL (elbow: the is_elbow row;
-- silhouette: the highest, k >= 2; davies_bouldin: the lowest; the lowest k
-- on ties), its users' clusters against ref_clusters with that k and
-- normalization, its elbow rows (the two indexes included) against the
-- reference curve's.
CREATE FUNCTION ksel_check(analysis text, norm text, k_given integer, k_max integer)
RETURNS TABLE (name text, normalization text, k_selection text, k_chosen integer, k integer,
               expected_k integer, given_k text, clusters bigint, clusters_differing bigint,
               elbow_rows bigint, elbow_differing bigint)
LANGUAGE sql AS $f$
WITH r AS (SELECT * FROM engage.latest_run l WHERE l.name = $1),
e AS MATERIALIZED (
  SELECT e.* FROM ref_curve('SELECT m::text, sessions, COALESCE(duration_ms, 0), COALESCE(total_bytes, 0) FROM ref_users',
                            $4, $2, 0) e
), pick AS (
  SELECT CASE (SELECT r.k_selection FROM r)
           WHEN 'elbow' THEN (SELECT e.k FROM e WHERE e.is_elbow)
           WHEN 'silhouette' THEN (SELECT e.k FROM e WHERE e.k >= 2 ORDER BY e.silhouette DESC, e.k LIMIT 1)
           WHEN 'davies_bouldin' THEN (SELECT e.k FROM e WHERE e.k >= 2 ORDER BY e.davies_bouldin, e.k LIMIT 1) END AS k
), km AS MATERIALIZED (
  SELECT c.msisdn, c.cluster, c.distance
  FROM ref_clusters('SELECT m::text, sessions, COALESCE(duration_ms, 0), COALESCE(total_bytes, 0) FROM ref_users',
                    (SELECT COALESCE(pick.k, $3) FROM pick), $2, 0) c
), uc AS MATERIALIZED (
  SELECT u.msisdn, u.cluster, u.distance FROM engage.user_clusters u WHERE u.name = $1
), el AS MATERIALIZED (
  SELECT x.k, x.inertia, x.silhouette, x.is_elbow, x.davies_bouldin, x.calinski_harabasz
  FROM engage.elbow x WHERE x.name = $1
)
SELECT r.name, r.normalization, r.k_selection, r.k_chosen, r.k, (SELECT pick.k FROM pick), r.parameters ->> 'k',
       (SELECT count(DISTINCT uc.cluster) FROM uc),
       (SELECT count(*) FROM ((TABLE uc EXCEPT ALL TABLE km) UNION ALL (TABLE km EXCEPT ALL TABLE uc)) d),
       (SELECT count(*) FROM el),
       (SELECT count(*) FROM (
          (TABLE el EXCEPT ALL SELECT e.k, e.inertia, e.silhouette, e.is_elbow, e.davies_bouldin, e.calinski_harabasz FROM e)
          UNION ALL
          (SELECT e.k, e.inertia, e.silhouette, e.is_elbow, e.davies_bouldin, e.calinski_harabasz FROM e EXCEPT ALL TABLE el)) d)
FROM r
$f$;
SELECT engage.run_analysis('public.xdr', k => 5, k_max => 6, name => 'ksel elbow', k_selection => 'elbow') IS NOT NULL AS ok;
SELECT engage.run_analysis('public.xdr', k => 3, k_max => 6, name => 'ksel silhouette', k_selection => 'Silhouette') IS NOT NULL AS ok;
SELECT engage.run_analysis('public.xdr', k => 3, k_max => 6, name => 'ksel davies_bouldin', normalization => 'robust',
                           k_selection => 'davies_bouldin') IS NOT NULL AS ok;
SELECT * FROM ksel_check('ksel elbow', 'zscore', 5, 6);
SELECT * FROM ksel_check('ksel silhouette', 'zscore', 3, 6);
SELECT * FROM ksel_check('ksel davies_bouldin', 'robust', 3, 6);
-- the two normalizations of issue 14 with k as given
SELECT engage.run_analysis('public.xdr', k => 4, k_max => 4, name => 'ksel log', normalization => 'log') IS NOT NULL AS ok;
SELECT engage.run_analysis('public.xdr', k => 3, k_max => 5, name => 'ksel robust', normalization => 'ROBUST') IS NOT NULL AS ok;
SELECT * FROM ksel_check('ksel log', 'log', 4, 4);
SELECT * FROM ksel_check('ksel robust', 'robust', 3, 5);
-- the cluster statistics of a chosen k: one row per cluster, the sizes
-- and normalised centroids of the reference model (kmeans_fit_sampled on
-- aggregates, robust)
SELECT count(*) AS clusters,
       count(*) FILTER (WHERE s.users = (f.m).sizes[s.cluster]
                        AND s.centroid_normalized = ARRAY[(f.m).centroids_normalized[s.cluster][1], (f.m).centroids_normalized[s.cluster][2],
                                                          (f.m).centroids_normalized[s.cluster][3]]) AS agree
FROM engage.cluster_stats s
JOIN engage.latest_run r ON r.run_id = s.run_id,
     (SELECT engage.kmeans_fit_sampled('SELECT m::text, sessions, COALESCE(duration_ms, 0), COALESCE(total_bytes, 0) FROM ref_users',
                                       (SELECT l.k FROM engage.latest_run l WHERE l.name = 'ksel davies_bouldin'), 'robust',
                                       seed => 0, in_memory => false) AS m) f
WHERE r.name = 'ksel davies_bouldin';
-- log and robust close to kmeans_cluster's and elbow_inertia's optima on
-- the same points: the K-means inertia within 1e-4 (relative), at least
-- 99% of the users in the same cluster; each k's inertia at most 1e-3
-- above elbow_inertia's, the same elbow
SELECT r.name, r.normalization,
       abs(r.inertia - (SELECT sum(c.inertia) FROM engage.kmeans_centroids(
           'SELECT m::text, sessions, COALESCE(duration_ms, 0), COALESCE(total_bytes, 0) FROM ref_users', r.k, r.normalization,
           tol => 0, seed => 0) c)) <= 1e-4 * r.inertia AS inertia_close_to_kmeans_cluster,
       (SELECT count(*) FILTER (WHERE u.cluster = c.cluster) >= 0.99 * count(*)
        FROM engage.user_clusters u
        JOIN engage.kmeans_cluster('SELECT m::text, sessions, COALESCE(duration_ms, 0), COALESCE(total_bytes, 0) FROM ref_users',
                                   r.k, r.normalization, tol => 0, seed => 0) c ON c.key = u.msisdn
        WHERE u.name = r.name) AS clusters_close_to_kmeans_cluster,
       (SELECT count(*) FILTER (WHERE x.inertia <= e.inertia * (1 + 1e-3)) || '/' || count(*)
        FROM engage.elbow x
        JOIN engage.elbow_inertia('SELECT m::text, sessions, COALESCE(duration_ms, 0), COALESCE(total_bytes, 0) FROM ref_users',
                                  1, r.elbow_k_max, r.normalization, seed => 0) e USING (k)
        WHERE x.name = r.name) AS elbow_inertia_not_above,
       (SELECT bool_and(x.is_elbow = e.is_elbow)
        FROM engage.elbow x
        JOIN engage.elbow_inertia('SELECT m::text, sessions, COALESCE(duration_ms, 0), COALESCE(total_bytes, 0) FROM ref_users',
                                  1, r.elbow_k_max, r.normalization, seed => 0) e USING (k)
        WHERE x.name = r.name) AS same_elbow
FROM (SELECT l.*, (SELECT max(e.k) FROM engage.elbow e WHERE e.name = l.name) AS elbow_k_max FROM engage.latest_run l) r
WHERE r.name IN ('ksel davies_bouldin', 'ksel log', 'ksel robust')
ORDER BY r.name;
-- no knee (an elbow curve of k = 1..2 has none): the run says so (a
-- NOTICE, k_chosen NULL) and clusters with k as given
SELECT engage.run_analysis('public.xdr', k => 3, k_max => 2, name => 'ksel no knee', k_selection => 'elbow') IS NOT NULL AS ok;
SELECT * FROM ksel_check('ksel no knee', 'zscore', 3, 2);
-- the report says how k was chosen and how the features were normalised
SELECT position('K-means on robust-scaled (median, interquartile range) sessions, duration and traffic; k chosen by the lowest Davies-Bouldin index on the elbow curve'
                IN engage.report_html(name => 'ksel davies_bouldin')) > 0 AS chosen_reported,
       position('K-means on z-scored sessions, duration and traffic; k as given: k_selection elbow chose none'
                IN engage.report_html(name => 'ksel no knee')) > 0 AS none_reported,
       position('on the log(1 + x), then z-scored, sessions' IN engage.report_html(name => 'ksel log')) > 0 AS log_reported;
-- bad arguments are errors, and no run is logged
SELECT count(*) AS runs_before FROM engage.run \gset
\set SHOW_CONTEXT never
SELECT engage.run_analysis('public.xdr', k_selection => 'gap');
SELECT engage.run_analysis('public.xdr', normalization => 'quantile');
SELECT engage.run_analysis('public.xdr', normalization => NULL);
SELECT engage.run_analysis('public.xdr', k_max => 1, k_selection => 'silhouette');
\set SHOW_CONTEXT errors
SELECT count(*) = :runs_before AS none_logged FROM engage.run;

-- engage.threads: the K-means' and the elbow's steps over every point are
-- shared by threads in fixed chunks of 8,192 points whose exact sums
-- merge into the same bits: run_analysis with 1 and 2 threads writes the
-- same users' clusters and distances, elbow rows and cluster statistics
-- (more than two chunks of users, so that both threads take some)
SET engage.threads = 1;
SELECT engage.run_analysis('public.xdr', k => 4, k_max => 6, seed => 11, name => 'threads 1') IS NOT NULL AS ok;
SET engage.threads = 2;
SELECT engage.run_analysis('public.xdr', k => 4, k_max => 6, seed => 11, name => 'threads 2') IS NOT NULL AS ok;
RESET engage.threads;
SELECT run_id AS t1 FROM engage.run WHERE name = 'threads 1' AND status = 'ok' \gset
SELECT run_id AS t2 FROM engage.run WHERE name = 'threads 2' AND status = 'ok' \gset
SELECT (SELECT count(*) FROM engage.user_clusters WHERE run_id = :t1) > 2 * 8192 AS users_in_three_chunks,
       (SELECT count(*) FROM engage.user_clusters WHERE run_id = :t1)
       = (SELECT count(*) FROM engage.user_clusters WHERE run_id = :t2) AS same_users,
       (SELECT count(*) FROM (SELECT msisdn, cluster, distance, sessions, duration_ms, total_bytes
                              FROM engage.user_clusters WHERE run_id = :t1
                              EXCEPT ALL
                              SELECT msisdn, cluster, distance, sessions, duration_ms, total_bytes
                              FROM engage.user_clusters WHERE run_id = :t2) d) AS clusters_differing,
       (SELECT count(*) FROM engage.result_elbow WHERE run_id = :t1) AS elbow_rows,
       (SELECT count(*) FROM (SELECT k, inertia, silhouette, is_elbow, davies_bouldin, calinski_harabasz
                              FROM engage.result_elbow WHERE run_id = :t1
                              EXCEPT ALL
                              SELECT k, inertia, silhouette, is_elbow, davies_bouldin, calinski_harabasz
                              FROM engage.result_elbow WHERE run_id = :t2) d) AS elbow_differing,
       (SELECT count(*) FROM (SELECT cluster, users, sessions_total, duration_ms_total, total_bytes_total
                              FROM engage.cluster_stats WHERE run_id = :t1
                              EXCEPT ALL
                              SELECT cluster, users, sessions_total, duration_ms_total, total_bytes_total
                              FROM engage.cluster_stats WHERE run_id = :t2) d) AS stats_differing;

DROP TABLE ref_users, ref_apps, before, tiny, renamed, xdr, xdr_text, se_q, se_ref, renamed_rows, named_before, k2_before, an_fit;
DROP FUNCTION se_check(text, integer, boolean), named_rows(text), named_vs_plain(text, integer, bigint, integer),
              heap_blocks(text, regclass), ksel_check(text, text, integer, integer),
              ref_clusters(text, integer, text, bigint), ref_curve(text, integer, text, bigint, integer);
