/*-------------------------------------------------------------------------
 *
 * test_core.c
 *	  Unit tests of engage's numerical core (kmeans.c, scale.c, knee.c,
 *	  rng.h), with the harness of harness.h: one line per failing check,
 *	  then the line "N passed, N failed" (test cases); exit status 1 on
 *	  failure.
 *
 * Copyright (c) 2026, engage developers
 *
 *-------------------------------------------------------------------------
 */
#include <float.h>
#include <math.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/kmeans.h"
#include "core/knee.h"
#include "core/rng.h"
#include "core/scale.h"
#include "harness.h"

/* ---------------------------------------------------------------------
 * Reference values
 * ---------------------------------------------------------------------
 */

/* first outputs of the seeding used by engage (regression guard) */
#define RNG_REF0 UINT64_C(0x42B83831E6954E1D)
#define RNG_REF1 UINT64_C(0x3600B796B71C1280)

/* ---------------------------------------------------------------------
 * Test allocator (counting arena) and interrupt callbacks
 * ---------------------------------------------------------------------
 */

#define ARENA_MAX 64

/* Blocks handed out to the core during one test. */
typedef struct test_arena
{
	void	   *blocks[ARENA_MAX];
	size_t		sizes[ARENA_MAX];
	int			count;
	size_t		total;
	int			fail_after;		/* -1: never fail; else fail request #n */
} test_arena;

/* Allocator callback: counts requests and bytes; may simulate failure. */
static void *
arena_alloc(void *arg, size_t size)
{
	test_arena *a = (test_arena *) arg;
	void	   *p;

	if (a->fail_after >= 0 && a->count >= a->fail_after)
		return NULL;
	if (a->count >= ARENA_MAX)
		return NULL;
	p = malloc(size ? size : 1);
	if (p == NULL)
		return NULL;
	/* poison: the core must not rely on zeroed memory */
	memset(p, 0xA5, size);
	a->blocks[a->count] = p;
	a->sizes[a->count] = size;
	a->count++;
	a->total += size;
	return p;
}

/* Free every block of the arena and reset it. */
static void
arena_reset(test_arena *a)
{
	int			i;

	for (i = 0; i < a->count; i++)
		free(a->blocks[i]);
	memset(a, 0, sizeof(*a));
	a->fail_after = -1;
}

/* Interrupt callback state. */
typedef struct test_check
{
	long		calls;
	long		jump_at;		/* longjmp on this call (0: never) */
	jmp_buf    *env;
} test_check;

/* Interrupt callback: counts, longjmps out when asked. */
static void
check_cb(void *arg)
{
	test_check *t = (test_check *) arg;

	t->calls++;
	if (t->jump_at > 0 && t->calls >= t->jump_at)
		longjmp(*t->env, 1);
}

static test_arena g_arena;
static test_check g_check;

/* A fresh environment on the global arena and check counter. */
static ecore_env
make_env(void)
{
	ecore_env	env;

	arena_reset(&g_arena);
	memset(&g_check, 0, sizeof(g_check));
	memset(&env, 0, sizeof(env));
	env.alloc = arena_alloc;
	env.alloc_arg = &g_arena;
	env.check = check_cb;
	env.check_arg = &g_check;
	return env;
}

/* ---------------------------------------------------------------------
 * Data helpers
 * ---------------------------------------------------------------------
 */

/* Standard normal deviate (Box-Muller) from the engage generator. */
static double
gauss(ecore_rng *r)
{
	double		u1 = ecore_rng_uniform_pos(r);
	double		u2 = ecore_rng_uniform(r);

	return sqrt(-2.0 * log(u1)) * cos(2.0 * 3.14159265358979323846 * u2);
}

/* n x d points from `blobs` Gaussian blobs (means spread by `sep`). */
static double *
make_blobs(size_t n, size_t d, int blobs, double sep, uint64_t seed,
		   int32_t *truth)
{
	double	   *X = malloc(n * d * sizeof(double));
	double	   *mu = malloc((size_t) blobs * d * sizeof(double));
	ecore_rng	r;
	size_t		i,
				j;
	int			b;

	ecore_rng_seed(&r, seed, 99);
	for (b = 0; b < blobs; b++)
		for (j = 0; j < d; j++)
			mu[(size_t) b * d + j] = sep * (ecore_rng_uniform(&r) - 0.5);
	for (i = 0; i < n; i++)
	{
		b = (int) ecore_rng_below(&r, (uint64_t) blobs);
		if (truth)
			truth[i] = b;
		for (j = 0; j < d; j++)
			X[i * d + j] = mu[(size_t) b * d + j] + gauss(&r);
	}
	free(mu);
	return X;
}

/* Squared distance (test's own). */
static double
ref_sqdist(const double *a, const double *b, size_t d)
{
	double		s = 0.0;
	size_t		j;

	for (j = 0; j < d; j++)
		s += (a[j] - b[j]) * (a[j] - b[j]);
	return s;
}

/* Nearest of k centroids, lowest index on ties (test's own). */
static int
ref_nearest(const double *x, const double *C, int k, size_t d, double *d2)
{
	int			j,
				best = 0;
	double		bd = ref_sqdist(x, C, d);

	for (j = 1; j < k; j++)
	{
		double		t = ref_sqdist(x, C + (size_t) j * d, d);

		if (t < bd)
		{
			bd = t;
			best = j;
		}
	}
	if (d2)
		*d2 = bd;
	return best;
}

/*
 * Textbook Lloyd with the documented semantics (sums from scratch every
 * iteration, same empty-cluster rule and stopping rule), independent of
 * the core.  C (k x d) holds the start and receives the result.
 */
static void
ref_lloyd(const double *X, size_t n, size_t d, int k, double *C, int max_iter,
		  double tol_abs, int32_t *labels, int *iters, int *converged)
{
	int32_t    *old = malloc(n * sizeof(int32_t));
	double	   *sums = malloc((size_t) k * d * sizeof(double));
	long	   *cnt = malloc((size_t) k * sizeof(long));
	double	   *Cn = malloc((size_t) k * d * sizeof(double));
	size_t		i,
				f;
	int			it,
				j,
				strict = 0;

	*converged = 0;
	for (i = 0; i < n; i++)
		old[i] = -1;
	for (it = 1; it <= max_iter; it++)
	{
		int			changed = 0,
					reloc = 0;
		double		shift = 0.0;

		for (i = 0; i < n; i++)
		{
			labels[i] = ref_nearest(X + i * d, C, k, d, NULL);
			if (labels[i] != old[i])
				changed = 1;
		}
		memset(sums, 0, (size_t) k * d * sizeof(double));
		memset(cnt, 0, (size_t) k * sizeof(long));
		for (i = 0; i < n; i++)
		{
			for (f = 0; f < d; f++)
				sums[(size_t) labels[i] * d + f] += X[i * d + f];
			cnt[labels[i]]++;
		}
		for (j = 0; j < k; j++)
		{
			size_t		best = n;
			double		bd = -1.0;

			if (cnt[j] != 0)
				continue;
			reloc = 1;
			for (i = 0; i < n; i++)
			{
				double		t;

				if (cnt[labels[i]] < 2)
					continue;
				t = ref_sqdist(X + i * d, C + (size_t) labels[i] * d, d);
				if (t > bd)
				{
					bd = t;
					best = i;
				}
			}
			for (f = 0; f < d; f++)
			{
				sums[(size_t) labels[best] * d + f] -= X[best * d + f];
				sums[(size_t) j * d + f] = X[best * d + f];
			}
			cnt[labels[best]]--;
			cnt[j] = 1;
			labels[best] = j;
		}
		for (j = 0; j < k; j++)
			for (f = 0; f < d; f++)
				Cn[(size_t) j * d + f] = sums[(size_t) j * d + f] / (double) cnt[j];
		for (j = 0; j < k; j++)
			shift += ref_sqdist(C + (size_t) j * d, Cn + (size_t) j * d, d);
		memcpy(C, Cn, (size_t) k * d * sizeof(double));
		if (!changed && !reloc)
		{
			strict = 1;
			*converged = 1;
			break;
		}
		if (shift <= tol_abs)
		{
			*converged = 1;
			break;
		}
		memcpy(old, labels, n * sizeof(int32_t));
	}
	if (it > max_iter)
		it = max_iter;
	if (!strict)
		for (i = 0; i < n; i++)
			labels[i] = ref_nearest(X + i * d, C, k, d, NULL);
	*iters = it;
	free(old);
	free(sums);
	free(cnt);
	free(Cn);
}

/* Mean of the per-feature population variances (test's own). */
static double
ref_mean_var(const double *X, size_t n, size_t d)
{
	double		tot = 0.0;
	size_t		i,
				j;

	for (j = 0; j < d; j++)
	{
		long double m = 0,
					v = 0;

		for (i = 0; i < n; i++)
			m += X[i * d + j];
		m /= (long double) n;
		for (i = 0; i < n; i++)
			v += (X[i * d + j] - m) * (X[i * d + j] - m);
		tot += (double) (v / (long double) n);
	}
	return tot / (double) d;
}

/* Euclidean norm of a d-vector. */
static double
vec_norm(const double *a, size_t d)
{
	double		s = 0.0;
	size_t		j;

	for (j = 0; j < d; j++)
		s += a[j] * a[j];
	return sqrt(s);
}

/* Invariants every fit result must satisfy. */
static void
check_result_invariants(const double *X, size_t n, size_t d,
						const ecore_kmeans_result *r)
{
	int64_t		total = 0;
	double		sum = 0.0;
	size_t		i;
	int			j,
				bad_label = 0,
				bad_dist = 0,
				not_nearest = 0;

	for (i = 0; i < n; i++)
	{
		double		d2;
		int			nn;

		if (r->labels[i] < 0 || r->labels[i] >= r->k)
		{
			bad_label = 1;
			continue;
		}
		nn = ref_nearest(X + i * d, r->centroids, r->k, d, &d2);
		if (nn != r->labels[i])
			not_nearest = 1;
		if (!close_rel(r->distances[i], sqrt(d2), 1e-12))
			bad_dist = 1;
	}
	CHECK(!bad_label);
	CHECK(!not_nearest);
	CHECK(!bad_dist);
	for (j = 0; j < r->k; j++)
	{
		total += r->sizes[j];
		sum += r->cluster_inertia[j];
		CHECK(r->cluster_inertia[j] >= 0.0);
	}
	CHECK_EQ_INT(total, n);
	CHECK(r->inertia >= 0.0);
	CHECK_CLOSE(sum, r->inertia, 1e-12);
	/* relabel order: ascending norm */
	for (j = 1; j < r->k; j++)
		CHECK(vec_norm(r->centroids + (size_t) (j - 1) * d, d) <=
			  vec_norm(r->centroids + (size_t) j * d, d));
}

/* ---------------------------------------------------------------------
 * rng.h
 * ---------------------------------------------------------------------
 */

/* Same seed and stream give the same sequence; others differ. */
static void
test_rng_streams(void)
{
	ecore_rng	a,
				b,
				c;
	int			i,
				same = 1,
				diff = 0;

	ecore_rng_seed(&a, 42, 0);
	ecore_rng_seed(&b, 42, 0);
	ecore_rng_seed(&c, 42, 1);
	for (i = 0; i < 100; i++)
	{
		uint64_t	x = ecore_rng_next(&a);

		if (x != ecore_rng_next(&b))
			same = 0;
		if (x != ecore_rng_next(&c))
			diff = 1;
	}
	CHECK(same);
	CHECK(diff);
	/* fixed reference values: the generator must never change */
	ecore_rng_seed(&a, 0, 0);
	CHECK(ecore_rng_next(&a) == RNG_REF0);
	ecore_rng_seed(&a, UINT64_C(0xDEADBEEF), 7);
	CHECK(ecore_rng_next(&a) == RNG_REF1);
	/* xoshiro256** reference outputs from state {1, 2, 3, 4} */
	a.s[0] = 1;
	a.s[1] = 2;
	a.s[2] = 3;
	a.s[3] = 4;
	CHECK(ecore_rng_next(&a) == UINT64_C(11520));
	CHECK(ecore_rng_next(&a) == UINT64_C(0));
	CHECK(ecore_rng_next(&a) == UINT64_C(1509978240));
	CHECK(ecore_rng_next(&a) == UINT64_C(1215971899390074240));
}

