/*-------------------------------------------------------------------------
 *
 * kmeans_internal.h
 *	  What the files of engage's K-means share and nobody else needs: the
 *	  fit context (km_ctx) and its memory layout, the hot distance kernels
 *	  (static inline, so that every file that uses them gets them inlined),
 *	  the dimension dispatch, and the km_ functions one file calls in
 *	  another.
 *
 * The K-means is split by stage:
 *	 kmeans.c		 layout, parameters, setup, restarts and threads,
 *					 relabelling and the final pass, fit
 *	 kmeans_seed.c	 distinct-row set, random and k-means++ seeding
 *	 kmeans_lloyd.c	 E-steps (Lloyd, Hamerly), M-step, empty clusters,
 *					 the Lloyd loop of one restart
 *	 kmeans_eval.c	 assign, inertia and silhouette of given centroids
 *	 kmeans_scores.c Davies-Bouldin and Calinski-Harabasz of a labelling
 *	 kmeans_elbow.c	 the elbow curves (ecore_kmeans_elbow and
 *					 ecore_elbow_curve with its split starts and sample)
 *
 * Distances: all computed exactly as sum((x - c)^2) in feature order (no
 * norm expansion), with kernels written out for d = 1..4.  Argmin
 * selections are branch-free on the bit patterns (see nearest2).
 *
 * Reproducibility: results depend only on data, parameters and seed, bit
 * for bit, for a given build.  Across CPU architectures a compiler that
 * fuses multiply-adds (e.g. GCC on aarch64, default -ffp-contract=fast)
 * may change last bits; build with -ffp-contract=off for bit-identical
 * results everywhere (x86-64 without -march flags never fuses).
 *
 * Copyright (c) 2026, engage developers
 *
 *-------------------------------------------------------------------------
 */
#ifndef ECORE_KMEANS_INTERNAL_H
#define ECORE_KMEANS_INTERNAL_H

#include <math.h>
#include <stdint.h>
#include <string.h>

#include "kmeans.h"
#include "rng.h"

/*
 * Kernels are written once with d a parameter (KM_INLINE, always
 * inlined) and instantiated for d = 1..4 and generic d by one small
 * KM_NOINLINE wrapper each: kept out of the big callers, they get good
 * register allocation.
 */
#if defined(__GNUC__) || defined(__clang__)
#define KM_INLINE static inline __attribute__((always_inline))
#define KM_NOINLINE static __attribute__((noinline))
#define KM_NOINLINE_EXTERN __attribute__((noinline))
#else
#define KM_INLINE static inline
#define KM_NOINLINE static
#define KM_NOINLINE_EXTERN
#endif

/* Run EXPR with D_ a compile-time constant for d = 1..4, else d. */
#define KM_DISPATCH(dim, EXPR) \
	do { \
		switch (dim) \
		{ \
			case 1: { const size_t D_ = 1; EXPR; } break; \
			case 2: { const size_t D_ = 2; EXPR; } break; \
			case 3: { const size_t D_ = 3; EXPR; } break; \
			case 4: { const size_t D_ = 4; EXPR; } break; \
			default: { const size_t D_ = (dim); EXPR; } break; \
		} \
	} while (0)

/*
 * Smallest squared span of the points (sum over the features of the
 * squared range) accepted with k >= 2: points that span less than 1e-150
 * have squared distances of 1e-300 or less, down to subnormal numbers
 * (below DBL_MIN, about 2.2e-308: few significant bits) and 0, so nearest
 * centroids and empty-cluster relocation would be decided by rounding, and
 * the Hamerly margin (1e-8 times the span, at least 1e-158 here) would no
 * longer cover the rounding of distances (up to about 2e-162 sqrt(d)).
 */
#define KM_MIN_SPAN2 1e-300

/* Prefetch of a point some iterations ahead (a hint only). */
#if defined(__GNUC__) || defined(__clang__)
#define KM_PREFETCH(p) __builtin_prefetch((p), 0, 3)
#else
#define KM_PREFETCH(p) ((void) 0)
#endif

