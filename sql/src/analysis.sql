------------------------------------------------------------------------------
-- sql/src/analysis.sql: what run_analysis writes and what BI tools read
--
-- The run log (engage.run), the run-versioned result tables, the helpers
-- of run_analysis (cluster_label, compare_to_average, analysis_progress)
-- and the views of the latest successful run.  run_analysis itself is in
-- sql/src/run_analysis.sql.
------------------------------------------------------------------------------

-- engage.run_analysis runs the whole analysis of one xDR table and stores
-- its results under a new run_id in the result_* tables; the views show the
-- latest successful run of each analysis (engage.run.name: by default the
-- source's name).  A run writes only new rows (MVCC): readers keep seeing
-- the previous run until the run's transaction commits, and never wait for
-- it.  No foreign keys from the result tables to engage.run: a referential
-- check per inserted row would cost more than the analysis.

CREATE TABLE @extschema@.run (
	run_id bigserial PRIMARY KEY,
	started timestamptz NOT NULL,
	ended timestamptz,
	source text NOT NULL,
	parameters jsonb NOT NULL,
	rows_read bigint,
	rows_without_subscriber bigint,
	rejected_values bigint,
	users bigint,
	k integer NOT NULL,
	inertia double precision,
	elbow_k integer,
	status text NOT NULL CHECK (status IN ('running', 'ok', 'failed', 'pruned')),
	error text,
	sqlstate text,
	elbow_sample integer,
	name text NOT NULL,
	normalization text,
	k_selection text,
	k_chosen integer,
	cluster_model @extschema@.kmeans_model,
	warm_start_run bigint,
	rows_unparsed_start bigint,
	since timestamptz,
	until timestamptz,
	start_column text,
	clusters_on_read boolean NOT NULL DEFAULT false
);

-- The latest successful run of each name, for the views and for the
-- pruning: the successful runs are few (keep_runs per name) among all the
-- runs logged (failed and pruned ones stay in the log), so a partial index.
CREATE INDEX run_name_idx ON @extschema@.run (name, run_id) WHERE status = 'ok';

COMMENT ON TABLE @extschema@.run IS
'Log of engage.run_analysis: one row per run (successful, failed or pruned); the views show the results of the latest run with status ok of each name';

COMMENT ON SEQUENCE @extschema@.run_run_id_seq IS
'Run ids of engage.run_analysis (engage.run.run_id)';
COMMENT ON COLUMN @extschema@.run.run_id IS 'Run number, from a sequence; the results of the run are stored under it';
COMMENT ON COLUMN @extschema@.run.started IS 'When the run started';
COMMENT ON COLUMN @extschema@.run.ended IS 'When the run ended (ok or failed)';
COMMENT ON COLUMN @extschema@.run.source IS 'The xDR table analysed (schema-qualified)';
COMMENT ON COLUMN @extschema@.run.parameters IS 'The arguments of the run: k, seed, k_max, keep_runs, the column names, the applications, elbow_sample, without_msisdn and warm_start';
COMMENT ON COLUMN @extschema@.run.rows_read IS 'Rows of the source read';
COMMENT ON COLUMN @extschema@.run.rows_without_subscriber IS 'Rows left out because their MSISDN is NULL';
COMMENT ON COLUMN @extschema@.run.rejected_values IS 'NaN, infinite and negative values skipped in the duration, DL, UL and application columns of the rows with a subscriber';
COMMENT ON COLUMN @extschema@.run.users IS 'Distinct subscribers (non-NULL MSISDNs)';
COMMENT ON COLUMN @extschema@.run.k IS 'Number of K-means clusters: run_analysis''s k, or k_chosen when k_selection chose one (the k given is parameters->''k'')';
COMMENT ON COLUMN @extschema@.run.inertia IS 'K-means inertia (sum of squared distances to the centroids, in the normalised space)';
COMMENT ON COLUMN @extschema@.run.elbow_k IS 'The k that the elbow method (Kneedle) picks over k = 1..k_max; NULL when the curve has no knee or the elbow was skipped';
COMMENT ON COLUMN @extschema@.run.status IS 'running (only ever seen inside the run''s own transaction), ok, failed (error and sqlstate say why; no results stored) or pruned (ok, but its results were deleted to keep the last keep_runs successful runs)';
COMMENT ON COLUMN @extschema@.run.error IS 'Error message of a failed run';
COMMENT ON COLUMN @extschema@.run.sqlstate IS 'SQLSTATE of the error of a failed run';
COMMENT ON COLUMN @extschema@.run.elbow_sample IS 'Points of the sample the elbow curve''s restarts ran on (elbow_inertia''s sample_size; run_analysis''s elbow_sample); NULL when they ran on every user or the elbow was skipped';
COMMENT ON COLUMN @extschema@.run.name IS 'The analysis the run belongs to (run_analysis''s name; by default the source, schema-qualified): keep_runs counts the successful runs of the name, and the views show the latest successful run of each name';
COMMENT ON COLUMN @extschema@.run.normalization IS 'The normalization of the K-means and the elbow curve (run_analysis''s normalization: zscore, minmax, log, robust or none; zscore for the runs of 0.1.0)';
COMMENT ON COLUMN @extschema@.run.k_selection IS 'How k was chosen (run_analysis''s k_selection): NULL, k as given; elbow (Kneedle), silhouette (highest) or davies_bouldin (lowest) on the elbow curve';
COMMENT ON COLUMN @extschema@.run.k_chosen IS 'The k that k_selection chose on the elbow curve; NULL when k_selection is NULL or chose none (the elbow curve has no knee, or no k of 2 or more), and the clustering used run_analysis''s k';
COMMENT ON COLUMN @extschema@.run.cluster_model IS 'The K-means model of a successful run, its clusters numbered as stored (engage.user_clusters reads its scaler and centroids for the engagement score, the next run of the name its centroids for warm_start); NULL for a failed run and for the runs of engage before issue 13';
COMMENT ON COLUMN @extschema@.run.warm_start_run IS 'The run whose cluster numbers this run''s clusters took (run_analysis''s warm_start: the previous successful run of the name, of the same k, features and normalization, its clusters matched by least total centroid distance; its centroids were also one more starting point of the fit beside the restarts, kept when of lower inertia, which is not recorded); NULL when the clusters are numbered by ascending centroid norm';
COMMENT ON COLUMN @extschema@.run.rows_unparsed_start IS 'Rows of the source left out of the run''s time window because their start gives no time (NULL, or a text that does not parse as M/D/YYYY H:MM); counted in rows_read, as the rows without subscriber are; NULL for a run without window';
COMMENT ON COLUMN @extschema@.run.since IS 'The start of the run''s time window (run_analysis''s since): only the sessions that start at or after it were analysed; NULL: no lower bound';
COMMENT ON COLUMN @extschema@.run.until IS 'The end of the run''s time window (run_analysis''s until): only the sessions that start before it were analysed; NULL: no upper bound';
COMMENT ON COLUMN @extschema@.run.start_column IS 'The column of the sessions'' start (run_analysis''s start_column: timestamp, timestamptz or text M/D/YYYY H:MM), of the time window and of the hours of activity (engage.cluster_activity); NULL: none';
COMMENT ON COLUMN @extschema@.run.clusters_on_read IS 'true: the run stored no per-user cluster rows; each user''s cluster and distance are kmeans_nearest(cluster_model, ARRAY[sessions, duration_ms, total_bytes], NULL as 0) of the user''s row of result_user_engagement, computed where they are read (the views, report_html); false: in result_user_cluster (runs of 0.1.0, runs with k above 1000) or in the run''s distributed table (Citus)';

CREATE TABLE @extschema@.result_user_engagement (
	run_id bigint NOT NULL,
	msisdn text NOT NULL,
	sessions bigint NOT NULL,
	duration_ms numeric,
	dl_bytes numeric,
	ul_bytes numeric,
	total_bytes numeric,
	app_dl_bytes double precision[],
	app_ul_bytes double precision[],
	hours bytea
);

-- The per-user tables are written once per run (10^5 to 10^7 rows) and read
-- a run at a time: a BRIN index on run_id finds a run's pages at a fraction
-- of what a unique btree on (run_id, msisdn) costs to maintain.  msisdn is
-- unique within a run by construction (GROUP BY).
CREATE INDEX result_user_engagement_run_id_idx ON @extschema@.result_user_engagement USING brin (run_id);

COMMENT ON TABLE @extschema@.result_user_engagement IS
'Per-user engagement of each run (engagement_agg by MSISDN, rows without MSISDN left out) and the user''s traffic per application; read it through the views engage.user_engagement and engage.app_usage';
COMMENT ON COLUMN @extschema@.result_user_engagement.app_dl_bytes IS 'DL bytes of the user per application, in the order of engage.result_app_totals.position';
COMMENT ON COLUMN @extschema@.result_user_engagement.app_ul_bytes IS 'UL bytes of the user per application, in the order of engage.result_app_totals.position';
COMMENT ON COLUMN @extschema@.result_user_engagement.hours IS 'The user''s sessions by hour of day of their start (of the run''s time window, if any; sessions whose start gives no time not counted), a histogram of hours_agg (hours_counts reads it); the run''s hours of activity are their sums by cluster (hours_sum_agg); NULL for a run without start column and for runs before 0.2.0''s hours from the per-user scan';

CREATE TABLE @extschema@.result_user_cluster (
	run_id bigint NOT NULL,
	msisdn text NOT NULL,
	cluster integer NOT NULL,
	distance double precision NOT NULL,
	sessions bigint NOT NULL,
	duration_ms numeric,
	total_bytes numeric
);

CREATE INDEX result_user_cluster_run_id_idx ON @extschema@.result_user_cluster USING brin (run_id);

COMMENT ON TABLE @extschema@.result_user_cluster IS
'K-means cluster of each user of the runs that stored them (engage.run.clusters_on_read false on one node: runs of 0.1.0, runs with k above 1000), with the clustered metrics (so that reading a run''s clusters needs no join by MSISDN); read it through the view engage.user_clusters';

CREATE TABLE @extschema@.result_cluster_stats (
	run_id bigint NOT NULL,
	cluster integer NOT NULL,
	label text NOT NULL,
	description text NOT NULL,
	users bigint NOT NULL,
	share numeric NOT NULL,
	sessions_min bigint, sessions_max bigint, sessions_avg numeric, sessions_total numeric,
	duration_ms_min numeric, duration_ms_max numeric, duration_ms_avg numeric, duration_ms_total numeric,
	total_bytes_min numeric, total_bytes_max numeric, total_bytes_avg numeric, total_bytes_total numeric,
	centroid double precision[] NOT NULL,
	centroid_normalized double precision[] NOT NULL,
	inertia double precision NOT NULL,
	PRIMARY KEY (run_id, cluster)
);

COMMENT ON TABLE @extschema@.result_cluster_stats IS
'Statistics of each K-means cluster of each run; read it through the view engage.cluster_stats';

CREATE TABLE @extschema@.result_top_users (
	run_id bigint NOT NULL,
	metric text NOT NULL,
	rank integer NOT NULL,
	msisdn text NOT NULL,
	value numeric NOT NULL,
	PRIMARY KEY (run_id, metric, rank)
);

COMMENT ON TABLE @extschema@.result_top_users IS
'Top 10 users of each run by sessions, duration_ms and total_bytes; read it through the view engage.top_users';

CREATE TABLE @extschema@.result_app_totals (
	run_id bigint NOT NULL,
	application text NOT NULL,
	position integer NOT NULL,
	rank integer NOT NULL,
	users bigint NOT NULL,
	dl_bytes numeric,
	ul_bytes numeric,
	total_bytes numeric,
	PRIMARY KEY (run_id, application)
);

COMMENT ON TABLE @extschema@.result_app_totals IS
'Traffic of each application over all users, per run; read it through the views engage.app_totals and engage.top_apps';
COMMENT ON COLUMN @extschema@.result_app_totals.position IS 'Index of the application in the arrays app_dl_bytes and app_ul_bytes of engage.result_user_engagement (applications in name order)';

CREATE TABLE @extschema@.result_top_users_per_app (
	run_id bigint NOT NULL,
	application text NOT NULL,
	rank integer NOT NULL,
	msisdn text NOT NULL,
	total_bytes numeric NOT NULL,
	PRIMARY KEY (run_id, application, rank)
);

COMMENT ON TABLE @extschema@.result_top_users_per_app IS
'Top 10 users of each application by its traffic, per run; read it through the view engage.top_users_per_app';

CREATE TABLE @extschema@.result_elbow (
	run_id bigint NOT NULL,
	k integer NOT NULL,
	inertia double precision NOT NULL,
	silhouette double precision,
	is_elbow boolean NOT NULL,
	davies_bouldin double precision,
	calinski_harabasz double precision,
	PRIMARY KEY (run_id, k)
);

COMMENT ON TABLE @extschema@.result_elbow IS
'Elbow curve of each run (elbow_inertia, k = 1..k_max); read it through the view engage.elbow';

-- The hours of activity of each run's clusters (issue 13): 24 rows per
-- cluster, written by run_analysis when the source has its start column.
CREATE TABLE @extschema@.result_cluster_activity (
	run_id bigint NOT NULL,
	cluster integer NOT NULL,
	hour integer NOT NULL CHECK (hour BETWEEN 0 AND 23),
	sessions bigint NOT NULL,
	share numeric,
	PRIMARY KEY (run_id, cluster, hour)
);

COMMENT ON TABLE @extschema@.result_cluster_activity IS
'Sessions of each K-means cluster of each run by hour of day of their start (run_analysis''s start_column); read it through the view engage.cluster_activity';

-- Runs on a Citus distributed source (run_analysis, "Citus" in
-- sql/src/run_analysis.sql) keep their per-user rows in two distributed
-- tables of their own, in this schema, named after the run; this table
-- names them, and the views find them through it.  A table per run, not
-- per source: its msisdn keeps the type of the run's source, a run's rows
-- are dropped whole when it is pruned (no DELETE of millions of rows, no
-- space for VACUUM to free on every worker), and a run is never read
-- while it is written.
CREATE TABLE @extschema@.run_distributed (
	run_id bigint PRIMARY KEY,
	layout text NOT NULL CHECK (layout IN ('msisdn', 'other')),
	user_engagement text NOT NULL,
	user_cluster text NOT NULL
);

COMMENT ON TABLE @extschema@.run_distributed IS
'Runs of run_analysis on a Citus distributed source: the distributed tables that hold their per-user rows (read through the views engage.user_engagement, engage.user_clusters and engage.app_usage, or directly); dropped with the run when it is pruned';
COMMENT ON COLUMN @extschema@.run_distributed.run_id IS 'The run (engage.run.run_id)';
COMMENT ON COLUMN @extschema@.run_distributed.layout IS 'msisdn: the source is hash-distributed by its MSISDN column and the per-user tables are colocated with it; other: distributed by another column, the rows were repartitioned by MSISDN first';
COMMENT ON COLUMN @extschema@.run_distributed.user_engagement IS 'The distributed table of the run''s per-user engagement (engage.user_engagement_<run_id>): the columns of result_user_engagement but run_id, msisdn in the source''s type, and rejected_values';
COMMENT ON COLUMN @extschema@.run_distributed.user_cluster IS 'The distributed table of the run''s users'' clusters (engage.user_cluster_<run_id>): the columns of result_user_cluster but run_id, msisdn in the source''s type';

-- The views read it with their reader's rights (through the functions
-- below): it names tables, and holds nothing else.
GRANT SELECT ON @extschema@.run_distributed TO PUBLIC;

