/*-------------------------------------------------------------------------
 *
 * kmeans_scores.c
 *	  Quality indexes of a clustering (see kmeans.h): the Davies-Bouldin
 *	  and Calinski-Harabasz indexes of a labelling, as scikit-learn's
 *	  davies_bouldin_score and calinski_harabasz_score define them.
 *
 * Both start from the means of the clusters that the labels make (not
 * from given centroids, which a fit stopped by its tolerance leaves a
 * little off them) and of all points; sums are compensated (Neumaier), so
 * that they are accurate to a few units in the last place whatever n.
 * Two passes over the points, O(n d + k^2 d): no allocation but the
 * caller's work space (ecore_cluster_scores_work).
 *
 * Copyright (c) 2026, engage developers
 *
 *-------------------------------------------------------------------------
 */
#include "kmeans_internal.h"

/* Add v to the compensated sum (*s, *c) (Neumaier's variant of Kahan's) */
static inline void
sco_add(double *s, double *c, double v)
{
	double		t = *s + v;

	if (fabs(*s) >= fabs(v))
		*c += (*s - t) + v;
	else
		*c += (v - t) + *s;
	*s = t;
}

/* Doubles of work space of ecore_cluster_scores (see kmeans.h). */
int
ecore_cluster_scores_work(int k, size_t d, size_t *doubles)
{
	size_t		kk;

	if (doubles == NULL)
		return ECORE_EINVAL_ARG;
	if (k < 1)
		return ECORE_EINVAL_K;
	if (d < 1)
		return ECORE_EINVAL_D;
	kk = (size_t) k;
	/* 2 k d + 2 d + 4 k, without overflow */
	if (d > (SIZE_MAX / 8 - 4 * kk) / (2 * kk + 2))
		return ECORE_EOVERFLOW;
	*doubles = 2 * kk * d + 2 * d + 4 * kk;
	return ECORE_OK;
}

