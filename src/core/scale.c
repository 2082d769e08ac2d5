/*-------------------------------------------------------------------------
 *
 * scale.c
 *	  Feature scaling of engage's numerical core (see scale.h): zscore as
 *	  scikit-learn's StandardScaler, minmax as MinMaxScaler, log as
 *	  log1p then StandardScaler, robust as RobustScaler, none.
 *
 * Copyright (c) 2026, engage developers
 *
 *-------------------------------------------------------------------------
 */
#include "scale.h"

#include <float.h>
#include <math.h>
#include <string.h>

/* Parse a method name of every scaler. */
int
ecore_scale_method_parse_all(const char *name, ecore_scale_method *method)
{
	if (name == NULL || method == NULL)
		return ECORE_EINVAL_ARG;
	if (ecore_name_equal(name, "zscore"))
		*method = ECORE_SCALE_ZSCORE;
	else if (ecore_name_equal(name, "minmax"))
		*method = ECORE_SCALE_MINMAX;
	else if (ecore_name_equal(name, "log"))
		*method = ECORE_SCALE_LOG;
	else if (ecore_name_equal(name, "robust"))
		*method = ECORE_SCALE_ROBUST;
	else if (ecore_name_equal(name, "none"))
		*method = ECORE_SCALE_NONE;
	else
		return ECORE_EINVAL_ARG;
	return ECORE_OK;
}

/* Parse the name of a method with a combinable fit (zscore, minmax, none). */
int
ecore_scale_method_parse(const char *name, ecore_scale_method *method)
{
	ecore_scale_method m;

	if (method == NULL || ecore_scale_method_parse_all(name, &m) != ECORE_OK ||
		m == ECORE_SCALE_LOG || m == ECORE_SCALE_ROBUST)
		return ECORE_EINVAL_ARG;
	*method = m;
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
		case ECORE_SCALE_LOG:
			return "log";
		case ECORE_SCALE_ROBUST:
			return "robust";
	}
	return NULL;
}

/* Is the method one of the enum values? */
static int
sc_valid_method(ecore_scale_method method)
{
	return method == ECORE_SCALE_NONE || method == ECORE_SCALE_ZSCORE ||
		method == ECORE_SCALE_MINMAX || method == ECORE_SCALE_LOG ||
		method == ECORE_SCALE_ROBUST;
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

/* First negative value of X (the log scaler): status and row in env. */
static int
sc_check_negative(const double *X, size_t n, size_t d, ecore_env *env)
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
				if (X[i * d + j] < 0.0)
				{
					env->error_row = i;
					env->error_col = j;
					return ECORE_ENEGATIVE;
				}
	}
	return ECORE_OK;
}

/* numpy's pairwise summation block (PW_BLOCKSIZE) and ufunc buffer. */
#define SC_PW_BLOCK 128
#define SC_BUFSIZE 8192

/* A value summed by sc_pairwise: log1p(x) for the log scaler, else x */
#define SC_VALUE(x, logx) ((logx) ? log1p(x) : (x))

/*
 * numpy's pairwise sum (DOUBLE_pairwise_sum) of m values a[i * stride]
 * (their log1p with logx) with T subtracted: *s1 += sum(a - T); if s2,
 * *s2 += sum((a - T)^2), both with numpy's exact grouping (so T = 0 gives
 * numpy's sum of a).
 */
