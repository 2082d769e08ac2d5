/*-------------------------------------------------------------------------
 *
 * test_kmeans_seed.c
 *	  Unit tests of the seeding of engage's K-means restarts
 *	  (src/core/kmeans_seed.c), through ecore_kmeans_fit: the
 *	  distinct-point check, k = n, 'random' with heavy duplicates, a
 *	  potential that underflows, and k-means++'s n_local_trials.
 *
 * Copyright (c) 2026, engage developers
 *
 *-------------------------------------------------------------------------
 */
#include <stdint.h>
#include <stdlib.h>

#include "core/kmeans.h"
#include "harness.h"
#include "test_core.h"

/* ---------------------------------------------------------------------
 * K-means: seeding
 * ---------------------------------------------------------------------
 */

/* Fewer distinct points than k (-0.0 equals 0.0). */
void
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

/* k = n: every point its own cluster, inertia 0. */
void
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

/* Random init with heavy duplicates still finds k distinct seeds. */
void
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
void
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

/* n_local_trials: 1 and many candidates work. */
void
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