/* Davies-Bouldin and Calinski-Harabasz of a labelling (see kmeans.h). */
int
ecore_cluster_scores(const double *X, size_t n, size_t d,
					  const int32_t *labels, int k, double *work,
					  ecore_env *env, double *davies_bouldin,
					  double *calinski_harabasz)
{
	double	   *mean_k,			/* k x d: cluster sums, then means */
			   *comp_k,			/* k x d: their compensations */
			   *mean,			/* d: sum of all points, then mean */
			   *comp,			/* d */
			   *count,			/* k: points per cluster */
			   *dist,			/* k: sum of distances to the mean */
			   *dcomp,			/* k */
			   *intra;			/* k: mean distance (DB's s_i) */
	double		intra_disp = 0.0,
				intra_c = 0.0,
				extra_disp = 0.0,
				nd = (double) n;
	size_t		start,
				end,
				i,
				j,
				labelled = 0;
	int			c,
				c2,
				rc;
	int			all_small_intra,
				all_small_dist;
	double		db_sum = 0.0;

	if (env == NULL)
		return ECORE_EINVAL_ENV;
	if (X == NULL || labels == NULL || work == NULL ||
		davies_bouldin == NULL || calinski_harabasz == NULL)
		return ECORE_EINVAL_ARG;
	if (n < 1)
		return ECORE_EINVAL_N;
	if (d < 1)
		return ECORE_EINVAL_D;
	if (k < 1)
		return ECORE_EINVAL_K;
	rc = ecore_validate_points(X, n, d, env);
	if (rc != ECORE_OK)
		return rc;
	for (i = 0; i < n; i++)
		if (labels[i] < 0 || labels[i] >= k)
		{
			env->error_row = i;
			return ECORE_EINVAL_ARG;
		}

	mean_k = work;
	comp_k = mean_k + (size_t) k * d;
	mean = comp_k + (size_t) k * d;
	comp = mean + d;
	count = comp + d;
	dist = count + k;
	dcomp = dist + k;
	intra = dcomp + k;
	memset(work, 0, (2 * (size_t) k * d + 2 * d + 4 * (size_t) k) * sizeof(double));

	/* pass 1: the sums of every cluster and of all points */
	for (start = 0; start < n; start = end)
	{
		end = ECORE_CHUNK_END(start, n);
		ECORE_CHECK(env);
		for (i = start; i < end; i++)
		{
			const double *x = X + i * d;
			size_t		o = (size_t) labels[i] * d;

			count[labels[i]] += 1.0;
			for (j = 0; j < d; j++)
			{
				sco_add(&mean_k[o + j], &comp_k[o + j], x[j]);
				sco_add(&mean[j], &comp[j], x[j]);
			}
		}
	}
	for (j = 0; j < d; j++)
		mean[j] = (mean[j] + comp[j]) / nd;
	for (c = 0; c < k; c++)
	{
		if (count[c] == 0.0)
			continue;
		labelled++;
		for (j = 0; j < d; j++)
		{
			size_t		o = (size_t) c * d + j;

			mean_k[o] = (mean_k[o] + comp_k[o]) / count[c];
		}
	}

	/* scikit-learn's check_number_of_labels: 2 <= labels < n, else undefined */
	if (labelled < 2 || labelled >= n)
	{
		*davies_bouldin = NAN;
		*calinski_harabasz = NAN;
		return ECORE_OK;
	}

	/* pass 2: squared distances (CH) and distances (DB) to the own mean */
	for (start = 0; start < n; start = end)
	{
		end = ECORE_CHUNK_END(start, n);
		ECORE_CHECK(env);
		for (i = start; i < end; i++)
		{
			double		q = sqdist(X + i * d, mean_k + (size_t) labels[i] * d, d);

			sco_add(&intra_disp, &intra_c, q);
			sco_add(&dist[labels[i]], &dcomp[labels[i]], sqrt(q));
		}
	}
	intra_disp += intra_c;

	/* Calinski-Harabasz */
	for (c = 0; c < k; c++)
		if (count[c] > 0.0)
			extra_disp += count[c] * sqdist(mean_k + (size_t) c * d, mean, d);
	*calinski_harabasz = intra_disp == 0.0 ? 1.0 :
		extra_disp * (nd - (double) labelled) /
		(intra_disp * ((double) labelled - 1.0));

	/*
	 * Davies-Bouldin: the mean over the clusters of the largest (s_i + s_j)
	 * / d_ij; 0 when every s_i or every d_ij is within 1e-8 of 0
	 * (np.allclose), and a pair of equal means counts as infinitely far
	 */
	all_small_intra = 1;
	for (c = 0; c < k; c++)
		if (count[c] > 0.0)
		{
			intra[c] = (dist[c] + dcomp[c]) / count[c];
			if (!(intra[c] <= 1e-8))
				all_small_intra = 0;
		}
	all_small_dist = 1;
	for (c = 0; c < k && all_small_dist; c++)
	{
		if (count[c] == 0.0)
			continue;
		ECORE_CHECK(env);
		for (c2 = c + 1; c2 < k; c2++)
			if (count[c2] > 0.0 &&
				!(sqrt(sqdist(mean_k + (size_t) c * d, mean_k + (size_t) c2 * d, d)) <= 1e-8))
			{
				all_small_dist = 0;
				break;
			}
	}
	if (all_small_intra || all_small_dist)
	{
		*davies_bouldin = 0.0;
		return ECORE_OK;
	}
	for (c = 0; c < k; c++)
	{
		double		worst = 0.0;

		if (count[c] == 0.0)
			continue;
		ECORE_CHECK(env);
		for (c2 = 0; c2 < k; c2++)
		{
			double		dij,
						r;

			if (c2 == c || count[c2] == 0.0)
				continue;
			dij = sqrt(sqdist(mean_k + (size_t) c * d, mean_k + (size_t) c2 * d, d));
			if (dij == 0.0)
				continue;		/* infinitely far: a ratio of 0 */
			r = (intra[c] + intra[c2]) / dij;
			if (r > worst)
				worst = r;
		}
		db_sum += worst;
	}
	*davies_bouldin = db_sum / (double) labelled;
	return ECORE_OK;
}