static void
sc_pairwise(const double *a, size_t m, size_t stride, double T, int logx,
			double *s1, double *s2)
{
	if (m < 8)
	{
		double		r1 = 0.0,
					r2 = 0.0;
		size_t		i;

		for (i = 0; i < m; i++)
		{
			double		t = SC_VALUE(a[i * stride], logx) - T;

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
			double		t = SC_VALUE(a[j * stride], logx) - T;

			p[j] = t;
			q[j] = t * t;
		}
		for (i = 8; i < m - (m % 8); i += 8)
			for (j = 0; j < 8; j++)
			{
				double		t = SC_VALUE(a[(i + j) * stride], logx) - T;

				p[j] += t;
				q[j] += t * t;
			}
		r1 = ((p[0] + p[1]) + (p[2] + p[3])) + ((p[4] + p[5]) + (p[6] + p[7]));
		r2 = ((q[0] + q[1]) + (q[2] + q[3])) + ((q[4] + q[5]) + (q[6] + q[7]));
		for (; i < m; i++)
		{
			double		t = SC_VALUE(a[i * stride], logx) - T;

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
		sc_pairwise(a, m2, stride, T, logx, &a1, s2 ? &b1 : NULL);
		sc_pairwise(a + m2 * stride, m - m2, stride, T, logx, &a2,
					s2 ? &b2 : NULL);
		*s1 = a1 + a2;
		if (s2)
			*s2 = b1 + b2;
	}
}

/*
 * Column sums as numpy's np.sum(X, axis=0) of a column-contiguous array
 * (what pandas hands to scikit-learn): per column, pairwise sums of blocks
 * of SC_BUFSIZE rows added in order.  Accurate to O(log n) rounding.
 * With logx, the sums of log1p of the values.
 */
static void
sc_column_sums(const double *X, size_t n, size_t d, size_t col, double T,
			   int logx, ecore_env *env, double *s1, double *s2)
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
		sc_pairwise(X + start * d + col, m, d, T, logx, &b1, s2 ? &b2 : NULL);
		t1 += b1;
		t2 += b2;
	}
	*s1 = t1;
	if (s2)
		*s2 = t2;
}

/* zscore's scale: sqrt(var), or 1 for a constant feature (sklearn's rule) */
static double
sc_std_scale(double var, double mean, double nd)
{
	double		eps = DBL_EPSILON;
	double		q = nd * mean * eps;
	double		upper = nd * eps * var + q * q;

	return (var <= upper) ? 1.0 : sqrt(var);
}

/* Swap two doubles */
static inline void
sc_swap(double *a, double *b)
{
	double		t = *a;

	*a = *b;
	*b = t;
}

/* Sift a[i] down the max-heap a[0..m-1] (sc_heapsort) */
static void
sc_sift_down(double *a, size_t i, size_t m)
{
	for (;;)
	{
		size_t		c = 2 * i + 1;

		if (c >= m)
			return;
		if (c + 1 < m && a[c + 1] > a[c])
			c++;
		if (!(a[c] > a[i]))
			return;
		sc_swap(&a[i], &a[c]);
		i = c;
	}
}

/* Sort a[0..m-1] ascending by heapsort (sc_select's fallback) */
static void
sc_heapsort(double *a, size_t m)
{
	size_t		i;

	if (m < 2)
		return;
	for (i = m / 2; i-- > 0;)
		sc_sift_down(a, i, m);
	for (i = m - 1; i > 0; i--)
	{
		sc_swap(&a[0], &a[i]);
		sc_sift_down(a, 0, i);
	}
}

/*
 * Selection: reorder a[lo..hi] (inclusive) so that a[k] is the value of
 * rank k of that range, everything before it <= it and everything after it
 * >= it (no NaN: the points are validated).  Three-way partitions around
 * the median of three (runs of equal values, common in usage counts, end
 * it early); after 2 log2(n) + 8 partitions (an adversarial order), the
 * range left is heapsorted, so the worst case is O(n log n).
 */
static void
sc_select(double *a, size_t lo, size_t hi, size_t k, ecore_env *env)
{
	int			budget = 8;
	size_t		m;

	for (m = hi - lo + 1; m > 1; m >>= 1)
		budget += 2;
	while (hi > lo)
	{
		size_t		mid = lo + (hi - lo) / 2,
					lt = lo,
					gt = hi,
					i = lo;
		double		p,
					x = a[lo],
					y = a[mid],
					z = a[hi];

		if (budget-- == 0)
		{
			sc_heapsort(a + lo, hi - lo + 1);
			return;
		}
		ECORE_CHECK(env);
		/* the median of three as the pivot */
		p = (x < y) ? ((y < z) ? y : ((x < z) ? z : x)) :
			((x < z) ? x : ((y < z) ? z : y));
		/* a[lo..lt-1] < p, a[lt..i-1] == p, a[gt+1..hi] > p */
		while (i <= gt)
		{
			if (a[i] < p)
				sc_swap(&a[lt++], &a[i++]);
			else if (a[i] > p)
			{
				sc_swap(&a[i], &a[gt]);
				if (gt == 0)
					break;		/* unreachable: p is in the range */
				gt--;
			}
			else
				i++;
		}
		if (k < lt)
			hi = lt - 1;
		else if (k > gt)
			lo = gt + 1;
		else
			return;
	}
}

