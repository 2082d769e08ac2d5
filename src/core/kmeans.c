/*-------------------------------------------------------------------------
 *
 * kmeans.c
 *	  K-means numerical core of engage (see kmeans.h for the API).
 *
 * Algorithm notes
 *
 * - Lloyd iterations as scikit-learn's _kmeans_single_lloyd: iteration i
 *	 assigns every point to its nearest centroid (E-step), then moves each
 *	 centroid to the mean of its points (M-step).  Stop when no assignment
 *	 changed ("strict" convergence), or when the total squared centroid
 *	 shift <= tol * mean feature variance, or after max_iter; if not
 *	 strictly converged, one more E-step makes labels and inertia match the
 *	 final centroids.
 *
 * - Centroid sums are maintained incrementally (a point that changes
 *	 cluster is subtracted from one sum and added to the other, in point
 *	 order) and recomputed from scratch, in point order, whenever more than
 *	 n changes have accumulated since the last recomputation.  The sums are
 *	 thus a deterministic function of the sequence of label changes, which
 *	 makes the two E-step strategies below give bit-identical results.
 *
 * - E-step strategies: ECORE_ALGO_LLOYD computes the k distances of every
 *	 point; ECORE_ALGO_HAMERLY (default) keeps for every point an upper
 *	 bound on the distance to its centroid and a lower bound on the
 *	 distance to every other centroid (Hamerly 2010).  The bounds are
 *	 stored relative to cumulative drifts (P[j]: total shift of centroid
 *	 j; Mo[j]: total of the largest shift among the other centroids), so
 *	 that they need no per-point update after an M-step and a point that
 *	 cannot change is skipped by a read-only test.  Per chunk of points a
 *	 branch-free filter collects the points whose bounds fail, then those
 *	 get the exact distance to their centroid and, if still needed, the k
 *	 distances.  Bound tests use a safety margin of 1e-8 times the
 *	 diameter of the data (and of user initial centroids), far above the
 *	 accumulated rounding of the bounds, so a point is skipped only when
 *	 plain Lloyd would give it the same label; the points not skipped go
 *	 through the very same distance code as plain Lloyd.  Hence the two
 *	 strategies return the same labels, centroids and iterations, bit for
 *	 bit (tested in test/unit and by the fuzzer).
 *
 * - Empty cluster (after an E-step): it takes the point farthest from its
 *	 assigned centroid (ties: lowest index) among the points whose cluster
 *	 has at least two points; that point's label changes to the empty
 *	 cluster.  Several empty clusters are served in ascending index order
 *	 (scikit-learn: the n_empty farthest points, same centroids).
 *
 * - k-means++ is scikit-learn's greedy variant: first centre uniform,
 *	 then for each next centre n_local_trials candidates are sampled with
 *	 probability proportional to D(x)^2 and the one that lowers the
 *	 potential most is kept.  Candidate sampling (first index whose running
 *	 sum reaches u * potential, u uniform in (0, 1]) is fused into the pass
 *	 that updates the closest distances; candidate potentials are summed
 *	 in the same order, so a sampled value never exceeds the running total.
 *	 If the potential is 0 or underflows (distinct points closer than
 *	 1e-160), the next centre is the first row, cyclically from a random
 *	 start, that differs from every chosen centre.  'random' draws rows
 *	 uniformly and rejects rows equal to a chosen centre (after 64
 *	 rejections: the same cyclic scan).
 *
 * - All distances are computed exactly as sum((x - c)^2) in feature order
 *	 (no norm expansion), with kernels written out for d = 1..4.  Argmin
 *	 selections are branch-free on the bit patterns (see nearest2).
 *
 * - Reproducibility: results depend only on data, parameters and seed,
 *	 bit for bit, for a given build.  Across CPU architectures a compiler
 *	 that fuses multiply-adds (e.g. GCC on aarch64, default
 *	 -ffp-contract=fast) may change last bits; build with
 *	 -ffp-contract=off for bit-identical results everywhere (x86-64
 *	 without -march flags never fuses).
 *
 * Copyright (c) 2026, engage developers
 *
 *-------------------------------------------------------------------------
 */
/* pthread_sigmask, sigfillset: POSIX (the unit tests build with -std=c99) */
#ifndef _POSIX_C_SOURCE
#define _POSIX_C_SOURCE 200809L
#endif

#include "kmeans.h"

#include <float.h>
#include <math.h>
#include <string.h>

#include "rng.h"

#include <pthread.h>
#include <setjmp.h>
#include <signal.h>
#include <time.h>

/*
 * Kernels are written once with d a parameter (KM_INLINE, always
 * inlined) and instantiated for d = 1..4 and generic d by one small
 * KM_NOINLINE wrapper each: kept out of the big callers, they get good
 * register allocation.
 */
#if defined(__GNUC__) || defined(__clang__)
#define KM_INLINE static inline __attribute__((always_inline))
#define KM_NOINLINE static __attribute__((noinline))
#else
#define KM_INLINE static inline
#define KM_NOINLINE static
#endif

/* End of the chunk of points starting at start. */
#define KM_CHUNK_END(start, n) \
	((n) - (start) > ECORE_CHECK_CHUNK ? (start) + ECORE_CHECK_CHUNK : (n))

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

/* Prefetch of a point some iterations ahead (a hint only). */
#if defined(__GNUC__) || defined(__clang__)
#define KM_PREFETCH(p) __builtin_prefetch((p), 0, 3)
#else
#define KM_PREFETCH(p) ((void) 0)
#endif

/* Relative safety margin of the Hamerly bound tests (times the diameter). */
#define KM_MARGIN_REL 1e-8

/* Most k-means++ candidates per centroid accepted in n_local_trials. */
#define KM_MAX_TRIALS 1024

/* Draws of the random initialisation before a deterministic scan. */
#define KM_RANDOM_TRIES 64

/* ---------------------------------------------------------------------
 * Memory layout: one block carved into arrays
 * ---------------------------------------------------------------------
 */

/* Offsets (bytes) of every array of a fit inside the single block. */
typedef struct km_layout
{
	size_t		total;
	int			overflow;
	int			T;				/* k-means++ candidates per centroid */
	size_t		hash_cap;		/* hash table slots (power of two) */
	/* outputs */
	size_t		centroids, cluster_inertia, sizes, distances, labels;
	/* workspace */
	size_t		C, Cnew, best_C, sums, P, Mo, s_half, norms, stats, cand_C;
	size_t		cand_pot, rvals, counts, hash, cand, perm, empties, rorder;
	size_t		scratch_idx, scratch_bound;
	size_t		w;				/* (size_t) -1 when not needed */
} km_layout;

/* Reserve count elements of elem bytes (8-byte aligned); returns offset. */
static size_t
lay_reserve(km_layout *L, size_t count, size_t elem)
{
	size_t		off = L->total;
	size_t		bytes;

	if (L->overflow)
		return 0;
	if (count != 0 && elem > SIZE_MAX / count)
	{
		L->overflow = 1;
		return 0;
	}
	bytes = count * elem;
	if (bytes > SIZE_MAX - 7)
	{
		L->overflow = 1;
		return 0;
	}
	bytes = (bytes + 7) & ~(size_t) 7;
	if (bytes > SIZE_MAX - L->total)
	{
		L->overflow = 1;
		return 0;
	}
	L->total += bytes;
	return off;
}

/* Hash table slots for k keys: a power of two >= 2k, at least 16. */
static size_t
hash_capacity(int k)
{
	size_t		cap = 16;

	while (cap < (size_t) k * 2 && cap <= SIZE_MAX / 4)
		cap *= 2;
	return cap;
}

/* Default number of k-means++ local trials: 2 + floor(ln k). */
static int
default_trials(int k)
{
	return 2 + (int) floor(log((double) k));
}

