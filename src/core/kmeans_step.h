/*-------------------------------------------------------------------------
 *
 * kmeans_step.h
 *	  Combinable (split) states of the scaler and of one Lloyd step, for
 *	  K-means on data that never gathers in one place: the rows are added
 *	  to partial states anywhere (parallel workers, Citus shards), the
 *	  partial states are merged in any order, and the results are the same
 *	  bits whatever the split and the order, because every sum is exact
 *	  (xsum.h) and every other part (minimum, maximum, counts, the farthest
 *	  points) is an order-independent reduction.
 *
 * States are flat arrays of int64_t slots (doubles stored by their bits),
 * so that the SQL glue keeps them in a bigint[] aggregate state that
 * needs no serialisation and travels between processes and servers as it
 * is.  Slot 0 is a magic number naming the kind and layout version.
 *
 * ---- The scaler (engage.scaling_agg) ------------------------------------
 *
 * Per feature: minimum, maximum, the exact sum of the values and the
 * exact sum of their squares.  ecore_scaleagg_final gives an ecore_scaler
 * as ecore_scaler_fit defines it (scale.h), but with
 *	 mean = sum / n and var = (n sum(x^2) - sum(x)^2) / n^2
 * each computed exactly and rounded once (ecore_xsum_div,
 * ecore_xsum_variance), where ecore_scaler_fit sums as numpy does
 * (pairwise, O(log n) roundings).  min, max and therefore every minmax
 * parameter are bit-identical to ecore_scaler_fit's; mean and var can
 * differ from it by its own rounding error (measured below 4 ulp on the
 * tests' data; scale.h bounds numpy's sums by O(log n) eps).  log: the
 * values must be >= 0 (ECORE_ENEGATIVE); the state also keeps the exact
 * sums of y = log1p(x) and of y^2, and scale and offset are zscore's of
 * y's exact mean and variance.  robust has no such state: its median and
 * quartiles come from the quantile passes below.
 *
 * ---- One Lloyd step (engage.kmeans_step_agg) ----------------------------
 *
 * Given k centroids C (k x d, normalised space), each added point z
 * (normalised, finite, |z| <= ECORE_MAX_ABS) goes to its nearest centroid
 * (squared Euclidean distance summed in feature order, ties to the lowest
 * index: exactly ecore_kmeans_assign's choice, so kmeans_predict with the
 * same centroids gives the same cluster), and the state keeps per cluster
 * the count, the exact sums of its points' features and the exact sum of
 * their squared distances (the inertia).  It also keeps the k points
 * farthest from their centroid, in a total order (squared distance
 * descending, then the features ascending by value, -0 before +0, then
 * the cluster), which is all the relocation of empty clusters below can
 * need.  ecore_kstep_final gives:
 *	 - sizes, per-cluster and total inertia of the assignment to C;
 *	 - the next centroids: per cluster the exact mean of its points,
 *	   rounded once; an empty cluster first takes, as the core's Lloyd
 *	   (kmeans_lloyd.c) does, the point farthest from its centroid among
 *	   the points whose cluster keeps at least one point (empty clusters
 *	   served in ascending order; ties by the order above where the core
 *	   takes the lowest point index); with fewer points than clusters an
 *	   empty cluster keeps its centroid;
 *	 - the number of empty clusters of the assignment, and whether the
 *	   next centroids equal C bit for bit (a fixed point: the next step
 *	   would assign every point the same way).
 *
 * Plain C99, no PostgreSQL headers.
 *
 * Copyright (c) 2026, engage developers
 *
 *-------------------------------------------------------------------------
 */
#ifndef ECORE_KMEANS_STEP_H
#define ECORE_KMEANS_STEP_H

#include <stddef.h>
#include <stdint.h>

#include "core.h"
#include "scale.h"
#include "xsum.h"

/* Magic numbers of the states (kind and layout version 1) */
#define ECORE_SCALEAGG_MAGIC INT64_C(0x656E675363616C31)	/* "engScal1" */
#define ECORE_KSTEP_MAGIC INT64_C(0x656E674B73746531)	/* "engKste1" */

