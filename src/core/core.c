/*-------------------------------------------------------------------------
 *
 * core.c
 *	  What every part of engage's numerical core shares (see core.h): the
 *	  messages of the status codes, option-name matching, and the
 *	  validation of points (finite, magnitude at most ECORE_MAX_ABS).
 *
 * Copyright (c) 2026, engage developers
 *
 *-------------------------------------------------------------------------
 */
#include "core.h"

#include <math.h>

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
		case ECORE_EUNDERFLOW:
			return "points too close together: their squared distances underflow (differences below about 1e-150)";
		case ECORE_ENEGATIVE:
			return "negative value: the log normalization needs values >= 0";
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

/* Check one row of d values (see core.h). */
int
ecore_check_row(const double *x, size_t d, double limit, size_t *col)
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
		end = ECORE_CHUNK_END(start, n);
		ECORE_CHECK(env);
		for (i = start; i < end; i++)
		{
			rc = ecore_check_row(X + i * d, d, ECORE_MAX_ABS, &col);
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
