------------------------------------------------------------------------------
-- sql/src/clustering.sql: normalisation, K-means, assignment of new points,
-- the elbow
--
-- scaling_params, normalize_points, kmeans_cluster, kmeans_cluster_rows,
-- kmeans_centroids, kmeans_model (and its type), kmeans_predict,
-- kmeans_nearest, kmeans_assign, elbow_inertia and the window function
-- kmeans (C: src/kmeans_sql.c, src/points.c over src/core/).
--
-- normalization: 'zscore' (StandardScaler), 'minmax' (MinMaxScaler),
-- 'log' (log(1 + x), then z-scores; negative features are an error),
-- 'robust' (median and interquartile range, RobustScaler) or 'none'.
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
'Scaling parameters of each feature of the points query: mean, population std, min, max (of the features as they are), and the scale and shift applied (zscore and robust: (x - shift) / scale; log: (ln(1 + x) - shift) / scale; minmax: x * scale + shift; none: x), as scikit-learn''s StandardScaler, RobustScaler (median, interquartile range; 1 for a zero range), FunctionTransformer(np.log1p) then StandardScaler, and MinMaxScaler';

CREATE FUNCTION @extschema@.normalize_points(points text, normalization text DEFAULT 'zscore')
RETURNS TABLE (key text, features double precision[])
AS 'MODULE_PATHNAME', 'engage_normalize_points'
LANGUAGE C VOLATILE PARALLEL UNSAFE;

COMMENT ON FUNCTION @extschema@.normalize_points(text, text) IS
'The points of the points query, normalised (zscore, minmax, log, robust or none) as the clustering functions see them: key and features';

CREATE FUNCTION @extschema@.kmeans_cluster(points text, k integer DEFAULT 3,
    normalization text DEFAULT 'zscore', n_init integer DEFAULT 10, max_iter integer DEFAULT 300,
    tol double precision DEFAULT 1e-4, seed bigint DEFAULT 0, init text DEFAULT 'k-means++',
    initial_centroids double precision[] DEFAULT NULL)
RETURNS TABLE (key text, cluster integer, distance double precision)
AS 'MODULE_PATHNAME', 'engage_kmeans_cluster'
LANGUAGE C VOLATILE PARALLEL UNSAFE;

COMMENT ON FUNCTION @extschema@.kmeans_cluster(text, integer, text, integer, integer, double precision, bigint, text, double precision[]) IS
'K-means clustering of the points query: one row per point with its key (text form), cluster 1..k (ascending centroid norm in normalised space: 1 is the least engaged) and Euclidean distance to its centroid in normalised space';

CREATE FUNCTION @extschema@.kmeans_cluster_rows(points text, k integer DEFAULT 3,
    normalization text DEFAULT 'zscore', n_init integer DEFAULT 10, max_iter integer DEFAULT 300,
    tol double precision DEFAULT 1e-4, seed bigint DEFAULT 0, init text DEFAULT 'k-means++',
    initial_centroids double precision[] DEFAULT NULL, features integer DEFAULT NULL)
RETURNS SETOF record
AS 'MODULE_PATHNAME', 'engage_kmeans_cluster_rows'
LANGUAGE C VOLATILE PARALLEL UNSAFE;

COMMENT ON FUNCTION @extschema@.kmeans_cluster_rows(text, integer, text, integer, integer, double precision, bigint, text, double precision[], integer) IS
'The clustering of kmeans_cluster with the same arguments, from one read of the points query, returned as its rows: every column as the query returned it (the key, the features: the first features columns after the key, all of them when NULL, and the other columns, carried through unchanged), then cluster 1..k and distance, and, when the column definition list ends with model engage.kmeans_model, the kmeans_model value on the first row (NULL on the others); the column definition list names the query''s columns with their types, then cluster integer, distance double precision[, model engage.kmeans_model]';

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
'A fitted K-means clustering: features, normalisation (its name, scale and shift: log applies ln(1 + x) first), k x d centroids in the features'' units and normalised, sizes, inertia, iterations, convergence, number of points and the inertia of each cluster; kmeans_predict and kmeans_assign assign points with it';

