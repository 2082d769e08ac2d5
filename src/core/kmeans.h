/*-------------------------------------------------------------------------
 *
 * kmeans.h
 *	  Numerical core of engage's clustering: K-means (k-means++ / random /
 *	  user initialisation, n_init restarts, Lloyd iterations accelerated by
 *	  Hamerly's bounds), assignment of new points, simplified silhouette and
 *	  the elbow curve.  The definitions shared by the whole core (status
 *	  codes, the caller environment) are in core.h.
 *
 * Plain C99, no PostgreSQL headers: it is unit-tested and fuzzed alone
 * (test/unit, test/fuzz) and called by a thin PostgreSQL glue.
 *
 * ---- How the glue uses it ------------------------------------------------
 *
 *	ecore_env env = {0};
 *	env.alloc = my_palloc;	env.alloc_arg = memory_context;
 *	env.check = my_check;	(calls CHECK_FOR_INTERRUPTS())
 *
 *	ecore_kmeans_params p;
 *	ecore_kmeans_params_default(&p);
 *	p.k = 3; p.seed = 42;
 *	if (ecore_kmeans_bytes(n, d, &p, &bytes) != ECORE_OK || bytes > limit)
 *		ereport(ERROR, ...);					(before any allocation)
 *	rc = ecore_kmeans_fit(X, n, d, &p, &env, &res);
 *	if (rc != ECORE_OK)
 *		ereport(ERROR, ecore_strerror(rc), env.error_row ...);
 *	... copy res.labels / res.centroids into SQL values ...
 *
 * Memory and interrupts: as core.h says (one env->alloc request per call,
 * env->check per chunk of points and per Lloyd iteration).
 *
 * Threads: with params.n_threads > 1 the n_init restarts of a fit are
 * shared by that many threads (restart r runs on thread r mod n_threads,
 * each with its own workspace inside the single allocation; the best
 * restart is chosen by inertia, then restart index, so the result is the
 * same for any n_threads).  Only the calling thread ever calls env->alloc
 * or env->check; the other threads poll a stop flag and start with every
 * signal blocked.  While they run, env->abort_hook is set: a check that
 * longjmps must call it first (it stops and joins the threads), so that
 * nothing runs on memory the caller is about to free.
 *
 * Data: points are n x d float8, row-major (point i, feature j at
 * X[i * d + j]).  Values must be finite and of magnitude at most
 * ECORE_MAX_ABS (1e100) so that squared distances and sums cannot
 * overflow (core.h says why); the first offending row is reported in
 * env->error_row.  At the other end, with k >= 2 squared distances must
 * not underflow: points that span less than 1e-150 (the square root of
 * the sum over the features of the squared ranges), whose squared
 * distances are subnormal or 0, are refused with ECORE_EUNDERFLOW, and so
 * is a fit that would leave a cluster empty because its points differ
 * from another cluster's only by amounts whose squares underflow (below
 * about 1.5e-154: a feature of tiny values next to ordinary ones).  Tiny
 * values whose squares are still normal numbers cluster exactly like the
 * same values scaled up by a power of two.  zscore and minmax do not help
 * with smaller ones: like scikit-learn's scalers they treat such a
 * feature as constant (scale 1); the remedy is to scale the data up
 * (another unit).
 *
 * Determinism: results depend only on the data, the parameters and the
 * 64-bit seed (own xoshiro256** generator, restart r uses stream r of the
 * seed); no global state, no time, and the same result for any
 * n_threads.
 *
 * Copyright (c) 2026, engage developers
 *
 *-------------------------------------------------------------------------
 */
#ifndef ECORE_KMEANS_H
#define ECORE_KMEANS_H

#include <stddef.h>
#include <stdint.h>

#include "core.h"

/* Most threads one fit may use (ecore_kmeans_params.n_threads). */
#define ECORE_MAX_THREADS 64

/* ---------------------------------------------------------------------
 * K-means
 * ---------------------------------------------------------------------
 */

/* Initialisation of the centroids. */
typedef enum ecore_kmeans_init
{
	ECORE_INIT_KMEANSPP = 0,	/* greedy k-means++ (as scikit-learn) */
	ECORE_INIT_RANDOM = 1,		/* k distinct points chosen uniformly */
	ECORE_INIT_USER = 2		/* params->init_centroids (k x d) */
} ecore_kmeans_init;

