/*-------------------------------------------------------------------------
 *
 * kmeans.h
 *	  Numerical core of engage's clustering: K-means (k-means++ / random /
 *	  user initialisation, n_init restarts, Lloyd iterations accelerated by
 *	  Hamerly's bounds), assignment of new points, simplified silhouette and
 *	  the elbow curve.  Also the definitions shared by the whole core
 *	  (scale.h and knee.h use them): status codes and the caller environment.
 *
 * Plain C99, no PostgreSQL headers: it is unit-tested and fuzzed alone
 * (test/unit, test/fuzz) and called by a thin PostgreSQL glue.
 *
 * ---- How the glue uses it ------------------------------------------------
 *
 *	engage_env env = {0};
 *	env.alloc = my_palloc;	env.alloc_arg = memory_context;
 *	env.check = my_check;	(calls CHECK_FOR_INTERRUPTS())
 *
 *	engage_kmeans_params p;
 *	engage_kmeans_params_default(&p);
 *	p.k = 3; p.seed = 42;
 *	if (engage_kmeans_bytes(n, d, &p, &bytes) != ENGAGE_OK || bytes > limit)
 *		ereport(ERROR, ...);					(before any allocation)
 *	rc = engage_kmeans_fit(X, n, d, &p, &env, &res);
 *	if (rc != ENGAGE_OK)
 *		ereport(ERROR, engage_strerror(rc), env.error_row ...);
 *	... copy res.labels / res.centroids into SQL values ...
 *
 * Memory: the core never calls malloc/free.  Every byte it uses comes from
 * env->alloc, in as few large requests as possible (one per fit / elbow /
 * silhouette call), and is never freed by the core: the caller frees it
 * (a PostgreSQL memory context reset).  The *_bytes() functions announce
 * beforehand the exact total a call will request (the allocator's own
 * per-chunk overhead comes on top: at most ENGAGE_MAX_ALLOCS chunks per
 * call).  env->alloc may longjmp (palloc's ereport) and env->check may
 * longjmp (CHECK_FOR_INTERRUPTS): the core holds no other resource, so
 * that is safe.  A single request can exceed 1 GB for huge n: a PostgreSQL
 * allocator should use palloc_extended(size, MCXT_ALLOC_HUGE).  The
 * allocator must return memory aligned for double and int64 (MAXALIGN).
 * If it returns NULL the call fails with ENGAGE_ENOMEM.
 *
 * Interrupts: env->check (optional) is called once per Lloyd iteration
 * and at the start of every chunk of ENGAGE_CHECK_CHUNK points of every
 * loop over the points (validation, variance, seeding, assignment,
 * inertia, silhouette, scaling).
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
 * ENGAGE_MAX_ABS (1e100) so that squared distances and sums cannot
 * overflow; the first offending row is reported in env->error_row.
 *
 * Determinism: results depend only on the data, the parameters and the
 * 64-bit seed (own xoshiro256** generator, restart r uses stream r of the
 * seed); no global state, no time, no threads.
 *
 * Copyright (c) 2026, engage developers
 *
 *-------------------------------------------------------------------------
 */
#ifndef ENGAGE_KMEANS_H
#define ENGAGE_KMEANS_H

#include <stddef.h>
#include <stdint.h>

/* ---------------------------------------------------------------------
 * Shared definitions of the core
 * ---------------------------------------------------------------------
 */

