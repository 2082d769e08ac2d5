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

/* Call the interrupt callback, if any. */
#define SC_CHECK(env) \
	do { \
		if ((env)->check != NULL) \
			(env)->check((env)->check_arg); \
	} while (0)

/* End of the chunk of rows starting at start. */
#define SC_CHUNK_END(start, n) \
	((n) - (start) > ENGAGE_CHECK_CHUNK ? (start) + ENGAGE_CHECK_CHUNK : (n))

/* ASCII lower case of one character. */
static int
sc_lower(int ch)
{
	return (ch >= 'A' && ch <= 'Z') ? ch - 'A' + 'a' : ch;
}

/* ASCII case-insensitive string equality. */
static int
sc_equal_ci(const char *a, const char *b)
{
	while (*a && *b)
	{
		if (sc_lower((unsigned char) *a) != sc_lower((unsigned char) *b))
			return 0;
		a++;
		b++;
	}
	return *a == '\0' && *b == '\0';
}

/* Parse a method name. */
int
engage_scale_method_parse(const char *name, engage_scale_method *method)
{
	if (name == NULL || method == NULL)
		return ENGAGE_EINVAL_ARG;
	if (sc_equal_ci(name, "zscore"))
		*method = ENGAGE_SCALE_ZSCORE;
	else if (sc_equal_ci(name, "minmax"))
		*method = ENGAGE_SCALE_MINMAX;
	else if (sc_equal_ci(name, "none"))
		*method = ENGAGE_SCALE_NONE;
	else
		return ENGAGE_EINVAL_ARG;
	return ENGAGE_OK;
}

/* Name of a method. */
const char *
engage_scale_method_name(engage_scale_method method)
{
	switch (method)
	{
		case ENGAGE_SCALE_NONE:
			return "none";
		case ENGAGE_SCALE_ZSCORE:
			return "zscore";
		case ENGAGE_SCALE_MINMAX:
			return "minmax";
	}
	return NULL;
}

/* Is the method one of the enum values? */
static int
sc_valid_method(engage_scale_method method)
{
	return method == ENGAGE_SCALE_NONE || method == ENGAGE_SCALE_ZSCORE ||
		method == ENGAGE_SCALE_MINMAX;
}

/* Bytes of the scaler arrays. */
int
engage_scaler_bytes(size_t d, size_t *bytes)
{
	if (bytes == NULL)
		return ENGAGE_EINVAL_ARG;
	if (d < 1)
		return ENGAGE_EINVAL_D;
	if (d > SIZE_MAX / (6 * sizeof(double)))
		return ENGAGE_EOVERFLOW;
	*bytes = 6 * d * sizeof(double);
	return ENGAGE_OK;
}

/* Allocate the scaler arrays (one request). */
int
engage_scaler_init(engage_scaler *s, engage_scale_method method, size_t d,
				   engage_env *env)
{
	size_t		bytes = 0;
	size_t		j;
	double	   *base;
	int			rc;

	if (env == NULL || env->alloc == NULL)
		return ENGAGE_EINVAL_ENV;
	if (s == NULL || !sc_valid_method(method))
		return ENGAGE_EINVAL_ARG;
	rc = engage_scaler_bytes(d, &bytes);
	if (rc != ENGAGE_OK)
		return rc;
	base = (double *) env->alloc(env->alloc_arg, bytes);
	if (base == NULL)
		return ENGAGE_ENOMEM;
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
	return ENGAGE_OK;
}

/* Check the scaler structure is usable. */
static int
sc_valid_scaler(const engage_scaler *s)
{
	return s != NULL && sc_valid_method(s->method) && s->d >= 1 &&
		s->mean != NULL && s->var != NULL && s->data_min != NULL &&
		s->data_max != NULL && s->scale != NULL && s->offset != NULL;
}

/* First non-finite value of X: status and row in env. */
static int
sc_check_finite(const double *X, size_t n, size_t d, engage_env *env)
{
	size_t		start,
				end,
				i,
				j;

	for (start = 0; start < n; start = end)
	{
		end = SC_CHUNK_END(start, n);
		SC_CHECK(env);
		for (i = start; i < end; i++)
			for (j = 0; j < d; j++)
				if (!isfinite(X[i * d + j]))
				{
					env->error_row = i;
					env->error_col = j;
					return ENGAGE_ENONFINITE;
				}
	}
	return ENGAGE_OK;
}

/*
 * Fit: mean, var (corrected two-pass, sums in row order as numpy's
 * np.sum(X, axis=0)), min, max; then scale and offset per method.
 */