/*
 * numpy's linear quantile q (0 <= q <= 1) of the n values of a, given the
 * values of ranks i = floor(q * (n - 1)) and i + 1 (vi, vi1; vi1 unused
 * when i = n - 1): numpy's _lerp of them by g = q * (n - 1) - i.
 */
static double
sc_lerp_quantile(double q, size_t n, double vi, double vi1)
{
	double		h = q * (double) (n - 1);
	double		i = floor(h);
	double		g = h - i;
	double		diff;

	if (h >= (double) (n - 1))
		return vi;				/* numpy: both bounds the last value */
	diff = vi1 - vi;
	if (g >= 0.5)
		return vi1 - diff * (1.0 - g);
	return vi + diff * g;
}

/* The six ranks robust's fit reads (see scale.h) */
void
ecore_robust_ranks(size_t n, size_t want[6])
{
	size_t		r;

	want[0] = (size_t) floor(0.25 * (double) (n - 1));
	want[1] = want[0] + 1;
	want[2] = (n - 1) / 2;
	want[3] = n / 2;
	want[4] = (size_t) floor(0.75 * (double) (n - 1));
	want[5] = want[4] + 1;
	for (r = 0; r < 6; r++)
		if (want[r] > n - 1)
			want[r] = n - 1;	/* i = n - 1: its i + 1 is not used */
}

/* robust's median and interquartile range from the six values (scale.h) */
void
ecore_robust_params(size_t n, const double vals[6], double *median,
					double *iqr)
{
	double		q25,
				q75;

	*median = (n % 2 == 1) ? vals[2] : (vals[2] + vals[3]) / 2.0;
	q25 = sc_lerp_quantile(0.25, n, vals[0], vals[1]);
	q75 = sc_lerp_quantile(0.75, n, vals[4], vals[5]);
	*iqr = q75 - q25;
}

/*
 * robust's median and interquartile range of column col of X (n rows of
 * d), with work (n doubles): the column copied, then the ranks needed
 * (i and i + 1 of each quartile, the middle one or two) selected in
 * increasing order, each within what is right of the previous one.
 */
static void
sc_robust_column(const double *X, size_t n, size_t d, size_t col,
				 double *work, ecore_env *env, double *median, double *iqr)
{
	size_t		want[6],
				sorted[6];
	double		vals[6];
	size_t		i,
				r,
				lo = 0;

	for (i = 0; i < n; i++)
	{
		if ((i & (ECORE_CHECK_CHUNK - 1)) == 0)
			ECORE_CHECK(env);
		work[i] = X[i * d + col];
	}
	ecore_robust_ranks(n, want);
	for (r = 0; r < 6; r++)
	{
		size_t		k;

		/* insertion sort of the ranks */
		for (k = r; k > 0 && sorted[k - 1] > want[r]; k--)
			sorted[k] = sorted[k - 1];
		sorted[k] = want[r];
	}
	for (r = 0; r < 6; r++)
	{
		if (r > 0 && sorted[r] == sorted[r - 1])
			continue;
		sc_select(work, lo, n - 1, sorted[r], env);
		lo = sorted[r] + 1;
	}
	for (r = 0; r < 6; r++)
		vals[r] = work[want[r]];
	ecore_robust_params(n, vals, median, iqr);
}

