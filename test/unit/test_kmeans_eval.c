/*-------------------------------------------------------------------------
 *
 * test_kmeans_eval.c
 *	  Unit tests of the K-means functions on given centroids
 *	  (src/core/kmeans_eval.c): assignment, inertia of a labelling and
 *	  the simplified silhouette.
 *
 * Copyright (c) 2026, engage developers
 *
 *-------------------------------------------------------------------------
 */
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "core/kmeans.h"
#include "harness.h"
#include "test_core.h"

/* ---------------------------------------------------------------------
 * Assign, inertia, silhouette
 * ---------------------------------------------------------------------
 */

/* Nearest centroid with ties to the lowest index. */
void
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
void
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
void
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