/* Bounds of the step state (k clusters, d features) */
#define ECORE_KSTEP_MAX_K 1000
#define ECORE_KSTEP_MAX_D 1000

/* ---------------------------------------------------------------------
 * The scaler
 * ---------------------------------------------------------------------
 */

/*
 * Slots of a scaler state of d features and the method (none, zscore,
 * minmax or log); 0 when d is out of 1..ECORE_KSTEP_MAX_D or the method
 * is robust.
 */
extern size_t ecore_scaleagg_slots(size_t d, ecore_scale_method method);

/* Set up an empty state (slots from ecore_scaleagg_slots). */
extern void ecore_scaleagg_init(int64_t *st, size_t d,
								ecore_scale_method method);

/*
 * Is st (nslots slots) a valid scaler state?  ECORE_OK or
 * ECORE_EINVAL_ARG.
 */
extern int	ecore_scaleagg_check(const int64_t *st, size_t nslots);

/* d and method of a valid state */
extern size_t ecore_scaleagg_d(const int64_t *st);
extern ecore_scale_method ecore_scaleagg_method(const int64_t *st);
extern int64_t ecore_scaleagg_n(const int64_t *st);

/*
 * Add a point of d values: ECORE_OK, or ECORE_ENONFINITE / ECORE_ERANGE
 * (|x| > ECORE_MAX_ABS) / ECORE_ENEGATIVE (log, x < 0) with the feature
 * in *col; the state is then unchanged.
 */
extern int	ecore_scaleagg_add(int64_t *st, const double *x, size_t *col);

/*
 * a += b.  ECORE_EINVAL_ARG when d or the method differ (a unchanged).
 */
extern int	ecore_scaleagg_merge(int64_t *a, const int64_t *b);

/*
 * The scaler of the points added (s set up by the caller with arrays of
 * d doubles, s->method and s->d as the state's): ECORE_OK,
 * ECORE_EINVAL_N without points, ECORE_EOVERFLOW if a variance rounds
 * above DBL_MAX.
 */
extern int	ecore_scaleagg_final(const int64_t *st, ecore_scaler *s);

/* ---------------------------------------------------------------------
 * One Lloyd step
 * ---------------------------------------------------------------------
 */

/* Slots of a step state; 0 when k or d is out of range. */
extern size_t ecore_kstep_slots(int k, size_t d);

/*
 * Set up an empty state for the centroids C (k x d, finite, copied into
 * the state) and a fingerprint of the normalisation the points get (the
 * caller's: states of different normalisations must not merge).
 */
extern void ecore_kstep_init(int64_t *st, int k, size_t d, const double *C,
							 uint64_t fingerprint);

/* Is st (nslots slots) a valid step state?  ECORE_OK or ECORE_EINVAL_ARG. */
extern int	ecore_kstep_check(const int64_t *st, size_t nslots);

/* k, d, fingerprint and centroids of a valid state */
extern int	ecore_kstep_k(const int64_t *st);
extern size_t ecore_kstep_d(const int64_t *st);
extern uint64_t ecore_kstep_fingerprint(const int64_t *st);

/*
 * Do the state's centroids equal C (k x d) bit for bit?  1 or 0.
 */
extern int	ecore_kstep_same_centroids(const int64_t *st, const double *C);

/*
 * Add a normalised point z (d values, finite and at most ECORE_MAX_ABS in
 * magnitude: the caller checks); C is the state's centroids (the caller's
 * copy, for speed: it must equal them).
 */
extern void ecore_kstep_add(int64_t *st, const double *C, const double *z);

/*
 * a += b.  ECORE_EINVAL_ARG when k, d, the fingerprint or the centroids
 * differ (a unchanged).
 */
extern int	ecore_kstep_merge(int64_t *a, const int64_t *b);