/* ---------------------------------------------------------------------
 * Memory layout and fit context
 * ---------------------------------------------------------------------
 */

/* Offsets (bytes) of every array of a fit inside the single block. */
typedef struct km_layout
{
	size_t		total;
	int			overflow;
	int			T;				/* k-means++ candidates per centroid room is
								 * made for (those of the largest k) */
	size_t		hash_cap;		/* hash table slots (power of two) */
	/* outputs */
	size_t		centroids, cluster_inertia, sizes, distances, labels;
	/* workspace */
	size_t		C, Cnew, best_C, sums, wsum, P, Mo, s_half, norms, stats, cand_C;
	size_t		cand_pot, rvals, counts, hash, cand, perm, empties, rorder;
	size_t		scratch_idx, scratch_bound;
	size_t		w;				/* (size_t) -1 when not needed */
} km_layout;

/* Everything one fit (all restarts) works on. */
typedef struct km_ctx
{
	km_layout	layout;			/* of one workspace */
	char	   *block;			/* the allocation: nthreads workspaces, then
								 * the worker structs */
	int			nthreads;
	const double *X;
	size_t		n;
	size_t		d;
	int			k;
	ecore_env *env;
	const ecore_kmeans_params *p;
	int			T;				/* k-means++ candidates per centroid of the
								 * k being fitted (km_fit_k sets it; a
								 * worker inherits it with the context) */
	double		margin;			/* absolute margin of the bound tests */
	double		tol_abs;
	double		span2;			/* sum over the features of the squared
								 * range of the points */
	double	   *rec_C;			/* if not NULL: restart r's final centroids
								 * go to rec_C + r * k_max * d ... */
	double	   *rec_inertia;	/* ... and its inertia to rec_inertia[r] */
	size_t		rec_stride;		/* k_max * d */
	const double *starts;		/* if not NULL: the restarts are n_starts
								 * runs, run r from the k x d centroids at
								 * starts + r * rec_stride (the params'
								 * init and n_init are not used) */
	int			n_starts;
	size_t		changes_since_sync;
	const double *wt;			/* n point weights (a weighted sample: each
								 * point stands for wt[i] points), or NULL:
								 * every point counts once */

	double	   *C;				/* current centroids (k x d) */
	double	   *Cnew;			/* next centroids (k x d) */
	double	   *best_C;
	double	   *sums;
	double	   *wsum;			/* weight of each cluster (with wt) */
	double	   *P;				/* cumulative shift per centroid */
	double	   *Mo;				/* cumulative max shift of the others */
	double	   *s_half;			/* half distance to nearest other centroid */
	double	   *norms;
	double	   *stats;			/* 6 x d: mean, var, min, max, 2 scratch */
	double	   *cand_C;
	double	   *cand_pot;
	double	   *rvals;
	double	   *v;				/* upper bound - P[label] (= distances) */
	double	   *w;				/* lower bound + Mo[label] (also k-means++
								 * D^2) */
	int64_t    *counts;
	size_t	   *hash;
	size_t		hash_cap;
	size_t	   *cand;
	int32_t    *labels;
	int32_t    *perm;
	int32_t    *empties;
	int32_t    *rorder;
	uint32_t   *scratch_idx;	/* ECORE_CHECK_CHUNK point offsets */
	double	   *scratch_bound;	/* ECORE_CHECK_CHUNK bounds */

	/* outputs */
	double	   *out_centroids;
	double	   *out_cluster_inertia;
	int64_t    *out_sizes;
} km_ctx;

/* ---------------------------------------------------------------------
 * Distance kernels
 * ---------------------------------------------------------------------
 */

/*
 * Squared Euclidean distance, summed in feature order.  Written out for
 * d <= 4 (GCC -O2 does not unroll the loop even with d constant); the
 * sums are the same as the loop's (0.0 + t0^2 == t0^2).
 */