/* Status codes returned by every core function (0 is success). */
typedef enum engage_status
{
	ENGAGE_OK = 0,
	ENGAGE_EINVAL_ENV,			/* env is NULL or env->alloc is NULL */
	ENGAGE_EINVAL_ARG,			/* NULL array, bad enum, n_local_trials not
								 * in 0..1024, label out of range (row in
								 * env->error_row), unknown scale name */
	ENGAGE_EINVAL_N,			/* n < 1 (knee: curve length 0) */
	ENGAGE_EINVAL_D,			/* d < 1 */
	ENGAGE_EINVAL_K,			/* k < 1 or k > n (elbow: k_max) */
	ENGAGE_EINVAL_NINIT,		/* n_init < 1 */
	ENGAGE_EINVAL_MAXITER,		/* max_iter < 1 */
	ENGAGE_EINVAL_TOL,			/* tol negative or not finite */
	ENGAGE_EINVAL_INIT,			/* unknown init method, or ENGAGE_INIT_USER
								 * without centroids */
	ENGAGE_EINVAL_ALGORITHM,	/* unknown algorithm */
	ENGAGE_ENONFINITE,			/* NaN or infinity in the points; row in
								 * env->error_row */
	ENGAGE_ERANGE,				/* |value| > ENGAGE_MAX_ABS; row in
								 * env->error_row */
	ENGAGE_EINIT_VALUE,			/* centroid not finite or above
								 * ENGAGE_MAX_ABS_CENTROID; centroid index
								 * in env->error_row */
	ENGAGE_EDISTINCT,			/* fewer distinct points than k */
	ENGAGE_ENOMEM,				/* env->alloc returned NULL */
	ENGAGE_EOVERFLOW,			/* a size computation overflows size_t */
	ENGAGE_EINVAL_CURVE			/* knee: x not strictly increasing, or a
								 * non-finite x/y */
} engage_status;

/*
 * Points of a loop between two calls of env->check (the scaler fit's sums
 * check once per block of 8192 rows of each column).
 */
#define ENGAGE_CHECK_CHUNK 4096

/* Largest magnitude accepted for a coordinate of a point. */
#define ENGAGE_MAX_ABS 1e100

/*
 * Largest magnitude accepted for a coordinate of a centroid (user
 * initial centroids, assign, inertia, silhouette): twice ENGAGE_MAX_ABS,
 * because a mean of points at the limit can round slightly above it.
 */
#define ENGAGE_MAX_ABS_CENTROID 2e100

/* Most allocator requests made by one core call. */
#define ENGAGE_MAX_ALLOCS 1

/*
 * Caller environment.  alloc is mandatory for the functions that allocate
 * (fit, elbow, scaler init); check is optional (NULL: never called).
 * error_row is an output: set with ENGAGE_ENONFINITE, ENGAGE_ERANGE (row
 * of the points), ENGAGE_EINIT_VALUE (index of the centroid) and a label
 * out of range (ENGAGE_EINVAL_ARG); error_col is the feature index.
 */
typedef struct engage_env
{
	void	   *(*alloc) (void *arg, size_t size);
	void	   *alloc_arg;
	void		(*check) (void *arg);
	void	   *check_arg;
	size_t		error_row;
	size_t		error_col;
	/*
	 * Set by the core while threads of a fit run (NULL otherwise): a
	 * check that is about to longjmp must first call
	 * abort_hook(abort_arg), which stops and joins the threads.
	 */
	void		(*abort_hook) (void *arg);
	void	   *abort_arg;
} engage_env;

/* Most threads one fit may use (engage_kmeans_params.n_threads). */
#define ENGAGE_MAX_THREADS 64

/* Static English message of a status code (never NULL). */
extern const char *engage_strerror(int status);

/*
 * Do two NUL-terminated names match, ignoring ASCII case (only A-Z fold to
 * a-z; every other byte compares exactly)?  1 or 0; NULL matches nothing.
 * The option parsers of the core use it.
 */
extern int	engage_name_equal(const char *a, const char *b);

/*
 * Validate points: finite and |x| <= ENGAGE_MAX_ABS.  Returns ENGAGE_OK,
 * ENGAGE_ENONFINITE or ENGAGE_ERANGE (first offending row/col in env;
 * a row with both problems reports the first bad value).  Calls env->check
 * per chunk (env->alloc is not needed here and may be NULL).
 */
extern int	engage_validate_points(const double *X, size_t n, size_t d,
								   engage_env *env);

