------------------------------------------------------------------------------
-- sql/src/run_analysis.sql: engage.run_analysis, the whole analysis of an
-- xDR table in one call
--
-- Per-user engagement, top users and application usage in one scan of the
-- source; K-means and cluster statistics; the elbow curve; the run log and
-- the pruning of old runs.  Writes the tables of sql/src/analysis.sql.
--
-- A run belongs to an analysis, named by the argument name (by default the
-- source, schema-qualified) and logged in engage.run.name: the views show
-- the latest successful run of each name, keep_runs counts the runs of the
-- name, and the one-at-a-time lock is the name's.
--
-- On a Citus distributed source the per-user steps run on the workers
-- instead; see "Citus" below and the README.
------------------------------------------------------------------------------

-- Citus.  run_analysis has no dependency on Citus: it reads
-- pg_dist_partition only when that catalog exists, and calls Citus's
-- functions through EXECUTE.  A source that is a Citus table but not
-- distributed (a reference or Citus-local table, a single-shard table of a
-- distributed schema) is routed to one node and analysed as on one node.
-- For a distributed source (hash, range or append):
-- - The per-user rows go into two distributed tables made for the run,
--   engage.user_engagement_<run_id> and engage.user_cluster_<run_id>
--   (registered in engage.run_distributed; the views read them through
--   engage.distributed_user_engagement and distributed_user_cluster), their
--   msisdn of the source column's type and collation, distributed by it.
-- - Source hash-distributed by the MSISDN column (the layout to use): the
--   tables are colocated with it and written by a pushed-down INSERT ...
--   SELECT that each shard runs alone (the aggregates in a subquery, so
--   that each state is made once and read per column).  Such a table
--   cannot hold rows without MSISDN (22004): they are kept in a table of
--   their own, passed as without_msisdn, whose rows are counted as read and
--   without subscriber (and must all be without MSISDN).
-- - Source distributed by another column: a user's rows lie on every
--   worker, so they are first repartitioned by MSISDN into a staging table
--   (engage.xdr_staging_<run_id>: the MSISDN, duration, DL, UL and
--   application columns of the rows with an MSISDN; Citus's repartitioned
--   INSERT ... SELECT moves them worker to worker, not through the
--   coordinator), dropped after the hours of activity (step 3b); the rows without MSISDN
--   are counted in the source.  The cost: a second scan of the source, and
--   the used columns of the rows with an MSISDN sent over the network and
--   written once more.  The staging table holds the start column too, for
--   the hours of activity, and only the rows of the time window, if any; it
--   is dropped after the hours of activity.
-- - The counts, the top 10s and the application totals
--   (store_user_engagement_citus): ORDER BY ... LIMIT 10 that every shard
--   runs and the coordinator merges, and aggregates that Citus splits.
--   K-means and the elbow (every normalization): the split K-means,
--   kmeans_fit_sampled and elbow_fit_sampled on aggregates that the
--   workers compute (the scaler, robust's quantile passes, each Lloyd
--   step), the restarts on a sample of at most 32,768 users on the
--   coordinator: the points never gather there, and the results are one
--   node's bit for bit (k above 1000, past the split K-means: the points
--   are read once on the coordinator for the fit, store_cluster_model,
--   kmeans_cluster_rows's fit as on one node); each user's
--   cluster and distance written on the workers (kmeans_nearest in a
--   pushed-down INSERT ... SELECT); the cluster statistics by split
--   aggregates.  The small result tables (top users, application totals,
--   cluster statistics, elbow, run log) stay on the coordinator.
-- - Pruning a run drops its two tables.  They are owned by the role that
--   ran the run (which needs CREATE on schema engage) and get the SELECT
--   grants of result_user_engagement and result_user_cluster and of the
--   views that read them (the views read them with their reader's rights).  They are not
--   members of the extension: DROP EXTENSION engage leaves them.
-- - On a Citus worker, run_analysis of a Citus table is an error: its
--   results would go to the worker's own engage tables, which no view of
--   the coordinator reads.

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

COMMENT ON FUNCTION @extschema@.run_analysis(regclass, integer, bigint, integer, text, text, text, text, jsonb, integer, integer, regclass, text, text, text, boolean, timestamptz, timestamptz, text) IS
'The whole engagement analysis of an xDR table in one call: per-user engagement (rows without MSISDN left out and counted), top 10 users per metric, K-means (k, seed) on the sessions, duration and traffic normalised by normalization (zscore, minmax, log, robust or none; the elbow curve too) with cluster statistics and labels, k chosen on the elbow curve when k_selection is elbow (Kneedle), silhouette (highest) or davies_bouldin (lowest), k when it chooses none, application usage, totals and top users, the elbow curve (k = 1..k_max, 0 skips it; its restarts on a sample of elbow_sample users, 0: on every user, NULL: as elbow_inertia chooses, every user up to 200,000); stores the results under a new run_id (returned) as a run of the analysis name (NULL: the source, schema-qualified) and keeps the last keep_runs successful runs of that name; the views show the latest successful run of each name, and runs of different names may run at the same time; on a failure logs it in engage.run, raises a WARNING and returns NULL, leaving the previous results in place. without_msisdn: a table of the rows without MSISDN kept apart from the source (a Citus table distributed by MSISDN cannot hold them), counted as read and without subscriber. On a Citus distributed source the per-user work runs on the workers, into distributed tables of the run (engage.run_distributed); on a Citus worker it is an error. warm_start: when the previous successful run of the name has as many clusters (at most 100) of the same normalization and columns, its centroids are one more starting point of the fit beside the restarts (Lloyd steps on every user from them to their fixed point, kept when its inertia is lower than the restarts'', theirs on a tie; engage.run does not record which was kept), and with the same features too the clusters are numbered after its clusters (the matching of least total distance between the normalised centroids, match_clusters), so that a segment keeps its number and label (engage.run.warm_start_run); otherwise, and with warm_start false, by ascending centroid norm. since, until: a time window, only the sessions whose start (start_column: timestamptz, timestamp in the session''s TimeZone, or text M/D/YYYY H:MM as TellCo writes it) is at or after since and before until (either NULL: no bound); rows whose start gives no time (NULL, or a text that does not parse) are left out and counted (engage.run.rows_unparsed_start); engage.run records the window. The hours of activity of the clusters (engage.cluster_activity) come from start_column when the source has it (timestamptz, timestamp or text; start_column NULL: none)';