KM_INLINE double
sqdist(const double *a, const double *b, size_t d)
{
	double		s,
				t0,
				t1,
				t2,
				t3;
	size_t		j;

	switch (d)
	{
		case 1:
			t0 = a[0] - b[0];
			return t0 * t0;
		case 2:
			t0 = a[0] - b[0];
			t1 = a[1] - b[1];
			return t0 * t0 + t1 * t1;
		case 3:
			t0 = a[0] - b[0];
			t1 = a[1] - b[1];
			t2 = a[2] - b[2];
			return (t0 * t0 + t1 * t1) + t2 * t2;
		case 4:
			t0 = a[0] - b[0];
			t1 = a[1] - b[1];
			t2 = a[2] - b[2];
			t3 = a[3] - b[3];
			return ((t0 * t0 + t1 * t1) + t2 * t2) + t3 * t3;
		default:
			break;
	}
	s = 0.0;
	for (j = 0; j < d; j++)
	{
		t0 = a[j] - b[j];
		s += t0 * t0;
	}
	return s;
}

/* dst[j] += src[j], j < d (unrolled for d <= 4). */
KM_INLINE void
vec_add(double *dst, const double *src, size_t d)
{
	size_t		j;

	switch (d)
	{
		case 1:
			dst[0] += src[0];
			return;
		case 2:
			dst[0] += src[0];
			dst[1] += src[1];
			return;
		case 3:
			dst[0] += src[0];
			dst[1] += src[1];
			dst[2] += src[2];
			return;
		case 4:
			dst[0] += src[0];
			dst[1] += src[1];
			dst[2] += src[2];
			dst[3] += src[3];
			return;
		default:
			break;
	}
	for (j = 0; j < d; j++)
		dst[j] += src[j];
}

/* dst[j] -= src[j], j < d (unrolled for d <= 4). */
KM_INLINE void
vec_sub(double *dst, const double *src, size_t d)
{
	size_t		j;

	switch (d)
	{
		case 1:
			dst[0] -= src[0];
			return;
		case 2:
			dst[0] -= src[0];
			dst[1] -= src[1];
			return;
		case 3:
			dst[0] -= src[0];
			dst[1] -= src[1];
			dst[2] -= src[2];
			return;
		case 4:
			dst[0] -= src[0];
			dst[1] -= src[1];
			dst[2] -= src[2];
			dst[3] -= src[3];
			return;
		default:
			break;
	}
	for (j = 0; j < d; j++)
		dst[j] -= src[j];
}

/* Bits of a double. */
KM_INLINE uint64_t
dbl_bits(double x)
{
	uint64_t	u;

	memcpy(&u, &x, sizeof(u));
	return u;
}

/* Double of bits. */
KM_INLINE double
bits_dbl(uint64_t u)
{
	double		x;

	memcpy(&x, &u, sizeof(x));
	return x;
}

/*
 * Nearest centroid (lowest index on ties), its squared distance and the
 * smallest squared distance to any other centroid (INFINITY if k = 1).
 *
 * The winner is data dependent, so branches would mispredict; the
 * selections are done with masks on the bit patterns: squared distances
 * are never negative nor NaN (finite input), and non-negative doubles
 * order like their bits as unsigned integers.  (Plain ternaries are turned
 * back into branches by GCC's jump threading for some d.)  The values are
 * those of the obvious branchy code.
 */
KM_INLINE int32_t
nearest2(const double *x, const double *C, int k, size_t d,
		 double *best, double *second)
{
	uint64_t	b1 = dbl_bits(sqdist(x, C, d));
	uint64_t	b2 = dbl_bits(INFINITY);
	uint32_t	bi = 0;
	int			j;

	for (j = 1; j < k; j++)
	{
		uint64_t	t = dbl_bits(sqdist(x, C + (size_t) j * d, d));
		uint64_t	m = (uint64_t) 0 - (uint64_t) (t < b1);
		uint64_t	lo = (t & m) | (b1 & ~m);
		uint64_t	hi = (b1 & m) | (t & ~m);
		uint64_t	m2 = (uint64_t) 0 - (uint64_t) (hi < b2);

		b2 = (hi & m2) | (b2 & ~m2);
		bi = (bi & ~(uint32_t) m) | ((uint32_t) j & (uint32_t) m);
		b1 = lo;
	}
	*best = bits_dbl(b1);
	*second = bits_dbl(b2);
	return (int32_t) bi;
}