CREATE FUNCTION @extschema@.kmeans_model(points text, k integer DEFAULT 3,
    normalization text DEFAULT 'zscore', n_init integer DEFAULT 10, max_iter integer DEFAULT 300,
    tol double precision DEFAULT 1e-4, seed bigint DEFAULT 0, init text DEFAULT 'k-means++',
    initial_centroids double precision[] DEFAULT NULL)
RETURNS @extschema@.kmeans_model
AS 'MODULE_PATHNAME', 'engage_kmeans_model'
LANGUAGE C VOLATILE PARALLEL UNSAFE;

COMMENT ON FUNCTION @extschema@.kmeans_model(text, integer, text, integer, integer, double precision, bigint, text, double precision[]) IS
'The clustering of kmeans_cluster with the same arguments, as one engage.kmeans_model value, to store and to assign points with kmeans_predict or kmeans_assign';

CREATE FUNCTION @extschema@.kmeans_predict(model @extschema@.kmeans_model, features double precision[])
RETURNS integer
AS 'MODULE_PATHNAME', 'engage_kmeans_predict'
LANGUAGE C IMMUTABLE PARALLEL SAFE;

COMMENT ON FUNCTION @extschema@.kmeans_predict(@extschema@.kmeans_model, double precision[]) IS
'Cluster (1..k) of a new point under a fitted model: normalised as the model''s points, nearest centroid (ties: lowest cluster); NULL when a feature is NULL';

CREATE FUNCTION @extschema@.kmeans_nearest(model @extschema@.kmeans_model, features double precision[],
    OUT cluster integer, OUT distance double precision)
RETURNS record
AS 'MODULE_PATHNAME', 'engage_kmeans_nearest'
LANGUAGE C IMMUTABLE PARALLEL SAFE;

COMMENT ON FUNCTION @extschema@.kmeans_nearest(@extschema@.kmeans_model, double precision[]) IS
'Cluster (1..k) of a point under a fitted model, as kmeans_predict gives it, and its Euclidean distance to that centroid in the normalised space; on the points the model was fitted on, the cluster and distance of the fit, bit for bit; NULLs when a feature is NULL. Pushed down to the Citus workers, it assigns a distributed table''s rows where they are';

CREATE FUNCTION @extschema@.kmeans_assign(model @extschema@.kmeans_model, points text)
RETURNS TABLE (key text, cluster integer, distance double precision)
AS 'MODULE_PATHNAME', 'engage_kmeans_assign'
LANGUAGE C VOLATILE PARALLEL UNSAFE;

COMMENT ON FUNCTION @extschema@.kmeans_assign(@extschema@.kmeans_model, text) IS
'Every point of the points query assigned with a fitted model, in one pass: key (text form), cluster 1..k (nearest centroid once normalised as the model''s points, ties: lowest cluster) and Euclidean distance to it in normalised space; on the points the model was fitted on, kmeans_cluster''s result without fitting again';

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

CREATE FUNCTION @extschema@.kmeans(features double precision[], k integer DEFAULT 3,
    normalization text DEFAULT 'zscore', n_init integer DEFAULT 10, seed bigint DEFAULT 0)
RETURNS integer
AS 'MODULE_PATHNAME', 'engage_kmeans'
LANGUAGE C WINDOW IMMUTABLE PARALLEL SAFE;

COMMENT ON FUNCTION @extschema@.kmeans(double precision[], integer, text, integer, bigint) IS
'Window function: kmeans(features, ...) OVER (PARTITION BY ...) gives each row the cluster (1..k) of its features in the K-means clustering of its partition, the clustering of kmeans_cluster (max_iter 300, tol 1e-4, k-means++) on the partition''s points, ordered by their features alone (as kmeans_cluster orders points that share one key), so the same whatever the order of the rows; NULL for NULL features or features holding a NULL, which take no part; k, normalization, n_init and seed are read on the partition''s first row; every partition within engage.max_memory';
