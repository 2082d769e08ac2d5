/*-------------------------------------------------------------------------
 *
 * test_scale.c
 *	  Unit tests of the scalers of engage's numerical core
 *	  (src/core/scale.c): zscore and minmax against hand-computed and
 *	  long double values, sklearn's near-constant rule, none, in-place
 *	  transforms, and every error.
 *
 * Copyright (c) 2026, engage developers
 *
 *-------------------------------------------------------------------------
 */
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "core/rng.h"
#include "core/scale.h"
#include "harness.h"
#include "test_core.h"

/* zscore on a hand-computed column, transform and inverse. */
void
test_scale_zscore_basic(void)
{
	/* columns: 1,2,3,4 (mean 2.5, var 1.25) and 10,10,10,10 (constant) */
	double		X[8] = {1, 10, 2, 10, 3, 10, 4, 10};
	double		Z[8],
				B[8];
	ecore_env	env = make_env();
	ecore_scaler s;
	int			i;

	CHECK_EQ_INT(ecore_scaler_init(&s, ECORE_SCALE_ZSCORE, 2, &env), ECORE_OK);
	CHECK_EQ_INT(g_arena.count, 1);
	CHECK_EQ_INT(g_arena.total, 12 * sizeof(double));
	CHECK_EQ_INT(ecore_scaler_fit(&s, X, 4, &env), ECORE_OK);
	CHECK_EQ_INT(s.n, 4);
	CHECK(s.mean[0] == 2.5);
	CHECK(s.var[0] == 1.25);
	CHECK(s.scale[0] == sqrt(1.25));
	CHECK(s.mean[1] == 10.0);
	CHECK(s.var[1] == 0.0);
	CHECK(s.scale[1] == 1.0);	/* zero variance: scale 1 */
	CHECK(s.data_min[0] == 1.0 && s.data_max[0] == 4.0);
	CHECK_EQ_INT(ecore_scaler_transform(&s, X, 4, Z, &env), ECORE_OK);
	CHECK(Z[0] == (1 - 2.5) / sqrt(1.25));
	CHECK(Z[6] == (4 - 2.5) / sqrt(1.25));
	for (i = 0; i < 4; i++)
		CHECK(Z[2 * i + 1] == 0.0);
	CHECK_EQ_INT(ecore_scaler_inverse_transform(&s, Z, 4, B, &env), ECORE_OK);
	for (i = 0; i < 8; i++)
		CHECK_CLOSE(B[i], X[i], 1e-15);
	arena_reset(&g_arena);
}

/* zscore numerics: large offset, compared with a long double reference. */
void
test_scale_zscore_numerics(void)
{
	size_t		n = 5000,
				i;
	double	   *X = malloc(n * sizeof(double));
	long double m = 0,
				v = 0;
	ecore_env	env = make_env();
	ecore_scaler s;
	ecore_rng	r;

	ecore_rng_seed(&r, 5, 5);
	for (i = 0; i < n; i++)
		X[i] = 1e9 + ecore_rng_uniform(&r);
	for (i = 0; i < n; i++)
		m += X[i];
	m /= n;
	for (i = 0; i < n; i++)
		v += (X[i] - m) * (X[i] - m);
	v /= n;
	CHECK_EQ_INT(ecore_scaler_init(&s, ECORE_SCALE_ZSCORE, 1, &env), ECORE_OK);
	CHECK_EQ_INT(ecore_scaler_fit(&s, X, n, &env), ECORE_OK);
	CHECK_CLOSE(s.mean[0], (double) m, 1e-15);
	CHECK_CLOSE(s.var[0], (double) v, 1e-6);	/* 1e9 offset: ~7 digits */
	CHECK(s.scale[0] != 1.0);
	free(X);
	arena_reset(&g_arena);
}

/* sklearn's near-constant rule: tiny variance relative to the mean. */
void
test_scale_zscore_near_constant(void)
{
	double		X[4] = {1e8, 1e8 + 1e-8, 1e8, 1e8};
	ecore_env	env = make_env();
	ecore_scaler s;

	CHECK_EQ_INT(ecore_scaler_init(&s, ECORE_SCALE_ZSCORE, 1, &env), ECORE_OK);
	CHECK_EQ_INT(ecore_scaler_fit(&s, X, 4, &env), ECORE_OK);
	/* var ~ 2e-17 <= n*eps*var + (n*mean*eps)^2 ~ 8e-15: constant */
	CHECK(s.scale[0] == 1.0);
	arena_reset(&g_arena);
}

