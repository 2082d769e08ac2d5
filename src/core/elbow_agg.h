/*-------------------------------------------------------------------------
 *
 * elbow_agg.h
 *	  The elbow curve whose points need not gather in one place: one
 *	  algorithm, run the same way on points in memory and on points that
 *	  only aggregates see (parallel workers, Citus workers), with the same
 *	  bits in every case.
 *
 * The algorithm (ecore_elbow_agg), for k = k_min..k_max:
 *	 1. mu, the exact mean of the n normalised points: one Lloyd step of
 *		k = 1 from the origin; then total, the k = 1 inertia (the exact sum
 *		of the squared distances to mu, rounded once): one step from mu.
 *		k = 1's row is mu and total (2 steps, no restarts needed: any
 *		start reaches them in 2 steps).
 *	 2. The sample: when m = sample is below n, the m + 1 points of
 *		smallest coreset key (kmeans_step.h: priority sampling, half
 *		uniform, half by squared distance to mu), the m first weighted
 *		by the (m + 1)-th key; else every point, unweighted, in the order
 *		of their key text (C collation) and features.  Gathered in one
 *		place: at most m + 1 points (or n when asked).
 *	 3. On the sample, in memory, for each k: sample_n_init restarts (the
 *		core's weighted k-means++ and Lloyd, kmeans.c, the tolerance of
 *		all points); the candidates are the best of each of the first
 *		refine groups of restarts in order of their inertia on the sample
 *		(a group: inertias each within 1e-4 of the previous one), then,
 *		from k_min + 1 on, a run on the sample started from the previous
 *		k's best clustering on the sample (its best restart or its split
 *		run, lower weighted inertia on the sample, the restart on ties)
 *		with its cluster of largest weighted inertia split by that
 *		cluster's sample point farthest from its centroid.
 *	 3b. The intermediate stage, only when sampled, n is at least
 *		stage_min_n (ECORE_ELBOW_STAGE_MIN_N points by default) and the
 *		larger sample of f m points (f = ECORE_ELBOW_STAGE_FACTOR) is
 *		below n and at most ECORE_CUTOFF_MAX_M - 1 points: the sample of
 *		step 2 is gathered as its f m + 1 points of smallest key instead
 *		(the same order, so its first m + 1 points are step 2's sample,
 *		the same bits), and every candidate of step 3 is run by the core's
 *		weighted Lloyd (kmeans_lloyd.c, the restarts' tolerance, each
 *		candidate a run of its own on the restarts' threads) on those f m
 *		points, weighted by the (f m + 1)-th key; the candidates refined
 *		on all points start from where these runs end (each k's runs as
 *		they were when the core finds an empty cluster it cannot tell
 *		apart).  Gathered in one place: at most f m + 1 points.  Measured
 *		at 7.09 M generated points (10 M xDR rows, k = 1..10, m = 32,768,
 *		f = 8, 2 threads, a loaded machine, medians of 3 against the code
 *		without the stage, alternating): 19 steps over all points instead
 *		of 28, the refinement 16.9 s instead of 29.8 s, for 1.1 s of the
 *		stage and 0.4 s more of sampling; every inertia of k = 2..10
 *		lower (by 7e-7 to 3.2e-5), the same elbow.
 *	 4. Every candidate of every k is refined on all points by Lloyd steps
 *		(kmeans_step.h: exact means, the nearest centroid, empty clusters
 *		take the farthest points), all of them in one multi-model step per
 *		round, each until its next centroids are its centroids bit for
 *		bit, or move by at most tol_abs / 100 (squared, summed), or the
 *		step lowered its inertia by at most tol / 10 of it, or max_iter
 *		steps; a candidate's result is the last centroids it was
 *		evaluated at, with their exact inertia and simplified silhouette
 *		on all points.  tol_abs = tol * total / (n d), the tolerance of
 *		the core's fits (tol times the mean feature variance), is the
 *		restarts' on the sample.  After each round, a candidate whose
 *		inertia is more than 1e-3 (relative) above the lowest of its k's
 *		candidates ends there (it would have to fall by more than that
 *		past the lowest one to win).  Measured at 1.42 M generated points
 *		(k = 1..10, sample 32,768): 24 rounds and 232 candidate steps
 *		instead of 165 and about 1,040 with tol_abs / 100 alone, every
 *		inertia within 7.4e-5 of that exhaustive refinement's.  Each
 *		run depends only on its start and the points, each drop only on
 *		its k's runs after as many steps: with points in memory
 *		(params.in_memory) each k's candidates are refined in turn by
 *		ecore_kstep_delta (bounds settle most points with one distance;
 *		the same states, so the same bits) and one last multi-model step
 *		gives the silhouettes of each k's best.
 *	 5. Per k the candidate of lowest inertia (the first on ties), its
 *		clusters numbered by ascending centroid norm (ties: lexicographic
 *		order of the coordinates, then the previous order).  When asked
 *		(out->davies_bouldin), one more multi-model step of each k's best
 *		centroids C with the centres R = the next centroids of its last
 *		step (the exact means of C's clusters, rounded once, when that
 *		step left no cluster empty) gives the Davies-Bouldin and
 *		Calinski-Harabasz indexes of the labels of C (kmeans_step.h); in
 *		memory that step is the one of the silhouettes.
 *
 * Every quantity that depends on all points comes from two callbacks of
 * the caller (ecore_elbow_agg_source): a multi-model Lloyd step over
 * every point, and the sample.  ecore_elbow_memory_* implement them on
 * points in memory; engage's SQL glue implements them with
 * engage.kmeans_steps_agg and an ORDER BY engage.coreset_key(...) LIMIT
 * m + 1 query over the points query.  Both give the same bits, so the
 * curve is the same bits.
 *
 * Plain C99, no PostgreSQL headers.
 *
 * Copyright (c) 2026, engage developers
 *
 *-------------------------------------------------------------------------
 */
