/*-------------------------------------------------------------------------
 *
 * core.h
 *	  What every part of engage's numerical core shares: status codes, the
 *	  caller environment (allocator, interrupt check, error position), the
 *	  limits on values, the interrupt-check macro, and the helpers used by
 *	  more than one part (messages, name matching, point validation).
 *
 * The core (this folder) is plain C99 with no PostgreSQL headers: it is
 * unit-tested and fuzzed alone (test/unit, test/fuzz) and called by the
 * thin PostgreSQL glue in src/.  Its public names start with ecore_ /
 * ECORE_; the glue's SQL entry points are engage_<sql name>.
 *
 * Memory: the core never calls malloc/free.  Every byte it uses comes from
 * env->alloc, in as few large requests as possible (one per fit / elbow /
 * silhouette call), and is never freed by the core: the caller frees it
 * (a PostgreSQL memory context reset).  The *_bytes() functions announce
 * beforehand the exact total a call will request (the allocator's own
 * per-chunk overhead comes on top: at most ECORE_MAX_ALLOCS chunks per
 * call).  env->alloc may longjmp (palloc's ereport) and env->check may
 * longjmp (CHECK_FOR_INTERRUPTS): the core holds no other resource, so
 * that is safe.  A single request can exceed 1 GB for huge n: a PostgreSQL
 * allocator should use palloc_extended(size, MCXT_ALLOC_HUGE).  The
 * allocator must return memory aligned for double and int64 (MAXALIGN).
 * If it returns NULL the call fails with ECORE_ENOMEM.
 *
 * Interrupts: env->check (optional) is called once per Lloyd iteration
 * and at the start of every chunk of ECORE_CHECK_CHUNK points of every
 * loop over the points (validation, variance, seeding, assignment,
 * inertia, silhouette, scaling), through ECORE_CHECK.
 *
 * Copyright (c) 2026, engage developers
 *
 *-------------------------------------------------------------------------
 */
#ifndef ECORE_CORE_H
#define ECORE_CORE_H

#include <stddef.h>
#include <stdint.h>


/* Status codes returned by every core function (0 is success). */
typedef enum ecore_status
{
	ECORE_OK = 0,
	ECORE_EINVAL_ENV,			/* env is NULL or env->alloc is NULL */
	ECORE_EINVAL_ARG,			/* NULL array, bad enum, n_local_trials not
								 * in 0..1024, label out of range (row in
								 * env->error_row), unknown scale name */
	ECORE_EINVAL_N,			/* n < 1 (knee: curve length 0) */
	ECORE_EINVAL_D,			/* d < 1 */
	ECORE_EINVAL_K,			/* k < 1 or k > n (elbow: k_max) */
	ECORE_EINVAL_NINIT,		/* n_init < 1 */
	ECORE_EINVAL_MAXITER,		/* max_iter < 1 */
	ECORE_EINVAL_TOL,			/* tol negative or not finite */
	ECORE_EINVAL_INIT,			/* unknown init method, or ECORE_INIT_USER
								 * without centroids */
	ECORE_EINVAL_ALGORITHM,	/* unknown algorithm */
	ECORE_ENONFINITE,			/* NaN or infinity in the points; row in
								 * env->error_row */
	ECORE_ERANGE,				/* |value| > ECORE_MAX_ABS; row in
								 * env->error_row */
	ECORE_EINIT_VALUE,			/* centroid not finite or above
								 * ECORE_MAX_ABS_CENTROID; centroid index
								 * in env->error_row */
	ECORE_EDISTINCT,			/* fewer distinct points than k */
	ECORE_ENOMEM,				/* env->alloc returned NULL */
	ECORE_EOVERFLOW,			/* a size computation overflows size_t */
	ECORE_EINVAL_CURVE,		/* knee: x not strictly increasing, or a
								 * non-finite x/y */
	ECORE_EUNDERFLOW,			/* k-means with k >= 2: the points are
								 * distinct but too close together for
								 * their squared distances, which
								 * underflow (see kmeans.h) */
	ECORE_ENEGATIVE			/* the log scaler: a negative value; row
								 * and feature in env->error_row and
								 * error_col */
} ecore_status;