int
engage_scaler_fit(engage_scaler *s, const double *X, size_t n,
				  engage_env *env)
{
	size_t		d,
				start,
				end,
				i,
				j;
	double	   *corr;
	double		nd,
				eps = DBL_EPSILON;
	int			rc;

	if (env == NULL)
		return ENGAGE_EINVAL_ENV;
	if (!sc_valid_scaler(s) || X == NULL)
		return ENGAGE_EINVAL_ARG;
	d = s->d;
	rc = engage_validate_points(X, n, d, env);
	if (rc != ENGAGE_OK)
		return rc;
	nd = (double) n;

	/* pass 1: sums, min, max */
	for (j = 0; j < d; j++)
	{
		s->mean[j] = 0.0;
		s->data_min[j] = X[j];
		s->data_max[j] = X[j];
	}
	for (start = 0; start < n; start = end)
	{
		end = SC_CHUNK_END(start, n);
		SC_CHECK(env);
		for (i = start; i < end; i++)
		{
			const double *x = X + i * d;

			for (j = 0; j < d; j++)
			{
				s->mean[j] += x[j];
				if (x[j] < s->data_min[j])
					s->data_min[j] = x[j];
				if (x[j] > s->data_max[j])
					s->data_max[j] = x[j];
			}
		}
	}
	for (j = 0; j < d; j++)
		s->mean[j] = s->mean[j] / nd;

	/* pass 2: correction C = sum(x - mean) and S2 = sum((x - mean)^2) */
	corr = s->offset;			/* scratch until the end */
	for (j = 0; j < d; j++)
	{
		corr[j] = 0.0;
		s->var[j] = 0.0;
	}
	for (start = 0; start < n; start = end)
	{
		end = SC_CHUNK_END(start, n);
		SC_CHECK(env);
		for (i = start; i < end; i++)
		{
			const double *x = X + i * d;

			for (j = 0; j < d; j++)
			{
				double		t = x[j] - s->mean[j];

				corr[j] += t;
				s->var[j] += t * t;
			}
		}
	}
	for (j = 0; j < d; j++)
	{
		double		unnorm = s->var[j] - (corr[j] * corr[j]) / nd;

		s->var[j] = unnorm / nd;
	}

	/* derived parameters */
	for (j = 0; j < d; j++)
	{
		switch (s->method)
		{
			case ENGAGE_SCALE_ZSCORE:
				{
					double		var = s->var[j];
					double		q = nd * s->mean[j] * eps;
					double		upper = nd * eps * var + q * q;

					s->scale[j] = (var <= upper) ? 1.0 : sqrt(var);
					s->offset[j] = s->mean[j];
				}
				break;
			case ENGAGE_SCALE_MINMAX:
				{
					double		range = s->data_max[j] - s->data_min[j];

					if (range < 10.0 * eps)
						range = 1.0;
					s->scale[j] = 1.0 / range;
					s->offset[j] = 0.0 - s->data_min[j] * s->scale[j];
				}
				break;
			case ENGAGE_SCALE_NONE:
				s->scale[j] = 1.0;
				s->offset[j] = 0.0;
				break;
		}
	}
	s->n = n;
	return ENGAGE_OK;
}

/* Transform (see scale.h); out may equal X. */
int
engage_scaler_transform(const engage_scaler *s, const double *X, size_t n,
						double *out, engage_env *env)
{
	size_t		d,
				start,
				end,
				i,
				j;
	int			rc;

	if (env == NULL)
		return ENGAGE_EINVAL_ENV;
	if (!sc_valid_scaler(s) || X == NULL || out == NULL)
		return ENGAGE_EINVAL_ARG;
	d = s->d;
	if (n > SIZE_MAX / d / sizeof(double))
		return ENGAGE_EOVERFLOW;
	rc = sc_check_finite(X, n, d, env);
	if (rc != ENGAGE_OK)
		return rc;
	for (start = 0; start < n; start = end)
	{
		end = SC_CHUNK_END(start, n);
		SC_CHECK(env);
		for (i = start; i < end; i++)
		{
			const double *x = X + i * d;
			double	   *o = out + i * d;

			switch (s->method)
			{
				case ENGAGE_SCALE_ZSCORE:
					for (j = 0; j < d; j++)
						o[j] = (x[j] - s->offset[j]) / s->scale[j];
					break;
				case ENGAGE_SCALE_MINMAX:
					for (j = 0; j < d; j++)
						o[j] = x[j] * s->scale[j] + s->offset[j];
					break;
				case ENGAGE_SCALE_NONE:
					if (o != x)
						memmove(o, x, d * sizeof(double));
					break;
			}
		}
	}
	return ENGAGE_OK;
}

/* Inverse transform (see scale.h); out may equal Z. */
int
engage_scaler_inverse_transform(const engage_scaler *s, const double *Z,
								size_t n, double *out, engage_env *env)
{
	size_t		d,
				start,
				end,
				i,
				j;

	if (env == NULL)
		return ENGAGE_EINVAL_ENV;
	if (!sc_valid_scaler(s) || Z == NULL || out == NULL)
		return ENGAGE_EINVAL_ARG;
	d = s->d;
	if (n > SIZE_MAX / d / sizeof(double))
		return ENGAGE_EOVERFLOW;
	for (start = 0; start < n; start = end)
	{
		end = SC_CHUNK_END(start, n);
		SC_CHECK(env);
		for (i = start; i < end; i++)
		{
			const double *z = Z + i * d;
			double	   *o = out + i * d;

			switch (s->method)
			{
				case ENGAGE_SCALE_ZSCORE:
					for (j = 0; j < d; j++)
						o[j] = z[j] * s->scale[j] + s->offset[j];
					break;
				case ENGAGE_SCALE_MINMAX:
					for (j = 0; j < d; j++)
						o[j] = (z[j] - s->offset[j]) / s->scale[j];
					break;
				case ENGAGE_SCALE_NONE:
					if (o != z)
						memmove(o, z, d * sizeof(double));
					break;
			}
		}
	}
	return ENGAGE_OK;
}