/* Compute the layout of a fit of n x d points with k clusters. */
static void
km_compute_layout(km_layout *L, size_t n, size_t d, int k,
				  const ecore_kmeans_params *p)
{
	size_t		kd = 0;
	int			need_w;

	memset(L, 0, sizeof(*L));
	L->T = p->n_local_trials > 0 ? p->n_local_trials : default_trials(k);
	L->hash_cap = hash_capacity(k);
	if ((size_t) k > SIZE_MAX / d)
	{
		L->overflow = 1;
		return;
	}
	kd = (size_t) k * d;
	need_w = (p->algorithm == ECORE_ALGO_HAMERLY ||
			  p->init == ECORE_INIT_KMEANSPP);

	/* doubles first */
	L->centroids = lay_reserve(L, kd, sizeof(double));
	L->cluster_inertia = lay_reserve(L, (size_t) k, sizeof(double));
	L->distances = lay_reserve(L, n, sizeof(double));
	L->w = need_w ? lay_reserve(L, n, sizeof(double)) : (size_t) -1;
	L->C = lay_reserve(L, kd, sizeof(double));
	L->Cnew = lay_reserve(L, kd, sizeof(double));
	L->best_C = lay_reserve(L, kd, sizeof(double));
	L->sums = lay_reserve(L, kd, sizeof(double));
	L->P = lay_reserve(L, (size_t) k, sizeof(double));
	L->Mo = lay_reserve(L, (size_t) k, sizeof(double));
	L->s_half = lay_reserve(L, (size_t) k, sizeof(double));
	L->norms = lay_reserve(L, (size_t) k, sizeof(double));
	L->stats = lay_reserve(L, d, 6 * sizeof(double));
	L->cand_C = lay_reserve(L, (size_t) L->T, d * sizeof(double));
	L->cand_pot = lay_reserve(L, (size_t) L->T, sizeof(double));
	L->rvals = lay_reserve(L, (size_t) L->T, sizeof(double));
	L->scratch_bound = lay_reserve(L, n < ECORE_CHECK_CHUNK ? n : ECORE_CHECK_CHUNK,
								   sizeof(double));
	/* then 8-byte integers */
	L->sizes = lay_reserve(L, (size_t) k, sizeof(int64_t));
	L->counts = lay_reserve(L, (size_t) k, sizeof(int64_t));
	L->hash = lay_reserve(L, L->hash_cap, sizeof(size_t));
	L->cand = lay_reserve(L, (size_t) L->T, sizeof(size_t));
	/* then 4-byte integers */
	L->labels = lay_reserve(L, n, sizeof(int32_t));
	L->perm = lay_reserve(L, (size_t) k, sizeof(int32_t));
	L->empties = lay_reserve(L, (size_t) k, sizeof(int32_t));
	L->rorder = lay_reserve(L, (size_t) L->T, sizeof(int32_t));
	L->scratch_idx = lay_reserve(L, n < ECORE_CHECK_CHUNK ? n : ECORE_CHECK_CHUNK,
								 sizeof(uint32_t));
}

/* Bytes of a fit's block with nthreads workspaces (defined below). */
static int	km_block_bytes(const km_layout *L, int nthreads, size_t *bytes);

/* ---------------------------------------------------------------------
 * Messages and validation
 * ---------------------------------------------------------------------
 */

/* Static English message of a status code. */
const char *
ecore_strerror(int status)
{
	switch (status)
	{
		case ECORE_OK:
			return "success";
		case ECORE_EINVAL_ENV:
			return "no allocator given to the numerical core";
		case ECORE_EINVAL_ARG:
			return "invalid argument";
		case ECORE_EINVAL_N:
			return "number of points must be at least 1";
		case ECORE_EINVAL_D:
			return "number of features must be at least 1";
		case ECORE_EINVAL_K:
			return "number of clusters k must be between 1 and the number of points";
		case ECORE_EINVAL_NINIT:
			return "n_init must be at least 1";
		case ECORE_EINVAL_MAXITER:
			return "max_iter must be at least 1";
		case ECORE_EINVAL_TOL:
			return "tol must be a finite number >= 0";
		case ECORE_EINVAL_INIT:
			return "invalid initialisation method (or user centroids missing)";
		case ECORE_EINVAL_ALGORITHM:
			return "invalid k-means algorithm";
		case ECORE_ENONFINITE:
			return "input contains NaN or infinity";
		case ECORE_ERANGE:
			return "input value too large in magnitude (limit 1e100)";
		case ECORE_EINIT_VALUE:
			return "initial centroid contains NaN, infinity or a value too large";
		case ECORE_EDISTINCT:
			return "fewer distinct points than clusters k";
		case ECORE_ENOMEM:
			return "out of memory";
		case ECORE_EOVERFLOW:
			return "problem too large: size overflow";
		case ECORE_EINVAL_CURVE:
			return "invalid curve: x must be finite and strictly increasing, y finite";
	}
	return "unknown error";
}

/* Names equal up to ASCII case. */
int
ecore_name_equal(const char *a, const char *b)
{
	unsigned char ca,
				cb;

	if (a == NULL || b == NULL)
		return 0;
	do
	{
		ca = (unsigned char) *a++;
		cb = (unsigned char) *b++;
		if (ca >= 'A' && ca <= 'Z')
			ca = (unsigned char) (ca - 'A' + 'a');
		if (cb >= 'A' && cb <= 'Z')
			cb = (unsigned char) (cb - 'A' + 'a');
		if (ca != cb)
			return 0;
	} while (ca != '\0');
	return 1;
}

/* Parse an initialisation name. */
int
ecore_kmeans_init_parse(const char *name, ecore_kmeans_init *init)
{
	if (name == NULL || init == NULL)
		return ECORE_EINVAL_ARG;
	if (ecore_name_equal(name, "k-means++"))
		*init = ECORE_INIT_KMEANSPP;
	else if (ecore_name_equal(name, "random"))
		*init = ECORE_INIT_RANDOM;
	else if (ecore_name_equal(name, "given"))
		*init = ECORE_INIT_USER;
	else
		return ECORE_EINVAL_INIT;
	return ECORE_OK;
}

/* Name of an initialisation. */
const char *
ecore_kmeans_init_name(ecore_kmeans_init init)
{
	switch (init)
	{
		case ECORE_INIT_KMEANSPP:
			return "k-means++";
		case ECORE_INIT_RANDOM:
			return "random";
		case ECORE_INIT_USER:
			return "given";
	}
	return NULL;
}

/* Check one row of d values (|x| <= limit); returns status, sets *col. */
static int
check_row(const double *x, size_t d, double limit, size_t *col)
{
	size_t		j;

	for (j = 0; j < d; j++)
	{
		if (!isfinite(x[j]))
		{
			*col = j;
			return ECORE_ENONFINITE;
		}
		if (fabs(x[j]) > limit)
		{
			*col = j;
			return ECORE_ERANGE;
		}
	}
	return ECORE_OK;
}

/* Validate points: finite and not too large; first bad row in env. */
int
ecore_validate_points(const double *X, size_t n, size_t d, ecore_env *env)
{
	size_t		start,
				end,
				i,
				col = 0;
	int			rc;

	if (env == NULL)
		return ECORE_EINVAL_ENV;
	if (X == NULL)
		return ECORE_EINVAL_ARG;
	if (n < 1)
		return ECORE_EINVAL_N;
	if (d < 1)
		return ECORE_EINVAL_D;
	if (n > SIZE_MAX / d / sizeof(double))
		return ECORE_EOVERFLOW;
	for (start = 0; start < n; start = end)
	{
		end = KM_CHUNK_END(start, n);
		ECORE_CHECK(env);
		for (i = start; i < end; i++)
		{
			rc = check_row(X + i * d, d, ECORE_MAX_ABS, &col);
			if (rc != ECORE_OK)
			{
				env->error_row = i;
				env->error_col = col;
				return rc;
			}
		}
	}
	return ECORE_OK;
}

/*
 * Validate k x d centroids: ECORE_EINIT_VALUE with the index.  The limit
 * is ECORE_MAX_ABS_CENTROID: the mean of points of magnitude up to
 * ECORE_MAX_ABS can round slightly above it.
 */
static int
validate_centroids(const double *C, int k, size_t d, ecore_env *env)
{
	size_t		col = 0;
	int			j;

	if (C == NULL)
		return ECORE_EINVAL_ARG;
	for (j = 0; j < k; j++)
	{
		if (check_row(C + (size_t) j * d, d, ECORE_MAX_ABS_CENTROID, &col) != ECORE_OK)
		{
			env->error_row = (size_t) j;
			env->error_col = col;
			return ECORE_EINIT_VALUE;
		}
	}
	return ECORE_OK;
}

/* Threads a fit uses: n_threads, at most one per restart. */
static int
km_threads(const ecore_kmeans_params *p)
{
	int			n_init = (p->init == ECORE_INIT_USER) ? 1 : p->n_init;
	int			t = p->n_threads < 1 ? 1 : p->n_threads;

	return t < n_init ? t : n_init;
}

/* Validate the parameters of a fit with k clusters. */
static int
validate_params(size_t n, size_t d, int k, const ecore_kmeans_params *p)
{
	if (p == NULL)
		return ECORE_EINVAL_ARG;
	if (n < 1)
		return ECORE_EINVAL_N;
	if (d < 1)
		return ECORE_EINVAL_D;
	if (n > SIZE_MAX / d / sizeof(double))
		return ECORE_EOVERFLOW;
	if (k < 1 || (size_t) k > n)
		return ECORE_EINVAL_K;
	if (p->init != ECORE_INIT_KMEANSPP && p->init != ECORE_INIT_RANDOM &&
		p->init != ECORE_INIT_USER)
		return ECORE_EINVAL_INIT;
	if (p->init == ECORE_INIT_USER && p->init_centroids == NULL)
		return ECORE_EINVAL_INIT;
	if (p->algorithm != ECORE_ALGO_HAMERLY && p->algorithm != ECORE_ALGO_LLOYD)
		return ECORE_EINVAL_ALGORITHM;
	if (p->n_init < 1)
		return ECORE_EINVAL_NINIT;
	if (p->max_iter < 1)
		return ECORE_EINVAL_MAXITER;
	if (!isfinite(p->tol) || p->tol < 0.0)
		return ECORE_EINVAL_TOL;
	if (p->n_local_trials < 0 || p->n_local_trials > KM_MAX_TRIALS)
		return ECORE_EINVAL_ARG;
	if (p->n_threads < 0 || p->n_threads > ECORE_MAX_THREADS)
		return ECORE_EINVAL_ARG;
	return ECORE_OK;
}