/*
 * A step over the n x d normalised points Z in memory that reuses the
 * previous step's work (the in-memory refinement of elbow_agg.c): st
 * becomes the state of the step from C of every point, the same bits as
 * ecore_kstep_add of each point into a fresh state, so ecore_kstep_final
 * gives the same results.  first: st was set up by ecore_kstep_init (any
 * centroids) and assign and lower (n each, the caller's) are filled;
 * otherwise st, assign and lower are those of the previous call on the
 * same points, whose centroids st holds.  Most points are settled by a
 * bound (one distance instead of k) and only points that change cluster
 * touch the feature sums.  env->check per chunk of points.
 *
 * Threads: the points are shared, in chunks of ECORE_KSTEP_PAR_CHUNK, by
 * ecore_par_threads(nthreads, n, ECORE_KSTEP_PAR_CHUNK) threads (parallel.h;
 * 0 or 1: the caller alone); each worker thread adds its points' changes
 * (counts, exact feature sums and inertia) to a partial state of its own
 * in parts (ecore_kstep_delta_parts slots, the caller's), which are then
 * merged into st.  The sums being exact, st holds the same values
 * whatever the thread count and whichever thread took which chunk, so
 * ecore_kstep_final gives the same bits.
 */
extern void ecore_kstep_delta(int64_t *st, const double *C, int first,
							  const double *Z, size_t n, int32_t *assign,
							  double *lower, int nthreads, int64_t *parts,
							  ecore_env *env);

/* Points of a chunk of ecore_kstep_delta's threads */
#define ECORE_KSTEP_PAR_CHUNK 8192

/*
 * Slots of the partial states of ecore_kstep_delta with nthreads threads
 * on n points (0 with one thread); 0 also when k or d is out of range.
 */
extern size_t ecore_kstep_delta_parts(int k, size_t d, size_t n,
									  int nthreads);

/* What ecore_kstep_final gives (caller arrays) */
typedef struct ecore_kstep_out
{
	double	   *next;			/* k x d next centroids, normalised */
	int64_t    *sizes;			/* k points assigned to each centroid of C */
	double	   *cluster_inertia;	/* k */
	double		inertia;		/* exact total, rounded once */
	int64_t		n;				/* points added */
	int			empty;			/* clusters of C without a point */
	int			relocated;		/* empty clusters given a point */
	int			fixed_point;	/* next == C bit for bit */
	double		davies_bouldin;	/* ecore_ksteps_final: the indexes of the */
	double		calinski_harabasz;	/* assignment (NaN when undefined or
									 * from ecore_kstep_final) */
} ecore_kstep_out;

/*
 * The results of the step (see above).  Works on a copy of the sums
 * (scratch: ecore_kstep_slots(k, d) slots from the caller).  ECORE_OK, or
 * ECORE_EOVERFLOW when an inertia rounds above DBL_MAX.
 */
extern int	ecore_kstep_final(const int64_t *st, int64_t *scratch,
							  ecore_kstep_out *out);