/* Uniform ranges and bounded integers. */
static void
test_rng_ranges(void)
{
	ecore_rng	r;
	int			i,
				ok = 1,
				seen[7] = {0};

	ecore_rng_seed(&r, 7, 3);
	for (i = 0; i < 10000; i++)
	{
		double		u = ecore_rng_uniform(&r);
		double		p = ecore_rng_uniform_pos(&r);
		uint64_t	b = ecore_rng_below(&r, 7);

		if (!(u >= 0.0 && u < 1.0) || !(p > 0.0 && p <= 1.0) || b >= 7)
			ok = 0;
		else
			seen[b]++;
	}
	CHECK(ok);
	for (i = 0; i < 7; i++)
		CHECK(seen[i] > 1200 && seen[i] < 1700);
	CHECK(ecore_rng_below(&r, 1) == 0);
	CHECK(ecore_rng_below(&r, 0) == 0);
}

/* ---------------------------------------------------------------------
 * Messages and validation
 * ---------------------------------------------------------------------
 */

/* Every status has a distinct message. */
static void
test_strerror(void)
{
	int			a,
				b;

	for (a = ECORE_OK; a <= ECORE_EINVAL_CURVE; a++)
	{
		CHECK(ecore_strerror(a) != NULL && ecore_strerror(a)[0] != '\0');
		for (b = ECORE_OK; b < a; b++)
			CHECK(strcmp(ecore_strerror(a), ecore_strerror(b)) != 0);
	}
	CHECK(strcmp(ecore_strerror(9999), "unknown error") == 0);
}

/* ecore_validate_points: first bad row and column. */
static void
test_validate_points(void)
{
	double		X[12] = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12};
	ecore_env	env = make_env();

	CHECK_EQ_INT(ecore_validate_points(X, 4, 3, &env), ECORE_OK);
	X[7] = NAN;
	X[10] = INFINITY;
	CHECK_EQ_INT(ecore_validate_points(X, 4, 3, &env), ECORE_ENONFINITE);
	CHECK_EQ_INT(env.error_row, 2);
	CHECK_EQ_INT(env.error_col, 1);
	X[7] = 1e101;
	CHECK_EQ_INT(ecore_validate_points(X, 4, 3, &env), ECORE_ERANGE);
	CHECK_EQ_INT(env.error_row, 2);
	X[7] = -1e100;				/* the limit itself is accepted */
	CHECK_EQ_INT(ecore_validate_points(X, 4, 3, &env), ECORE_ENONFINITE);
	CHECK_EQ_INT(env.error_row, 3);
	CHECK_EQ_INT(ecore_validate_points(X, 0, 3, &env), ECORE_EINVAL_N);
	CHECK_EQ_INT(ecore_validate_points(X, 4, 0, &env), ECORE_EINVAL_D);
	CHECK_EQ_INT(ecore_validate_points(NULL, 4, 3, &env), ECORE_EINVAL_ARG);
	CHECK_EQ_INT(ecore_validate_points(X, 4, 3, NULL), ECORE_EINVAL_ENV);
	CHECK_EQ_INT(ecore_validate_points(X, SIZE_MAX / 2, 3, &env), ECORE_EOVERFLOW);
	arena_reset(&g_arena);
}

/* ---------------------------------------------------------------------
 * scale.c
 * ---------------------------------------------------------------------
 */

/* zscore on a hand-computed column, transform and inverse. */
static void
test_scale_zscore_basic(void)
{
	/* columns: 1,2,3,4 (mean 2.5, var 1.25) and 10,10,10,10 (constant) */
	double		X[8] = {1, 10, 2, 10, 3, 10, 4, 10};
	double		Z[8],
				B[8];
	ecore_env	env = make_env();
	ecore_scaler s;
	int			i;

	CHECK_EQ_INT(ecore_scaler_init(&s, ECORE_SCALE_ZSCORE, 2, &env), ECORE_OK);
	CHECK_EQ_INT(g_arena.count, 1);
	CHECK_EQ_INT(g_arena.total, 12 * sizeof(double));
	CHECK_EQ_INT(ecore_scaler_fit(&s, X, 4, &env), ECORE_OK);
	CHECK_EQ_INT(s.n, 4);
	CHECK(s.mean[0] == 2.5);
	CHECK(s.var[0] == 1.25);
	CHECK(s.scale[0] == sqrt(1.25));
	CHECK(s.mean[1] == 10.0);
	CHECK(s.var[1] == 0.0);
	CHECK(s.scale[1] == 1.0);	/* zero variance: scale 1 */
	CHECK(s.data_min[0] == 1.0 && s.data_max[0] == 4.0);
	CHECK_EQ_INT(ecore_scaler_transform(&s, X, 4, Z, &env), ECORE_OK);
	CHECK(Z[0] == (1 - 2.5) / sqrt(1.25));
	CHECK(Z[6] == (4 - 2.5) / sqrt(1.25));
	for (i = 0; i < 4; i++)
		CHECK(Z[2 * i + 1] == 0.0);
	CHECK_EQ_INT(ecore_scaler_inverse_transform(&s, Z, 4, B, &env), ECORE_OK);
	for (i = 0; i < 8; i++)
		CHECK_CLOSE(B[i], X[i], 1e-15);
	arena_reset(&g_arena);
}

/* zscore numerics: large offset, compared with a long double reference. */
static void
test_scale_zscore_numerics(void)
{
	size_t		n = 5000,
				i;
	double	   *X = malloc(n * sizeof(double));
	long double m = 0,
				v = 0;
	ecore_env	env = make_env();
	ecore_scaler s;
	ecore_rng	r;

	ecore_rng_seed(&r, 5, 5);
	for (i = 0; i < n; i++)
		X[i] = 1e9 + ecore_rng_uniform(&r);
	for (i = 0; i < n; i++)
		m += X[i];
	m /= n;
	for (i = 0; i < n; i++)
		v += (X[i] - m) * (X[i] - m);
	v /= n;
	CHECK_EQ_INT(ecore_scaler_init(&s, ECORE_SCALE_ZSCORE, 1, &env), ECORE_OK);
	CHECK_EQ_INT(ecore_scaler_fit(&s, X, n, &env), ECORE_OK);
	CHECK_CLOSE(s.mean[0], (double) m, 1e-15);
	CHECK_CLOSE(s.var[0], (double) v, 1e-6);	/* 1e9 offset: ~7 digits */
	CHECK(s.scale[0] != 1.0);
	free(X);
	arena_reset(&g_arena);
}

/* sklearn's near-constant rule: tiny variance relative to the mean. */
static void
test_scale_zscore_near_constant(void)
{
	double		X[4] = {1e8, 1e8 + 1e-8, 1e8, 1e8};
	ecore_env	env = make_env();
	ecore_scaler s;

	CHECK_EQ_INT(ecore_scaler_init(&s, ECORE_SCALE_ZSCORE, 1, &env), ECORE_OK);
	CHECK_EQ_INT(ecore_scaler_fit(&s, X, 4, &env), ECORE_OK);
	/* var ~ 2e-17 <= n*eps*var + (n*mean*eps)^2 ~ 8e-15: constant */
	CHECK(s.scale[0] == 1.0);
	arena_reset(&g_arena);
}

/* minmax, including a constant feature mapping to 0. */
static void
test_scale_minmax(void)
{
	double		X[6] = {-2, 5, 0, 5, 6, 5};
	double		Z[6],
				B[6];
	ecore_env	env = make_env();
	ecore_scaler s;
	int			i;

	CHECK_EQ_INT(ecore_scaler_init(&s, ECORE_SCALE_MINMAX, 2, &env), ECORE_OK);
	CHECK_EQ_INT(ecore_scaler_fit(&s, X, 3, &env), ECORE_OK);
	CHECK(s.scale[0] == 1.0 / 8.0);
	CHECK(s.offset[0] == 0.0 - (-2.0) * (1.0 / 8.0));
	CHECK(s.scale[1] == 1.0);
	CHECK_EQ_INT(ecore_scaler_transform(&s, X, 3, Z, &env), ECORE_OK);
	CHECK(Z[0] == 0.0 && Z[2] == 0.25 && Z[4] == 1.0);
	for (i = 0; i < 3; i++)
		CHECK(Z[2 * i + 1] == 0.0);
	CHECK_EQ_INT(ecore_scaler_inverse_transform(&s, Z, 3, B, &env), ECORE_OK);
	for (i = 0; i < 6; i++)
		CHECK_CLOSE(B[i], X[i], 1e-15);
	arena_reset(&g_arena);
}

/* none copies; transforms work in place. */
static void
test_scale_none_inplace(void)
{
	double		X[4] = {1, 2, 3, 4};
	double		Y[4] = {1, 2, 3, 4};
	double		Z[4];
	ecore_env	env = make_env();
	ecore_scaler s;
	int			i;

	CHECK_EQ_INT(ecore_scaler_init(&s, ECORE_SCALE_NONE, 2, &env), ECORE_OK);
	CHECK_EQ_INT(ecore_scaler_fit(&s, X, 2, &env), ECORE_OK);
	CHECK_EQ_INT(ecore_scaler_transform(&s, X, 2, Z, &env), ECORE_OK);
	for (i = 0; i < 4; i++)
		CHECK(Z[i] == X[i]);
	CHECK(s.mean[0] == 2.0 && s.mean[1] == 3.0);	/* stats still fitted */
	CHECK_EQ_INT(ecore_scaler_inverse_transform(&s, Z, 2, Z, &env), ECORE_OK);
	for (i = 0; i < 4; i++)
		CHECK(Z[i] == X[i]);
	/* zscore in place */
	arena_reset(&g_arena);
	env = make_env();
	CHECK_EQ_INT(ecore_scaler_init(&s, ECORE_SCALE_ZSCORE, 2, &env), ECORE_OK);
	CHECK_EQ_INT(ecore_scaler_fit(&s, Y, 2, &env), ECORE_OK);
	CHECK_EQ_INT(ecore_scaler_transform(&s, Y, 2, Y, &env), ECORE_OK);
	CHECK(Y[0] == -1.0 && Y[2] == 1.0);
	CHECK_EQ_INT(ecore_scaler_inverse_transform(&s, Y, 2, Y, &env), ECORE_OK);
	for (i = 0; i < 4; i++)
		CHECK(Y[i] == X[i]);
	arena_reset(&g_arena);
}

/* Scaler argument errors, parse/name, bytes, ENOMEM, bad rows. */
static void
test_scale_errors(void)
{
	double		X[6] = {1, 2, 3, NAN, 5, 6};
	double		Z[6];
	ecore_env	env = make_env();
	ecore_scaler s;
	ecore_scale_method m;
	size_t		bytes = 0;

	CHECK_EQ_INT(ecore_scale_method_parse("ZScore", &m), ECORE_OK);
	CHECK_EQ_INT(m, ECORE_SCALE_ZSCORE);
	CHECK_EQ_INT(ecore_scale_method_parse("minmax", &m), ECORE_OK);
	CHECK_EQ_INT(m, ECORE_SCALE_MINMAX);
	CHECK_EQ_INT(ecore_scale_method_parse("none", &m), ECORE_OK);
	CHECK_EQ_INT(m, ECORE_SCALE_NONE);
	CHECK_EQ_INT(ecore_scale_method_parse("robust", &m), ECORE_EINVAL_ARG);
	CHECK_EQ_INT(ecore_scale_method_parse("zscorex", &m), ECORE_EINVAL_ARG);
	CHECK_EQ_INT(ecore_scale_method_parse(NULL, &m), ECORE_EINVAL_ARG);
	CHECK(strcmp(ecore_scale_method_name(ECORE_SCALE_MINMAX), "minmax") == 0);
	CHECK(ecore_scale_method_name((ecore_scale_method) 42) == NULL);
	CHECK_EQ_INT(ecore_scaler_bytes(3, &bytes), ECORE_OK);
	CHECK_EQ_INT(bytes, 18 * sizeof(double));
	CHECK_EQ_INT(ecore_scaler_bytes(0, &bytes), ECORE_EINVAL_D);
	CHECK_EQ_INT(ecore_scaler_bytes(SIZE_MAX / 8, &bytes), ECORE_EOVERFLOW);
	CHECK_EQ_INT(ecore_scaler_init(&s, (ecore_scale_method) 9, 2, &env), ECORE_EINVAL_ARG);
	g_arena.fail_after = 0;
	CHECK_EQ_INT(ecore_scaler_init(&s, ECORE_SCALE_ZSCORE, 2, &env), ECORE_ENOMEM);
	g_arena.fail_after = -1;
	CHECK_EQ_INT(ecore_scaler_init(&s, ECORE_SCALE_ZSCORE, 2, NULL), ECORE_EINVAL_ENV);
	CHECK_EQ_INT(ecore_scaler_init(&s, ECORE_SCALE_ZSCORE, 2, &env), ECORE_OK);
	CHECK_EQ_INT(ecore_scaler_fit(&s, X, 3, &env), ECORE_ENONFINITE);
	CHECK_EQ_INT(env.error_row, 1);
	CHECK_EQ_INT(env.error_col, 1);
	X[3] = 4;
	X[4] = -1e200;
	CHECK_EQ_INT(ecore_scaler_fit(&s, X, 3, &env), ECORE_ERANGE);
	CHECK_EQ_INT(env.error_row, 2);
	X[4] = 5;
	CHECK_EQ_INT(ecore_scaler_fit(&s, X, 0, &env), ECORE_EINVAL_N);
	CHECK_EQ_INT(ecore_scaler_fit(&s, X, 3, &env), ECORE_OK);
	X[5] = INFINITY;
	CHECK_EQ_INT(ecore_scaler_transform(&s, X, 3, Z, &env), ECORE_ENONFINITE);
	CHECK_EQ_INT(env.error_row, 2);
	CHECK_EQ_INT(ecore_scaler_transform(NULL, X, 3, Z, &env), ECORE_EINVAL_ARG);
	CHECK_EQ_INT(ecore_scaler_inverse_transform(&s, NULL, 3, Z, &env), ECORE_EINVAL_ARG);
	arena_reset(&g_arena);
}