/* Fill *params with the defaults. */
void
ecore_kmeans_params_default(ecore_kmeans_params *params)
{
	memset(params, 0, sizeof(*params));
	params->k = 3;
	params->init = ECORE_INIT_KMEANSPP;
	params->init_centroids = NULL;
	params->n_init = 10;
	params->max_iter = 300;
	params->tol = 1e-4;
	params->seed = 0;
	params->algorithm = ECORE_ALGO_HAMERLY;
	params->n_local_trials = 0;
	params->n_threads = 1;
}

/* Bytes requested by ecore_kmeans_fit(). */
int
ecore_kmeans_bytes(size_t n, size_t d, const ecore_kmeans_params *params,
					size_t *bytes)
{
	km_layout	L;
	int			rc;

	if (bytes == NULL)
		return ECORE_EINVAL_ARG;
	rc = validate_params(n, d, params ? params->k : 0, params);
	if (rc != ECORE_OK)
		return rc;
	km_compute_layout(&L, n, d, params->k, params);
	if (L.overflow)
		return ECORE_EOVERFLOW;
	return km_block_bytes(&L, km_threads(params), bytes);
}

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
 * Row hash set (distinct points, chosen seeds)
 * ---------------------------------------------------------------------
 */

/* Hash of a row; -0.0 and 0.0 hash alike (they compare equal). */
static uint64_t
row_hash(const double *x, size_t d)
{
	uint64_t	h = UINT64_C(0x9E3779B97F4A7C15);
	size_t		j;

	for (j = 0; j < d; j++)
	{
		double		v = x[j] + 0.0;
		uint64_t	b;

		memcpy(&b, &v, sizeof(b));
		h ^= b;
		h *= UINT64_C(0xFF51AFD7ED558CCD);
		h ^= h >> 32;
	}
	h *= UINT64_C(0xC4CEB9FE1A85EC53);
	h ^= h >> 29;
	return h;
}

/* Rows equal (==, so -0.0 equals 0.0)? */
static int
rows_equal(const double *a, const double *b, size_t d)
{
	size_t		j;

	for (j = 0; j < d; j++)
		if (a[j] != b[j])
			return 0;
	return 1;
}

/*
 * Find row i of X in the set (slots hold row index + 1, 0 = empty);
 * if absent and insert is set, add it.  Returns 1 if an equal row was
 * present.
 */
static int
rowset_lookup(size_t *slots, size_t cap, const double *X, size_t d,
			  size_t i, int insert)
{
	const double *x = X + i * d;
	size_t		mask = cap - 1;
	size_t		pos = (size_t) row_hash(x, d) & mask;

	for (;;)
	{
		size_t		s = slots[pos];

		if (s == 0)
		{
			if (insert)
				slots[pos] = i + 1;
			return 0;
		}
		if (rows_equal(X + (s - 1) * d, x, d))
			return 1;
		pos = (pos + 1) & mask;
	}
}

/* ---------------------------------------------------------------------
 * Fit context
 * ---------------------------------------------------------------------
 */

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
	int			T;
	double		margin;			/* absolute margin of the bound tests */
	double		tol_abs;
	size_t		changes_since_sync;

	double	   *C;				/* current centroids (k x d) */
	double	   *Cnew;			/* next centroids (k x d) */
	double	   *best_C;
	double	   *sums;
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

/* Carve the block into the arrays of the context. */
static void
km_carve(km_ctx *c, const km_layout *L, char *base)
{
	c->T = L->T;
	c->hash_cap = L->hash_cap;
	c->out_centroids = (double *) (base + L->centroids);
	c->out_cluster_inertia = (double *) (base + L->cluster_inertia);
	c->out_sizes = (int64_t *) (base + L->sizes);
	c->v = (double *) (base + L->distances);
	c->w = L->w == (size_t) -1 ? NULL : (double *) (base + L->w);
	c->labels = (int32_t *) (base + L->labels);
	c->C = (double *) (base + L->C);
	c->Cnew = (double *) (base + L->Cnew);
	c->best_C = (double *) (base + L->best_C);
	c->sums = (double *) (base + L->sums);
	c->P = (double *) (base + L->P);
	c->Mo = (double *) (base + L->Mo);
	c->s_half = (double *) (base + L->s_half);
	c->norms = (double *) (base + L->norms);
	c->stats = (double *) (base + L->stats);
	c->cand_C = (double *) (base + L->cand_C);
	c->cand_pot = (double *) (base + L->cand_pot);
	c->rvals = (double *) (base + L->rvals);
	c->counts = (int64_t *) (base + L->counts);
	c->hash = (size_t *) (base + L->hash);
	c->cand = (size_t *) (base + L->cand);
	c->perm = (int32_t *) (base + L->perm);
	c->empties = (int32_t *) (base + L->empties);
	c->rorder = (int32_t *) (base + L->rorder);
	c->scratch_idx = (uint32_t *) (base + L->scratch_idx);
	c->scratch_bound = (double *) (base + L->scratch_bound);
}

/*
 * Per-feature mean, population variance, min and max of the points (two
 * passes, chunked sums).  Writes stats[0..4d).
 */
static void
km_column_stats(km_ctx *c)
{
	const double *X = c->X;
	size_t		n = c->n,
				d = c->d,
				start,
				end,
				i,
				j;
	double	   *mean = c->stats;
	double	   *var = c->stats + d;
	double	   *mn = c->stats + 2 * d;
	double	   *mx = c->stats + 3 * d;
	double	   *acc = c->stats + 4 * d;

	for (j = 0; j < d; j++)
	{
		mean[j] = 0.0;
		var[j] = 0.0;
		mn[j] = X[j];
		mx[j] = X[j];
	}
	for (start = 0; start < n; start = end)
	{
		end = KM_CHUNK_END(start, n);
		ECORE_CHECK(c->env);
		for (j = 0; j < d; j++)
			acc[j] = 0.0;
		for (i = start; i < end; i++)
		{
			const double *x = X + i * d;

			for (j = 0; j < d; j++)
			{
				acc[j] += x[j];
				if (x[j] < mn[j])
					mn[j] = x[j];
				if (x[j] > mx[j])
					mx[j] = x[j];
			}
		}
		for (j = 0; j < d; j++)
			mean[j] += acc[j];
	}
	for (j = 0; j < d; j++)
		mean[j] /= (double) n;
	for (start = 0; start < n; start = end)
	{
		end = KM_CHUNK_END(start, n);
		ECORE_CHECK(c->env);
		for (j = 0; j < d; j++)
			acc[j] = 0.0;
		for (i = start; i < end; i++)
		{
			const double *x = X + i * d;

			for (j = 0; j < d; j++)
			{
				double		t = x[j] - mean[j];

				acc[j] += t * t;
			}
		}
		for (j = 0; j < d; j++)
			var[j] += acc[j];
	}
	for (j = 0; j < d; j++)
		var[j] /= (double) n;
}

/*
 * Do at least k distinct points exist?  Inserts rows into the hash set
 * until k distinct are seen (usually the first k rows).
 */
static int
km_enough_distinct(km_ctx *c, int k)
{
	size_t		start,
				end,
				i,
				found = 0;

	memset(c->hash, 0, c->hash_cap * sizeof(size_t));
	for (start = 0; start < c->n; start = end)
	{
		end = KM_CHUNK_END(start, c->n);
		ECORE_CHECK(c->env);
		for (i = start; i < end; i++)
		{
			if (!rowset_lookup(c->hash, c->hash_cap, c->X, c->d, i, 1))
			{
				found++;
				if (found >= (size_t) k)
					return 1;
			}
		}
	}
	return 0;
}

/*
 * A row not equal to any row of the hash set, scanning cyclically from a
 * random start (exists whenever fewer than the number of distinct points
 * are in the set).
 */
static size_t
km_pick_unused_row(km_ctx *c, ecore_rng *rng)
{
	size_t		start = (size_t) ecore_rng_below(rng, (uint64_t) c->n);
	size_t		off,
				i;

	for (off = 0; off < c->n; off++)
	{
		if (off % ECORE_CHECK_CHUNK == 0)
			ECORE_CHECK(c->env);
		i = start + off;
		if (i >= c->n)
			i -= c->n;
		if (!rowset_lookup(c->hash, c->hash_cap, c->X, c->d, i, 0))
			return i;
	}
	return start;				/* unreachable with enough distinct points */
}

/* ---------------------------------------------------------------------
 * Initialisation
 * ---------------------------------------------------------------------
 */

/* k distinct points chosen uniformly (rejection, then a cyclic scan). */
static void
km_init_random(km_ctx *c, ecore_rng *rng)
{
	int			j,
				tries;
	size_t		i = 0;

	memset(c->hash, 0, c->hash_cap * sizeof(size_t));
	for (j = 0; j < c->k; j++)
	{
		int			found = 0;

		for (tries = 0; tries < KM_RANDOM_TRIES; tries++)
		{
			i = (size_t) ecore_rng_below(rng, (uint64_t) c->n);
			if (!rowset_lookup(c->hash, c->hash_cap, c->X, c->d, i, 0))
			{
				found = 1;
				break;
			}
		}
		if (!found)
			i = km_pick_unused_row(c, rng);
		rowset_lookup(c->hash, c->hash_cap, c->X, c->d, i, 1);
		memcpy(c->C + (size_t) j * c->d, c->X + i * c->d, c->d * sizeof(double));
	}
}