/* minmax, including a constant feature mapping to 0. */
void
test_scale_minmax(void)
{
	double		X[6] = {-2, 5, 0, 5, 6, 5};
	double		Z[6],
				B[6];
	ecore_env	env = make_env();
	ecore_scaler s;
	int			i;

	CHECK_EQ_INT(ecore_scaler_init(&s, ECORE_SCALE_MINMAX, 2, &env), ECORE_OK);
	CHECK_EQ_INT(ecore_scaler_fit(&s, X, 3, &env), ECORE_OK);
	CHECK(s.scale[0] == 1.0 / 8.0);
	CHECK(s.offset[0] == 0.0 - (-2.0) * (1.0 / 8.0));
	CHECK(s.scale[1] == 1.0);
	CHECK_EQ_INT(ecore_scaler_transform(&s, X, 3, Z, &env), ECORE_OK);
	CHECK(Z[0] == 0.0 && Z[2] == 0.25 && Z[4] == 1.0);
	for (i = 0; i < 3; i++)
		CHECK(Z[2 * i + 1] == 0.0);
	CHECK_EQ_INT(ecore_scaler_inverse_transform(&s, Z, 3, B, &env), ECORE_OK);
	for (i = 0; i < 6; i++)
		CHECK_CLOSE(B[i], X[i], 1e-15);
	arena_reset(&g_arena);
}

/* none copies; transforms work in place. */
void
test_scale_none_inplace(void)
{
	double		X[4] = {1, 2, 3, 4};
	double		Y[4] = {1, 2, 3, 4};
	double		Z[4];
	ecore_env	env = make_env();
	ecore_scaler s;
	int			i;

	CHECK_EQ_INT(ecore_scaler_init(&s, ECORE_SCALE_NONE, 2, &env), ECORE_OK);
	CHECK_EQ_INT(ecore_scaler_fit(&s, X, 2, &env), ECORE_OK);
	CHECK_EQ_INT(ecore_scaler_transform(&s, X, 2, Z, &env), ECORE_OK);
	for (i = 0; i < 4; i++)
		CHECK(Z[i] == X[i]);
	CHECK(s.mean[0] == 2.0 && s.mean[1] == 3.0);	/* stats still fitted */
	CHECK_EQ_INT(ecore_scaler_inverse_transform(&s, Z, 2, Z, &env), ECORE_OK);
	for (i = 0; i < 4; i++)
		CHECK(Z[i] == X[i]);
	/* zscore in place */
	arena_reset(&g_arena);
	env = make_env();
	CHECK_EQ_INT(ecore_scaler_init(&s, ECORE_SCALE_ZSCORE, 2, &env), ECORE_OK);
	CHECK_EQ_INT(ecore_scaler_fit(&s, Y, 2, &env), ECORE_OK);
	CHECK_EQ_INT(ecore_scaler_transform(&s, Y, 2, Y, &env), ECORE_OK);
	CHECK(Y[0] == -1.0 && Y[2] == 1.0);
	CHECK_EQ_INT(ecore_scaler_inverse_transform(&s, Y, 2, Y, &env), ECORE_OK);
	for (i = 0; i < 4; i++)
		CHECK(Y[i] == X[i]);
	arena_reset(&g_arena);
}