-- The run log and the results are data, not definitions: pg_dump dumps their
-- rows (after CREATE EXTENSION), so a restored database keeps its runs.
SELECT pg_catalog.pg_extension_config_dump('@extschema@.run', '');
SELECT pg_catalog.pg_extension_config_dump('@extschema@.run_run_id_seq', '');
SELECT pg_catalog.pg_extension_config_dump('@extschema@.result_user_engagement', '');
SELECT pg_catalog.pg_extension_config_dump('@extschema@.result_user_cluster', '');
SELECT pg_catalog.pg_extension_config_dump('@extschema@.result_cluster_stats', '');
SELECT pg_catalog.pg_extension_config_dump('@extschema@.result_top_users', '');
SELECT pg_catalog.pg_extension_config_dump('@extschema@.result_app_totals', '');
SELECT pg_catalog.pg_extension_config_dump('@extschema@.result_top_users_per_app', '');
SELECT pg_catalog.pg_extension_config_dump('@extschema@.result_elbow', '');
SELECT pg_catalog.pg_extension_config_dump('@extschema@.result_cluster_activity', '');
SELECT pg_catalog.pg_extension_config_dump('@extschema@.run_distributed', '');

-- Plain words for cluster c of k (clusters are numbered by ascending
-- centroid norm, so cluster 1 is the least engaged).
CREATE FUNCTION @extschema@.cluster_label(cluster integer, k integer)
RETURNS text
LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
RETURN CASE
	WHEN cluster < 1 OR cluster > k THEN NULL
	WHEN k = 2 THEN (ARRAY['low engagement', 'high engagement'])[cluster]
	WHEN k = 3 THEN (ARRAY['low engagement', 'medium engagement', 'high engagement'])[cluster]
	WHEN k = 5 THEN (ARRAY['very low engagement', 'low engagement', 'medium engagement',
	                       'high engagement', 'very high engagement'])[cluster]
	ELSE pg_catalog.format('engagement level %s of %s', cluster, k)
END;

COMMENT ON FUNCTION @extschema@.cluster_label(integer, integer) IS
'Plain-words label of cluster 1..k of an engagement clustering (numbered by ascending centroid norm): low / medium / high engagement for k = 3, low / high for k = 2, very low .. very high for k = 5, otherwise "engagement level c of k"; NULL when cluster is not in 1..k';

-- How a cluster's average compares with the overall average, in words.
CREATE FUNCTION @extschema@.compare_to_average(value numeric, average numeric)
RETURNS text
LANGUAGE sql IMMUTABLE PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
RETURN CASE
	WHEN value IS NULL OR average IS NULL OR value = 'NaN' OR average = 'NaN'
	     OR abs(value) = 'Infinity' OR abs(average) = 'Infinity' THEN 'unknown against'
	WHEN average = 0 THEN CASE WHEN value = 0 THEN 'equal to' ELSE 'above' END
	WHEN value < 0.5 * average THEN 'far below'
	WHEN value < 0.9 * average THEN 'below'
	WHEN value <= 1.1 * average THEN 'close to'
	WHEN value <= 2 * average THEN 'above'
	ELSE 'far above'
END;