/* Option names: case folding, exact length, round trips, errors. */
static void
test_option_names(void)
{
	static const char *const bad[] = {
		"", " zscore", "zscore ", "z-score", "zscor", "zscoree", "minmax\n",
		"k-means", "k-means+", "k-means+++", "kmeans++", "K-MEANS++ ", "given\t",
		"random\x80", "\xC5\x9A" "andom", "rand", "none\x01", "zscor\xC5"
	};
	static const char *const sep[] = {"zscore", "minmax", "none", "k-means++",
	"random", "given"};
	ecore_kmeans_init init = ECORE_INIT_RANDOM;
	ecore_scale_method m = ECORE_SCALE_MINMAX;
	char		buf[16];
	size_t		i,
				j;
	int			v;

	/* ecore_name_equal: ASCII case only, whole strings, NULL never */
	CHECK(ecore_name_equal("K-Means++", "k-means++"));
	CHECK(ecore_name_equal("az", "AZ"));	/* both sides fold, A and Z too */
	CHECK(ecore_name_equal("AZ", "az"));
	CHECK(ecore_name_equal("", ""));
	CHECK(!ecore_name_equal("", "a"));
	CHECK(!ecore_name_equal("a", ""));
	CHECK(!ecore_name_equal("@", "`"));	/* 'A' - 1 and 'a' - 1 */
	CHECK(!ecore_name_equal("[", "{"));	/* 'Z' + 1 and 'z' + 1 */
	CHECK(!ecore_name_equal("\xC3\x89", "\xC3\xA9"));	/* E/e acute: exact */
	CHECK(!ecore_name_equal(NULL, "none"));
	CHECK(!ecore_name_equal("none", NULL));
	CHECK(!ecore_name_equal(NULL, NULL));

	/* init: every name in every case pattern of its first letters */
	for (v = 0; v < 3; v++)
	{
		const char *name = ecore_kmeans_init_name((ecore_kmeans_init) v);

		CHECK(name != NULL);
		if (name == NULL)
			continue;
		for (j = 0; j < 16; j++)
		{
			snprintf(buf, sizeof(buf), "%s", name);
			for (i = 0; i < 4 && buf[i]; i++)
				if (((j >> i) & 1) && buf[i] >= 'a' && buf[i] <= 'z')
					buf[i] = (char) (buf[i] - 'a' + 'A');
			init = (ecore_kmeans_init) 7;
			CHECK_EQ_INT(ecore_kmeans_init_parse(buf, &init), ECORE_OK);
			CHECK_EQ_INT(init, v);
		}
	}
	CHECK_EQ_INT(ecore_kmeans_init_parse("RANDOM", &init), ECORE_OK);
	CHECK_EQ_INT(init, ECORE_INIT_RANDOM);
	CHECK_EQ_INT(ecore_kmeans_init_parse("Given", &init), ECORE_OK);
	CHECK_EQ_INT(init, ECORE_INIT_USER);
	CHECK(ecore_kmeans_init_name((ecore_kmeans_init) 3) == NULL);
	CHECK(ecore_kmeans_init_name((ecore_kmeans_init) -1) == NULL);
	CHECK_EQ_INT(ecore_kmeans_init_parse(NULL, &init), ECORE_EINVAL_ARG);
	CHECK_EQ_INT(ecore_kmeans_init_parse("random", NULL), ECORE_EINVAL_ARG);
	CHECK_EQ_INT(ecore_scale_method_parse("none", NULL), ECORE_EINVAL_ARG);

	/* near misses: rejected, and the output is left alone */
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
	{
		init = ECORE_INIT_RANDOM;
		m = ECORE_SCALE_MINMAX;
		CHECK_EQ_INT(ecore_kmeans_init_parse(bad[i], &init), ECORE_EINVAL_INIT);
		CHECK_EQ_INT(init, ECORE_INIT_RANDOM);
		CHECK_EQ_INT(ecore_scale_method_parse(bad[i], &m), ECORE_EINVAL_ARG);
		CHECK_EQ_INT(m, ECORE_SCALE_MINMAX);
	}

	/* the two vocabularies do not overlap */
	for (i = 0; i < 3; i++)
		CHECK_EQ_INT(ecore_kmeans_init_parse(sep[i], &init), ECORE_EINVAL_INIT);
	for (i = 3; i < 6; i++)
		CHECK_EQ_INT(ecore_scale_method_parse(sep[i], &m), ECORE_EINVAL_ARG);

	/* scale names round-trip, upper case too */
	for (v = 0; v < 3; v++)
	{
		const char *name = ecore_scale_method_name((ecore_scale_method) v);

		CHECK(name != NULL);
		if (name == NULL)
			continue;
		for (i = 0; name[i] && i + 1 < sizeof(buf); i++)
			buf[i] = (char) (name[i] - 'a' + 'A');
		buf[i] = '\0';
		CHECK_EQ_INT(ecore_scale_method_parse(buf, &m), ECORE_OK);
		CHECK_EQ_INT(m, v);
	}
}

/* ---------------------------------------------------------------------
 * K-means: parameters, errors, memory
 * ---------------------------------------------------------------------
 */

/* Defaults and every parameter error, from bytes() and fit() alike. */
static void
test_kmeans_params(void)
{
	double		X[8] = {0, 0, 1, 1, 5, 5, 6, 6};
	double		Ci[4] = {0, 0, 6, 6};
	ecore_kmeans_params p;
	ecore_kmeans_result r;
	ecore_env	env = make_env();
	size_t		bytes = 0;

	ecore_kmeans_params_default(&p);
	CHECK(p.k == 3 && p.n_init == 10 && p.max_iter == 300 && p.tol == 1e-4);
	CHECK(p.init == ECORE_INIT_KMEANSPP && p.algorithm == ECORE_ALGO_HAMERLY);
	p.k = 2;
	CHECK_EQ_INT(ecore_kmeans_bytes(4, 2, &p, &bytes), ECORE_OK);
	CHECK(bytes > 0);
	CHECK_EQ_INT(ecore_kmeans_bytes(0, 2, &p, &bytes), ECORE_EINVAL_N);
	CHECK_EQ_INT(ecore_kmeans_bytes(4, 0, &p, &bytes), ECORE_EINVAL_D);
	CHECK_EQ_INT(ecore_kmeans_bytes(4, 2, NULL, &bytes), ECORE_EINVAL_ARG);
	CHECK_EQ_INT(ecore_kmeans_bytes(4, 2, &p, NULL), ECORE_EINVAL_ARG);
	p.k = 0;
	CHECK_EQ_INT(ecore_kmeans_bytes(4, 2, &p, &bytes), ECORE_EINVAL_K);
	CHECK_EQ_INT(ecore_kmeans_fit(X, 4, 2, &p, &env, &r), ECORE_EINVAL_K);
	p.k = 5;
	CHECK_EQ_INT(ecore_kmeans_fit(X, 4, 2, &p, &env, &r), ECORE_EINVAL_K);
	p.k = 2;
	p.n_init = 0;
	CHECK_EQ_INT(ecore_kmeans_fit(X, 4, 2, &p, &env, &r), ECORE_EINVAL_NINIT);
	p.n_init = 1;
	p.max_iter = 0;
	CHECK_EQ_INT(ecore_kmeans_fit(X, 4, 2, &p, &env, &r), ECORE_EINVAL_MAXITER);
	p.max_iter = 10;
	p.tol = -1;
	CHECK_EQ_INT(ecore_kmeans_fit(X, 4, 2, &p, &env, &r), ECORE_EINVAL_TOL);
	p.tol = NAN;
	CHECK_EQ_INT(ecore_kmeans_fit(X, 4, 2, &p, &env, &r), ECORE_EINVAL_TOL);
	p.tol = INFINITY;
	CHECK_EQ_INT(ecore_kmeans_fit(X, 4, 2, &p, &env, &r), ECORE_EINVAL_TOL);
	p.tol = 0;
	p.init = (ecore_kmeans_init) 7;
	CHECK_EQ_INT(ecore_kmeans_fit(X, 4, 2, &p, &env, &r), ECORE_EINVAL_INIT);
	p.init = ECORE_INIT_USER;
	CHECK_EQ_INT(ecore_kmeans_fit(X, 4, 2, &p, &env, &r), ECORE_EINVAL_INIT);
	p.init_centroids = Ci;
	p.algorithm = (ecore_kmeans_algorithm) 5;
	CHECK_EQ_INT(ecore_kmeans_fit(X, 4, 2, &p, &env, &r), ECORE_EINVAL_ALGORITHM);
	p.algorithm = ECORE_ALGO_LLOYD;
	p.n_local_trials = -1;
	CHECK_EQ_INT(ecore_kmeans_fit(X, 4, 2, &p, &env, &r), ECORE_EINVAL_ARG);
	p.n_local_trials = 100000;
	CHECK_EQ_INT(ecore_kmeans_fit(X, 4, 2, &p, &env, &r), ECORE_EINVAL_ARG);
	p.n_local_trials = 0;
	CHECK_EQ_INT(ecore_kmeans_fit(X, 4, 2, &p, NULL, &r), ECORE_EINVAL_ENV);
	CHECK_EQ_INT(ecore_kmeans_fit(NULL, 4, 2, &p, &env, &r), ECORE_EINVAL_ARG);
	CHECK_EQ_INT(ecore_kmeans_fit(X, 4, 2, &p, &env, NULL), ECORE_EINVAL_ARG);
	CHECK_EQ_INT(ecore_kmeans_bytes(SIZE_MAX / 4, 2, &p, &bytes), ECORE_EOVERFLOW);
	CHECK_EQ_INT(g_arena.count, 0);	/* nothing allocated on errors */
	CHECK_EQ_INT(ecore_kmeans_fit(X, 4, 2, &p, &env, &r), ECORE_OK);
	CHECK(r.centroids[0] == 0.5 && r.centroids[1] == 0.5);
	CHECK(r.centroids[2] == 5.5 && r.centroids[3] == 5.5);
	arena_reset(&g_arena);
}

/* Non-finite / too large points and user centroids. */
static void
test_kmeans_bad_values(void)
{
	double		X[10] = {0, 0, 1, 1, 2, 2, 3, 3, 4, 4};
	double		Ci[4] = {0, 0, 4, 4};
	ecore_kmeans_params p;
	ecore_kmeans_result r;
	ecore_env	env = make_env();

	ecore_kmeans_params_default(&p);
	p.k = 2;
	X[7] = NAN;
	CHECK_EQ_INT(ecore_kmeans_fit(X, 5, 2, &p, &env, &r), ECORE_ENONFINITE);
	CHECK_EQ_INT(env.error_row, 3);
	X[7] = -INFINITY;
	CHECK_EQ_INT(ecore_kmeans_fit(X, 5, 2, &p, &env, &r), ECORE_ENONFINITE);
	CHECK_EQ_INT(env.error_row, 3);
	X[7] = 3;
	X[2] = 2e100;
	CHECK_EQ_INT(ecore_kmeans_fit(X, 5, 2, &p, &env, &r), ECORE_ERANGE);
	CHECK_EQ_INT(env.error_row, 1);
	X[2] = 1;
	p.init = ECORE_INIT_USER;
	p.init_centroids = Ci;
	Ci[3] = NAN;
	CHECK_EQ_INT(ecore_kmeans_fit(X, 5, 2, &p, &env, &r), ECORE_EINIT_VALUE);
	CHECK_EQ_INT(env.error_row, 1);
	Ci[3] = 4;
	CHECK_EQ_INT(ecore_kmeans_fit(X, 5, 2, &p, &env, &r), ECORE_OK);
	arena_reset(&g_arena);
}

