/*-------------------------------------------------------------------------
 *
 * scale.c
 *	  Feature scaling of engage's numerical core (see scale.h): zscore as
 *	  scikit-learn's StandardScaler, minmax as MinMaxScaler, none.
 *
 * Copyright (c) 2026, engage developers
 *
 *-------------------------------------------------------------------------
 */
#include "scale.h"

#include <float.h>
#include <math.h>
#include <string.h>

/* Parse a method name. */
int
ecore_scale_method_parse(const char *name, ecore_scale_method *method)
{
	if (name == NULL || method == NULL)
		return ECORE_EINVAL_ARG;
	if (ecore_name_equal(name, "zscore"))
		*method = ECORE_SCALE_ZSCORE;
	else if (ecore_name_equal(name, "minmax"))
		*method = ECORE_SCALE_MINMAX;
	else if (ecore_name_equal(name, "none"))
		*method = ECORE_SCALE_NONE;
	else
		return ECORE_EINVAL_ARG;
	return ECORE_OK;
}

/* Name of a method. */
const char *
ecore_scale_method_name(ecore_scale_method method)
{
	switch (method)
	{
		case ECORE_SCALE_NONE:
			return "none";
		case ECORE_SCALE_ZSCORE:
			return "zscore";
		case ECORE_SCALE_MINMAX:
			return "minmax";
	}
	return NULL;
}

/* Is the method one of the enum values? */
static int
sc_valid_method(ecore_scale_method method)
{
	return method == ECORE_SCALE_NONE || method == ECORE_SCALE_ZSCORE ||
		method == ECORE_SCALE_MINMAX;
}

/* Bytes of the scaler arrays. */
int
ecore_scaler_bytes(size_t d, size_t *bytes)
{
	if (bytes == NULL)
		return ECORE_EINVAL_ARG;
	if (d < 1)
		return ECORE_EINVAL_D;
	if (d > SIZE_MAX / (6 * sizeof(double)))
		return ECORE_EOVERFLOW;
	*bytes = 6 * d * sizeof(double);
	return ECORE_OK;
}

/* Allocate the scaler arrays (one request). */
int
ecore_scaler_init(ecore_scaler *s, ecore_scale_method method, size_t d,
				   ecore_env *env)
{
	size_t		bytes = 0;
	size_t		j;
	double	   *base;
	int			rc;

	if (env == NULL || env->alloc == NULL)
		return ECORE_EINVAL_ENV;
	if (s == NULL || !sc_valid_method(method))
		return ECORE_EINVAL_ARG;
	rc = ecore_scaler_bytes(d, &bytes);
	if (rc != ECORE_OK)
		return rc;
	base = (double *) env->alloc(env->alloc_arg, bytes);
	if (base == NULL)
		return ECORE_ENOMEM;
	s->method = method;
	s->d = d;
	s->n = 0;
	s->mean = base;
	s->var = base + d;
	s->data_min = base + 2 * d;
	s->data_max = base + 3 * d;
	s->scale = base + 4 * d;
	s->offset = base + 5 * d;
	for (j = 0; j < d; j++)
	{
		s->mean[j] = 0.0;
		s->var[j] = 0.0;
		s->data_min[j] = 0.0;
		s->data_max[j] = 0.0;
		s->scale[j] = 1.0;
		s->offset[j] = 0.0;
	}
	return ECORE_OK;
}

/* Check the scaler structure is usable. */
static int
sc_valid_scaler(const ecore_scaler *s)
{
	return s != NULL && sc_valid_method(s->method) && s->d >= 1 &&
		s->mean != NULL && s->var != NULL && s->data_min != NULL &&
		s->data_max != NULL && s->scale != NULL && s->offset != NULL;
}

/* First non-finite value of X: status and row in env. */
static int
sc_check_finite(const double *X, size_t n, size_t d, ecore_env *env)
{
	size_t		start,
				end,
				i,
				j;

	for (start = 0; start < n; start = end)
	{
		end = ECORE_CHUNK_END(start, n);
		ECORE_CHECK(env);
		for (i = start; i < end; i++)
			for (j = 0; j < d; j++)
				if (!isfinite(X[i * d + j]))
				{
					env->error_row = i;
					env->error_col = j;
					return ECORE_ENONFINITE;
				}
	}
	return ECORE_OK;
}

/* numpy's pairwise summation block (PW_BLOCKSIZE) and ufunc buffer. */
#define SC_PW_BLOCK 128
#define SC_BUFSIZE 8192

