/*-------------------------------------------------------------------------
 *
 * test_helpers.c
 *	  What the unit tests of engage's numerical core (test_core and its
 *	  test_*.c) share: the counting test allocator, the interrupt
 *	  callback and the environment on them (make_env), generated data
 *	  (Gaussian blobs), the test's own distance functions and the
 *	  invariants every K-means result must satisfy.
 *
 * Copyright (c) 2026, engage developers
 *
 *-------------------------------------------------------------------------
 */
#include <math.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "core/kmeans.h"
#include "core/rng.h"
#include "harness.h"
#include "test_core.h"

/* ---------------------------------------------------------------------
 * Test allocator (counting arena) and interrupt callbacks
 * ---------------------------------------------------------------------
 */

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
void
arena_reset(test_arena *a)
{
	int			i;

	for (i = 0; i < a->count; i++)
		free(a->blocks[i]);
	memset(a, 0, sizeof(*a));
	a->fail_after = -1;
}

/* Interrupt callback: counts, longjmps out when asked. */
static void
check_cb(void *arg)
{
	test_check *t = (test_check *) arg;

	t->calls++;
	if (t->jump_at > 0 && t->calls >= t->jump_at)
		longjmp(*t->env, 1);
}

/* The arena and check counter of the test case being run (make_env). */
test_arena	g_arena;
test_check	g_check;

/* A fresh environment on the global arena and check counter. */
ecore_env
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
double *
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
double
ref_sqdist(const double *a, const double *b, size_t d)
{
	double		s = 0.0;
	size_t		j;

	for (j = 0; j < d; j++)
		s += (a[j] - b[j]) * (a[j] - b[j]);
	return s;
}

/* Nearest of k centroids, lowest index on ties (test's own). */
int
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
void
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