/* Fewer distinct points than k (-0.0 equals 0.0). */
static void
test_kmeans_distinct(void)
{
	double		X[12] = {1, 2, 1, 2, 0.0, 0, -0.0, 0, 1, 2, -0.0, -0.0};
	ecore_kmeans_params p;
	ecore_kmeans_result r;
	ecore_env	env = make_env();

	ecore_kmeans_params_default(&p);
	p.k = 3;
	CHECK_EQ_INT(ecore_kmeans_fit(X, 6, 2, &p, &env, &r), ECORE_EDISTINCT);
	p.k = 2;
	CHECK_EQ_INT(ecore_kmeans_fit(X, 6, 2, &p, &env, &r), ECORE_OK);
	CHECK(r.inertia == 0.0);
	check_result_invariants(X, 6, 2, &r);
	p.init = ECORE_INIT_RANDOM;
	CHECK_EQ_INT(ecore_kmeans_fit(X, 6, 2, &p, &env, &r), ECORE_OK);
	CHECK(r.inertia == 0.0);
	arena_reset(&g_arena);
}

/* Memory: exactly one request of exactly the announced size; ENOMEM. */
static void
test_kmeans_memory_accounting(void)
{
	size_t		n = 3000,
				bytes = 0;
	double	   *X = make_blobs(n, 3, 4, 20, 11, NULL);
	ecore_kmeans_params p;
	ecore_kmeans_result r;
	ecore_env	env;
	int			algo,
				init;
	double		inertia[6];

	for (algo = 0; algo < 2; algo++)
		for (init = 0; init < 2; init++)
		{
			env = make_env();
			ecore_kmeans_params_default(&p);
			p.k = 4;
			p.algorithm = (ecore_kmeans_algorithm) algo;
			p.init = (ecore_kmeans_init) init;
			CHECK_EQ_INT(ecore_kmeans_bytes(n, 3, &p, &bytes), ECORE_OK);
			CHECK_EQ_INT(ecore_kmeans_fit(X, n, 3, &p, &env, &r), ECORE_OK);
			CHECK_EQ_INT(g_arena.count, ECORE_MAX_ALLOCS);
			CHECK(g_arena.total <= bytes);
			CHECK_EQ_INT(g_arena.total, bytes);
			/* roughly n * 20 bytes + small */
			CHECK(bytes < n * 20 + 100000);
			arena_reset(&g_arena);
		}
	env = make_env();
	g_arena.fail_after = 0;
	CHECK_EQ_INT(ecore_kmeans_fit(X, n, 3, &p, &env, &r), ECORE_ENOMEM);
	arena_reset(&g_arena);
	env = make_env();
	CHECK_EQ_INT(ecore_kmeans_elbow_bytes(n, 3, 6, &p, &bytes), ECORE_OK);
	CHECK_EQ_INT(ecore_kmeans_elbow(X, n, 3, 6, &p, &env, inertia, NULL), ECORE_OK);
	CHECK_EQ_INT(g_arena.count, 1);
	CHECK_EQ_INT(g_arena.total, bytes);
	arena_reset(&g_arena);
	free(X);
}

/* ---------------------------------------------------------------------
 * K-means: behaviour
 * ---------------------------------------------------------------------
 */

/* Tiny hand-computed 1-D case. */
static void
test_kmeans_tiny(void)
{
	double		X[4] = {10, 0, 11, 1};
	ecore_kmeans_params p;
	ecore_kmeans_result r;
	ecore_env	env = make_env();
	int			algo,
				init;

	for (algo = 0; algo < 2; algo++)
		for (init = 0; init < 2; init++)
		{
			ecore_kmeans_params_default(&p);
			p.k = 2;
			p.algorithm = (ecore_kmeans_algorithm) algo;
			p.init = (ecore_kmeans_init) init;
			CHECK_EQ_INT(ecore_kmeans_fit(X, 4, 1, &p, &env, &r), ECORE_OK);
			CHECK(r.centroids[0] == 0.5);
			CHECK(r.centroids[1] == 10.5);
			CHECK(r.labels[0] == 1 && r.labels[1] == 0 && r.labels[2] == 1 && r.labels[3] == 0);
			CHECK(r.inertia == 1.0);
			CHECK(r.cluster_inertia[0] == 0.5 && r.cluster_inertia[1] == 0.5);
			CHECK(r.sizes[0] == 2 && r.sizes[1] == 2);
			CHECK(r.distances[0] == 0.5 && r.distances[1] == 0.5);
			CHECK(r.converged == 1);
			CHECK(r.iterations >= 2);
			CHECK(r.best_restart >= 0 && r.best_restart < 10);
			CHECK(r.n == 4 && r.d == 1 && r.k == 2);
			CHECK_CLOSE(r.tol_abs, 1e-4 * 25.25, 1e-12);
			arena_reset(&g_arena);
			env = make_env();
		}
}

/* k = 1 (mean of everything) and identical points. */
static void
test_kmeans_k1_identical(void)
{
	double		X[6] = {1, 2, 3, 4, 5, 9};
	double		Y[6] = {7, 7, 7, 7, 7, 7};
	ecore_kmeans_params p;
	ecore_kmeans_result r;
	ecore_env	env = make_env();

	ecore_kmeans_params_default(&p);
	p.k = 1;
	CHECK_EQ_INT(ecore_kmeans_fit(X, 3, 2, &p, &env, &r), ECORE_OK);
	CHECK(r.centroids[0] == 3.0 && r.centroids[1] == 5.0);
	CHECK(r.sizes[0] == 3);
	CHECK(r.inertia == 13.0 + 1.0 + 20.0);
	CHECK(r.converged == 1 && r.iterations == 2);
	check_result_invariants(X, 3, 2, &r);
	CHECK_EQ_INT(ecore_kmeans_fit(Y, 6, 1, &p, &env, &r), ECORE_OK);
	CHECK(r.inertia == 0.0 && r.centroids[0] == 7.0 && r.sizes[0] == 6);
	p.k = 2;
	CHECK_EQ_INT(ecore_kmeans_fit(Y, 6, 1, &p, &env, &r), ECORE_EDISTINCT);
	arena_reset(&g_arena);
}

/* k = n: every point its own cluster, inertia 0. */
static void
test_kmeans_k_equals_n(void)
{
	double		X[10] = {3, 1, -4, 1, 5, 9, -2, 6, 5, 3};
	ecore_kmeans_params p;
	ecore_kmeans_result r;
	ecore_env	env = make_env();
	int			init,
				j;

	for (init = 0; init < 2; init++)
	{
		ecore_kmeans_params_default(&p);
		p.k = 5;
		p.init = (ecore_kmeans_init) init;
		CHECK_EQ_INT(ecore_kmeans_fit(X, 5, 2, &p, &env, &r), ECORE_OK);
		CHECK(r.inertia == 0.0);
		for (j = 0; j < 5; j++)
			CHECK(r.sizes[j] == 1);
		check_result_invariants(X, 5, 2, &r);
	}
	arena_reset(&g_arena);
}

/* Empty cluster relocation: single, several, and the keep-one rule. */
static void
test_kmeans_empty_relocation(void)
{
	double		X1[4] = {0, 1, 2, 10};
	double		C1[2] = {1, 1000};
	double		X2[5] = {0, 1, 2, 10, 20};
	double		C2[3] = {1, 1000, 2000};
	double		X3[3] = {0, 1, 50};
	double		C3[3] = {0.5, 50, 1000};
	ecore_kmeans_params p;
	ecore_kmeans_result r;
	ecore_env	env = make_env();
	int			algo;

	for (algo = 0; algo < 2; algo++)
	{
		ecore_kmeans_params_default(&p);
		p.algorithm = (ecore_kmeans_algorithm) algo;
		p.init = ECORE_INIT_USER;
		p.k = 2;
		p.init_centroids = C1;
		p.max_iter = 1;
		CHECK_EQ_INT(ecore_kmeans_fit(X1, 4, 1, &p, &env, &r), ECORE_OK);
		/* cluster 1 empty: takes 10, farthest from centroid 1 */
		CHECK(r.centroids[0] == 1.0 && r.centroids[1] == 10.0);
		CHECK(r.labels[3] == 1 && r.labels[0] == 0);
		CHECK(r.iterations == 1 && r.converged == 0);
		p.max_iter = 100;
		CHECK_EQ_INT(ecore_kmeans_fit(X1, 4, 1, &p, &env, &r), ECORE_OK);
		CHECK(r.centroids[0] == 1.0 && r.centroids[1] == 10.0);
		CHECK(r.converged == 1);

		p.k = 3;
		p.init_centroids = C2;
		p.max_iter = 1;
		CHECK_EQ_INT(ecore_kmeans_fit(X2, 5, 1, &p, &env, &r), ECORE_OK);
		/* cluster 1 takes 20 (farthest), cluster 2 takes 10 */
		CHECK(r.centroids[0] == 1.0 && r.centroids[1] == 10.0 && r.centroids[2] == 20.0);
		CHECK(r.sizes[0] == 3 && r.sizes[1] == 1 && r.sizes[2] == 1);

		p.init_centroids = C3;
		CHECK_EQ_INT(ecore_kmeans_fit(X3, 3, 1, &p, &env, &r), ECORE_OK);
		/* 50 is alone in its cluster: not movable; 0 and 1 tie -> 0 */
		CHECK(r.centroids[0] == 0.0 && r.centroids[1] == 1.0 && r.centroids[2] == 50.0);
		check_result_invariants(X3, 3, 1, &r);
	}
	arena_reset(&g_arena);
}

/* Stopping: max_iter, tol, strict convergence (fixed point). */
static void
test_kmeans_stopping(void)
{
	size_t		n = 4000,
				i;
	int			j;
	double	   *X = make_blobs(n, 2, 5, 6, 21, NULL);
	double		Ci[6] = {0, 0, 0.1, 0, 0, 0.1};
	double	   *sums = calloc(6, sizeof(double));
	long		cnt[3] = {0, 0, 0};
	ecore_kmeans_params p;
	ecore_kmeans_result r;
	ecore_env	env = make_env();

	ecore_kmeans_params_default(&p);
	p.k = 3;
	p.init = ECORE_INIT_USER;
	p.init_centroids = Ci;
	p.max_iter = 1;
	CHECK_EQ_INT(ecore_kmeans_fit(X, n, 2, &p, &env, &r), ECORE_OK);
	CHECK(r.iterations == 1 && r.converged == 0);
	check_result_invariants(X, n, 2, &r);
	p.max_iter = 3;
	CHECK_EQ_INT(ecore_kmeans_fit(X, n, 2, &p, &env, &r), ECORE_OK);
	CHECK(r.iterations == 3 && r.converged == 0);
	p.max_iter = 300;
	p.tol = 1e6;				/* any shift is below: stop after one */
	CHECK_EQ_INT(ecore_kmeans_fit(X, n, 2, &p, &env, &r), ECORE_OK);
	CHECK(r.iterations == 1 && r.converged == 1);
	check_result_invariants(X, n, 2, &r);
	p.tol = 0.0;				/* only "no assignment changes" stops */
	CHECK_EQ_INT(ecore_kmeans_fit(X, n, 2, &p, &env, &r), ECORE_OK);
	CHECK(r.converged == 1 && r.iterations > 3);
	/* fixed point: centroids are the means of their points */
	for (i = 0; i < n; i++)
	{
		sums[r.labels[i] * 2] += X[i * 2];
		sums[r.labels[i] * 2 + 1] += X[i * 2 + 1];
		cnt[r.labels[i]]++;
	}
	for (j = 0; j < 3; j++)
	{
		CHECK_CLOSE(sums[j * 2] / cnt[j], r.centroids[j * 2], 1e-12);
		CHECK_CLOSE(sums[j * 2 + 1] / cnt[j], r.centroids[j * 2 + 1], 1e-12);
	}
	CHECK_CLOSE(r.tol_abs, 0.0, 0);
	p.tol = 1e-4;
	CHECK_EQ_INT(ecore_kmeans_fit(X, n, 2, &p, &env, &r), ECORE_OK);
	CHECK_CLOSE(r.tol_abs, 1e-4 * ref_mean_var(X, n, 2), 1e-10);
	free(sums);
	free(X);
	arena_reset(&g_arena);
}