/* Sort the T sampling values ascending, with their trial numbers. */
static void
pp_sort_r(double *r, int32_t *order, int T)
{
	int			a,
				b;

	for (a = 0; a < T; a++)
		order[a] = a;
	for (a = 1; a < T; a++)
	{
		double		rv = r[a];
		int32_t		ov = order[a];

		b = a - 1;
		while (b >= 0 && r[b] > rv)
		{
			r[b + 1] = r[b];
			order[b + 1] = order[b];
			b--;
		}
		r[b + 1] = rv;
		order[b + 1] = ov;
	}
}

/*
 * Draw T sampling values u * pot, u in (0, 1], sorted with their trial
 * numbers.  Returns 0 (degenerate) if pot is not positive or a value
 * underflows to 0.
 */
static int
pp_draw(km_ctx *c, ecore_rng *rng, double pot)
{
	int			t,
				ok = (pot > 0.0 && isfinite(pot));

	for (t = 0; t < c->T; t++)
	{
		c->rvals[t] = ecore_rng_uniform_pos(rng) * pot;
		if (!(c->rvals[t] > 0.0))
			ok = 0;
	}
	pp_sort_r(c->rvals, c->rorder, c->T);
	return ok;
}

/*
 * One k-means++ pass over the points.  With center != NULL, D^2 (in w) is
 * updated: w[i] = d(x, center)^2 if first, else min(w[i], d(x, center)^2);
 * with center == NULL it is only read.  Meanwhile the running sum of w is
 * compared with the sorted sampling values (if ok): candidate of trial
 * order[t] = first index whose running sum >= r[t].  Returns the total.
 */
KM_INLINE double
pp_update_impl(km_ctx *c, const double *center, int first, int ok,
			   size_t d)
{
	const double *X = c->X;
	double	   *w = c->w;
	size_t		n = c->n,
				start,
				end,
				i,
				last_pos = 0;
	double		run = 0.0;
	int			ri = 0,
				T = ok ? c->T : 0;
	const double *r = c->rvals;
	const int32_t *order = c->rorder;
	size_t	   *cand = c->cand;
	double		next_r = T > 0 ? r[0] : INFINITY;

	for (start = 0; start < n; start = end)
	{
		end = KM_CHUNK_END(start, n);
		ECORE_CHECK(c->env);
		for (i = start; i < end; i++)
		{
			double		v;

			if (center == NULL)
				v = w[i];
			else
			{
				v = sqdist(X + i * d, center, d);
				if (!first)
					v = w[i] < v ? w[i] : v;
				w[i] = v;
			}
			run += v;
			last_pos = v > 0.0 ? i : last_pos;
			if (run >= next_r)
			{
				while (ri < T && run >= r[ri])
				{
					cand[order[ri]] = i;
					ri++;
				}
				next_r = ri < T ? r[ri] : INFINITY;
			}
		}
	}
	/* values beyond the total (rounding): last point of positive weight */
	for (; ri < T; ri++)
		cand[order[ri]] = last_pos;
	return run;
}

/*
 * Potential of candidates t0 .. t0+G-1 (G <= 4): sum over the points of
 * min(w[i], d(x, cand)^2), summed in point order (register accumulators).
 */
KM_INLINE void
pp_candidate_pots_impl(km_ctx *c, int t0, int G, size_t d)
{
	const double *X = c->X;
	const double *w = c->w;
	const double *c0 = c->cand_C + (size_t) t0 * d;
	const double *c1 = G > 1 ? c0 + d : c0;
	const double *c2 = G > 2 ? c0 + 2 * d : c0;
	const double *c3 = G > 3 ? c0 + 3 * d : c0;
	size_t		n = c->n,
				start,
				end,
				i;
	double		a0 = 0.0,
				a1 = 0.0,
				a2 = 0.0,
				a3 = 0.0;

	for (start = 0; start < n; start = end)
	{
		end = KM_CHUNK_END(start, n);
		ECORE_CHECK(c->env);
		for (i = start; i < end; i++)
		{
			const double *x = X + i * d;
			double		wi = w[i];
			double		v0 = sqdist(x, c0, d);

			a0 += v0 < wi ? v0 : wi;
			if (G > 1)
			{
				double		v1 = sqdist(x, c1, d);

				a1 += v1 < wi ? v1 : wi;
			}
			if (G > 2)
			{
				double		v2 = sqdist(x, c2, d);

				a2 += v2 < wi ? v2 : wi;
			}
			if (G > 3)
			{
				double		v3 = sqdist(x, c3, d);

				a3 += v3 < wi ? v3 : wi;
			}
		}
	}
	c->cand_pot[t0] = a0;
	if (G > 1)
		c->cand_pot[t0 + 1] = a1;
	if (G > 2)
		c->cand_pot[t0 + 2] = a2;
	if (G > 3)
		c->cand_pot[t0 + 3] = a3;
}

/* Potentials of the first T candidates, by groups of up to four. */
KM_NOINLINE void
pp_candidate_pots(km_ctx *c, int T)
{
	int			t0,
				G;

	for (t0 = 0; t0 < T; t0 += 4)
	{
		G = T - t0 < 4 ? T - t0 : 4;
		switch (G)
		{
			case 1:
				KM_DISPATCH(c->d, pp_candidate_pots_impl(c, t0, 1, D_));
				break;
			case 2:
				KM_DISPATCH(c->d, pp_candidate_pots_impl(c, t0, 2, D_));
				break;
			case 3:
				KM_DISPATCH(c->d, pp_candidate_pots_impl(c, t0, 3, D_));
				break;
			default:
				KM_DISPATCH(c->d, pp_candidate_pots_impl(c, t0, 4, D_));
				break;
		}
	}
}

/* pp_update_impl for the dimension of the data. */
KM_NOINLINE double
pp_update(km_ctx *c, const double *center, int first, int ok)
{
	double		run = 0.0;

	KM_DISPATCH(c->d, run = pp_update_impl(c, center, first, ok, D_));
	return run;
}

/* Greedy k-means++ (scikit-learn's _kmeans_plusplus). */
static void
km_init_pp(km_ctx *c, ecore_rng *rng)
{
	size_t		d = c->d,
				first;
	double		pot;
	int			ok,
				j,
				t,
				T,
				best;

	memset(c->hash, 0, c->hash_cap * sizeof(size_t));
	first = (size_t) ecore_rng_below(rng, (uint64_t) c->n);
	rowset_lookup(c->hash, c->hash_cap, c->X, d, first, 1);
	memcpy(c->C, c->X + first * d, d * sizeof(double));
	if (c->k == 1)
		return;

	pot = pp_update(c, c->C, 1, 0);
	ok = pp_draw(c, rng, pot);
	if (ok)
		(void) pp_update(c, NULL, 0, 1);

	for (j = 1; j < c->k; j++)
	{
		if (ok)
			T = c->T;
		else
		{
			/* degenerate potential: one candidate not yet chosen */
			T = 1;
			c->cand[0] = km_pick_unused_row(c, rng);
		}
		for (t = 0; t < T; t++)
			memcpy(c->cand_C + (size_t) t * d, c->X + c->cand[t] * d,
				   d * sizeof(double));
		pp_candidate_pots(c, T);
		best = 0;
		for (t = 1; t < T; t++)
			if (c->cand_pot[t] < c->cand_pot[best])
				best = t;
		memcpy(c->C + (size_t) j * d, c->cand_C + (size_t) best * d,
			   d * sizeof(double));
		rowset_lookup(c->hash, c->hash_cap, c->X, d, c->cand[best], 1);
		if (j + 1 < c->k)
		{
			/* sampling values of the next centre, from the new potential */
			pot = c->cand_pot[best];
			ok = pp_draw(c, rng, pot);
			(void) pp_update(c, c->C + (size_t) j * d, 0, ok);
		}
	}
}

/* ---------------------------------------------------------------------
 * Lloyd iterations
 * ---------------------------------------------------------------------
 */

/* Move point x from cluster a to cluster b in the sums and counts. */
KM_INLINE void
move_point(double *sums, int64_t *counts, const double *x, int32_t a,
		   int32_t b, size_t d)
{
	vec_sub(sums + (size_t) a * d, x, d);
	vec_add(sums + (size_t) b * d, x, d);
	counts[a]--;
	counts[b]++;
}

/*
 * First E-step of a restart: every point to its nearest centroid, sums
 * and counts from scratch in point order, Hamerly bounds if wanted.
 */