/*
 * Parse an initialisation name: "k-means++" (ECORE_INIT_KMEANSPP),
 * "random" (ECORE_INIT_RANDOM) or "given" (ECORE_INIT_USER), ASCII case
 * insensitive.  ECORE_EINVAL_INIT when unknown, ECORE_EINVAL_ARG when
 * name or init is NULL; *init is set on ECORE_OK only.
 */
extern int	ecore_kmeans_init_parse(const char *name, ecore_kmeans_init *init);

/* Name of an initialisation ("k-means++", "random", "given"), NULL if invalid. */
extern const char *ecore_kmeans_init_name(ecore_kmeans_init init);

/* Lloyd iteration strategy; both give identical results. */
typedef enum ecore_kmeans_algorithm
{
	ECORE_ALGO_HAMERLY = 0,	/* Hamerly's bounds (default, fastest) */
	ECORE_ALGO_LLOYD = 1		/* plain Lloyd: all k distances per point */
} ecore_kmeans_algorithm;

/* Parameters of a fit; ecore_kmeans_params_default() fills defaults. */
typedef struct ecore_kmeans_params
{
	int			k;				/* clusters, 1 <= k <= n (default 3) */
	ecore_kmeans_init init;	/* default ECORE_INIT_KMEANSPP */
	const double *init_centroids;	/* k x d, clustering space, for
									 * ECORE_INIT_USER (else ignored) */
	int			n_init;			/* restarts, >= 1 (default 10); forced to 1
								 * with ECORE_INIT_USER */
	int			max_iter;		/* Lloyd iterations per restart, >= 1
								 * (default 300) */
	double		tol;			/* relative tolerance >= 0 (default 1e-4):
								 * stop when the total squared centroid
								 * shift <= tol * mean feature variance */
	uint64_t	seed;			/* PRNG seed (default 0) */
	ecore_kmeans_algorithm algorithm;	/* default ECORE_ALGO_HAMERLY */
	int			n_threads;		/* threads sharing the restarts, 0 or 1 =
								 * none (default 1), at most
								 * ECORE_MAX_THREADS; the result does not
								 * depend on it */
	int			n_local_trials; /* k-means++ candidates per centroid; 0 =
								 * 2 + floor(ln k) as scikit-learn */
} ecore_kmeans_params;

/*
 * Result of a fit.  All arrays point into the single block the fit got
 * from env->alloc.  Clusters are relabelled 0..k-1 by ascending Euclidean
 * norm of the centroid in the clustering space (ties: lexicographic order
 * of the centroid coordinates, then the previous order), so with
 * engagement features cluster 0 is the least engaged.
 */
typedef struct ecore_kmeans_result
{
	size_t		n;
	size_t		d;
	int			k;
	double	   *centroids;		/* k x d, row-major, clustering space */
	int32_t    *labels;			/* n, in 0..k-1: nearest centroid (ties:
								 * lowest index) */
	double	   *distances;		/* n, Euclidean distance to own centroid */
	int64_t    *sizes;			/* k, points per cluster (sum n) */
	double	   *cluster_inertia;	/* k, sum of squared distances */
	double		inertia;		/* sum of cluster_inertia */
	int			iterations;		/* Lloyd iterations of the kept restart */
	int			converged;		/* 1: stopped on no change or tol; 0:
								 * max_iter reached */
	int			best_restart;	/* index of the kept restart */
	double		tol_abs;		/* tol * mean feature variance */
} ecore_kmeans_result;

/* Fill *params with the defaults listed in ecore_kmeans_params. */
extern void ecore_kmeans_params_default(ecore_kmeans_params *params);

/*
 * Bytes ecore_kmeans_fit() will request from env->alloc for n x d points
 * with these params (outputs and workspace, one request).  Validates n, d,
 * k (k <= n), the enums, n_init, max_iter and tol first, so a non-OK
 * status here is the same the fit would return.  Roughly
 * n * (4 + 8 + 8) + O(k * (d + 1)) bytes.
 */
extern int	ecore_kmeans_bytes(size_t n, size_t d,
								const ecore_kmeans_params *params,
								size_t *bytes);

