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
 * tests' data; scale.h bounds numpy's sums by O(log n) eps).
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
 * Slots of a scaler state of d features; 0 when d is out of 1..
 * ECORE_KSTEP_MAX_D.
 */
extern size_t ecore_scaleagg_slots(size_t d);

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
 * (|x| > ECORE_MAX_ABS) with the feature in *col; the state is then
 * unchanged.
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
} ecore_kstep_out;

/*
 * The results of the step (see above).  Works on a copy of the sums
 * (scratch: ecore_kstep_slots(k, d) slots from the caller).  ECORE_OK, or
 * ECORE_EOVERFLOW when an inertia rounds above DBL_MAX.
 */
extern int	ecore_kstep_final(const int64_t *st, int64_t *scratch,
							  ecore_kstep_out *out);

#endif							/* ECORE_KMEANS_STEP_H */