/* ---------------------------------------------------------------------
 * Several Lloyd steps at once (engage.kmeans_steps_agg)
 * ---------------------------------------------------------------------
 *
 * M models of the same d features and the same normalisation (one
 * fingerprint), model j with k_j clusters: one pass over the points does
 * a Lloyd step of every model.  The state is a header (magic, M, d, the
 * fingerprint, k_1 .. k_M), then per model a step state exactly as
 * above (ecore_kstep_*: the same sums, candidates and results) followed
 * by one exact accumulator of the points' simplified silhouettes for
 * that model's centroids: per point a = the distance to the nearest
 * centroid, b = the distance to the next nearest one, s = (b - a) /
 * max(a, b) (0 when both are 0), as ecore_silhouette_simplified computes
 * it point by point; the silhouette is their exact sum divided by the
 * number of points, rounded once (NaN for k = 1).  So model j's results
 * are the bits kmeans_step_agg gives for it alone, whatever the other
 * models, the split and the order.
 *
 * Then, per model, the quality indexes of the assignment (each point in
 * the cluster of its nearest centroid of C_j) with given centres R_j
 * (k_j x d; by default the centroids C_j): a flag "R_j is C_j", R_j, and
 * per cluster the exact sum of the points' distances to their cluster's
 * centre (sqrt of the squared distance summed in feature order, as
 * elbow_inertia computes it) and, when R_j is not C_j, the exact sum of
 * their squared distances to it (else the cluster's inertia is that
 * sum).  ecore_ksteps_final gives, with L the clusters that have points
 * and n the points (both NaN unless 2 <= L < n, scikit-learn's rule):
 *	 - Davies-Bouldin: the mean over the L clusters i of max over j != i
 *	   of (s_i + s_j) / |R_i - R_j|, s_i the exact mean distance of
 *	   cluster i's points to R_i rounded once; a pair of equal centres
 *	   counts as infinitely far; 0 when every s_i or every |R_i - R_j|
 *	   is at most 1e-8 (scikit-learn's np.allclose);
 *	 - Calinski-Harabasz: B (n - L) / (W (L - 1)), W the exact sum of the
 *	   squared distances to the centres rounded once, B the sum of
 *	   n_i |R_i - mu|^2, mu the exact mean of all points rounded once;
 *	   1 when W is 0.
 * These are scikit-learn's davies_bouldin_score and
 * calinski_harabasz_score of the labels (up to their rounding) when R_j
 * are the means of the clusters of C_j's assignment: at a fixed point
 * (C_j are then those means, rounded once) or with R_j the next
 * centroids of a step from C_j that left no cluster empty.
 *
 * ecore_ksteps_memory runs such a step over points in memory: the same
 * state, so the same bits as the aggregate over the same points.
 */

/* Magic number of the multi-model state (layout version 2: indexes) */
#define ECORE_KSTEPS_MAGIC INT64_C(0x656E674B73747332)	/* "engKsts2" */

/* Most models in one multi-model state, and most slots of a state */
#define ECORE_KSTEPS_MAX_MODELS 1000
#define ECORE_KSTEPS_MAX_SLOTS (INT64_C(1) << 26)

/*
 * Slots of a state of M models with ks[j] clusters and d features; 0
 * when M, a k or d is out of range or the state would exceed
 * ECORE_KSTEPS_MAX_SLOTS.
 */
extern size_t ecore_ksteps_slots(int M, const int *ks, size_t d);

/*
 * Set up an empty state: model j's centroids C[j] (ks[j] x d, finite,
 * copied), the centres of its indexes R[j] (likewise; R or R[j] NULL:
 * C[j]), the fingerprint of the normalisation of the points.
 */
extern void ecore_ksteps_init(int64_t *st, int M, const int *ks, size_t d,
							  const double *const *C,
							  const double *const *R, uint64_t fingerprint);

/* Is st (nslots slots) a valid state?  ECORE_OK or ECORE_EINVAL_ARG. */
extern int	ecore_ksteps_check(const int64_t *st, size_t nslots);

/* M, d, fingerprint of a valid state, and k of model j */
extern int	ecore_ksteps_models(const int64_t *st);
extern size_t ecore_ksteps_d(const int64_t *st);
extern uint64_t ecore_ksteps_fingerprint(const int64_t *st);
extern int	ecore_ksteps_k(const int64_t *st, int j);

/*
 * Are the state's models M models of ks clusters, centroids C and centres
 * R (as ecore_ksteps_init takes them), bit for bit?  1 or 0.
 */
extern int	ecore_ksteps_same_models(const int64_t *st, int M, const int *ks,
									 const double *const *C,
									 const double *const *R);

/*
 * Add a normalised point z (d values, finite, at most ECORE_MAX_ABS in
 * magnitude: the caller checks) to every model's step.
 */
extern void ecore_ksteps_add(int64_t *st, const double *z);

/*
 * a += b.  ECORE_EINVAL_ARG when the models (centroids and centres), d or
 * the fingerprint differ (a unchanged).
 */
extern int	ecore_ksteps_merge(int64_t *a, const int64_t *b);

/*
 * Model j's results (see ecore_kstep_final; scratch: at least
 * ecore_kstep_slots(k_j, d) slots), its indexes (out->davies_bouldin and
 * out->calinski_harabasz) and its simplified silhouette (*silhouette;
 * NaN for k = 1).  ECORE_OK, or ECORE_EOVERFLOW.
 */
