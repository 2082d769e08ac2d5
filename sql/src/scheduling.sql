------------------------------------------------------------------------------
-- sql/src/scheduling.sql: run_analysis as a pg_cron job
--
-- schedule_refresh, unschedule_refresh and cron_database, which checks
-- that pg_cron is there and says how to set it up when it is not.
------------------------------------------------------------------------------

-- engage does not depend on pg_cron: these functions look it up when they
-- are called (the cron schema and the pg_cron row of pg_extension), through
-- dynamic SQL, and explain how to set it up when it is missing.

-- Raise a clear error unless pg_cron is loaded and installed in the current
-- database; returns the database pg_cron runs its jobs from
-- (cron.database_name).
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

CREATE FUNCTION @extschema@.unschedule_refresh(job_name text DEFAULT 'engage_refresh')
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

COMMENT ON FUNCTION @extschema@.unschedule_refresh(text) IS
'Removes the pg_cron job job_name of the current user (as scheduled by engage.schedule_refresh); returns true if there was one, false otherwise';