/*
 * Fit K-means on X (n x d).  Validates the points (ECORE_ENONFINITE /
 * ECORE_ERANGE with env->error_row), checks there are at least k
 * distinct points (ECORE_EDISTINCT), then runs n_init restarts (restart r
 * seeded from (seed, r)), each: initialisation, Lloyd iterations until no
 * assignment changes, or the total squared centroid shift <= tol_abs, or
 * max_iter; then a last assignment step so that labels and inertia match
 * the final centroids.  An empty cluster takes the point farthest from
 * its assigned centroid (among points whose cluster keeps at least one
 * point and not already moved).  The restart with the lowest inertia is
 * kept (first on ties), relabelled, and the final labels, distances,
 * sizes and inertias are computed from its centroids.  ECORE_EUNDERFLOW
 * (k >= 2) when the points are too close together for their squared
 * distances (see "Data" above), checked before the restarts (the span)
 * and after the final pass (an empty cluster whose centroid is closer
 * than about 1.5e-154 to another one, equal included).  *result is
 * filled on ECORE_OK only.
 */
extern int	ecore_kmeans_fit(const double *X, size_t n, size_t d,
							  const ecore_kmeans_params *params,
							  ecore_env *env, ecore_kmeans_result *result);

/* Bytes ecore_kmeans_elbow() will request (one request, as a k_max fit). */
extern int	ecore_kmeans_elbow_bytes(size_t n, size_t d, int k_max,
									  const ecore_kmeans_params *params,
									  size_t *bytes);

/*
 * Elbow curve: fit k = 1..k_max with params (params->k ignored; init
 * k-means++ or random, ECORE_INIT_USER is ECORE_EINVAL_INIT) and store
 * the inertia of k in inertia[k - 1] (caller array of k_max): exactly the
 * inertia ecore_kmeans_fit() returns for that k.  iterations may be NULL
 * or receive the iterations of each k.  Fails like ecore_kmeans_fit for
 * k = k_max (ECORE_EINVAL_K if k_max < 1 or > n, ECORE_EDISTINCT if
 * fewer than k_max distinct points), and with ECORE_EUNDERFLOW if the fit
 * of any k fails so.  One allocation, reused for every k.
 */
extern int	ecore_kmeans_elbow(const double *X, size_t n, size_t d, int k_max,
								const ecore_kmeans_params *params,
								ecore_env *env, double *inertia,
								int *iterations);

/* ---------------------------------------------------------------------
 * The elbow curve of elbow_inertia: split starts and an optional sample
 * ---------------------------------------------------------------------
 */

/*
 * 64-bit hash of (seed, len bytes of data) that chooses the sample of
 * ecore_elbow_curve (the bytes of each point's key).  Defined on the
 * bytes alone (8-byte little-endian words assembled byte by byte, mixed
 * with splitmix64's finaliser), so every machine, and every worker of a
 * distributed table, computes the same value.
 */
extern uint64_t ecore_sample_hash(uint64_t seed, const void *data, size_t len);

/* Parameters of ecore_elbow_curve */
typedef struct ecore_elbow_params
{
	ecore_kmeans_params km;		/* init (k-means++ or random), n_init,
								 * max_iter, tol, seed, n_threads,
								 * algorithm; km.k is ignored */
	int			k_min;			/* 1 <= k_min <= k_max <= n */
	int			k_max;
	size_t		sample;			/* m: 0 or >= n: every point (the exact
								 * path); else the restarts run on a
								 * weighted sample of m points and their
								 * best candidates are refined on all
								 * points; at least k_max */
	const uint64_t *hashes;		/* n hashes (ecore_sample_hash of each
								 * point's key); needed when sample < n */
	int			sample_n_init;	/* restarts on the sample per k, 0..
								 * ECORE_ELBOW_MAX_SAMPLE_N_INIT; 0 = the
								 * default, ecore_elbow_sample_n_init(n_init) */
	int			refine;			/* restarts refined on all points per k:
								 * the best of each of the first refine
								 * groups of restarts on the sample,
								 * 1..sample_n_init; 0 = the default,
								 * ECORE_ELBOW_REFINE (at most the
								 * restarts); the split run is refined
								 * too */
	/*
	 * Optional (NULL: none): called from the calling thread after each k
	 * of the curve, with that k and k_max, so a caller can report how far
	 * a long curve has got.  It must not longjmp out of the core except
	 * through env->check's rules (call env->abort_hook first); engage's
	 * glue only reports.
	 */
	void		(*progress) (void *arg, int k, int k_max);
	void	   *progress_arg;
} ecore_elbow_params;

