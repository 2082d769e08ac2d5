------------------------------------------------------------------------------
-- sql/src/kmeans_agg.sql: K-means whose points never gather in one place
--
-- scaling_agg (and its type scaling), kmeans_step_agg (and its type
-- kmeans_step), sample_hash, sample_cutoff and kmeans_fit_sampled (C: src/kmeans_agg.c
-- over src/core/kmeans_step.c and src/core/xsum.c).  The aggregates have
-- bigint[] states and combine functions: parallel workers and Citus
-- workers compute them in parts, and every sum in them is exact, so the
-- results are the same bits whatever the plan.
------------------------------------------------------------------------------

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