/* Same seed, same result (bit for bit); seeds differ in restarts. */
static void
test_kmeans_determinism(void)
{
	size_t		n = 5000;
	double	   *X = make_blobs(n, 3, 6, 8, 31, NULL);
	ecore_kmeans_params p;
	ecore_kmeans_result r;
	int32_t    *lab = malloc(n * sizeof(int32_t));
	double		cen[18],
				inertia;
	int			init,
				other_seed_differs = 0;
	uint64_t	seed;
	ecore_env	env;

	for (init = 0; init < 2; init++)
	{
		env = make_env();
		ecore_kmeans_params_default(&p);
		p.k = 6;
		p.seed = 12345;
		p.init = (ecore_kmeans_init) init;
		CHECK_EQ_INT(ecore_kmeans_fit(X, n, 3, &p, &env, &r), ECORE_OK);
		memcpy(lab, r.labels, n * sizeof(int32_t));
		memcpy(cen, r.centroids, sizeof(cen));
		inertia = r.inertia;
		arena_reset(&g_arena);
		env = make_env();
		CHECK_EQ_INT(ecore_kmeans_fit(X, n, 3, &p, &env, &r), ECORE_OK);
		CHECK(memcmp(lab, r.labels, n * sizeof(int32_t)) == 0);
		CHECK(memcmp(cen, r.centroids, sizeof(cen)) == 0);
		CHECK(inertia == r.inertia);
		for (seed = 1; seed < 6; seed++)
		{
			arena_reset(&g_arena);
			env = make_env();
			p.seed = seed;
			p.n_init = 1;
			CHECK_EQ_INT(ecore_kmeans_fit(X, n, 3, &p, &env, &r), ECORE_OK);
			check_result_invariants(X, n, 3, &r);
			if (memcmp(cen, r.centroids, sizeof(cen)) != 0)
				other_seed_differs = 1;
		}
		arena_reset(&g_arena);
	}
	CHECK(other_seed_differs);
	free(lab);
	free(X);
}

/* Interrupt callback of the threads test: like the glue, it calls the
 * abort hook (stop and join the threads) before it longjmps. */
static jmp_buf thr_jump;
static long thr_calls;
static long thr_jump_at;

static void
thr_check(void *arg)
{
	ecore_env *env = (ecore_env *) arg;

	thr_calls++;
	if (thr_jump_at > 0 && thr_calls >= thr_jump_at)
	{
		if (env->abort_hook != NULL)
			env->abort_hook(env->abort_arg);
		longjmp(thr_jump, 1);
	}
}

/* Threads share the restarts: the result does not depend on n_threads;
 * memory is announced; an interrupt stops and joins the threads. */
static void
test_kmeans_threads(void)
{
	size_t		n = 20000,
				bytes = 0;
	double	   *X = make_blobs(n, 3, 7, 6, 77, NULL);
	int32_t    *lab = malloc(n * sizeof(int32_t));
	double		cen[21],
				inertia = 0.0,
				curve1[6],
				curve2[6];
	int			threads[] = {1, 2, 3, 8};
	int			t;
	ecore_kmeans_params p;
	ecore_kmeans_result r;
	ecore_env	env;

	for (t = 0; t < 4; t++)
	{
		env = make_env();
		ecore_kmeans_params_default(&p);
		p.k = 7;
		p.seed = 99;
		p.n_threads = threads[t];
		CHECK_EQ_INT(ecore_kmeans_bytes(n, 3, &p, &bytes), ECORE_OK);
		CHECK_EQ_INT(ecore_kmeans_fit(X, n, 3, &p, &env, &r), ECORE_OK);
		CHECK_EQ_INT(g_arena.count, 1);
		CHECK_EQ_INT(g_arena.total, bytes);
		CHECK(env.abort_hook == NULL);
		check_result_invariants(X, n, 3, &r);
		if (t == 0)
		{
			memcpy(lab, r.labels, n * sizeof(int32_t));
			memcpy(cen, r.centroids, sizeof(cen));
			inertia = r.inertia;
		}
		else
		{
			CHECK(memcmp(lab, r.labels, n * sizeof(int32_t)) == 0);
			CHECK(memcmp(cen, r.centroids, sizeof(cen)) == 0);
			CHECK(inertia == r.inertia);
		}
		arena_reset(&g_arena);
	}

	/* the elbow too */
	env = make_env();
	p.n_threads = 1;
	CHECK_EQ_INT(ecore_kmeans_elbow(X, n, 3, 6, &p, &env, curve1, NULL), ECORE_OK);
	env = make_env();
	p.n_threads = 2;
	CHECK_EQ_INT(ecore_kmeans_elbow(X, n, 3, 6, &p, &env, curve2, NULL), ECORE_OK);
	CHECK(memcmp(curve1, curve2, sizeof(curve1)) == 0);
	arena_reset(&g_arena);

	/* an interrupt in the calling thread stops the others first */
	env = make_env();
	env.check = thr_check;
	env.check_arg = &env;
	p.n_threads = 4;
	thr_calls = 0;
	thr_jump_at = 40;
	if (setjmp(thr_jump) == 0)
	{
		(void) ecore_kmeans_fit(X, n, 3, &p, &env, &r);
		CHECK(!"the fit was not interrupted");
	}
	else
		CHECK(thr_calls >= 40);
	arena_reset(&g_arena);		/* safe: the threads were joined */
	thr_jump_at = 0;
	free(lab);
	free(X);
}

/* Hamerly and plain Lloyd give identical results, many shapes. */
static void
test_kmeans_hamerly_equals_lloyd(void)
{
	static const size_t dims[] = {1, 2, 3, 4, 5, 7};
	ecore_kmeans_params p;
	ecore_kmeans_result r;
	ecore_env	env;
	int			di,
				k,
				init,
				mismatches = 0,
				runs = 0;

	for (di = 0; di < 6; di++)
		for (k = 1; k <= 9; k += 2)
			for (init = 0; init < 2; init++)
			{
				size_t		d = dims[di],
							n = 700 + 97 * (size_t) k;
				double	   *X = make_blobs(n, d, k + 1, 5.0, 1000 + (uint64_t) (di * 31 + k), NULL);
				int32_t    *lab = malloc(n * sizeof(int32_t));
				double	   *cen = malloc((size_t) k * d * sizeof(double));
				double		inertia;
				int			iters,
							conv;

				env = make_env();
				ecore_kmeans_params_default(&p);
				p.k = k;
				p.n_init = 3;
				p.seed = (uint64_t) (di * 100 + k);
				p.init = (ecore_kmeans_init) init;
				p.tol = (k % 3 == 0) ? 0.0 : 1e-4;
				p.algorithm = ECORE_ALGO_LLOYD;
				CHECK_EQ_INT(ecore_kmeans_fit(X, n, d, &p, &env, &r), ECORE_OK);
				memcpy(lab, r.labels, n * sizeof(int32_t));
				memcpy(cen, r.centroids, (size_t) k * d * sizeof(double));
				inertia = r.inertia;
				iters = r.iterations;
				conv = r.converged;
				arena_reset(&g_arena);
				env = make_env();
				p.algorithm = ECORE_ALGO_HAMERLY;
				CHECK_EQ_INT(ecore_kmeans_fit(X, n, d, &p, &env, &r), ECORE_OK);
				check_result_invariants(X, n, d, &r);
				runs++;
				if (memcmp(lab, r.labels, n * sizeof(int32_t)) != 0 ||
					memcmp(cen, r.centroids, (size_t) k * d * sizeof(double)) != 0 ||
					inertia != r.inertia || iters != r.iterations ||
					conv != r.converged)
				{
					char		buf[128];

					mismatches++;
					snprintf(buf, sizeof(buf), "Hamerly != Lloyd for d=%zu k=%d init=%d",
							 d, k, init);
					fail_at(__FILE__, __LINE__, buf);
				}
				arena_reset(&g_arena);
				free(lab);
				free(cen);
				free(X);
			}
	(void) mismatches;
	CHECK_EQ_INT(runs, 60);
}

/* Against an independent textbook Lloyd from the same start. */
static void
test_kmeans_vs_reference_lloyd(void)
{
	ecore_kmeans_params p;
	ecore_kmeans_result r;
	ecore_env	env;
	int			trial;

	for (trial = 0; trial < 12; trial++)
	{
		size_t		d = 1 + (size_t) (trial % 6),
					n = 500 + 211 * (size_t) trial,
					i;
		int			k = 2 + trial % 5,
					j,
					iters,
					conv,
					lab_diff = 0;
		double	   *X = make_blobs(n, d, k, 6.0, 77 + (uint64_t) trial, NULL);
		double	   *C0 = malloc((size_t) k * d * sizeof(double));
		double	   *Cr = malloc((size_t) k * d * sizeof(double));
		int32_t    *lab = malloc(n * sizeof(int32_t));
		double		tol = (trial % 2) ? 1e-4 : 0.0;

		/* start: k points spread over the data (some far: may empty) */
		for (j = 0; j < k; j++)
			memcpy(C0 + (size_t) j * d, X + ((size_t) j * 37 % n) * d, d * sizeof(double));
		if (trial % 3 == 0)
			C0[(size_t) (k - 1) * d] = 1e6;	/* forces a relocation */
		memcpy(Cr, C0, (size_t) k * d * sizeof(double));
		ref_lloyd(X, n, d, k, Cr, 300, tol * ref_mean_var(X, n, d), lab, &iters, &conv);

		env = make_env();
		ecore_kmeans_params_default(&p);
		p.k = k;
		p.init = ECORE_INIT_USER;
		p.init_centroids = C0;
		p.tol = tol;
		CHECK_EQ_INT(ecore_kmeans_fit(X, n, d, &p, &env, &r), ECORE_OK);
		CHECK_EQ_INT(r.iterations, iters);
		CHECK_EQ_INT(r.converged, conv);
		/* same partition: compare via the centroid of each point */
		for (i = 0; i < n; i++)
		{
			double		d1 = ref_sqdist(r.centroids + (size_t) r.labels[i] * d,
										Cr + (size_t) lab[i] * d, d);

			if (d1 > 1e-18 * (1 + ref_sqdist(Cr + (size_t) lab[i] * d, Cr, 0)))
				lab_diff++;
		}
		CHECK_EQ_INT(lab_diff, 0);
		check_result_invariants(X, n, d, &r);
		arena_reset(&g_arena);
		free(X);
		free(C0);
		free(Cr);
		free(lab);
	}
}

/* Well separated blobs are recovered exactly. */
static void
test_kmeans_recovers_blobs(void)
{
	size_t		n = 6000,
				i;
	int32_t    *truth = malloc(n * sizeof(int32_t));
	double	   *X = make_blobs(n, 3, 4, 200.0, 5, truth);
	int			map[4] = {-1, -1, -1, -1},
				ok = 1;
	ecore_kmeans_params p;
	ecore_kmeans_result r;
	ecore_env	env = make_env();

	ecore_kmeans_params_default(&p);
	p.k = 4;
	CHECK_EQ_INT(ecore_kmeans_fit(X, n, 3, &p, &env, &r), ECORE_OK);
	for (i = 0; i < n; i++)
	{
		if (map[truth[i]] < 0)
			map[truth[i]] = r.labels[i];
		else if (map[truth[i]] != r.labels[i])
			ok = 0;
	}
	CHECK(ok);
	CHECK(r.converged);
	check_result_invariants(X, n, 3, &r);
	free(truth);
	free(X);
	arena_reset(&g_arena);
}

/* Relabel: ascending norm; equal norms in lexicographic order. */
static void
test_kmeans_relabel_order(void)
{
	/* clusters around (5,0) [norm 5], (-5,0) [norm 5], (0,1) [norm 1] */
	double		X[18] = {5, 0.5, 5, -0.5, -5, 0.5, -5, -0.5, 0, 1.5, 0, 0.5,
	5, 0.5, -5, -0.5, 0, 1};
	ecore_kmeans_params p;
	ecore_kmeans_result r;
	ecore_env	env = make_env();
	uint64_t	seed;

	for (seed = 0; seed < 8; seed++)
	{
		ecore_kmeans_params_default(&p);
		p.k = 3;
		p.seed = seed;
		p.n_init = 1;
		CHECK_EQ_INT(ecore_kmeans_fit(X, 9, 2, &p, &env, &r), ECORE_OK);
		CHECK(r.centroids[0] == 0.0 && r.centroids[1] == 1.0);
		CHECK(r.centroids[2] == -5.0);	/* (-5, .) before (5, .) */
		CHECK(r.centroids[4] == 5.0);
		CHECK(r.labels[4] == 0 && r.labels[2] == 1 && r.labels[0] == 2);
	}
	arena_reset(&g_arena);
}