/* Scaler argument errors, parse/name, bytes, ENOMEM, bad rows. */
void
test_scale_errors(void)
{
	double		X[6] = {1, 2, 3, NAN, 5, 6};
	double		Z[6];
	ecore_env	env = make_env();
	ecore_scaler s;
	ecore_scale_method m;
	size_t		bytes = 0;

	CHECK_EQ_INT(ecore_scale_method_parse("ZScore", &m), ECORE_OK);
	CHECK_EQ_INT(m, ECORE_SCALE_ZSCORE);
	CHECK_EQ_INT(ecore_scale_method_parse("minmax", &m), ECORE_OK);
	CHECK_EQ_INT(m, ECORE_SCALE_MINMAX);
	CHECK_EQ_INT(ecore_scale_method_parse("none", &m), ECORE_OK);
	CHECK_EQ_INT(m, ECORE_SCALE_NONE);
	CHECK_EQ_INT(ecore_scale_method_parse("robust", &m), ECORE_EINVAL_ARG);
	CHECK_EQ_INT(ecore_scale_method_parse("zscorex", &m), ECORE_EINVAL_ARG);
	CHECK_EQ_INT(ecore_scale_method_parse(NULL, &m), ECORE_EINVAL_ARG);
	CHECK(strcmp(ecore_scale_method_name(ECORE_SCALE_MINMAX), "minmax") == 0);
	CHECK(ecore_scale_method_name((ecore_scale_method) 42) == NULL);
	CHECK_EQ_INT(ecore_scaler_bytes(3, &bytes), ECORE_OK);
	CHECK_EQ_INT(bytes, 18 * sizeof(double));
	CHECK_EQ_INT(ecore_scaler_bytes(0, &bytes), ECORE_EINVAL_D);
	CHECK_EQ_INT(ecore_scaler_bytes(SIZE_MAX / 8, &bytes), ECORE_EOVERFLOW);
	CHECK_EQ_INT(ecore_scaler_init(&s, (ecore_scale_method) 9, 2, &env), ECORE_EINVAL_ARG);
	g_arena.fail_after = 0;
	CHECK_EQ_INT(ecore_scaler_init(&s, ECORE_SCALE_ZSCORE, 2, &env), ECORE_ENOMEM);
	g_arena.fail_after = -1;
	CHECK_EQ_INT(ecore_scaler_init(&s, ECORE_SCALE_ZSCORE, 2, NULL), ECORE_EINVAL_ENV);
	CHECK_EQ_INT(ecore_scaler_init(&s, ECORE_SCALE_ZSCORE, 2, &env), ECORE_OK);
	CHECK_EQ_INT(ecore_scaler_fit(&s, X, 3, &env), ECORE_ENONFINITE);
	CHECK_EQ_INT(env.error_row, 1);
	CHECK_EQ_INT(env.error_col, 1);
	X[3] = 4;
	X[4] = -1e200;
	CHECK_EQ_INT(ecore_scaler_fit(&s, X, 3, &env), ECORE_ERANGE);
	CHECK_EQ_INT(env.error_row, 2);
	X[4] = 5;
	CHECK_EQ_INT(ecore_scaler_fit(&s, X, 0, &env), ECORE_EINVAL_N);
	CHECK_EQ_INT(ecore_scaler_fit(&s, X, 3, &env), ECORE_OK);
	X[5] = INFINITY;
	CHECK_EQ_INT(ecore_scaler_transform(&s, X, 3, Z, &env), ECORE_ENONFINITE);
	CHECK_EQ_INT(env.error_row, 2);
	CHECK_EQ_INT(ecore_scaler_transform(NULL, X, 3, Z, &env), ECORE_EINVAL_ARG);
	CHECK_EQ_INT(ecore_scaler_inverse_transform(&s, NULL, 3, Z, &env), ECORE_EINVAL_ARG);
	arena_reset(&g_arena);
}

