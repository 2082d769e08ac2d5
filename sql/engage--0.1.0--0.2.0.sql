/* engage--0.1.0--0.2.0.sql: upgrade the engage extension from 0.1.0 to 0.2.0 */

-- complain if script is sourced in psql, rather than via CREATE EXTENSION
\echo Use "ALTER EXTENSION engage UPDATE TO '0.2.0'" to load this file. \quit

-- Every difference between the install scripts of 0.1.0 and 0.2.0 is made
-- here, so that an upgraded database has exactly the objects of a fresh
-- 0.2.0 install (test/sql/upgrade.sql checks it).  CREATE OR REPLACE
-- replaces functions of the extension only: PostgreSQL refuses to replace
-- an object that is not a member of the extension being updated.

------------------------------------------------------------------------------
-- 1. C entry points: every SQL function's C symbol is engage_<SQL name>.
-- The library keeps the four symbols of 0.1.0 (src/compat.c) for databases
-- not upgraded yet.
------------------------------------------------------------------------------

CREATE OR REPLACE FUNCTION @extschema@.kmeans_assign(model @extschema@.kmeans_model, points text)
RETURNS TABLE (key text, cluster integer, distance double precision)
AS 'MODULE_PATHNAME', 'engage_kmeans_assign'
LANGUAGE C VOLATILE PARALLEL UNSAFE;

CREATE OR REPLACE FUNCTION @extschema@.svg_bar_chart(labels text[], "values" double precision[], title text,
    x_label text DEFAULT NULL, y_label text DEFAULT NULL, unit text DEFAULT NULL)
RETURNS text
AS 'MODULE_PATHNAME', 'engage_svg_bar_chart'
LANGUAGE C IMMUTABLE PARALLEL SAFE;

CREATE OR REPLACE FUNCTION @extschema@.svg_line_chart(x double precision[], y double precision[], title text,
    x_label text DEFAULT NULL, y_label text DEFAULT NULL,
    mark_x double precision DEFAULT NULL, mark_label text DEFAULT NULL)
RETURNS text
AS 'MODULE_PATHNAME', 'engage_svg_line_chart'
LANGUAGE C IMMUTABLE PARALLEL SAFE;

CREATE OR REPLACE FUNCTION @extschema@.svg_cluster_chart(labels text[], sizes bigint[], metrics text[],
    profile double precision[], title text)
RETURNS text
AS 'MODULE_PATHNAME', 'engage_svg_cluster_chart'
LANGUAGE C IMMUTABLE PARALLEL SAFE;

------------------------------------------------------------------------------
-- 2. Messages in PostgreSQL's style: no routine name in the text (the
-- CONTEXT line names the PL/pgSQL function), values in double quotes.
-- cron_database loses its caller argument, which only named the routine
-- in its messages.
------------------------------------------------------------------------------

CREATE OR REPLACE FUNCTION @extschema@.analysis_progress(run_id bigint, step text, since timestamptz)
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

-- The K-means step of run_analysis (src/kmeans_sql.c, src/bulk_write.c):
-- the fit of kmeans_cluster_rows on the run's users (one read), each user's
-- cluster written into result_user_cluster in bulk; returns the model.
CREATE FUNCTION @extschema@.store_user_clusters(run_id bigint, points text, k integer, seed bigint,
    normalization text DEFAULT 'zscore', initial_centroids double precision[] DEFAULT NULL)
RETURNS @extschema@.kmeans_model
AS 'MODULE_PATHNAME', 'engage_store_user_clusters'
LANGUAGE C VOLATILE PARALLEL UNSAFE;

COMMENT ON FUNCTION @extschema@.store_user_clusters(bigint, text, integer, bigint, text, double precision[]) IS
'Internal to run_analysis: clusters the points query (msisdn text, sessions bigint, the duration and traffic features, duration_ms numeric, total_bytes numeric) with normalization zscore, minmax, log, robust or none (NULL: zscore) as kmeans_fit_sampled(points without the last two columns, k, normalization, seed => seed) does, bit for bit (the split K-means run in memory; each user''s cluster and distance as kmeans_nearest gives them for the model), with k above 1000 (past the split K-means) as kmeans_cluster_rows(points, k, normalization, tol => 0, seed => seed, features => 3) does, from one read (initial_centroids, k x 3 in the features'' units, NULL: none: one more candidate beside the restarts, as kmeans_fit_sampled''s initial_centroids; with k above 1000 a fit from them, init given, kept when its inertia is lower, the restarts'' on a tie), writes each user''s msisdn, cluster, distance, sessions, duration_ms and total_bytes into result_user_cluster under run_id in bulk (the caller needs INSERT on it; no triggers, no row-level security), and returns the model (engage.kmeans_model)';

-- The elbow step of run_analysis (src/kmeans_sql.c): elbow_inertia's curve
-- of the run's users, from the normalised points that store_user_clusters
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

-- run_analysis gains elbow_sample (issue 11), without_msisdn (issue 12)
-- and name (issue 15): a new signature, so the function of 0.1.0 is
-- dropped first (its comment is set again in 5.)
DROP FUNCTION @extschema@.run_analysis(regclass, integer, bigint, integer, text, text, text, text, jsonb, integer);

CREATE FUNCTION @extschema@.run_analysis(
	source regclass DEFAULT 'public.xdr'::text::regclass,
	k integer DEFAULT 3,
	seed bigint DEFAULT 0,
	k_max integer DEFAULT 10,
	msisdn_column text DEFAULT 'MSISDN/Number',
	duration_column text DEFAULT 'Dur. (ms)',
	dl_column text DEFAULT 'Total DL (Bytes)',
	ul_column text DEFAULT 'Total UL (Bytes)',
	applications jsonb DEFAULT '{"Social Media": ["Social Media DL (Bytes)", "Social Media UL (Bytes)"],
	                             "Google": ["Google DL (Bytes)", "Google UL (Bytes)"],
	                             "Email": ["Email DL (Bytes)", "Email UL (Bytes)"],
	                             "Youtube": ["Youtube DL (Bytes)", "Youtube UL (Bytes)"],
	                             "Netflix": ["Netflix DL (Bytes)", "Netflix UL (Bytes)"],
	                             "Gaming": ["Gaming DL (Bytes)", "Gaming UL (Bytes)"],
	                             "Other": ["Other DL (Bytes)", "Other UL (Bytes)"]}',
	keep_runs integer DEFAULT 3,
	elbow_sample integer DEFAULT NULL,
	without_msisdn regclass DEFAULT NULL,
	name text DEFAULT NULL,
	normalization text DEFAULT 'zscore',
	k_selection text DEFAULT NULL,
	warm_start boolean DEFAULT true,
	since timestamptz DEFAULT NULL,
	until timestamptz DEFAULT NULL,
	start_column text DEFAULT 'Start')
RETURNS bigint
LANGUAGE plpgsql VOLATILE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	run bigint;
	t timestamptz;
	app record;
	n_apps integer := 0;
	app_values text := '';
	user_query text;
	saved_jit text;
	saved_seqscan text;
	saved_mergejoin text;
	src text;
	analysis text;			-- the run's name (engage.run.name)
	points text;
	model @extschema@.kmeans_model;
	n_rows bigint;
	n_nosub bigint;
	n_users bigint;
	n_rejected bigint;
	app_args text := '';
	total_inertia double precision;
	chosen_k integer;
	used_sample integer;
	pruned bigint[];
	layout text;			-- NULL: one node; msisdn, other: Citus (see above)
	dist_method text;
	dist_column text;
	msisdn_type text;
	users_table text;
	clusters_table text;
	staging text;
	user_source text;
	columns text;
	grant_row record;
	step_query text;
	stats_from text;
	n_extra bigint := 0;
	n_extra_keyed bigint;
	n_source_nosub bigint := 0;
	e_message text;
	e_detail text;
	e_hint text;
	e_state text;
	scaling text := lower(normalization);	-- engage.run.normalization
	method text := lower(k_selection);	-- engage.run.k_selection
	clusters_k integer;		-- the clustering's k: k, or the one method chose
	selected_k integer;		-- the k method chose (engage.run.k_chosen)
	elbow_query text;
	prev record;			-- warm_start: the previous run of the name
	warm_centroids double precision[];	-- warm_start: its centroids, a start of the fit
	matched integer[];
	from_run bigint;
	start_type text;		-- the start column's type; NULL: no such usable column
	st text;			-- the sessions' start as a timestamp(tz) expression of s
	in_window text;			-- the time window's condition on st; NULL: none
	n_unparsed bigint;		-- rows left out of the window for their start
	n_extra_unparsed bigint := 0;
	n_source_unparsed bigint;
	activity_clusters integer[];	-- the hours of activity: cluster, hour, sessions
	activity_hours integer[];
	activity_sessions bigint[];
	wm_st text;			-- st of without_msisdn, with a window
	window_fmt text;		-- in_window of %1$s
	rel regclass;
	on_read boolean := false;	-- one node: each user's cluster computed where read
	cluster_sums jsonb;		-- the cluster statistics' sums, counts and extremes
	hours_expr text;		-- the per-user query's hours of activity (hours_agg)