/* Random init with heavy duplicates still finds k distinct seeds. */
static void
test_kmeans_random_init_duplicates(void)
{
	size_t		n = 3000,
				i;
	double	   *X = malloc(n * sizeof(double));
	ecore_kmeans_params p;
	ecore_kmeans_result r;
	ecore_env	env = make_env();

	for (i = 0; i < n; i++)
		X[i] = 4.0;
	X[1234] = -3.0;
	X[2999] = 11.0;
	ecore_kmeans_params_default(&p);
	p.k = 3;
	p.n_init = 2;
	p.init = ECORE_INIT_RANDOM;
	CHECK_EQ_INT(ecore_kmeans_fit(X, n, 1, &p, &env, &r), ECORE_OK);
	CHECK(r.inertia == 0.0);
	CHECK(r.centroids[0] == -3.0 && r.centroids[1] == 4.0 && r.centroids[2] == 11.0);
	p.init = ECORE_INIT_KMEANSPP;
	CHECK_EQ_INT(ecore_kmeans_fit(X, n, 1, &p, &env, &r), ECORE_OK);
	CHECK(r.inertia == 0.0);
	free(X);
	arena_reset(&g_arena);
}

/* Degenerate potential: distinct points whose distances underflow. */
static void
test_kmeans_tiny_values(void)
{
	double		X[8] = {1e-140, 2e-140, 3e-140, 0, 1e-140, 2e-140, 5e-140, 5e-140};
	ecore_kmeans_params p;
	ecore_kmeans_result r;
	ecore_env	env = make_env();
	int			init,
				j;

	for (init = 0; init < 2; init++)
	{
		ecore_kmeans_params_default(&p);
		p.k = 3;
		p.init = (ecore_kmeans_init) init;
		CHECK_EQ_INT(ecore_kmeans_fit(X, 8, 1, &p, &env, &r), ECORE_OK);
		check_result_invariants(X, 8, 1, &r);
		for (j = 0; j < 3; j++)
			CHECK(r.sizes[j] > 0);
	}
	arena_reset(&g_arena);
}

/*
 * Points whose differences are too small to square (a user's report:
 * 1e-300 * {0, 1, 2, 10, 11, 12}, k = 2, which gave an empty cluster and
 * inertia 0).  Every normalisation leaves them tiny (zscore and minmax
 * treat such a feature as constant, as scikit-learn does), and the fit,
 * whatever the algorithm, initialisation and threads, fails with
 * ECORE_EUNDERFLOW; so does the elbow.  bytes() cannot see the data and
 * succeeds; k = 1 needs no distance and works.
 */
static void
test_kmeans_underflow_span(void)
{
	double		raw[6] = {0, 1, 2, 10, 11, 12};
	double		tiny8[8] = {1e-200, 2e-200, 3e-200, 0, 1e-200, 2e-200, 5e-200, 5e-200};
	double		X[6],
				Z[6],
				C[2],
				inertia[2];
	ecore_scaler sc;
	ecore_kmeans_params p;
	ecore_kmeans_result r;
	ecore_env	env;
	size_t		bytes,
				i;
	int			m,
				algo,
				init,
				threads;

	for (i = 0; i < 6; i++)
		X[i] = raw[i] * 1e-300;
	for (m = 0; m < 3; m++)
	{
		env = make_env();
		CHECK_EQ_INT(ecore_scaler_init(&sc, (ecore_scale_method) m, 1, &env), ECORE_OK);
		CHECK_EQ_INT(ecore_scaler_fit(&sc, X, 6, &env), ECORE_OK);
		CHECK_EQ_INT(ecore_scaler_transform(&sc, X, 6, Z, &env), ECORE_OK);
		CHECK(fabs(Z[5] - Z[0]) < 1e-298);
		C[0] = Z[0];
		C[1] = Z[5];
		for (algo = 0; algo < 2; algo++)
			for (init = 0; init < 3; init++)
				for (threads = 1; threads <= 2; threads++)
				{
					ecore_kmeans_params_default(&p);
					p.k = 2;
					p.algorithm = (ecore_kmeans_algorithm) algo;
					p.init = (ecore_kmeans_init) init;
					p.init_centroids = C;
					p.n_threads = threads;
					CHECK_EQ_INT(ecore_kmeans_bytes(6, 1, &p, &bytes), ECORE_OK);
					CHECK_EQ_INT(ecore_kmeans_fit(Z, 6, 1, &p, &env, &r), ECORE_EUNDERFLOW);
				}
		ecore_kmeans_params_default(&p);
		CHECK_EQ_INT(ecore_kmeans_elbow(Z, 6, 1, 2, &p, &env, inertia, NULL), ECORE_EUNDERFLOW);
		p.k = 1;
		CHECK_EQ_INT(ecore_kmeans_fit(Z, 6, 1, &p, &env, &r), ECORE_OK);
		CHECK_EQ_INT(r.sizes[0], 6);
		CHECK_EQ_INT(ecore_kmeans_elbow(Z, 6, 1, 1, &p, &env, inertia, NULL), ECORE_OK);
	}
	/*
	 * 1e-160: squares subnormal (few significant bits) but not 0, refused
	 * too; 1e-149: squares normal, clustered as {0, 1, 2}, {10, 11, 12}
	 */
	for (m = 0; m < 2; m++)
	{
		env = make_env();
		for (i = 0; i < 6; i++)
			X[i] = raw[i] * (m == 0 ? 1e-160 : 1e-149);
		ecore_kmeans_params_default(&p);
		p.k = 2;
		CHECK_EQ_INT(ecore_kmeans_fit(X, 6, 1, &p, &env, &r),
					 m == 0 ? ECORE_EUNDERFLOW : ECORE_OK);
	}
	check_result_invariants(X, 6, 1, &r);
	CHECK(r.sizes[0] == 3 && r.sizes[1] == 3 && r.labels[0] == 0 && r.labels[5] == 1);
	CHECK(r.inertia > 0.0);

	env = make_env();
	ecore_kmeans_params_default(&p);
	p.k = 3;
	CHECK_EQ_INT(ecore_kmeans_fit(tiny8, 8, 1, &p, &env, &r), ECORE_EUNDERFLOW);
	/* 5 distinct values: k = 5 underflows, k = 6 is ECORE_EDISTINCT */
	p.k = 5;
	CHECK_EQ_INT(ecore_kmeans_fit(tiny8, 8, 1, &p, &env, &r), ECORE_EUNDERFLOW);
	p.k = 6;
	CHECK_EQ_INT(ecore_kmeans_fit(tiny8, 8, 1, &p, &env, &r), ECORE_EDISTINCT);
	arena_reset(&g_arena);
}

/*
 * A feature of values below 1e-150 next to an ordinary one: points that
 * differ only in it cannot be told apart by squared distances.  With
 * fewer such groups than k the fit fails with ECORE_EUNDERFLOW (the points
 * span enough: the check after the final pass sees the empty cluster);
 * with enough groups they are clustered, no cluster empty.
 */
static void
test_kmeans_underflow_mixed(void)
{
	/* (1e-300, 5) and (2e-300, 5) cannot be told apart */
	double		X1[6] = {1e-300, 5, 2e-300, 5, 1e-300, 7};
	/* SQL's bad_input case 97: (-a * 1e-300, -b), 5 separable groups */
	double		a[7] = {0, 0, 1, 10, 10, 11, 50};
	double		b[7] = {0, 1, 0, 10, 11, 10, 50};
	double		X2[14],
				inertia[3];
	ecore_kmeans_params p;
	ecore_kmeans_result r;
	ecore_env	env = make_env();
	int			algo,
				init,
				j;
	uint64_t	seed;

	for (j = 0; j < 7; j++)
	{
		X2[2 * j] = -a[j] * 1e-300;
		X2[2 * j + 1] = -b[j];
	}
	for (algo = 0; algo < 2; algo++)
		for (init = 0; init < 3; init++)
			for (seed = 0; seed < 4; seed++)
			{
				env = make_env();
				ecore_kmeans_params_default(&p);
				p.k = 3;
				p.seed = seed;
				p.algorithm = (ecore_kmeans_algorithm) algo;
				p.init = (ecore_kmeans_init) init;
				p.init_centroids = X1;
				CHECK_EQ_INT(ecore_kmeans_fit(X1, 3, 2, &p, &env, &r), ECORE_EUNDERFLOW);
				if (init != ECORE_INIT_USER)
					CHECK_EQ_INT(ecore_kmeans_elbow(X1, 3, 2, 3, &p, &env, inertia, NULL),
								 ECORE_EUNDERFLOW);
				/* two clusters can be told apart */
				p.k = 2;
				CHECK_EQ_INT(ecore_kmeans_fit(X1, 3, 2, &p, &env, &r), ECORE_OK);
				check_result_invariants(X1, 3, 2, &r);
				CHECK(r.sizes[0] == 2 && r.sizes[1] == 1);
				p.k = 3;
				CHECK_EQ_INT(ecore_kmeans_fit(X2, 7, 2, &p, &env, &r), ECORE_OK);
				check_result_invariants(X2, 7, 2, &r);
				for (j = 0; j < 3; j++)
					CHECK(r.sizes[j] > 0);
			}
	arena_reset(&g_arena);
}

/*
 * Magnitudes small but with squares still normal numbers cluster exactly
 * as ordinary ones: scaling by 2^-450 (exact in binary floating point)
 * gives the same labels, iterations and kept restart, and centroids,
 * distances and inertia scaled exactly, for both algorithms and inits.
 */
static void
test_kmeans_scale_invariance(void)
{
	size_t		n = 1500,
				d = 2,
				i;
	double	   *X = make_blobs(n, d, 4, 20.0, 21, NULL);
	double	   *Y = malloc(n * d * sizeof(double));
	double	   *dist = malloc(n * sizeof(double));
	int32_t    *lab = malloc(n * sizeof(int32_t));
	double		cent[8],
				inertia;
	ecore_kmeans_params p;
	ecore_kmeans_result r;
	ecore_env	env;
	int			algo,
				init,
				iters,
				restart,
				same_lab,
				same_c,
				same_dist;

	for (i = 0; i < n * d; i++)
		Y[i] = ldexp(X[i], -450);
	for (algo = 0; algo < 2; algo++)
		for (init = 0; init < 2; init++)
		{
			env = make_env();
			ecore_kmeans_params_default(&p);
			p.k = 4;
			p.n_init = 3;
			p.seed = 5;
			p.algorithm = (ecore_kmeans_algorithm) algo;
			p.init = (ecore_kmeans_init) init;
			CHECK_EQ_INT(ecore_kmeans_fit(X, n, d, &p, &env, &r), ECORE_OK);
			memcpy(lab, r.labels, n * sizeof(int32_t));
			memcpy(dist, r.distances, n * sizeof(double));
			memcpy(cent, r.centroids, sizeof(cent));
			inertia = r.inertia;
			iters = r.iterations;
			restart = r.best_restart;
			CHECK_EQ_INT(ecore_kmeans_fit(Y, n, d, &p, &env, &r), ECORE_OK);
			same_lab = memcmp(lab, r.labels, n * sizeof(int32_t)) == 0;
			same_c = 1;
			for (i = 0; i < 8; i++)
				same_c &= (r.centroids[i] == ldexp(cent[i], -450));
			same_dist = 1;
			for (i = 0; i < n; i++)
				same_dist &= (r.distances[i] == ldexp(dist[i], -450));
			CHECK(same_lab);
			CHECK(same_c);
			CHECK(same_dist);
			CHECK(r.inertia == ldexp(inertia, -900));
			CHECK_EQ_INT(r.iterations, iters);
			CHECK_EQ_INT(r.best_restart, restart);
		}
	free(X);
	free(Y);
	free(dist);
	free(lab);
	arena_reset(&g_arena);
}

/* ECORE_EUNDERFLOW has its own message, in the style of the others. */
static void
test_strerror_underflow(void)
{
	const char *m = ecore_strerror(ECORE_EUNDERFLOW);
	int			a;

	CHECK(strcmp(m, "unknown error") != 0);
	CHECK(m[0] >= 'a' && m[0] <= 'z');
	CHECK(m[strlen(m) - 1] != '.');
	for (a = ECORE_OK; a < ECORE_EUNDERFLOW; a++)
		CHECK(strcmp(m, ecore_strerror(a)) != 0);
}

/* n_local_trials: 1 and many candidates work. */
static void
test_kmeans_local_trials(void)
{
	size_t		n = 2000;
	double	   *X = make_blobs(n, 2, 5, 30.0, 8, NULL);
	ecore_kmeans_params p;
	ecore_kmeans_result r;
	ecore_env	env = make_env();
	int			t;

	for (t = 1; t <= 9; t += 4)
	{
		ecore_kmeans_params_default(&p);
		p.k = 5;
		p.n_local_trials = t;
		CHECK_EQ_INT(ecore_kmeans_fit(X, n, 2, &p, &env, &r), ECORE_OK);
		check_result_invariants(X, n, 2, &r);
		arena_reset(&g_arena);
		env = make_env();
	}
	free(X);
}