/* log: log1p then zscore's fit; negative values; transform and inverse. */
void
test_scale_log(void)
{
	/* column 0: 0, 1, 3, 7 (log1p: 0, ln 2, ln 4, ln 8); column 1 constant */
	double		X[8] = {0, 5, 1, 5, 3, 5, 7, 5};
	double		Z[8],
				B[8];
	ecore_env	env = make_env();
	ecore_scaler s;
	long double m = 0.0L,
				v = 0.0L;
	int			i;

	CHECK_EQ_INT(ecore_scaler_init(&s, ECORE_SCALE_LOG, 2, &env), ECORE_OK);
	CHECK_EQ_INT(ecore_scaler_fit(&s, X, 4, &env), ECORE_OK);
	CHECK_EQ_INT(g_arena.count, 1);	/* the scaler only: no work space */
	for (i = 0; i < 4; i++)
		m += log1pl((long double) X[2 * i]);
	m /= 4;
	for (i = 0; i < 4; i++)
		v += (log1pl((long double) X[2 * i]) - m) * (log1pl((long double) X[2 * i]) - m);
	v /= 4;
	CHECK_CLOSE(s.offset[0], (double) m, 1e-15);
	CHECK_CLOSE(s.scale[0], (double) sqrtl(v), 1e-15);
	CHECK(s.scale[1] == 1.0);	/* constant after log1p too */
	CHECK(s.offset[1] == log1p(5.0));
	/* mean, var, min and max describe the raw values */
	CHECK(s.mean[0] == 2.75 && s.data_min[0] == 0.0 && s.data_max[0] == 7.0);
	CHECK_EQ_INT(ecore_scaler_transform(&s, X, 4, Z, &env), ECORE_OK);
	for (i = 0; i < 4; i++)
	{
		CHECK(Z[2 * i] == (log1p(X[2 * i]) - s.offset[0]) / s.scale[0]);
		CHECK(Z[2 * i + 1] == 0.0);
	}
	CHECK_EQ_INT(ecore_scaler_inverse_transform(&s, Z, 4, B, &env), ECORE_OK);
	for (i = 0; i < 8; i++)
		CHECK(fabs(B[i] - X[i]) <= 1e-14 * (1.0 + X[i]));
	/* -0.0 is not negative; -1e-300 is, in the fit and in the transform */
	X[2] = -0.0;
	CHECK_EQ_INT(ecore_scaler_fit(&s, X, 4, &env), ECORE_OK);
	X[7] = -1e-300;
	CHECK_EQ_INT(ecore_scaler_fit(&s, X, 4, &env), ECORE_ENEGATIVE);
	CHECK_EQ_INT(env.error_row, 3);
	CHECK_EQ_INT(env.error_col, 1);
	CHECK_EQ_INT(ecore_scaler_transform(&s, X, 4, Z, &env), ECORE_ENEGATIVE);
	CHECK_EQ_INT(env.error_row, 3);
	/* NaN comes first: the points are validated before the sign */
	X[1] = NAN;
	CHECK_EQ_INT(ecore_scaler_fit(&s, X, 4, &env), ECORE_ENONFINITE);
	arena_reset(&g_arena);
}

/* qsort comparator of doubles */
static int
cmp_double(const void *a, const void *b)
{
	double		x = *(const double *) a,
				y = *(const double *) b;

	return (x > y) - (x < y);
}

/* numpy's linear quantile of sorted v (n values), written out directly */
static double
ref_quantile(const double *v, size_t n, double q)
{
	double		h = q * (double) (n - 1);
	size_t		i = (size_t) floor(h);
	double		g = h - floor(h),
				a,
				b;

	if (i >= n - 1)
		return v[n - 1];
	a = v[i];
	b = v[i + 1];
	return g >= 0.5 ? b - (b - a) * (1.0 - g) : a + (b - a) * g;
}

/* robust: median and quantiles against a sorted copy, on many shapes. */
void
test_scale_robust(void)
{
	static const size_t sizes[] = {1, 2, 3, 4, 5, 7, 8, 9, 10, 33, 100, 1001, 4096, 20000};
	ecore_env	env = make_env();
	ecore_rng	rng;
	size_t		si;
	int			shape;

	ecore_rng_seed(&rng, 7, 0);
	for (si = 0; si < sizeof(sizes) / sizeof(sizes[0]); si++)
		for (shape = 0; shape < 6; shape++)
		{
			size_t		n = sizes[si],
						i;
			double	   *X = malloc(2 * n * sizeof(double));
			double	   *col = malloc(n * sizeof(double));
			double	   *Z = malloc(2 * n * sizeof(double));
			double		med,
						iqr;
			ecore_scaler s;

			for (i = 0; i < n; i++)
			{
				double		u = ecore_rng_uniform(&rng);

				switch (shape)
				{
					case 0:		/* random */
						X[2 * i] = u * 1000.0 - 300.0;
						break;
					case 1:		/* ascending */
						X[2 * i] = (double) i;
						break;
					case 2:		/* descending */
						X[2 * i] = -(double) i;
						break;
					case 3:		/* few values, many ties */
						X[2 * i] = floor(u * 3.0);
						break;
					case 4:		/* mostly zeros, a heavy tail */
						X[2 * i] = u < 0.8 ? 0.0 : exp(u * 40.0);
						break;
					default:	/* organ pipe */
						X[2 * i] = (double) (i < n / 2 ? i : n - i);
						break;
				}
				X[2 * i + 1] = 42.0;	/* constant: scale 1 */
				col[i] = X[2 * i];
			}
			qsort(col, n, sizeof(double), cmp_double);
			med = (n % 2 == 1) ? col[n / 2] : (col[n / 2 - 1] + col[n / 2]) / 2.0;
			iqr = ref_quantile(col, n, 0.75) - ref_quantile(col, n, 0.25);
			CHECK_EQ_INT(ecore_scaler_init(&s, ECORE_SCALE_ROBUST, 2, &env), ECORE_OK);
			CHECK_EQ_INT(ecore_scaler_fit(&s, X, n, &env), ECORE_OK);
			CHECK(s.offset[0] == med);
			CHECK(s.scale[0] == (iqr < 10 * 2.220446049250313e-16 ? 1.0 : iqr));
			CHECK(s.offset[1] == 42.0 && s.scale[1] == 1.0);
			/* the input is left as it was */
			for (i = 0; i < n; i++)
				CHECK(X[2 * i + 1] == 42.0);
			CHECK_EQ_INT(ecore_scaler_transform(&s, X, n, Z, &env), ECORE_OK);
			for (i = 0; i < n; i++)
				CHECK(Z[2 * i] == (X[2 * i] - s.offset[0]) / s.scale[0]);
			free(X);
			free(col);
			free(Z);
			arena_reset(&g_arena);
		}
}