/*
 * numpy's pairwise sum (DOUBLE_pairwise_sum) of m values a[i * stride]
 * with T subtracted: *s1 += sum(a - T); if s2, *s2 += sum((a - T)^2),
 * both with numpy's exact grouping (so T = 0 gives numpy's sum of a).
 */
static void
sc_pairwise(const double *a, size_t m, size_t stride, double T,
			double *s1, double *s2)
{
	if (m < 8)
	{
		double		r1 = 0.0,
					r2 = 0.0;
		size_t		i;

		for (i = 0; i < m; i++)
		{
			double		t = a[i * stride] - T;

			r1 += t;
			r2 += t * t;
		}
		*s1 = r1;
		if (s2)
			*s2 = r2;
	}
	else if (m <= SC_PW_BLOCK)
	{
		double		p[8],
					q[8],
					r1,
					r2;
		size_t		i,
					j;

		for (j = 0; j < 8; j++)
		{
			double		t = a[j * stride] - T;

			p[j] = t;
			q[j] = t * t;
		}
		for (i = 8; i < m - (m % 8); i += 8)
			for (j = 0; j < 8; j++)
			{
				double		t = a[(i + j) * stride] - T;

				p[j] += t;
				q[j] += t * t;
			}
		r1 = ((p[0] + p[1]) + (p[2] + p[3])) + ((p[4] + p[5]) + (p[6] + p[7]));
		r2 = ((q[0] + q[1]) + (q[2] + q[3])) + ((q[4] + q[5]) + (q[6] + q[7]));
		for (; i < m; i++)
		{
			double		t = a[i * stride] - T;

			r1 += t;
			r2 += t * t;
		}
		*s1 = r1;
		if (s2)
			*s2 = r2;
	}
	else
	{
		size_t		m2 = m / 2;
		double		a1,
					a2,
					b1 = 0.0,
					b2 = 0.0;

		m2 -= m2 % 8;
		sc_pairwise(a, m2, stride, T, &a1, s2 ? &b1 : NULL);
		sc_pairwise(a + m2 * stride, m - m2, stride, T, &a2, s2 ? &b2 : NULL);
		*s1 = a1 + a2;
		if (s2)
			*s2 = b1 + b2;
	}
}

/*
 * Column sums as numpy's np.sum(X, axis=0) of a column-contiguous array
 * (what pandas hands to scikit-learn): per column, pairwise sums of blocks
 * of SC_BUFSIZE rows added in order.  Accurate to O(log n) rounding.
 */
static void
sc_column_sums(const double *X, size_t n, size_t d, size_t col, double T,
			   ecore_env *env, double *s1, double *s2)
{
	size_t		start,
				m;
	double		t1 = 0.0,
				t2 = 0.0;

	for (start = 0; start < n; start += m)
	{
		double		b1,
					b2 = 0.0;

		m = n - start > SC_BUFSIZE ? SC_BUFSIZE : n - start;
		ECORE_CHECK(env);
		sc_pairwise(X + start * d + col, m, d, T, &b1, s2 ? &b2 : NULL);
		t1 += b1;
		t2 += b2;
	}
	*s1 = t1;
	if (s2)
		*s2 = t2;
}

/*
 * Fit: min, max; mean = sum / n and var by the corrected two-pass
 * algorithm, sums as numpy (see sc_column_sums); then scale and offset.
 */