extern int	ecore_ksteps_final(const int64_t *st, int j, int64_t *scratch,
							   ecore_kstep_out *out, double *silhouette);

/*
 * One multi-model step over the n x d normalised points Z in memory: st
 * (ecore_ksteps_slots slots) is set up with the models (centres R as
 * ecore_ksteps_init takes them) and every point is added, env->check
 * called per chunk of points.  The same state as the aggregate's over
 * the same points in any order and split.
 */
extern void ecore_ksteps_memory(int64_t *st, int M, const int *ks, size_t d,
								const double *const *C,
								const double *const *R, uint64_t fingerprint,
								const double *Z, size_t n, ecore_env *env);

/*
 * ecore_ksteps_memory on threads: the points shared in chunks of
 * ECORE_KSTEP_PAR_CHUNK by ecore_par_threads(nthreads, n,
 * ECORE_KSTEP_PAR_CHUNK) threads (parallel.h), each worker adding its
 * points to a state of its own in parts (ecore_ksteps_memory_parts
 * slots, the caller's; NULL: the caller alone), merged into st: the same
 * state, whatever the thread count.
 */
extern void ecore_ksteps_memory_threads(int64_t *st, int M, const int *ks,
										size_t d, const double *const *C,
										const double *const *R,
										uint64_t fingerprint, const double *Z,
										size_t n, int nthreads,
										int64_t *parts, ecore_env *env);

/*
 * Slots of the partial states of ecore_ksteps_memory_threads (0 with one
 * thread, or when the models are out of range)
 */
extern size_t ecore_ksteps_memory_parts(int M, const int *ks, size_t d,
										size_t n, int nthreads);

/* ---------------------------------------------------------------------
 * The coreset sample of the elbow (engage.coreset_key)
 * ---------------------------------------------------------------------
 *
 * Priority sampling (Duffield, Lund and Thorup) with the "lightweight
 * coreset" measure of Bachem, Lucic and Krause, as ecore_elbow_curve's
 * sample but defined on exact quantities that every server computes
 * alike: mu, the exact mean of the n normalised points (the k = 1 Lloyd
 * step), and total, the exact sum over the points of their squared
 * distance to mu rounded once (the k = 1 inertia).  A point z of key
 * hash h has the measure q = 1 / (2n) + d2 / (2 total) (d2 its squared
 * distance to mu summed in feature order; q = 1 / (2n) when total is 0)
 * and the sampling key u / q, u = ((h >> 11) + 0.5) 2^-53 in (0, 1).
 * The sample is the m points of smallest (key, point key text, features);
 * kappa, the (m + 1)-th key, gives each the weight max(1, 1 / (kappa q)).
 */

/* The measure q of a normalised point z */
extern double ecore_coreset_measure(const double *z, size_t d,
									const double *mu, double total,
									int64_t n);

/* The sampling key u / q of a point of hash h and measure q */
extern double ecore_coreset_key(uint64_t h, double q);

/* The weight of a sampled point of measure q, kappa the (m + 1)-th key */
extern double ecore_coreset_weight(double kappa, double q);

/* ---------------------------------------------------------------------
 * The m-th smallest value (engage.sample_cutoff)
 * ---------------------------------------------------------------------
 *
 * The cutoff of a sample of the m smallest keys: a state keeps the m
 * smallest values added (a max-heap of at most m doubles, compared as
 * doubles: the caller refuses NaN), merged in any order; the m-th
 * smallest of all values is the largest kept once m were added.  So a
 * query's "ORDER BY key LIMIT m" can first learn the cutoff from an
 * aggregate that parallel workers and Citus shards compute in parts, then
 * read only the rows of key <= cutoff (ties included: the same first m
 * rows).  Layout: magic, m, count, then room for the values (the state's
 * length minus 3, at most m).
 */
#define ECORE_CUTOFF_MAGIC INT64_C(0x656E674375746631)	/* "engCutf1" */
#define ECORE_CUTOFF_HEADER 3
#define ECORE_CUTOFF_MAX_M 1048576