KM_INLINE void
estep_first_impl(km_ctx *c, int bounds, size_t d)
{
	const double *X = c->X;
	const double *C = c->C;
	double	   *sums = c->sums;
	int64_t    *counts = c->counts;
	int32_t    *labels = c->labels;
	double	   *v = c->v;
	double	   *w = c->w;
	size_t		n = c->n,
				start,
				end,
				i;
	int			k = c->k;

	memset(sums, 0, (size_t) k * d * sizeof(double));
	memset(counts, 0, (size_t) k * sizeof(int64_t));
	for (start = 0; start < n; start = end)
	{
		end = KM_CHUNK_END(start, n);
		ECORE_CHECK(c->env);
		for (i = start; i < end; i++)
		{
			const double *x = X + i * d;
			double		b1,
						b2;
			int32_t		b = nearest2(x, C, k, d, &b1, &b2);

			labels[i] = b;
			vec_add(sums + (size_t) b * d, x, d);
			counts[b]++;
			if (bounds)
			{
				v[i] = sqrt(b1);
				w[i] = sqrt(b2);
			}
		}
	}
}

/* Plain Lloyd E-step: k distances per point; returns label changes. */
KM_INLINE size_t
estep_lloyd_impl(km_ctx *c, size_t d)
{
	const double *X = c->X;
	const double *C = c->C;
	double	   *sums = c->sums;
	int64_t    *counts = c->counts;
	int32_t    *labels = c->labels;
	size_t		n = c->n,
				start,
				end,
				i,
				changes = 0;
	int			k = c->k;

	for (start = 0; start < n; start = end)
	{
		end = KM_CHUNK_END(start, n);
		ECORE_CHECK(c->env);
		for (i = start; i < end; i++)
		{
			const double *x = X + i * d;
			double		b1,
						b2;
			int32_t		b = nearest2(x, C, k, d, &b1, &b2);
			int32_t		a = labels[i];

			if (b != a)
			{
				move_point(sums, counts, x, a, b, d);
				labels[i] = b;
				changes++;
			}
		}
	}
	return changes;
}

/*
 * Hamerly E-step.  Upper bound of point i: v[i] + P[label]; lower bound
 * on the other centroids: w[i] - Mo[label]; a point is skipped when its
 * upper bound is below max(lower bound, half the distance from its
 * centroid to the nearest other one) minus the margin.  Per chunk: a
 * branch-free filter collects the points that fail the test (most are
 * skipped, so branches would mispredict), then those get their exact
 * distance to their centroid (tightened upper bound) and, if still
 * failing, the k distances.  Returns label changes.
 */
KM_INLINE size_t
estep_hamerly_impl(km_ctx *c, size_t d)
{
	const double *X = c->X;
	const double *C = c->C;
	const double *P = c->P;
	const double *Mo = c->Mo;
	const double *sh = c->s_half;
	double	   *v = c->v;
	double	   *w = c->w;
	int32_t    *labels = c->labels;
	double	   *sums = c->sums;
	int64_t    *counts = c->counts;
	uint32_t   *idx = c->scratch_idx;
	double	   *bnd = c->scratch_bound;
	double		margin = c->margin;
	size_t		n = c->n,
				start,
				end,
				i,
				changes = 0;
	int			k = c->k;

	for (start = 0; start < n; start = end)
	{
		size_t		m = 0,
					m2 = 0,
					q;

		end = KM_CHUNK_END(start, n);
		ECORE_CHECK(c->env);
		/* 1: points whose bounds do not prove the label (branch-free) */
		for (i = start; i < end; i++)
		{
			int32_t		a = labels[i];
			double		ub = v[i] + P[a];
			double		lb = w[i] - Mo[a];
			double		bound = (sh[a] > lb ? sh[a] : lb) - margin;

			idx[m] = (uint32_t) (i - start);
			bnd[m] = bound;
			m += (ub > bound);
		}
		/* 2: tighten the upper bound with the exact distance */
		for (q = 0; q < m; q++)
		{
			size_t		ii = start + idx[q];
			int32_t		a = labels[ii];
			double		ub;

			if (q + 8 < m)
				KM_PREFETCH(X + (start + idx[q + 8]) * d);
			ub = sqrt(sqdist(X + ii * d, C + (size_t) a * d, d));
			v[ii] = ub - P[a];
			idx[m2] = idx[q];
			m2 += (ub > bnd[q]);
		}
		/* 3: the k distances */
		for (q = 0; q < m2; q++)
		{
			size_t		ii = start + idx[q];
			const double *x = X + ii * d;
			int32_t		a = labels[ii];
			double		b1,
						b2;
			int32_t		b = nearest2(x, C, k, d, &b1, &b2);

			v[ii] = sqrt(b1) - P[b];
			w[ii] = sqrt(b2) + Mo[b];
			if (b != a)
			{
				move_point(sums, counts, x, a, b, d);
				labels[ii] = b;
				changes++;
			}
		}
	}
	return changes;
}

/* estep_first_impl for the dimension of the data. */
KM_NOINLINE void
estep_first(km_ctx *c, int bounds)
{
	KM_DISPATCH(c->d, estep_first_impl(c, bounds, D_));
}

/* estep_lloyd_impl for the dimension of the data. */
KM_NOINLINE size_t
estep_lloyd(km_ctx *c)
{
	size_t		changes = 0;

	KM_DISPATCH(c->d, changes = estep_lloyd_impl(c, D_));
	return changes;
}

/* estep_hamerly_impl for the dimension of the data. */
KM_NOINLINE size_t
estep_hamerly(km_ctx *c)
{
	size_t		changes = 0;

	KM_DISPATCH(c->d, changes = estep_hamerly_impl(c, D_));
	return changes;
}

/* Half the distance of every centroid to its nearest other centroid. */
static void
compute_s_half(km_ctx *c)
{
	int			a,
				j,
				k = c->k;
	size_t		d = c->d;

	for (a = 0; a < k; a++)
		c->s_half[a] = INFINITY;
	for (a = 0; a < k; a++)
	{
		for (j = a + 1; j < k; j++)
		{
			double		h = 0.5 * sqrt(sqdist(c->C + (size_t) a * d,
											  c->C + (size_t) j * d, d));

			if (h < c->s_half[a])
				c->s_half[a] = h;
			if (h < c->s_half[j])
				c->s_half[j] = h;
		}
	}
}

/* Recompute sums and counts from scratch in point order. */
static void
resync_sums(km_ctx *c)
{
	size_t		n = c->n,
				d = c->d,
				start,
				end,
				i,
				j;

	double	   *sums = c->sums;
	int64_t    *counts = c->counts;
	const int32_t *labels = c->labels;
	const double *X = c->X;

	memset(sums, 0, (size_t) c->k * d * sizeof(double));
	memset(counts, 0, (size_t) c->k * sizeof(int64_t));
	for (start = 0; start < n; start = end)
	{
		end = KM_CHUNK_END(start, n);
		ECORE_CHECK(c->env);
		for (i = start; i < end; i++)
		{
			const double *x = X + i * d;
			double	   *s = sums + (size_t) labels[i] * d;

			for (j = 0; j < d; j++)
				s[j] += x[j];
			counts[labels[i]]++;
		}
	}
}

/*
 * Serve the empty clusters: each takes the point farthest from its
 * assigned (current) centroid, among points whose cluster keeps at least
 * one point; ties to the lowest index.  Returns the number of moves.
 */
static int
relocate_empty(km_ctx *c)
{
	int			m = 0,
				e,
				j;
	size_t		n = c->n,
				d = c->d,
				start,
				end,
				i;

	for (j = 0; j < c->k; j++)
		if (c->counts[j] == 0)
			c->empties[m++] = j;
	for (e = 0; e < m; e++)
	{
		int32_t		target = c->empties[e];
		size_t		best = n;
		double		bestd = -1.0;
		int32_t		a;

		for (start = 0; start < n; start = end)
		{
			end = KM_CHUNK_END(start, n);
			ECORE_CHECK(c->env);
			for (i = start; i < end; i++)
			{
				double		dd;

				a = c->labels[i];
				if (c->counts[a] < 2)
					continue;
				dd = sqdist(c->X + i * d, c->C + (size_t) a * d, d);
				if (dd > bestd)
				{
					bestd = dd;
					best = i;
				}
			}
		}
		if (best == n)
			break;				/* impossible: n >= k */
		a = c->labels[best];
		move_point(c->sums, c->counts, c->X + best * d, a, target, d);
		c->labels[best] = target;
		/* force a full recomputation of its bounds */
		c->v[best] = INFINITY;
		if (c->w != NULL)
			c->w[best] = -INFINITY;
		c->changes_since_sync++;
	}
	return m;
}

/*
 * M-step: relocate empty clusters, new centroids = sums / counts, shifts
 * into the cumulative bounds, swap C and Cnew.  Returns the total squared
 * shift; *relocated = number of relocations.
 */