#ifndef ECORE_ELBOW_AGG_H
#define ECORE_ELBOW_AGG_H

#include <stddef.h>
#include <stdint.h>

#include "core.h"
#include "kmeans.h"
#include "kmeans_step.h"

/*
 * Where the points are.  steps: one multi-model Lloyd step over every
 * point of the M models j of ks[j] clusters and normalised centroids C[j]
 * and the centres of the indexes R[j] (R NULL: the centroids; R[j] may be
 * out[j].next: read before out is written): out[j] as ecore_ksteps_final
 * gives it (the orchestrator's arrays next, sizes and cluster_inertia,
 * and the indexes) and sil[j] its silhouette; work has room
 * for the multi-model state of these models followed by a scratch of the
 * largest one's step state, for a source that computes the step itself.
 * sample: when sampled, the want = m + 1 (with the intermediate stage:
 * f m + 1) points of smallest (coreset key,
 * key text, features) for mu, total and n, normalised, into SZ (want x d)
 * in that order, and their coreset keys into key; else every point (want
 * = n), normalised, in the order of (key text, features), key unused.
 * *got: the points written.  iwork: want + 1 size_t and want doubles
 * (room for a heap or an index sort).  Both return ECORE_OK or a status
 * that stops the curve (or do not return: a caller that longjmps).
 */
struct ecore_elbow_memory;

typedef struct ecore_elbow_agg_source
{
	int			(*steps) (void *arg, int M, const int *ks,
						  const double *const *C, const double *const *R,
						  ecore_kstep_out *out, double *sil, int64_t *work);
	int			(*sample) (void *arg, const double *mu, double total,
						   int64_t n, int sampled, size_t want, double *SZ,
						   double *key, size_t *got, void *iwork);
	void	   *arg;
	/*
	 * With ecore_elbow_agg_params.in_memory: the points in memory, on
	 * which the candidates are refined directly (the same bits as by
	 * steps); NULL otherwise
	 */
	const struct ecore_elbow_memory *memory;
} ecore_elbow_agg_source;

/*
 * The intermediate stage (step 3b above): the larger sample is this many
 * times the sample, and is used from this many points on.  At 7.09 M
 * points (10 M generated xDR rows) it takes the refinement on all points
 * from 28 to 19 steps (see above and bench/README.md); below 2 M points
 * (TellCo's users, the 1.42 M of 2 M rows, every test) nothing changes.
 */
#define ECORE_ELBOW_STAGE_FACTOR 8
#define ECORE_ELBOW_STAGE_MIN_N 2000000

/* Parameters of ecore_elbow_agg */
typedef struct ecore_elbow_agg_params
{
	ecore_kmeans_params km;		/* init (k-means++ or random), n_init,
								 * max_iter (restarts and steps), tol, seed,
								 * n_threads (restarts); km.k ignored */
	int			k_min;			/* 1 <= k_min <= k_max <= n */
	int			k_max;
	size_t		sample;			/* m: 0 or >= n: every point; else at
								 * least k_max */
	int			sample_n_init;	/* restarts per k: 0 = 3 n_init on a
								 * sample, n_init on every point */
	int			in_memory;		/* 1: refine on source->memory's points
								 * (ecore_kstep_delta, each k's candidates
								 * in turn; the block holds their room) */
	int			refine;			/* restart candidates per k: 0 =
								 * ECORE_ELBOW_REFINE (at most the
								 * restarts) */
	size_t		stage_min_n;	/* the intermediate stage from this many
								 * points on: 0 = ECORE_ELBOW_STAGE_MIN_N */
	/* optional: called after each stage (a name and a count) */
	void		(*progress) (void *arg, const char *stage, int value);
	void	   *progress_arg;
} ecore_elbow_agg_params;