/* Set up an empty state for m (1..ECORE_CUTOFF_MAX_M). */
extern void ecore_cutoff_init(int64_t *st, int64_t m);

/*
 * Is st (nslots slots) a valid state: magic, m, count within the room,
 * the room at most m, the values a max-heap of non-NaN doubles?  ECORE_OK
 * or ECORE_EINVAL_ARG.
 */
extern int	ecore_cutoff_check(const int64_t *st, size_t nslots);

/* m and the values kept of a valid state */
extern int64_t ecore_cutoff_m(const int64_t *st);
extern int64_t ecore_cutoff_count(const int64_t *st);

/*
 * Add x (not NaN) to a state of nslots slots: 1 when the state has no
 * room for it (count = room < m: the caller copies it into a larger one
 * and adds again), else 0.
 */
extern int	ecore_cutoff_add(int64_t *st, size_t nslots, double x);

/*
 * a += b (the same m; a's room at least min(m, count a + count b)):
 * ECORE_OK, or ECORE_EINVAL_ARG (a unchanged).
 */
extern int	ecore_cutoff_merge(int64_t *a, size_t nslots_a, const int64_t *b);

/* The m-th smallest value into *x: 1, or 0 when fewer than m were added. */
extern int	ecore_cutoff_final(const int64_t *st, double *x);

/* ---------------------------------------------------------------------
 * Exact quantiles in passes (robust's median and quartiles)
 * ---------------------------------------------------------------------
 *
 * The order statistics robust's fit reads (ecore_robust_ranks: six ranks
 * per feature) without gathering the values: each value maps to a 64-bit
 * key whose unsigned order is the values' order (its bits, sign-flipped;
 * -0 is keyed as +0, so that the two zeros, equal, count as one value),
 * and each pass of a combinable histogram finds 8 more bits of each
 * wanted key.  A target is (feature, bits known L, their prefix P); a
 * pass counts, per target, the values whose key's top L bits are P in
 * 256 buckets of the next 8 bits, with each bucket's smallest and largest
 * key.  The rank then falls in one bucket: it is resolved when that
 * bucket holds one distinct key (smallest = largest), or the rank is the
 * bucket's first or last; otherwise the bucket's bits are appended and
 * the next pass narrows it (at most 8 passes; ties and small buckets end
 * sooner).  The pass states are order-independent (counts, minima,
 * maxima), so every split gives the same bits, and the values found are
 * exactly those a sort would put at the ranks, so the scaler equals
 * ecore_scaler_fit's robust bit for bit (up to the sign of a zero).
 *
 * ecore_qres_* is the driver's side (the ranks, the targets of the next
 * pass, reading a pass); ecore_qpass_* the aggregate's state.  Targets go
 * between them as 3 int64_t each: feature (0-based), L, P.
 */

/* Magic number of a pass state (layout version 1) */
#define ECORE_QPASS_MAGIC INT64_C(0x656E675170617331)	/* "engQpas1" */

/* Buckets of a pass (8 bits), and most targets of one pass */
#define ECORE_QPASS_BUCKETS 256
#define ECORE_QPASS_MAX_TARGETS (6 * ECORE_KSTEP_MAX_D)

/* The driver's record of the wanted order statistics of d features */
typedef struct ecore_qres
{
	size_t		d;
	int64_t		n;				/* the values of each feature */
	int64_t    *rank;			/* 6 d: the wanted ranks */
	int64_t    *below;			/* 6 d: values whose key is below P's */
	uint64_t   *prefix;			/* 6 d: P */
	int		   *bits;			/* 6 d: L */
	int		   *done;			/* 6 d */
	double	   *value;			/* 6 d: the value, once done */
	int64_t    *slot;			/* 6 d: its target in the last pass */
	int			passes;
} ecore_qres;

/* Bytes of the arrays of an ecore_qres of d features */
extern size_t ecore_qres_bytes(size_t d);

/*
 * Set up q for d features of n >= 1 values each (mem: ecore_qres_bytes(d)
 * bytes, 8-aligned).
 */