/* ---------------------------------------------------------------------
 * K-means
 * ---------------------------------------------------------------------
 */

/* Initialisation of the centroids. */
typedef enum engage_kmeans_init
{
	ENGAGE_INIT_KMEANSPP = 0,	/* greedy k-means++ (as scikit-learn) */
	ENGAGE_INIT_RANDOM = 1,		/* k distinct points chosen uniformly */
	ENGAGE_INIT_USER = 2		/* params->init_centroids (k x d) */
} engage_kmeans_init;

/*
 * Parse an initialisation name: "k-means++" (ENGAGE_INIT_KMEANSPP),
 * "random" (ENGAGE_INIT_RANDOM) or "given" (ENGAGE_INIT_USER), ASCII case
 * insensitive.  ENGAGE_EINVAL_INIT when unknown, ENGAGE_EINVAL_ARG when
 * name or init is NULL; *init is set on ENGAGE_OK only.
 */
extern int	engage_kmeans_init_parse(const char *name, engage_kmeans_init *init);

/* Name of an initialisation ("k-means++", "random", "given"), NULL if invalid. */
extern const char *engage_kmeans_init_name(engage_kmeans_init init);

/* Lloyd iteration strategy; both give identical results. */
typedef enum engage_kmeans_algorithm
{
	ENGAGE_ALGO_HAMERLY = 0,	/* Hamerly's bounds (default, fastest) */
	ENGAGE_ALGO_LLOYD = 1		/* plain Lloyd: all k distances per point */
} engage_kmeans_algorithm;

/* Parameters of a fit; engage_kmeans_params_default() fills defaults. */
typedef struct engage_kmeans_params
{
	int			k;				/* clusters, 1 <= k <= n (default 3) */
	engage_kmeans_init init;	/* default ENGAGE_INIT_KMEANSPP */
	const double *init_centroids;	/* k x d, clustering space, for
									 * ENGAGE_INIT_USER (else ignored) */
	int			n_init;			/* restarts, >= 1 (default 10); forced to 1
								 * with ENGAGE_INIT_USER */
	int			max_iter;		/* Lloyd iterations per restart, >= 1
								 * (default 300) */
	double		tol;			/* relative tolerance >= 0 (default 1e-4):
								 * stop when the total squared centroid
								 * shift <= tol * mean feature variance */
	uint64_t	seed;			/* PRNG seed (default 0) */
	engage_kmeans_algorithm algorithm;	/* default ENGAGE_ALGO_HAMERLY */
	int			n_threads;		/* threads sharing the restarts, 0 or 1 =
								 * none (default 1), at most
								 * ENGAGE_MAX_THREADS; the result does not
								 * depend on it */
	int			n_local_trials; /* k-means++ candidates per centroid; 0 =
								 * 2 + floor(ln k) as scikit-learn */
} engage_kmeans_params;

/*
 * Result of a fit.  All arrays point into the single block the fit got
 * from env->alloc.  Clusters are relabelled 0..k-1 by ascending Euclidean
 * norm of the centroid in the clustering space (ties: lexicographic order
 * of the centroid coordinates, then the previous order), so with
 * engagement features cluster 0 is the least engaged.
 */
typedef struct engage_kmeans_result
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
} engage_kmeans_result;

/* Fill *params with the defaults listed in engage_kmeans_params. */
extern void engage_kmeans_params_default(engage_kmeans_params *params);

/*
 * Bytes engage_kmeans_fit() will request from env->alloc for n x d points
 * with these params (outputs and workspace, one request).  Validates n, d,
 * k (k <= n), the enums, n_init, max_iter and tol first, so a non-OK
 * status here is the same the fit would return.  Roughly
 * n * (4 + 8 + 8) + O(k * (d + 1)) bytes.
 */
extern int	engage_kmeans_bytes(size_t n, size_t d,
								const engage_kmeans_params *params,
								size_t *bytes);

