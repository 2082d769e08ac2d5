/* engage--0.1.0.sql: the engage extension, version 0.1.0 */

-- complain if script is sourced in psql, rather than via CREATE EXTENSION
\echo Use "CREATE EXTENSION engage" to load this file. \quit

-- All objects live in @extschema@ (engage); every reference below is
-- schema-qualified so that the caller's search_path plays no part.

------------------------------------------------------------------------------
-- Per-user engagement: engagement_agg
------------------------------------------------------------------------------

CREATE TYPE @extschema@.engagement AS (
	sessions bigint,
	duration_ms numeric,
	dl_bytes numeric,
	ul_bytes numeric,
	total_bytes numeric,
	null_values bigint,
	rejected_values bigint
);

COMMENT ON TYPE @extschema@.engagement IS
'Engagement of one group of xDR sessions: sessions (rows), exact sums of duration, DL, UL and DL + UL bytes, and counts of NULL and rejected (NaN, infinite, negative) measures';

-- Transition state: a bigint[], compact (5 elements) until a group needs the
-- wide form (13 elements); see src/engagement_agg.c for both layouts.

CREATE FUNCTION @extschema@.engagement_accum(bigint[], double precision, double precision, double precision)
RETURNS bigint[]
AS 'MODULE_PATHNAME', 'engage_engagement_accum_float8'
LANGUAGE C IMMUTABLE PARALLEL SAFE;

CREATE FUNCTION @extschema@.engagement_accum(bigint[], bigint, bigint, bigint)
RETURNS bigint[]
AS 'MODULE_PATHNAME', 'engage_engagement_accum_int8'
LANGUAGE C IMMUTABLE PARALLEL SAFE;

CREATE FUNCTION @extschema@.engagement_accum(bigint[], numeric, numeric, numeric)
RETURNS bigint[]
AS 'MODULE_PATHNAME', 'engage_engagement_accum_numeric'
LANGUAGE C IMMUTABLE PARALLEL SAFE;

CREATE FUNCTION @extschema@.engagement_combine(bigint[], bigint[])
RETURNS bigint[]
AS 'MODULE_PATHNAME', 'engage_engagement_combine'
LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;

CREATE FUNCTION @extschema@.engagement_final(bigint[])
RETURNS @extschema@.engagement
AS 'MODULE_PATHNAME', 'engage_engagement_final'
LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;

COMMENT ON FUNCTION @extschema@.engagement_accum(bigint[], double precision, double precision, double precision) IS
'Transition function of engagement_agg(double precision, double precision, double precision)';
COMMENT ON FUNCTION @extschema@.engagement_accum(bigint[], bigint, bigint, bigint) IS
'Transition function of engagement_agg(bigint, bigint, bigint)';
COMMENT ON FUNCTION @extschema@.engagement_accum(bigint[], numeric, numeric, numeric) IS
'Transition function of engagement_agg(numeric, numeric, numeric)';
COMMENT ON FUNCTION @extschema@.engagement_combine(bigint[], bigint[]) IS
'Combine function of engagement_agg: merges two partial states (parallel workers, Citus)';
COMMENT ON FUNCTION @extschema@.engagement_final(bigint[]) IS
'Final function of engagement_agg: turns the state into an engage.engagement value';

CREATE AGGREGATE @extschema@.engagement_agg(double precision, double precision, double precision) (
	SFUNC = @extschema@.engagement_accum,
	STYPE = bigint[],
	FINALFUNC = @extschema@.engagement_final,
	COMBINEFUNC = @extschema@.engagement_combine,
	INITCOND = '{0,0,0,0,0}',
	SSPACE = 64,
	PARALLEL = SAFE
);

CREATE AGGREGATE @extschema@.engagement_agg(bigint, bigint, bigint) (
	SFUNC = @extschema@.engagement_accum,
	STYPE = bigint[],
	FINALFUNC = @extschema@.engagement_final,
	COMBINEFUNC = @extschema@.engagement_combine,
	INITCOND = '{0,0,0,0,0}',
	SSPACE = 64,
	PARALLEL = SAFE
);

CREATE AGGREGATE @extschema@.engagement_agg(numeric, numeric, numeric) (
	SFUNC = @extschema@.engagement_accum,
	STYPE = bigint[],
	FINALFUNC = @extschema@.engagement_final,
	COMBINEFUNC = @extschema@.engagement_combine,
	INITCOND = '{0,0,0,0,0}',
	SSPACE = 64,
	PARALLEL = SAFE
);

COMMENT ON AGGREGATE @extschema@.engagement_agg(double precision, double precision, double precision) IS
'Per-group engagement of xDR sessions (duration ms, DL bytes, UL bytes): sessions, exact sums, NULL and rejected counts';
COMMENT ON AGGREGATE @extschema@.engagement_agg(bigint, bigint, bigint) IS
'Per-group engagement of xDR sessions (duration ms, DL bytes, UL bytes): sessions, exact sums, NULL and rejected counts';
COMMENT ON AGGREGATE @extschema@.engagement_agg(numeric, numeric, numeric) IS
'Per-group engagement of xDR sessions (duration ms, DL bytes, UL bytes): sessions, exact sums, NULL and rejected counts';

------------------------------------------------------------------------------
-- Per-user traffic of several applications: traffic_agg
------------------------------------------------------------------------------

CREATE TYPE @extschema@.traffic AS (
	dl_bytes double precision[],
	ul_bytes double precision[],
	null_values bigint,
	rejected_values bigint
);

COMMENT ON TYPE @extschema@.traffic IS
'Traffic of one group of xDR sessions in several applications: dl_bytes[i] and ul_bytes[i] are the sums of the i-th (DL, UL) column pair (NULL when the column has no accepted value), with counts of NULL and rejected (NaN, infinite, negative) values';

-- Transition state: a double precision[] of 2 + number of columns elements
-- (see src/traffic_agg.c).

CREATE FUNCTION @extschema@.traffic_accum(double precision[], VARIADIC "any")
RETURNS double precision[]
AS 'MODULE_PATHNAME', 'engage_traffic_accum'
LANGUAGE C IMMUTABLE PARALLEL SAFE;

CREATE FUNCTION @extschema@.traffic_combine(double precision[], double precision[])
RETURNS double precision[]
AS 'MODULE_PATHNAME', 'engage_traffic_combine'
LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;

CREATE FUNCTION @extschema@.traffic_final(double precision[])
RETURNS @extschema@.traffic
AS 'MODULE_PATHNAME', 'engage_traffic_final'
LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;

COMMENT ON FUNCTION @extschema@.traffic_accum(double precision[], "any") IS
'Transition function of traffic_agg';
COMMENT ON FUNCTION @extschema@.traffic_combine(double precision[], double precision[]) IS
'Combine function of traffic_agg: merges two partial states (parallel workers, Citus)';
COMMENT ON FUNCTION @extschema@.traffic_final(double precision[]) IS
'Final function of traffic_agg: turns the state into an engage.traffic value';

CREATE AGGREGATE @extschema@.traffic_agg(VARIADIC "any") (
	SFUNC = @extschema@.traffic_accum,
	STYPE = double precision[],
	FINALFUNC = @extschema@.traffic_final,
	COMBINEFUNC = @extschema@.traffic_combine,
	PARALLEL = SAFE
);

COMMENT ON AGGREGATE @extschema@.traffic_agg(VARIADIC "any") IS
'Per-group traffic of several applications from (DL, UL) double precision column pairs: the sums of each column as two arrays, NULL and rejected (NaN, infinite, negative) values skipped and counted';

------------------------------------------------------------------------------
-- xDR data generator
------------------------------------------------------------------------------