BEGIN
	-- Arguments that are wrong on their face are errors (no run is logged)
	IF source IS NULL OR k IS NULL OR seed IS NULL OR k_max IS NULL OR msisdn_column IS NULL
	   OR duration_column IS NULL OR dl_column IS NULL OR ul_column IS NULL
	   OR applications IS NULL OR keep_runs IS NULL OR normalization IS NULL OR run_analysis.warm_start IS NULL THEN
		RAISE EXCEPTION 'arguments must not be NULL'
			USING ERRCODE = 'null_value_not_allowed';
	END IF;
	IF k < 1 OR k > 10000 THEN
		RAISE EXCEPTION 'k must be between 1 and 10000'
			USING ERRCODE = 'invalid_parameter_value', DETAIL = format('k is %s.', k);
	END IF;
	IF k_max < 0 OR k_max > 10000 THEN
		RAISE EXCEPTION 'k_max must be between 0 and 10000'
			USING ERRCODE = 'invalid_parameter_value', DETAIL = format('k_max is %s.', k_max),
			      HINT = 'k_max 0 skips the elbow curve.';
	END IF;
	IF elbow_sample < 0 OR (elbow_sample > 0 AND elbow_sample < k_max) THEN
		RAISE EXCEPTION 'elbow_sample must be 0 or at least k_max'
			USING ERRCODE = 'invalid_parameter_value',
			      DETAIL = format('elbow_sample is %s, k_max %s.', elbow_sample, k_max),
			      HINT = 'elbow_sample 0 runs the elbow''s restarts on every user, NULL lets elbow_inertia choose.';
	END IF;
	IF keep_runs < 1 THEN
		RAISE EXCEPTION 'keep_runs must be at least 1'
			USING ERRCODE = 'invalid_parameter_value', DETAIL = format('keep_runs is %s.', keep_runs);
	END IF;
	IF jsonb_typeof(applications) <> 'object' OR EXISTS (
		SELECT FROM jsonb_each(applications) AS a(name, cols)
		WHERE jsonb_typeof(a.cols) <> 'array' OR jsonb_array_length(a.cols) <> 2
		   OR jsonb_typeof(a.cols -> 0) <> 'string' OR jsonb_typeof(a.cols -> 1) <> 'string') THEN
		RAISE EXCEPTION 'applications must be a JSON object of "name": ["DL column", "UL column"]'
			USING ERRCODE = 'invalid_parameter_value',
			      DETAIL = format('applications is %s.', applications);
	END IF;
	IF run_analysis.name IS NOT NULL AND run_analysis.name !~ '[^[:space:]]' THEN
		RAISE EXCEPTION 'name must not be empty'
			USING ERRCODE = 'invalid_parameter_value',
			      DETAIL = format('name is %L.', run_analysis.name),
			      HINT = 'Name the analysis, or leave name NULL to name it after its source table (schema-qualified).';
	END IF;
	IF length(run_analysis.name) > 500 THEN
		RAISE EXCEPTION 'name is too long'
			USING ERRCODE = 'invalid_parameter_value',
			      DETAIL = format('name is %s characters long; the limit is 500.', length(run_analysis.name));
	END IF;
	IF scaling NOT IN ('zscore', 'minmax', 'log', 'robust', 'none') THEN
		RAISE EXCEPTION 'unknown normalization "%"', normalization
			USING ERRCODE = 'invalid_parameter_value',
			      HINT = 'Use "zscore", "minmax", "log", "robust" or "none".';
	END IF;
	IF method NOT IN ('elbow', 'silhouette', 'davies_bouldin') THEN
		RAISE EXCEPTION 'unknown k_selection method "%"', k_selection
			USING ERRCODE = 'invalid_parameter_value',
			      HINT = 'Use "elbow", "silhouette" or "davies_bouldin", or NULL to use k as given.';
	END IF;
	IF method IS NOT NULL AND run_analysis.k_max < 2 THEN
		RAISE EXCEPTION 'k_selection needs k_max of at least 2'
			USING ERRCODE = 'invalid_parameter_value', DETAIL = format('k_max is %s.', k_max),
			      HINT = 'k_selection chooses k on the elbow curve of k = 1..k_max.';
	END IF;
	-- The time window (issue 13): the sessions that start in [since,
	-- until), from start_column, of type timestamptz, timestamp (taken in
	-- the session's TimeZone) or text (TellCo's M/D/YYYY H:MM, read by
	-- parse_start_time: a text that does not parse gives NULL).  Rows
	-- whose start gives no time are counted (rows_unparsed_start) and left
	-- out, never an error.  Without a window a start column of those types
	-- gives the hours of activity; a missing one, none.
	IF (run_analysis.since IS NOT NULL OR run_analysis.until IS NOT NULL) AND start_column IS NULL THEN
		RAISE EXCEPTION 'a time window needs start_column'
			USING ERRCODE = 'null_value_not_allowed',
			      HINT = 'Name the column of the sessions'' start (timestamp, timestamptz or text M/D/YYYY H:MM).';
	END IF;
	IF run_analysis.since >= run_analysis.until THEN
		RAISE EXCEPTION 'since must be before until'
			USING ERRCODE = 'invalid_parameter_value',
			      DETAIL = format('since is %s, until %s.', run_analysis.since, run_analysis.until),
			      HINT = 'The window holds the sessions that start at or after since and before until.';
	END IF;
	FOREACH rel IN ARRAY ARRAY[run_analysis.without_msisdn, run_analysis.source] LOOP
		CONTINUE WHEN rel IS NULL OR start_column IS NULL;
		SELECT CASE a.atttypid WHEN 'pg_catalog.timestamptz'::regtype THEN 'timestamptz'
		                       WHEN 'pg_catalog.timestamp'::regtype THEN 'timestamp'
		                       WHEN 'pg_catalog.text'::regtype THEN 'text'
		                       ELSE format_type(a.atttypid, a.atttypmod) END
		INTO start_type
		FROM pg_attribute a
		WHERE a.attrelid = rel AND a.attname = start_column AND a.attnum > 0 AND NOT a.attisdropped;
		IF run_analysis.since IS NOT NULL OR run_analysis.until IS NOT NULL THEN
			IF start_type IS NULL THEN
				RAISE EXCEPTION 'column "%" of relation % does not exist', start_column, rel
					USING ERRCODE = 'undefined_column',
					      HINT = 'A time window needs the column of the sessions'' start: name it in start_column.';
			ELSIF start_type NOT IN ('timestamptz', 'timestamp', 'text') THEN
				RAISE EXCEPTION 'column "%" of relation % is of type %', start_column, rel, start_type
					USING ERRCODE = 'datatype_mismatch',
					      HINT = 'The start column of a time window must be timestamp, timestamptz or text (M/D/YYYY H:MM).';
			END IF;
			IF rel = run_analysis.without_msisdn THEN
				wm_st := CASE start_type WHEN 'text' THEN format('@extschema@.parse_start_time(s.%I)', start_column)
				                         ELSE format('s.%I', start_column) END;
			END IF;
		END IF;
	END LOOP;
	-- (the source's, checked last)
	IF start_type IN ('timestamptz', 'timestamp', 'text') THEN
		st := CASE start_type WHEN 'text' THEN format('@extschema@.parse_start_time(s.%I)', start_column)
		                      ELSE format('s.%I', start_column) END;
		IF run_analysis.since IS NOT NULL OR run_analysis.until IS NOT NULL THEN
			window_fmt := concat_ws(' AND ',
			                        CASE WHEN run_analysis.since IS NOT NULL THEN format('%%1$s >= %L::timestamptz', run_analysis.since) END,
			                        CASE WHEN run_analysis.until IS NOT NULL THEN format('%%1$s < %L::timestamptz', run_analysis.until) END);
			in_window := format(window_fmt, st);
		END IF;
	ELSE
		start_type := NULL;
	END IF;

	-- A Citus distributed source: its layout decides the per-user steps
	IF to_regclass('pg_catalog.pg_dist_partition') IS NOT NULL THEN
		EXECUTE 'SELECT p.partmethod::text, CASE WHEN p.partkey IS NULL THEN NULL
		                ELSE pg_catalog.column_to_column_name(p.logicalrelid, p.partkey) END
		         FROM pg_catalog.pg_dist_partition p WHERE p.logicalrelid = $1'
			INTO dist_method, dist_column USING run_analysis.source;
		IF dist_method IS NOT NULL
		   AND (SELECT l.groupid <> 0 FROM pg_catalog.pg_dist_local_group l) THEN
			RAISE EXCEPTION 'run_analysis of a Citus table must run on the coordinator'
				USING ERRCODE = 'feature_not_supported',
				      DETAIL = format('This node is a Citus worker; relation %s is a Citus table.', run_analysis.source),
				      HINT = 'Call run_analysis on the coordinator, whose result tables the views read.';
		END IF;
		IF dist_method IN ('h', 'r', 'a') AND dist_column IS NOT NULL THEN
			layout := CASE WHEN dist_method = 'h' AND dist_column = msisdn_column THEN 'msisdn' ELSE 'other' END;
		END IF;
	END IF;

	src := run_analysis.source::text;	-- schema-qualified: search_path is pg_catalog
	analysis := COALESCE(run_analysis.name, src);

	-- One run of a name at a time: a second run of the same name waits for
	-- the first to commit or roll back (its pruning and the views' latest
	-- run of the name depend on the first's outcome); runs of other names
	-- go on at the same time, and readers take no lock.  The lock is keyed
	-- by a 32-bit hash of the name: two names of the same hash wait for
	-- each other as runs of one name do, and nothing else (their runs and
	-- results are kept apart by run_id and name, never by the lock).
	PERFORM pg_advisory_xact_lock(1701734241, hashtext(analysis));	-- 'enga', the name

	INSERT INTO @extschema@.run (started, source, parameters, k, status, name, normalization, k_selection,
	                             since, until, start_column)
	VALUES (clock_timestamp(), src,
	        jsonb_build_object('k', run_analysis.k, 'seed', run_analysis.seed, 'k_max', run_analysis.k_max,
	                           'keep_runs', run_analysis.keep_runs,
	                           'msisdn_column', msisdn_column, 'duration_column', duration_column,
	                           'dl_column', dl_column, 'ul_column', ul_column,
	                           'applications', applications, 'elbow_sample', run_analysis.elbow_sample,
	                           'without_msisdn', run_analysis.without_msisdn::text,
	                           'warm_start', run_analysis.warm_start),
	        run_analysis.k, 'running', analysis, scaling, method,
	        run_analysis.since, run_analysis.until, CASE WHEN start_type IS NOT NULL THEN start_column END)
	RETURNING run_id INTO run;
	t := clock_timestamp();

	-- A failure from here on rolls back this block's rows (a subtransaction),
	-- is logged in engage.run and reported as a WARNING; the call returns NULL.
	BEGIN
		-- 1. Per-user engagement, application usage and totals, top users, in
		-- one scan of the source: rows without MSISDN form the NULL group,
		-- counted and left out.  Per user and application, DL and UL are float8
		-- sums (exact below 2^53 bytes) of the valid values, by traffic_agg:
		-- NaN, infinite and negative ones are skipped and counted, as
		-- engagement_agg does for the duration, DL and UL (application
		-- columns are cast to double precision).  store_user_engagement
		-- (src/user_engagement.c) runs this grouped query with parallel query
		-- allowed and, as the groups stream out, writes the users' rows in
		-- bulk, keeps the top 10 users per metric and per application and adds
		-- up the application totals exactly (engagement_agg's sums of the
		-- users' sums) and the counts; the few rows of the top lists and
		-- totals are written here.  Top 10s as ORDER BY value DESC, MSISDN
		-- LIMIT 10 would give them, with the MSISDN in the source's type; an
		-- application's top 10 is chosen by its float8 DL + UL and ranked by
		-- the numeric total.
		FOR app IN SELECT a.name, a.cols ->> 0 AS dl, a.cols ->> 1 AS ul
		           FROM jsonb_each(applications) AS a(name, cols) ORDER BY a.name LOOP
			n_apps := n_apps + 1;
			app_args := app_args || CASE WHEN n_apps > 1 THEN ', ' ELSE '' END
				|| format('s.%I::double precision, s.%I::double precision', app.dl, app.ul);
			app_values := app_values || CASE WHEN n_apps > 1 THEN ', ' ELSE '' END
				|| format('(%L, %s)', app.name, n_apps);
		END LOOP;
		-- With a time window, the rows whose start gives no time are read
		-- too: counted per group in a twelfth column (left_out), their
		-- values left out of the aggregates (FILTER); a group of such rows
		-- only is not a user (store_user_engagement).  With a start column,
		-- the user's hours of activity in a last column: hours_agg of the
		-- hour of day of each row's start (of the window's rows; a start
		-- that gives no time is not counted), stored with the user's row
		-- and summed by cluster with the cluster statistics (step 3b).
		IF start_type IS NOT NULL THEN
			hours_expr := format('@extschema@.hours_agg(pg_catalog.date_part(''hour'', %s)::integer)', st);
		END IF;
		user_query := format($q$
			SELECT g.m::text, g.m, (g.e).sessions, (g.e).duration_ms, (g.e).dl_bytes, (g.e).ul_bytes,
			       (g.e).total_bytes, (g.e).rejected_values, %5$s%8$s%12$s
			FROM (SELECT s.%1$I AS m, @extschema@.engagement_agg(s.%2$I, s.%3$I, s.%4$I)%9$s AS e%6$s%10$s%13$s
			      FROM %7$s AS s%11$s
			      GROUP BY 1) g$q$,
			msisdn_column, duration_column, dl_column, ul_column,
			CASE WHEN n_apps = 0 THEN 'NULL::double precision[], NULL::double precision[], 0::bigint'
			     ELSE '(g.t).dl_bytes, (g.t).ul_bytes, (g.t).rejected_values' END,
			CASE WHEN n_apps = 0 THEN ''
			     ELSE format(', @extschema@.traffic_agg(%s)%s AS t', app_args,
			                 CASE WHEN in_window IS NOT NULL THEN format(' FILTER (WHERE %s IS NOT NULL)', st) ELSE '' END) END,
			src,
			CASE WHEN in_window IS NOT NULL THEN ', g.left_out' ELSE '' END,
			CASE WHEN in_window IS NOT NULL THEN format(' FILTER (WHERE %s IS NOT NULL)', st) ELSE '' END,
			CASE WHEN in_window IS NOT NULL THEN format(', count(*) FILTER (WHERE %s IS NULL) AS left_out', st) ELSE '' END,
			CASE WHEN in_window IS NOT NULL THEN format(E'\n\t\t\t      WHERE %s IS NULL OR (%s)', st, in_window) ELSE '' END,
			CASE WHEN hours_expr IS NOT NULL THEN ', g.h' ELSE '' END,
			CASE WHEN hours_expr IS NOT NULL THEN format(', %s AS h', hours_expr) ELSE '' END);

		-- The rows kept apart from the source (without_msisdn) are counted
		-- first: they must all be without MSISDN.
		IF run_analysis.without_msisdn IS NOT NULL THEN
			EXECUTE format('SELECT count(*) FILTER (WHERE %3$s), count(s.%1$I), count(*) FILTER (WHERE %4$s) FROM %2$s AS s',
			               msisdn_column, run_analysis.without_msisdn,
			               CASE WHEN in_window IS NULL THEN 'true' ELSE format(window_fmt, wm_st) END,
			               CASE WHEN in_window IS NULL THEN 'false' ELSE format('%s IS NULL', wm_st) END)
				INTO n_extra, n_extra_keyed, n_extra_unparsed;
			IF n_extra_keyed > 0 THEN
				RAISE EXCEPTION 'relation % holds % rows with an MSISDN', run_analysis.without_msisdn, n_extra_keyed
					USING ERRCODE = 'invalid_parameter_value',
					      HINT = 'without_msisdn holds the rows of the source that have no MSISDN; the others belong in the source.';
			END IF;
		END IF;

		IF layout IS NULL THEN
			step_query := format('@extschema@.store_user_engagement($1, %L, %s)', user_query, n_apps);
		ELSE
			-- Citus: the run's per-user tables, of the source's MSISDN type
			-- and collation, distributed by it
			users_table := format('@extschema@.%I', 'user_engagement_' || run);
			clusters_table := format('@extschema@.%I', 'user_cluster_' || run);
			staging := format('@extschema@.%I', 'xdr_staging_' || run);
			IF to_regclass(users_table) IS NOT NULL OR to_regclass(clusters_table) IS NOT NULL
			   OR to_regclass(staging) IS NOT NULL THEN
				RAISE EXCEPTION 'relation % or % already exists', users_table, clusters_table
					USING ERRCODE = 'duplicate_table',
					      HINT = 'A table left by an earlier installation of engage (DROP EXTENSION keeps the distributed per-user tables): drop it.';
			END IF;
			SELECT format_type(a.atttypid, a.atttypmod)
			       || CASE WHEN a.attcollation <> 0 AND a.attcollation <> t.typcollation
			               THEN format(' COLLATE %I.%I', cn.nspname, co.collname) ELSE '' END
			INTO msisdn_type
			FROM pg_attribute a JOIN pg_type t ON t.oid = a.atttypid
			LEFT JOIN pg_collation co ON co.oid = a.attcollation
			LEFT JOIN pg_namespace cn ON cn.oid = co.collnamespace
			WHERE a.attrelid = run_analysis.source AND a.attname = msisdn_column
			  AND a.attnum > 0 AND NOT a.attisdropped;
			IF msisdn_type IS NULL THEN
				RAISE EXCEPTION 'column "%" of relation % does not exist', msisdn_column, run_analysis.source
					USING ERRCODE = 'undefined_column';
			END IF;
			user_source := src;
			IF layout = 'other' THEN
				-- a user's rows are on every worker: the used columns of the
				-- rows with an MSISDN, repartitioned by it into a staging
				-- table, worker to worker; the rows without, counted
				SELECT string_agg(format('%I %s', a.attname, format_type(a.atttypid, a.atttypmod)
				                          || CASE WHEN a.attcollation <> 0 AND a.attcollation <> t.typcollation
				                                  THEN format(' COLLATE %I.%I', cn.nspname, co.collname) ELSE '' END),
				                  ', ' ORDER BY a.attnum),
				       string_agg(format('%I', a.attname), ', ' ORDER BY a.attnum)
				INTO step_query, columns
				FROM pg_attribute a JOIN pg_type t ON t.oid = a.atttypid
				LEFT JOIN pg_collation co ON co.oid = a.attcollation
				LEFT JOIN pg_namespace cn ON cn.oid = co.collnamespace
				WHERE a.attrelid = run_analysis.source AND a.attnum > 0 AND NOT a.attisdropped
				  AND a.attname IN (SELECT msisdn_column UNION SELECT duration_column UNION SELECT dl_column
				                    UNION SELECT ul_column
				                    UNION SELECT start_column WHERE start_type IS NOT NULL
				                    UNION SELECT c.value FROM jsonb_each(applications) AS x(name, cols)
				                          CROSS JOIN LATERAL jsonb_array_elements_text(x.cols) AS c(value));
				EXECUTE format('CREATE TABLE %s (%s)', staging, step_query);
				EXECUTE 'SELECT pg_catalog.create_distributed_table($1::regclass, $2, colocate_with => ''none'')'
					USING staging, msisdn_column;
				-- (with a time window, of the window; the rows whose start
				-- gives no time, counted)
				EXECUTE format('INSERT INTO %1$s (%2$s) SELECT %2$s FROM %3$s AS s WHERE s.%4$I IS NOT NULL AND %5$s',
				               staging, columns, src, msisdn_column, COALESCE(in_window, 'true'));
				EXECUTE format('SELECT count(*) FILTER (WHERE s.%2$I IS NULL AND %3$s), count(*) FILTER (WHERE %4$s) FROM %1$s AS s',
				               src, msisdn_column, COALESCE(in_window, 'true'),
				               CASE WHEN in_window IS NULL THEN 'false' ELSE format('%s IS NULL', st) END)
					INTO n_source_nosub, n_source_unparsed;
				n_extra_unparsed := n_extra_unparsed + n_source_unparsed;
				user_source := staging;
				t := @extschema@.analysis_progress(run, format('Citus: rows with an MSISDN repartitioned by it into %s, %s without counted', staging, n_source_nosub), t);
			ELSIF in_window IS NOT NULL THEN
				-- the rows left out of the window for their start, counted
				EXECUTE format('SELECT count(*) FILTER (WHERE %2$s IS NULL) FROM %1$s AS s', src, st)
					INTO n_source_unparsed;
				n_extra_unparsed := n_extra_unparsed + n_source_unparsed;
			END IF;
			EXECUTE format('CREATE TABLE %s (msisdn %s NOT NULL, sessions bigint NOT NULL, duration_ms numeric, '
			               'dl_bytes numeric, ul_bytes numeric, total_bytes numeric, '
			               'app_dl_bytes double precision[], app_ul_bytes double precision[], '
			               'rejected_values bigint NOT NULL, hours bytea)', users_table, msisdn_type);
			EXECUTE format('CREATE TABLE %s (msisdn %s NOT NULL, cluster integer NOT NULL, '
			               'distance double precision NOT NULL, sessions bigint NOT NULL, '
			               'duration_ms numeric, total_bytes numeric, hours bytea)', clusters_table, msisdn_type);
			EXECUTE 'SELECT pg_catalog.create_distributed_table($1::regclass, ''msisdn'', colocate_with => $2)'
				USING users_table, user_source;
			EXECUTE 'SELECT pg_catalog.create_distributed_table($1::regclass, ''msisdn'', colocate_with => $2)'
				USING clusters_table, user_source;
			FOR grant_row IN
				SELECT DISTINCT x.tab, a.grantee
				FROM (VALUES (users_table, '@extschema@.result_user_engagement'::regclass),
				             (users_table, '@extschema@.user_engagement'::regclass),
				             (users_table, '@extschema@.app_usage'::regclass),
				             (clusters_table, '@extschema@.result_user_cluster'::regclass),
				             (clusters_table, '@extschema@.user_clusters'::regclass)) x(tab, model)
				JOIN pg_class c ON c.oid = x.model
				CROSS JOIN LATERAL aclexplode(c.relacl) a
				WHERE a.privilege_type = 'SELECT' AND a.grantee <> c.relowner LOOP
				EXECUTE format('GRANT SELECT ON %s TO %s', grant_row.tab,
				               CASE WHEN grant_row.grantee = 0 THEN 'PUBLIC'
				                    ELSE quote_ident(grant_row.grantee::regrole::text) END);
			END LOOP;
			INSERT INTO @extschema@.run_distributed (run_id, layout, user_engagement, user_cluster)
			VALUES (run, layout, users_table, clusters_table);

			-- the per-user rows, on the workers: each shard groups its own
			-- users (the aggregates in a subquery: each state made once),
			-- with their hours of activity as on one node
			EXECUTE format($q$
				INSERT INTO %1$s (msisdn, sessions, duration_ms, dl_bytes, ul_bytes, total_bytes,
				                  app_dl_bytes, app_ul_bytes, rejected_values, hours)
				SELECT g.m, (g.e).sessions, (g.e).duration_ms, (g.e).dl_bytes, (g.e).ul_bytes, (g.e).total_bytes, %2$s, %10$s
				FROM (SELECT s.%3$I AS m, @extschema@.engagement_agg(s.%4$I, s.%5$I, s.%6$I) AS e%7$s%11$s
				      FROM %8$s AS s
				      WHERE s.%3$I IS NOT NULL AND %9$s
				      GROUP BY 1) g$q$,
				users_table,
				CASE WHEN n_apps = 0 THEN 'NULL, NULL, (g.e).rejected_values'
				     ELSE '(g.t).dl_bytes, (g.t).ul_bytes, (g.e).rejected_values + (g.t).rejected_values' END,
				msisdn_column, duration_column, dl_column, ul_column,
				CASE WHEN n_apps = 0 THEN '' ELSE format(', @extschema@.traffic_agg(%s) AS t', app_args) END,
				user_source,
				-- (the staging table holds the window's rows only)
				CASE WHEN layout = 'msisdn' THEN COALESCE(in_window, 'true') ELSE 'true' END,
				CASE WHEN hours_expr IS NOT NULL THEN 'g.h' ELSE 'NULL::bytea' END,
				CASE WHEN hours_expr IS NOT NULL THEN format(', %s AS h', hours_expr) ELSE '' END);
			t := @extschema@.analysis_progress(run, format('Citus: per-user rows written on the workers into %s', users_table), t);
			step_query := format('@extschema@.store_user_engagement_citus($1, %L, %s, %s)',
			                     users_table, n_apps, n_source_nosub);
		END IF;

		EXECUTE format($q$
			WITH u AS MATERIALIZED (
				SELECT * FROM %1$s
			), ins_top AS (
				INSERT INTO @extschema@.result_top_users
				SELECT $1, t.metric, t.rank, t.msisdn, t.value
				FROM u CROSS JOIN LATERAL unnest(u.top_metrics, u.top_ranks, u.top_msisdns, u.top_values)
				     AS t(metric, rank, msisdn, value)
			)%2$s
			SELECT u.rows_read, u.rows_without_subscriber, u.users, u.rejected_values, %3$s FROM u
			$q$,
			step_query,
			CASE WHEN n_apps = 0 THEN '' ELSE format($q$, ins_app_totals AS (
				INSERT INTO @extschema@.result_app_totals
				SELECT $1, v.application, v.position,
				       row_number() OVER (ORDER BY v.total DESC NULLS LAST, v.application),
				       v.users, v.dl, v.ul, v.total
				FROM u CROSS JOIN LATERAL (VALUES %1$s) AS w(application, position)
				CROSS JOIN LATERAL (SELECT w.application, w.position, u.app_dl_bytes[w.position] AS dl,
				                           u.app_ul_bytes[w.position] AS ul, u.app_users[w.position] AS users) x
				CROSS JOIN LATERAL (SELECT x.application, x.position, x.dl, x.ul, x.users,
				                           CASE WHEN x.dl IS NULL AND x.ul IS NULL THEN NULL
				                                ELSE COALESCE(x.dl, 0) + COALESCE(x.ul, 0) END AS total) v
			), ins_app_tops AS (
				INSERT INTO @extschema@.result_top_users_per_app
				SELECT $1, w.application, t.rank, t.msisdn, t.bytes
				FROM u CROSS JOIN LATERAL unnest(u.app_top_positions, u.app_top_ranks, u.app_top_msisdns,
				                                 u.app_top_bytes) AS t(position, rank, msisdn, bytes)
				JOIN (VALUES %1$s) AS w(application, position) ON w.position = t.position
			)$q$, app_values) END,
			CASE WHEN layout IS NULL THEN 'u.rows_unparsed_start' ELSE 'NULL::bigint' END)
		INTO n_rows, n_nosub, n_users, n_rejected, n_unparsed
		USING run;
		IF in_window IS NOT NULL THEN
			n_unparsed := COALESCE(n_unparsed, 0) + n_extra_unparsed;
			n_rows := n_rows + n_extra_unparsed;
		END IF;
		n_rows := n_rows + n_extra;
		n_nosub := n_nosub + n_extra;
		t := @extschema@.analysis_progress(run, format('per-user engagement, top users and application usage: %s rows, %s without subscriber, %s users, %s values rejected%s', n_rows, n_nosub, n_users, n_rejected,
		                                               CASE WHEN in_window IS NOT NULL THEN format(', %s left out of the window for their start', n_unparsed) ELSE '' END), t);
		IF n_users < run_analysis.k THEN
			RAISE EXCEPTION 'relation "%" has % subscribers, fewer than k = %',
				(SELECT format('%s.%s', n.nspname, c.relname)
				 FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
				 WHERE c.oid = run_analysis.source),
				n_users, run_analysis.k
				USING ERRCODE = 'invalid_parameter_value',
				      HINT = 'Ask for at most as many clusters as there are subscribers (rows without MSISDN do not count).';
		END IF;

		-- 2. K-means on the normalised (sessions, duration, traffic) of the
		-- users, run to convergence (tol 0: a fixed point of Lloyd's iteration,
		-- whatever the row order; a tolerance would stop a few users short of
		-- it, at a point that depends on the start), from one read of the
		-- users' rows of this run: store_user_clusters (src/kmeans_sql.c) fits
		-- kmeans_cluster_rows's model on the points of the elbow's query and
		-- writes each user's cluster in bulk, with the stored metrics carried
		-- through (duration and traffic as stored, NULLs included: no join by
		-- MSISDN), and returns the model; then the cluster statistics,
		-- labels and descriptions from the rows just written, in one
		-- statement.  The overall averages are the clusters' sums over their
		-- counts: avg() is that division.
		-- With every normalization and k up to 1000 (the split K-means'
		-- most), the fit is kmeans_fit_sampled's algorithm (restarts on a
		-- sample chosen by sample_hash, Lloyd steps of exact sums to a fixed
		-- point): on one node store_user_clusters runs it in memory, on
		-- Citus (layout not NULL) kmeans_fit_sampled runs it on aggregates
		-- that the workers compute (the points never gather on the
		-- coordinator): the same model bit for bit.  With k above 1000,
		-- kmeans_cluster_rows's fit (on Citus store_cluster_model's, on the
		-- points read from the run's distributed table).  On Citus each
		-- user's cluster and distance are written on the workers by
		-- kmeans_nearest, which gives them as store_user_clusters does, bit
		-- for bit; the statistics are aggregates that Citus splits.
		-- From here to the pruning, every read of the per-user tables is of
		-- one run: through the BRIN index on run_id, not a sequential scan of
		-- what the tables hold (runs kept, and the space of pruned runs, which
		-- only VACUUM frees: several times the run's own size).  The cost
		-- penalties of the disabled plans would push costs over the JIT
		-- thresholds and compile for nothing (0.7 s per run, and memory that
		-- LLVM keeps), so JIT is off too.
		saved_seqscan := current_setting('enable_seqscan');
		saved_jit := current_setting('jit');
		PERFORM set_config('enable_seqscan', 'off', true);
		PERFORM set_config('jit', 'off', true);
		points := CASE WHEN layout IS NULL
		               THEN format('SELECT msisdn, sessions, COALESCE(duration_ms, 0), COALESCE(total_bytes, 0) '
		                           'FROM @extschema@.result_user_engagement WHERE run_id = %s', run)
		               ELSE format('SELECT u.msisdn::text, u.sessions, COALESCE(u.duration_ms, 0), COALESCE(u.total_bytes, 0) '
		                           'FROM %s u', users_table) END;
		-- The elbow curve's statement (step 3), which also gives the k that
		-- method picks on it: Kneedle's, the highest silhouette or the
		-- lowest Davies-Bouldin index (of k >= 2, the lowest k on ties).
		-- On Citus, elbow_fit_sampled on aggregates (the curve
		-- store_elbow_curve computes in memory on one node, bit for bit).
		elbow_query := format($q$
			WITH e AS MATERIALIZED (
				SELECT e.* FROM %s AS e
			), ins AS (
				INSERT INTO @extschema@.result_elbow (run_id, k, inertia, silhouette, is_elbow, davies_bouldin, calinski_harabasz)
				SELECT $1, e.k, e.inertia, e.silhouette, e.is_elbow, e.davies_bouldin, e.calinski_harabasz FROM e
			)
			SELECT max(e.k) FILTER (WHERE e.is_elbow), max(e.sample_size),
			       CASE $6 WHEN 'elbow' THEN max(e.k) FILTER (WHERE e.is_elbow)
			               WHEN 'silhouette' THEN (array_agg(e.k ORDER BY e.silhouette DESC, e.k)
			                                       FILTER (WHERE e.k >= 2 AND e.silhouette <> 'NaN'))[1]
			               WHEN 'davies_bouldin' THEN (array_agg(e.k ORDER BY e.davies_bouldin, e.k)
			                                           FILTER (WHERE e.k >= 2 AND e.davies_bouldin <> 'NaN'))[1] END
			FROM e$q$,
			CASE WHEN layout IS NOT NULL
			     THEN format('@extschema@.elbow_fit_sampled(%L, 1, $2, $5, seed => $3, sample => $4, in_memory => false)', points)
			     ELSE format('@extschema@.store_elbow_curve($1, %L, $2, $3, $4, $5)', points) END);
		-- With k_selection (method), the elbow curve comes first and the
		-- clustering uses the k it picks (run_analysis's k when it picks
		-- none).  The curve then reads the points itself, and
		-- store_user_clusters reads them again (it writes each user's row,
		-- which the normalised points do not hold): a second read of the
		-- run's per-user rows and a second normalization.
		clusters_k := run_analysis.k;
		IF method IS NOT NULL THEN
			EXECUTE elbow_query INTO chosen_k, used_sample, selected_k
				USING run, LEAST(run_analysis.k_max, n_users)::integer, run_analysis.seed,
				      run_analysis.elbow_sample, scaling, method;
			clusters_k := COALESCE(selected_k, run_analysis.k);
			t := @extschema@.analysis_progress(run, format('elbow curve, k = 1..%s: elbow at k = %s; k_selection %s: k = %s',
			                                               LEAST(run_analysis.k_max, n_users), COALESCE(chosen_k::text, 'none'),
			                                               method, COALESCE(selected_k::text, 'none')), t);
			IF selected_k IS NULL THEN
				RAISE NOTICE 'analysis run %: k_selection "%" chose no k; clustering with k = % as given', run, method, run_analysis.k
					USING DETAIL = CASE WHEN method = 'elbow' THEN 'The elbow curve has no knee.'
					                    ELSE 'The elbow curve has no k of 2 or more with the index.' END;
			END IF;
		END IF;
		-- Warm start (issue 13), before the fit: when the previous
		-- successful run of the name has clusters_k clusters (at most 100)
		-- of the same normalization and columns, its centroids (in the
		-- features' units, normalised by this run's scaler inside the fit)
		-- are one more starting point beside the restarts: Lloyd steps on
		-- every user from them to their fixed point, kept when its inertia
		-- is lower than the restarts' (theirs on a tie), on one node and on
		-- Citus alike.  The numbering after the fit, below.
		IF run_analysis.warm_start AND clusters_k <= 100 THEN
			SELECT r.run_id, r.parameters, r.cluster_model INTO prev
			FROM @extschema@.run r WHERE r.status = 'ok' AND r.name = analysis ORDER BY r.run_id DESC LIMIT 1;
			IF array_dims((prev.cluster_model).centroids) = format('[1:%s][1:3]', clusters_k)
			   AND (prev.cluster_model).normalization = scaling
			   AND prev.parameters ->> 'duration_column' = duration_column
			   AND prev.parameters ->> 'dl_column' = dl_column AND prev.parameters ->> 'ul_column' = ul_column THEN
				warm_centroids := (prev.cluster_model).centroids;
			END IF;
		END IF;
		-- On one node with k up to 1000 the users' clusters are not
		-- written (issue 11: the users written once): store_cluster_model
		-- fits store_user_clusters's model from one read of the points and
		-- keeps them for the elbow, and each user's cluster and distance
		-- are user_cluster (kmeans_nearest) of the run's model (engage.run.cluster_model)
		-- on the user's row of result_user_engagement, computed where they
		-- are read (the statistics below, the hours of activity, the views
		-- and report_html; engage.run.clusters_on_read), as
		-- store_user_clusters writes them, bit for bit.
		IF layout IS NULL AND clusters_k <= 1000 THEN
			model := @extschema@.store_cluster_model(run, points, clusters_k, run_analysis.seed, scaling, warm_centroids);
			on_read := true;
		ELSIF layout IS NULL THEN
			model := @extschema@.store_user_clusters(run,
			             format('SELECT msisdn, sessions, COALESCE(duration_ms, 0), COALESCE(total_bytes, 0), duration_ms, total_bytes '
			                    'FROM @extschema@.result_user_engagement WHERE run_id = %s', run),
			             clusters_k, run_analysis.seed, scaling, warm_centroids);
			stats_from := format('@extschema@.result_user_cluster u WHERE u.run_id = %s', run);
		ELSE
			IF clusters_k <= 1000 THEN
				model := @extschema@.kmeans_fit_sampled(points, clusters_k, scaling, seed => run_analysis.seed,
				                                        initial_centroids => warm_centroids);
			ELSE
				model := @extschema@.store_cluster_model(run, points, clusters_k, run_analysis.seed, scaling, warm_centroids);
			END IF;
			EXECUTE format('INSERT INTO %s (msisdn, cluster, distance, sessions, duration_ms, total_bytes, hours) '
			               'SELECT u.msisdn, p.cluster, p.distance, u.sessions, u.duration_ms, u.total_bytes, u.hours '
			               'FROM %s u CROSS JOIN LATERAL @extschema@.kmeans_nearest(%L::@extschema@.kmeans_model, '
			               'ARRAY[u.sessions::double precision, COALESCE(u.duration_ms, 0)::double precision, '
			               'COALESCE(u.total_bytes, 0)::double precision]) p',
			               clusters_table, users_table, model);
			stats_from := format('%s u', clusters_table);
		END IF;
		-- Warm start (issue 13): when the previous successful run of the
		-- name (prev, looked up before the fit) has as many clusters (at
		-- most 100) of the same features and normalization, the clusters
		-- take the numbers of the previous run's clusters they match
		-- (match_clusters: the least total distance between the normalised
		-- centroids), so that a segment keeps its number and label; the
		-- users' rows just written whose number changes are renumbered.
		-- Otherwise, by ascending centroid norm.
		IF run_analysis.warm_start AND array_length((model).centroids_normalized, 1) <= 100 THEN
			IF array_dims((prev.cluster_model).centroids_normalized) = array_dims((model).centroids_normalized)
			   AND (prev.cluster_model).features = (model).features
			   AND (prev.cluster_model).normalization = (model).normalization
			   AND prev.parameters ->> 'duration_column' = duration_column
			   AND prev.parameters ->> 'dl_column' = dl_column AND prev.parameters ->> 'ul_column' = ul_column THEN
				matched := @extschema@.match_clusters((prev.cluster_model).centroids_normalized,
				                                      (model).centroids_normalized);
				from_run := prev.run_id;
				IF matched <> ARRAY(SELECT generate_series(1, cardinality(matched))) THEN
					model := @extschema@.kmeans_model_clusters(model, matched);
					-- (computed on read, the clusters take the renumbered
					-- model's numbers: no rows to renumber)
					IF NOT on_read THEN
						EXECUTE format('UPDATE %s u SET cluster = array_position($1, u.cluster) '
						               'WHERE %s array_position($1, u.cluster) <> u.cluster',
						               COALESCE(clusters_table, '@extschema@.result_user_cluster'),
						               CASE WHEN layout IS NULL THEN format('u.run_id = %s AND', run) ELSE '' END)
							USING matched;
					END IF;
				END IF;
			END IF;
		END IF;
		-- The statistics: one read of the run's users, a SELECT that
		-- parallel workers may share (an INSERT ... SELECT runs without
		-- them), its few rows written next (jsonb keeps the numerics
		-- exact).  Computed on read, each user's cluster is kmeans_nearest
		-- of the final model ($3, renumbered by the warm start), by
		-- user_cluster (kmeans_nearest's, without the text conversions),
		-- joined with the cluster numbers 1..k: the planner then knows the
		-- groups are few and aggregates them in parallel workers (grouped
		-- by the expression, it assumes a group per user and aggregates
		-- every user in the leader: 2.3 s against 1.5 s at 2 * 10^6 rows,
		-- 1.4 * 10^6 users).
		-- The same read sums the users' hours of activity by cluster
		-- (hours_sum_agg of the histograms the per-user step stored; NULL
		-- without start column), but from result_user_cluster (k above
		-- 1000 on one node), which does not hold them: step 3b then joins
		-- the source with the users.
		-- Computed on read, the statistics come first from the values the
		-- per-user step kept as it wrote the rows (captured_cluster_sums:
		-- the same aggregates, each user's cluster by user_cluster, when
		-- every duration and traffic is an integer up to 2^53 without
		-- fraction digits; at 10^7 rows 0.6 s against 4 to 10 s for the
		-- read of the 7 * 10^6 rows this transaction has just written);
		-- else the read.
		IF on_read THEN
			SELECT jsonb_agg(s) INTO cluster_sums FROM @extschema@.captured_cluster_sums(run, model) s;
			stats_from := format('(SELECT c.cluster, x.sessions, x.duration_ms, x.total_bytes, x.hours '
			                     'FROM @extschema@.result_user_engagement x '
			                     'JOIN generate_series(1, %s) c(cluster) '
			                     'ON c.cluster = (@extschema@.user_cluster($3, x.sessions, x.duration_ms, x.total_bytes)).cluster '
			                     'WHERE x.run_id = %s) u', clusters_k, run);
		END IF;
		IF cluster_sums IS NULL THEN
			EXECUTE format($q$
				SELECT jsonb_agg(s)
				FROM (SELECT u.cluster, count(*) AS users,
				             min(u.sessions) AS s_min, max(u.sessions) AS s_max, avg(u.sessions) AS s_avg, sum(u.sessions) AS s_sum,
				             min(u.duration_ms) AS d_min, max(u.duration_ms) AS d_max, avg(u.duration_ms) AS d_avg, sum(u.duration_ms) AS d_sum,
				             min(u.total_bytes) AS b_min, max(u.total_bytes) AS b_max, avg(u.total_bytes) AS b_avg, sum(u.total_bytes) AS b_sum,
				             count(u.duration_ms) AS d_count, count(u.total_bytes) AS b_count,
				             @extschema@.hours_sum_agg(%s) AS hours
				      FROM %s
				      GROUP BY u.cluster) s$q$,
				CASE WHEN layout IS NULL AND NOT on_read THEN 'NULL::bytea' ELSE 'u.hours' END, stats_from)
			INTO cluster_sums
			USING run, clusters_k, model;
		END IF;
		EXECUTE $q$
		WITH stats AS (
			SELECT * FROM jsonb_to_recordset($4) AS s(cluster integer, users bigint,
			    s_min bigint, s_max bigint, s_avg numeric, s_sum numeric,
			    d_min numeric, d_max numeric, d_avg numeric, d_sum numeric,
			    b_min numeric, b_max numeric, b_avg numeric, b_sum numeric,
			    d_count bigint, b_count bigint)
		), overall AS (
			SELECT sum(s.users)::bigint AS users, sum(s.s_sum) / sum(s.users) AS sessions,
			       sum(s.d_sum) / NULLIF(sum(s.d_count), 0) AS duration_ms,
			       sum(s.b_sum) / NULLIF(sum(s.b_count), 0) AS total_bytes
			FROM stats s
		)
		INSERT INTO @extschema@.result_cluster_stats
		SELECT $1, s.cluster, @extschema@.cluster_label(s.cluster, $2),
		       format('%s%% of users; per user on average %s sessions (%s the overall %s), %s min (%s the overall %s), %s MB (%s the overall %s)',
		              round(100.0 * s.users / o.users, 1),
		              round(s.s_avg, 2), @extschema@.compare_to_average(s.s_avg, o.sessions), round(o.sessions, 2),
		              round(s.d_avg / 60000, 1), @extschema@.compare_to_average(s.d_avg, o.duration_ms), round(o.duration_ms / 60000, 1),
		              round(s.b_avg / 1000000, 1), @extschema@.compare_to_average(s.b_avg, o.total_bytes), round(o.total_bytes / 1000000, 1)),
		       s.users, s.users::numeric / o.users,
		       s.s_min, s.s_max, s.s_avg, s.s_sum, s.d_min, s.d_max, s.d_avg, s.d_sum,
		       s.b_min, s.b_max, s.b_avg, s.b_sum,
		       ARRAY[($3).centroids[s.cluster][1], ($3).centroids[s.cluster][2], ($3).centroids[s.cluster][3]],
		       ARRAY[($3).centroids_normalized[s.cluster][1], ($3).centroids_normalized[s.cluster][2],
		             ($3).centroids_normalized[s.cluster][3]],
		       ($3).cluster_inertia[s.cluster]
		FROM stats s CROSS JOIN overall o$q$
		USING run, clusters_k, model, cluster_sums;
		t := @extschema@.analysis_progress(run, format('K-means, k = %s, and cluster statistics', clusters_k), t);

		-- 3. The elbow curve, k = 1..k_max (at most the number of users), its
		-- restarts on every user or on a sample of elbow_sample users (NULL:
		-- every user up to 200,000, else 32,768), the inertias always of all
		-- users: store_elbow_curve (src/kmeans_sql.c) is elbow_fit_sampled's
		-- curve in memory on the points query, from the points
		-- store_user_clusters kept (no second read); on Citus
		-- elbow_fit_sampled on aggregates; with k_selection it ran before
		-- step 2
		IF run_analysis.k_max > 0 AND method IS NULL THEN
			EXECUTE elbow_query INTO chosen_k, used_sample, selected_k
				USING run, LEAST(run_analysis.k_max, n_users)::integer, run_analysis.seed,
				      run_analysis.elbow_sample, scaling, method;
			t := @extschema@.analysis_progress(run, format('elbow curve, k = 1..%s%s: elbow at k = %s',
			                                               LEAST(run_analysis.k_max, n_users),
			                                               CASE WHEN used_sample IS NOT NULL
			                                                    THEN format(', restarts on a sample of %s users', used_sample) ELSE '' END,
			                                               COALESCE(chosen_k::text, 'none')), t);
		END IF;

		-- 3b. Hours of activity (issue 13), when the source has its start
		-- column: each cluster's sessions by the hour of day of their start
		-- (of the window), 24 rows per cluster.  The per-user step stored
		-- each user's sessions by hour (hours_agg, column hours) and the
		-- cluster statistics' read of the users summed them by cluster
		-- (hours_sum_agg, in cluster_sums): on one node and on Citus (the
		-- workers' per-user rows carry them into the run's clusters table,
		-- and Citus splits the sum), the source is not read again.  Only
		-- with k above 1000 on one node, whose statistics read
		-- result_user_cluster, the source's rows are joined with the run's
		-- users' clusters by MSISDN and counted by cluster and hour: the
		-- planner's own choice of scans for the source, but no merge join
		-- (it sorts the run's users by the text of their MSISDN in every
		-- parallel worker: 3.3 s against 1.7 s for a parallel hash join at
		-- 10^6 rows, 7 * 10^5 users); the run's users found by a run_id the
		-- planner does not know (an InitPlan), estimated as the table's rows
		-- over its runs, where the run's own id, newer than the table's
		-- statistics, would be estimated as 1 row (a hash built in each
		-- worker, every joined row gathered and sorted: 3 to 4 times
		-- slower).  start_column NULL skips the step.
		IF start_type IS NOT NULL THEN
			IF layout IS NULL AND NOT on_read THEN
				saved_mergejoin := current_setting('enable_mergejoin');
				PERFORM set_config('enable_seqscan', saved_seqscan, true);
				PERFORM set_config('enable_mergejoin', 'off', true);
				EXECUTE format($q$
					SELECT array_agg(a.cluster), array_agg(a.hour), array_agg(a.sessions)
					FROM (SELECT u.cluster, pg_catalog.date_part('hour', %1$s)::integer AS hour, count(*) AS sessions
					      FROM %2$s AS s JOIN @extschema@.result_user_cluster u
					           ON u.run_id = (SELECT %3$s::bigint) AND u.msisdn = s.%4$I::text
					      WHERE %1$s IS NOT NULL AND %5$s
					      GROUP BY 1, 2) a$q$,
					st, src, run, msisdn_column, COALESCE(in_window, 'true'))
				INTO activity_clusters, activity_hours, activity_sessions;
				PERFORM set_config('enable_seqscan', 'off', true);
				PERFORM set_config('enable_mergejoin', saved_mergejoin, true);
			ELSE
				SELECT array_agg(s.cluster), array_agg(h.hour - 1), array_agg(h.sessions)
				INTO activity_clusters, activity_hours, activity_sessions
				FROM jsonb_to_recordset(cluster_sums) AS s(cluster integer, hours bigint[])
				CROSS JOIN LATERAL unnest(s.hours) WITH ORDINALITY AS h(sessions, hour);
			END IF;
			INSERT INTO @extschema@.result_cluster_activity (run_id, cluster, hour, sessions, share)
			SELECT run, c.cluster, h.hour, COALESCE(a.sessions, 0),
			       COALESCE(a.sessions, 0)::numeric / NULLIF(sum(COALESCE(a.sessions, 0)) OVER (PARTITION BY c.cluster), 0)
			FROM @extschema@.result_cluster_stats c
			CROSS JOIN generate_series(0, 23) AS h(hour)
			LEFT JOIN unnest(activity_clusters, activity_hours, activity_sessions) AS a(cluster, hour, sessions)
			       ON a.cluster = c.cluster AND a.hour = h.hour
			WHERE c.run_id = run;
			t := @extschema@.analysis_progress(run, format('hours of activity from column "%s"', start_column), t);
		END IF;
		IF staging IS NOT NULL AND layout = 'other' THEN
			EXECUTE format('DROP TABLE %s', staging);
		END IF;

		-- 4. Done: log, and keep only the last keep_runs successful runs of
		-- the name (other names' runs are left alone)
		SELECT sum(c.inertia) INTO total_inertia
		FROM @extschema@.result_cluster_stats c WHERE c.run_id = run;
		UPDATE @extschema@.run r
		SET ended = clock_timestamp(), rows_read = n_rows, rows_without_subscriber = n_nosub,
		    rejected_values = n_rejected, users = n_users, inertia = total_inertia, elbow_k = chosen_k,
		    elbow_sample = used_sample, status = 'ok', k = clusters_k, k_chosen = selected_k,
		    cluster_model = model, warm_start_run = from_run, rows_unparsed_start = n_unparsed,
		    clusters_on_read = on_read
		WHERE r.run_id = run;

		SELECT array_agg(o.run_id) INTO pruned
		FROM (SELECT r.run_id FROM @extschema@.run r WHERE r.status = 'ok' AND r.name = analysis
		      ORDER BY r.run_id DESC OFFSET run_analysis.keep_runs) o;
		IF pruned IS NOT NULL THEN
			DELETE FROM @extschema@.result_user_engagement x WHERE x.run_id = ANY (pruned);
			DELETE FROM @extschema@.result_user_cluster x WHERE x.run_id = ANY (pruned);
			DELETE FROM @extschema@.result_cluster_stats x WHERE x.run_id = ANY (pruned);
			DELETE FROM @extschema@.result_top_users x WHERE x.run_id = ANY (pruned);
			DELETE FROM @extschema@.result_app_totals x WHERE x.run_id = ANY (pruned);
			DELETE FROM @extschema@.result_top_users_per_app x WHERE x.run_id = ANY (pruned);
			DELETE FROM @extschema@.result_elbow x WHERE x.run_id = ANY (pruned);
			DELETE FROM @extschema@.result_cluster_activity x WHERE x.run_id = ANY (pruned);
			-- the per-user tables of pruned runs on Citus go whole
			FOR grant_row IN
				SELECT x.tab FROM @extschema@.run_distributed d
				CROSS JOIN LATERAL (VALUES (d.user_engagement), (d.user_cluster)) x(tab)
				WHERE d.run_id = ANY (pruned) LOOP
				EXECUTE format('DROP TABLE IF EXISTS %s', grant_row.tab);
			END LOOP;
			DELETE FROM @extschema@.run_distributed x WHERE x.run_id = ANY (pruned);
			UPDATE @extschema@.run r SET status = 'pruned' WHERE r.run_id = ANY (pruned);
		END IF;
		PERFORM set_config('enable_seqscan', saved_seqscan, true);
		PERFORM set_config('jit', saved_jit, true);
		t := @extschema@.analysis_progress(run, format('done; runs pruned: %s', COALESCE(array_length(pruned, 1), 0)), t);
	EXCEPTION WHEN OTHERS THEN
		GET STACKED DIAGNOSTICS e_message = MESSAGE_TEXT, e_detail = PG_EXCEPTION_DETAIL,
		                        e_hint = PG_EXCEPTION_HINT, e_state = RETURNED_SQLSTATE;
		UPDATE @extschema@.run r
		SET ended = clock_timestamp(), status = 'failed', error = e_message, sqlstate = e_state
		WHERE r.run_id = run;
		RAISE WARNING 'analysis run % failed: %', run, e_message
			USING DETAIL = concat_ws(' ', NULLIF(e_detail, ''), NULLIF(e_hint, ''),
			                         format('SQLSTATE %s. The failure is logged in engage.run; the previous results are unchanged.', e_state));
		RETURN NULL;
	END;
	RETURN run;
END
$$;

CREATE FUNCTION @extschema@.cron_database()
RETURNS text
LANGUAGE plpgsql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	cron_db text := current_setting('cron.database_name', true);
	loaded boolean;
	setup text;
BEGIN
	-- shared_preload_libraries is a comma-separated list; names may be quoted
	SELECT 'pg_cron' = ANY (array_agg(btrim(l, ' "')))
	INTO loaded
	FROM unnest(string_to_array(current_setting('shared_preload_libraries'), ',')) AS l;
	setup := format('Install the Debian package postgresql-15-cron, add pg_cron to shared_preload_libraries '
	                'and set cron.database_name = ''%s'' in postgresql.conf, restart PostgreSQL, '
	                'then run CREATE EXTENSION pg_cron in database "%s".',
	                current_database(), current_database());
	IF NOT COALESCE(loaded, false) OR cron_db IS NULL THEN
		RAISE EXCEPTION 'pg_cron is not loaded'
			USING ERRCODE = 'feature_not_supported',
			      DETAIL = 'engage schedules run_analysis with the pg_cron extension, which must be in shared_preload_libraries.',
			      HINT = setup;
	END IF;
	IF to_regnamespace('cron') IS NULL
	   OR NOT EXISTS (SELECT FROM pg_catalog.pg_extension WHERE extname = 'pg_cron') THEN
		IF cron_db = current_database() THEN
			RAISE EXCEPTION 'extension "pg_cron" is not installed in this database'
				USING ERRCODE = 'undefined_object',
				      DETAIL = format('pg_cron is loaded and runs its jobs from database "%s".', cron_db),
				      HINT = 'Run CREATE EXTENSION pg_cron in this database.';
		END IF;
		RAISE EXCEPTION 'pg_cron runs its jobs from database "%", not from "%"', cron_db, current_database()
			USING ERRCODE = 'undefined_object',
			      DETAIL = format('The pg_cron extension can only be installed in database "%s" (cron.database_name).', cron_db),
			      HINT = format('Set cron.database_name = ''%s'' in postgresql.conf, restart PostgreSQL and run CREATE EXTENSION pg_cron in this database; '
			                    'or schedule the job from database "%s" with cron.schedule_in_database(..., database => ''%s'').',
			                    current_database(), cron_db, current_database());
	END IF;
	RETURN cron_db;
END
$$;

COMMENT ON FUNCTION @extschema@.cron_database() IS
'Internal to schedule_refresh and unschedule_refresh: raises an error saying how to set pg_cron up unless it is loaded (shared_preload_libraries) and installed in the current database; returns cron.database_name';

-- schedule_refresh gains name (issue 15): a new signature
DROP FUNCTION @extschema@.schedule_refresh(text, regclass, integer, bigint, text);

CREATE FUNCTION @extschema@.schedule_refresh(
	schedule text,
	source regclass DEFAULT 'public.xdr'::text::regclass,
	k integer DEFAULT 3,
	seed bigint DEFAULT 0,
	job_name text DEFAULT 'engage_refresh',
	name text DEFAULT NULL,
	normalization text DEFAULT 'zscore',
	k_selection text DEFAULT NULL,
	warm_start boolean DEFAULT true,
	last interval DEFAULT NULL,
	start_column text DEFAULT 'Start')
RETURNS bigint
LANGUAGE plpgsql VOLATILE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	cron_db text;
	command text;
	job bigint;
	start_type regtype;
BEGIN
	-- Arguments that are wrong on their face are errors
	IF schedule IS NULL OR source IS NULL OR k IS NULL OR seed IS NULL OR job_name IS NULL
	   OR normalization IS NULL OR schedule_refresh.warm_start IS NULL THEN
		RAISE EXCEPTION 'arguments must not be NULL'
			USING ERRCODE = 'null_value_not_allowed';
	END IF;
	IF btrim(schedule) = '' THEN
		RAISE EXCEPTION 'schedule must not be empty'
			USING ERRCODE = 'invalid_parameter_value',
			      HINT = 'Give a cron schedule such as "0 3 * * *" (every day at 03:00 GMT) or "*/30 * * * *".';
	END IF;
	IF btrim(job_name) = '' THEN
		RAISE EXCEPTION 'job_name must not be empty'
			USING ERRCODE = 'invalid_parameter_value';
	END IF;
	IF k < 1 OR k > 10000 THEN
		RAISE EXCEPTION 'k must be between 1 and 10000'
			USING ERRCODE = 'invalid_parameter_value', DETAIL = format('k is %s.', k);
	END IF;
	IF schedule_refresh.name IS NOT NULL AND schedule_refresh.name !~ '[^[:space:]]' THEN
		RAISE EXCEPTION 'name must not be empty'
			USING ERRCODE = 'invalid_parameter_value',
			      DETAIL = format('name is %L.', schedule_refresh.name),
			      HINT = 'Name the analysis, or leave name NULL to name it after its source table (schema-qualified).';
	END IF;
	IF length(schedule_refresh.name) > 500 THEN
		RAISE EXCEPTION 'name is too long'
			USING ERRCODE = 'invalid_parameter_value',
			      DETAIL = format('name is %s characters long; the limit is 500.', length(schedule_refresh.name));
	END IF;
	-- run_analysis's options, checked now rather than at each run
	IF lower(normalization) NOT IN ('zscore', 'minmax', 'log', 'robust', 'none') THEN
		RAISE EXCEPTION 'unknown normalization "%"', normalization
			USING ERRCODE = 'invalid_parameter_value',
			      HINT = 'Use "zscore", "minmax", "log", "robust" or "none".';
	END IF;
	IF lower(k_selection) NOT IN ('elbow', 'silhouette', 'davies_bouldin') THEN
		RAISE EXCEPTION 'unknown k_selection method "%"', k_selection
			USING ERRCODE = 'invalid_parameter_value',
			      HINT = 'Use "elbow", "silhouette" or "davies_bouldin", or NULL to use k as given.';
	END IF;
	IF schedule_refresh.last IS NOT NULL THEN
		IF schedule_refresh.last <= interval '0' THEN
			RAISE EXCEPTION 'last must be a positive interval'
				USING ERRCODE = 'invalid_parameter_value',
				      DETAIL = format('last is %s.', schedule_refresh.last),
				      HINT = 'Each run analyses the sessions that start in the last such interval before it, for example interval ''7 days''.';
		END IF;
		IF start_column IS NULL THEN
			RAISE EXCEPTION 'a time window needs start_column'
				USING ERRCODE = 'null_value_not_allowed',
				      HINT = 'Name the column of the sessions'' start (timestamp, timestamptz or text M/D/YYYY H:MM).';
		END IF;
		SELECT a.atttypid::regtype INTO start_type
		FROM pg_catalog.pg_attribute a
		WHERE a.attrelid = source AND a.attname = start_column AND a.attnum > 0 AND NOT a.attisdropped;
		IF start_type IS NULL THEN
			RAISE EXCEPTION 'column "%" of relation % does not exist', start_column, source
				USING ERRCODE = 'undefined_column',
				      HINT = 'A time window needs the column of the sessions'' start: name it in start_column.';
		ELSIF start_type NOT IN ('pg_catalog.timestamptz'::regtype, 'pg_catalog.timestamp'::regtype, 'pg_catalog.text'::regtype) THEN
			RAISE EXCEPTION 'column "%" of relation % is of type %', start_column, source, start_type
				USING ERRCODE = 'datatype_mismatch',
				      HINT = 'The start column of a time window must be timestamp, timestamptz or text (M/D/YYYY H:MM).';
		END IF;
	END IF;

	cron_db := @extschema@.cron_database();

	-- The job runs in a new session, with the default search_path: name the
	-- source with its schema.  The analysis's name is written out (by
	-- default the source's, as run_analysis names it), so that cron.job
	-- shows which analysis the job refreshes: two jobs on one table with
	-- different options keep separate results when their names differ.
	-- The other options are written out when they are not run_analysis's
	-- defaults; a window of the last interval is since => now() - last,
	-- until => now(): now() is each run's start.
	SELECT format('SELECT @extschema@.run_analysis(source => %L::regclass, k => %s, seed => %s, name => %L%s)',
	              format('%I.%I', n.nspname, c.relname), schedule_refresh.k, schedule_refresh.seed,
	              COALESCE(schedule_refresh.name, schedule_refresh.source::text),
	              concat(CASE WHEN lower(normalization) <> 'zscore' THEN format(', normalization => %L', lower(normalization)) END,
	                     CASE WHEN k_selection IS NOT NULL THEN format(', k_selection => %L', lower(k_selection)) END,
	                     CASE WHEN NOT schedule_refresh.warm_start THEN ', warm_start => false' END,
	                     CASE WHEN schedule_refresh.last IS NOT NULL
	                          THEN format(', since => now() - %L::interval, until => now(), start_column => %L',
	                                      schedule_refresh.last, start_column) END))
	INTO command
	FROM pg_catalog.pg_class c JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
	WHERE c.oid = source;

	-- cron.schedule upserts: a job of the same name and user is replaced
	IF cron_db = current_database() THEN
		EXECUTE 'SELECT cron.schedule($1, $2, $3)' INTO job USING job_name, schedule, command;
	ELSIF to_regprocedure('cron.schedule_in_database(text,text,text,text,text,boolean)') IS NOT NULL THEN
		EXECUTE 'SELECT cron.schedule_in_database($1, $2, $3, $4)' INTO job
			USING job_name, schedule, command, current_database();
	ELSE
		RAISE EXCEPTION 'pg_cron runs its jobs from database "%", not from "%"', cron_db, current_database()
			USING ERRCODE = 'feature_not_supported',
			      HINT = 'Update pg_cron to 1.4 or later (cron.schedule_in_database), or set cron.database_name to this database.';
	END IF;
	RETURN job;
END
$$;

COMMENT ON FUNCTION @extschema@.schedule_refresh(text, regclass, integer, bigint, text, text, text, text, boolean, interval, text) IS
'Schedules engage.run_analysis(source, k, seed, name, normalization, k_selection, warm_start) as the pg_cron job job_name in the current database, on a cron schedule (such as ''0 3 * * *''); name is the analysis the runs belong to (NULL: the source, schema-qualified; give two jobs on one table different names to keep their results apart); last: each run analyses the sessions that start in the last such interval before it (since => now() - last, until => now(), from start_column; NULL: all); replaces a job of the same job_name; returns the pg_cron job id. Needs pg_cron (loaded and installed in this database); the error says how to set it up';

CREATE OR REPLACE FUNCTION @extschema@.unschedule_refresh(job_name text DEFAULT 'engage_refresh')
RETURNS boolean
LANGUAGE plpgsql VOLATILE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	job bigint;
	removed boolean := false;
BEGIN
	IF job_name IS NULL OR btrim(job_name) = '' THEN
		RAISE EXCEPTION 'job_name must not be empty'
			USING ERRCODE = 'invalid_parameter_value';
	END IF;
	PERFORM @extschema@.cron_database();
	FOR job IN EXECUTE 'SELECT jobid FROM cron.job WHERE jobname = $1 AND username = current_user'
		USING job_name
	LOOP
		EXECUTE 'SELECT cron.unschedule($1)' INTO removed USING job;
	END LOOP;
	RETURN COALESCE(removed, false);
END
$$;

DROP FUNCTION @extschema@.cron_database(text);

-- report_html gains name (issue 15): a new signature
DROP FUNCTION @extschema@.report_html(bigint);

CREATE FUNCTION @extschema@.report_html(run_id bigint DEFAULT NULL, name text DEFAULT NULL)
RETURNS text
LANGUAGE plpgsql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	r @extschema@.run;
	rid bigint;
	fi constant text := 'FM999,999,999,999,999,999,990';
	f1 constant text := 'FM999,999,999,999,999,999,990.0';
	f2 constant text := 'FM999,999,999,999,999,999,990.00';
	n_clusters integer;
	n_apps integer;
	n_elbow integer;
	app_traffic numeric;
	h text;
	part text;
	chart text;
	scaled text;			-- how the features were normalised, in words
	prev bigint;			-- the previous successful run of the name
	most integer;			-- its most engaged cluster
	least integer;			-- the run's least engaged cluster
	n_movers bigint;
	mig_from integer[];		-- the from/to counts: cluster of prev, of rid, users
	mig_to integer[];
	mig_users bigint[];
BEGIN
	IF report_html.name IS NOT NULL AND report_html.name !~ '[^[:space:]]' THEN
		RAISE EXCEPTION 'name must not be empty'
			USING ERRCODE = 'invalid_parameter_value',
			      DETAIL = format('name is %L.', report_html.name),
			      HINT = 'Give the name of an analysis (engage.latest_run lists them), or leave name NULL to report the most recent successful run.';
	END IF;
	IF report_html.run_id IS NULL AND report_html.name IS NULL THEN
		-- the most recent successful run, of any analysis
		SELECT l.* INTO r FROM @extschema@.latest_run l ORDER BY l.run_id DESC LIMIT 1;
		IF NOT FOUND THEN
			RAISE EXCEPTION 'there is no successful run to report'
				USING ERRCODE = 'object_not_in_prerequisite_state',
				      HINT = 'Run engage.run_analysis() first; engage.run lists the runs and their status.';
		END IF;
	ELSIF report_html.run_id IS NULL THEN
		-- the latest successful run of the analysis
		SELECT l.* INTO r FROM @extschema@.latest_run l WHERE l.name = report_html.name;
		IF NOT FOUND THEN
			IF EXISTS (SELECT FROM @extschema@.run l WHERE l.name = report_html.name) THEN
				RAISE EXCEPTION 'analysis "%" has no successful run to report', report_html.name
					USING ERRCODE = 'object_not_in_prerequisite_state',
					      HINT = 'engage.run lists its runs, their status and errors.';
			END IF;
			RAISE EXCEPTION 'analysis "%" does not exist', report_html.name
				USING ERRCODE = 'invalid_parameter_value',
				      HINT = 'engage.latest_run lists the analyses that have results; an analysis is named after its source table (schema-qualified) unless run_analysis was given a name.';
		END IF;
	ELSE
		SELECT l.* INTO r FROM @extschema@.run l WHERE l.run_id = report_html.run_id;
		IF NOT FOUND THEN
			RAISE EXCEPTION 'run % does not exist', report_html.run_id
				USING ERRCODE = 'invalid_parameter_value',
				      HINT = 'engage.run lists the runs; report_html() without an argument reports the latest successful run.';
		END IF;
		IF r.name <> report_html.name THEN
			RAISE EXCEPTION 'run % is not a run of analysis "%"', r.run_id, report_html.name
				USING ERRCODE = 'invalid_parameter_value',
				      DETAIL = format('It is a run of analysis "%s".', r.name),
				      HINT = 'Give the run or the analysis: the analysis alone reports its latest successful run.';
		END IF;
		IF r.status <> 'ok' THEN
			RAISE EXCEPTION 'run % has no results to report', r.run_id
				USING ERRCODE = 'object_not_in_prerequisite_state',
				      DETAIL = format('Its status is %s.', r.status),
				      HINT = CASE r.status
				             WHEN 'failed' THEN 'A failed run stores no results; engage.run.error says why.'
				             WHEN 'pruned' THEN 'Its results were deleted to keep the last keep_runs successful runs.'
				             ELSE 'Report a run with status ok.' END;
		END IF;
	END IF;
	rid := r.run_id;

	SELECT count(*) INTO n_clusters FROM @extschema@.result_cluster_stats c WHERE c.run_id = rid;
	SELECT count(*), sum(a.total_bytes) INTO n_apps, app_traffic
	FROM @extschema@.result_app_totals a WHERE a.run_id = rid;
	SELECT count(*) INTO n_elbow FROM @extschema@.result_elbow e WHERE e.run_id = rid;
	scaled := CASE COALESCE(r.normalization, 'zscore') WHEN 'zscore' THEN 'z-scored'
	               WHEN 'minmax' THEN 'min-max scaled' WHEN 'log' THEN 'log(1 + x), then z-scored,'
	               WHEN 'robust' THEN 'robust-scaled (median, interquartile range)' ELSE 'unscaled' END;

	-- Head, style and title
	h := '<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="generator" content="engage.report_html">
<title>' || @extschema@.xml_escape(format('User engagement report: %s, run %s',
                                           CASE WHEN r.name = r.source THEN r.source
                                                ELSE format('%s (%s)', r.name, r.source) END, rid)) || '</title>
<style>
body{margin:0;background:#f3f5f8;color:#1f2933;font:14px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,"Helvetica Neue",Arial,sans-serif}
main{max-width:1240px;margin:0 auto;padding:24px 28px 32px}
h1{margin:0 0 4px;font-size:26px}
h2{margin:0 0 4px;font-size:19px}
h3{margin:0 0 6px;font-size:15px}
p{margin:0 0 12px}
.sub,.note{color:#52606d}
code{font:13px/1.3 ui-monospace,"DejaVu Sans Mono",monospace;background:#eef1f5;padding:1px 4px;border-radius:3px}
section{background:#fff;border:1px solid #dde3ea;border-radius:8px;padding:18px 22px;margin:0 0 20px}
.cards{display:grid;grid-template-columns:repeat(4,1fr);gap:12px;margin:16px 0 20px}
.card{background:#fff;border:1px solid #dde3ea;border-radius:8px;padding:10px 14px}
.card .k{font-size:11px;color:#52606d;text-transform:uppercase;letter-spacing:.05em}
.card .v{font-size:20px;font-weight:600;overflow-wrap:anywhere}
.card .d{font-size:12px;color:#52606d}
.grid{display:grid;grid-template-columns:repeat(auto-fit,minmax(360px,1fr));gap:18px 24px;align-items:start}
.grid+h3{margin-top:16px}
.grid4{display:grid;grid-template-columns:repeat(auto-fill,minmax(270px,1fr));gap:16px 20px}
figure{margin:0 0 12px;text-align:center}
svg{max-width:100%;height:auto}
table{border-collapse:collapse;width:100%;font-variant-numeric:tabular-nums;margin:0 0 8px}
th,td{padding:5px 8px;border-bottom:1px solid #e4e7eb;text-align:left;vertical-align:top}
thead th{background:#eef2f6;font-size:12px;color:#3e4c59;font-weight:600}
thead tr.group th{background:#e3e9f0;text-align:center}
.n{text-align:right;white-space:nowrap}
tbody tr:nth-child(even){background:#fafbfc}
tr.mark td{background:#fff3cd;font-weight:600}
.g{border-left:1px solid #d5dce4}
.lbl{font-weight:600;white-space:nowrap}
.desc{font-weight:400;font-size:12px;color:#52606d;max-width:300px}
footer{color:#7b8794;font-size:12px;text-align:center}
</style>
</head>
<body>
<main>
<header>
<h1>User engagement report</h1>
<p class="sub">Engagement analysis '
		|| CASE WHEN r.name = r.source THEN ''
		        ELSE '<code>' || @extschema@.xml_escape(r.name) || '</code> ' END
		|| 'of the xDR table <code>' || @extschema@.xml_escape(r.source) || '</code> by engage.run_analysis, run '
		|| rid || '.</p>
</header>
';

	-- The run in figures
	SELECT string_agg(format('<div class="card"><div class="k">%s</div><div class="v">%s</div>%s</div>',
	                         c.k, c.v, COALESCE('<div class="d">' || c.d || '</div>', '')), E'\n' ORDER BY c.o)
	INTO part
	FROM (VALUES
		(1, 'Source table', @extschema@.xml_escape(r.source),
		    CASE WHEN r.name <> r.source THEN 'analysis ' || @extschema@.xml_escape(r.name) END),
		(2, 'Run', rid::text, @extschema@.xml_escape(format('%s, took %s s', to_char(r.started, 'YYYY-MM-DD HH24:MI:SS TZ'),
		                                                   to_char(extract(epoch FROM r.ended - r.started), f1)))),
		(3, 'Rows read', to_char(r.rows_read, fi),
		    CASE WHEN r.since IS NOT NULL OR r.until IS NOT NULL THEN
		         @extschema@.xml_escape(format('time window: sessions that start %s (column %s); %s rows left out for their start (no time)',
		                                       concat_ws(' and ', 'at or after ' || r.since, 'before ' || r.until),
		                                       r.start_column, to_char(r.rows_unparsed_start, fi))) END),
		(4, 'Rows left out', to_char(r.rows_without_subscriber, fi),
		    format('without subscriber (NULL MSISDN), %s%% of the rows; %s NaN, infinite or negative values skipped',
		           to_char(100.0 * r.rows_without_subscriber / NULLIF(r.rows_read, 0), f1),
		           to_char(COALESCE(r.rejected_values, 0), fi))),
		(5, 'Users', to_char(r.users, fi), 'distinct subscribers'),
		(6, 'Clusters (k)', r.k::text,
		    format('K-means on %s sessions, duration and traffic', scaled)
		    || CASE WHEN r.k_selection IS NULL THEN ''
		            WHEN r.k_chosen IS NULL THEN format('; k as given: k_selection %s chose none', r.k_selection)
		            ELSE format('; k chosen by %s on the elbow curve',
		                        CASE r.k_selection WHEN 'elbow' THEN 'the elbow (Kneedle)'
		                             WHEN 'silhouette' THEN 'the highest silhouette'
		                             ELSE 'the lowest Davies-Bouldin index' END) END),
		(7, 'Inertia', to_char(r.inertia, f1), 'sum of squared distances to the centroids'),
		(8, 'Elbow k', COALESCE(r.elbow_k::text, '&ndash;'),
		    CASE WHEN n_elbow = 0 THEN 'elbow curve skipped (k_max = 0)'
		         WHEN r.elbow_k IS NULL THEN 'the curve has no knee'
		         ELSE format('Kneedle over k = 1..%s', n_elbow) END)
	) AS c(o, k, v, d);
	h := h || '<div class="cards">' || E'\n' || part || E'\n</div>\n';

	-- Top 10 users by each metric
	SELECT string_agg(x.tbl, E'\n' ORDER BY x.o) INTO part
	FROM (SELECT m.o, format('<div><h3>%s</h3><table><thead><tr><th class="n">#</th><th>MSISDN</th><th class="n">%s</th></tr></thead><tbody>%s</tbody></table></div>',
	                         m.title, m.col,
	                         COALESCE(string_agg(format('<tr><td class="n">%s</td><td>%s</td><td class="n">%s</td></tr>',
	                                                    t.rank, @extschema@.xml_escape(t.msisdn),
	                                                    CASE m.metric
	                                                    WHEN 'sessions' THEN to_char(t.value, fi)
	                                                    WHEN 'duration_ms' THEN to_char(t.value / 60000, f1)
	                                                    ELSE @extschema@.format_bytes(t.value) END),
	                                             '' ORDER BY t.rank),
	                                  '<tr><td colspan="3" class="note">no users</td></tr>')) AS tbl
	      FROM (VALUES (1, 'sessions', 'By sessions', 'sessions'),
	                   (2, 'duration_ms', 'By total session duration', 'duration (min)'),
	                   (3, 'total_bytes', 'By total traffic (DL + UL)', 'traffic')) AS m(o, metric, title, col)
	      LEFT JOIN @extschema@.result_top_users t ON t.run_id = rid AND t.metric = m.metric
	      GROUP BY m.o, m.title, m.col) x;
	h := h || '<section id="top-users">
<h2>Top 10 users</h2>
<p class="note">By value, descending; ties broken by MSISDN ascending. Users with no value are left out.</p>
<div class="grid">
' || part || '
</div>
</section>
';

	-- Engagement clusters: chart and statistics
	chart := '';
	IF n_clusters BETWEEN 1 AND 50 THEN
		SELECT @extschema@.svg_cluster_chart(
		           array_agg(c.cluster || ' ' || c.label ORDER BY c.cluster),
		           array_agg(c.users ORDER BY c.cluster),
		           ARRAY['sessions', 'duration (ms)', 'traffic (bytes)'],
		           array_agg(ARRAY[COALESCE(c.sessions_avg, 0), COALESCE(c.duration_ms_avg, 0),
		                           COALESCE(c.total_bytes_avg, 0)]::double precision[] ORDER BY c.cluster),
		           format('User engagement clusters (k = %s)', n_clusters))
		INTO chart
		FROM @extschema@.result_cluster_stats c WHERE c.run_id = rid;
		chart := '<figure>' || regexp_replace(chart, '^<\?xml[^>]*\?>\s*', '') || '</figure>' || E'\n';
	ELSE
		chart := '<p class="note">No chart: the cluster chart shows at most 50 clusters.</p>' || E'\n';
	END IF;
	SELECT string_agg(format('<tr><td><div class="lbl">%s &middot; %s</div><div class="desc">%s</div></td>'
	                         '<td class="n">%s</td><td class="n">%s%%</td>'
	                         '<td class="n g">%s</td><td class="n">%s &ndash; %s</td><td class="n">%s</td>'
	                         '<td class="n g">%s</td><td class="n">%s &ndash; %s</td><td class="n">%s</td>'
	                         '<td class="n g">%s</td><td class="n">%s &ndash; %s</td><td class="n">%s</td>'
	                         '<td class="n g">%s</td></tr>',
	                         c.cluster, @extschema@.xml_escape(c.label), @extschema@.xml_escape(c.description),
	                         to_char(c.users, fi), to_char(100 * c.share, f1),
	                         to_char(c.sessions_avg, f2), to_char(c.sessions_min, fi), to_char(c.sessions_max, fi),
	                         to_char(c.sessions_total, fi),
	                         to_char(c.duration_ms_avg / 60000, f1), to_char(c.duration_ms_min / 60000, f1),
	                         to_char(c.duration_ms_max / 60000, f1), to_char(c.duration_ms_total / 3600000, f1),
	                         @extschema@.format_bytes(c.total_bytes_avg), @extschema@.format_bytes(c.total_bytes_min),
	                         @extschema@.format_bytes(c.total_bytes_max), @extschema@.format_bytes(c.total_bytes_total),
	                         to_char(c.inertia, f1)),
	                  E'\n' ORDER BY c.cluster)
	INTO part
	FROM @extschema@.result_cluster_stats c WHERE c.run_id = rid;
	h := h || '<section id="clusters">
<h2>Engagement clusters</h2>
<p class="note">K-means (k = ' || r.k || ') on the ' || scaled || ' sessions, duration and traffic of each user; clusters are numbered by ascending centroid norm, so 1 is the least engaged. The chart''s lower panel shows each cluster''s averages relative to the average over all users.</p>
' || chart || '<table>
<thead><tr class="group"><th colspan="3"></th><th colspan="3" class="g">Sessions per user</th><th colspan="3" class="g">Duration per user (min)</th><th colspan="3" class="g">Traffic per user (DL + UL)</th><th class="g"></th></tr>
<tr><th>Cluster</th><th class="n">Users</th><th class="n">Share</th><th class="n g">avg</th><th class="n">min &ndash; max</th><th class="n">total</th><th class="n g">avg</th><th class="n">min &ndash; max</th><th class="n">total (h)</th><th class="n g">avg</th><th class="n">min &ndash; max</th><th class="n">total</th><th class="n g">Inertia</th></tr></thead>
<tbody>
' || COALESCE(part, '') || '
</tbody>
</table>
</section>
';

	-- Top 10 users by engagement score (issue 13; a run that kept its model)
	IF (r.cluster_model).scale IS NOT NULL THEN
		SELECT string_agg(format('<tr><td class="n">%s</td><td>%s</td><td class="n">%s</td><td>%s &middot; %s</td></tr>',
		                         t.rank, @extschema@.xml_escape(t.msisdn), to_char(t.score, 'FM999,999,990.000'),
		                         t.cluster, @extschema@.xml_escape(s.label)),
		                  E'\n' ORDER BY t.rank)
		INTO part
		FROM (SELECT row_number() OVER (ORDER BY x.score DESC, x.msisdn) AS rank, x.*
		      FROM (SELECT u.msisdn, u.cluster,
		                   (@extschema@.user_cluster(z.m, u.sessions, u.duration_ms, u.total_bytes)).distance AS score
		            FROM (SELECT x.msisdn, x.cluster, x.sessions, x.duration_ms, x.total_bytes
		                  FROM @extschema@.result_user_cluster x WHERE x.run_id = rid AND NOT r.clusters_on_read
		                  UNION ALL
		                  SELECT x.msisdn, (@extschema@.user_cluster(r.cluster_model, x.sessions, x.duration_ms, x.total_bytes)).cluster,
		                         x.sessions, x.duration_ms, x.total_bytes
		                  FROM @extschema@.result_user_engagement x WHERE x.run_id = rid AND r.clusters_on_read
		                  UNION ALL
		                  SELECT x.msisdn, x.cluster, x.sessions, x.duration_ms, x.total_bytes
		                  FROM @extschema@.distributed_user_cluster(rid) x) u,
		                 (SELECT @extschema@.kmeans_model_clusters(r.cluster_model,
		                             ARRAY[@extschema@.least_engaged_cluster(r.cluster_model)]) AS m OFFSET 0) z
		            ORDER BY 3 DESC, 1 LIMIT 10) x) t
		JOIN @extschema@.result_cluster_stats s ON s.run_id = rid AND s.cluster = t.cluster;
		h := h || '<section id="engagement-score">
<h2>Top 10 users by engagement score</h2>
<p class="note">The engagement score is the distance, in the normalised space of the clustering, from a user''s sessions, duration and traffic to the centroid of the least engaged cluster (cluster '
		      || @extschema@.least_engaged_cluster(r.cluster_model) || ', the smallest centroid norm); ties broken by MSISDN.</p>
<table><thead><tr><th class="n">#</th><th>MSISDN</th><th class="n">Score</th><th>Cluster</th></tr></thead>
<tbody>
' || COALESCE(part, '') || '
</tbody>
</table>
</section>
';
	END IF;

	-- Hours of activity (issue 13): each cluster's sessions by hour of
	-- day, one bar chart per cluster (at most 12) and the counts
	IF EXISTS (SELECT FROM @extschema@.result_cluster_activity a WHERE a.run_id = rid) THEN
		chart := '';
		IF n_clusters <= 12 THEN
			SELECT string_agg('<figure>' || regexp_replace(
			                      @extschema@.svg_bar_chart(x.hours, x.shares,
			                                                format('Cluster %s (%s): sessions by hour of day', x.cluster, x.label),
			                                                'hour of day', 'share of the cluster''s sessions', '%'),
			                      '^<\?xml[^>]*\?>\s*', '') || '</figure>', E'\n' ORDER BY x.cluster)
			INTO chart
			FROM (SELECT a.cluster, s.label, array_agg(a.hour::text ORDER BY a.hour) AS hours,
			             array_agg(round(100 * COALESCE(a.share, 0), 1)::double precision ORDER BY a.hour) AS shares
			      FROM @extschema@.result_cluster_activity a
			      JOIN @extschema@.result_cluster_stats s ON s.run_id = a.run_id AND s.cluster = a.cluster
			      WHERE a.run_id = rid
			      GROUP BY a.cluster, s.label) x;
		END IF;
		SELECT string_agg(format('<tr><td class="n">%s</td>%s</tr>', x.hour, x.cells), E'\n' ORDER BY x.hour)
		INTO part
		FROM (SELECT a.hour, string_agg(format('<td class="n">%s</td><td class="n">%s%%</td>', to_char(a.sessions, fi),
		                                       COALESCE(to_char(100 * a.share, f1), '&ndash;')), '' ORDER BY a.cluster) AS cells
		      FROM @extschema@.result_cluster_activity a WHERE a.run_id = rid GROUP BY a.hour) x;
		h := h || '<section id="activity">
<h2>Hours of activity</h2>
<p class="note">Sessions of each cluster''s users by the hour of day they start (column <code>'
		      || @extschema@.xml_escape(COALESCE(r.start_column, '')) || '</code>), and the share of the cluster''s sessions in each hour; sessions whose start gives no time are not counted.</p>
<div class="grid">
' || COALESCE(chart, '') || '
</div>
<table><thead><tr><th class="n">Hour</th>'
		      || (SELECT string_agg(format('<th class="n">%s &middot; %s</th><th class="n">share</th>', c.cluster, @extschema@.xml_escape(c.label)),
		                            '' ORDER BY c.cluster)
		          FROM @extschema@.result_cluster_stats c WHERE c.run_id = rid) || '</tr></thead>
<tbody>
' || COALESCE(part, '') || '
</tbody>
</table>
</section>
';
	END IF;

	-- Segments over time (issue 13): who moved between the previous
	-- successful run of the analysis and this one, as a from/to matrix
	-- (engage.segment_migration's counts), and the users who fell from
	-- the most engaged segment of the previous run to the least engaged of
	-- this one (the largest normalised centroid norm, the smallest); for
	-- a run that kept its model (made by engage since issue 13)
	SELECT max(p.run_id) INTO prev FROM @extschema@.run p
	WHERE p.status = 'ok' AND p.name = r.name AND p.run_id < rid;
	IF (r.cluster_model).scale IS NULL THEN
		NULL;
	ELSIF prev IS NOT NULL THEN
		SELECT array_agg(m.f), array_agg(m.t), array_agg(m.n) INTO mig_from, mig_to, mig_users
		FROM (SELECT f.cluster AS f, t.cluster AS t, count(*) AS n
		FROM (SELECT x.msisdn, x.cluster FROM @extschema@.result_user_cluster x WHERE x.run_id = prev
		      UNION ALL
		      SELECT x.msisdn, (@extschema@.user_cluster(p.cluster_model, x.sessions, x.duration_ms, x.total_bytes)).cluster
		      FROM @extschema@.run p JOIN @extschema@.result_user_engagement x ON x.run_id = p.run_id
		      WHERE p.run_id = prev AND p.clusters_on_read
		      UNION ALL
		      SELECT x.msisdn, x.cluster FROM @extschema@.distributed_user_cluster(prev) x) f
		FULL JOIN
		     (SELECT x.msisdn, x.cluster FROM @extschema@.result_user_cluster x WHERE x.run_id = rid
		      UNION ALL
		      SELECT x.msisdn, (@extschema@.user_cluster(p.cluster_model, x.sessions, x.duration_ms, x.total_bytes)).cluster
		      FROM @extschema@.run p JOIN @extschema@.result_user_engagement x ON x.run_id = p.run_id
		      WHERE p.run_id = rid AND p.clusters_on_read
		      UNION ALL
		      SELECT x.msisdn, x.cluster FROM @extschema@.distributed_user_cluster(rid) x) t ON t.msisdn = f.msisdn
		GROUP BY 1, 2) m;
		SELECT c.cluster INTO most FROM @extschema@.result_cluster_stats c WHERE c.run_id = prev
		ORDER BY sqrt(c.centroid_normalized[1] ^ 2 + c.centroid_normalized[2] ^ 2 + c.centroid_normalized[3] ^ 2) DESC, c.cluster LIMIT 1;
		SELECT c.cluster INTO least FROM @extschema@.result_cluster_stats c WHERE c.run_id = rid
		ORDER BY sqrt(c.centroid_normalized[1] ^ 2 + c.centroid_normalized[2] ^ 2 + c.centroid_normalized[3] ^ 2), c.cluster LIMIT 1;
		SELECT m.n INTO n_movers FROM unnest(mig_from, mig_to, mig_users) AS m(f, t, n) WHERE m.f = most AND m.t = least;
		-- the from/to matrix: a row per cluster of the previous run and one
		-- of new users, a column per cluster of this run and one of gone
		-- users; each cell shaded by its share of the largest cell
		WITH fr AS (
			SELECT row_number() OVER (ORDER BY c.cluster NULLS LAST) AS i, c.cluster,
			       COALESCE(c.cluster || ' ' || c.label, 'new') AS label
			FROM (SELECT x.cluster, x.label FROM @extschema@.result_cluster_stats x WHERE x.run_id = prev
			      UNION ALL SELECT NULL, NULL) c
		), tc AS (
			SELECT row_number() OVER (ORDER BY c.cluster NULLS LAST) AS j, c.cluster,
			       COALESCE(c.cluster || ' ' || c.label, 'gone') AS label
			FROM (SELECT x.cluster, x.label FROM @extschema@.result_cluster_stats x WHERE x.run_id = rid
			      UNION ALL SELECT NULL, NULL) c
		), cell AS (
			SELECT fr.i, tc.j, COALESCE(m.n, 0) AS n,
			       max(COALESCE(m.n, 0)) OVER () AS top
			FROM fr CROSS JOIN tc
			LEFT JOIN unnest(mig_from, mig_to, mig_users) AS m(f, t, n)
			       ON m.f IS NOT DISTINCT FROM fr.cluster AND m.t IS NOT DISTINCT FROM tc.cluster
			WHERE fr.cluster IS NOT NULL OR tc.cluster IS NOT NULL
		)
		SELECT format('<svg xmlns="http://www.w3.org/2000/svg" width="%1$s" height="%2$s" viewBox="0 0 %1$s %2$s" role="img" aria-label="Users by cluster, previous run by this run">'
		              '<style>text{font-family:system-ui,-apple-system,"Segoe UI",Roboto,Arial,sans-serif;font-size:12px;fill:#1f2933}.t{font-size:15px;font-weight:600}.h{fill:#52606d}</style>'
		              '<text class="t" x="%3$s" y="20" text-anchor="middle">Users by cluster: run %4$s (rows) to run %5$s (columns)</text>%6$s%7$s%8$s</svg>',
		              190 + 150 * (SELECT count(*) FROM tc) + 10, 70 + 36 * (SELECT count(*) FROM fr) + 10,
		              (190 + 150 * (SELECT count(*) FROM tc) + 10) / 2, prev, rid,
		              (SELECT string_agg(format('<text x="180" y="%s" text-anchor="end">%s</text>', 70 + 36 * (fr.i - 1) + 23,
		                                        @extschema@.xml_escape(fr.label)), '' ORDER BY fr.i) FROM fr),
		              (SELECT string_agg(format('<text class="h" x="%s" y="58" text-anchor="middle">%s</text>', 190 + 150 * (tc.j - 1) + 75,
		                                        @extschema@.xml_escape(tc.label)), '' ORDER BY tc.j) FROM tc),
		              (SELECT string_agg(format('<rect x="%s" y="%s" width="146" height="32" fill="#2f6fab" fill-opacity="%s" stroke="#dde3ea"/>'
		                                        '<text x="%s" y="%s" text-anchor="middle"%s>%s</text>',
		                                        190 + 150 * (c.j - 1), 70 + 36 * (c.i - 1),
		                                        to_char(0.05 + COALESCE(0.9 * c.n / NULLIF(c.top, 0), 0), 'FM0.000'),
		                                        190 + 150 * (c.j - 1) + 73, 70 + 36 * (c.i - 1) + 21,
		                                        CASE WHEN c.top > 0 AND c.n > c.top / 2 THEN ' style="fill:#fff"' ELSE '' END,
		                                        to_char(c.n, fi)), '' ORDER BY c.i, c.j) FROM cell c))
		INTO chart;
		IF n_clusters > 50 OR (SELECT count(*) FROM @extschema@.result_cluster_stats c WHERE c.run_id = prev) > 50 THEN
			chart := '<p class="note">No chart: the migration chart shows at most 50 clusters per run (engage.segment_migration has the counts).</p>';
		END IF;
		SELECT string_agg(format('<tr><td class="n">%s</td><td>%s</td><td class="n">%s &rarr; %s</td><td class="n">%s &rarr; %s</td><td class="n">%s &rarr; %s</td></tr>',
		                         x.rank, @extschema@.xml_escape(x.msisdn), to_char(x.fs, fi), to_char(x.ts, fi),
		                         to_char(COALESCE(x.fd, 0) / 60000, f1), to_char(COALESCE(x.td, 0) / 60000, f1),
		                         @extschema@.format_bytes(COALESCE(x.fb, 0)), @extschema@.format_bytes(COALESCE(x.tb, 0))),
		                  E'\n' ORDER BY x.rank)
		INTO part
		FROM (SELECT row_number() OVER (ORDER BY COALESCE(f.total_bytes, 0) - COALESCE(t.total_bytes, 0) DESC, t.msisdn) AS rank,
		             t.msisdn, f.sessions AS fs, t.sessions AS ts, f.duration_ms AS fd, t.duration_ms AS td,
		             f.total_bytes AS fb, t.total_bytes AS tb
		      FROM (SELECT x.msisdn, x.cluster, x.sessions, x.duration_ms, x.total_bytes
		            FROM @extschema@.result_user_cluster x WHERE x.run_id = prev
		            UNION ALL
		            SELECT x.msisdn, (@extschema@.user_cluster(p.cluster_model, x.sessions, x.duration_ms, x.total_bytes)).cluster,
		                   x.sessions, x.duration_ms, x.total_bytes
		            FROM @extschema@.run p JOIN @extschema@.result_user_engagement x ON x.run_id = p.run_id
		            WHERE p.run_id = prev AND p.clusters_on_read
		            UNION ALL
		            SELECT x.msisdn, x.cluster, x.sessions, x.duration_ms, x.total_bytes
		            FROM @extschema@.distributed_user_cluster(prev) x) f
		      JOIN (SELECT x.msisdn, x.cluster, x.sessions, x.duration_ms, x.total_bytes
		            FROM @extschema@.result_user_cluster x WHERE x.run_id = rid
		            UNION ALL
		            SELECT x.msisdn, (@extschema@.user_cluster(p.cluster_model, x.sessions, x.duration_ms, x.total_bytes)).cluster,
		                   x.sessions, x.duration_ms, x.total_bytes
		            FROM @extschema@.run p JOIN @extschema@.result_user_engagement x ON x.run_id = p.run_id
		            WHERE p.run_id = rid AND p.clusters_on_read
		            UNION ALL
		            SELECT x.msisdn, x.cluster, x.sessions, x.duration_ms, x.total_bytes
		            FROM @extschema@.distributed_user_cluster(rid) x) t ON t.msisdn = f.msisdn
		      WHERE f.cluster = most AND t.cluster = least
		      ORDER BY 1 LIMIT 10) x;
		h := h || '<section id="migration">
<h2>Segments over time</h2>
<p class="note">Users by cluster in the previous successful run of this analysis (run ' || prev || ', rows) and in this run (columns); <em>new</em>: users of this run only, <em>gone</em>: of the previous run only.</p>
<figure>' || chart || '</figure>
<h3>From the most to the least engaged segment</h3>
<p class="note">' || to_char(COALESCE(n_movers, 0), fi) || ' users went from cluster ' || most || ' ('
		      || @extschema@.xml_escape((SELECT c.label FROM @extschema@.result_cluster_stats c WHERE c.run_id = prev AND c.cluster = most))
		      || ', the most engaged of run ' || prev || ') to cluster ' || least || ' ('
		      || @extschema@.xml_escape((SELECT c.label FROM @extschema@.result_cluster_stats c WHERE c.run_id = rid AND c.cluster = least))
		      || ', the least engaged of this run); the 10 who lost the most traffic, ties broken by MSISDN:</p>
<table><thead><tr><th class="n">#</th><th>MSISDN</th><th class="n">Sessions</th><th class="n">Duration (min)</th><th class="n">Traffic</th></tr></thead>
<tbody>
' || COALESCE(part, '<tr><td colspan="5" class="note">no users</td></tr>') || '
</tbody>
</table>
</section>
';
	ELSE
		h := h || '<section id="migration">
<h2>Segments over time</h2>
<p class="note">No previous successful run of this analysis is kept to compare with.</p>
</section>
';
	END IF;

	-- Applications: top 3, totals and top 10 users of each
	IF n_apps = 0 THEN
		h := h || '<section id="applications">
<h2>Applications</h2>
<p class="note">This run has no application usage (run_analysis was called with applications =&gt; ''{}'').</p>
</section>
';
	ELSE
		SELECT '<figure>' || regexp_replace(
		           @extschema@.svg_bar_chart(array_agg(a.application ORDER BY a.rank),
		                                     array_agg(COALESCE(a.total_bytes, 0)::double precision ORDER BY a.rank),
		                                     'Top 3 applications by total traffic', 'application', 'total traffic', 'B'),
		           '^<\?xml[^>]*\?>\s*', '') || '</figure>'
		INTO chart
		FROM @extschema@.result_app_totals a WHERE a.run_id = rid AND a.rank <= 3;
		SELECT string_agg(format('<tr><td class="n">%s</td><td>%s</td><td class="n">%s</td><td class="n">%s</td><td class="n">%s</td></tr>',
		                         a.rank, @extschema@.xml_escape(a.application), to_char(a.users, fi),
		                         COALESCE(@extschema@.format_bytes(a.total_bytes), '&ndash;'),
		                         COALESCE(to_char(100 * a.total_bytes / NULLIF(app_traffic, 0), f1) || '%', '&ndash;')),
		                  E'\n' ORDER BY a.rank)
		INTO part
		FROM @extschema@.result_app_totals a WHERE a.run_id = rid AND a.rank <= 3;
		h := h || '<section id="applications">
<h2>Applications</h2>
<p class="note">Traffic (DL + UL) of each application over the users'' rows (rows without subscriber left out).</p>
<div class="grid">
' || chart || '
<div><h3>Top 3 applications</h3>
<table><thead><tr><th class="n">#</th><th>Application</th><th class="n">Users</th><th class="n">Traffic</th><th class="n">Share</th></tr></thead>
<tbody>
' || part || '
</tbody></table>
';
		SELECT string_agg(format('<tr><td class="n">%s</td><td>%s</td><td class="n">%s</td><td class="n">%s</td><td class="n">%s</td><td class="n">%s</td><td class="n">%s</td></tr>',
		                         a.rank, @extschema@.xml_escape(a.application), to_char(a.users, fi),
		                         COALESCE(@extschema@.format_bytes(a.dl_bytes), '&ndash;'),
		                         COALESCE(@extschema@.format_bytes(a.ul_bytes), '&ndash;'),
		                         COALESCE(@extschema@.format_bytes(a.total_bytes), '&ndash;'),
		                         COALESCE(to_char(100 * a.total_bytes / NULLIF(app_traffic, 0), f1) || '%', '&ndash;')),
		                  E'\n' ORDER BY a.rank)
		INTO part
		FROM @extschema@.result_app_totals a WHERE a.run_id = rid;
		h := h || '<h3>Application totals</h3>
<table><thead><tr><th class="n">#</th><th>Application</th><th class="n">Users</th><th class="n">DL</th><th class="n">UL</th><th class="n">Total</th><th class="n">Share</th></tr></thead>
<tbody>
' || part || '
</tbody></table>
</div>
</div>
';
		SELECT string_agg(x.tbl, E'\n' ORDER BY x.rank) INTO part
		FROM (SELECT a.rank, format('<div><h3>%s</h3><table><thead><tr><th class="n">#</th><th>MSISDN</th><th class="n">traffic</th></tr></thead><tbody>%s</tbody></table></div>',
		                            @extschema@.xml_escape(a.application),
		                            COALESCE(string_agg(format('<tr><td class="n">%s</td><td>%s</td><td class="n">%s</td></tr>',
		                                                       t.rank, @extschema@.xml_escape(t.msisdn),
		                                                       @extschema@.format_bytes(t.total_bytes)),
		                                                '' ORDER BY t.rank),
		                                     '<tr><td colspan="3" class="note">no users</td></tr>')) AS tbl
		      FROM @extschema@.result_app_totals a
		      LEFT JOIN @extschema@.result_top_users_per_app t ON t.run_id = a.run_id AND t.application = a.application
		      WHERE a.run_id = rid
		      GROUP BY a.rank, a.application) x;
		h := h || '<h3>Top 10 users of each application</h3>
<div class="grid4">
' || part || '
</div>
</section>
';
	END IF;

	-- The elbow curve
	IF n_elbow = 0 THEN
		h := h || '<section id="elbow">
<h2>Elbow method</h2>
<p class="note">The elbow curve was skipped in this run (k_max =&gt; 0).</p>
</section>
';
	ELSE
		SELECT '<figure>' || regexp_replace(
		           @extschema@.svg_line_chart(array_agg(e.k::double precision ORDER BY e.k),
		                                      array_agg(e.inertia ORDER BY e.k),
		                                      'Elbow method: K-means inertia by k', 'k (clusters)', 'inertia',
		                                      r.elbow_k, format('elbow: k = %s', r.elbow_k)),
		           '^<\?xml[^>]*\?>\s*', '') || '</figure>'
		INTO chart
		FROM @extschema@.result_elbow e WHERE e.run_id = rid;
		SELECT string_agg(format('<tr%s><td class="n">%s</td><td class="n">%s</td><td class="n">%s</td><td>%s</td></tr>',
		                         CASE WHEN e.is_elbow THEN ' class="mark"' ELSE '' END,
		                         e.k, to_char(e.inertia, f1),
		                         COALESCE(to_char(e.silhouette, 'FM990.0000'), '&ndash;'),
		                         concat_ws(', ', CASE WHEN e.is_elbow THEN 'elbow' END,
		                                         CASE WHEN e.k = r.k THEN 'k of this run' END)),
		                  E'\n' ORDER BY e.k)
		INTO part
		FROM @extschema@.result_elbow e WHERE e.run_id = rid;
		h := h || '<section id="elbow">
<h2>Elbow method</h2>
<p class="note">K-means inertia for k = 1..' || n_elbow || ' and the simplified silhouette; the elbow is the k that Kneedle picks'
			|| CASE WHEN r.elbow_k IS NULL THEN ' (this curve has no knee).' ELSE format(': k = %s.', r.elbow_k) END || '</p>
<div class="grid">
' || chart || '
<table><thead><tr><th class="n">k</th><th class="n">Inertia</th><th class="n">Silhouette</th><th></th></tr></thead>
<tbody>
' || part || '
</tbody></table>
</div>
</section>
';
	END IF;

	RETURN h || '<footer>Made by engage.report_html(' || rid || ') from engage.run and the engage.result_* tables. Traffic in SI units (1 kB = 1,000 bytes); durations in minutes.</footer>
</main>
</body>
</html>
';
END
$$;

COMMENT ON FUNCTION @extschema@.report_html(bigint, text) IS
'One self-contained HTML5 page (inline CSS and SVG charts, no scripts or external resources) of a run of run_analysis: run_id, or the latest successful run of the analysis name, or (both NULL) the most recent successful run of any analysis: the run in figures, top 10 users, cluster statistics with labels and descriptions, the top 10 users by engagement score (runs that kept their model), the hours of activity of each cluster (runs whose source had a start column), the from/to matrix of the users'' clusters in the previous successful run of the analysis and this one (runs that kept their model) with the 10 users who lost the most traffic among those who went from its most to this run''s least engaged cluster, top 3 applications, application totals and top users, the elbow curve; every text from the data is escaped';

------------------------------------------------------------------------------
-- 3. Comments
------------------------------------------------------------------------------

COMMENT ON FUNCTION @extschema@.kmeans_model(text, integer, text, integer, integer, double precision, bigint, text, double precision[]) IS
'The clustering of kmeans_cluster with the same arguments, as one engage.kmeans_model value, to store and to assign points with kmeans_predict or kmeans_assign';

------------------------------------------------------------------------------
-- 4. kmeans_cluster_rows: K-means from one read of the points query,
-- returned as its rows (run_analysis's K-means step)
------------------------------------------------------------------------------

CREATE FUNCTION @extschema@.kmeans_cluster_rows(points text, k integer DEFAULT 3,
    normalization text DEFAULT 'zscore', n_init integer DEFAULT 10, max_iter integer DEFAULT 300,
    tol double precision DEFAULT 1e-4, seed bigint DEFAULT 0, init text DEFAULT 'k-means++',
    initial_centroids double precision[] DEFAULT NULL, features integer DEFAULT NULL)
RETURNS SETOF record
AS 'MODULE_PATHNAME', 'engage_kmeans_cluster_rows'
LANGUAGE C VOLATILE PARALLEL UNSAFE;

COMMENT ON FUNCTION @extschema@.kmeans_cluster_rows(text, integer, text, integer, integer, double precision, bigint, text, double precision[], integer) IS
'The clustering of kmeans_cluster with the same arguments, from one read of the points query, returned as its rows: every column as the query returned it (the key, the features: the first features columns after the key, all of them when NULL, and the other columns, carried through unchanged), then cluster 1..k and distance, and, when the column definition list ends with model engage.kmeans_model, the kmeans_model value on the first row (NULL on the others); the column definition list names the query''s columns with their types, then cluster integer, distance double precision[, model engage.kmeans_model]';

------------------------------------------------------------------------------
-- 5. The elbow's sample (issue 11): elbow_inertia gains the argument sample
-- and the result column sample_size, run_analysis the argument
-- elbow_sample (above), engage.run the column elbow_sample (its last
-- column, so latest_run, SELECT r.*, is made again to show it)
------------------------------------------------------------------------------

DROP FUNCTION @extschema@.elbow_inertia(text, integer, integer, text, integer, integer, double precision, bigint, text);

CREATE FUNCTION @extschema@.elbow_inertia(points text, k_min integer DEFAULT 1, k_max integer DEFAULT 10,
    normalization text DEFAULT 'zscore', n_init integer DEFAULT 10, max_iter integer DEFAULT 300,
    tol double precision DEFAULT 1e-4, seed bigint DEFAULT 0, init text DEFAULT 'k-means++',
    sample integer DEFAULT NULL)
RETURNS TABLE (k integer, inertia double precision, silhouette double precision,
               iterations integer, is_elbow boolean, centroids_normalized double precision[],
               sample_size integer, davies_bouldin double precision,
               calinski_harabasz double precision)
AS 'MODULE_PATHNAME', 'engage_elbow_inertia'
LANGUAGE C VOLATILE PARALLEL UNSAFE;

COMMENT ON FUNCTION @extschema@.elbow_inertia(text, integer, integer, text, integer, integer, double precision, bigint, text, integer) IS
'The elbow method: for k = k_min..k_max the K-means inertia, the simplified (centroid) silhouette (NULL for k = 1), iterations and normalised centroids; is_elbow is true on the k that Kneedle picks for the convex decreasing curve, on none when it has no knee. sample 0: the n_init restarts run on every point; n > 0: 3 x n_init weighted restarts run on a sample of n points chosen by a hash of the key and the seed (half uniform, half by squared distance to the mean), and the best are refined on all points; NULL (default): every point up to 200,000 points, a sample of 32,768 above. sample_size is the sample used (NULL: every point); inertia, silhouette and the Davies-Bouldin (lower is better) and Calinski-Harabasz (higher is better) indexes (as scikit-learn''s davies_bouldin_score and calinski_harabasz_score on the labels of each k; NULL for k = 1 and for as many clusters as points) are always of all points';

ALTER TABLE @extschema@.run ADD COLUMN elbow_sample integer;
COMMENT ON COLUMN @extschema@.run.elbow_sample IS 'Points of the sample the elbow curve''s restarts ran on (elbow_inertia''s sample_size; run_analysis''s elbow_sample); NULL when they ran on every user or the elbow was skipped';
COMMENT ON COLUMN @extschema@.run.parameters IS 'The arguments of the run: seed, k_max, keep_runs, the column names, the applications, elbow_sample and without_msisdn';

CREATE OR REPLACE VIEW @extschema@.latest_run AS
SELECT r.*
FROM @extschema@.run r
WHERE r.run_id = (SELECT max(l.run_id) FROM @extschema@.run l WHERE l.status = 'ok');

COMMENT ON FUNCTION @extschema@.run_analysis(regclass, integer, bigint, integer, text, text, text, text, jsonb, integer, integer, regclass, text, text, text, boolean, timestamptz, timestamptz, text) IS
'The whole engagement analysis of an xDR table in one call: per-user engagement (rows without MSISDN left out and counted), top 10 users per metric, K-means (k, seed) on the sessions, duration and traffic normalised by normalization (zscore, minmax, log, robust or none; the elbow curve too) with cluster statistics and labels, k chosen on the elbow curve when k_selection is elbow (Kneedle), silhouette (highest) or davies_bouldin (lowest), k when it chooses none, application usage, totals and top users, the elbow curve (k = 1..k_max, 0 skips it; its restarts on a sample of elbow_sample users, 0: on every user, NULL: as elbow_inertia chooses, every user up to 200,000); stores the results under a new run_id (returned) as a run of the analysis name (NULL: the source, schema-qualified) and keeps the last keep_runs successful runs of that name; the views show the latest successful run of each name, and runs of different names may run at the same time; on a failure logs it in engage.run, raises a WARNING and returns NULL, leaving the previous results in place. without_msisdn: a table of the rows without MSISDN kept apart from the source (a Citus table distributed by MSISDN cannot hold them), counted as read and without subscriber. On a Citus distributed source the per-user work runs on the workers, into distributed tables of the run (engage.run_distributed); on a Citus worker it is an error. warm_start: when the previous successful run of the name has as many clusters (at most 100) of the same normalization and columns, its centroids are one more starting point of the fit beside the restarts (Lloyd steps on every user from them to their fixed point, kept when its inertia is lower than the restarts'', theirs on a tie; engage.run does not record which was kept), and with the same features too the clusters are numbered after its clusters (the matching of least total distance between the normalised centroids, match_clusters), so that a segment keeps its number and label (engage.run.warm_start_run); otherwise, and with warm_start false, by ascending centroid norm. since, until: a time window, only the sessions whose start (start_column: timestamptz, timestamp in the session''s TimeZone, or text M/D/YYYY H:MM as TellCo writes it) is at or after since and before until (either NULL: no bound); rows whose start gives no time (NULL, or a text that does not parse) are left out and counted (engage.run.rows_unparsed_start); engage.run records the window. The hours of activity of the clusters (engage.cluster_activity) come from start_column when the source has it (timestamptz, timestamp or text; start_column NULL: none)';

-- 0.2.0: K-means whose points never gather in one place (sql/src/kmeans_agg.sql)
CREATE TYPE @extschema@.scaling AS (
	normalization text,
	n_points bigint,
	mean double precision[],
	std double precision[],
	min double precision[],
	max double precision[],
	scale double precision[],
	shift double precision[]
);

COMMENT ON TYPE @extschema@.scaling IS
'The scaler of a set of points (scaling_agg): normalization, number of points, and per feature the mean, population std, min, max, and the scale and shift of the transform (zscore, robust: (x - shift) / scale; log: (ln(1 + x) - shift) / scale; minmax: x * scale + shift; none: x)';

CREATE FUNCTION @extschema@.scaling_accum(state bigint[], features double precision[])
RETURNS bigint[]
AS 'MODULE_PATHNAME', 'engage_scaling_accum'
LANGUAGE C IMMUTABLE PARALLEL SAFE;

COMMENT ON FUNCTION @extschema@.scaling_accum(bigint[], double precision[]) IS
'Transition function of scaling_agg(double precision[]) (zscore)';

CREATE FUNCTION @extschema@.scaling_accum(state bigint[], features double precision[], normalization text)
RETURNS bigint[]
AS 'MODULE_PATHNAME', 'engage_scaling_accum'
LANGUAGE C IMMUTABLE PARALLEL SAFE;

COMMENT ON FUNCTION @extschema@.scaling_accum(bigint[], double precision[], text) IS
'Transition function of scaling_agg(double precision[], text)';

CREATE FUNCTION @extschema@.scaling_combine(a bigint[], b bigint[])
RETURNS bigint[]
AS 'MODULE_PATHNAME', 'engage_scaling_combine'
LANGUAGE C IMMUTABLE PARALLEL SAFE;

COMMENT ON FUNCTION @extschema@.scaling_combine(bigint[], bigint[]) IS
'Combine function of scaling_agg: merges two partial states exactly';

CREATE FUNCTION @extschema@.scaling_final(state bigint[])
RETURNS @extschema@.scaling
AS 'MODULE_PATHNAME', 'engage_scaling_final'
LANGUAGE C IMMUTABLE PARALLEL SAFE;

COMMENT ON FUNCTION @extschema@.scaling_final(bigint[]) IS
'Final function of scaling_agg: the engage.scaling of the points';

CREATE AGGREGATE @extschema@.scaling_agg(double precision[]) (
	SFUNC = @extschema@.scaling_accum,
	STYPE = bigint[],
	FINALFUNC = @extschema@.scaling_final,
	COMBINEFUNC = @extschema@.scaling_combine,
	PARALLEL = SAFE
);

COMMENT ON AGGREGATE @extschema@.scaling_agg(double precision[]) IS
'The zscore scaler of the points (one double precision[] of features per row, NULL rows skipped), as engage.scaling: min and max as scaling_params, mean and std from exact sums rounded once, the same in any plan and split';

CREATE AGGREGATE @extschema@.scaling_agg(double precision[], text) (
	SFUNC = @extschema@.scaling_accum,
	STYPE = bigint[],
	FINALFUNC = @extschema@.scaling_final,
	COMBINEFUNC = @extschema@.scaling_combine,
	PARALLEL = SAFE
);

COMMENT ON AGGREGATE @extschema@.scaling_agg(double precision[], text) IS
'The scaler (normalization zscore, minmax, log or none, the same on every row; robust needs quantile passes: kmeans_fit_sampled and elbow_fit_sampled run them) of the points (one double precision[] of features per row, NULL rows skipped), as engage.scaling: min and max as scaling_params, mean and std from exact sums rounded once (log: scale and shift from the exact mean and std of ln(1 + x), every value at least 0), the same in any plan and split';

CREATE TYPE @extschema@.kmeans_step AS (
	centroids_normalized double precision[],
	sizes bigint[],
	cluster_inertia double precision[],
	inertia double precision,
	n_points bigint,
	empty_clusters integer,
	converged boolean
);

COMMENT ON TYPE @extschema@.kmeans_step IS
'One Lloyd step of K-means (kmeans_step_agg): the next k x d normalised centroids (the exact mean of each cluster''s points, rounded once; an empty cluster takes the point farthest from its centroid), and of the assignment of the points to the model''s centroids: sizes, each cluster''s inertia, the inertia, the points, the empty clusters; converged: the next centroids are the model''s, bit for bit';

CREATE FUNCTION @extschema@.kmeans_step_accum(state bigint[], model @extschema@.kmeans_model, features double precision[])
RETURNS bigint[]
AS 'MODULE_PATHNAME', 'engage_kmeans_step_accum'
LANGUAGE C IMMUTABLE PARALLEL SAFE;

COMMENT ON FUNCTION @extschema@.kmeans_step_accum(bigint[], @extschema@.kmeans_model, double precision[]) IS
'Transition function of kmeans_step_agg';

CREATE FUNCTION @extschema@.kmeans_step_combine(a bigint[], b bigint[])
RETURNS bigint[]
AS 'MODULE_PATHNAME', 'engage_kmeans_step_combine'
LANGUAGE C IMMUTABLE PARALLEL SAFE;

COMMENT ON FUNCTION @extschema@.kmeans_step_combine(bigint[], bigint[]) IS
'Combine function of kmeans_step_agg: merges two partial states of the same model exactly';

CREATE FUNCTION @extschema@.kmeans_step_final(state bigint[])
RETURNS @extschema@.kmeans_step
AS 'MODULE_PATHNAME', 'engage_kmeans_step_final'
LANGUAGE C IMMUTABLE PARALLEL SAFE;

COMMENT ON FUNCTION @extschema@.kmeans_step_final(bigint[]) IS
'Final function of kmeans_step_agg: the engage.kmeans_step of the points';

CREATE AGGREGATE @extschema@.kmeans_step_agg(@extschema@.kmeans_model, double precision[]) (
	SFUNC = @extschema@.kmeans_step_accum,
	STYPE = bigint[],
	FINALFUNC = @extschema@.kmeans_step_final,
	COMBINEFUNC = @extschema@.kmeans_step_combine,
	PARALLEL = SAFE
);

COMMENT ON AGGREGATE @extschema@.kmeans_step_agg(@extschema@.kmeans_model, double precision[]) IS
'One Lloyd step of K-means over the points (features in their units, normalised with the model''s scale and shift as kmeans_predict does; NULL rows skipped) from the model''s normalised centroids, as engage.kmeans_step; exact sums, the same in any plan and split';

CREATE FUNCTION @extschema@.quantile_pass_accum(state bigint[], targets bigint[], features double precision[])
RETURNS bigint[]
AS 'MODULE_PATHNAME', 'engage_quantile_pass_accum'
LANGUAGE C IMMUTABLE PARALLEL SAFE;

COMMENT ON FUNCTION @extschema@.quantile_pass_accum(bigint[], bigint[], double precision[]) IS
'Transition function of quantile_pass_agg';

CREATE FUNCTION @extschema@.quantile_pass_combine(a bigint[], b bigint[])
RETURNS bigint[]
AS 'MODULE_PATHNAME', 'engage_quantile_pass_combine'
LANGUAGE C IMMUTABLE PARALLEL SAFE;

COMMENT ON FUNCTION @extschema@.quantile_pass_combine(bigint[], bigint[]) IS
'Combine function of quantile_pass_agg: merges two partial states of the same targets';

CREATE FUNCTION @extschema@.quantile_pass_final(state bigint[])
RETURNS bigint[]
AS 'MODULE_PATHNAME', 'engage_quantile_pass_final'
LANGUAGE C IMMUTABLE PARALLEL SAFE;

COMMENT ON FUNCTION @extschema@.quantile_pass_final(bigint[]) IS
'Final function of quantile_pass_agg: the pass''s non-empty buckets (compact)';

CREATE AGGREGATE @extschema@.quantile_pass_agg(bigint[], double precision[]) (
	SFUNC = @extschema@.quantile_pass_accum,
	STYPE = bigint[],
	FINALFUNC = @extschema@.quantile_pass_final,
	COMBINEFUNC = @extschema@.quantile_pass_combine,
	PARALLEL = SAFE
);

COMMENT ON AGGREGATE @extschema@.quantile_pass_agg(bigint[], double precision[]) IS
'One pass of the exact quantiles of the robust scaler, which kmeans_fit_sampled and elbow_fit_sampled run (internal; its result lists the non-empty buckets): targets, 3 bigint each (a feature from 0, the bits of its key known, 0 to 56 by 8, and their value), each count the points (features finite, NULL rows skipped) whose feature''s order-preserving 64-bit key starts with those bits in 256 buckets of the next 8 bits, with each bucket''s smallest and largest key; counts, minima and maxima, the same in any plan and split';

CREATE FUNCTION @extschema@.sample_hash(key text, seed bigint)
RETURNS bigint
AS 'MODULE_PATHNAME', 'engage_sample_hash'
LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;

COMMENT ON FUNCTION @extschema@.sample_hash(text, bigint) IS
'The 64-bit hash (as bigint) of a point''s key and a seed that chooses the samples of elbow_inertia and kmeans_fit_sampled: the same on every server';

CREATE FUNCTION @extschema@.sample_cutoff_accum(state bigint[], value double precision, m integer)
RETURNS bigint[]
AS 'MODULE_PATHNAME', 'engage_sample_cutoff_accum'
LANGUAGE C IMMUTABLE PARALLEL SAFE;

COMMENT ON FUNCTION @extschema@.sample_cutoff_accum(bigint[], double precision, integer) IS
'Transition function of sample_cutoff';

CREATE FUNCTION @extschema@.sample_cutoff_combine(a bigint[], b bigint[])
RETURNS bigint[]
AS 'MODULE_PATHNAME', 'engage_sample_cutoff_combine'
LANGUAGE C IMMUTABLE PARALLEL SAFE;

COMMENT ON FUNCTION @extschema@.sample_cutoff_combine(bigint[], bigint[]) IS
'Combine function of sample_cutoff: merges two partial states of the same m';

CREATE FUNCTION @extschema@.sample_cutoff_final(state bigint[])
RETURNS double precision
AS 'MODULE_PATHNAME', 'engage_sample_cutoff_final'
LANGUAGE C IMMUTABLE PARALLEL SAFE;

COMMENT ON FUNCTION @extschema@.sample_cutoff_final(bigint[]) IS
'Final function of sample_cutoff: the m-th smallest value, NULL with fewer than m';

CREATE AGGREGATE @extschema@.sample_cutoff(double precision, integer) (
	SFUNC = @extschema@.sample_cutoff_accum,
	STYPE = bigint[],
	FINALFUNC = @extschema@.sample_cutoff_final,
	COMBINEFUNC = @extschema@.sample_cutoff_combine,
	PARALLEL = SAFE
);

COMMENT ON AGGREGATE @extschema@.sample_cutoff(double precision, integer) IS
'The m-th smallest value (m, 1..1048576, the same on every row; NULL values skipped, NaN refused; NULL with fewer than m values): the cutoff of a sample of the m smallest keys, so that ORDER BY key LIMIT m reads only the rows of key <= cutoff (kmeans_fit_sampled''s and elbow_fit_sampled''s sample queries on aggregates: about m rows reach the coordinator of a Citus cluster, not m per shard); the m smallest values kept in a combinable bigint[] state, the same in any plan and split';

CREATE FUNCTION @extschema@.kmeans_fit_sampled(points text, k integer DEFAULT 3,
    normalization text DEFAULT 'zscore', n_init integer DEFAULT 10, max_iter integer DEFAULT 300,
    seed bigint DEFAULT 0, init text DEFAULT 'k-means++', sample integer DEFAULT NULL,
    in_memory boolean DEFAULT false, initial_centroids double precision[] DEFAULT NULL)
RETURNS @extschema@.kmeans_model
AS 'MODULE_PATHNAME', 'engage_kmeans_fit_sampled'
LANGUAGE C VOLATILE PARALLEL UNSAFE;

COMMENT ON FUNCTION @extschema@.kmeans_fit_sampled(text, integer, text, integer, integer, bigint, text, integer, boolean, double precision[]) IS
'K-means of the points query without gathering its points: the scaler by scaling_agg (normalization zscore, minmax, log or none; robust: the median and quartiles by quantile_pass_agg passes, exact, as scaling_params), n_init restarts on a sample (NULL: every point up to 200,000 points, else the 32,768 of smallest sample_hash of the key; 0: every point; n: n points), then Lloyd steps (kmeans_step_agg) over every point until the centroids no longer change or max_iter; initial_centroids (k x d, in the features'' units, normalised by the fit''s own scaler; NULL: none): one more candidate beside the restarts, the same Lloyd steps over every point from them, the model kept the candidate of lower inertia (the restarts'' on a tie); an engage.kmeans_model (clusters by ascending centroid norm; iterations: the steps over every point); in_memory: the points read once and the same algorithm run in memory (the scaler from the same exact sums, the same sample in the same order, each step by bounds on the same exact states), the same model bit for bit';

------------------------------------------------------------------------------
-- 6. Citus (issue 12): run_analysis on a distributed source runs its
-- per-user steps on the workers, into distributed tables of the run that
-- engage.run_distributed names and the per-user views read through
-- distributed_user_engagement and distributed_user_cluster
------------------------------------------------------------------------------

CREATE FUNCTION @extschema@.kmeans_nearest(model @extschema@.kmeans_model, features double precision[],
    OUT cluster integer, OUT distance double precision)
RETURNS record
AS 'MODULE_PATHNAME', 'engage_kmeans_nearest'
LANGUAGE C IMMUTABLE PARALLEL SAFE;

COMMENT ON FUNCTION @extschema@.kmeans_nearest(@extschema@.kmeans_model, double precision[]) IS
'Cluster (1..k) of a point under a fitted model, as kmeans_predict gives it, and its Euclidean distance to that centroid in the normalised space; on the points the model was fitted on, the cluster and distance of the fit, bit for bit; NULLs when a feature is NULL. Pushed down to the Citus workers, it assigns a distributed table''s rows where they are';

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

SELECT pg_catalog.pg_extension_config_dump('@extschema@.run_distributed', '');

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

CREATE OR REPLACE VIEW @extschema@.user_engagement AS
SELECT u.run_id, u.msisdn, u.sessions, u.duration_ms, u.dl_bytes, u.ul_bytes, u.total_bytes
FROM @extschema@.result_user_engagement u
WHERE u.run_id = (SELECT max(l.run_id) FROM @extschema@.run l WHERE l.status = 'ok')
UNION ALL
SELECT u.run_id, u.msisdn, u.sessions, u.duration_ms, u.dl_bytes, u.ul_bytes, u.total_bytes
FROM @extschema@.distributed_user_engagement((SELECT max(l.run_id) FROM @extschema@.run l WHERE l.status = 'ok')) u;

CREATE OR REPLACE VIEW @extschema@.user_clusters AS
SELECT c.run_id, c.msisdn, c.cluster, s.label, c.distance,
       c.sessions, c.duration_ms, c.total_bytes
FROM (SELECT x.run_id, x.msisdn, x.cluster, x.distance, x.sessions, x.duration_ms, x.total_bytes
      FROM @extschema@.result_user_cluster x
      WHERE x.run_id = (SELECT max(l.run_id) FROM @extschema@.run l WHERE l.status = 'ok')
      UNION ALL
      SELECT x.run_id, x.msisdn, x.cluster, x.distance, x.sessions, x.duration_ms, x.total_bytes
      FROM @extschema@.distributed_user_cluster((SELECT max(l.run_id) FROM @extschema@.run l WHERE l.status = 'ok')) x) c
JOIN @extschema@.result_cluster_stats s ON s.run_id = c.run_id AND s.cluster = c.cluster;

CREATE OR REPLACE VIEW @extschema@.app_usage AS
SELECT u.run_id, u.msisdn, a.application, x.dl_bytes, x.ul_bytes,
       CASE WHEN x.dl_bytes IS NULL AND x.ul_bytes IS NULL THEN NULL
            ELSE COALESCE(x.dl_bytes, 0) + COALESCE(x.ul_bytes, 0) END AS total_bytes
FROM (SELECT e.run_id, e.msisdn, e.app_dl_bytes, e.app_ul_bytes
      FROM @extschema@.result_user_engagement e
      WHERE e.run_id = (SELECT max(l.run_id) FROM @extschema@.run l WHERE l.status = 'ok')
      UNION ALL
      SELECT e.run_id, e.msisdn, e.app_dl_bytes, e.app_ul_bytes
      FROM @extschema@.distributed_user_engagement((SELECT max(l.run_id) FROM @extschema@.run l WHERE l.status = 'ok')) e) u
JOIN @extschema@.result_app_totals a ON a.run_id = u.run_id
CROSS JOIN LATERAL (SELECT u.app_dl_bytes[a.position]::numeric AS dl_bytes,
                           u.app_ul_bytes[a.position]::numeric AS ul_bytes) x;

------------------------------------------------------------------------------
-- 6. traffic_agg(VARIADIC double precision[]) (issue 12): the form of
-- traffic_agg that Citus can split, beside the "any" form of 0.1.0
------------------------------------------------------------------------------

CREATE FUNCTION @extschema@.traffic_accum(double precision[], VARIADIC double precision[])
RETURNS double precision[]
AS 'MODULE_PATHNAME', 'engage_traffic_accum_array'
LANGUAGE C IMMUTABLE PARALLEL SAFE;

COMMENT ON FUNCTION @extschema@.traffic_accum(double precision[], double precision[]) IS
'Transition function of traffic_agg(VARIADIC double precision[])';

CREATE AGGREGATE @extschema@.traffic_agg(VARIADIC double precision[]) (
	SFUNC = @extschema@.traffic_accum,
	STYPE = double precision[],
	FINALFUNC = @extschema@.traffic_final,
	COMBINEFUNC = @extschema@.traffic_combine,
	PARALLEL = SAFE
);

COMMENT ON AGGREGATE @extschema@.traffic_agg(VARIADIC double precision[]) IS
'Per-group traffic of several applications from (DL, UL) column pairs cast to double precision: the sums of each column as two arrays, NULL and rejected (NaN, infinite, negative) values skipped and counted; the form that PostgreSQL picks for numeric arguments and that Citus can split (the same results as traffic_agg(VARIADIC "any"))';

CREATE TYPE @extschema@.kmeans_model_step AS (
	model integer,
	k integer,
	centroids_normalized double precision[],
	sizes bigint[],
	cluster_inertia double precision[],
	inertia double precision,
	silhouette double precision,
	n_points bigint,
	empty_clusters integer,
	converged boolean,
	davies_bouldin double precision,
	calinski_harabasz double precision
);

COMMENT ON TYPE @extschema@.kmeans_model_step IS
'One model''s Lloyd step in kmeans_steps_agg: the model''s position (1..M) and k, then as engage.kmeans_step (the next normalised centroids, sizes, each cluster''s inertia and the inertia of the assignment to the model''s centroids, points, empty clusters, converged: a fixed point), the simplified silhouette of the model''s centroids (the exact mean over the points of (b - a) / max(a, b), a and b the distances to the nearest and the next nearest centroid; NULL for k = 1), and the Davies-Bouldin and Calinski-Harabasz indexes of the assignment (scikit-learn''s definitions, from exact sums: per cluster the distances and squared distances of its points to its centre, the centres being the model''s centroids or kmeans_steps_agg''s centres; scikit-learn''s scores of the labels when the centres are the means of the clusters, e.g. at a fixed point; NULL unless 2 <= clusters with points < points)';

CREATE FUNCTION @extschema@.kmeans_steps_accum(state bigint[], models @extschema@.kmeans_model[], features double precision[])
RETURNS bigint[]
AS 'MODULE_PATHNAME', 'engage_kmeans_steps_accum'
LANGUAGE C IMMUTABLE PARALLEL SAFE;

COMMENT ON FUNCTION @extschema@.kmeans_steps_accum(bigint[], @extschema@.kmeans_model[], double precision[]) IS
'Transition function of kmeans_steps_agg';

CREATE FUNCTION @extschema@.kmeans_steps_accum(state bigint[], models @extschema@.kmeans_model[], features double precision[], centres double precision[])
RETURNS bigint[]
AS 'MODULE_PATHNAME', 'engage_kmeans_steps_accum'
LANGUAGE C IMMUTABLE PARALLEL SAFE;

COMMENT ON FUNCTION @extschema@.kmeans_steps_accum(bigint[], @extschema@.kmeans_model[], double precision[], double precision[]) IS
'Transition function of kmeans_steps_agg with the centres of the indexes';

CREATE FUNCTION @extschema@.kmeans_steps_combine(a bigint[], b bigint[])
RETURNS bigint[]
AS 'MODULE_PATHNAME', 'engage_kmeans_steps_combine'
LANGUAGE C IMMUTABLE PARALLEL SAFE;

COMMENT ON FUNCTION @extschema@.kmeans_steps_combine(bigint[], bigint[]) IS
'Combine function of kmeans_steps_agg: merges two partial states of the same models exactly';

CREATE FUNCTION @extschema@.kmeans_steps_final(state bigint[])
RETURNS @extschema@.kmeans_model_step[]
AS 'MODULE_PATHNAME', 'engage_kmeans_steps_final'
LANGUAGE C IMMUTABLE PARALLEL SAFE;

COMMENT ON FUNCTION @extschema@.kmeans_steps_final(bigint[]) IS
'Final function of kmeans_steps_agg: one engage.kmeans_model_step per model';

CREATE AGGREGATE @extschema@.kmeans_steps_agg(@extschema@.kmeans_model[], double precision[]) (
	SFUNC = @extschema@.kmeans_steps_accum,
	STYPE = bigint[],
	FINALFUNC = @extschema@.kmeans_steps_final,
	COMBINEFUNC = @extschema@.kmeans_steps_combine,
	PARALLEL = SAFE
);

COMMENT ON AGGREGATE @extschema@.kmeans_steps_agg(@extschema@.kmeans_model[], double precision[]) IS
'A Lloyd step of several models in one pass over the points (the models share their normalization, scale and shift; features in their units, NULL rows skipped): per model the bits kmeans_step_agg gives for it alone, plus the exact simplified silhouette of its centroids and the Davies-Bouldin and Calinski-Harabasz indexes of the assignment with the centroids as centres, as engage.kmeans_model_step[]; the same in any plan and split';

CREATE AGGREGATE @extschema@.kmeans_steps_agg(@extschema@.kmeans_model[], double precision[], double precision[]) (
	SFUNC = @extschema@.kmeans_steps_accum,
	STYPE = bigint[],
	FINALFUNC = @extschema@.kmeans_steps_final,
	COMBINEFUNC = @extschema@.kmeans_steps_combine,
	PARALLEL = SAFE
);

COMMENT ON AGGREGATE @extschema@.kmeans_steps_agg(@extschema@.kmeans_model[], double precision[], double precision[]) IS
'kmeans_steps_agg(models, features) with the centres of the Davies-Bouldin and Calinski-Harabasz indexes (third argument, the same on every row): a (sum of the models'' k) x d matrix of normalised centres, model after model (NULL: the centroids); the steps, silhouettes and labels are of the models'' centroids; with the means of the models'' clusters as centres (e.g. the next centroids of a step from the same centroids that left no cluster empty) the indexes are scikit-learn''s scores of the labels';

CREATE FUNCTION @extschema@.coreset_key(model @extschema@.kmeans_model, key text, features double precision[], seed bigint)
RETURNS double precision
AS 'MODULE_PATHNAME', 'engage_coreset_key'
LANGUAGE C IMMUTABLE PARALLEL SAFE;

COMMENT ON FUNCTION @extschema@.coreset_key(@extschema@.kmeans_model, text, double precision[], bigint) IS
'The sampling key of a point in elbow_fit_sampled''s sample, for a model of one cluster (centroid: the exact mean mu of the normalised points, inertia: their squared distances to it summed, n_points: n): u / q with u in (0, 1) from sample_hash(key, seed) and q = 1 / (2n) + |z - mu|^2 / (2 inertia); the m points of smallest (key, key text, features) are the sample; NULL when the features are NULL';

CREATE FUNCTION @extschema@.elbow_fit_sampled(points text, k_min integer DEFAULT 1, k_max integer DEFAULT 10,
    normalization text DEFAULT 'zscore', n_init integer DEFAULT 10, max_iter integer DEFAULT 300,
    tol double precision DEFAULT 1e-4, seed bigint DEFAULT 0, init text DEFAULT 'k-means++',
    sample integer DEFAULT NULL, in_memory boolean DEFAULT false)
RETURNS TABLE (k integer, inertia double precision, silhouette double precision,
               iterations integer, is_elbow boolean, centroids_normalized double precision[],
               sample_size integer, davies_bouldin double precision, calinski_harabasz double precision)
AS 'MODULE_PATHNAME', 'engage_elbow_fit_sampled'
LANGUAGE C VOLATILE PARALLEL UNSAFE;

COMMENT ON FUNCTION @extschema@.elbow_fit_sampled(text, integer, integer, text, integer, integer, double precision, bigint, text, integer, boolean) IS
'The elbow curve without gathering the points (elbow_inertia''s columns): the scaler by scaling_agg (normalization zscore, minmax, log or none; robust: the median and quartiles by quantile_pass_agg passes, exact, as scaling_params); mu and the k = 1 inertia by two Lloyd steps; a sample of the points of smallest coreset_key (sample NULL: every point up to 200,000 points, else 32,768; 0: every point; n: n points) on which 3 x n_init weighted restarts per k (n_init on every point) and a split of the previous k give the candidates; every candidate of every k refined by kmeans_steps_agg, one query per round, until its centroids are a fixed point, or move by at most tol / 100 (relative to the mean feature variance; the restarts use tol), or a step lowers its inertia by at most tol / 10 of it, or max_iter, a candidate more than 1e-3 above the lowest inertia of its k after a round dropped; per k the lowest exact inertia, with the exact simplified silhouette and the Davies-Bouldin and Calinski-Harabasz indexes of its labels (one more kmeans_steps_agg pass, with the centres the exact means of its clusters rounded once, so scikit-learn''s scores; NULL for k = 1). in_memory: the points read once and the same runs in memory (each k''s candidates stepped with distance bounds), the same rows bit for bit';

------------------------------------------------------------------------------
-- 7. Named analyses (issue 15): every run belongs to an analysis, its name
-- (engage.run.name); keep_runs and the one-at-a-time lock of run_analysis
-- are per name, and the views show the latest successful run of each name,
-- with the name.  The runs of 0.1.0 belong to their source's analysis (the
-- name run_analysis gives a run of that source by default), so that they
-- stay in the views and the next default runs of their source prune them.
-- The views gain the column name at their end, so CREATE OR REPLACE: the
-- grants an administrator gave on them and the views built on them stay.
------------------------------------------------------------------------------

ALTER TABLE @extschema@.run ADD COLUMN name text;
UPDATE @extschema@.run SET name = source;
ALTER TABLE @extschema@.run ALTER COLUMN name SET NOT NULL;

CREATE INDEX run_name_idx ON @extschema@.run (name, run_id) WHERE status = 'ok';

COMMENT ON TABLE @extschema@.run IS
'Log of engage.run_analysis: one row per run (successful, failed or pruned); the views show the results of the latest run with status ok of each name';
COMMENT ON COLUMN @extschema@.run.name IS 'The analysis the run belongs to (run_analysis''s name; by default the source, schema-qualified): keep_runs counts the successful runs of the name, and the views show the latest successful run of each name';

CREATE OR REPLACE VIEW @extschema@.latest_run AS
SELECT r.*
FROM @extschema@.run r
WHERE r.status = 'ok'
  AND r.run_id = (SELECT max(l.run_id) FROM @extschema@.run l WHERE l.status = 'ok' AND l.name = r.name);

COMMENT ON VIEW @extschema@.latest_run IS
'The engage.run row of the latest successful run of each analysis (one row per name): the runs that every other result view shows';

CREATE OR REPLACE VIEW @extschema@.user_engagement AS
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

CREATE OR REPLACE VIEW @extschema@.user_clusters AS
SELECT c.run_id, c.msisdn, c.cluster, s.label, c.distance,
       c.sessions, c.duration_ms, c.total_bytes, l.name
FROM @extschema@.latest_run l
CROSS JOIN LATERAL (
	SELECT x.run_id, x.msisdn, x.cluster, x.distance, x.sessions, x.duration_ms, x.total_bytes
	FROM @extschema@.result_user_cluster x
	WHERE x.run_id = l.run_id
	UNION ALL
	SELECT x.run_id, x.msisdn, x.cluster, x.distance, x.sessions, x.duration_ms, x.total_bytes
	FROM @extschema@.distributed_user_cluster(l.run_id) x
	OFFSET 0) c
JOIN @extschema@.result_cluster_stats s ON s.run_id = l.run_id AND s.cluster = c.cluster;

COMMENT ON VIEW @extschema@.user_clusters IS
'The K-means cluster of each subscriber in the latest successful run of each analysis (filter by name), with its label, distance to the centroid (z-scored space) and the clustered metrics';
COMMENT ON COLUMN @extschema@.user_clusters.cluster IS 'Cluster 1..k, numbered by ascending centroid norm: 1 is the least engaged';
COMMENT ON COLUMN @extschema@.user_clusters.distance IS 'Euclidean distance to the cluster''s centroid in the z-scored space';
COMMENT ON COLUMN @extschema@.user_clusters.name IS 'The analysis (engage.run.name) whose latest successful run the row belongs to';

CREATE OR REPLACE VIEW @extschema@.cluster_stats AS
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

CREATE OR REPLACE VIEW @extschema@.top_users AS
SELECT t.run_id, t.metric, t.rank, t.msisdn, t.value, l.name
FROM @extschema@.latest_run l
JOIN @extschema@.result_top_users t ON t.run_id = l.run_id;

COMMENT ON VIEW @extschema@.top_users IS
'Top 10 subscribers of the latest successful run of each analysis (filter by name) by each metric (sessions, duration_ms, total_bytes): ranked by value descending, ties broken by MSISDN ascending in the source column''s own order; users with a NULL value are left out';
COMMENT ON COLUMN @extschema@.top_users.metric IS 'sessions, duration_ms or total_bytes';
COMMENT ON COLUMN @extschema@.top_users.rank IS '1..10, distinct';
COMMENT ON COLUMN @extschema@.top_users.name IS 'The analysis (engage.run.name) whose latest successful run the row belongs to';

CREATE OR REPLACE VIEW @extschema@.app_usage AS
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

CREATE OR REPLACE VIEW @extschema@.app_totals AS
SELECT a.run_id, a.application, a.rank, a.users, a.dl_bytes, a.ul_bytes, a.total_bytes, l.name
FROM @extschema@.latest_run l
JOIN @extschema@.result_app_totals a ON a.run_id = l.run_id;

COMMENT ON VIEW @extschema@.app_totals IS
'Traffic of each application over all subscribers (rows without MSISDN left out) in the latest successful run of each analysis (filter by name), ranked by total traffic';
COMMENT ON COLUMN @extschema@.app_totals.rank IS 'Rank by total_bytes descending, ties by application name';
COMMENT ON COLUMN @extschema@.app_totals.users IS 'Subscribers with some traffic in the application';
COMMENT ON COLUMN @extschema@.app_totals.name IS 'The analysis (engage.run.name) whose latest successful run the row belongs to';

CREATE OR REPLACE VIEW @extschema@.top_users_per_app AS
SELECT t.run_id, t.application, t.rank, t.msisdn, t.total_bytes, l.name
FROM @extschema@.latest_run l
JOIN @extschema@.result_top_users_per_app t ON t.run_id = l.run_id;

COMMENT ON VIEW @extschema@.top_users_per_app IS
'Top 10 subscribers of each application by its traffic (DL + UL) in the latest successful run of each analysis (filter by name), ties broken by MSISDN ascending in the source column''s own order';
COMMENT ON COLUMN @extschema@.top_users_per_app.name IS 'The analysis (engage.run.name) whose latest successful run the row belongs to';

CREATE OR REPLACE VIEW @extschema@.top_apps AS
SELECT a.run_id, a.rank, a.application, a.users, a.total_bytes, l.name
FROM @extschema@.latest_run l
JOIN @extschema@.result_app_totals a ON a.run_id = l.run_id
WHERE a.rank <= 3;

COMMENT ON VIEW @extschema@.top_apps IS
'The 3 most used applications by total traffic in the latest successful run of each analysis (filter by name)';
COMMENT ON COLUMN @extschema@.top_apps.name IS 'The analysis (engage.run.name) whose latest successful run the row belongs to';

CREATE OR REPLACE VIEW @extschema@.elbow AS
SELECT e.run_id, e.k, e.inertia, e.silhouette, e.is_elbow, l.name
FROM @extschema@.latest_run l
JOIN @extschema@.result_elbow e ON e.run_id = l.run_id;

COMMENT ON VIEW @extschema@.elbow IS
'The elbow curve of the latest successful run of each analysis (filter by name): K-means inertia and simplified silhouette for k = 1..k_max; is_elbow marks the k that Kneedle picks (none when the curve has no knee)';
COMMENT ON COLUMN @extschema@.elbow.name IS 'The analysis (engage.run.name) whose latest successful run the row belongs to';

------------------------------------------------------------------------------
-- 6. Clustering options (issue 14): the normalizations log and robust (in
-- every function that takes a normalization; the comments that list them),
-- the Davies-Bouldin and Calinski-Harabasz indexes of kmeans_centroids (new
-- result columns: dropped and made again) and of elbow_inertia (above), the
-- window function kmeans
------------------------------------------------------------------------------

COMMENT ON FUNCTION @extschema@.scaling_params(text, text) IS
'Scaling parameters of each feature of the points query: mean, population std, min, max (of the features as they are), and the scale and shift applied (zscore and robust: (x - shift) / scale; log: (ln(1 + x) - shift) / scale; minmax: x * scale + shift; none: x), as scikit-learn''s StandardScaler, RobustScaler (median, interquartile range; 1 for a zero range), FunctionTransformer(np.log1p) then StandardScaler, and MinMaxScaler';

COMMENT ON FUNCTION @extschema@.normalize_points(text, text) IS
'The points of the points query, normalised (zscore, minmax, log, robust or none) as the clustering functions see them: key and features';

COMMENT ON TYPE @extschema@.kmeans_model IS
'A fitted K-means clustering: features, normalisation (its name, scale and shift: log applies ln(1 + x) first), k x d centroids in the features'' units and normalised, sizes, inertia, iterations, convergence, number of points and the inertia of each cluster; kmeans_predict and kmeans_assign assign points with it';

DROP FUNCTION @extschema@.kmeans_centroids(text, integer, text, integer, integer, double precision, bigint, text, double precision[]);

CREATE FUNCTION @extschema@.kmeans_centroids(points text, k integer DEFAULT 3,
    normalization text DEFAULT 'zscore', n_init integer DEFAULT 10, max_iter integer DEFAULT 300,
    tol double precision DEFAULT 1e-4, seed bigint DEFAULT 0, init text DEFAULT 'k-means++',
    initial_centroids double precision[] DEFAULT NULL)
RETURNS TABLE (cluster integer, size bigint, centroid double precision[],
               centroid_normalized double precision[], inertia double precision,
               total_inertia double precision, iterations integer, converged boolean,
               features text[], davies_bouldin double precision,
               calinski_harabasz double precision)
AS 'MODULE_PATHNAME', 'engage_kmeans_centroids'
LANGUAGE C VOLATILE PARALLEL UNSAFE;

COMMENT ON FUNCTION @extschema@.kmeans_centroids(text, integer, text, integer, integer, double precision, bigint, text, double precision[]) IS
'The clusters of kmeans_cluster with the same arguments: size, centroid in the features'' units (log: exp(c) - 1 of the normalised centroid c, scaled back) and normalised, the cluster''s inertia, and the total inertia, iterations, convergence, and the Davies-Bouldin (lower is better) and Calinski-Harabasz (higher is better) indexes of the clustering in the normalised space, as scikit-learn''s davies_bouldin_score and calinski_harabasz_score on its labels (NULL for k = 1 and for as many clusters as points)';

CREATE FUNCTION @extschema@.kmeans(features double precision[], k integer DEFAULT 3,
    normalization text DEFAULT 'zscore', n_init integer DEFAULT 10, seed bigint DEFAULT 0)
RETURNS integer
AS 'MODULE_PATHNAME', 'engage_kmeans'
LANGUAGE C WINDOW IMMUTABLE PARALLEL SAFE;

COMMENT ON FUNCTION @extschema@.kmeans(double precision[], integer, text, integer, bigint) IS
'Window function: kmeans(features, ...) OVER (PARTITION BY ...) gives each row the cluster (1..k) of its features in the K-means clustering of its partition, the clustering of kmeans_cluster (max_iter 300, tol 1e-4, k-means++) on the partition''s points, ordered by their features alone (as kmeans_cluster orders points that share one key), so the same whatever the order of the rows; NULL for NULL features or features holding a NULL, which take no part; k, normalization, n_init and seed are read on the partition''s first row; every partition within engage.max_memory';

------------------------------------------------------------------------------
-- 8. k chosen for you and the normalization of run_analysis (issue 14):
-- run_analysis gains normalization and k_selection (above), the internal
-- store_user_clusters, store_cluster_model and store_elbow_curve take the
-- normalization (above), engage.run records the normalization, the method
-- and the k it chose, and the elbow curve of a run keeps the Davies-Bouldin
-- and Calinski-Harabasz indexes.  The runs of 0.1.0 were z-scored.  New
-- columns at the end of the views, so CREATE OR REPLACE.
------------------------------------------------------------------------------

ALTER TABLE @extschema@.run ADD COLUMN normalization text;
ALTER TABLE @extschema@.run ADD COLUMN k_selection text;
ALTER TABLE @extschema@.run ADD COLUMN k_chosen integer;
UPDATE @extschema@.run SET normalization = 'zscore';

COMMENT ON COLUMN @extschema@.run.parameters IS 'The arguments of the run: k, seed, k_max, keep_runs, the column names, the applications, elbow_sample, without_msisdn and warm_start';
COMMENT ON COLUMN @extschema@.run.k IS 'Number of K-means clusters: run_analysis''s k, or k_chosen when k_selection chose one (the k given is parameters->''k'')';
COMMENT ON COLUMN @extschema@.run.inertia IS 'K-means inertia (sum of squared distances to the centroids, in the normalised space)';
COMMENT ON COLUMN @extschema@.run.normalization IS 'The normalization of the K-means and the elbow curve (run_analysis''s normalization: zscore, minmax, log, robust or none; zscore for the runs of 0.1.0)';
COMMENT ON COLUMN @extschema@.run.k_selection IS 'How k was chosen (run_analysis''s k_selection): NULL, k as given; elbow (Kneedle), silhouette (highest) or davies_bouldin (lowest) on the elbow curve';
COMMENT ON COLUMN @extschema@.run.k_chosen IS 'The k that k_selection chose on the elbow curve; NULL when k_selection is NULL or chose none (the elbow curve has no knee, or no k of 2 or more), and the clustering used run_analysis''s k';

ALTER TABLE @extschema@.result_elbow ADD COLUMN davies_bouldin double precision;
ALTER TABLE @extschema@.result_elbow ADD COLUMN calinski_harabasz double precision;

CREATE OR REPLACE VIEW @extschema@.latest_run AS
SELECT r.*
FROM @extschema@.run r
WHERE r.status = 'ok'
  AND r.run_id = (SELECT max(l.run_id) FROM @extschema@.run l WHERE l.status = 'ok' AND l.name = r.name);

CREATE OR REPLACE VIEW @extschema@.elbow AS
SELECT e.run_id, e.k, e.inertia, e.silhouette, e.is_elbow, l.name, e.davies_bouldin, e.calinski_harabasz
FROM @extschema@.latest_run l
JOIN @extschema@.result_elbow e ON e.run_id = l.run_id;

COMMENT ON VIEW @extschema@.elbow IS
'The elbow curve of the latest successful run of each analysis (filter by name): K-means inertia, simplified silhouette and the Davies-Bouldin and Calinski-Harabasz indexes (elbow_inertia''s; NULL for k = 1) for k = 1..k_max; is_elbow marks the k that Kneedle picks (none when the curve has no knee)';

------------------------------------------------------------------------------
-- 9. Segments over time (issue 13): the run's model and the run its
-- clusters are numbered after (engage.run.cluster_model, warm_start_run;
-- run_analysis's warm_start, above), the engagement score of
-- engage.user_clusters, the views segment_runs, segment_migration and
-- segment_movers
------------------------------------------------------------------------------

ALTER TABLE @extschema@.run ADD COLUMN cluster_model @extschema@.kmeans_model;
ALTER TABLE @extschema@.run ADD COLUMN warm_start_run bigint;
COMMENT ON COLUMN @extschema@.run.cluster_model IS 'The K-means model of a successful run, its clusters numbered as stored (engage.user_clusters reads its scaler and centroids for the engagement score, the next run of the name its centroids for warm_start); NULL for a failed run and for the runs of engage before issue 13';
COMMENT ON COLUMN @extschema@.run.warm_start_run IS 'The run whose cluster numbers this run''s clusters took (run_analysis''s warm_start: the previous successful run of the name, of the same k, features and normalization, its clusters matched by least total centroid distance; its centroids were also one more starting point of the fit beside the restarts, kept when of lower inertia, which is not recorded); NULL when the clusters are numbered by ascending centroid norm';

CREATE OR REPLACE VIEW @extschema@.latest_run AS
SELECT r.*
FROM @extschema@.run r
WHERE r.status = 'ok'
  AND r.run_id = (SELECT max(l.run_id) FROM @extschema@.run l WHERE l.status = 'ok' AND l.name = r.name);

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

CREATE OR REPLACE VIEW @extschema@.user_clusters AS
SELECT c.run_id, c.msisdn, c.cluster, s.label, c.distance,
       c.sessions, c.duration_ms, c.total_bytes, l.name,
       CASE WHEN (z.model).scale IS NOT NULL THEN
	       (@extschema@.kmeans_nearest(z.model, ARRAY[c.sessions::double precision,
	                                                   COALESCE(c.duration_ms, 0)::double precision,
	                                                   COALESCE(c.total_bytes, 0)::double precision])).distance
       END AS engagement_score
FROM @extschema@.latest_run l
CROSS JOIN LATERAL (
	SELECT x.run_id, x.msisdn, x.cluster, x.distance, x.sessions, x.duration_ms, x.total_bytes
	FROM @extschema@.result_user_cluster x
	WHERE x.run_id = l.run_id
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
	      SELECT x.msisdn, x.cluster FROM @extschema@.distributed_user_cluster(g.from_run) x
	      OFFSET 0) f
	FULL JOIN
	     (SELECT x.msisdn, x.cluster FROM @extschema@.result_user_cluster x WHERE x.run_id = g.to_run
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
	SELECT x.msisdn, x.cluster, x.sessions, x.duration_ms, x.total_bytes
	FROM @extschema@.distributed_user_cluster(g.from_run) x
	OFFSET 0) f
JOIN LATERAL (
	SELECT x.msisdn, x.cluster, x.sessions, x.duration_ms, x.total_bytes
	FROM @extschema@.result_user_cluster x WHERE x.run_id = g.to_run
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

------------------------------------------------------------------------------
-- 10. Segments over time (issue 13): time windows (run_analysis's since,
-- until and start_column; engage.run records them and the rows left out for
-- their start), the start of a session in TellCo's text form, and the hours
-- of activity of the clusters.  latest_run is SELECT r.*: replaced to show
-- the new columns.
------------------------------------------------------------------------------
ALTER TABLE @extschema@.run ADD COLUMN rows_unparsed_start bigint;
ALTER TABLE @extschema@.run ADD COLUMN since timestamptz;
ALTER TABLE @extschema@.run ADD COLUMN until timestamptz;
ALTER TABLE @extschema@.run ADD COLUMN start_column text;
COMMENT ON COLUMN @extschema@.run.rows_unparsed_start IS 'Rows of the source left out of the run''s time window because their start gives no time (NULL, or a text that does not parse as M/D/YYYY H:MM); counted in rows_read, as the rows without subscriber are; NULL for a run without window';
COMMENT ON COLUMN @extschema@.run.since IS 'The start of the run''s time window (run_analysis''s since): only the sessions that start at or after it were analysed; NULL: no lower bound';
COMMENT ON COLUMN @extschema@.run.until IS 'The end of the run''s time window (run_analysis''s until): only the sessions that start before it were analysed; NULL: no upper bound';
COMMENT ON COLUMN @extschema@.run.start_column IS 'The column of the sessions'' start (run_analysis''s start_column: timestamp, timestamptz or text M/D/YYYY H:MM), of the time window and of the hours of activity (engage.cluster_activity); NULL: none';

CREATE OR REPLACE VIEW @extschema@.latest_run AS
SELECT r.*
FROM @extschema@.run r
WHERE r.status = 'ok'
  AND r.run_id = (SELECT max(l.run_id) FROM @extschema@.run l WHERE l.status = 'ok' AND l.name = r.name);

CREATE FUNCTION @extschema@.parse_start_time(start text)
RETURNS timestamp
AS 'MODULE_PATHNAME', 'engage_parse_start_time'
LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;

COMMENT ON FUNCTION @extschema@.parse_start_time(text) IS
'The start of a session written as TellCo''s export writes it, M/D/YYYY H:MM (4/23/2019 14:35; seconds optional, M/D/YYYY H:MM:SS), as a timestamp; NULL for a text of any other form or a date or time that does not exist, never an error (run_analysis counts such rows in engage.run.rows_unparsed_start and leaves them out of its time window)';

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

SELECT pg_catalog.pg_extension_config_dump('@extschema@.result_cluster_activity', '');

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

------------------------------------------------------------------------------
-- 11. The users written once (issue 11): a run on one node with k up to
-- 1000 stores no per-user cluster rows; each user's cluster and distance
-- are user_cluster (kmeans_nearest) of the run's model on the user's row of
-- result_user_engagement, computed where they are read.  The runs of 0.1.0
-- keep theirs in result_user_cluster (clusters_on_read false).  latest_run
-- is SELECT r.*: replaced to show the new column; the views that read the
-- users' clusters replaced in place (same columns).
------------------------------------------------------------------------------
ALTER TABLE @extschema@.run ADD COLUMN clusters_on_read boolean NOT NULL DEFAULT false;
COMMENT ON COLUMN @extschema@.run.clusters_on_read IS 'true: the run stored no per-user cluster rows; each user''s cluster and distance are kmeans_nearest(cluster_model, ARRAY[sessions, duration_ms, total_bytes], NULL as 0) of the user''s row of result_user_engagement, computed where they are read (the views, report_html); false: in result_user_cluster (runs of 0.1.0, runs with k above 1000) or in the run''s distributed table (Citus)';

COMMENT ON TABLE @extschema@.result_user_cluster IS
'K-means cluster of each user of the runs that stored them (engage.run.clusters_on_read false on one node: runs of 0.1.0, runs with k above 1000), with the clustered metrics (so that reading a run''s clusters needs no join by MSISDN); read it through the view engage.user_clusters';

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

CREATE OR REPLACE VIEW @extschema@.latest_run AS
SELECT r.*
FROM @extschema@.run r
WHERE r.status = 'ok'
  AND r.run_id = (SELECT max(l.run_id) FROM @extschema@.run l WHERE l.status = 'ok' AND l.name = r.name);

CREATE OR REPLACE VIEW @extschema@.user_clusters AS
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

CREATE OR REPLACE VIEW @extschema@.segment_migration AS
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

CREATE OR REPLACE VIEW @extschema@.segment_movers AS
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

------------------------------------------------------------------------------
-- 12. The hours of activity from the per-user scan (issue 11): the per-user
-- step stores each user's sessions by hour of day (hours_agg) in the new
-- column hours of result_user_engagement, and the cluster statistics sum
-- them by cluster (hours_sum_agg): the source is no longer joined with the
-- users.  The runs before keep their result_cluster_activity; their hours
-- stay NULL.
------------------------------------------------------------------------------
ALTER TABLE @extschema@.result_user_engagement ADD COLUMN hours bytea;
COMMENT ON COLUMN @extschema@.result_user_engagement.hours IS 'The user''s sessions by hour of day of their start (of the run''s time window, if any; sessions whose start gives no time not counted), a histogram of hours_agg (hours_counts reads it); the run''s hours of activity are their sums by cluster (hours_sum_agg); NULL for a run without start column and for runs before 0.2.0''s hours from the per-user scan';
-- hours_agg, hours_sum_agg: the hours of activity from the per-user scan
-- (issue 11).  hours_agg is a user's sessions by hour of day as a compact
-- histogram (bytea: for each hour with sessions, the hour's byte and its
-- count as a varint; 2 bytes for one session), stored with the user's row
-- by run_analysis's per-user step; hours_sum_agg sums users' histograms
-- into 24 exact counts (run_analysis's cluster statistics, by cluster).
-- Their states are bigint[] (see src/hours_agg.c), which Citus can split.

CREATE FUNCTION @extschema@.hours_accum(bigint[], integer)
RETURNS bigint[]
AS 'MODULE_PATHNAME', 'engage_hours_accum'
LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;

CREATE FUNCTION @extschema@.hours_combine(bigint[], bigint[])
RETURNS bigint[]
AS 'MODULE_PATHNAME', 'engage_hours_combine'
LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;

CREATE FUNCTION @extschema@.hours_final(bigint[])
RETURNS bytea
AS 'MODULE_PATHNAME', 'engage_hours_final'
LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;

COMMENT ON FUNCTION @extschema@.hours_accum(bigint[], integer) IS
'Transition function of hours_agg: counts one session in its hour (an error outside 0..23)';
COMMENT ON FUNCTION @extschema@.hours_combine(bigint[], bigint[]) IS
'Combine function of hours_agg: merges two partial states (parallel workers, Citus)';
COMMENT ON FUNCTION @extschema@.hours_final(bigint[]) IS
'Final function of hours_agg: the state as a compact histogram (bytea)';

CREATE AGGREGATE @extschema@.hours_agg(integer) (
	SFUNC = @extschema@.hours_accum,
	STYPE = bigint[],
	FINALFUNC = @extschema@.hours_final,
	COMBINEFUNC = @extschema@.hours_combine,
	INITCOND = '{0,0}',
	PARALLEL = SAFE
);

COMMENT ON AGGREGATE @extschema@.hours_agg(integer) IS
'Sessions by hour of day (the argument, 0 to 23; NULL: not counted) as a compact histogram: for each hour with sessions, in increasing order, a byte of the hour and the count as an unsigned LEB128 varint (2 bytes for one session; empty for none); hours_counts reads it, hours_sum_agg sums histograms';

CREATE FUNCTION @extschema@.hours_counts(bytea)
RETURNS bigint[]
AS 'MODULE_PATHNAME', 'engage_hours_counts'
LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;

COMMENT ON FUNCTION @extschema@.hours_counts(bytea) IS
'The 24 counts (hours 0 to 23) of a histogram of hours_agg; an error (22P03) for a bytea that is not one';

CREATE FUNCTION @extschema@.hours_sum_accum(bigint[], bytea)
RETURNS bigint[]
AS 'MODULE_PATHNAME', 'engage_hours_sum_accum'
LANGUAGE C IMMUTABLE PARALLEL SAFE;

CREATE FUNCTION @extschema@.hours_sum_combine(bigint[], bigint[])
RETURNS bigint[]
AS 'MODULE_PATHNAME', 'engage_hours_sum_combine'
LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;

CREATE FUNCTION @extschema@.hours_sum_final(bigint[])
RETURNS bigint[]
AS 'MODULE_PATHNAME', 'engage_hours_sum_final'
LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;

COMMENT ON FUNCTION @extschema@.hours_sum_accum(bigint[], bytea) IS
'Transition function of hours_sum_agg: adds a histogram of hours_agg (NULL: skipped)';
COMMENT ON FUNCTION @extschema@.hours_sum_combine(bigint[], bigint[]) IS
'Combine function of hours_sum_agg: adds two partial states (parallel workers, Citus)';
COMMENT ON FUNCTION @extschema@.hours_sum_final(bigint[]) IS
'Final function of hours_sum_agg: the 24 counts';

CREATE AGGREGATE @extschema@.hours_sum_agg(bytea) (
	SFUNC = @extschema@.hours_sum_accum,
	STYPE = bigint[],
	FINALFUNC = @extschema@.hours_sum_final,
	COMBINEFUNC = @extschema@.hours_sum_combine,
	PARALLEL = SAFE
);

COMMENT ON AGGREGATE @extschema@.hours_sum_agg(bytea) IS
'The sum of histograms of hours_agg: 24 exact counts (bigint[], hours 0 to 23; an error past 2^63 - 1); NULL histograms skipped, NULL when there is none';
