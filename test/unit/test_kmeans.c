/*-------------------------------------------------------------------------
 *
 * test_kmeans.c
 *	  Unit tests of engage's K-means fit and elbow (src/core/kmeans.c):
 *	  parameters and their errors, bad values, the single allocation,
 *	  hand-computed fits, determinism, threads, recovered blobs, the
 *	  relabelling, points too close together for their squared
 *	  distances (ECORE_EUNDERFLOW) and scale invariance, the kept
 *	  restart and the elbow.
 *
 * Seeding is tested in test_kmeans_seed.c, the Lloyd iterations in
 * test_kmeans_lloyd.c, assign/inertia/silhouette in test_kmeans_eval.c.
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
#include "core/scale.h"
#include "harness.h"
#include "test_core.h"

/* ---------------------------------------------------------------------
 * K-means: parameters, errors, memory
 * ---------------------------------------------------------------------
 */

/* Defaults and every parameter error, from bytes() and fit() alike. */
void
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
void
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

/* Memory: exactly one request of exactly the announced size; ENOMEM. */
void
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
void
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
void
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

/* Same seed, same result (bit for bit); seeds differ in restarts. */
void
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
void
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

/* Well separated blobs are recovered exactly. */
void
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
void
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

/*
 * Points whose differences are too small to square (a user's report:
 * 1e-300 * {0, 1, 2, 10, 11, 12}, k = 2, which gave an empty cluster and
 * inertia 0).  Every normalisation leaves them tiny (zscore and minmax
 * treat such a feature as constant, as scikit-learn does), and the fit,
 * whatever the algorithm, initialisation and threads, fails with
 * ECORE_EUNDERFLOW; so does the elbow.  bytes() cannot see the data and
 * succeeds; k = 1 needs no distance and works.
 */
void
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
void
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
void
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

/* The n_init kept restart has the lowest inertia of all. */
void
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
void
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