-- The TellCo xDR layout: 55 columns, named as the CSV headers.
CREATE TYPE @extschema@.xdr AS (
	"Bearer Id" double precision,
	"Start" text,
	"Start ms" double precision,
	"End" text,
	"End ms" double precision,
	"Dur. (ms)" double precision,
	"IMSI" double precision,
	"MSISDN/Number" double precision,
	"IMEI" double precision,
	"Last Location Name" text,
	"Avg RTT DL (ms)" double precision,
	"Avg RTT UL (ms)" double precision,
	"Avg Bearer TP DL (kbps)" double precision,
	"Avg Bearer TP UL (kbps)" double precision,
	"TCP DL Retrans. Vol (Bytes)" double precision,
	"TCP UL Retrans. Vol (Bytes)" double precision,
	"DL TP < 50 Kbps (%)" double precision,
	"50 Kbps < DL TP < 250 Kbps (%)" double precision,
	"250 Kbps < DL TP < 1 Mbps (%)" double precision,
	"DL TP > 1 Mbps (%)" double precision,
	"UL TP < 10 Kbps (%)" double precision,
	"10 Kbps < UL TP < 50 Kbps (%)" double precision,
	"50 Kbps < UL TP < 300 Kbps (%)" double precision,
	"UL TP > 300 Kbps (%)" double precision,
	"HTTP DL (Bytes)" double precision,
	"HTTP UL (Bytes)" double precision,
	"Activity Duration DL (ms)" double precision,
	"Activity Duration UL (ms)" double precision,
	"Dur. (ms).1" double precision,
	"Handset Manufacturer" text,
	"Handset Type" text,
	"Nb of sec with 125000B < Vol DL" double precision,
	"Nb of sec with 1250B < Vol UL < 6250B" double precision,
	"Nb of sec with 31250B < Vol DL < 125000B" double precision,
	"Nb of sec with 37500B < Vol UL" double precision,
	"Nb of sec with 6250B < Vol DL < 31250B" double precision,
	"Nb of sec with 6250B < Vol UL < 37500B" double precision,
	"Nb of sec with Vol DL < 6250B" double precision,
	"Nb of sec with Vol UL < 1250B" double precision,
	"Social Media DL (Bytes)" double precision,
	"Social Media UL (Bytes)" double precision,
	"Google DL (Bytes)" double precision,
	"Google UL (Bytes)" double precision,
	"Email DL (Bytes)" double precision,
	"Email UL (Bytes)" double precision,
	"Youtube DL (Bytes)" double precision,
	"Youtube UL (Bytes)" double precision,
	"Netflix DL (Bytes)" double precision,
	"Netflix UL (Bytes)" double precision,
	"Gaming DL (Bytes)" double precision,
	"Gaming UL (Bytes)" double precision,
	"Other DL (Bytes)" double precision,
	"Other UL (Bytes)" double precision,
	"Total UL (Bytes)" double precision,
	"Total DL (Bytes)" double precision
);

COMMENT ON TYPE @extschema@.xdr IS
'One xDR record in the TellCo layout (55 columns named as the CSV headers); CREATE TABLE t (LIKE engage.xdr) makes a table for the real CSV';

-- Rows first_row .. first_row + n - 1 of a generated data set of total_rows
-- rows and about `users` subscribers.  Each row depends only on
-- (total_rows, users, seed, row number), so chunks can be generated in any
-- order and give the same table.
CREATE FUNCTION @extschema@.xdr_rows(total_rows bigint, users bigint, seed bigint, first_row bigint, n bigint)
RETURNS SETOF @extschema@.xdr
AS 'MODULE_PATHNAME', 'engage_xdr_rows'
LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE
ROWS 10000;

COMMENT ON FUNCTION @extschema@.xdr_rows(bigint, bigint, bigint, bigint, bigint) IS
'Rows first_row .. first_row + n - 1 of the deterministic synthetic xDR data set (total_rows, users, seed), in the TellCo layout';

-- Create table_name (LIKE engage.xdr) and fill it with the whole data set
-- (total_rows, users, seed), in chunks of 5,000 rows so that each call's
-- tuplestore stays in work_mem.  users defaults to the real TellCo ratio of
-- 106,856 subscribers for 150,001 rows.  No SET search_path: an unqualified
-- table_name goes to the caller's current schema, and every other name here
-- is schema-qualified, operators and types included (OPERATOR(pg_catalog.*)):
-- an operator or type of the same name earlier in the caller's search_path,
-- or one that matches the argument types better, is never called.
CREATE FUNCTION @extschema@.generate_xdr(table_name text, total_rows bigint DEFAULT 150001, users bigint DEFAULT NULL, seed bigint DEFAULT 0)
RETURNS bigint
LANGUAGE plpgsql VOLATILE
AS $$
DECLARE
	chunk constant bigint := 5000;
	n_users bigint;
	target pg_catalog.text;
	inserted bigint;
BEGIN
	IF table_name IS NULL OR total_rows IS NULL OR seed IS NULL THEN
		RAISE EXCEPTION 'table_name, total_rows and seed must not be NULL'
			USING ERRCODE = 'null_value_not_allowed';
	END IF;
	IF total_rows OPERATOR(pg_catalog.<) 1::bigint THEN
		RAISE EXCEPTION 'total_rows must be at least 1'
			USING ERRCODE = 'invalid_parameter_value',
				  DETAIL = pg_catalog.format('total_rows is %s.', total_rows);
	END IF;
	n_users := COALESCE(users,
		GREATEST(1, pg_catalog.round((total_rows::numeric OPERATOR(pg_catalog.*) 106856::numeric) OPERATOR(pg_catalog./) 150001::numeric)::bigint));
	-- checks users against total_rows (no rows are generated)
	PERFORM FROM @extschema@.xdr_rows(total_rows, n_users, seed, 0, 0);

	SELECT pg_catalog.string_agg(pg_catalog.quote_ident(part), '.' ORDER BY ord)
	INTO target
	FROM pg_catalog.unnest(pg_catalog.parse_ident(table_name)) WITH ORDINALITY AS p(part, ord);

	EXECUTE pg_catalog.format('CREATE TABLE %s (LIKE @extschema@.xdr)', target);
	EXECUTE pg_catalog.format(
		'INSERT INTO %s SELECT r.* FROM pg_catalog.generate_series(0::bigint, $1 OPERATOR(pg_catalog.-) 1::bigint) AS c(i) '
		'CROSS JOIN LATERAL @extschema@.xdr_rows($2, $3, $4, c.i OPERATOR(pg_catalog.*) $5, '
		'LEAST($5, $2 OPERATOR(pg_catalog.-) (c.i OPERATOR(pg_catalog.*) $5))) AS r',
		target)
	USING ((total_rows OPERATOR(pg_catalog.+) chunk) OPERATOR(pg_catalog.-) 1::bigint) OPERATOR(pg_catalog./) chunk,
	      total_rows, n_users, seed, chunk;
	GET DIAGNOSTICS inserted = ROW_COUNT;
	RETURN inserted;
END
$$;

COMMENT ON FUNCTION @extschema@.generate_xdr(text, bigint, bigint, bigint) IS
'Creates table table_name (LIKE engage.xdr) and fills it with the deterministic synthetic xDR data set (total_rows, users, seed); users defaults to the TellCo ratio (106,856 per 150,001 rows); returns the number of rows';

------------------------------------------------------------------------------
-- Clustering: normalisation, K-means, assignment of new points, the elbow
------------------------------------------------------------------------------

-- points: a query whose first column is the key of each point (any type;
-- it comes back as its text form) and whose other columns are numeric
-- features (or one double precision[] column).  It runs with the caller's
-- rights and must not modify data.  (The option is called normalization:
-- NORMALIZE is an SQL keyword, which cannot name a parameter.)

CREATE FUNCTION @extschema@.scaling_params(points text, normalization text DEFAULT 'zscore')
RETURNS TABLE (feature text, normalization text, mean double precision, std double precision,
               min double precision, max double precision,
               scale double precision, shift double precision)
AS 'MODULE_PATHNAME', 'engage_scaling_params'
LANGUAGE C VOLATILE PARALLEL UNSAFE;

COMMENT ON FUNCTION @extschema@.scaling_params(text, text) IS
'Scaling parameters of each feature of the points query: mean, population std, min, max, and the scale and shift applied (zscore: (x - shift) / scale; minmax: x * scale + shift; none: x), as scikit-learn''s StandardScaler and MinMaxScaler';

CREATE FUNCTION @extschema@.normalize_points(points text, normalization text DEFAULT 'zscore')
RETURNS TABLE (key text, features double precision[])
AS 'MODULE_PATHNAME', 'engage_normalize_points'
LANGUAGE C VOLATILE PARALLEL UNSAFE;