/* The n_init kept restart has the lowest inertia of all. */
static void
test_kmeans_best_restart(void)
{
	size_t		n = 3000;
	double	   *X = make_blobs(n, 2, 12, 10.0, 9, NULL);
	ecore_kmeans_params p;
	ecore_kmeans_result r;
	ecore_env	env = make_env();
	double		best10,
				single;
	uint64_t	s;
	int			ok = 1;

	ecore_kmeans_params_default(&p);
	p.k = 8;
	p.n_init = 10;
	p.seed = 3;
	CHECK_EQ_INT(ecore_kmeans_fit(X, n, 2, &p, &env, &r), ECORE_OK);
	best10 = r.inertia;
	/* n_init = 1 with the same seed = restart 0 of the n_init = 10 fit */
	p.n_init = 1;
	for (s = 3; s < 4; s++)
	{
		CHECK_EQ_INT(ecore_kmeans_fit(X, n, 2, &p, &env, &r), ECORE_OK);
		single = r.inertia;
		if (best10 > single * (1 + 1e-12))
			ok = 0;
	}
	CHECK(ok);
	free(X);
	arena_reset(&g_arena);
}

/* Elbow: equals separate fits for every k. */
static void
test_kmeans_elbow(void)
{
	size_t		n = 2500;
	double	   *X = make_blobs(n, 3, 4, 12.0, 13, NULL);
	double		inertia[7];
	int			iters[7],
				k;
	ecore_kmeans_params p;
	ecore_kmeans_result r;
	ecore_env	env = make_env();
	size_t		bytes;

	ecore_kmeans_params_default(&p);
	p.n_init = 4;
	p.seed = 99;
	CHECK_EQ_INT(ecore_kmeans_elbow(X, n, 3, 7, &p, &env, inertia, iters), ECORE_OK);
	for (k = 1; k <= 7; k++)
	{
		arena_reset(&g_arena);
		env = make_env();
		p.k = k;
		CHECK_EQ_INT(ecore_kmeans_fit(X, n, 3, &p, &env, &r), ECORE_OK);
		CHECK(r.inertia == inertia[k - 1]);
		CHECK(r.iterations == iters[k - 1]);
	}
	CHECK(inertia[0] > inertia[3]);
	p.init = ECORE_INIT_USER;
	CHECK_EQ_INT(ecore_kmeans_elbow(X, n, 3, 7, &p, &env, inertia, NULL), ECORE_EINVAL_INIT);
	CHECK_EQ_INT(ecore_kmeans_elbow_bytes(n, 3, 7, &p, &bytes), ECORE_EINVAL_INIT);
	p.init = ECORE_INIT_RANDOM;
	CHECK_EQ_INT(ecore_kmeans_elbow(X, n, 3, 0, &p, &env, inertia, NULL), ECORE_EINVAL_K);
	CHECK_EQ_INT(ecore_kmeans_elbow(X, 3, 3, 7, &p, &env, inertia, NULL), ECORE_EINVAL_K);
	CHECK_EQ_INT(ecore_kmeans_elbow(X, n, 3, 7, &p, &env, NULL, NULL), ECORE_EINVAL_ARG);
	free(X);
	arena_reset(&g_arena);
}

/* ---------------------------------------------------------------------
 * Assign, inertia, silhouette
 * ---------------------------------------------------------------------
 */

/* Nearest centroid with ties to the lowest index. */
static void
test_assign(void)
{
	double		C[6] = {0, 0, 2, 0, 1, 5};
	double		X[8] = {1, 0, 1.9, 0, 1, 100, -3, 0};
	int32_t		lab[4];
	double		dist[4];
	ecore_env	env = make_env();

	CHECK_EQ_INT(ecore_kmeans_assign(X, 4, 2, C, 3, &env, lab, dist), ECORE_OK);
	CHECK(lab[0] == 0);			/* tie between 0 and 1: lowest */
	CHECK(lab[1] == 1 && lab[2] == 2 && lab[3] == 0);
	CHECK(dist[0] == 1.0 && dist[2] == 95.0 && dist[3] == 3.0);
	CHECK_CLOSE(dist[1], 0.1, 1e-12);
	CHECK_EQ_INT(ecore_kmeans_assign(X, 4, 2, C, 3, &env, lab, NULL), ECORE_OK);
	CHECK(lab[1] == 1);
	CHECK_EQ_INT(g_arena.count, 0);
	X[5] = NAN;
	CHECK_EQ_INT(ecore_kmeans_assign(X, 4, 2, C, 3, &env, lab, NULL), ECORE_ENONFINITE);
	CHECK_EQ_INT(env.error_row, 2);
	X[5] = 1;
	C[3] = INFINITY;
	CHECK_EQ_INT(ecore_kmeans_assign(X, 4, 2, C, 3, &env, lab, NULL), ECORE_EINIT_VALUE);
	CHECK_EQ_INT(env.error_row, 1);
	C[3] = 0;
	CHECK_EQ_INT(ecore_kmeans_assign(X, 4, 2, C, 0, &env, lab, NULL), ECORE_EINVAL_K);
	CHECK_EQ_INT(ecore_kmeans_assign(X, 4, 0, C, 3, &env, lab, NULL), ECORE_EINVAL_D);
	CHECK_EQ_INT(ecore_kmeans_assign(X, 4, 2, C, 3, &env, NULL, NULL), ECORE_EINVAL_ARG);
	CHECK_EQ_INT(ecore_kmeans_assign(X, 4, 2, C, 3, NULL, lab, NULL), ECORE_EINVAL_ENV);
	/* assign reproduces the fit's labels */
	{
		size_t		n = 1500;
		double	   *Y = make_blobs(n, 4, 5, 7.0, 41, NULL);
		int32_t    *l2 = malloc(n * sizeof(int32_t));
		ecore_kmeans_params p;
		ecore_kmeans_result r;

		ecore_kmeans_params_default(&p);
		p.k = 5;
		CHECK_EQ_INT(ecore_kmeans_fit(Y, n, 4, &p, &env, &r), ECORE_OK);
		CHECK_EQ_INT(ecore_kmeans_assign(Y, n, 4, r.centroids, 5, &env, l2, NULL), ECORE_OK);
		CHECK(memcmp(l2, r.labels, n * sizeof(int32_t)) == 0);
		free(Y);
		free(l2);
	}
	arena_reset(&g_arena);
}

/* ecore_kmeans_inertia on a given labelling. */
static void
test_inertia_fn(void)
{
	double		C[2] = {0, 10};
	double		X[4] = {1, 2, 9, 13};
	int32_t		lab[4] = {0, 0, 1, 1};
	double		ci[2],
				tot;
	int64_t		sz[2];
	ecore_env	env = make_env();

	CHECK_EQ_INT(ecore_kmeans_inertia(X, 4, 1, C, 2, lab, &env, &tot, ci, sz), ECORE_OK);
	CHECK(tot == 1 + 4 + 1 + 9);
	CHECK(ci[0] == 5 && ci[1] == 10 && sz[0] == 2 && sz[1] == 2);
	lab[1] = 1;					/* any labelling, not only nearest */
	CHECK_EQ_INT(ecore_kmeans_inertia(X, 4, 1, C, 2, lab, &env, &tot, NULL, NULL), ECORE_OK);
	CHECK(tot == 1 + 64 + 1 + 9);
	lab[2] = 2;
	CHECK_EQ_INT(ecore_kmeans_inertia(X, 4, 1, C, 2, lab, &env, &tot, NULL, NULL), ECORE_EINVAL_ARG);
	CHECK_EQ_INT(env.error_row, 2);
	lab[2] = -1;
	CHECK_EQ_INT(ecore_kmeans_inertia(X, 4, 1, C, 2, lab, &env, &tot, NULL, NULL), ECORE_EINVAL_ARG);
	CHECK_EQ_INT(ecore_kmeans_inertia(X, 4, 1, C, 2, NULL, &env, &tot, NULL, NULL), ECORE_EINVAL_ARG);
	arena_reset(&g_arena);
}

/* Simplified silhouette: hand values, k = 1 NaN, given labels. */
static void
test_silhouette(void)
{
	double		C[2] = {0.5, 3};
	double		X[3] = {0, 1, 3};
	double		Cd[2] = {4, 4};
	int32_t		lab[3] = {0, 0, 1};
	int32_t		wrong[3] = {1, 0, 1};
	double		s,
				pp[3],
				e0 = (3 - 0.5) / 3,
				e1 = (2 - 0.5) / 2,
				e2 = 1.0;
	ecore_env	env = make_env();

	CHECK_EQ_INT(ecore_silhouette_simplified(X, 3, 1, C, 2, NULL, &env, &s, pp), ECORE_OK);
	CHECK_CLOSE(pp[0], e0, 1e-15);
	CHECK_CLOSE(pp[1], e1, 1e-15);
	CHECK_CLOSE(pp[2], e2, 1e-15);
	CHECK_CLOSE(s, (e0 + e1 + e2) / 3, 1e-15);
	CHECK_EQ_INT(ecore_silhouette_simplified(X, 3, 1, C, 2, lab, &env, &s, NULL), ECORE_OK);
	CHECK_CLOSE(s, (e0 + e1 + e2) / 3, 1e-15);
	/* point 0 labelled with the far centroid: negative */
	CHECK_EQ_INT(ecore_silhouette_simplified(X, 3, 1, C, 2, wrong, &env, &s, pp), ECORE_OK);
	CHECK_CLOSE(pp[0], (0.5 - 3.0) / 3.0, 1e-15);
	/* k = 1: undefined */
	CHECK_EQ_INT(ecore_silhouette_simplified(X, 3, 1, C, 1, NULL, &env, &s, pp), ECORE_OK);
	CHECK(isnan(s) && isnan(pp[0]));
	/* max(a, b) = 0: s = 0 (a point on two identical centroids) */
	X[0] = 4;
	CHECK_EQ_INT(ecore_silhouette_simplified(X, 1, 1, Cd, 2, NULL, &env, &s, pp), ECORE_OK);
	CHECK(s == 0.0 && pp[0] == 0.0);
	lab[0] = 5;
	CHECK_EQ_INT(ecore_silhouette_simplified(X, 3, 1, C, 2, lab, &env, &s, NULL), ECORE_EINVAL_ARG);
	CHECK_EQ_INT(ecore_silhouette_simplified(X, 3, 1, C, 2, NULL, &env, NULL, NULL), ECORE_EINVAL_ARG);
	CHECK_EQ_INT(g_arena.count, 0);
	arena_reset(&g_arena);
}

/* ---------------------------------------------------------------------
 * Interrupts
 * ---------------------------------------------------------------------
 */

/* The check callback is called per chunk and per iteration. */
static void
test_interrupt_calls(void)
{
	size_t		n = 3 * ECORE_CHECK_CHUNK + 1;
	double	   *X = make_blobs(n, 2, 3, 10, 3, NULL);
	int32_t    *lab = malloc(n * sizeof(int32_t));
	double		s,
				inertia[3];
	ecore_kmeans_params p;
	ecore_kmeans_result r;
	ecore_scaler sc;
	ecore_env	env = make_env();

	CHECK_EQ_INT(ecore_validate_points(X, n, 2, &env), ECORE_OK);
	CHECK_EQ_INT(g_check.calls, 4);
	g_check.calls = 0;
	CHECK_EQ_INT(ecore_kmeans_assign(X, n, 2, X, 3, &env, lab, NULL), ECORE_OK);
	CHECK_EQ_INT(g_check.calls, 8);	/* validation + assignment */
	g_check.calls = 0;
	CHECK_EQ_INT(ecore_silhouette_simplified(X, n, 2, X, 3, lab, &env, &s, NULL), ECORE_OK);
	CHECK_EQ_INT(g_check.calls, 8);
	g_check.calls = 0;
	CHECK_EQ_INT(ecore_scaler_init(&sc, ECORE_SCALE_ZSCORE, 2, &env), ECORE_OK);
	CHECK_EQ_INT(ecore_scaler_fit(&sc, X, n, &env), ECORE_OK);
	/* validation, min/max, then 2 passes x 2 columns x 2 blocks of 8192 */
	CHECK_EQ_INT(g_check.calls, 16);
	g_check.calls = 0;
	CHECK_EQ_INT(ecore_scaler_transform(&sc, X, n, X, &env), ECORE_OK);
	CHECK_EQ_INT(g_check.calls, 8);
	g_check.calls = 0;
	ecore_kmeans_params_default(&p);
	p.k = 3;
	p.n_init = 2;
	p.tol = 0;
	CHECK_EQ_INT(ecore_kmeans_fit(X, n, 2, &p, &env, &r), ECORE_OK);
	/* at least: 4 per O(n) pass and once per iteration of each restart */
	CHECK(g_check.calls >= 4 * (long) (r.iterations + 6) + r.iterations);
	g_check.calls = 0;
	CHECK_EQ_INT(ecore_kmeans_elbow(X, n, 2, 3, &p, &env, inertia, NULL), ECORE_OK);
	CHECK(g_check.calls > 40);
	/* without a callback nothing breaks */
	env.check = NULL;
	CHECK_EQ_INT(ecore_kmeans_fit(X, n, 2, &p, &env, &r), ECORE_OK);
	free(lab);
	free(X);
	arena_reset(&g_arena);
}