extern void ecore_qres_init(ecore_qres *q, void *mem, size_t d, int64_t n);

/*
 * The targets of the next pass into targets (room for
 * 3 * ECORE_QPASS_MAX_TARGETS; identical targets once): their number, 0
 * when every order statistic is found.
 */
extern int	ecore_qres_targets(ecore_qres *q, int64_t *targets);

/*
 * Read a pass state of the targets ecore_qres_targets gave last:
 * ECORE_OK, or ECORE_EINVAL_ARG when its counts do not fit (the values
 * changed between passes, or another pass's state).
 */
extern int	ecore_qres_update(ecore_qres *q, const int64_t *st);

/*
 * When every order statistic is found: the robust scaler's scale and
 * offset (s->scale, s->offset, d each) as ecore_scaler_fit's.
 */
extern void ecore_qres_robust(const ecore_qres *q, ecore_scaler *s);

/* Slots of a pass state of T targets (0 when T is out of range) */
extern size_t ecore_qpass_slots(int T);

/*
 * Set up an empty pass state of T targets (3 T int64_t: feature < d, L a
 * multiple of 8 below 64, P below 2^L) over points of d features.
 * ECORE_EINVAL_ARG when a target is malformed.
 */
extern int	ecore_qpass_init(int64_t *st, size_t d, int T,
							 const int64_t *targets);

/* Is st a valid pass state of nslots slots?  ECORE_OK or ECORE_EINVAL_ARG */
extern int	ecore_qpass_check(const int64_t *st, size_t nslots);

/* d and T of a valid pass state, and whether it has these targets */
extern size_t ecore_qpass_d(const int64_t *st);
extern int	ecore_qpass_same_targets(const int64_t *st, int T,
									 const int64_t *targets);

/*
 * Does st (nslots slots) have the header of a pass state of these T
 * targets, each valid for its d?  1 or 0.  Enough for ecore_qpass_add to
 * stay within the state and the point (ecore_qpass_check checks it all).
 */
extern int	ecore_qpass_header_ok(const int64_t *st, size_t nslots, int T,
								  const int64_t *targets);

/* Add a point (d finite values: the caller checks) */
extern void ecore_qpass_add(int64_t *st, const double *x);

/* a += b; ECORE_EINVAL_ARG when d or the targets differ (a unchanged) */
extern int	ecore_qpass_merge(int64_t *a, const int64_t *b);

/*
 * The result of a pass (what the aggregate returns, compact: the state's
 * non-empty buckets only): magic ECORE_QRES_MAGIC, d, T, the points, the
 * targets, then per target the number m of non-empty buckets and m times
 * (bucket, count, smallest key, largest key), buckets ascending.
 */
#define ECORE_QRES_MAGIC INT64_C(0x656E675172657331)	/* "engQres1" */

/* Slots of the result of a valid pass state */
extern size_t ecore_qpass_result_slots(const int64_t *st);

/* Write the result of a valid pass state into out */
extern void ecore_qpass_result(const int64_t *st, int64_t *out);

/*
 * The pass state of a result res (nslots slots) into st (room for
 * ecore_qpass_slots(T) slots, T its targets; *T set): ECORE_OK, or
 * ECORE_EINVAL_ARG when res is not a valid result (malformed, or its
 * state would not pass ecore_qpass_check).
 */
extern int	ecore_qpass_from_result(const int64_t *res, size_t nslots,
									int64_t *st, int *T);

/*
 * robust's scaler of the n x d points X in memory by the same passes
 * (s->scale and s->offset; work: ecore_qres_bytes(d) bytes, pass:
 * ecore_qpass_slots(ECORE_QPASS_MAX_TARGETS) slots, targets: 3 *
 * ECORE_QPASS_MAX_TARGETS); env->check per chunk.  The same bits as the
 * passes of the aggregate over the same points.
 */
extern int	ecore_qres_memory(const double *X, size_t n, size_t d,
							  ecore_scaler *s, void *work, int64_t *pass,
							  int64_t *targets, ecore_env *env);

#endif							/* ECORE_KMEANS_STEP_H */