COMMENT ON FUNCTION @extschema@.compare_to_average(numeric, numeric) IS
'Words comparing a value with an average, as used in the cluster descriptions: far below (< 0.5x), below (< 0.9x), close to (0.9x to 1.1x), above (up to 2x), far above; "unknown against" when either is NULL, NaN or infinite';

-- Issue 13, segments over time: the clusters of a model in a given order,
-- the least engaged cluster of a model, and the matching of one run's
-- clusters with the previous run's (run_analysis's warm_start).

-- The model of some of a model's clusters, in a given order: cluster i of
-- the result is cluster clusters[i] of the model.  A permutation renumbers
-- the clusters (run_analysis's warm_start); one cluster gives the model of
-- that centroid alone, whose kmeans_nearest distance is the distance to
-- it, normalised as the model's points (engage.user_clusters's
-- engagement_score).  The scaler and the totals (inertia, iterations,
-- converged, n_points) are kept as they are.
CREATE FUNCTION @extschema@.kmeans_model_clusters(model @extschema@.kmeans_model, clusters integer[])
RETURNS @extschema@.kmeans_model
LANGUAGE plpgsql IMMUTABLE STRICT PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	k integer := array_length((model).centroids_normalized, 1);
	d integer := array_length((model).scale, 1);
	shape text := format('[1:%s][1:%s]', array_length((model).centroids_normalized, 1),
	                     array_length((model).scale, 1));
	result @extschema@.kmeans_model := model;
BEGIN
	IF k IS NULL OR d IS NULL OR array_dims((model).centroids_normalized) IS DISTINCT FROM shape
	   OR array_dims((model).centroids) IS DISTINCT FROM shape
	   OR array_dims((model).sizes) IS DISTINCT FROM format('[1:%s]', k)
	   OR array_dims((model).cluster_inertia) IS DISTINCT FROM format('[1:%s]', k) THEN
		RAISE EXCEPTION 'the model is not a model made by engage.kmeans_model'
			USING ERRCODE = 'invalid_parameter_value',
			      DETAIL = 'Its centroids must be k x d arrays and its sizes and cluster_inertia arrays of k elements.';
	END IF;
	IF array_ndims(clusters) IS DISTINCT FROM 1
	   OR EXISTS (SELECT FROM unnest(clusters) c WHERE c IS NULL OR c < 1 OR c > k)
	   OR (SELECT count(DISTINCT c) FROM unnest(clusters) c) <> cardinality(clusters) THEN
		RAISE EXCEPTION 'clusters must be distinct cluster numbers 1..%', k
			USING ERRCODE = 'invalid_parameter_value',
			      DETAIL = format('clusters is %s.', clusters);
	END IF;
	result.centroids := (SELECT array_agg(ARRAY(SELECT unnest((model).centroids[c.c:c.c][1:d])) ORDER BY c.i)
	                     FROM unnest(clusters) WITH ORDINALITY c(c, i));
	result.centroids_normalized := (SELECT array_agg(ARRAY(SELECT unnest((model).centroids_normalized[c.c:c.c][1:d]))
	                                                 ORDER BY c.i)
	                                FROM unnest(clusters) WITH ORDINALITY c(c, i));
	result.sizes := ARRAY(SELECT (model).sizes[c.c] FROM unnest(clusters) WITH ORDINALITY c(c, i) ORDER BY c.i);
	result.cluster_inertia := ARRAY(SELECT (model).cluster_inertia[c.c]
	                                FROM unnest(clusters) WITH ORDINALITY c(c, i) ORDER BY c.i);
	RETURN result;
END
$$;

COMMENT ON FUNCTION @extschema@.kmeans_model_clusters(@extschema@.kmeans_model, integer[]) IS
'The model of the clusters listed, in that order: cluster i of the result is cluster clusters[i] of the model (centroids, normalised centroids, sizes and cluster inertias; the scaler and the totals kept as they are); a permutation renumbers the clusters, one cluster gives a model whose kmeans_nearest distance is the distance to that centroid in the normalised space';

-- The least engaged cluster of a model: the cluster whose normalised
-- centroid has the smallest Euclidean norm, ties broken as a fit numbers
-- its clusters (the centroids compared coordinate by coordinate, then the
-- lower number).  A fit numbers its clusters by that order, so it is
-- cluster 1 of a fit; after a warm start's renumbering it may be another.
CREATE FUNCTION @extschema@.least_engaged_cluster(model @extschema@.kmeans_model)
RETURNS integer
LANGUAGE plpgsql IMMUTABLE STRICT PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	c double precision[] := (model).centroids_normalized;
	best integer;
	best_norm double precision;
	s double precision;
	n double precision;
BEGIN
	IF array_ndims(c) IS DISTINCT FROM 2 OR array_lower(c, 1) <> 1 OR array_lower(c, 2) <> 1 THEN
		RAISE EXCEPTION 'the model is not a model made by engage.kmeans_model'
			USING ERRCODE = 'invalid_parameter_value',
			      DETAIL = 'Its centroids_normalized must be a k x d array.';
	END IF;
	FOR j IN 1..array_length(c, 1) LOOP
		s := 0;
		FOR f IN 1..array_length(c, 2) LOOP
			s := s + c[j][f] * c[j][f];
		END LOOP;
		n := sqrt(s);
		IF best IS NULL OR n < best_norm
		   OR (n = best_norm AND c[j:j][:] < c[best:best][:]) THEN
			best := j;
			best_norm := n;
		END IF;
	END LOOP;
	RETURN best;
END
$$;

COMMENT ON FUNCTION @extschema@.least_engaged_cluster(@extschema@.kmeans_model) IS
'The least engaged cluster of a model: the one whose normalised centroid has the smallest Euclidean norm (ties: the centroids compared coordinate by coordinate, then the lower number), as a fit orders its clusters: cluster 1 of a fit, another one after run_analysis''s warm_start renumbered them';

-- The matching of two clusterings' centroids with the least total
-- Euclidean distance (the assignment problem, solved exactly by the
-- Hungarian algorithm in O(k^3); at most 100 clusters).  Element j of the
-- result is the cluster of current matched to cluster j of previous, so
-- that kmeans_model_clusters(model, result) numbers current's clusters
-- after previous's.
CREATE FUNCTION @extschema@.match_clusters(previous double precision[], current double precision[])
RETURNS integer[]
LANGUAGE plpgsql IMMUTABLE STRICT PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	n integer := array_length(previous, 1);
	d integer := array_length(previous, 2);
	a double precision[];		-- n x n distances: row current, column previous
	u double precision[];		-- the potentials of the rows and columns
	v double precision[];
	minv double precision[];
	used boolean[];
	p integer[];				-- p[j]: the row matched to column j (0: none yet)
	way integer[];
	i0 integer;
	j0 integer;
	j1 integer;
	s double precision;
	x double precision;
	delta double precision;
	result integer[];
BEGIN
	IF array_ndims(previous) IS DISTINCT FROM 2 OR array_dims(previous) <> format('[1:%s][1:%s]', n, d)
	   OR array_dims(current) IS DISTINCT FROM array_dims(previous) THEN
		RAISE EXCEPTION 'previous and current must be k x d arrays of the same shape'
			USING ERRCODE = 'array_subscript_error',
			      DETAIL = format('previous is %s, current %s.', COALESCE(array_dims(previous), 'empty'),
			                      COALESCE(array_dims(current), 'empty'));
	END IF;
	IF n > 100 THEN
		RAISE EXCEPTION 'match_clusters takes at most 100 clusters'
			USING ERRCODE = 'program_limit_exceeded', DETAIL = format('There are %s.', n);
	END IF;
	IF EXISTS (SELECT FROM unnest(previous || current) e(v) WHERE e.v IS NULL OR e.v IN ('NaN', 'Infinity', '-Infinity')) THEN
		RAISE EXCEPTION 'centroids must be finite and not NULL'
			USING ERRCODE = 'invalid_parameter_value';
	END IF;
	a := array_fill(0::double precision, ARRAY[n * n]);
	FOR i IN 1..n LOOP
		FOR j IN 1..n LOOP
			s := 0;
			FOR f IN 1..d LOOP
				x := current[i][f] - previous[j][f];
				s := s + x * x;
			END LOOP;
			a[(i - 1) * n + j] := sqrt(s);
		END LOOP;
	END LOOP;

	-- rows (current clusters) added one at a time, each by a shortest
	-- augmenting path in the reduced costs
	u := array_fill(0::double precision, ARRAY[n + 1], ARRAY[0]);
	v := u;
	p := array_fill(0, ARRAY[n + 1], ARRAY[0]);
	way := p;
	FOR i IN 1..n LOOP
		p[0] := i;
		j0 := 0;
		minv := array_fill('Infinity'::double precision, ARRAY[n + 1], ARRAY[0]);
		used := array_fill(false, ARRAY[n + 1], ARRAY[0]);
		LOOP
			used[j0] := true;
			i0 := p[j0];
			delta := 'Infinity';
			j1 := NULL;
			FOR j IN 1..n LOOP
				IF NOT used[j] THEN
					x := a[(i0 - 1) * n + j] - u[i0] - v[j];
					IF x < minv[j] THEN
						minv[j] := x;
						way[j] := j0;
					END IF;
					IF j1 IS NULL OR minv[j] < delta THEN
						delta := minv[j];
						j1 := j;
					END IF;
				END IF;
			END LOOP;
			FOR j IN 0..n LOOP
				IF used[j] THEN
					u[p[j]] := u[p[j]] + delta;
					v[j] := v[j] - delta;
				ELSE
					minv[j] := minv[j] - delta;
				END IF;
			END LOOP;
			j0 := j1;
			EXIT WHEN p[j0] = 0;
		END LOOP;
		LOOP
			j1 := way[j0];
			p[j0] := p[j1];
			j0 := j1;
			EXIT WHEN j0 = 0;
		END LOOP;
	END LOOP;
	result := array_fill(0, ARRAY[n]);
	FOR j IN 1..n LOOP
		result[j] := p[j];
	END LOOP;
	RETURN result;
