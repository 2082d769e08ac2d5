/*-------------------------------------------------------------------------
 *
 * test_kmeans_lloyd.c
 *	  Unit tests of the Lloyd iterations of engage's K-means
 *	  (src/core/kmeans_lloyd.c), through ecore_kmeans_fit: the
 *	  relocation of empty clusters, the stopping rules, Hamerly equal
 *	  to plain Lloyd bit for bit, and both against an independent
 *	  textbook Lloyd (ref_lloyd).
 *
 * Copyright (c) 2026, engage developers
 *
 *-------------------------------------------------------------------------
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "core/kmeans.h"
#include "harness.h"
#include "test_core.h"

/* ---------------------------------------------------------------------
 * Reference implementation (the test's own)
 * ---------------------------------------------------------------------
 */

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

/* ---------------------------------------------------------------------
 * K-means: Lloyd iterations
 * ---------------------------------------------------------------------
 */

/* Empty cluster relocation: single, several, and the keep-one rule. */
void
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
void
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

/* Hamerly and plain Lloyd give identical results, many shapes. */
void
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
void
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