/*
 * Fit K-means on X (n x d).  Validates the points (ENGAGE_ENONFINITE /
 * ENGAGE_ERANGE with env->error_row), checks there are at least k
 * distinct points (ENGAGE_EDISTINCT), then runs n_init restarts (restart r
 * seeded from (seed, r)), each: initialisation, Lloyd iterations until no
 * assignment changes, or the total squared centroid shift <= tol_abs, or
 * max_iter; then a last assignment step so that labels and inertia match
 * the final centroids.  An empty cluster takes the point farthest from
 * its assigned centroid (among points whose cluster keeps at least one
 * point and not already moved).  The restart with the lowest inertia is
 * kept (first on ties), relabelled, and the final labels, distances,
 * sizes and inertias are computed from its centroids.  *result is filled
 * on ENGAGE_OK only.
 */
extern int	engage_kmeans_fit(const double *X, size_t n, size_t d,
							  const engage_kmeans_params *params,
							  engage_env *env, engage_kmeans_result *result);

/* Bytes engage_kmeans_elbow() will request (one request, as a k_max fit). */
extern int	engage_kmeans_elbow_bytes(size_t n, size_t d, int k_max,
									  const engage_kmeans_params *params,
									  size_t *bytes);

/*
 * Elbow curve: fit k = 1..k_max with params (params->k ignored; init
 * k-means++ or random, ENGAGE_INIT_USER is ENGAGE_EINVAL_INIT) and store
 * the inertia of k in inertia[k - 1] (caller array of k_max): exactly the
 * inertia engage_kmeans_fit() returns for that k.  iterations may be NULL
 * or receive the iterations of each k.  Fails like engage_kmeans_fit for
 * k = k_max (ENGAGE_EINVAL_K if k_max < 1 or > n, ENGAGE_EDISTINCT if
 * fewer than k_max distinct points).  One allocation, reused for every k.
 */
extern int	engage_kmeans_elbow(const double *X, size_t n, size_t d, int k_max,
								const engage_kmeans_params *params,
								engage_env *env, double *inertia,
								int *iterations);

/*
 * Assign (predict): label of each point of X (n x d) = nearest of the k
 * centroids (k x d), ties to the lowest index; distances (may be NULL)
 * gets the Euclidean distance to it.  No allocation (env->alloc may be
 * NULL).  Validates the points and the centroids (centroid problems are
 * ENGAGE_EINIT_VALUE).
 */
extern int	engage_kmeans_assign(const double *X, size_t n, size_t d,
								 const double *centroids, int k,
								 engage_env *env, int32_t *labels,
								 double *distances);

/*
 * Inertia of a labelling: sum over points of the squared Euclidean
 * distance to centroid labels[i]; per-cluster sums in cluster_inertia (k,
 * may be NULL) and sizes (k, may be NULL).  Labels out of range are
 * ENGAGE_EINVAL_ARG with env->error_row.  No allocation.
 */
extern int	engage_kmeans_inertia(const double *X, size_t n, size_t d,
								  const double *centroids, int k,
								  const int32_t *labels, engage_env *env,
								  double *inertia, double *cluster_inertia,
								  int64_t *sizes);

/*
 * Simplified (centroid-based) silhouette, O(n k): for each point,
 * a = distance to its own centroid (labels[i], or the nearest centroid
 * when labels is NULL), b = distance to the nearest other centroid,
 * s = (b - a) / max(a, b), and s = 0 when max(a, b) = 0.  *score gets the
 * mean over the points; per_point (n, may be NULL) gets each s.  For
 * k = 1 the silhouette is undefined: *score (and every per_point) is NaN
 * and the status is ENGAGE_OK.  No allocation.
 */
extern int	engage_silhouette_simplified(const double *X, size_t n, size_t d,
										 const double *centroids, int k,
										 const int32_t *labels,
										 engage_env *env, double *score,
										 double *per_point);

#endif							/* ENGAGE_KMEANS_H */
