/*-------------------------------------------------------------------------
 *
 * kmeans_eval.c
 *	  K-means functions on given centroids (see kmeans.h): assignment of
 *	  points to their nearest centroid, inertia of a labelling, and the
 *	  simplified (centroid-based) silhouette.  None allocates.
 *
 * Copyright (c) 2026, engage developers
 *
 *-------------------------------------------------------------------------
 */
#include "kmeans_internal.h"

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
		end = ECORE_CHUNK_END(start, n);
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
	rc = km_validate_centroids(C, k, d, env);
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

		end = ECORE_CHUNK_END(start, n);
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

		end = ECORE_CHUNK_END(start, n);
		ECORE_CHECK(env);
		KM_DISPATCH(d, acc = silhouette_impl(X, start, end, centroids, k, labels, per_point, D_));
		total += acc;
	}
	*score = total / (double) n;
	return ECORE_OK;
}