static double
mstep(km_ctx *c, int *relocated)
{
	int			j,
				k = c->k;
	size_t		d = c->d,
				f;
	double		total = 0.0,
				max1 = 0.0,
				max2 = 0.0;
	int			arg1 = -1;
	double	   *tmp;

	*relocated = 0;
	for (j = 0; j < k; j++)
		if (c->counts[j] == 0)
		{
			*relocated = relocate_empty(c);
			break;
		}
	for (j = 0; j < k; j++)
	{
		double		cnt = (double) c->counts[j];
		const double *s = c->sums + (size_t) j * d;
		double	   *cn = c->Cnew + (size_t) j * d;
		double		d2,
					p;

		if (c->counts[j] > 0)
			for (f = 0; f < d; f++)
				cn[f] = s[f] / cnt;
		else
			memcpy(cn, c->C + (size_t) j * d, d * sizeof(double));
		d2 = sqdist(c->C + (size_t) j * d, cn, d);
		total += d2;
		p = sqrt(d2);
		c->P[j] += p;
		if (p > max1)
		{
			max2 = max1;
			max1 = p;
			arg1 = j;
		}
		else if (p > max2)
			max2 = p;
	}
	/* lower bounds of points of cluster j drop by the max shift of others */
	for (j = 0; j < k; j++)
		c->Mo[j] += (j == arg1) ? max2 : max1;
	tmp = c->C;
	c->C = c->Cnew;
	c->Cnew = tmp;
	return total;
}

/* Sum of squared distances of every point to its labelled centroid. */
KM_INLINE double
inertia_impl(km_ctx *c, size_t d)
{
	const double *X = c->X;
	const double *C = c->C;
	const int32_t *labels = c->labels;
	size_t		n = c->n,
				start,
				end,
				i;
	double		total = 0.0;

	for (start = 0; start < n; start = end)
	{
		double		acc = 0.0;

		end = KM_CHUNK_END(start, n);
		ECORE_CHECK(c->env);
		for (i = start; i < end; i++)
			acc += sqdist(X + i * d, C + (size_t) labels[i] * d, d);
		total += acc;
	}
	return total;
}

/* inertia_impl for the dimension of the data. */
KM_NOINLINE double
inertia_run(km_ctx *c)
{
	double		total = 0.0;

	KM_DISPATCH(c->d, total = inertia_impl(c, D_));
	return total;
}

/*
 * One restart from the centroids in c->C: Lloyd iterations (Hamerly or
 * plain), final E-step; returns the inertia (if want_inertia) and the
 * iteration count / converged flag.
 */
static double
km_lloyd(km_ctx *c, int want_inertia, int *iterations, int *converged)
{
	int			hamerly = (c->p->algorithm == ECORE_ALGO_HAMERLY);
	int			it,
				strict = 0,
				conv = 0,
				relocated;
	size_t		changes;
	double		shift,
				inertia = 0.0;

	memset(c->P, 0, (size_t) c->k * sizeof(double));
	memset(c->Mo, 0, (size_t) c->k * sizeof(double));
	c->changes_since_sync = 0;
	for (it = 1; it <= c->p->max_iter; it++)
	{
		ECORE_CHECK(c->env);
		if (it == 1)
		{
			estep_first(c, hamerly);
			changes = c->n;
		}
		else
		{
			if (hamerly)
			{
				compute_s_half(c);
				changes = estep_hamerly(c);
			}
			else
				changes = estep_lloyd(c);
			c->changes_since_sync += changes;
			if (c->changes_since_sync > c->n)
			{
				resync_sums(c);
				c->changes_since_sync = 0;
			}
		}
		shift = mstep(c, &relocated);
		if (changes == 0 && relocated == 0)
		{
			strict = 1;
			conv = 1;
			break;
		}
		if (shift <= c->tol_abs)
		{
			conv = 1;
			break;
		}
	}
	if (it > c->p->max_iter)
		it = c->p->max_iter;
	if (!strict)
	{
		/* last E-step: labels consistent with the final centroids */
		if (hamerly)
		{
			compute_s_half(c);
			(void) estep_hamerly(c);
		}
		else
			(void) estep_lloyd(c);
	}
	if (want_inertia)
		inertia = inertia_run(c);
	*iterations = it;
	*converged = conv;
	return inertia;
}

/* ---------------------------------------------------------------------
 * Relabelling and final pass
 * ---------------------------------------------------------------------
 */

/* Order of clusters a and b: norm, then lexicographic, then index. */
static int
cluster_cmp(const km_ctx *c, const double *C, int32_t a, int32_t b)
{
	size_t		f,
				d = c->d;

	if (c->norms[a] < c->norms[b])
		return -1;
	if (c->norms[a] > c->norms[b])
		return 1;
	for (f = 0; f < d; f++)
	{
		double		x = C[(size_t) a * d + f];
		double		y = C[(size_t) b * d + f];

		if (x < y)
			return -1;
		if (x > y)
			return 1;
	}
	return a < b ? -1 : (a > b ? 1 : 0);
}

/* Sift-down of a max-heap of cluster indices (heap sort helper). */
static void
heap_sift(const km_ctx *c, const double *C, int32_t *h, int root, int len)
{
	for (;;)
	{
		int			child = 2 * root + 1;
		int32_t		tmp;

		if (child >= len)
			return;
		if (child + 1 < len && cluster_cmp(c, C, h[child], h[child + 1]) < 0)
			child++;
		if (cluster_cmp(c, C, h[root], h[child]) >= 0)
			return;
		tmp = h[root];
		h[root] = h[child];
		h[child] = tmp;
		root = child;
	}
}

/*
 * Write the centroids C (k x d) into out sorted by ascending Euclidean
 * norm (ties: lexicographic, then original index).
 */
static void
km_relabel(km_ctx *c, const double *C, double *out)
{
	int			k = c->k,
				j,
				len;
	size_t		d = c->d;
	int32_t    *h = c->perm;
	int32_t		tmp;

	for (j = 0; j < k; j++)
	{
		double		s = 0.0;
		size_t		f;

		for (f = 0; f < d; f++)
			s += C[(size_t) j * d + f] * C[(size_t) j * d + f];
		c->norms[j] = sqrt(s);
		h[j] = j;
	}
	for (j = k / 2 - 1; j >= 0; j--)
		heap_sift(c, C, h, j, k);
	for (len = k - 1; len > 0; len--)
	{
		tmp = h[0];
		h[0] = h[len];
		h[len] = tmp;
		heap_sift(c, C, h, 0, len);
	}
	for (j = 0; j < k; j++)
		memcpy(out + (size_t) j * d, C + (size_t) h[j] * d, d * sizeof(double));
}

/*
 * Final pass over the kept centroids (already relabelled, in
 * out_centroids): labels, distances, sizes, per-cluster inertia.
 * Returns the total inertia (sum of the per-cluster inertias).
 */
KM_INLINE double
final_pass_impl(km_ctx *c, size_t d)
{
	const double *C = c->out_centroids;
	const double *X = c->X;
	int32_t    *labels = c->labels;
	double	   *dist = c->v;
	int64_t    *sizes = c->out_sizes;
	double	   *cin = c->out_cluster_inertia;
	size_t		n = c->n,
				start,
				end,
				i;
	int			k = c->k,
				j;
	double		total = 0.0;

	memset(sizes, 0, (size_t) k * sizeof(int64_t));
	for (j = 0; j < k; j++)
		cin[j] = 0.0;
	for (start = 0; start < n; start = end)
	{
		end = KM_CHUNK_END(start, n);
		ECORE_CHECK(c->env);
		for (i = start; i < end; i++)
		{
			double		b1,
						b2;
			int32_t		b = nearest2(X + i * d, C, k, d, &b1, &b2);

			labels[i] = b;
			dist[i] = sqrt(b1);
			sizes[b]++;
			cin[b] += b1;
		}
	}
	for (j = 0; j < k; j++)
		total += cin[j];
	return total;
}

/* final_pass_impl for the dimension of the data. */
KM_NOINLINE double
final_pass(km_ctx *c)
{
	double		total = 0.0;

	KM_DISPATCH(c->d, total = final_pass_impl(c, D_));
	return total;
}

/* The best restart of a share of the restarts */
typedef struct km_best
{
	int			r;				/* restart index, -1 when none ran */
	double		inertia;
	int			iters;
	int			conv;
} km_best;

/*
 * Run restarts first, first + step, ... < n_init on c's workspace; the
 * best (lowest inertia, then lowest restart index) goes to *best and its
 * centroids to c->best_C.
 */
static void
km_run_restarts(km_ctx *c, int first, int step, int n_init, km_best *best)
{
	const ecore_kmeans_params *p = c->p;
	size_t		kd = (size_t) c->k * c->d;
	ecore_rng	rng;
	int			r,
				iters,
				conv;
	double		inertia;

	best->r = -1;
	for (r = first; r < n_init; r += step)
	{
		ecore_rng_seed(&rng, p->seed, (uint64_t) r);
		if (p->init == ECORE_INIT_USER)
			memcpy(c->C, p->init_centroids, kd * sizeof(double));
		else if (p->init == ECORE_INIT_RANDOM)
			km_init_random(c, &rng);
		else
			km_init_pp(c, &rng);
		inertia = km_lloyd(c, n_init > 1, &iters, &conv);
		if (best->r < 0 || inertia < best->inertia)
		{
			best->r = r;
			best->inertia = inertia;
			best->iters = iters;
			best->conv = conv;
			memcpy(c->best_C, c->C, kd * sizeof(double));
		}
	}
}