/*
 * The sample elbow_inertia chooses when not told (sample NULL): the exact
 * path up to ECORE_ELBOW_AUTO_EXACT_MAX points, above it a sample of
 * ECORE_ELBOW_AUTO_SAMPLE points (where the sampled path starts to cost
 * less than the exact one on three features; its agreement is measured at
 * that size, see kmeans_elbow.c).
 */
#define ECORE_ELBOW_AUTO_EXACT_MAX 200000
#define ECORE_ELBOW_AUTO_SAMPLE 32768

/* Most restarts on the sample per k (ecore_elbow_params.sample_n_init) */
#define ECORE_ELBOW_MAX_SAMPLE_N_INIT 10000

/* Default number of restarts refined on all points per k */
#define ECORE_ELBOW_REFINE 3

/* Default restarts on the sample for n_init restarts on all points */
static inline int
ecore_elbow_sample_n_init(int n_init)
{
	return n_init > ECORE_ELBOW_MAX_SAMPLE_N_INIT / 3 ?
		ECORE_ELBOW_MAX_SAMPLE_N_INIT : 3 * n_init;
}

/* Outputs of ecore_elbow_curve: caller arrays of k_max - k_min + 1 */
typedef struct ecore_elbow_out
{
	double	   *inertia;		/* inertia on all points */
	double	   *silhouette;		/* simplified silhouette on all points (NaN
								 * for k = 1); may be NULL */
	int		   *iterations;		/* Lloyd iterations on all points of the
								 * kept run; may be NULL */
	double	   *centroids;		/* (k_max - k_min + 1) x k_max x d: k's
								 * centroids (relabelled as a fit's) at
								 * (k - k_min) * k_max * d; may be NULL */
	size_t		sample_used;	/* points the restarts ran on: n on the
								 * exact path, else the sample size */
	int			k;				/* the k being fitted (on an error: the k
								 * that failed) */
	double	   *davies_bouldin;	/* ecore_cluster_scores of each k's
								 * labels on all points (NaN for k = 1 and
								 * k = n); may be NULL */
	double	   *calinski_harabasz;	/* likewise; NULL exactly when
									 * davies_bouldin is */
	double	   *score_work;		/* with the scores: ecore_cluster_scores_work
								 * (k_max, d) doubles of the caller */
} ecore_elbow_out;

/* Set *params to ecore_kmeans_params_default, k 1..10, no sample. */
extern void ecore_elbow_params_default(ecore_elbow_params *params);

/*
 * Bytes ecore_elbow_curve() will request (one request).  Validates like
 * the curve (k range, sample, refine, hashes, the fit parameters for
 * k_max).
 */
extern int	ecore_elbow_curve_bytes(size_t n, size_t d,
									 const ecore_elbow_params *params,
									 size_t *bytes);

/*
 * The elbow curve of elbow_inertia, for k = k_min..k_max.
 *
 * Exact path (sample 0 or >= n): each k is ecore_kmeans_fit() with the
 * parameters (n_init restarts on all points), plus, from k_min + 1 on, one
 * more run started from the previous k's clustering with its worst
 * cluster split (its centroids, plus the point farthest from its centroid
 * in the cluster of largest inertia; none when every cluster has zero
 * inertia), kept when its inertia is strictly lower.  Bit for bit the
 * results of those fits, whatever n_threads.
 *
 * With a sample (sample < n): the sample is chosen by priority sampling
 * (Duffield, Lund and Thorup) with the measure q_i = 1 / (2n) + d_i^2 /
 * (2 sum d^2), d_i the distance of point i to the mean of all points (a
 * "lightweight coreset", Bachem, Lucic and Krause 2018): point i's key is
 * u_i / q_i, u_i in (0, 1) from hashes[i]; the m points of smallest
 * (key, i) are the sample, in that order, each weighted max(1, 1 /
 * (kappa q_i)) (kappa the (m + 1)-th key), the number of points it stands
 * for.  The sample does not depend on the order of the points when their
 * keys differ (the caller breaks ties by ordering the points
 * canonically).  Each k: sample_n_init restarts run on the sample,
 * weighted (k-means++ and random draws by weight, weighted means and
 * inertia, the tolerance of all points), shared by the threads, and the
 * split start (from the previous k's result on all points) is run on the
 * sample too; then the candidates are refined on all points by Lloyd
 * iterations from their centroids (tol and max_iter as the fit's), shared
 * by the threads, and the one of lowest inertia on all points is kept (the
 * first on ties).  The candidates: in order of their inertia on the
 * sample, the restarts fall into groups (each within 1e-4 of the previous
 * one: one local minimum stopped at slightly different places); the best
 * of each of the first params->refine groups, then the split run.  The
 * inertia, the silhouette and the split of the next k are of all points.
 * When the sample holds fewer than k_max distinct points, the exact path
 * runs instead (sample_used = n).  The result is the same for any
 * n_threads.
 *
 * Errors as ecore_kmeans_fit for the k in out->k (the distinct-point
 * check is per k, as the fit's), ECORE_EINVAL_ARG for a bad sample or
 * refine or missing hashes, ECORE_EINVAL_INIT for ECORE_INIT_USER.
 * env->check is called per chunk of points and per Lloyd iteration.
 */