/* robust: hand values, the work space request, and its errors. */
void
test_scale_robust_basic(void)
{
	double		X[4] = {4, 1, 3, 2};
	ecore_env	env = make_env();
	ecore_scaler s;
	size_t		bytes = 0;
	ecore_scale_method m;

	/* 1, 2, 3, 4: median 2.5; q25 at 0.75: 2 - 1 * 0.25; q75 at 2.25: 3 + 0.25 */
	CHECK_EQ_INT(ecore_scaler_init(&s, ECORE_SCALE_ROBUST, 1, &env), ECORE_OK);
	CHECK_EQ_INT(ecore_scaler_fit(&s, X, 4, &env), ECORE_OK);
	CHECK_EQ_INT(g_arena.count, 2);
	CHECK_EQ_INT(g_arena.total, 6 * sizeof(double) + 4 * sizeof(double));
	CHECK(s.offset[0] == 2.5);
	CHECK(s.scale[0] == 1.5);
	CHECK_EQ_INT(ecore_scaler_fit_bytes(ECORE_SCALE_ROBUST, 1000, &bytes), ECORE_OK);
	CHECK_EQ_INT(bytes, 1000 * sizeof(double));
	CHECK_EQ_INT(ecore_scaler_fit_bytes(ECORE_SCALE_LOG, 1000, &bytes), ECORE_OK);
	CHECK_EQ_INT(bytes, 0);
	CHECK_EQ_INT(ecore_scaler_fit_bytes(ECORE_SCALE_ROBUST, SIZE_MAX, &bytes), ECORE_EOVERFLOW);
	CHECK_EQ_INT(ecore_scaler_fit_bytes((ecore_scale_method) 9, 1, &bytes), ECORE_EINVAL_ARG);
	g_arena.fail_after = 0;
	CHECK_EQ_INT(ecore_scaler_fit(&s, X, 4, &env), ECORE_ENOMEM);
	g_arena.fail_after = -1;
	/* names: all five for the scalers, three for the combinable states */
	CHECK_EQ_INT(ecore_scale_method_parse_all("Robust", &m), ECORE_OK);
	CHECK_EQ_INT(m, ECORE_SCALE_ROBUST);
	CHECK_EQ_INT(ecore_scale_method_parse_all("LOG", &m), ECORE_OK);
	CHECK_EQ_INT(m, ECORE_SCALE_LOG);
	CHECK_EQ_INT(ecore_scale_method_parse_all("zscore", &m), ECORE_OK);
	CHECK_EQ_INT(ecore_scale_method_parse_all("log1p", &m), ECORE_EINVAL_ARG);
	CHECK_EQ_INT(ecore_scale_method_parse("log", &m), ECORE_EINVAL_ARG);
	CHECK(strcmp(ecore_scale_method_name(ECORE_SCALE_LOG), "log") == 0);
	CHECK(strcmp(ecore_scale_method_name(ECORE_SCALE_ROBUST), "robust") == 0);
	arena_reset(&g_arena);
}
