------------------------------------------------------------------------------
-- sql/src/run_analysis.sql: engage.run_analysis, the whole analysis of an
-- xDR table in one call
--
-- Per-user engagement, top users and application usage in one scan of the
-- source; K-means and cluster statistics; the elbow curve; the run log and
-- the pruning of old runs.  Writes the tables of sql/src/analysis.sql.
------------------------------------------------------------------------------

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
	elbow_sample integer DEFAULT NULL)
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
	src text;
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
	e_message text;
	e_detail text;
	e_hint text;
	e_state text;
BEGIN
	-- Arguments that are wrong on their face are errors (no run is logged)
	IF source IS NULL OR k IS NULL OR seed IS NULL OR k_max IS NULL OR msisdn_column IS NULL
	   OR duration_column IS NULL OR dl_column IS NULL OR ul_column IS NULL
	   OR applications IS NULL OR keep_runs IS NULL THEN
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

	-- One run at a time (a second run waits for the first to commit or
	-- roll back); readers take no lock.
	PERFORM pg_advisory_xact_lock(1701734241, 1);	-- 'enga', 1

	src := run_analysis.source::text;	-- schema-qualified: search_path is pg_catalog
	INSERT INTO @extschema@.run (started, source, parameters, k, status)
	VALUES (clock_timestamp(), src,
	        jsonb_build_object('seed', run_analysis.seed, 'k_max', run_analysis.k_max,
	                           'keep_runs', run_analysis.keep_runs,
	                           'msisdn_column', msisdn_column, 'duration_column', duration_column,
	                           'dl_column', dl_column, 'ul_column', ul_column,
	                           'applications', applications, 'elbow_sample', run_analysis.elbow_sample),
	        run_analysis.k, 'running')
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
		user_query := format($q$
			SELECT g.m::text, g.m, (g.e).sessions, (g.e).duration_ms, (g.e).dl_bytes, (g.e).ul_bytes,
			       (g.e).total_bytes, (g.e).rejected_values, %5$s
			FROM (SELECT s.%1$I AS m, @extschema@.engagement_agg(s.%2$I, s.%3$I, s.%4$I) AS e%6$s
			      FROM %7$s AS s
			      GROUP BY 1) g$q$,
			msisdn_column, duration_column, dl_column, ul_column,
			CASE WHEN n_apps = 0 THEN 'NULL::double precision[], NULL::double precision[], 0::bigint'
			     ELSE '(g.t).dl_bytes, (g.t).ul_bytes, (g.t).rejected_values' END,
			CASE WHEN n_apps = 0 THEN '' ELSE format(', @extschema@.traffic_agg(%s) AS t', app_args) END,
			src);

		EXECUTE format($q$
			WITH u AS MATERIALIZED (
				SELECT * FROM @extschema@.store_user_engagement($1, %1$L, %2$s)
			), ins_top AS (
				INSERT INTO @extschema@.result_top_users
				SELECT $1, t.metric, t.rank, t.msisdn, t.value
				FROM u CROSS JOIN LATERAL unnest(u.top_metrics, u.top_ranks, u.top_msisdns, u.top_values)
				     AS t(metric, rank, msisdn, value)
			)%3$s
			SELECT u.rows_read, u.rows_without_subscriber, u.users, u.rejected_values FROM u
			$q$,
			user_query, n_apps,
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
			)$q$, app_values) END)
		INTO n_rows, n_nosub, n_users, n_rejected
		USING run;
		t := @extschema@.analysis_progress(run, format('per-user engagement, top users and application usage: %s rows, %s without subscriber, %s users, %s values rejected', n_rows, n_nosub, n_users, n_rejected), t);
		IF n_users < run_analysis.k THEN
			RAISE EXCEPTION 'relation "%" has % subscribers, fewer than k = %',
				(SELECT format('%s.%s', n.nspname, c.relname)
				 FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
				 WHERE c.oid = run_analysis.source),
				n_users, run_analysis.k
				USING ERRCODE = 'invalid_parameter_value',
				      HINT = 'Ask for at most as many clusters as there are subscribers (rows without MSISDN do not count).';
		END IF;

		-- 2. K-means on the z-scored (sessions, duration, traffic) of the
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
		points := format('SELECT msisdn, sessions, COALESCE(duration_ms, 0), COALESCE(total_bytes, 0) '
		                 'FROM @extschema@.result_user_engagement WHERE run_id = %s', run);
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
		model := @extschema@.store_user_clusters(run,
		             format('SELECT msisdn, sessions, COALESCE(duration_ms, 0), COALESCE(total_bytes, 0), duration_ms, total_bytes '
		                    'FROM @extschema@.result_user_engagement WHERE run_id = %s', run),
		             run_analysis.k, run_analysis.seed);
		WITH stats AS (
			SELECT u.cluster, count(*) AS users,
			       min(u.sessions) AS s_min, max(u.sessions) AS s_max, avg(u.sessions) AS s_avg, sum(u.sessions) AS s_sum,
			       min(u.duration_ms) AS d_min, max(u.duration_ms) AS d_max, avg(u.duration_ms) AS d_avg, sum(u.duration_ms) AS d_sum,
			       min(u.total_bytes) AS b_min, max(u.total_bytes) AS b_max, avg(u.total_bytes) AS b_avg, sum(u.total_bytes) AS b_sum,
			       count(u.duration_ms) AS d_count, count(u.total_bytes) AS b_count
			FROM @extschema@.result_user_cluster u
			WHERE u.run_id = run
			GROUP BY u.cluster
		), overall AS (
			SELECT sum(s.users)::bigint AS users, sum(s.s_sum) / sum(s.users) AS sessions,
			       sum(s.d_sum) / NULLIF(sum(s.d_count), 0) AS duration_ms,
			       sum(s.b_sum) / NULLIF(sum(s.b_count), 0) AS total_bytes
			FROM stats s
		)
		INSERT INTO @extschema@.result_cluster_stats
		SELECT run, s.cluster, @extschema@.cluster_label(s.cluster, run_analysis.k),
		       format('%s%% of users; per user on average %s sessions (%s the overall %s), %s min (%s the overall %s), %s MB (%s the overall %s)',
		              round(100.0 * s.users / o.users, 1),
		              round(s.s_avg, 2), @extschema@.compare_to_average(s.s_avg, o.sessions), round(o.sessions, 2),
		              round(s.d_avg / 60000, 1), @extschema@.compare_to_average(s.d_avg, o.duration_ms), round(o.duration_ms / 60000, 1),
		              round(s.b_avg / 1000000, 1), @extschema@.compare_to_average(s.b_avg, o.total_bytes), round(o.total_bytes / 1000000, 1)),
		       s.users, s.users::numeric / o.users,
		       s.s_min, s.s_max, s.s_avg, s.s_sum, s.d_min, s.d_max, s.d_avg, s.d_sum,
		       s.b_min, s.b_max, s.b_avg, s.b_sum,
		       ARRAY[model.centroids[s.cluster][1], model.centroids[s.cluster][2], model.centroids[s.cluster][3]],
		       ARRAY[model.centroids_normalized[s.cluster][1], model.centroids_normalized[s.cluster][2],
		             model.centroids_normalized[s.cluster][3]],
		       model.cluster_inertia[s.cluster]
		FROM stats s CROSS JOIN overall o;
		t := @extschema@.analysis_progress(run, format('K-means, k = %s, and cluster statistics', run_analysis.k), t);

		-- 3. The elbow curve, k = 1..k_max (at most the number of users), its
		-- restarts on every user or on a sample of elbow_sample users (NULL:
		-- elbow_inertia chooses), the inertias always of all users:
		-- store_elbow_curve (src/kmeans_sql.c) is elbow_inertia on the points
		-- query, from the points store_user_clusters kept (no second read)
		IF run_analysis.k_max > 0 THEN
			WITH e AS MATERIALIZED (
				SELECT e.k, e.inertia, e.silhouette, e.is_elbow, e.sample_size
				FROM @extschema@.store_elbow_curve(run, points, LEAST(run_analysis.k_max, n_users)::integer,
				                                   run_analysis.seed, run_analysis.elbow_sample) AS e
			), ins AS (
				INSERT INTO @extschema@.result_elbow
				SELECT run, e.k, e.inertia, e.silhouette, e.is_elbow FROM e
			)
			SELECT max(e.k) FILTER (WHERE e.is_elbow), max(e.sample_size) INTO chosen_k, used_sample FROM e;
			t := @extschema@.analysis_progress(run, format('elbow curve, k = 1..%s%s: elbow at k = %s',
			                                               LEAST(run_analysis.k_max, n_users),
			                                               CASE WHEN used_sample IS NOT NULL
			                                                    THEN format(', restarts on a sample of %s users', used_sample) ELSE '' END,
			                                               COALESCE(chosen_k::text, 'none')), t);
		END IF;

		-- 4. Done: log, and keep only the last keep_runs successful runs
		SELECT sum(c.inertia) INTO total_inertia
		FROM @extschema@.result_cluster_stats c WHERE c.run_id = run;
		UPDATE @extschema@.run r
		SET ended = clock_timestamp(), rows_read = n_rows, rows_without_subscriber = n_nosub,
		    rejected_values = n_rejected, users = n_users, inertia = total_inertia, elbow_k = chosen_k,
		    elbow_sample = used_sample, status = 'ok'
		WHERE r.run_id = run;

		SELECT array_agg(o.run_id) INTO pruned
		FROM (SELECT r.run_id FROM @extschema@.run r WHERE r.status = 'ok'
		      ORDER BY r.run_id DESC OFFSET run_analysis.keep_runs) o;
		IF pruned IS NOT NULL THEN
			DELETE FROM @extschema@.result_user_engagement x WHERE x.run_id = ANY (pruned);
			DELETE FROM @extschema@.result_user_cluster x WHERE x.run_id = ANY (pruned);
			DELETE FROM @extschema@.result_cluster_stats x WHERE x.run_id = ANY (pruned);
			DELETE FROM @extschema@.result_top_users x WHERE x.run_id = ANY (pruned);
			DELETE FROM @extschema@.result_app_totals x WHERE x.run_id = ANY (pruned);
			DELETE FROM @extschema@.result_top_users_per_app x WHERE x.run_id = ANY (pruned);
			DELETE FROM @extschema@.result_elbow x WHERE x.run_id = ANY (pruned);
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

COMMENT ON FUNCTION @extschema@.run_analysis(regclass, integer, bigint, integer, text, text, text, text, jsonb, integer, integer) IS
'The whole engagement analysis of an xDR table in one call: per-user engagement (rows without MSISDN left out and counted), top 10 users per metric, K-means (k, seed) on z-scored sessions, duration and traffic with cluster statistics and labels, application usage, totals and top users, the elbow curve (k = 1..k_max, 0 skips it; its restarts on a sample of elbow_sample users, 0: on every user, NULL: as elbow_inertia chooses, every user up to 200,000); stores the results under a new run_id (returned) and keeps the last keep_runs successful runs; on a failure logs it in engage.run, raises a WARNING and returns NULL, leaving the previous results in place';