COMMENT ON FUNCTION @extschema@.normalize_points(text, text) IS
'The points of the points query, normalised (zscore, minmax or none) as the clustering functions see them: key and features';

CREATE FUNCTION @extschema@.kmeans_cluster(points text, k integer DEFAULT 3,
    normalization text DEFAULT 'zscore', n_init integer DEFAULT 10, max_iter integer DEFAULT 300,
    tol double precision DEFAULT 1e-4, seed bigint DEFAULT 0, init text DEFAULT 'k-means++',
    initial_centroids double precision[] DEFAULT NULL)
RETURNS TABLE (key text, cluster integer, distance double precision)
AS 'MODULE_PATHNAME', 'engage_kmeans_cluster'
LANGUAGE C VOLATILE PARALLEL UNSAFE;

COMMENT ON FUNCTION @extschema@.kmeans_cluster(text, integer, text, integer, integer, double precision, bigint, text, double precision[]) IS
'K-means clustering of the points query: one row per point with its key (text form), cluster 1..k (ascending centroid norm in normalised space: 1 is the least engaged) and Euclidean distance to its centroid in normalised space';

CREATE FUNCTION @extschema@.kmeans_centroids(points text, k integer DEFAULT 3,
    normalization text DEFAULT 'zscore', n_init integer DEFAULT 10, max_iter integer DEFAULT 300,
    tol double precision DEFAULT 1e-4, seed bigint DEFAULT 0, init text DEFAULT 'k-means++',
    initial_centroids double precision[] DEFAULT NULL)
RETURNS TABLE (cluster integer, size bigint, centroid double precision[],
               centroid_normalized double precision[], inertia double precision,
               total_inertia double precision, iterations integer, converged boolean,
               features text[])
AS 'MODULE_PATHNAME', 'engage_kmeans_centroids'
LANGUAGE C VOLATILE PARALLEL UNSAFE;

COMMENT ON FUNCTION @extschema@.kmeans_centroids(text, integer, text, integer, integer, double precision, bigint, text, double precision[]) IS
'The clusters of kmeans_cluster with the same arguments: size, centroid in the features'' units and normalised, the cluster''s inertia, and the total inertia, iterations and convergence of the clustering';

CREATE TYPE @extschema@.kmeans_model AS (
	features text[],
	normalization text,
	scale double precision[],
	shift double precision[],
	centroids double precision[],
	centroids_normalized double precision[],
	sizes bigint[],
	inertia double precision,
	iterations integer,
	converged boolean,
	n_points bigint,
	cluster_inertia double precision[]
);

COMMENT ON TYPE @extschema@.kmeans_model IS
'A fitted K-means clustering: features, normalisation (scale and shift), k x d centroids in the features'' units and normalised, sizes, inertia, iterations, convergence, number of points and the inertia of each cluster; kmeans_predict and kmeans_assign assign points with it';

CREATE FUNCTION @extschema@.kmeans_model(points text, k integer DEFAULT 3,
    normalization text DEFAULT 'zscore', n_init integer DEFAULT 10, max_iter integer DEFAULT 300,
    tol double precision DEFAULT 1e-4, seed bigint DEFAULT 0, init text DEFAULT 'k-means++',
    initial_centroids double precision[] DEFAULT NULL)
RETURNS @extschema@.kmeans_model
AS 'MODULE_PATHNAME', 'engage_kmeans_model'
LANGUAGE C VOLATILE PARALLEL UNSAFE;

COMMENT ON FUNCTION @extschema@.kmeans_model(text, integer, text, integer, integer, double precision, bigint, text, double precision[]) IS
'The clustering of kmeans_cluster with the same arguments, as one engage.kmeans_model value to store and to assign new points with kmeans_predict';

CREATE FUNCTION @extschema@.kmeans_predict(model @extschema@.kmeans_model, features double precision[])
RETURNS integer
AS 'MODULE_PATHNAME', 'engage_kmeans_predict'
LANGUAGE C IMMUTABLE PARALLEL SAFE;

COMMENT ON FUNCTION @extschema@.kmeans_predict(@extschema@.kmeans_model, double precision[]) IS
'Cluster (1..k) of a new point under a fitted model: normalised as the model''s points, nearest centroid (ties: lowest cluster); NULL when a feature is NULL';

CREATE FUNCTION @extschema@.kmeans_assign(model @extschema@.kmeans_model, points text)
RETURNS TABLE (key text, cluster integer, distance double precision)
AS 'MODULE_PATHNAME', 'engage_kmeans_assign_points'
LANGUAGE C VOLATILE PARALLEL UNSAFE;

COMMENT ON FUNCTION @extschema@.kmeans_assign(@extschema@.kmeans_model, text) IS
'Every point of the points query assigned with a fitted model, in one pass: key (text form), cluster 1..k (nearest centroid once normalised as the model''s points, ties: lowest cluster) and Euclidean distance to it in normalised space; on the points the model was fitted on, kmeans_cluster''s result without fitting again';

CREATE FUNCTION @extschema@.elbow_inertia(points text, k_min integer DEFAULT 1, k_max integer DEFAULT 10,
    normalization text DEFAULT 'zscore', n_init integer DEFAULT 10, max_iter integer DEFAULT 300,
    tol double precision DEFAULT 1e-4, seed bigint DEFAULT 0, init text DEFAULT 'k-means++')
RETURNS TABLE (k integer, inertia double precision, silhouette double precision,
               iterations integer, is_elbow boolean, centroids_normalized double precision[])
AS 'MODULE_PATHNAME', 'engage_elbow_inertia'
LANGUAGE C VOLATILE PARALLEL UNSAFE;

COMMENT ON FUNCTION @extschema@.elbow_inertia(text, integer, integer, text, integer, integer, double precision, bigint, text) IS
'The elbow method: for k = k_min..k_max the K-means inertia, the simplified (centroid) silhouette (NULL for k = 1), iterations and normalised centroids; is_elbow is true on the k that Kneedle picks for the convex decreasing curve, on none when it has no knee';

------------------------------------------------------------------------------
-- Charts: standalone SVG documents and XML/HTML escaping (src/svg.c)
------------------------------------------------------------------------------

-- xml_escape is STRICT.  The chart functions are not, because their
-- optional texts default to NULL (left out) and mark_x NULL means no mark;
-- a NULL array, a NULL array element or a NULL title is an error.

CREATE FUNCTION @extschema@.xml_escape(text)
RETURNS text
AS 'MODULE_PATHNAME', 'engage_xml_escape'
LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;

COMMENT ON FUNCTION @extschema@.xml_escape(text) IS
'The text escaped for XML and HTML (text and quoted attributes): & < > " '' as entities; invalid UTF-8, control characters other than tab, LF and CR, U+FFFE and U+FFFF as U+FFFD (the escaping the charts use)';

CREATE FUNCTION @extschema@.svg_bar_chart(labels text[], "values" double precision[], title text,
    x_label text DEFAULT NULL, y_label text DEFAULT NULL, unit text DEFAULT NULL)
RETURNS text
AS 'MODULE_PATHNAME', 'engage_sql_svg_bar_chart'
LANGUAGE C IMMUTABLE PARALLEL SAFE;

COMMENT ON FUNCTION @extschema@.svg_bar_chart(text[], double precision[], text, text, text, text) IS
'A standalone SVG bar chart of up to 1,000 labelled values, each printed on its bar; unit ''B'' or NULL gives SI prefixes (1.2 GB, 12.3 k), any other unit is appended to the numbers';

CREATE FUNCTION @extschema@.svg_line_chart(x double precision[], y double precision[], title text,
    x_label text DEFAULT NULL, y_label text DEFAULT NULL,
    mark_x double precision DEFAULT NULL, mark_label text DEFAULT NULL)
RETURNS text
AS 'MODULE_PATHNAME', 'engage_sql_svg_line_chart'
LANGUAGE C IMMUTABLE PARALLEL SAFE;

COMMENT ON FUNCTION @extschema@.svg_line_chart(double precision[], double precision[], text, text, text, double precision, text) IS
'A standalone SVG line chart with markers of up to 10,000 points (x, y), e.g. the elbow curve; mark_x highlights a point with a dashed line and mark_label (e.g. ''elbow: k = 3'')';