END
$$;

COMMENT ON FUNCTION @extschema@.match_clusters(double precision[], double precision[]) IS
'The one-to-one matching of the k x d centroids current with previous (at most 100 clusters) of least total Euclidean distance (Hungarian algorithm): element j is the cluster of current matched to cluster j of previous; kmeans_model_clusters(model, match_clusters(...)) numbers current''s clusters after previous''s (run_analysis''s warm_start)';

-- Progress of run_analysis: a NOTICE with the step and its duration when
-- engage.progress is on; returns the time the next step starts.
CREATE FUNCTION @extschema@.analysis_progress(run_id bigint, step text, since timestamptz)
RETURNS timestamptz
LANGUAGE plpgsql VOLATILE
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
	IF COALESCE(current_setting('engage.progress', true), 'off')::boolean THEN
		RAISE NOTICE 'analysis run %: %', run_id, step
			USING DETAIL = format('%s ms.', round(extract(epoch FROM clock_timestamp() - since) * 1000));
	END IF;
	RETURN clock_timestamp();
END
$$;

COMMENT ON FUNCTION @extschema@.analysis_progress(bigint, text, timestamptz) IS
'Internal to run_analysis: when engage.progress is on, reports a finished step as a NOTICE with its duration as the DETAIL; returns clock_timestamp()';

-- The per-user step of run_analysis (src/user_engagement.c): runs the
-- per-user query that run_analysis builds (parallel query allowed), writes
-- its rows into result_user_engagement in bulk and returns the counts, the
-- top 10 users per metric and per application and the application totals.
CREATE FUNCTION @extschema@.store_user_engagement(
	run_id bigint, query text, n_applications integer,
	OUT rows_read bigint, OUT rows_without_subscriber bigint, OUT users bigint,
	OUT rejected_values bigint,
	OUT top_metrics text[], OUT top_ranks integer[], OUT top_msisdns text[], OUT top_values numeric[],
	OUT app_dl_bytes numeric[], OUT app_ul_bytes numeric[], OUT app_users bigint[],
	OUT app_top_positions integer[], OUT app_top_ranks integer[], OUT app_top_msisdns text[],
	OUT app_top_bytes numeric[], OUT rows_unparsed_start bigint)
RETURNS record
AS 'MODULE_PATHNAME', 'engage_store_user_engagement'
LANGUAGE C VOLATILE PARALLEL UNSAFE;

COMMENT ON FUNCTION @extschema@.store_user_engagement(bigint, text, integer) IS
'Internal to run_analysis: runs its per-user query (MSISDN as text, MSISDN, sessions, duration_ms, dl_bytes, ul_bytes, total_bytes, rejected_values, application DL and UL arrays of n_applications elements, application values rejected; a time window''s query has a twelfth column, the group''s rows left out for their start, and its groups without a row in the window are not users; a last column of type bytea, the user''s sessions by hour of day (hours_agg), is stored in column hours, NULL without it), writes the users'' rows into result_user_engagement under run_id in bulk (the caller needs INSERT on it), and returns the rows read and without subscriber, the users, the rejected values, the top 10 users per metric and per application (by position), the application totals and users, and the rows left out for their start (NULL without a window); each user''s key and K-means features are kept for store_cluster_model, and the exact values and hours for captured_cluster_sums, in the same (sub)transaction (within engage.max_memory)';

-- The start of a session in TellCo's text form, for the time windows and
-- the hours of activity of run_analysis (src/user_engagement.c).
CREATE FUNCTION @extschema@.parse_start_time(start text)
RETURNS timestamp
AS 'MODULE_PATHNAME', 'engage_parse_start_time'
LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;

COMMENT ON FUNCTION @extschema@.parse_start_time(text) IS
'The start of a session written as TellCo''s export writes it, M/D/YYYY H:MM (4/23/2019 14:35; seconds optional, M/D/YYYY H:MM:SS), as a timestamp; NULL for a text of any other form or a date or time that does not exist, never an error (run_analysis counts such rows in engage.run.rows_unparsed_start and leaves them out of its time window)';

-- The K-means step of run_analysis (src/kmeans_sql.c, src/bulk_write.c):
-- the fit of kmeans_fit_sampled (k above 1000: kmeans_cluster_rows) on the
-- run's users (one read), each user's cluster written into
-- result_user_cluster in bulk; returns the model.
CREATE FUNCTION @extschema@.store_user_clusters(run_id bigint, points text, k integer, seed bigint,
    normalization text DEFAULT 'zscore', initial_centroids double precision[] DEFAULT NULL)
RETURNS @extschema@.kmeans_model
AS 'MODULE_PATHNAME', 'engage_store_user_clusters'
LANGUAGE C VOLATILE PARALLEL UNSAFE;

COMMENT ON FUNCTION @extschema@.store_user_clusters(bigint, text, integer, bigint, text, double precision[]) IS
'Internal to run_analysis: clusters the points query (msisdn text, sessions bigint, the duration and traffic features, duration_ms numeric, total_bytes numeric) with normalization zscore, minmax, log, robust or none (NULL: zscore) as kmeans_fit_sampled(points without the last two columns, k, normalization, seed => seed) does, bit for bit (the split K-means run in memory; each user''s cluster and distance as kmeans_nearest gives them for the model), with k above 1000 (past the split K-means) as kmeans_cluster_rows(points, k, normalization, tol => 0, seed => seed, features => 3) does, from one read (initial_centroids, k x 3 in the features'' units, NULL: none: one more candidate beside the restarts, as kmeans_fit_sampled''s initial_centroids; with k above 1000 a fit from them, init given, kept when its inertia is lower, the restarts'' on a tie), writes each user''s msisdn, cluster, distance, sessions, duration_ms and total_bytes into result_user_cluster under run_id in bulk (the caller needs INSERT on it; no triggers, no row-level security), and returns the model (engage.kmeans_model)';

-- The elbow step of run_analysis (src/kmeans_sql.c): elbow_fit_sampled's
-- curve in memory of the run's users, from the normalised points that store_user_clusters
-- kept in the same (sub)transaction, or read again when it kept none.
CREATE FUNCTION @extschema@.store_elbow_curve(run_id bigint, points text, k_max integer, seed bigint,
    sample integer, normalization text DEFAULT 'zscore')
RETURNS TABLE (k integer, inertia double precision, silhouette double precision,
               iterations integer, is_elbow boolean, centroids_normalized double precision[],
               sample_size integer, davies_bouldin double precision,
               calinski_harabasz double precision)
AS 'MODULE_PATHNAME', 'engage_store_elbow_curve'
LANGUAGE C VOLATILE PARALLEL UNSAFE;

COMMENT ON FUNCTION @extschema@.store_elbow_curve(bigint, text, integer, bigint, integer, text) IS
'Internal to run_analysis: the rows of elbow_fit_sampled(points, 1, k_max, normalization, seed => seed, sample => sample, in_memory => true), bit for bit (normalization zscore, minmax, log, robust or none; NULL: zscore); when store_user_clusters has just clustered run_analysis''s points of run_id (store_cluster_model: this points query) with the same seed and normalization in the same (sub)transaction, from the normalised points it kept (freed then, and at the end of that (sub)transaction) instead of a second read of the points query';

-- The per-user step of run_analysis on Citus: the counts, top 10s and
-- application totals of the run's distributed per-user table, as
-- store_user_engagement returns them on one node, from queries that Citus
-- runs on the workers: each top 10 an ORDER BY ... LIMIT 10 that every
-- shard runs and the coordinator merges (the MSISDN, in the source's type,
-- breaks ties), the counts and totals aggregates that Citus splits (the
-- application totals by engagement_agg: the exact sums of the users' sums,
-- as store_user_engagement adds them).
CREATE FUNCTION @extschema@.store_user_engagement_citus(
	run_id bigint, users_table regclass, n_applications integer, source_rows_without_subscriber bigint,
	OUT rows_read bigint, OUT rows_without_subscriber bigint, OUT users bigint,
	OUT rejected_values bigint,
	OUT top_metrics text[], OUT top_ranks integer[], OUT top_msisdns text[], OUT top_values numeric[],
	OUT app_dl_bytes numeric[], OUT app_ul_bytes numeric[], OUT app_users bigint[],
	OUT app_top_positions integer[], OUT app_top_ranks integer[], OUT app_top_msisdns text[],
	OUT app_top_bytes numeric[])
RETURNS record
LANGUAGE plpgsql VOLATILE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	q text := '';
	i integer;
	rank integer;
	r record;
	metric text;
	nosub bigint := $4;