int
ecore_scaler_fit(ecore_scaler *s, const double *X, size_t n,
				  ecore_env *env)
{
	size_t		d,
				start,
				end,
				i,
				j;
	double		nd,
				eps = DBL_EPSILON;
	int			rc;

	if (env == NULL)
		return ECORE_EINVAL_ENV;
	if (!sc_valid_scaler(s) || X == NULL)
		return ECORE_EINVAL_ARG;
	d = s->d;
	rc = ecore_validate_points(X, n, d, env);
	if (rc != ECORE_OK)
		return rc;
	nd = (double) n;

	/* min and max */
	for (j = 0; j < d; j++)
	{
		s->data_min[j] = X[j];
		s->data_max[j] = X[j];
	}
	for (start = 0; start < n; start = end)
	{
		end = ECORE_CHUNK_END(start, n);
		ECORE_CHECK(env);
		for (i = start; i < end; i++)
		{
			const double *x = X + i * d;

			for (j = 0; j < d; j++)
			{
				if (x[j] < s->data_min[j])
					s->data_min[j] = x[j];
				if (x[j] > s->data_max[j])
					s->data_max[j] = x[j];
			}
		}
	}
	for (j = 0; j < d; j++)
	{
		double		sum,
					corr,
					sq;

		/* mean = sum / n; T = mean */
		sc_column_sums(X, n, d, j, 0.0, env, &sum, NULL);
		s->mean[j] = sum / nd;
		/* C = sum(x - T), S2 = sum((x - T)^2); var = (S2 - C^2 / n) / n */
		sc_column_sums(X, n, d, j, s->mean[j], env, &corr, &sq);
		s->var[j] = (sq - (corr * corr) / nd) / nd;
	}

	/* derived parameters */
	for (j = 0; j < d; j++)
	{
		switch (s->method)
		{
			case ECORE_SCALE_ZSCORE:
				{
					double		var = s->var[j];
					double		q = nd * s->mean[j] * eps;
					double		upper = nd * eps * var + q * q;

					s->scale[j] = (var <= upper) ? 1.0 : sqrt(var);
					s->offset[j] = s->mean[j];
				}
				break;
			case ECORE_SCALE_MINMAX:
				{
					double		range = s->data_max[j] - s->data_min[j];

					if (range < 10.0 * eps)
						range = 1.0;
					s->scale[j] = 1.0 / range;
					s->offset[j] = 0.0 - s->data_min[j] * s->scale[j];
				}
				break;
			case ECORE_SCALE_NONE:
				s->scale[j] = 1.0;
				s->offset[j] = 0.0;
				break;
		}
	}
	s->n = n;
	return ECORE_OK;
}

/* Transform (see scale.h); out may equal X. */
int
ecore_scaler_transform(const ecore_scaler *s, const double *X, size_t n,
						double *out, ecore_env *env)
{
	size_t		d,
				start,
				end,
				i,
				j;
	int			rc;

	if (env == NULL)
		return ECORE_EINVAL_ENV;
	if (!sc_valid_scaler(s) || X == NULL || out == NULL)
		return ECORE_EINVAL_ARG;
	d = s->d;
	if (n > SIZE_MAX / d / sizeof(double))
		return ECORE_EOVERFLOW;
	rc = sc_check_finite(X, n, d, env);
	if (rc != ECORE_OK)
		return rc;
	for (start = 0; start < n; start = end)
	{
		end = ECORE_CHUNK_END(start, n);
		ECORE_CHECK(env);
		for (i = start; i < end; i++)
		{
			const double *x = X + i * d;
			double	   *o = out + i * d;

			switch (s->method)
			{
				case ECORE_SCALE_ZSCORE:
					for (j = 0; j < d; j++)
						o[j] = (x[j] - s->offset[j]) / s->scale[j];
					break;
				case ECORE_SCALE_MINMAX:
					for (j = 0; j < d; j++)
						o[j] = x[j] * s->scale[j] + s->offset[j];
					break;
				case ECORE_SCALE_NONE:
					if (o != x)
						memmove(o, x, d * sizeof(double));
					break;
			}
		}
	}
	return ECORE_OK;
}

/* Inverse transform (see scale.h); out may equal Z. */
int
ecore_scaler_inverse_transform(const ecore_scaler *s, const double *Z,
								size_t n, double *out, ecore_env *env)
{
	size_t		d,
				start,
				end,
				i,
				j;

	if (env == NULL)
		return ECORE_EINVAL_ENV;
	if (!sc_valid_scaler(s) || Z == NULL || out == NULL)
		return ECORE_EINVAL_ARG;
	d = s->d;
	if (n > SIZE_MAX / d / sizeof(double))
		return ECORE_EOVERFLOW;
	for (start = 0; start < n; start = end)
	{
		end = ECORE_CHUNK_END(start, n);
		ECORE_CHECK(env);
		for (i = start; i < end; i++)
		{
			const double *z = Z + i * d;
			double	   *o = out + i * d;

			switch (s->method)
			{
				case ECORE_SCALE_ZSCORE:
					for (j = 0; j < d; j++)
						o[j] = z[j] * s->scale[j] + s->offset[j];
					break;
				case ECORE_SCALE_MINMAX:
					for (j = 0; j < d; j++)
						o[j] = (z[j] - s->offset[j]) / s->scale[j];
					break;
				case ECORE_SCALE_NONE:
					if (o != z)
						memmove(o, z, d * sizeof(double));
					break;
			}
		}
	}
	return ECORE_OK;
}