CREATE FUNCTION @extschema@.svg_cluster_chart(labels text[], sizes bigint[], metrics text[],
    profile double precision[], title text)
RETURNS text
AS 'MODULE_PATHNAME', 'engage_sql_svg_cluster_chart'
LANGUAGE C IMMUTABLE PARALLEL SAFE;

COMMENT ON FUNCTION @extschema@.svg_cluster_chart(text[], bigint[], text[], double precision[], text) IS
'A standalone SVG chart of up to 50 clusters: users per cluster (count and share) and the k x m profile (2-D array, up to 12 metrics) as grouped bars relative to each metric''s overall mean';

------------------------------------------------------------------------------
-- Analysis: run_analysis, its run-versioned result tables and the BI views
------------------------------------------------------------------------------

-- engage.run_analysis runs the whole analysis of one xDR table and stores
-- its results under a new run_id in the result_* tables; the views show the
-- latest successful run.  A run writes only new rows (MVCC): readers keep
-- seeing the previous run until the run's transaction commits, and never
-- wait for it.  No foreign keys from the result tables to engage.run: a
-- referential check per inserted row would cost more than the analysis.

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
	sqlstate text
);

COMMENT ON TABLE @extschema@.run IS
'Log of engage.run_analysis: one row per run (successful, failed or pruned); the views show the results of the latest run with status ok';

COMMENT ON SEQUENCE @extschema@.run_run_id_seq IS
'Run ids of engage.run_analysis (engage.run.run_id)';
COMMENT ON COLUMN @extschema@.run.run_id IS 'Run number, from a sequence; the results of the run are stored under it';
COMMENT ON COLUMN @extschema@.run.started IS 'When the run started';
COMMENT ON COLUMN @extschema@.run.ended IS 'When the run ended (ok or failed)';
COMMENT ON COLUMN @extschema@.run.source IS 'The xDR table analysed (schema-qualified)';
COMMENT ON COLUMN @extschema@.run.parameters IS 'The arguments of the run: seed, k_max, keep_runs, the column names and the applications';
COMMENT ON COLUMN @extschema@.run.rows_read IS 'Rows of the source read';
COMMENT ON COLUMN @extschema@.run.rows_without_subscriber IS 'Rows left out because their MSISDN is NULL';
COMMENT ON COLUMN @extschema@.run.rejected_values IS 'NaN, infinite and negative values skipped in the duration, DL, UL and application columns of the rows with a subscriber';
COMMENT ON COLUMN @extschema@.run.users IS 'Distinct subscribers (non-NULL MSISDNs)';
COMMENT ON COLUMN @extschema@.run.k IS 'Number of K-means clusters';
COMMENT ON COLUMN @extschema@.run.inertia IS 'K-means inertia (sum of squared distances to the centroids, z-scored space)';
COMMENT ON COLUMN @extschema@.run.elbow_k IS 'The k that the elbow method (Kneedle) picks over k = 1..k_max; NULL when the curve has no knee or the elbow was skipped';
COMMENT ON COLUMN @extschema@.run.status IS 'running (only ever seen inside the run''s own transaction), ok, failed (error and sqlstate say why; no results stored) or pruned (ok, but its results were deleted to keep the last keep_runs successful runs)';
COMMENT ON COLUMN @extschema@.run.error IS 'Error message of a failed run';
COMMENT ON COLUMN @extschema@.run.sqlstate IS 'SQLSTATE of the error of a failed run';

CREATE TABLE @extschema@.result_user_engagement (
	run_id bigint NOT NULL,
	msisdn text NOT NULL,
	sessions bigint NOT NULL,
	duration_ms numeric,
	dl_bytes numeric,
	ul_bytes numeric,
	total_bytes numeric,
	app_dl_bytes double precision[],
	app_ul_bytes double precision[]
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
'K-means cluster of each user of each run, with the clustered metrics (so that reading a run''s clusters needs no join by MSISDN); read it through the view engage.user_clusters';

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
	PRIMARY KEY (run_id, k)
);

COMMENT ON TABLE @extschema@.result_elbow IS
'Elbow curve of each run (elbow_inertia, k = 1..k_max); read it through the view engage.elbow';

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

-- Progress of run_analysis: a NOTICE with the step and its duration when
-- engage.progress is on; returns the time the next step starts.
CREATE FUNCTION @extschema@.analysis_progress(run_id bigint, step text, since timestamptz)
RETURNS timestamptz
LANGUAGE plpgsql VOLATILE
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
	IF COALESCE(current_setting('engage.progress', true), 'off')::boolean THEN
		RAISE NOTICE 'engage.run_analysis: run %: %', run_id, step
			USING DETAIL = format('%s ms.', round(extract(epoch FROM clock_timestamp() - since) * 1000));
	END IF;
	RETURN clock_timestamp();
END
$$;