BEGIN
	IF $1 IS NULL OR $2 IS NULL OR $3 IS NULL OR $4 IS NULL THEN
		RAISE EXCEPTION 'arguments must not be NULL'
			USING ERRCODE = 'null_value_not_allowed';
	END IF;
	IF $3 < 0 OR $3 > 1000 THEN
		RAISE EXCEPTION 'n_applications must be between 0 and 1000'
			USING ERRCODE = 'invalid_parameter_value', DETAIL = format('n_applications is %s.', $3);
	END IF;

	-- the counts and the application totals: one scan
	FOR i IN 1 .. $3 LOOP
		q := q || format(', @extschema@.engagement_agg(NULL::double precision, u.app_dl_bytes[%1$s], u.app_ul_bytes[%1$s]) AS e%1$s'
		                 ', count(*) FILTER (WHERE COALESCE(u.app_dl_bytes[%1$s], 0) + COALESCE(u.app_ul_bytes[%1$s], 0) > 0) AS n%1$s', i);
	END LOOP;
	EXECUTE format($q$
		SELECT a.sessions, a.users, a.rejected, %1$s
		FROM (SELECT COALESCE(sum(u.sessions), 0)::bigint AS sessions, count(*) AS users,
		             COALESCE(sum(u.rejected_values), 0)::bigint AS rejected%2$s
		      FROM %3$s u) a$q$,
		CASE WHEN $3 = 0 THEN '''{}''::numeric[], ''{}''::numeric[], ''{}''::bigint[]'
		     ELSE format('ARRAY[%s], ARRAY[%s], ARRAY[%s]',
		                 (SELECT string_agg(format('(a.e%s).dl_bytes', g), ', ') FROM generate_series(1, $3) g),
		                 (SELECT string_agg(format('(a.e%s).ul_bytes', g), ', ') FROM generate_series(1, $3) g),
		                 (SELECT string_agg(format('a.n%s', g), ', ') FROM generate_series(1, $3) g)) END,
		q, $2)
	INTO rows_read, users, rejected_values, app_dl_bytes, app_ul_bytes, app_users;
	rows_read := rows_read + nosub;
	rows_without_subscriber := nosub;

	-- the top 10 users of each metric (NULLs left out): value descending,
	-- then the MSISDN ascending in its own type and collation
	top_metrics := '{}'; top_ranks := '{}'; top_msisdns := '{}'; top_values := '{}';
	FOREACH metric IN ARRAY ARRAY['sessions', 'duration_ms', 'total_bytes'] LOOP
		rank := 0;
		-- (the conversions in the outer query: for 10 rows, not every row)
		FOR r IN EXECUTE format('SELECT c.key::text AS m, c.v::numeric AS v FROM ('
		                        'SELECT u.msisdn AS key, u.%1$I AS v FROM %2$s u '
		                        'WHERE u.%1$I IS NOT NULL ORDER BY u.%1$I DESC, u.msisdn LIMIT 10) c '
		                        'ORDER BY c.v DESC, c.key', metric, $2) LOOP
			rank := rank + 1;
			top_metrics := top_metrics || metric;
			top_ranks := top_ranks || rank;
			top_msisdns := top_msisdns || r.m;
			top_values := top_values || r.v;
		END LOOP;
	END LOOP;

	-- the top 10 users of each application among those with a DL or UL
	-- value: chosen by DL + UL in double precision, ranked by the numeric
	-- total, ties by the MSISDN
	app_top_positions := '{}'; app_top_ranks := '{}'; app_top_msisdns := '{}'; app_top_bytes := '{}';
	FOR i IN 1 .. $3 LOOP
		rank := 0;
		FOR r IN EXECUTE format($q$
			SELECT c.key::text AS m, COALESCE(c.dl::numeric, 0) + COALESCE(c.ul::numeric, 0) AS v
			FROM (SELECT u.msisdn AS key, u.app_dl_bytes[%1$s] AS dl, u.app_ul_bytes[%1$s] AS ul
			      FROM %2$s u
			      WHERE u.app_dl_bytes[%1$s] IS NOT NULL OR u.app_ul_bytes[%1$s] IS NOT NULL
			      ORDER BY COALESCE(u.app_dl_bytes[%1$s], 0) + COALESCE(u.app_ul_bytes[%1$s], 0) DESC, u.msisdn
			      LIMIT 10) c
			ORDER BY 2 DESC, c.key$q$, i, $2) LOOP
			rank := rank + 1;
			app_top_positions := app_top_positions || i;
			app_top_ranks := app_top_ranks || rank;
			app_top_msisdns := app_top_msisdns || r.m;
			app_top_bytes := app_top_bytes || r.v;
		END LOOP;
	END LOOP;
END
$$;

COMMENT ON FUNCTION @extschema@.store_user_engagement_citus(bigint, regclass, integer, bigint) IS
'Internal to run_analysis on a Citus distributed source: from the run''s distributed per-user table (msisdn, sessions, duration_ms, dl_bytes, ul_bytes, total_bytes, app_dl_bytes, app_ul_bytes, rejected_values), what store_user_engagement returns on one node: the rows read (the users'' sessions and rows_without_subscriber), the users, the rejected values, the top 10 users per metric and per application and the application totals and users, by queries that the workers run (ORDER BY ... LIMIT 10 per shard, split aggregates)';

-- The fit of run_analysis's K-means step without writing (src/kmeans_sql.c):
-- store_user_clusters's model from one read of the points, the points kept
-- for the elbow; nothing written.  On one node (k up to 1000) each user's
-- cluster is then computed where it is read (engage.run.clusters_on_read);
-- on Citus with k above 1000, the points read from the run's distributed
-- table, the users' clusters written on the workers by kmeans_nearest.
CREATE FUNCTION @extschema@.store_cluster_model(run_id bigint, points text, k integer, seed bigint,
    normalization text DEFAULT 'zscore', initial_centroids double precision[] DEFAULT NULL)
RETURNS @extschema@.kmeans_model
AS 'MODULE_PATHNAME', 'engage_store_cluster_model'
LANGUAGE C VOLATILE PARALLEL UNSAFE;

COMMENT ON FUNCTION @extschema@.store_cluster_model(bigint, text, integer, bigint, text, double precision[]) IS
'Internal to run_analysis: the model of store_user_clusters on the points query (msisdn text, sessions bigint, the duration and traffic features) with the normalization (NULL: zscore) and initial_centroids (NULL: none; k x 3 in the features'' units, one more candidate beside the restarts), bit for bit, from one read (or none: the points store_user_engagement kept for run_id in the same (sub)transaction, when points is run_analysis''s query of the run''s users), without writing (k up to 1000: kmeans_fit_sampled(points, k, normalization, seed => seed, initial_centroids => initial_centroids)''s model, the split K-means in memory; above: kmeans_cluster_rows''s with tol 0); the points are kept for store_elbow_curve with the same run_id, points query, seed and normalization in the same (sub)transaction. On one node the K-means step of run_analysis with k up to 1000 (each user''s cluster then computed where it is read, kmeans_nearest), on a Citus distributed source with k above 1000';

-- The per-user rows of a run on Citus, for the views: the rows of the
-- run's distributed tables (engage.run_distributed) in the columns of
-- result_user_engagement and result_user_cluster; none for a run on one
-- node.  The views are static objects of the extension while the tables
-- are made per run, so the views reach them through these functions
-- (dynamic SQL).  The price, for a BI tool: a function's rows are
-- gathered on the coordinator whole before the view's filters apply, so
-- a view of a distributed run costs a read of all its users; a query that
-- filters or aggregates users at scale reads the run's table
-- (engage.run_distributed names it), where Citus pushes the filter and
-- the aggregate down to the workers.
CREATE FUNCTION @extschema@.distributed_user_engagement(run bigint)
RETURNS TABLE (run_id bigint, msisdn text, sessions bigint, duration_ms numeric, dl_bytes numeric,
               ul_bytes numeric, total_bytes numeric, app_dl_bytes double precision[],
               app_ul_bytes double precision[])
LANGUAGE plpgsql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	tab text;
BEGIN
	SELECT d.user_engagement INTO tab FROM @extschema@.run_distributed d WHERE d.run_id = $1;
	IF tab IS NOT NULL THEN
		RETURN QUERY EXECUTE format('SELECT $1, u.msisdn::text, u.sessions, u.duration_ms, u.dl_bytes, u.ul_bytes, '
		                            'u.total_bytes, u.app_dl_bytes, u.app_ul_bytes FROM %s u', tab)
			USING $1;
	END IF;
END
$$;

COMMENT ON FUNCTION @extschema@.distributed_user_engagement(bigint) IS
'The per-user engagement of a run on a Citus distributed source, from its distributed table (engage.run_distributed), in the columns of result_user_engagement (msisdn as text); no rows for a run on one node. The views engage.user_engagement and engage.app_usage read it';

CREATE FUNCTION @extschema@.distributed_user_cluster(run bigint)
RETURNS TABLE (run_id bigint, msisdn text, cluster integer, distance double precision, sessions bigint,
               duration_ms numeric, total_bytes numeric)
LANGUAGE plpgsql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	tab text;
BEGIN
	SELECT d.user_cluster INTO tab FROM @extschema@.run_distributed d WHERE d.run_id = $1;
	IF tab IS NOT NULL THEN
		RETURN QUERY EXECUTE format('SELECT $1, u.msisdn::text, u.cluster, u.distance, u.sessions, '
		                            'u.duration_ms, u.total_bytes FROM %s u', tab)
			USING $1;
	END IF;
END
$$;

COMMENT ON FUNCTION @extschema@.distributed_user_cluster(bigint) IS
'The users'' clusters of a run on a Citus distributed source, from its distributed table (engage.run_distributed), in the columns of result_user_cluster (msisdn as text); no rows for a run on one node. The view engage.user_clusters reads it';

-- The cluster and distance of a user's row of result_user_engagement under a
-- run's model (src/kmeans_sql.c): kmeans_nearest's of the user's sessions,
-- duration and traffic (NULL as 0), bit for bit, without making an array
-- or converting the numerics through text; the views and run_analysis
-- compute with it the clusters of the runs that did not store them
-- (engage.run.clusters_on_read).
CREATE FUNCTION @extschema@.user_cluster(model @extschema@.kmeans_model, sessions bigint,
    duration_ms numeric, total_bytes numeric, OUT cluster integer, OUT distance double precision)
RETURNS record
AS 'MODULE_PATHNAME', 'engage_user_cluster'
LANGUAGE C IMMUTABLE PARALLEL SAFE;

COMMENT ON FUNCTION @extschema@.user_cluster(@extschema@.kmeans_model, bigint, numeric, numeric) IS
'The cluster (1..k) and distance of a user''s row of result_user_engagement under a run''s model of 3 features (engage.run.cluster_model): kmeans_nearest(model, ARRAY[sessions, COALESCE(duration_ms, 0), COALESCE(total_bytes, 0)]::float8[]), bit for bit, and the cluster and distance the run''s fit gave the user, without the array or the text conversions; NULLs when sessions is NULL. The views compute with it the users'' clusters of the runs that did not store them (engage.run.clusters_on_read)';

-- run_analysis's cluster statistics from the rows its per-user step kept
-- (src/kmeans_sql.c, src/run_points.c): on one node, in the transaction of
-- the run, the statistics without a read of the rows just written.
CREATE FUNCTION @extschema@.captured_cluster_sums(run_id bigint, model @extschema@.kmeans_model,
    OUT cluster integer, OUT users bigint,
    OUT s_min bigint, OUT s_max bigint, OUT s_avg numeric, OUT s_sum numeric,
    OUT d_min numeric, OUT d_max numeric, OUT d_avg numeric, OUT d_sum numeric,
    OUT b_min numeric, OUT b_max numeric, OUT b_avg numeric, OUT b_sum numeric,
    OUT d_count bigint, OUT b_count bigint, OUT hours bigint[])
RETURNS SETOF record
AS 'MODULE_PATHNAME', 'engage_captured_cluster_sums'
LANGUAGE C VOLATILE PARALLEL UNSAFE;

COMMENT ON FUNCTION @extschema@.captured_cluster_sums(bigint, @extschema@.kmeans_model) IS
'Internal to run_analysis: per cluster with users, the count, min, max, avg and sum of sessions, duration_ms and total_bytes, the counts of the non-NULL duration_ms and total_bytes and hours_sum_agg of the hours of run run_id''s rows of result_user_engagement, each user''s cluster user_cluster(model, ...): what the same aggregates of those rows give, from the values store_user_engagement kept for run_id as it wrote them in the same (sub)transaction (each an integer up to 2^53 with no fraction digits, within engage.max_memory), once; no rows when none were kept (run_analysis then reads the rows)';

-- The BI views: the results of the latest successful run of each analysis
-- (engage.run.name), with the name in every row, so that a dashboard
-- filters by it (WHERE name = '...'); engage.latest_run has one row per
-- name.  Each view starts from latest_run and reads each name's run by its
-- run_id: the small result tables by their primary key, the per-user
-- tables through the BRIN index on run_id, or, for a run on a Citus
-- distributed source, through distributed_user_engagement and
-- distributed_user_cluster (the other branch of the UNION ALL is empty).
-- The users' clusters of a run on one node with clusters_on_read (every
-- run since 0.2.0 with k up to 1000) are not stored: each user's cluster
-- and distance are user_cluster (kmeans_nearest) of the run's cluster_model
-- on the user's row of result_user_engagement, as the fit gave them (and as
-- store_user_clusters would have written them, bit for bit); a run that
-- stored them (0.1.0's, k above 1000) is read from result_user_cluster.
-- Each branch is gated by the run's clusters_on_read, so the other is not
-- read at all.
-- The per-user reads are a LATERAL subquery kept apart from the join
-- (OFFSET 0), so that the planner reads each name's run by its run_id
-- whatever it estimates: never a scan of every kept run.  A filter on the
-- name reaches latest_run (through its partial index on engage.run), so a
-- dashboard of one name reads that name's run only.  Each view evaluates
-- the latest runs when it is read; to read several views of the same runs
-- while a refresh may commit, read them in one REPEATABLE READ
-- transaction, or join on run_id.

CREATE VIEW @extschema@.latest_run AS
SELECT r.*
FROM @extschema@.run r
WHERE r.status = 'ok'
  AND r.run_id = (SELECT max(l.run_id) FROM @extschema@.run l WHERE l.status = 'ok' AND l.name = r.name);

COMMENT ON VIEW @extschema@.latest_run IS
'The engage.run row of the latest successful run of each analysis (one row per name): the runs that every other result view shows';

CREATE VIEW @extschema@.user_engagement AS
SELECT u.run_id, u.msisdn, u.sessions, u.duration_ms, u.dl_bytes, u.ul_bytes, u.total_bytes, l.name
FROM @extschema@.latest_run l
CROSS JOIN LATERAL (
	SELECT x.run_id, x.msisdn, x.sessions, x.duration_ms, x.dl_bytes, x.ul_bytes, x.total_bytes
	FROM @extschema@.result_user_engagement x
	WHERE x.run_id = l.run_id
	UNION ALL
	SELECT x.run_id, x.msisdn, x.sessions, x.duration_ms, x.dl_bytes, x.ul_bytes, x.total_bytes
	FROM @extschema@.distributed_user_engagement(l.run_id) x
	OFFSET 0) u;

COMMENT ON VIEW @extschema@.user_engagement IS
'Per-user engagement of the latest successful run of each analysis (filter by name): one row per subscriber (rows without MSISDN left out), with sessions (xDR rows), total duration in ms and DL, UL and DL + UL bytes (exact sums)';
COMMENT ON COLUMN @extschema@.user_engagement.msisdn IS 'The subscriber, as the text form of the MSISDN column';
COMMENT ON COLUMN @extschema@.user_engagement.sessions IS 'xDR rows (sessions) of the subscriber';
COMMENT ON COLUMN @extschema@.user_engagement.duration_ms IS 'Sum of the session durations, in ms';
COMMENT ON COLUMN @extschema@.user_engagement.total_bytes IS 'dl_bytes + ul_bytes';
COMMENT ON COLUMN @extschema@.user_engagement.name IS 'The analysis (engage.run.name) whose latest successful run the row belongs to';

CREATE VIEW @extschema@.user_clusters AS
SELECT c.run_id, c.msisdn, c.cluster, s.label, c.distance,
       c.sessions, c.duration_ms, c.total_bytes, l.name,
       CASE WHEN (z.model).scale IS NOT NULL THEN
	       (@extschema@.user_cluster(z.model, c.sessions, c.duration_ms, c.total_bytes)).distance
       END AS engagement_score
FROM @extschema@.latest_run l
CROSS JOIN LATERAL (
	SELECT x.run_id, x.msisdn, x.cluster, x.distance, x.sessions, x.duration_ms, x.total_bytes
	FROM @extschema@.result_user_cluster x
	WHERE x.run_id = l.run_id AND NOT l.clusters_on_read
	UNION ALL
	SELECT e.run_id, e.msisdn, (e.p).cluster, (e.p).distance, e.sessions, e.duration_ms, e.total_bytes
	FROM (SELECT x.run_id, x.msisdn, x.sessions, x.duration_ms, x.total_bytes,
	             @extschema@.user_cluster(l.cluster_model, x.sessions, x.duration_ms, x.total_bytes) AS p
	      FROM @extschema@.result_user_engagement x
	      WHERE x.run_id = l.run_id AND l.clusters_on_read
	      OFFSET 0) e
	UNION ALL
	SELECT x.run_id, x.msisdn, x.cluster, x.distance, x.sessions, x.duration_ms, x.total_bytes
	FROM @extschema@.distributed_user_cluster(l.run_id) x
	OFFSET 0) c
JOIN @extschema@.result_cluster_stats s ON s.run_id = l.run_id AND s.cluster = c.cluster
CROSS JOIN LATERAL (
	SELECT @extschema@.kmeans_model_clusters(l.cluster_model,
	                                         ARRAY[@extschema@.least_engaged_cluster(l.cluster_model)]) AS model
	OFFSET 0) z;

COMMENT ON VIEW @extschema@.user_clusters IS
'The K-means cluster of each subscriber in the latest successful run of each analysis (filter by name), with its label, distance to the centroid (z-scored space), the clustered metrics and the engagement score';
COMMENT ON COLUMN @extschema@.user_clusters.cluster IS 'Cluster 1..k, numbered by ascending centroid norm (1 is the least engaged), or after the previous run''s clusters (run_analysis''s warm_start; engage.run.warm_start_run)';
COMMENT ON COLUMN @extschema@.user_clusters.distance IS 'Euclidean distance to the cluster''s centroid in the z-scored space';
COMMENT ON COLUMN @extschema@.user_clusters.name IS 'The analysis (engage.run.name) whose latest successful run the row belongs to';
COMMENT ON COLUMN @extschema@.user_clusters.engagement_score IS 'Euclidean distance, in the normalised space of the run''s clustering, from the subscriber''s point (sessions, duration_ms and total_bytes, NULL as 0, normalised by the run''s scaler) to the centroid of the least engaged cluster (engage.least_engaged_cluster of engage.run.cluster_model: smallest normalised centroid norm); the higher, the more engaged. NULL for a run made before issue 13 (no cluster_model)';

CREATE VIEW @extschema@.cluster_stats AS
SELECT s.run_id, s.cluster, s.label, s.description, s.users, s.share,
       s.sessions_min, s.sessions_max, s.sessions_avg, s.sessions_total,
       s.duration_ms_min, s.duration_ms_max, s.duration_ms_avg, s.duration_ms_total,
       s.total_bytes_min, s.total_bytes_max, s.total_bytes_avg, s.total_bytes_total,
       s.centroid, s.centroid_normalized, s.inertia, l.name
FROM @extschema@.latest_run l
JOIN @extschema@.result_cluster_stats s ON s.run_id = l.run_id;

COMMENT ON VIEW @extschema@.cluster_stats IS
'One row per K-means cluster of the latest successful run of each analysis (filter by name): label, one-line description against the overall averages, size and share of users, min / max / avg / total of sessions, duration_ms and total_bytes, centroid and inertia';
COMMENT ON COLUMN @extschema@.cluster_stats.label IS 'Plain words: low / medium / high engagement for k = 3 (see engage.cluster_label)';
COMMENT ON COLUMN @extschema@.cluster_stats.description IS 'Share of users and average sessions, duration (minutes) and traffic (MB = 10^6 bytes) per user against the overall averages';
COMMENT ON COLUMN @extschema@.cluster_stats.share IS 'Fraction of the users in this cluster (0 to 1)';
COMMENT ON COLUMN @extschema@.cluster_stats.centroid IS 'Centroid in the features'' units: sessions, duration_ms, total_bytes';
COMMENT ON COLUMN @extschema@.cluster_stats.centroid_normalized IS 'Centroid in the z-scored space';
COMMENT ON COLUMN @extschema@.cluster_stats.inertia IS 'Sum of squared distances of the cluster''s users to its centroid (z-scored space)';
COMMENT ON COLUMN @extschema@.cluster_stats.name IS 'The analysis (engage.run.name) whose latest successful run the row belongs to';

CREATE VIEW @extschema@.top_users AS
SELECT t.run_id, t.metric, t.rank, t.msisdn, t.value, l.name
FROM @extschema@.latest_run l
JOIN @extschema@.result_top_users t ON t.run_id = l.run_id;

COMMENT ON VIEW @extschema@.top_users IS
'Top 10 subscribers of the latest successful run of each analysis (filter by name) by each metric (sessions, duration_ms, total_bytes): ranked by value descending, ties broken by MSISDN ascending in the source column''s own order; users with a NULL value are left out';
COMMENT ON COLUMN @extschema@.top_users.metric IS 'sessions, duration_ms or total_bytes';
COMMENT ON COLUMN @extschema@.top_users.rank IS '1..10, distinct';
COMMENT ON COLUMN @extschema@.top_users.name IS 'The analysis (engage.run.name) whose latest successful run the row belongs to';

CREATE VIEW @extschema@.app_usage AS
SELECT u.run_id, u.msisdn, a.application, x.dl_bytes, x.ul_bytes,
       CASE WHEN x.dl_bytes IS NULL AND x.ul_bytes IS NULL THEN NULL
            ELSE COALESCE(x.dl_bytes, 0) + COALESCE(x.ul_bytes, 0) END AS total_bytes,
       l.name
FROM @extschema@.latest_run l
CROSS JOIN LATERAL (
	SELECT e.run_id, e.msisdn, e.app_dl_bytes, e.app_ul_bytes
	FROM @extschema@.result_user_engagement e
	WHERE e.run_id = l.run_id
	UNION ALL
	SELECT e.run_id, e.msisdn, e.app_dl_bytes, e.app_ul_bytes
	FROM @extschema@.distributed_user_engagement(l.run_id) e
	OFFSET 0) u
JOIN @extschema@.result_app_totals a ON a.run_id = l.run_id
CROSS JOIN LATERAL (SELECT u.app_dl_bytes[a.position]::numeric AS dl_bytes,
                           u.app_ul_bytes[a.position]::numeric AS ul_bytes) x;

COMMENT ON VIEW @extschema@.app_usage IS
'Traffic of each subscriber in each application in the latest successful run of each analysis (filter by name): sums of the application''s DL and UL columns over the subscriber''s rows';
COMMENT ON COLUMN @extschema@.app_usage.total_bytes IS 'dl_bytes + ul_bytes (a missing side counts as 0; NULL when both are)';
COMMENT ON COLUMN @extschema@.app_usage.name IS 'The analysis (engage.run.name) whose latest successful run the row belongs to';

CREATE VIEW @extschema@.app_totals AS
SELECT a.run_id, a.application, a.rank, a.users, a.dl_bytes, a.ul_bytes, a.total_bytes, l.name
FROM @extschema@.latest_run l
JOIN @extschema@.result_app_totals a ON a.run_id = l.run_id;

COMMENT ON VIEW @extschema@.app_totals IS
'Traffic of each application over all subscribers (rows without MSISDN left out) in the latest successful run of each analysis (filter by name), ranked by total traffic';
COMMENT ON COLUMN @extschema@.app_totals.rank IS 'Rank by total_bytes descending, ties by application name';
COMMENT ON COLUMN @extschema@.app_totals.users IS 'Subscribers with some traffic in the application';
COMMENT ON COLUMN @extschema@.app_totals.name IS 'The analysis (engage.run.name) whose latest successful run the row belongs to';

CREATE VIEW @extschema@.top_users_per_app AS
SELECT t.run_id, t.application, t.rank, t.msisdn, t.total_bytes, l.name
FROM @extschema@.latest_run l
JOIN @extschema@.result_top_users_per_app t ON t.run_id = l.run_id;

COMMENT ON VIEW @extschema@.top_users_per_app IS
'Top 10 subscribers of each application by its traffic (DL + UL) in the latest successful run of each analysis (filter by name), ties broken by MSISDN ascending in the source column''s own order';
COMMENT ON COLUMN @extschema@.top_users_per_app.name IS 'The analysis (engage.run.name) whose latest successful run the row belongs to';

CREATE VIEW @extschema@.top_apps AS
SELECT a.run_id, a.rank, a.application, a.users, a.total_bytes, l.name
FROM @extschema@.latest_run l
JOIN @extschema@.result_app_totals a ON a.run_id = l.run_id
WHERE a.rank <= 3;

COMMENT ON VIEW @extschema@.top_apps IS
'The 3 most used applications by total traffic in the latest successful run of each analysis (filter by name)';
COMMENT ON COLUMN @extschema@.top_apps.name IS 'The analysis (engage.run.name) whose latest successful run the row belongs to';

CREATE VIEW @extschema@.elbow AS
SELECT e.run_id, e.k, e.inertia, e.silhouette, e.is_elbow, l.name, e.davies_bouldin, e.calinski_harabasz
FROM @extschema@.latest_run l
JOIN @extschema@.result_elbow e ON e.run_id = l.run_id;

COMMENT ON VIEW @extschema@.elbow IS
'The elbow curve of the latest successful run of each analysis (filter by name): K-means inertia, simplified silhouette and the Davies-Bouldin and Calinski-Harabasz indexes (elbow_inertia''s; NULL for k = 1) for k = 1..k_max; is_elbow marks the k that Kneedle picks (none when the curve has no knee)';
COMMENT ON COLUMN @extschema@.elbow.name IS 'The analysis (engage.run.name) whose latest successful run the row belongs to';

-- Segments over time (issue 13): who moved between the previous and the
-- latest successful run of each analysis.  The previous run is the
-- analysis's successful run (status ok) of the highest run_id below the
-- latest's: with keep_runs 1 it is pruned, and the views have no rows for
-- the name.  A subscriber is matched across the runs by the text of its
-- MSISDN.  Each view reads both runs' users, as engage.user_clusters
-- does.
CREATE VIEW @extschema@.segment_runs AS
SELECT l.name, p.run_id AS from_run, l.run_id AS to_run
FROM @extschema@.latest_run l
CROSS JOIN LATERAL (
	SELECT max(r.run_id) AS run_id FROM @extschema@.run r
	WHERE r.status = 'ok' AND r.name = l.name AND r.run_id < l.run_id) p
WHERE p.run_id IS NOT NULL;

COMMENT ON VIEW @extschema@.segment_runs IS
'The two runs that engage.segment_migration and engage.segment_movers compare, per analysis: the previous successful run (from_run) and the latest (to_run); no row for an analysis with a single successful run kept';
COMMENT ON COLUMN @extschema@.segment_runs.name IS 'The analysis (engage.run.name)';
COMMENT ON COLUMN @extschema@.segment_runs.from_run IS 'The previous successful run of the analysis';
COMMENT ON COLUMN @extschema@.segment_runs.to_run IS 'The latest successful run of the analysis';

CREATE VIEW @extschema@.segment_migration AS
SELECT g.name, g.from_run, g.to_run, m.from_cluster, fs.label AS from_label,
       m.to_cluster, ts.label AS to_label, m.users
FROM @extschema@.segment_runs g
CROSS JOIN LATERAL (
	SELECT f.cluster AS from_cluster, t.cluster AS to_cluster, count(*) AS users
	FROM (SELECT x.msisdn, x.cluster FROM @extschema@.result_user_cluster x WHERE x.run_id = g.from_run
	      UNION ALL
	      SELECT x.msisdn, (@extschema@.user_cluster(r.cluster_model, x.sessions, x.duration_ms, x.total_bytes)).cluster
	      FROM @extschema@.run r JOIN @extschema@.result_user_engagement x ON x.run_id = r.run_id
	      WHERE r.run_id = g.from_run AND r.clusters_on_read
	      UNION ALL
	      SELECT x.msisdn, x.cluster FROM @extschema@.distributed_user_cluster(g.from_run) x
	      OFFSET 0) f
	FULL JOIN
	     (SELECT x.msisdn, x.cluster FROM @extschema@.result_user_cluster x WHERE x.run_id = g.to_run
	      UNION ALL
	      SELECT x.msisdn, (@extschema@.user_cluster(r.cluster_model, x.sessions, x.duration_ms, x.total_bytes)).cluster
	      FROM @extschema@.run r JOIN @extschema@.result_user_engagement x ON x.run_id = r.run_id
	      WHERE r.run_id = g.to_run AND r.clusters_on_read
	      UNION ALL
	      SELECT x.msisdn, x.cluster FROM @extschema@.distributed_user_cluster(g.to_run) x
	      OFFSET 0) t ON t.msisdn = f.msisdn
	GROUP BY 1, 2) m
LEFT JOIN @extschema@.result_cluster_stats fs ON fs.run_id = g.from_run AND fs.cluster = m.from_cluster
LEFT JOIN @extschema@.result_cluster_stats ts ON ts.run_id = g.to_run AND ts.cluster = m.to_cluster;

COMMENT ON VIEW @extschema@.segment_migration IS
'Subscribers by segment in the previous and the latest successful run of each analysis (engage.segment_runs): one row per (from_cluster, to_cluster) pair with users; a subscriber of the latest run only has a NULL from_cluster (new), one of the previous run only a NULL to_cluster (gone)';
COMMENT ON COLUMN @extschema@.segment_migration.name IS 'The analysis (engage.run.name)';
COMMENT ON COLUMN @extschema@.segment_migration.from_run IS 'The previous successful run of the analysis';
COMMENT ON COLUMN @extschema@.segment_migration.to_run IS 'The latest successful run of the analysis';
COMMENT ON COLUMN @extschema@.segment_migration.from_cluster IS 'The subscribers'' cluster in from_run; NULL: not in from_run (new subscribers)';
COMMENT ON COLUMN @extschema@.segment_migration.from_label IS 'The label of from_cluster in from_run';
COMMENT ON COLUMN @extschema@.segment_migration.to_cluster IS 'The subscribers'' cluster in to_run; NULL: not in to_run (gone)';
COMMENT ON COLUMN @extschema@.segment_migration.to_label IS 'The label of to_cluster in to_run';
COMMENT ON COLUMN @extschema@.segment_migration.users IS 'Subscribers who went from from_cluster to to_cluster';

CREATE VIEW @extschema@.segment_movers AS
SELECT g.name, g.from_run, g.to_run, t.msisdn, f.cluster AS from_cluster, fs.label AS from_label,
       t.cluster AS to_cluster, ts.label AS to_label,
       f.sessions AS from_sessions, t.sessions AS to_sessions,
       f.duration_ms AS from_duration_ms, t.duration_ms AS to_duration_ms,
       f.total_bytes AS from_total_bytes, t.total_bytes AS to_total_bytes
FROM @extschema@.segment_runs g
CROSS JOIN LATERAL (
	SELECT x.msisdn, x.cluster, x.sessions, x.duration_ms, x.total_bytes
	FROM @extschema@.result_user_cluster x WHERE x.run_id = g.from_run
	UNION ALL
	SELECT x.msisdn, (@extschema@.user_cluster(r.cluster_model, x.sessions, x.duration_ms, x.total_bytes)).cluster,
	       x.sessions, x.duration_ms, x.total_bytes
	FROM @extschema@.run r JOIN @extschema@.result_user_engagement x ON x.run_id = r.run_id
	WHERE r.run_id = g.from_run AND r.clusters_on_read
	UNION ALL
	SELECT x.msisdn, x.cluster, x.sessions, x.duration_ms, x.total_bytes
	FROM @extschema@.distributed_user_cluster(g.from_run) x
	OFFSET 0) f
JOIN LATERAL (
	SELECT x.msisdn, x.cluster, x.sessions, x.duration_ms, x.total_bytes
	FROM @extschema@.result_user_cluster x WHERE x.run_id = g.to_run
	UNION ALL
	SELECT x.msisdn, (@extschema@.user_cluster(r.cluster_model, x.sessions, x.duration_ms, x.total_bytes)).cluster,
	       x.sessions, x.duration_ms, x.total_bytes
	FROM @extschema@.run r JOIN @extschema@.result_user_engagement x ON x.run_id = r.run_id
	WHERE r.run_id = g.to_run AND r.clusters_on_read
	UNION ALL
	SELECT x.msisdn, x.cluster, x.sessions, x.duration_ms, x.total_bytes
	FROM @extschema@.distributed_user_cluster(g.to_run) x
	OFFSET 0) t ON t.msisdn = f.msisdn AND t.cluster <> f.cluster
JOIN @extschema@.result_cluster_stats fs ON fs.run_id = g.from_run AND fs.cluster = f.cluster
JOIN @extschema@.result_cluster_stats ts ON ts.run_id = g.to_run AND ts.cluster = t.cluster;

COMMENT ON VIEW @extschema@.segment_movers IS
'The subscribers in both the previous and the latest successful run of each analysis (engage.segment_runs) whose cluster changed, with their clusters, labels and clustered metrics in both runs (new and gone subscribers: engage.segment_migration)';
COMMENT ON COLUMN @extschema@.segment_movers.name IS 'The analysis (engage.run.name)';
COMMENT ON COLUMN @extschema@.segment_movers.from_run IS 'The previous successful run of the analysis';
COMMENT ON COLUMN @extschema@.segment_movers.to_run IS 'The latest successful run of the analysis';
COMMENT ON COLUMN @extschema@.segment_movers.msisdn IS 'The subscriber, as the text form of the MSISDN column';
COMMENT ON COLUMN @extschema@.segment_movers.from_cluster IS 'The subscriber''s cluster in from_run';
COMMENT ON COLUMN @extschema@.segment_movers.from_label IS 'The label of from_cluster in from_run';
COMMENT ON COLUMN @extschema@.segment_movers.to_cluster IS 'The subscriber''s cluster in to_run';
COMMENT ON COLUMN @extschema@.segment_movers.to_label IS 'The label of to_cluster in to_run';
COMMENT ON COLUMN @extschema@.segment_movers.from_sessions IS 'Sessions in from_run';
COMMENT ON COLUMN @extschema@.segment_movers.to_sessions IS 'Sessions in to_run';
COMMENT ON COLUMN @extschema@.segment_movers.from_duration_ms IS 'Total duration in ms in from_run';
COMMENT ON COLUMN @extschema@.segment_movers.to_duration_ms IS 'Total duration in ms in to_run';
COMMENT ON COLUMN @extschema@.segment_movers.from_total_bytes IS 'DL + UL bytes in from_run';
COMMENT ON COLUMN @extschema@.segment_movers.to_total_bytes IS 'DL + UL bytes in to_run';

-- Hours of activity (issue 13): each segment's sessions by hour of day of
-- their start, as run_analysis stored them (result_cluster_activity).
CREATE VIEW @extschema@.cluster_activity AS
SELECT a.run_id, a.cluster, s.label, a.hour, a.sessions, a.share, l.name
FROM @extschema@.latest_run l
JOIN @extschema@.result_cluster_activity a ON a.run_id = l.run_id
JOIN @extschema@.result_cluster_stats s ON s.run_id = a.run_id AND s.cluster = a.cluster;

COMMENT ON VIEW @extschema@.cluster_activity IS
'The hours of activity of each K-means cluster of the latest successful run of each analysis (filter by name): the sessions of the cluster''s users that start in each hour of day 0-23 (run_analysis''s start_column: a timestamptz in the session''s TimeZone, a timestamp or text as written), 24 rows per cluster; no rows for a run whose source has no start column of a usable type (or start_column NULL)';
COMMENT ON COLUMN @extschema@.cluster_activity.cluster IS 'Cluster 1..k, as in engage.user_clusters';
COMMENT ON COLUMN @extschema@.cluster_activity.label IS 'The cluster''s label (engage.cluster_stats)';
COMMENT ON COLUMN @extschema@.cluster_activity.hour IS 'Hour of day of the sessions'' start, 0 to 23';
COMMENT ON COLUMN @extschema@.cluster_activity.sessions IS 'Sessions (xDR rows) of the cluster''s users that start in that hour (of the run''s time window, if any); sessions whose start gives no time are not counted';
COMMENT ON COLUMN @extschema@.cluster_activity.share IS 'sessions over the cluster''s sessions of all 24 hours (0 to 1); NULL when the cluster has none';
COMMENT ON COLUMN @extschema@.cluster_activity.name IS 'The analysis (engage.run.name) whose latest successful run the row belongs to';