/* ---------------------------------------------------------------------
 * Functions shared between the K-means files
 * ---------------------------------------------------------------------
 */

/* kmeans.c */

/* Compute the layout of a fit of n x d points with k clusters. */
extern void km_compute_layout(km_layout *L, size_t n, size_t d, int k,
							  const ecore_kmeans_params *p);

/* Threads a fit uses: n_threads, at most one per restart. */
extern int	km_threads(const ecore_kmeans_params *p);

/* Validate the parameters of a fit with k clusters. */
extern int	km_validate_params(size_t n, size_t d, int k,
							   const ecore_kmeans_params *p);

/* Bytes of a fit's block laid out by L with nthreads workspaces. */
extern int	km_block_bytes(const km_layout *L, int nthreads, size_t *bytes);

/*
 * Make c the context of a fit of the n x d points X with up to k
 * clusters, on the block at base laid out by L with nthreads workspaces
 * (carve, column statistics, tol_abs, span, margin).
 */
extern void km_attach(km_ctx *c, const km_layout *L, int nthreads,
					  char *base, const double *X, size_t n, size_t d,
					  int k, const ecore_kmeans_params *p, ecore_env *env);

/*
 * Common start of a fit or an elbow: validate, allocate the block for k
 * (the largest k of the call), km_attach, distinct and span checks.
 */
extern int	km_setup(km_ctx *c, const double *X, size_t n, size_t d, int k,
					 const ecore_kmeans_params *p, ecore_env *env);

/*
 * The margin of the Hamerly bound tests of c (from the box of the points
 * and, if init is not NULL, of the k x d starting centroids init).
 */
extern void km_set_margin(km_ctx *c, const double *init, int k);

/*
 * Fit c->k clusters with c's workspace: n_init restarts, keep the best,
 * relabel, final pass (ECORE_EUNDERFLOW on an empty cluster whose
 * centroid cannot be told apart from another).
 */
extern int	km_fit_k(km_ctx *c, ecore_kmeans_result *res);

/*
 * Fit k clusters on c from the k x d centroids start: one run, one thread
 * (a split start or a refinement), with the margin of those centroids; the
 * run is not recorded in c's restart records (rec_C, rec_inertia), and c's
 * own parameters are restored afterwards (kmeans_elbow.c; the elbow on
 * aggregates, elbow_agg.c, starts its split runs on the sample with it).
 */
extern int	km_fit_from(km_ctx *c, int k, const double *start, ecore_kmeans_result *res);

/*
 * Final pass over the centroids in c->out_centroids: labels, distances,
 * sizes, per-cluster inertia; returns the total inertia.
 */
extern double km_final_pass(km_ctx *c);

/*
 * Validate k x d centroids: ECORE_EINIT_VALUE with the index in
 * env->error_row.  The limit is ECORE_MAX_ABS_CENTROID: the mean of
 * points of magnitude up to ECORE_MAX_ABS can round slightly above it.
 */
extern int	km_validate_centroids(const double *C, int k, size_t d,
								  ecore_env *env);

/* kmeans_seed.c */

/*
 * Do at least k distinct points exist?  Inserts rows into the hash set
 * until k distinct are seen (usually the first k rows).
 */
extern int	km_enough_distinct(km_ctx *c, int k);

/* k distinct points chosen uniformly, into c->C (restart's rng). */
extern void km_init_random(km_ctx *c, ecore_rng *rng);

/* Greedy k-means++ (scikit-learn's _kmeans_plusplus), into c->C. */
extern void km_init_pp(km_ctx *c, ecore_rng *rng);

/* kmeans_lloyd.c */

/*
 * One restart from the centroids in c->C: Lloyd iterations (Hamerly or
 * plain), final E-step; returns the inertia (if want_inertia) and the
 * iteration count / converged flag.
 */
extern double km_lloyd(km_ctx *c, int want_inertia, int *iterations,
					   int *converged);

#endif							/* ECORE_KMEANS_INTERNAL_H */