/*
 * Points of a loop between two calls of env->check (the scaler fit's sums
 * check once per block of 8192 rows of each column).
 */
#define ECORE_CHECK_CHUNK 4096

/*
 * Largest magnitude accepted for a coordinate of a point, checked on the
 * raw values by every entry point (the scaler's fit as well as the
 * clustering), so it holds whatever the normalisation.  Why a bound, and
 * one this far below DBL_MAX (1.8e308):
 *	- squares overflow above sqrt(DBL_MAX), 1.3e154, and the core sums
 *	  squares over points and features: the zscore variance (the sum of
 *	  (x - mean)^2, computed as scikit-learn does), squared distances,
 *	  inertia.  With |x| <= 1e100 a squared difference is at most 4e200,
 *	  so a sum of 1e100 of them stays finite: no count of points or
 *	  features can overflow, and no code path needs a special case;
 *	- minmax needs max - min finite, the K-means sums of up to n points;
 *	- one bound for every normalisation keeps the contract simple: points
 *	  accepted under one normalisation are accepted under all, and a
 *	  stored model's new points are checked like its training points.
 * Lifting it for zscore and minmax would need power-of-two prescaling in
 * the scaler (where scikit-learn itself overflows), for values no
 * measurement comes near: rescaling the unit is the remedy.
 */
#define ECORE_MAX_ABS 1e100

/*
 * Largest magnitude accepted for a coordinate of a centroid (user
 * initial centroids, assign, inertia, silhouette): twice ECORE_MAX_ABS,
 * because a mean of points at the limit can round slightly above it.
 */
#define ECORE_MAX_ABS_CENTROID 2e100

/* Most allocator requests made by one core call. */
#define ECORE_MAX_ALLOCS 1

/*
 * Caller environment.  alloc is mandatory for the functions that allocate
 * (fit, elbow, scaler init); check is optional (NULL: never called).
 * error_row is an output: set with ECORE_ENONFINITE, ECORE_ERANGE and
 * ECORE_ENEGATIVE (row of the points), ECORE_EINIT_VALUE (index of the
 * centroid) and a label out of range (ECORE_EINVAL_ARG); error_col is the
 * feature index.
 */
typedef struct ecore_env
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
} ecore_env;

/* Static English message of a status code (never NULL). */
extern const char *ecore_strerror(int status);

/*
 * Do two NUL-terminated names match, ignoring ASCII case (only A-Z fold to
 * a-z; every other byte compares exactly)?  1 or 0; NULL matches nothing.
 * The option parsers of the core use it.
 */
extern int	ecore_name_equal(const char *a, const char *b);

/*
 * Check one row of d values: ECORE_OK, or ECORE_ENONFINITE / ECORE_ERANGE
 * (|x| > limit) for the first bad value, whose index goes to *col.  The
 * row check of ecore_validate_points and of the K-means centroids.
 */
extern int	ecore_check_row(const double *x, size_t d, double limit,
							 size_t *col);

/*
 * Validate points: finite and |x| <= ECORE_MAX_ABS.  Returns ECORE_OK,
 * ECORE_ENONFINITE or ECORE_ERANGE (first offending row/col in env;
 * a row with both problems reports the first bad value).  Calls env->check
 * per chunk (env->alloc is not needed here and may be NULL).
 */
extern int	ecore_validate_points(const double *X, size_t n, size_t d,
								   ecore_env *env);

/*
 * End of the chunk of points (or rows) that starts at start, of n: a long
 * loop calls ECORE_CHECK once per chunk.
 */
#define ECORE_CHUNK_END(start, n) \
	((n) - (start) > ECORE_CHECK_CHUNK ? (start) + ECORE_CHECK_CHUNK : (n))

/* Call env->check, if the caller gave one (a long loop's interrupt point). */
#define ECORE_CHECK(env) \
	do { \
		if ((env)->check != NULL) \
			(env)->check((env)->check_arg); \
	} while (0)

#endif							/* ECORE_CORE_H */
