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

-- Transition state: a bigint[13] (see src/engagement_agg.c for its layout).

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
	INITCOND = '{0,0,0,0,0,0,0,0,0,0,0,0,0}',
	PARALLEL = SAFE
);

CREATE AGGREGATE @extschema@.engagement_agg(bigint, bigint, bigint) (
	SFUNC = @extschema@.engagement_accum,
	STYPE = bigint[],
	FINALFUNC = @extschema@.engagement_final,
	COMBINEFUNC = @extschema@.engagement_combine,
	INITCOND = '{0,0,0,0,0,0,0,0,0,0,0,0,0}',
	PARALLEL = SAFE
);

CREATE AGGREGATE @extschema@.engagement_agg(numeric, numeric, numeric) (
	SFUNC = @extschema@.engagement_accum,
	STYPE = bigint[],
	FINALFUNC = @extschema@.engagement_final,
	COMBINEFUNC = @extschema@.engagement_combine,
	INITCOND = '{0,0,0,0,0,0,0,0,0,0,0,0,0}',
	PARALLEL = SAFE
);

COMMENT ON AGGREGATE @extschema@.engagement_agg(double precision, double precision, double precision) IS
'Per-group engagement of xDR sessions (duration ms, DL bytes, UL bytes): sessions, exact sums, NULL and rejected counts';
COMMENT ON AGGREGATE @extschema@.engagement_agg(bigint, bigint, bigint) IS
'Per-group engagement of xDR sessions (duration ms, DL bytes, UL bytes): sessions, exact sums, NULL and rejected counts';
COMMENT ON AGGREGATE @extschema@.engagement_agg(numeric, numeric, numeric) IS
'Per-group engagement of xDR sessions (duration ms, DL bytes, UL bytes): sessions, exact sums, NULL and rejected counts';

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
-- is schema-qualified.
CREATE FUNCTION @extschema@.generate_xdr(table_name text, total_rows bigint DEFAULT 150001, users bigint DEFAULT NULL, seed bigint DEFAULT 0)
RETURNS bigint
LANGUAGE plpgsql VOLATILE
AS $$
DECLARE
	chunk constant bigint := 5000;
	n_users bigint;
	target text;
	inserted bigint;
BEGIN
	IF table_name IS NULL OR total_rows IS NULL OR seed IS NULL THEN
		RAISE EXCEPTION 'table_name, total_rows and seed must not be NULL'
			USING ERRCODE = 'null_value_not_allowed';
	END IF;
	IF total_rows < 1 THEN
		RAISE EXCEPTION 'total_rows must be at least 1'
			USING ERRCODE = 'invalid_parameter_value',
				  DETAIL = pg_catalog.format('total_rows is %s.', total_rows);
	END IF;
	n_users := COALESCE(users,
		GREATEST(1, pg_catalog.round(total_rows::numeric * 106856 / 150001)::bigint));
	-- checks users against total_rows (no rows are generated)
	PERFORM FROM @extschema@.xdr_rows(total_rows, n_users, seed, 0, 0);

	SELECT pg_catalog.string_agg(pg_catalog.quote_ident(part), '.' ORDER BY ord)
	INTO target
	FROM pg_catalog.unnest(pg_catalog.parse_ident(table_name)) WITH ORDINALITY AS p(part, ord);

	EXECUTE pg_catalog.format('CREATE TABLE %s (LIKE @extschema@.xdr)', target);
	EXECUTE pg_catalog.format(
		'INSERT INTO %s SELECT r.* FROM pg_catalog.generate_series(0::bigint, $1 - 1) AS c(i) '
		'CROSS JOIN LATERAL @extschema@.xdr_rows($2, $3, $4, c.i * $5, LEAST($5, $2 - c.i * $5)) AS r',
		target)
	USING (total_rows + chunk - 1) / chunk, total_rows, n_users, seed, chunk;
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
	n_points bigint
);

COMMENT ON TYPE @extschema@.kmeans_model IS
'A fitted K-means clustering: features, normalisation (scale and shift), k x d centroids in the features'' units and normalised, sizes, inertia, iterations, convergence and number of points; kmeans_predict assigns new points with it';

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