/* A longjmp out of the callback (CHECK_FOR_INTERRUPTS) at any point. */
static void
test_interrupt_longjmp(void)
{
	size_t		n = 5 * ECORE_CHECK_CHUNK;
	double	   *X = make_blobs(n, 3, 4, 10, 4, NULL);
	ecore_kmeans_params p;
	ecore_kmeans_result r;
	ecore_env	env;
	jmp_buf		jb;
	long		at,
				total_calls;
	volatile int jumped = 0,
				completed = 0;

	env = make_env();
	ecore_kmeans_params_default(&p);
	p.k = 4;
	p.n_init = 2;
	CHECK_EQ_INT(ecore_kmeans_fit(X, n, 3, &p, &env, &r), ECORE_OK);
	total_calls = g_check.calls;
	arena_reset(&g_arena);
	for (at = 1; at <= total_calls; at += 7)
	{
		env = make_env();
		g_check.env = &jb;
		g_check.jump_at = at;
		if (setjmp(jb) == 0)
		{
			if (ecore_kmeans_fit(X, n, 3, &p, &env, &r) == ECORE_OK)
				completed++;
		}
		else
			jumped++;
		/* the caller frees the memory: nothing else to release */
		arena_reset(&g_arena);
	}
	CHECK(jumped > 10);
	CHECK(completed == 0);
	/* a fit after interrupted ones is unaffected */
	env = make_env();
	CHECK_EQ_INT(ecore_kmeans_fit(X, n, 3, &p, &env, &r), ECORE_OK);
	check_result_invariants(X, n, 3, &r);
	arena_reset(&g_arena);
	free(X);
}

/* ---------------------------------------------------------------------
 * knee.c
 * ---------------------------------------------------------------------
 */

/* One Kneedle call; returns the index or -99 on error. */
static long
knee_of(const double *x, const double *y, size_t n, double S,
		ecore_knee_curve c, ecore_knee_direction dir)
{
	long		k = -77;

	if (ecore_knee_locate(x, y, n, S, c, dir, &k) != ECORE_OK)
		return -99;
	return k;
}

/* Hand-made curves; expected values from kneed's algorithm (reference). */
static void
test_knee_curves(void)
{
	double		x10[10] = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10};
	double		elbow[10] = {100, 50, 30, 25, 22, 20, 19, 18, 17.5, 17};
	double		line[5] = {5, 4, 3, 2, 1};
	double		cst[4] = {3, 3, 3, 3};
	double		two[2] = {10, 1};
	double		cdec[8] = {100, 99, 97, 93, 85, 70, 45, 0};
	double		bump[9] = {100, 60, 55, 54, 30, 28, 27, 26, 25};
	double		inc[6] = {1, 2, 3, 4, 5, 6};
	double		x0[10] = {0, 1, 2, 3, 4, 5, 6, 7, 8, 9};
	double		readme_inc[10] = {1, 2, 3, 4, 5, 6, 7, 8, 20, 40};
	double		readme_dec[19] = {7342.1301373073857, 6881.7109460930769,
		6531.1657905495022, 6356.2255554679778, 6209.8382535595829,
		6094.9052166741121, 5980.0191582610196, 5880.1869867848218,
		5779.8957906367368, 5691.1879324562778, 5617.5153566271356,
		5532.2613232619951, 5467.352265375117, 5395.4493783888756,
		5345.3459908298091, 5290.6769823693812, 5243.5271656371888,
		5207.2501206569532, 5164.9617535255456};
	double		x19[19];
	int			i;

	for (i = 0; i < 19; i++)
		x19[i] = i + 1;
	/* classic elbow, four curve/direction combinations, S */
	CHECK_EQ_INT(knee_of(x10, elbow, 10, 1, ECORE_KNEE_CONVEX, ECORE_KNEE_DECREASING), 2);
	CHECK_EQ_INT(knee_of(x10, elbow, 10, 1, ECORE_KNEE_CONVEX, ECORE_KNEE_INCREASING), 9);
	CHECK_EQ_INT(knee_of(x10, elbow, 10, 1, ECORE_KNEE_CONCAVE, ECORE_KNEE_DECREASING), 9);
	CHECK_EQ_INT(knee_of(x10, elbow, 10, 1, ECORE_KNEE_CONCAVE, ECORE_KNEE_INCREASING), 0);
	CHECK_EQ_INT(knee_of(x10, elbow, 10, 3, ECORE_KNEE_CONVEX, ECORE_KNEE_DECREASING), 2);
	CHECK_EQ_INT(knee_of(x10, elbow, 10, 0, ECORE_KNEE_CONVEX, ECORE_KNEE_DECREASING), 2);
	/* no knee: straight line, constant, two points, wrong shape */
	CHECK_EQ_INT(knee_of(x10, line, 5, 1, ECORE_KNEE_CONVEX, ECORE_KNEE_DECREASING), -1);
	CHECK_EQ_INT(knee_of(x10, cst, 4, 1, ECORE_KNEE_CONVEX, ECORE_KNEE_DECREASING), -1);
	CHECK_EQ_INT(knee_of(x10, cst, 4, 1, ECORE_KNEE_CONCAVE, ECORE_KNEE_INCREASING), -1);
	CHECK_EQ_INT(knee_of(x10, two, 2, 1, ECORE_KNEE_CONVEX, ECORE_KNEE_DECREASING), -1);
	CHECK_EQ_INT(knee_of(x10, two, 1, 1, ECORE_KNEE_CONVEX, ECORE_KNEE_DECREASING), -1);
	CHECK_EQ_INT(knee_of(x10, inc, 6, 1, ECORE_KNEE_CONCAVE, ECORE_KNEE_INCREASING), -1);
	/* knee at index 0 (maximum of the difference curve at the start) */
	CHECK_EQ_INT(knee_of(x10, cdec, 8, 1, ECORE_KNEE_CONVEX, ECORE_KNEE_DECREASING), 0);
	CHECK_EQ_INT(knee_of(x10, cdec, 8, 1, ECORE_KNEE_CONCAVE, ECORE_KNEE_DECREASING), 4);
	CHECK_EQ_INT(knee_of(x10, inc, 6, 1, ECORE_KNEE_CONVEX, ECORE_KNEE_DECREASING), 0);
	/* two local maxima: S decides which one */
	CHECK_EQ_INT(knee_of(x10, bump, 9, 1, ECORE_KNEE_CONVEX, ECORE_KNEE_DECREASING), 1);
	CHECK_EQ_INT(knee_of(x10, bump, 9, 3, ECORE_KNEE_CONVEX, ECORE_KNEE_DECREASING), 4);
	/* kneed's README examples: elbow x = 5, knee x = 7 */
	CHECK_EQ_INT(knee_of(x19, readme_dec, 19, 1, ECORE_KNEE_CONVEX, ECORE_KNEE_DECREASING), 4);
	CHECK_EQ_INT(knee_of(x0, readme_inc, 10, 1, ECORE_KNEE_CONVEX, ECORE_KNEE_INCREASING), 7);
}

/* Knee errors and the elbow convenience. */
static void
test_knee_errors_elbow(void)
{
	double		x[4] = {1, 2, 2, 4};
	double		y[4] = {9, 3, 2, 1};
	double		elbow[10] = {100, 50, 30, 25, 22, 20, 19, 18, 17.5, 17};
	long		k = 0;

	CHECK_EQ_INT(ecore_knee_locate(x, y, 4, 1, ECORE_KNEE_CONVEX, ECORE_KNEE_DECREASING, &k), ECORE_EINVAL_CURVE);
	x[2] = 3;
	y[1] = NAN;
	CHECK_EQ_INT(ecore_knee_locate(x, y, 4, 1, ECORE_KNEE_CONVEX, ECORE_KNEE_DECREASING, &k), ECORE_EINVAL_CURVE);
	y[1] = 3;
	x[0] = -INFINITY;
	CHECK_EQ_INT(ecore_knee_locate(x, y, 4, 1, ECORE_KNEE_CONVEX, ECORE_KNEE_DECREASING, &k), ECORE_EINVAL_CURVE);
	x[0] = 1;
	CHECK_EQ_INT(ecore_knee_locate(x, y, 4, NAN, ECORE_KNEE_CONVEX, ECORE_KNEE_DECREASING, &k), ECORE_EINVAL_ARG);
	CHECK_EQ_INT(ecore_knee_locate(x, y, 0, 1, ECORE_KNEE_CONVEX, ECORE_KNEE_DECREASING, &k), ECORE_EINVAL_N);
	CHECK_EQ_INT(ecore_knee_locate(x, y, 4, 1, (ecore_knee_curve) 3, ECORE_KNEE_DECREASING, &k), ECORE_EINVAL_ARG);
	CHECK_EQ_INT(ecore_knee_locate(x, y, 4, 1, ECORE_KNEE_CONVEX, (ecore_knee_direction) 3, &k), ECORE_EINVAL_ARG);
	CHECK_EQ_INT(ecore_knee_locate(NULL, y, 4, 1, ECORE_KNEE_CONVEX, ECORE_KNEE_DECREASING, &k), ECORE_EINVAL_ARG);
	CHECK_EQ_INT(ecore_knee_locate(x, y, 4, 1, ECORE_KNEE_CONVEX, ECORE_KNEE_DECREASING, &k), ECORE_OK);
	CHECK_EQ_INT(ecore_knee_elbow(elbow, 10, &k), ECORE_OK);
	CHECK_EQ_INT(k, 3);			/* index 2 = k 3 */
	CHECK_EQ_INT(ecore_knee_elbow(elbow, 2, &k), ECORE_OK);
	CHECK_EQ_INT(k, -1);
	CHECK_EQ_INT(ecore_knee_elbow(elbow, 1, &k), ECORE_OK);
	CHECK_EQ_INT(k, -1);
	CHECK_EQ_INT(ecore_knee_elbow(NULL, 3, &k), ECORE_EINVAL_ARG);
	CHECK_EQ_INT(ecore_knee_elbow(elbow, 0, &k), ECORE_EINVAL_N);
}

/* ---------------------------------------------------------------------
 * Runner
 * ---------------------------------------------------------------------
 */

static const test_case tests[] = {
	TEST(test_rng_streams),
	TEST(test_rng_ranges),
	TEST(test_strerror),
	TEST(test_validate_points),
	TEST(test_scale_zscore_basic),
	TEST(test_scale_zscore_numerics),
	TEST(test_scale_zscore_near_constant),
	TEST(test_scale_minmax),
	TEST(test_scale_none_inplace),
	TEST(test_scale_errors),
	TEST(test_option_names),
	TEST(test_kmeans_params),
	TEST(test_kmeans_bad_values),
	TEST(test_kmeans_distinct),
	TEST(test_kmeans_memory_accounting),
	TEST(test_kmeans_tiny),
	TEST(test_kmeans_k1_identical),
	TEST(test_kmeans_k_equals_n),
	TEST(test_kmeans_empty_relocation),
	TEST(test_kmeans_stopping),
	TEST(test_kmeans_determinism),
	TEST(test_kmeans_threads),
	TEST(test_kmeans_hamerly_equals_lloyd),
	TEST(test_kmeans_vs_reference_lloyd),
	TEST(test_kmeans_recovers_blobs),
	TEST(test_kmeans_relabel_order),
	TEST(test_kmeans_random_init_duplicates),
	TEST(test_kmeans_tiny_values),
	TEST(test_kmeans_underflow_span),
	TEST(test_kmeans_underflow_mixed),
	TEST(test_kmeans_scale_invariance),
	TEST(test_strerror_underflow),
	TEST(test_kmeans_local_trials),
	TEST(test_kmeans_best_restart),
	TEST(test_kmeans_elbow),
	TEST(test_assign),
	TEST(test_inertia_fn),
	TEST(test_silhouette),
	TEST(test_interrupt_calls),
	TEST(test_interrupt_longjmp),
	TEST(test_knee_curves),
	TEST(test_knee_errors_elbow),
};

/* Free what a test case allocated. */
static void
after_test(void)
{
	arena_reset(&g_arena);
}

/* Run every test (or those whose name contains an argument). */
int
main(int argc, char **argv)
{
	arena_reset(&g_arena);
	return run_test_cases(tests, TEST_COUNT(tests), argc, argv, after_test);
}