/* Bytes of the fit's work space. */
int
ecore_scaler_fit_bytes(ecore_scale_method method, size_t n, size_t *bytes)
{
	if (bytes == NULL || !sc_valid_method(method))
		return ECORE_EINVAL_ARG;
	if (method != ECORE_SCALE_ROBUST)
	{
		*bytes = 0;
		return ECORE_OK;
	}
	if (n > SIZE_MAX / sizeof(double))
		return ECORE_EOVERFLOW;
	*bytes = n * sizeof(double);
	return ECORE_OK;
}

/*
 * Fit: min, max; mean = sum / n and var by the corrected two-pass
 * algorithm, sums as numpy (see sc_column_sums); then scale and offset
 * (log: zscore's on log1p of the values; robust: median and quantiles).
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
	double	   *work = NULL;
	int			rc;

	if (env == NULL)
		return ECORE_EINVAL_ENV;
	if (!sc_valid_scaler(s) || X == NULL)
		return ECORE_EINVAL_ARG;
	d = s->d;
	rc = ecore_validate_points(X, n, d, env);
	if (rc != ECORE_OK)
		return rc;
	if (s->method == ECORE_SCALE_LOG)
	{
		rc = sc_check_negative(X, n, d, env);
		if (rc != ECORE_OK)
			return rc;
	}
	if (s->method == ECORE_SCALE_ROBUST)
	{
		size_t		bytes;

		if (env->alloc == NULL)
			return ECORE_EINVAL_ENV;
		rc = ecore_scaler_fit_bytes(s->method, n, &bytes);
		if (rc != ECORE_OK)
			return rc;
		work = (double *) env->alloc(env->alloc_arg, bytes > 0 ? bytes : 1);
		if (work == NULL)
			return ECORE_ENOMEM;
	}
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
		sc_column_sums(X, n, d, j, 0.0, 0, env, &sum, NULL);
		s->mean[j] = sum / nd;
		/* C = sum(x - T), S2 = sum((x - T)^2); var = (S2 - C^2 / n) / n */
		sc_column_sums(X, n, d, j, s->mean[j], 0, env, &corr, &sq);
		s->var[j] = (sq - (corr * corr) / nd) / nd;
	}

	/* derived parameters */
	for (j = 0; j < d; j++)
	{
		switch (s->method)
		{
			case ECORE_SCALE_ZSCORE:
				s->scale[j] = sc_std_scale(s->var[j], s->mean[j], nd);
				s->offset[j] = s->mean[j];
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
			case ECORE_SCALE_LOG:
				{
					double		sum,
								corr,
								sq,
								mean,
								var;

					/* zscore's fit on y = log1p(x), sums as numpy's */
					sc_column_sums(X, n, d, j, 0.0, 1, env, &sum, NULL);
					mean = sum / nd;
					sc_column_sums(X, n, d, j, mean, 1, env, &corr, &sq);
					var = (sq - (corr * corr) / nd) / nd;
					s->scale[j] = sc_std_scale(var, mean, nd);
					s->offset[j] = mean;
				}
				break;
			case ECORE_SCALE_ROBUST:
				{
					double		median,
								iqr;

					sc_robust_column(X, n, d, j, work, env, &median, &iqr);
					s->scale[j] = (iqr < 10.0 * eps) ? 1.0 : iqr;
					s->offset[j] = median;
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
	if (rc == ECORE_OK && s->method == ECORE_SCALE_LOG)
		rc = sc_check_negative(X, n, d, env);
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
				case ECORE_SCALE_ROBUST:
					for (j = 0; j < d; j++)
						o[j] = (x[j] - s->offset[j]) / s->scale[j];
					break;
				case ECORE_SCALE_LOG:
					for (j = 0; j < d; j++)
						o[j] = (log1p(x[j]) - s->offset[j]) / s->scale[j];
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
				case ECORE_SCALE_ROBUST:
					for (j = 0; j < d; j++)
						o[j] = z[j] * s->scale[j] + s->offset[j];
					break;
				case ECORE_SCALE_LOG:
					for (j = 0; j < d; j++)
						o[j] = expm1(z[j] * s->scale[j] + s->offset[j]);
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