/* A thread running a share of the restarts on its own workspace */
typedef struct km_worker
{
	km_ctx		c;
	ecore_env	env;			/* check = km_worker_check, no alloc */
	volatile int *stop;
	jmp_buf		jump;			/* where km_worker_check lands on stop */
	int			first;
	int			step;
	int			n_init;
	km_best		best;
	int			interrupted;
	volatile int done;			/* set by the thread as it ends */
	int			started;
	pthread_t	thread;
} km_worker;

/* The threads of one fit, for the abort hook */
typedef struct km_pool
{
	km_worker  *workers;
	int			count;			/* workers (threads besides the caller's) */
	volatile int stop;
} km_pool;

/* Bytes of a fit's block with nthreads workspaces. */
static int
km_block_bytes(const km_layout *L, int nthreads, size_t *bytes)
{
	size_t		stride = (L->total + 63) & ~(size_t) 63;
	size_t		t = (size_t) nthreads;

	if (stride < L->total || stride > (SIZE_MAX - 64) / t)
		return ECORE_EOVERFLOW;
	*bytes = stride * t + 64 + (t - 1) * sizeof(km_worker);
	return ECORE_OK;
}

/* Check of a worker thread: leave its restarts when the fit stops. */
static void
km_worker_check(void *arg)
{
	km_worker  *w = (km_worker *) arg;

#if defined(__GNUC__) || defined(__clang__)
	if (__atomic_load_n(w->stop, __ATOMIC_ACQUIRE))
#else
	if (*w->stop)
#endif
		longjmp(w->jump, 1);
}

/* Body of a worker thread. */
static void *
km_worker_main(void *arg)
{
	km_worker  *w = (km_worker *) arg;

	if (setjmp(w->jump) == 0)
		km_run_restarts(&w->c, w->first, w->step, w->n_init, &w->best);
	else
		w->interrupted = 1;
#if defined(__GNUC__) || defined(__clang__)
	__atomic_store_n(&w->done, 1, __ATOMIC_RELEASE);
#else
	w->done = 1;
#endif
	return NULL;
}

/* Stop the workers of a pool and wait for them (also the abort hook). */
static void
km_pool_stop(void *arg)
{
	km_pool    *pool = (km_pool *) arg;
	int			t;

#if defined(__GNUC__) || defined(__clang__)
	__atomic_store_n(&pool->stop, 1, __ATOMIC_RELEASE);
#else
	pool->stop = 1;
#endif
	for (t = 0; t < pool->count; t++)
		if (pool->workers[t].started)
		{
			pthread_join(pool->workers[t].thread, NULL);
			pool->workers[t].started = 0;
		}
}

/*
 * Run the restarts on c->nthreads threads (the caller's included): worker
 * t runs restarts t, t + nthreads, ...; the best is merged into c->best_C
 * and *best.  A worker that cannot be started has its share run by the
 * caller afterwards, so the result is the same.
 */
static void
km_run_threaded(km_ctx *c, int n_init, km_best *best)
{
	int			nt = c->nthreads;
	size_t		stride = (c->layout.total + 63) & ~(size_t) 63;
	size_t		kd = (size_t) c->k * c->d;
	char	   *wbase = c->block + stride * (size_t) nt;
	km_pool		pool;
	sigset_t	all,
				old;
	int			t;

	pool.workers = (km_worker *) (((uintptr_t) wbase + 63) & ~(uintptr_t) 63);
	pool.count = nt - 1;
	pool.stop = 0;
	for (t = 1; t < nt; t++)
	{
		km_worker  *w = &pool.workers[t - 1];

		memset(w, 0, sizeof(*w));
		w->c = *c;
		km_carve(&w->c, &c->layout, c->block + stride * (size_t) t);
		memcpy(w->c.stats, c->stats, 6 * c->d * sizeof(double));
		w->env = *c->env;
		w->env.alloc = NULL;
		w->env.check = km_worker_check;
		w->env.check_arg = w;
		w->env.abort_hook = NULL;
		w->c.env = &w->env;
		w->stop = &pool.stop;
		w->first = t;
		w->step = nt;
		w->n_init = n_init;
	}

	/* the workers start with every signal blocked: signals are the caller's */
	sigfillset(&all);
	pthread_sigmask(SIG_SETMASK, &all, &old);
	for (t = 0; t < pool.count; t++)
		pool.workers[t].started =
			(pthread_create(&pool.workers[t].thread, NULL, km_worker_main,
							&pool.workers[t]) == 0);
	pthread_sigmask(SIG_SETMASK, &old, NULL);

	c->env->abort_hook = km_pool_stop;
	c->env->abort_arg = &pool;
	km_run_restarts(c, 0, nt, n_init, best);
	for (t = 0; t < pool.count; t++)
		if (pool.workers[t].started)
		{
			/*
			 * Wait for the worker, still answering interrupts every
			 * millisecond: its restarts may take seconds after ours, and
			 * the check's abort hook stops and joins it on a cancel.
			 */
#if defined(__GNUC__) || defined(__clang__)
			while (!__atomic_load_n(&pool.workers[t].done, __ATOMIC_ACQUIRE))
#else
			while (!pool.workers[t].done)
#endif
			{
				struct timespec ms = {0, 1000000};

				ECORE_CHECK(c->env);
				nanosleep(&ms, NULL);
			}
			pthread_join(pool.workers[t].thread, NULL);
			pool.workers[t].started = 0;
		}
	c->env->abort_hook = NULL;
	c->env->abort_arg = NULL;

	for (t = 0; t < pool.count; t++)
	{
		km_worker  *w = &pool.workers[t];

		if (w->best.r < 0 && !w->interrupted)
			/* never started: run its share here */
			km_run_restarts(&w->c, w->first, w->step, w->n_init, &w->best);
		if (w->best.r >= 0 &&
			(w->best.inertia < best->inertia ||
			 (w->best.inertia == best->inertia && w->best.r < best->r)))
		{
			*best = w->best;
			memcpy(c->best_C, w->c.best_C, kd * sizeof(double));
		}
	}
}

/*
 * Fit k clusters with the context's workspace: n_init restarts (on
 * c->nthreads threads), keep the best, relabel, final pass.
 */
static int
km_fit_k(km_ctx *c, ecore_kmeans_result *res)
{
	const ecore_kmeans_params *p = c->p;
	int			n_init = (p->init == ECORE_INIT_USER) ? 1 : p->n_init;
	km_best		best;

	c->T = p->n_local_trials > 0 ? p->n_local_trials : default_trials(c->k);
	if (c->nthreads > 1)
		km_run_threaded(c, n_init, &best);
	else
		km_run_restarts(c, 0, 1, n_init, &best);
	km_relabel(c, c->best_C, c->out_centroids);
	res->inertia = final_pass(c);
	res->iterations = best.iters;
	res->converged = best.conv;
	res->best_restart = best.r;
	res->tol_abs = c->tol_abs;
	return ECORE_OK;
}

/*
 * Common start of fit and elbow: validate points, allocate the block for
 * k (the largest k of the call), statistics, margin, distinct check.
 */
static int
km_setup(km_ctx *c, const double *X, size_t n, size_t d, int k,
		 const ecore_kmeans_params *p, ecore_env *env)
{
	km_layout	L;
	char	   *base;
	size_t		bytes;
	double		diam2 = 0.0,
				meanvar = 0.0;
	size_t		f;
	int			rc;

	if (env == NULL || env->alloc == NULL)
		return ECORE_EINVAL_ENV;
	if (X == NULL)
		return ECORE_EINVAL_ARG;
	rc = validate_params(n, d, k, p);
	if (rc != ECORE_OK)
		return rc;
	km_compute_layout(&L, n, d, k, p);
	if (L.overflow)
		return ECORE_EOVERFLOW;
	rc = ecore_validate_points(X, n, d, env);
	if (rc != ECORE_OK)
		return rc;
	if (p->init == ECORE_INIT_USER)
	{
		rc = validate_centroids(p->init_centroids, k, d, env);
		if (rc != ECORE_OK)
			return rc;
	}

	rc = km_block_bytes(&L, km_threads(p), &bytes);
	if (rc != ECORE_OK)
		return rc;
	base = (char *) env->alloc(env->alloc_arg, bytes);
	if (base == NULL)
		return ECORE_ENOMEM;
	memset(c, 0, sizeof(*c));
	c->layout = L;
	c->block = base;
	c->nthreads = km_threads(p);
	c->X = X;
	c->n = n;
	c->d = d;
	c->k = k;
	c->env = env;
	c->p = p;
	km_carve(c, &L, base);

	km_column_stats(c);
	for (f = 0; f < d; f++)
	{
		double		lo = c->stats[2 * d + f];
		double		hi = c->stats[3 * d + f];

		if (p->init == ECORE_INIT_USER)
		{
			int			j;

			for (j = 0; j < k; j++)
			{
				double		x = p->init_centroids[(size_t) j * d + f];

				if (x < lo)
					lo = x;
				if (x > hi)
					hi = x;
			}
		}
		diam2 += (hi - lo) * (hi - lo);
		meanvar += c->stats[d + f];
	}
	meanvar /= (double) d;
	c->tol_abs = p->tol * meanvar;
	c->margin = KM_MARGIN_REL * sqrt(diam2);

	if (!km_enough_distinct(c, k))
		return ECORE_EDISTINCT;
	return ECORE_OK;
}