COMMENT ON FUNCTION @extschema@.analysis_progress(bigint, text, timestamptz) IS
'Internal to run_analysis: when engage.progress is on, reports a finished step as a NOTICE with its duration as the DETAIL; returns clock_timestamp()';

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
	keep_runs integer DEFAULT 3)
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
	app_tops text := '';
	app_totals text := '';
	saved_nestloop text;
	saved_jit text;
	saved_seqscan text;
	app_cols text := '';
	src text;
	points text;
	n_rows bigint;
	n_nosub bigint;
	n_users bigint;
	n_rejected bigint;
	app_args text := '';
	total_inertia double precision;
	chosen_k integer;
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
		RAISE EXCEPTION 'run_analysis: arguments must not be NULL'
			USING ERRCODE = 'null_value_not_allowed';
	END IF;
	IF k < 1 OR k > 10000 THEN
		RAISE EXCEPTION 'run_analysis: k must be between 1 and 10000'
			USING ERRCODE = 'invalid_parameter_value', DETAIL = format('k is %s.', k);
	END IF;
	IF k_max < 0 OR k_max > 10000 THEN
		RAISE EXCEPTION 'run_analysis: k_max must be between 0 and 10000'
			USING ERRCODE = 'invalid_parameter_value', DETAIL = format('k_max is %s.', k_max),
			      HINT = 'k_max 0 skips the elbow curve.';
	END IF;
	IF keep_runs < 1 THEN
		RAISE EXCEPTION 'run_analysis: keep_runs must be at least 1'
			USING ERRCODE = 'invalid_parameter_value', DETAIL = format('keep_runs is %s.', keep_runs);
	END IF;
	IF jsonb_typeof(applications) <> 'object' OR EXISTS (
		SELECT FROM jsonb_each(applications) AS a(name, cols)
		WHERE jsonb_typeof(a.cols) <> 'array' OR jsonb_array_length(a.cols) <> 2
		   OR jsonb_typeof(a.cols -> 0) <> 'string' OR jsonb_typeof(a.cols -> 1) <> 'string') THEN
		RAISE EXCEPTION 'run_analysis: applications must be a JSON object of "name": ["DL column", "UL column"]'
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
	                           'applications', applications),
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
		-- columns are cast to double precision); the application totals add the users' sums
		-- up exactly with engagement_agg.  Top 10s by ORDER BY ... LIMIT 10 (a
		-- bounded heap sort), ranked afterwards; numeric conversions only for
		-- the rows kept (float8 -> numeric costs about a microsecond).
		FOR app IN SELECT a.name, a.cols ->> 0 AS dl, a.cols ->> 1 AS ul
		           FROM jsonb_each(applications) AS a(name, cols) ORDER BY a.name LOOP
			n_apps := n_apps + 1;
			app_args := app_args || CASE WHEN n_apps > 1 THEN ', ' ELSE '' END
				|| format('s.%I::double precision, s.%I::double precision', app.dl, app.ul);
			app_cols := app_cols || format(', a.app_dl[%1$s] AS a%1$s_dl, a.app_ul[%1$s] AS a%1$s_ul', n_apps);
			app_totals := app_totals || CASE WHEN n_apps > 1 THEN ', ' ELSE '' END
				|| format('@extschema@.engagement_agg(NULL::double precision, u.a%1$s_dl, u.a%1$s_ul) AS t%1$s, '
				          'count(*) FILTER (WHERE COALESCE(u.a%1$s_dl, 0) + COALESCE(u.a%1$s_ul, 0) > 0) AS t%1$s_users',
				          n_apps);
			app_values := app_values || CASE WHEN n_apps > 1 THEN ', ' ELSE '' END
				|| format('(%L, %s, (t.t%s).dl_bytes, (t.t%s).ul_bytes, t.t%s_users)', app.name, n_apps, n_apps, n_apps, n_apps);
			app_tops := app_tops || CASE WHEN n_apps > 1 THEN ' UNION ALL ' ELSE '' END
				|| format('(SELECT %L AS application, u.m, u.msisdn, u.a%s_dl AS dl, u.a%s_ul AS ul '
				          'FROM users u WHERE u.a%s_dl IS NOT NULL OR u.a%s_ul IS NOT NULL '
				          'ORDER BY COALESCE(u.a%s_dl, 0) + COALESCE(u.a%s_ul, 0) DESC, u.m LIMIT 10)',
				          app.name, n_apps, n_apps, n_apps, n_apps, n_apps, n_apps);
		END LOOP;

		EXECUTE format($q$
			WITH agg AS MATERIALIZED (
				SELECT s.%1$I AS m,
				       @extschema@.engagement_agg(s.%2$I, s.%3$I, s.%4$I) AS e,
				       %5$s
				FROM %6$s AS s
				GROUP BY 1
			), users AS MATERIALIZED (
				SELECT a.m, a.m::text AS msisdn, (a.e).sessions, (a.e).duration_ms, (a.e).dl_bytes,
				       (a.e).ul_bytes, (a.e).total_bytes, a.app_dl, a.app_ul %8$s
				FROM agg a
				WHERE a.m IS NOT NULL
			), ins_users AS (
				INSERT INTO @extschema@.result_user_engagement
				SELECT $1, u.msisdn, u.sessions, u.duration_ms, u.dl_bytes, u.ul_bytes, u.total_bytes, u.app_dl, u.app_ul
				FROM users u
			), ins_top AS (
				INSERT INTO @extschema@.result_top_users
				SELECT $1, t.metric, row_number() OVER (PARTITION BY t.metric ORDER BY t.value DESC, t.m),
				       t.msisdn, t.value
				FROM ((SELECT 'sessions' AS metric, u.m, u.msisdn, u.sessions::numeric AS value
				       FROM users u ORDER BY u.sessions DESC, u.m LIMIT 10)
				      UNION ALL
				      (SELECT 'duration_ms', u.m, u.msisdn, u.duration_ms
				       FROM users u WHERE u.duration_ms IS NOT NULL ORDER BY u.duration_ms DESC, u.m LIMIT 10)
				      UNION ALL
				      (SELECT 'total_bytes', u.m, u.msisdn, u.total_bytes
				       FROM users u WHERE u.total_bytes IS NOT NULL ORDER BY u.total_bytes DESC, u.m LIMIT 10)) t
			)%7$s
			SELECT COALESCE(sum((a.e).sessions), 0), COALESCE(sum((a.e).sessions) FILTER (WHERE a.m IS NULL), 0),
			       count(*) FILTER (WHERE a.m IS NOT NULL),
			       COALESCE(sum((a.e).rejected_values + a.app_rejected) FILTER (WHERE a.m IS NOT NULL), 0)
			FROM agg a
			$q$,
			msisdn_column, duration_column, dl_column, ul_column,
			-- the three fields of one traffic_agg call (the planner computes
			-- identical aggregate calls once)
			CASE WHEN n_apps = 0
			     THEN 'NULL::double precision[] AS app_dl, NULL::double precision[] AS app_ul, 0::bigint AS app_rejected'
			     ELSE format('(@extschema@.traffic_agg(%1$s)).dl_bytes AS app_dl, (@extschema@.traffic_agg(%1$s)).ul_bytes AS app_ul, '
			                 '(@extschema@.traffic_agg(%1$s)).rejected_values AS app_rejected', app_args) END,
			src,
			CASE WHEN n_apps = 0 THEN '' ELSE format($q$, ins_app_totals AS (
				INSERT INTO @extschema@.result_app_totals
				SELECT $1, v.application, v.position,
				       row_number() OVER (ORDER BY v.total DESC NULLS LAST, v.application),
				       v.users, v.dl, v.ul, v.total
				FROM (SELECT %1$s FROM users u) t
				CROSS JOIN LATERAL (VALUES %2$s) AS w(application, position, dl, ul, users)
				CROSS JOIN LATERAL (SELECT w.application, w.position, w.dl, w.ul, w.users,
				                           CASE WHEN w.dl IS NULL AND w.ul IS NULL THEN NULL
				                                ELSE COALESCE(w.dl, 0) + COALESCE(w.ul, 0) END AS total) v
			), ins_app_tops AS (
				INSERT INTO @extschema@.result_top_users_per_app
				SELECT $1, t.application,
				       row_number() OVER (PARTITION BY t.application ORDER BY t.total DESC, t.m),
				       t.msisdn, t.total
				FROM (SELECT x.application, x.m, x.msisdn,
				             COALESCE(x.dl::numeric, 0) + COALESCE(x.ul::numeric, 0) AS total
				      FROM (%3$s) x) t
			)$q$, app_totals, app_values, app_tops) END,
			app_cols)
		INTO n_rows, n_nosub, n_users, n_rejected
		USING run;
		t := @extschema@.analysis_progress(run, format('per-user engagement, top users and application usage: %s rows, %s without subscriber, %s users, %s values rejected', n_rows, n_nosub, n_users, n_rejected), t);
		IF n_users < run_analysis.k THEN
			RAISE EXCEPTION 'run_analysis: % has % subscribers, fewer than k = %', src, n_users, run_analysis.k
				USING ERRCODE = 'invalid_parameter_value',
				      HINT = 'Ask for at most as many clusters as there are subscribers (rows without MSISDN do not count).';
		END IF;

		-- 2. K-means on the z-scored (sessions, duration, traffic) of the
		-- users, run to convergence (tol 0: a fixed point of Lloyd's iteration,
		-- whatever the row order; a tolerance would stop a few users short of
		-- it, at a point that depends on the start), fitted once (kmeans_model)
		-- and the users assigned with the model (kmeans_assign: at the fixed
		-- point, the fit's own labels); cluster statistics, labels and
		-- descriptions (the clusters joined with the users' rows of this run,
		-- stored in one statement)
		points := format('SELECT msisdn, sessions, COALESCE(duration_ms, 0), COALESCE(total_bytes, 0) '
		                 'FROM @extschema@.result_user_engagement WHERE run_id = %s', run);
		-- The rows just written have no statistics yet (ANALYZE would need the
		-- tables' owner): a nested loop over two 10^5-row inputs would be
		-- quadratic, so this statement is planned without nested loops.
		-- From here to the pruning, every read of the per-user tables is of
		-- one run: through the BRIN index on run_id, not a sequential scan of
		-- what the tables hold (runs kept, and the space of pruned runs, which
		-- only VACUUM frees: several times the run's own size).  The cost
		-- penalties of the disabled plans would push costs over the JIT
		-- thresholds and compile for nothing (0.7 s per run, and memory that
		-- LLVM keeps), so JIT is off too.
		saved_nestloop := current_setting('enable_nestloop');
		saved_seqscan := current_setting('enable_seqscan');
		saved_jit := current_setting('jit');
		PERFORM set_config('enable_nestloop', 'off', true);
		PERFORM set_config('enable_seqscan', 'off', true);
		PERFORM set_config('jit', 'off', true);
		WITH model AS MATERIALIZED (
			SELECT @extschema@.kmeans_model(points, run_analysis.k, tol => 0, seed => run_analysis.seed) AS m
		), uc AS MATERIALIZED (
			SELECT c.key, c.cluster, c.distance
			FROM model, @extschema@.kmeans_assign(model.m, points) AS c
		), joined AS MATERIALIZED (
			SELECT uc.key, uc.cluster, uc.distance, u.sessions, u.duration_ms, u.total_bytes
			FROM uc
			JOIN @extschema@.result_user_engagement u ON u.run_id = run AND u.msisdn = uc.key
		), ins_uc AS (
			INSERT INTO @extschema@.result_user_cluster (run_id, msisdn, cluster, distance, sessions, duration_ms, total_bytes)
			SELECT run, j.key, j.cluster, j.distance, j.sessions, j.duration_ms, j.total_bytes FROM joined j
		), overall AS (
			SELECT count(*) AS users, avg(u.sessions) AS sessions, avg(u.duration_ms) AS duration_ms,
			       avg(u.total_bytes) AS total_bytes
			FROM @extschema@.result_user_engagement u WHERE u.run_id = run
		), stats AS (
			SELECT u.cluster, count(*) AS users,
			       min(u.sessions) AS s_min, max(u.sessions) AS s_max, avg(u.sessions) AS s_avg, sum(u.sessions) AS s_sum,
			       min(u.duration_ms) AS d_min, max(u.duration_ms) AS d_max, avg(u.duration_ms) AS d_avg, sum(u.duration_ms) AS d_sum,
			       min(u.total_bytes) AS b_min, max(u.total_bytes) AS b_max, avg(u.total_bytes) AS b_avg, sum(u.total_bytes) AS b_sum
			FROM joined u
			GROUP BY u.cluster
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
		       ARRAY[(m.m).centroids[s.cluster][1], (m.m).centroids[s.cluster][2], (m.m).centroids[s.cluster][3]],
		       ARRAY[(m.m).centroids_normalized[s.cluster][1], (m.m).centroids_normalized[s.cluster][2],
		             (m.m).centroids_normalized[s.cluster][3]],
		       (m.m).cluster_inertia[s.cluster]
		FROM stats s CROSS JOIN overall o CROSS JOIN model m;
		PERFORM set_config('enable_nestloop', saved_nestloop, true);
		t := @extschema@.analysis_progress(run, format('K-means, k = %s, and cluster statistics', run_analysis.k), t);

		-- 3. The elbow curve, k = 1..k_max (at most the number of users)
		IF run_analysis.k_max > 0 THEN
			INSERT INTO @extschema@.result_elbow
			SELECT run, e.k, e.inertia, e.silhouette, e.is_elbow
			FROM @extschema@.elbow_inertia(points, 1, LEAST(run_analysis.k_max, n_users)::integer,
			                               seed => run_analysis.seed) AS e;
			SELECT e.k INTO chosen_k FROM @extschema@.result_elbow e WHERE e.run_id = run AND e.is_elbow;
			t := @extschema@.analysis_progress(run, format('elbow curve, k = 1..%s: elbow at k = %s',
			                                               LEAST(run_analysis.k_max, n_users), COALESCE(chosen_k::text, 'none')), t);
		END IF;

		-- 4. Done: log, and keep only the last keep_runs successful runs
		SELECT sum(c.inertia) INTO total_inertia
		FROM @extschema@.result_cluster_stats c WHERE c.run_id = run;
		UPDATE @extschema@.run r
		SET ended = clock_timestamp(), rows_read = n_rows, rows_without_subscriber = n_nosub,
		    rejected_values = n_rejected, users = n_users, inertia = total_inertia, elbow_k = chosen_k, status = 'ok'
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
		RAISE WARNING 'engage.run_analysis: run % failed: %', run, e_message
			USING DETAIL = concat_ws(' ', NULLIF(e_detail, ''), NULLIF(e_hint, ''),
			                         format('SQLSTATE %s. The failure is logged in engage.run; the previous results are unchanged.', e_state));
		RETURN NULL;
	END;
	RETURN run;
END
$$;

COMMENT ON FUNCTION @extschema@.run_analysis(regclass, integer, bigint, integer, text, text, text, text, jsonb, integer) IS
'The whole engagement analysis of an xDR table in one call: per-user engagement (rows without MSISDN left out and counted), top 10 users per metric, K-means (k, seed) on z-scored sessions, duration and traffic with cluster statistics and labels, application usage, totals and top users, the elbow curve (k = 1..k_max, 0 skips it); stores the results under a new run_id (returned) and keeps the last keep_runs successful runs; on a failure logs it in engage.run, raises a WARNING and returns NULL, leaving the previous results in place';

-- The BI views: the results of the latest successful run.  Each view
-- evaluates the latest run when it is read; to read several views of the
-- same run while a refresh may commit, read them in one REPEATABLE READ
-- transaction, or join on run_id.

CREATE VIEW @extschema@.latest_run AS
SELECT r.*
FROM @extschema@.run r
WHERE r.run_id = (SELECT max(l.run_id) FROM @extschema@.run l WHERE l.status = 'ok');

COMMENT ON VIEW @extschema@.latest_run IS
'The engage.run row of the latest successful run of run_analysis: the run that every other result view shows';

CREATE VIEW @extschema@.user_engagement AS
SELECT u.run_id, u.msisdn, u.sessions, u.duration_ms, u.dl_bytes, u.ul_bytes, u.total_bytes
FROM @extschema@.result_user_engagement u
WHERE u.run_id = (SELECT max(l.run_id) FROM @extschema@.run l WHERE l.status = 'ok');

COMMENT ON VIEW @extschema@.user_engagement IS
'Per-user engagement of the latest successful run: one row per subscriber (rows without MSISDN left out), with sessions (xDR rows), total duration in ms and DL, UL and DL + UL bytes (exact sums)';
COMMENT ON COLUMN @extschema@.user_engagement.msisdn IS 'The subscriber, as the text form of the MSISDN column';
COMMENT ON COLUMN @extschema@.user_engagement.sessions IS 'xDR rows (sessions) of the subscriber';
COMMENT ON COLUMN @extschema@.user_engagement.duration_ms IS 'Sum of the session durations, in ms';
COMMENT ON COLUMN @extschema@.user_engagement.total_bytes IS 'dl_bytes + ul_bytes';

CREATE VIEW @extschema@.user_clusters AS
SELECT c.run_id, c.msisdn, c.cluster, s.label, c.distance,
       c.sessions, c.duration_ms, c.total_bytes
FROM @extschema@.result_user_cluster c
JOIN @extschema@.result_cluster_stats s ON s.run_id = c.run_id AND s.cluster = c.cluster
WHERE c.run_id = (SELECT max(l.run_id) FROM @extschema@.run l WHERE l.status = 'ok');

COMMENT ON VIEW @extschema@.user_clusters IS
'The K-means cluster of each subscriber in the latest successful run, with its label, distance to the centroid (z-scored space) and the clustered metrics';
COMMENT ON COLUMN @extschema@.user_clusters.cluster IS 'Cluster 1..k, numbered by ascending centroid norm: 1 is the least engaged';
COMMENT ON COLUMN @extschema@.user_clusters.distance IS 'Euclidean distance to the cluster''s centroid in the z-scored space';

CREATE VIEW @extschema@.cluster_stats AS
SELECT s.run_id, s.cluster, s.label, s.description, s.users, s.share,
       s.sessions_min, s.sessions_max, s.sessions_avg, s.sessions_total,
       s.duration_ms_min, s.duration_ms_max, s.duration_ms_avg, s.duration_ms_total,
       s.total_bytes_min, s.total_bytes_max, s.total_bytes_avg, s.total_bytes_total,
       s.centroid, s.centroid_normalized, s.inertia
FROM @extschema@.result_cluster_stats s
WHERE s.run_id = (SELECT max(l.run_id) FROM @extschema@.run l WHERE l.status = 'ok');

COMMENT ON VIEW @extschema@.cluster_stats IS
'One row per K-means cluster of the latest successful run: label, one-line description against the overall averages, size and share of users, min / max / avg / total of sessions, duration_ms and total_bytes, centroid and inertia';
COMMENT ON COLUMN @extschema@.cluster_stats.label IS 'Plain words: low / medium / high engagement for k = 3 (see engage.cluster_label)';
COMMENT ON COLUMN @extschema@.cluster_stats.description IS 'Share of users and average sessions, duration (minutes) and traffic (MB = 10^6 bytes) per user against the overall averages';
COMMENT ON COLUMN @extschema@.cluster_stats.share IS 'Fraction of the users in this cluster (0 to 1)';
COMMENT ON COLUMN @extschema@.cluster_stats.centroid IS 'Centroid in the features'' units: sessions, duration_ms, total_bytes';
COMMENT ON COLUMN @extschema@.cluster_stats.centroid_normalized IS 'Centroid in the z-scored space';
COMMENT ON COLUMN @extschema@.cluster_stats.inertia IS 'Sum of squared distances of the cluster''s users to its centroid (z-scored space)';

CREATE VIEW @extschema@.top_users AS
SELECT t.run_id, t.metric, t.rank, t.msisdn, t.value
FROM @extschema@.result_top_users t
WHERE t.run_id = (SELECT max(l.run_id) FROM @extschema@.run l WHERE l.status = 'ok');

COMMENT ON VIEW @extschema@.top_users IS
'Top 10 subscribers of the latest successful run by each metric (sessions, duration_ms, total_bytes): ranked by value descending, ties broken by MSISDN ascending in the source column''s own order; users with a NULL value are left out';
COMMENT ON COLUMN @extschema@.top_users.metric IS 'sessions, duration_ms or total_bytes';
COMMENT ON COLUMN @extschema@.top_users.rank IS '1..10, distinct';

CREATE VIEW @extschema@.app_usage AS
SELECT u.run_id, u.msisdn, a.application, x.dl_bytes, x.ul_bytes,
       CASE WHEN x.dl_bytes IS NULL AND x.ul_bytes IS NULL THEN NULL
            ELSE COALESCE(x.dl_bytes, 0) + COALESCE(x.ul_bytes, 0) END AS total_bytes
FROM @extschema@.result_user_engagement u
JOIN @extschema@.result_app_totals a ON a.run_id = u.run_id
CROSS JOIN LATERAL (SELECT u.app_dl_bytes[a.position]::numeric AS dl_bytes,
                           u.app_ul_bytes[a.position]::numeric AS ul_bytes) x
WHERE u.run_id = (SELECT max(l.run_id) FROM @extschema@.run l WHERE l.status = 'ok');

COMMENT ON VIEW @extschema@.app_usage IS
'Traffic of each subscriber in each application in the latest successful run: sums of the application''s DL and UL columns over the subscriber''s rows';
COMMENT ON COLUMN @extschema@.app_usage.total_bytes IS 'dl_bytes + ul_bytes (a missing side counts as 0; NULL when both are)';

CREATE VIEW @extschema@.app_totals AS
SELECT a.run_id, a.application, a.rank, a.users, a.dl_bytes, a.ul_bytes, a.total_bytes
FROM @extschema@.result_app_totals a
WHERE a.run_id = (SELECT max(l.run_id) FROM @extschema@.run l WHERE l.status = 'ok');

COMMENT ON VIEW @extschema@.app_totals IS
'Traffic of each application over all subscribers (rows without MSISDN left out) in the latest successful run, ranked by total traffic';
COMMENT ON COLUMN @extschema@.app_totals.rank IS 'Rank by total_bytes descending, ties by application name';
COMMENT ON COLUMN @extschema@.app_totals.users IS 'Subscribers with some traffic in the application';

CREATE VIEW @extschema@.top_users_per_app AS
SELECT t.run_id, t.application, t.rank, t.msisdn, t.total_bytes
FROM @extschema@.result_top_users_per_app t
WHERE t.run_id = (SELECT max(l.run_id) FROM @extschema@.run l WHERE l.status = 'ok');

COMMENT ON VIEW @extschema@.top_users_per_app IS
'Top 10 subscribers of each application by its traffic (DL + UL) in the latest successful run, ties broken by MSISDN ascending in the source column''s own order';

CREATE VIEW @extschema@.top_apps AS
SELECT a.run_id, a.rank, a.application, a.users, a.total_bytes
FROM @extschema@.result_app_totals a
WHERE a.run_id = (SELECT max(l.run_id) FROM @extschema@.run l WHERE l.status = 'ok')
  AND a.rank <= 3;

COMMENT ON VIEW @extschema@.top_apps IS
'The 3 most used applications by total traffic in the latest successful run';

CREATE VIEW @extschema@.elbow AS
SELECT e.run_id, e.k, e.inertia, e.silhouette, e.is_elbow
FROM @extschema@.result_elbow e
WHERE e.run_id = (SELECT max(l.run_id) FROM @extschema@.run l WHERE l.status = 'ok');

COMMENT ON VIEW @extschema@.elbow IS
'The elbow curve of the latest successful run: K-means inertia and simplified silhouette for k = 1..k_max; is_elbow marks the k that Kneedle picks (none when the curve has no knee)';

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

------------------------------------------------------------------------------
-- Scheduling: run_analysis as a pg_cron job
------------------------------------------------------------------------------

-- engage does not depend on pg_cron: these functions look it up when they
-- are called (the cron schema and the pg_cron row of pg_extension), through
-- dynamic SQL, and explain how to set it up when it is missing.

-- Raise a clear error unless pg_cron is loaded and installed in the current
-- database; returns the database pg_cron runs its jobs from
-- (cron.database_name).
CREATE FUNCTION @extschema@.cron_database(caller text)
RETURNS text
LANGUAGE plpgsql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	cron_db text := current_setting('cron.database_name', true);
	loaded boolean;
	setup text;
BEGIN
	caller := COALESCE(caller, 'cron_database');	-- the name its errors start with
	-- shared_preload_libraries is a comma-separated list; names may be quoted
	SELECT 'pg_cron' = ANY (array_agg(btrim(l, ' "')))
	INTO loaded
	FROM unnest(string_to_array(current_setting('shared_preload_libraries'), ',')) AS l;
	setup := format('Install the Debian package postgresql-15-cron, add pg_cron to shared_preload_libraries '
	                'and set cron.database_name = ''%s'' in postgresql.conf, restart PostgreSQL, '
	                'then run CREATE EXTENSION pg_cron in database "%s".',
	                current_database(), current_database());
	IF NOT COALESCE(loaded, false) OR cron_db IS NULL THEN
		RAISE EXCEPTION '%: pg_cron is not loaded', caller
			USING ERRCODE = 'feature_not_supported',
			      DETAIL = 'engage schedules run_analysis with the pg_cron extension, which must be in shared_preload_libraries.',
			      HINT = setup;
	END IF;
	IF to_regnamespace('cron') IS NULL
	   OR NOT EXISTS (SELECT FROM pg_catalog.pg_extension WHERE extname = 'pg_cron') THEN
		IF cron_db = current_database() THEN
			RAISE EXCEPTION '%: extension "pg_cron" is not installed in this database', caller
				USING ERRCODE = 'undefined_object',
				      DETAIL = format('pg_cron is loaded and runs its jobs from database "%s".', cron_db),
				      HINT = 'Run CREATE EXTENSION pg_cron in this database.';
		END IF;
		RAISE EXCEPTION '%: pg_cron runs its jobs from database "%", not from "%"', caller, cron_db, current_database()
			USING ERRCODE = 'undefined_object',
			      DETAIL = format('The pg_cron extension can only be installed in database "%s" (cron.database_name).', cron_db),
			      HINT = format('Set cron.database_name = ''%s'' in postgresql.conf, restart PostgreSQL and run CREATE EXTENSION pg_cron in this database; '
			                    'or schedule the job from database "%s" with cron.schedule_in_database(..., database => ''%s'').',
			                    current_database(), cron_db, current_database());
	END IF;
	RETURN cron_db;
END
$$;

COMMENT ON FUNCTION @extschema@.cron_database(text) IS
'Internal to schedule_refresh and unschedule_refresh: raises an error saying how to set pg_cron up unless it is loaded (shared_preload_libraries) and installed in the current database; returns cron.database_name';

CREATE FUNCTION @extschema@.schedule_refresh(
	schedule text,
	source regclass DEFAULT 'public.xdr'::text::regclass,
	k integer DEFAULT 3,
	seed bigint DEFAULT 0,
	job_name text DEFAULT 'engage_refresh')
RETURNS bigint
LANGUAGE plpgsql VOLATILE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	cron_db text;
	command text;
	job bigint;
BEGIN
	-- Arguments that are wrong on their face are errors
	IF schedule IS NULL OR source IS NULL OR k IS NULL OR seed IS NULL OR job_name IS NULL THEN
		RAISE EXCEPTION 'schedule_refresh: arguments must not be NULL'
			USING ERRCODE = 'null_value_not_allowed';
	END IF;
	IF btrim(schedule) = '' THEN
		RAISE EXCEPTION 'schedule_refresh: schedule must not be empty'
			USING ERRCODE = 'invalid_parameter_value',
			      HINT = 'Give a cron schedule such as ''0 3 * * *'' (every day at 03:00 GMT) or ''*/30 * * * *''.';
	END IF;
	IF btrim(job_name) = '' THEN
		RAISE EXCEPTION 'schedule_refresh: job_name must not be empty'
			USING ERRCODE = 'invalid_parameter_value';
	END IF;
	IF k < 1 OR k > 10000 THEN
		RAISE EXCEPTION 'schedule_refresh: k must be between 1 and 10000'
			USING ERRCODE = 'invalid_parameter_value', DETAIL = format('k is %s.', k);
	END IF;

	cron_db := @extschema@.cron_database('schedule_refresh');

	-- The job runs in a new session, with the default search_path: name the
	-- source with its schema
	SELECT format('SELECT @extschema@.run_analysis(source => %L::regclass, k => %s, seed => %s)',
	              format('%I.%I', n.nspname, c.relname), schedule_refresh.k, schedule_refresh.seed)
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
		RAISE EXCEPTION 'schedule_refresh: pg_cron runs its jobs from database "%", not from "%"', cron_db, current_database()
			USING ERRCODE = 'feature_not_supported',
			      HINT = 'Update pg_cron to 1.4 or later (cron.schedule_in_database), or set cron.database_name to this database.';
	END IF;
	RETURN job;
END
$$;

COMMENT ON FUNCTION @extschema@.schedule_refresh(text, regclass, integer, bigint, text) IS
'Schedules engage.run_analysis(source, k, seed) as the pg_cron job job_name in the current database, on a cron schedule (such as ''0 3 * * *''); replaces a job of the same name; returns the pg_cron job id. Needs pg_cron (loaded and installed in this database); the error says how to set it up';

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
		RAISE EXCEPTION 'unschedule_refresh: job_name must not be empty'
			USING ERRCODE = 'invalid_parameter_value';
	END IF;
	PERFORM @extschema@.cron_database('unschedule_refresh');
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

------------------------------------------------------------------------------
-- Report: one run's results as a self-contained HTML page
------------------------------------------------------------------------------

-- Bytes with SI prefixes (1 kB = 1,000 bytes), as the charts and the
-- cluster descriptions write them.
CREATE FUNCTION @extschema@.format_bytes(bytes numeric)
RETURNS text
LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
RETURN CASE
	WHEN bytes = 'NaN' OR abs(bytes) = 'Infinity' THEN bytes::text || ' B'
	WHEN abs(bytes) < 999.5 THEN to_char(round(bytes), 'FM990') || ' B'
	-- past 999,999,999,999,999,999,999.9 YB: scientific notation
	WHEN abs(bytes) >= 999999999999999999999.95e24 THEN btrim(to_char(bytes, '9.9EEEE')) || ' B'
	ELSE (SELECT to_char(round(bytes / 1000::numeric ^ p.e, 1), 'FM999,999,999,999,999,999,990.0') || ' '
	             || (ARRAY['kB', 'MB', 'GB', 'TB', 'PB', 'EB', 'ZB', 'YB'])[p.e]
	      -- the prefix of the value rounded to 4 digits: 999,950 B is 1.0 MB, not 1000.0 kB
	      FROM (SELECT LEAST(8, GREATEST(1, floor(log(abs(round(bytes, (3 - floor(log(abs(bytes))))::integer))) / 3)))::integer AS e) p)
END;

COMMENT ON FUNCTION @extschema@.format_bytes(numeric) IS
'Bytes with an SI prefix and one decimal (1 kB = 1,000 bytes): 512 B, 1.2 kB, 345.6 MB, 8.6 TB (NaN B and Infinity B for those, scientific notation past 10^45 bytes); used by report_html';

-- The report reads the run's rows from the result_* tables by run_id, so a
-- kept older run can be reported too.  Every text from the data goes
-- through xml_escape; the body itself is ASCII (entities for the rest), so
-- that it is the same in every database encoding.
CREATE FUNCTION @extschema@.report_html(run_id bigint DEFAULT NULL)
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
BEGIN
	IF report_html.run_id IS NULL THEN
		SELECT l.* INTO r FROM @extschema@.latest_run l;
		IF NOT FOUND THEN
			RAISE EXCEPTION 'report_html: there is no successful run to report'
				USING ERRCODE = 'object_not_in_prerequisite_state',
				      HINT = 'Run engage.run_analysis() first; engage.run lists the runs and their status.';
		END IF;
	ELSE
		SELECT l.* INTO r FROM @extschema@.run l WHERE l.run_id = report_html.run_id;
		IF NOT FOUND THEN
			RAISE EXCEPTION 'report_html: run % does not exist', report_html.run_id
				USING ERRCODE = 'invalid_parameter_value',
				      HINT = 'engage.run lists the runs; report_html() without an argument reports the latest successful run.';
		END IF;
		IF r.status <> 'ok' THEN
			RAISE EXCEPTION 'report_html: run % has no results to report', r.run_id
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

	-- Head, style and title
	h := '<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="generator" content="engage.report_html">
<title>' || @extschema@.xml_escape(format('User engagement report: %s, run %s', r.source, rid)) || '</title>
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
<p class="sub">Engagement analysis of the xDR table <code>' || @extschema@.xml_escape(r.source) || '</code> by engage.run_analysis, run '
		|| rid || '.</p>
</header>
';

	-- The run in figures
	SELECT string_agg(format('<div class="card"><div class="k">%s</div><div class="v">%s</div>%s</div>',
	                         c.k, c.v, COALESCE('<div class="d">' || c.d || '</div>', '')), E'\n' ORDER BY c.o)
	INTO part
	FROM (VALUES
		(1, 'Source table', @extschema@.xml_escape(r.source), NULL),
		(2, 'Run', rid::text, @extschema@.xml_escape(format('%s, took %s s', to_char(r.started, 'YYYY-MM-DD HH24:MI:SS TZ'),
		                                                   to_char(extract(epoch FROM r.ended - r.started), f1)))),
		(3, 'Rows read', to_char(r.rows_read, fi), NULL),
		(4, 'Rows left out', to_char(r.rows_without_subscriber, fi),
		    format('without subscriber (NULL MSISDN), %s%% of the rows; %s NaN, infinite or negative values skipped',
		           to_char(100.0 * r.rows_without_subscriber / NULLIF(r.rows_read, 0), f1),
		           to_char(COALESCE(r.rejected_values, 0), fi))),
		(5, 'Users', to_char(r.users, fi), 'distinct subscribers'),
		(6, 'Clusters (k)', r.k::text, 'K-means on z-scored sessions, duration and traffic'),
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
<p class="note">K-means (k = ' || r.k || ') on the z-scored sessions, duration and traffic of each user; clusters are numbered by ascending centroid norm, so 1 is the least engaged. The chart''s lower panel shows each cluster''s averages relative to the average over all users.</p>
' || chart || '<table>
<thead><tr class="group"><th colspan="3"></th><th colspan="3" class="g">Sessions per user</th><th colspan="3" class="g">Duration per user (min)</th><th colspan="3" class="g">Traffic per user (DL + UL)</th><th class="g"></th></tr>
<tr><th>Cluster</th><th class="n">Users</th><th class="n">Share</th><th class="n g">avg</th><th class="n">min &ndash; max</th><th class="n">total</th><th class="n g">avg</th><th class="n">min &ndash; max</th><th class="n">total (h)</th><th class="n g">avg</th><th class="n">min &ndash; max</th><th class="n">total</th><th class="n g">Inertia</th></tr></thead>
<tbody>
' || COALESCE(part, '') || '
</tbody>
</table>
</section>
';

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

COMMENT ON FUNCTION @extschema@.report_html(bigint) IS
'One self-contained HTML5 page (inline CSS and SVG charts, no scripts or external resources) of a run of run_analysis (NULL: the latest successful run): the run in figures, top 10 users, cluster statistics with labels and descriptions, top 3 applications, application totals and top users, the elbow curve; every text from the data is escaped';
