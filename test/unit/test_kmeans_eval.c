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

/* Davies-Bouldin and Calinski-Harabasz: hand values, undefined cases, errors. */
void
test_cluster_scores(void)
{
	/* 1-D: {0, 2} and {10, 12}: means 1 and 11, all 6; s = 1, d = 10 */
	double		X[4] = {0, 2, 10, 12};
	int32_t		L[4] = {0, 0, 1, 1};
	int32_t		L3[4] = {0, 0, 2, 2};	/* cluster 1 empty */
	int32_t		Lbad[4] = {0, 0, 1, 2};
	double		work[64];
	double		db,
				ch;
	size_t		w;
	ecore_env	env = make_env();
	/* 2-D, three clusters, checked against the formulas in long double */
	double		Y[12] = {0, 0, 1, 0, 5, 5, 6, 7, 0, 9, 1, 8};
	int32_t		M[6] = {0, 0, 1, 1, 2, 2};

	CHECK_EQ_INT(ecore_cluster_scores_work(2, 1, &w), ECORE_OK);
	CHECK_EQ_INT(w, 2 * 2 + 2 + 4 * 2);
	CHECK_EQ_INT(ecore_cluster_scores(X, 4, 1, L, 2, work, &env, &db, &ch), ECORE_OK);
	CHECK(db == 0.2);
	CHECK(ch == 50.0);			/* B = 100, W = 4: 100 * 2 / (4 * 1) */
	/* an empty cluster does not count */
	CHECK_EQ_INT(ecore_cluster_scores(X, 4, 1, L3, 3, work, &env, &db, &ch), ECORE_OK);
	CHECK(db == 0.2 && ch == 50.0);
	/* one cluster, or as many as points: undefined (NaN) */
	memset(L3, 0, sizeof(L3));
	CHECK_EQ_INT(ecore_cluster_scores(X, 4, 1, L3, 1, work, &env, &db, &ch), ECORE_OK);
	CHECK(isnan(db) && isnan(ch));
	{
		int32_t		Lall[4] = {0, 1, 2, 3};

		CHECK_EQ_INT(ecore_cluster_scores(X, 4, 1, Lall, 4, work, &env, &db, &ch), ECORE_OK);
		CHECK(isnan(db) && isnan(ch));
	}
	Lbad[3] = 3;
	/* a label out of range */
	CHECK_EQ_INT(ecore_cluster_scores(X, 4, 1, Lbad, 3, work, &env, &db, &ch), ECORE_EINVAL_ARG);
	CHECK_EQ_INT(env.error_row, 3);
	/* zero within-cluster spread: DB 0, CH 1 */
	{
		double		E[4] = {1, 1, 3, 3};

		CHECK_EQ_INT(ecore_cluster_scores(E, 4, 1, L, 2, work, &env, &db, &ch), ECORE_OK);
		CHECK(db == 0.0 && ch == 1.0);
	}
	/* three 2-D clusters */
	{
		long double mk[3][2] = {{0.5L, 0}, {5.5L, 6}, {0.5L, 8.5L}},
					m[2] = {13.0L / 6, 29.0L / 6},
					s[3],
					B = 0,
					W = 0,
					dbl = 0;
		int			i,
					j;

		for (i = 0; i < 3; i++)
		{
			s[i] = 0;
			for (j = 0; j < 2; j++)
			{
				long double dx = Y[4 * i + 2 * j] - mk[i][0],
							dy = Y[4 * i + 2 * j + 1] - mk[i][1];

				s[i] += sqrtl(dx * dx + dy * dy) / 2;
				W += dx * dx + dy * dy;
			}
			B += 2 * ((mk[i][0] - m[0]) * (mk[i][0] - m[0]) + (mk[i][1] - m[1]) * (mk[i][1] - m[1]));
		}
		for (i = 0; i < 3; i++)
		{
			long double worst = 0;

			for (j = 0; j < 3; j++)
			{
				long double dij;

				if (j == i)
					continue;
				dij = sqrtl((mk[i][0] - mk[j][0]) * (mk[i][0] - mk[j][0]) +
							(mk[i][1] - mk[j][1]) * (mk[i][1] - mk[j][1]));
				if ((s[i] + s[j]) / dij > worst)
					worst = (s[i] + s[j]) / dij;
			}
			dbl += worst / 3;
		}
		CHECK_EQ_INT(ecore_cluster_scores(Y, 6, 2, M, 3, work, &env, &db, &ch), ECORE_OK);
		CHECK_CLOSE(db, (double) dbl, 1e-14);
		CHECK_CLOSE(ch, (double) (B * 3 / (W * 2)), 1e-14);
	}
	CHECK_EQ_INT(ecore_cluster_scores(NULL, 4, 1, L, 2, work, &env, &db, &ch), ECORE_EINVAL_ARG);
	CHECK_EQ_INT(ecore_cluster_scores(X, 4, 1, L, 0, work, &env, &db, &ch), ECORE_EINVAL_K);
	CHECK_EQ_INT(ecore_cluster_scores_work(0, 1, &w), ECORE_EINVAL_K);
	CHECK_EQ_INT(ecore_cluster_scores_work(2, SIZE_MAX / 4, &w), ECORE_EOVERFLOW);
	X[2] = NAN;
	CHECK_EQ_INT(ecore_cluster_scores(X, 4, 1, L, 2, work, &env, &db, &ch), ECORE_ENONFINITE);
	arena_reset(&g_arena);
}