/* Outputs: caller arrays of k_max - k_min + 1 (centroids: x k_max x d) */
typedef struct ecore_elbow_agg_out
{
	double	   *inertia;		/* exact inertia on all points, rounded once */
	double	   *silhouette;		/* exact mean of the simplified silhouettes
								 * on all points (NaN for k = 1) */
	double	   *davies_bouldin;	/* optional (NULL: not computed, no pass
								 * for them): the indexes of the labels of
								 * all points (NaN for k = 1) */
	double	   *calinski_harabasz;	/* NULL exactly when davies_bouldin is */
	int		   *iterations;		/* steps over all points of the kept run */
	double	   *centroids;		/* k's centroids at (k - k_min) * k_max * d */
	size_t		sample_used;	/* m, or n when every point */
	int			sampled;
	size_t		stage_used;		/* points of the intermediate stage's
								 * sample (0: no stage) */
	int			steps;			/* multi-model steps over all points */
	int			candidates;		/* runs refined on all points */
	int			k;				/* on an error: the k that failed */
} ecore_elbow_agg_out;

/* Fill *params: ecore_kmeans_params_default, k 1..10, every point. */
extern void ecore_elbow_agg_params_default(ecore_elbow_agg_params *params);

/*
 * Bytes ecore_elbow_agg requests (one request) for n points of d
 * features.  Validates the parameters.
 */
extern int	ecore_elbow_agg_bytes(size_t n, size_t d,
								  const ecore_elbow_agg_params *params,
								  size_t *bytes);

/*
 * The curve (see above) of the n points of d features the source holds.
 * ECORE_OK; the sources' status; ECORE_EINVAL_ARG when a step counts
 * other than n points; as ecore_kmeans_fit on the sample for the k in
 * out->k (ECORE_EDISTINCT, ECORE_EUNDERFLOW).
 */
extern int	ecore_elbow_agg(size_t n, size_t d,
							const ecore_elbow_agg_params *params,
							const ecore_elbow_agg_source *source,
							ecore_env *env, ecore_elbow_agg_out *out);

/* ---------------------------------------------------------------------
 * The source of points in memory
 * ---------------------------------------------------------------------
 */
typedef struct ecore_elbow_memory
{
	const double *Z;			/* n x d normalised points */
	const double *X;			/* n x d points in their units (the tie
								 * order of equal keys) */
	size_t		n;
	size_t		d;
	const uint64_t *hashes;		/* n: ecore_sample_hash(seed, key) */
	const char *const *keys;	/* n key texts (bytes, not terminated) */
	const size_t *keylens;
	uint64_t	fingerprint;	/* of the normalisation */
	ecore_env  *env;
	/*
	 * The threads of ecore_elbow_memory_steps and the room of their partial
	 * states (ecore_ksteps_memory_parts slots): callers leave them 0 and
	 * NULL (one thread); ecore_elbow_agg sets them on its own copy
	 */
	int			n_threads;
	int64_t    *parts;
} ecore_elbow_memory;

/* ecore_elbow_agg_source.steps on an ecore_elbow_memory */
extern int	ecore_elbow_memory_steps(void *arg, int M, const int *ks,
									 const double *const *C,
									 const double *const *R,
									 ecore_kstep_out *out, double *sil,
									 int64_t *work);

/* ecore_elbow_agg_source.sample on an ecore_elbow_memory */
extern int	ecore_elbow_memory_sample(void *arg, const double *mu,
									  double total, int64_t n, int sampled,
									  size_t want, double *SZ, double *key,
									  size_t *got, void *iwork);