/* Fit K-means (see kmeans.h). */
int
ecore_kmeans_fit(const double *X, size_t n, size_t d,
				  const ecore_kmeans_params *params, ecore_env *env,
				  ecore_kmeans_result *result)
{
	km_ctx		c;
	ecore_kmeans_result res;
	int			rc;

	if (result == NULL || params == NULL)
		return ECORE_EINVAL_ARG;
	rc = km_setup(&c, X, n, d, params->k, params, env);
	if (rc != ECORE_OK)
		return rc;
	memset(&res, 0, sizeof(res));
	rc = km_fit_k(&c, &res);
	if (rc != ECORE_OK)
		return rc;
	res.n = n;
	res.d = d;
	res.k = params->k;
	res.centroids = c.out_centroids;
	res.labels = c.labels;
	res.distances = c.v;
	res.sizes = c.out_sizes;
	res.cluster_inertia = c.out_cluster_inertia;
	*result = res;
	return ECORE_OK;
}

/* Parameters of an elbow run: k-means++ unless random init asked. */
static int
elbow_params(const ecore_kmeans_params *params, int k_max,
			 ecore_kmeans_params *p)
{
	if (params == NULL)
		return ECORE_EINVAL_ARG;
	*p = *params;
	if (p->init == ECORE_INIT_USER)
		return ECORE_EINVAL_INIT;
	p->k = k_max;
	return ECORE_OK;
}

/* Bytes requested by ecore_kmeans_elbow(). */
int
ecore_kmeans_elbow_bytes(size_t n, size_t d, int k_max,
						  const ecore_kmeans_params *params, size_t *bytes)
{
	ecore_kmeans_params p;
	int			rc = elbow_params(params, k_max, &p);

	if (rc != ECORE_OK)
		return rc;
	return ecore_kmeans_bytes(n, d, &p, bytes);
}

/* Elbow curve: inertia of k = 1..k_max (see kmeans.h). */
int
ecore_kmeans_elbow(const double *X, size_t n, size_t d, int k_max,
					const ecore_kmeans_params *params, ecore_env *env,
					double *inertia, int *iterations)
{
	ecore_kmeans_params p;
	km_ctx		c;
	ecore_kmeans_result res;
	int			rc,
				k;

	if (inertia == NULL)
		return ECORE_EINVAL_ARG;
	rc = elbow_params(params, k_max, &p);
	if (rc != ECORE_OK)
		return rc;
	rc = km_setup(&c, X, n, d, k_max, &p, env);
	if (rc != ECORE_OK)
		return rc;
	for (k = 1; k <= k_max; k++)
	{
		memset(&res, 0, sizeof(res));
		c.k = k;
		p.k = k;
		rc = km_fit_k(&c, &res);
		if (rc != ECORE_OK)
			return rc;
		inertia[k - 1] = res.inertia;
		if (iterations != NULL)
			iterations[k - 1] = res.iterations;
	}
	return ECORE_OK;
}

/* ---------------------------------------------------------------------
 * Assign, inertia, silhouette
 * ---------------------------------------------------------------------
 */

/* Nearest-centroid labels (and distances) of n points. */
KM_INLINE void
assign_impl(const double *X, size_t n, const double *C, int k,
			ecore_env *env, int32_t *labels, double *distances, size_t d)
{
	size_t		start,
				end,
				i;

	for (start = 0; start < n; start = end)
	{
		end = KM_CHUNK_END(start, n);
		ECORE_CHECK(env);
		for (i = start; i < end; i++)
		{
			double		b1,
						b2;

			labels[i] = nearest2(X + i * d, C, k, d, &b1, &b2);
			if (distances != NULL)
				distances[i] = sqrt(b1);
		}
	}
}

/* Validate common arguments of assign/inertia/silhouette. */
static int
validate_eval_args(const double *X, size_t n, size_t d, const double *C,
				   int k, ecore_env *env)
{
	int			rc;

	if (env == NULL)
		return ECORE_EINVAL_ENV;
	if (X == NULL || C == NULL)
		return ECORE_EINVAL_ARG;
	if (d < 1)
		return ECORE_EINVAL_D;
	if (k < 1)
		return ECORE_EINVAL_K;
	if ((size_t) k > SIZE_MAX / d / sizeof(double))
		return ECORE_EOVERFLOW;
	rc = validate_centroids(C, k, d, env);
	if (rc != ECORE_OK)
		return rc;
	return ecore_validate_points(X, n, d, env);
}

/* Assign (predict) nearest centroids (see kmeans.h). */
int
ecore_kmeans_assign(const double *X, size_t n, size_t d,
					 const double *centroids, int k, ecore_env *env,
					 int32_t *labels, double *distances)
{
	int			rc;

	if (labels == NULL)
		return ECORE_EINVAL_ARG;
	rc = validate_eval_args(X, n, d, centroids, k, env);
	if (rc != ECORE_OK)
		return rc;
	KM_DISPATCH(d, assign_impl(X, n, centroids, k, env, labels, distances, D_));
	return ECORE_OK;
}

/* Inertia of a given labelling (see kmeans.h). */
int
ecore_kmeans_inertia(const double *X, size_t n, size_t d,
					  const double *centroids, int k, const int32_t *labels,
					  ecore_env *env, double *inertia,
					  double *cluster_inertia, int64_t *sizes)
{
	size_t		start,
				end,
				i;
	double		total = 0.0;
	int			rc,
				j;

	if (labels == NULL || inertia == NULL)
		return ECORE_EINVAL_ARG;
	rc = validate_eval_args(X, n, d, centroids, k, env);
	if (rc != ECORE_OK)
		return rc;
	for (i = 0; i < n; i++)
		if (labels[i] < 0 || labels[i] >= k)
		{
			env->error_row = i;
			return ECORE_EINVAL_ARG;
		}
	if (cluster_inertia != NULL)
		for (j = 0; j < k; j++)
			cluster_inertia[j] = 0.0;
	if (sizes != NULL)
		memset(sizes, 0, (size_t) k * sizeof(int64_t));
	for (start = 0; start < n; start = end)
	{
		double		acc = 0.0;

		end = KM_CHUNK_END(start, n);
		ECORE_CHECK(env);
		for (i = start; i < end; i++)
		{
			double		v = sqdist(X + i * d, centroids + (size_t) labels[i] * d, d);

			acc += v;
			if (cluster_inertia != NULL)
				cluster_inertia[labels[i]] += v;
			if (sizes != NULL)
				sizes[labels[i]]++;
		}
		total += acc;
	}
	*inertia = total;
	return ECORE_OK;
}

/* Simplified silhouette of one chunk; returns the sum of s. */
KM_INLINE double
silhouette_impl(const double *X, size_t start, size_t end, const double *C,
				int k, const int32_t *labels, double *per_point, size_t d)
{
	size_t		i;
	double		acc = 0.0;
	int			j;

	for (i = start; i < end; i++)
	{
		const double *x = X + i * d;
		double		a2,
					b2,
					a,
					b,
					mx,
					s;

		if (labels == NULL)
			(void) nearest2(x, C, k, d, &a2, &b2);
		else
		{
			int32_t		own = labels[i];

			a2 = sqdist(x, C + (size_t) own * d, d);
			b2 = INFINITY;
			for (j = 0; j < k; j++)
			{
				double		t;

				if (j == own)
					continue;
				t = sqdist(x, C + (size_t) j * d, d);
				if (t < b2)
					b2 = t;
			}
		}
		a = sqrt(a2);
		b = sqrt(b2);
		mx = a > b ? a : b;
		s = mx > 0.0 ? (b - a) / mx : 0.0;
		if (per_point != NULL)
			per_point[i] = s;
		acc += s;
	}
	return acc;
}

/* Simplified silhouette (see kmeans.h). */
int
ecore_silhouette_simplified(const double *X, size_t n, size_t d,
							 const double *centroids, int k,
							 const int32_t *labels, ecore_env *env,
							 double *score, double *per_point)
{
	size_t		start,
				end,
				i;
	double		total = 0.0;
	int			rc;

	if (score == NULL)
		return ECORE_EINVAL_ARG;
	rc = validate_eval_args(X, n, d, centroids, k, env);
	if (rc != ECORE_OK)
		return rc;
	if (labels != NULL)
		for (i = 0; i < n; i++)
			if (labels[i] < 0 || labels[i] >= k)
			{
				env->error_row = i;
				return ECORE_EINVAL_ARG;
			}
	if (k == 1)
	{
		if (per_point != NULL)
			for (i = 0; i < n; i++)
				per_point[i] = NAN;
		*score = NAN;
		return ECORE_OK;
	}
	for (start = 0; start < n; start = end)
	{
		double		acc = 0.0;

		end = KM_CHUNK_END(start, n);
		ECORE_CHECK(env);
		KM_DISPATCH(d, acc = silhouette_impl(X, start, end, centroids, k, labels, per_point, D_));
		total += acc;
	}
	*score = total / (double) n;
	return ECORE_OK;
}