extern int	ecore_elbow_curve(const double *X, size_t n, size_t d,
							   const ecore_elbow_params *params,
							   ecore_env *env, ecore_elbow_out *out);

/*
 * Assign (predict): label of each point of X (n x d) = nearest of the k
 * centroids (k x d), ties to the lowest index; distances (may be NULL)
 * gets the Euclidean distance to it.  No allocation (env->alloc may be
 * NULL).  Validates the points and the centroids (centroid problems are
 * ECORE_EINIT_VALUE).
 */
extern int	ecore_kmeans_assign(const double *X, size_t n, size_t d,
								 const double *centroids, int k,
								 ecore_env *env, int32_t *labels,
								 double *distances);

/*
 * Inertia of a labelling: sum over points of the squared Euclidean
 * distance to centroid labels[i]; per-cluster sums in cluster_inertia (k,
 * may be NULL) and sizes (k, may be NULL).  Labels out of range are
 * ECORE_EINVAL_ARG with env->error_row.  No allocation.
 */
extern int	ecore_kmeans_inertia(const double *X, size_t n, size_t d,
								  const double *centroids, int k,
								  const int32_t *labels, ecore_env *env,
								  double *inertia, double *cluster_inertia,
								  int64_t *sizes);

/*
 * Simplified (centroid-based) silhouette, O(n k): for each point,
 * a = distance to its own centroid (labels[i], or the nearest centroid
 * when labels is NULL), b = distance to the nearest other centroid,
 * s = (b - a) / max(a, b), and s = 0 when max(a, b) = 0.  *score gets the
 * mean over the points; per_point (n, may be NULL) gets each s.  For
 * k = 1 the silhouette is undefined: *score (and every per_point) is NaN
 * and the status is ECORE_OK.  No allocation.
 */
extern int	ecore_silhouette_simplified(const double *X, size_t n, size_t d,
										 const double *centroids, int k,
										 const int32_t *labels,
										 ecore_env *env, double *score,
										 double *per_point);

/*
 * Doubles of work space ecore_cluster_scores() needs for k clusters of d
 * features (2 k d + 2 d + 4 k).
 */
extern int	ecore_cluster_scores_work(int k, size_t d, size_t *doubles);

/*
 * Quality indexes of a labelling (labels in 0..k-1) of X (n x d), as
 * scikit-learn 1.2's sklearn.metrics define them on the same labels, from
 * the means of the clusters the labels make (empty clusters do not count,
 * as scikit-learn sees only the labels present):
 *	 Davies-Bouldin: s_i the mean distance of cluster i's points to its
 *	 mean, d_ij the distance between the means of i and j; the mean over
 *	 the clusters of max over j != i of (s_i + s_j) / d_ij (a d_ij of 0
 *	 counts as infinity); 0 when every s_i, or every d_ij, is at most 1e-8
 *	 (np.allclose(., 0)).  Lower is better.
 *	 Calinski-Harabasz: B the sum over clusters of size_i times the squared
 *	 distance of its mean to the mean of all points, W the sum of squared
 *	 distances of the points to their cluster's mean; B (n - L) / (W (L -
 *	 1)), L the clusters; 1 when W = 0.  Higher is better.
 * Both NaN (status ECORE_OK) when L < 2 or L >= n, where scikit-learn
 * refuses the labelling.  work: ecore_cluster_scores_work doubles.  No
 * allocation; env->check per chunk.  A label out of range is
 * ECORE_EINVAL_ARG with env->error_row.
 */
extern int	ecore_cluster_scores(const double *X, size_t n, size_t d,
								  const int32_t *labels, int k, double *work,
								  ecore_env *env, double *davies_bouldin,
								  double *calinski_harabasz);

#endif							/* ECORE_KMEANS_H */