/* ---------------------------------------------------------------------
 * The fit of kmeans_fit_sampled (ecore_fit_sampled)
 * ---------------------------------------------------------------------
 *
 * K-means whose points need not gather, the same bits in memory and on
 * aggregates:
 *	 1. The sample: when m = sample is below n, the m points of smallest
 *		sample hash (ecore_sample_hash of the key text and the seed, as a
 *		signed 64-bit integer: sample_hash's bigint), then key text (C
 *		collation), then features by value; else every point in the order
 *		of key text and features.  Normalised, gathered in one place.
 *	 2. n_init restarts on it (ecore_kmeans_fit with params.km).
 *	 3. From the best restart's centroids, Lloyd steps over every point
 *		(kmeans_step.h: exact means, the nearest centroid, empty clusters
 *		take the farthest points) until the next centroids are the
 *		centroids bit for bit, or max_iter steps; the result is the last
 *		centroids a step was evaluated at, with that step's sizes,
 *		inertias and points.  With a start (params.start: k normalised
 *		centroids, e.g. a previous model's), one more candidate: the same
 *		Lloyd steps over every point from the start, to its own fixed
 *		point (or max_iter); the model kept is the candidate of lower
 *		exact inertia, the restarts' on a tie (out.start_won: the
 *		start's).  Each candidate depends only on its start and the
 *		points, so the choice is the same in memory and on aggregates.
 *	 4. The clusters numbered by ascending norm of their normalised
 *		centroid (ties: lexicographic order of the coordinates, then the
 *		step's order), as the elbow's.
 * The source gives the sample and the steps (engage's SQL glue: ORDER BY
 * sample_hash(...) LIMIT m and kmeans_step_agg queries); or, with memory
 * set, the fit works on the points in memory itself (the same selection
 * as ecore_elbow_memory_sample's, by sample hash, and each step by
 * ecore_kstep_delta: the same states, so the same bits).
 */
typedef struct ecore_fit_source
{
	/* one step over every point from the k x d normalised centroids C */
	int			(*step) (void *arg, int k, const double *C,
						 ecore_kstep_out *out);
	/* the want points of the order above (sampled: by sample hash first) */
	int			(*sample) (void *arg, int sampled, size_t want, double *SZ,
						   size_t *got);
	void	   *arg;
	const struct ecore_elbow_memory *memory;	/* or NULL: the callbacks */
} ecore_fit_source;

/* Parameters of ecore_fit_sampled */
typedef struct ecore_fit_params
{
	ecore_kmeans_params km;		/* k, init, n_init, max_iter (restarts and
								 * steps), tol (restarts), seed, n_threads */
	size_t		sample;			/* m, at least k: the sample; m >= n: every
								 * point */
	const double *start;		/* optional (NULL: none): k x d normalised
								 * centroids, one more candidate beside the
								 * restarts (finite, |x| at most
								 * ECORE_MAX_ABS_CENTROID) */
	/* optional: after the restarts ("restarts"), each step ("step", its
	 * number and inertia), each step from the start ("start step") and the
	 * choice ("start won" or "start lost", the start's steps and inertia) */
	void		(*progress) (void *arg, const char *stage, int value,
							 double inertia);
	void	   *progress_arg;
} ecore_fit_params;

/* Outputs (caller arrays of k, centroids k x d) */
typedef struct ecore_fit_out
{
	double	   *centroids;		/* normalised, by ascending norm */
	int64_t    *sizes;
	double	   *cluster_inertia;
	double		inertia;		/* exact, rounded once */
	int64_t		n;				/* points of the last step */
	int			iterations;		/* steps over every point */
	int			converged;		/* a fixed point */
	size_t		sample_used;	/* m, or n */
	int			sampled;
	int			start_won;		/* with a start: 1 when the model kept is
								 * the start's candidate, else 0 */
	double		start_inertia;	/* with a start: its candidate's exact
								 * inertia (NaN without a start) */
} ecore_fit_out;

/*
 * Bytes ecore_fit_sampled requests (two requests: its block, then the
 * restarts' ecore_kmeans_fit) for n points of d features, in memory or
 * not.  Validates the parameters.
 */
extern int	ecore_fit_sampled_bytes(size_t n, size_t d,
									const ecore_fit_params *params,
									int in_memory, size_t *bytes);

/*
 * The fit (see above) of the n points of d features the source holds.
 * ECORE_OK; the source's status; ECORE_EINVAL_ARG when a step counts
 * other than n points; ECORE_EINIT_VALUE when a value of the start is not
 * finite or above ECORE_MAX_ABS_CENTROID (its centroid in env->error_row,
 * the feature in error_col); as ecore_kmeans_fit on the sample.
 */
extern int	ecore_fit_sampled(size_t n, size_t d,
							  const ecore_fit_params *params,
							  const ecore_fit_source *source,
							  ecore_env *env, ecore_fit_out *out);

#endif							/* ECORE_ELBOW_AGG_H */
