/*-------------------------------------------------------------------------
 *
 * knee.c
 *	  Kneedle knee/elbow detection reproducing kneed's KneeLocator
 *	  (online=False, interp_method='interp1d'); see knee.h.
 *
 * The normalised and difference curves are computed on the fly from x
 * and y (no allocation), with exactly the operations numpy performs, so
 * that ties against the thresholds resolve as in kneed.
 *
 * Copyright (c) 2026, engage developers
 *
 *-------------------------------------------------------------------------
 */
#include "knee.h"

#include <math.h>

/* numpy's pairwise summation block size (PW_BLOCKSIZE). */
#define KNEE_PW_BLOCK 128

/* The curve being analysed, with everything derived from it. */
typedef struct knee_curve
{
	const double *x;
	const double *y;
	size_t		n;
	double		xmin;
	double		xrange;
	double		ymin;
	double		yrange;
	double		ynmax;			/* numpy max of y_n (NaN-propagating) */
	int			flip;			/* y_t uses y_n reversed */
	int			invert;			/* y_t = ynmax - y_n */
} knee_curve;

/* x at i (x == NULL: the k values 1..n of an elbow curve). */
static double
knee_x(const knee_curve *c, size_t i)
{
	return c->x != NULL ? c->x[i] : (double) (i + 1);
}

/* Normalised x at i. */
static double
knee_xn(const knee_curve *c, size_t i)
{
	return (knee_x(c, i) - c->xmin) / c->xrange;
}

/* Normalised y at i. */
static double
knee_yn(const knee_curve *c, size_t i)
{
	return (c->y[i] - c->ymin) / c->yrange;
}

/* Difference curve y_d at i. */
static double
knee_yd(const knee_curve *c, size_t i)
{
	size_t		src = c->flip ? c->n - 1 - i : i;
	double		yt = knee_yn(c, src);

	if (c->invert)
		yt = c->ynmax - yt;
	return yt - knee_xn(c, i);
}

/* diff(x_n)[i] = x_n[i + 1] - x_n[i]. */
static double
knee_dxn(const knee_curve *c, size_t i)
{
	return knee_xn(c, i + 1) - knee_xn(c, i);
}

/* numpy's pairwise sum (DOUBLE_pairwise_sum) of diff(x_n)[off, off+m). */
static double
knee_pairwise(const knee_curve *c, size_t off, size_t m)
{
	if (m < 8)
	{
		double		res = 0.0;
		size_t		i;

		for (i = 0; i < m; i++)
			res += knee_dxn(c, off + i);
		return res;
	}
	else if (m <= KNEE_PW_BLOCK)
	{
		double		r[8],
					res;
		size_t		i,
					j;

		for (j = 0; j < 8; j++)
			r[j] = knee_dxn(c, off + j);
		for (i = 8; i < m - (m % 8); i += 8)
			for (j = 0; j < 8; j++)
				r[j] += knee_dxn(c, off + i + j);
		res = ((r[0] + r[1]) + (r[2] + r[3])) +
			((r[4] + r[5]) + (r[6] + r[7]));
		for (; i < m; i++)
			res += knee_dxn(c, off + i);
		return res;
	}
	else
	{
		size_t		m2 = m / 2;

		m2 -= m2 % 8;
		return knee_pairwise(c, off, m2) + knee_pairwise(c, off + m2, m - m2);
	}
}

/* scipy argrelextrema(order=1, mode='clip') test at i: max or min. */
static int
knee_is_extremum(const knee_curve *c, size_t i, int want_max)
{
	double		mid = knee_yd(c, i);
	double		left = knee_yd(c, i > 0 ? i - 1 : 0);
	double		right = knee_yd(c, i + 1 < c->n ? i + 1 : c->n - 1);

	if (want_max)
		return mid >= right && mid >= left;
	return mid <= right && mid <= left;
}

/* Kneedle on (x or 1..n, y); see knee.h. */
static int
knee_run(const double *x, const double *y, size_t n, double S,
		 ecore_knee_curve curve, ecore_knee_direction direction,
		 long *knee)
{
	knee_curve	c;
	size_t		i,
				first_max,
				threshold_index = 0;
	double		threshold = 0.0,
				absmean,
				sub;
	volatile double sub_v;

	if (y == NULL || knee == NULL)
		return ECORE_EINVAL_ARG;
	if (curve != ECORE_KNEE_CONVEX && curve != ECORE_KNEE_CONCAVE)
		return ECORE_EINVAL_ARG;
	if (direction != ECORE_KNEE_DECREASING &&
		direction != ECORE_KNEE_INCREASING)
		return ECORE_EINVAL_ARG;
	if (!isfinite(S))
		return ECORE_EINVAL_ARG;
	if (n < 1)
		return ECORE_EINVAL_N;
	for (i = 0; i < n; i++)
	{
		if (!isfinite(y[i]))
			return ECORE_EINVAL_CURVE;
		if (x == NULL)
			continue;
		if (!isfinite(x[i]))
			return ECORE_EINVAL_CURVE;
		if (i > 0 && !(x[i] > x[i - 1]))
			return ECORE_EINVAL_CURVE;
	}
	*knee = -1;
	if (n < 2)
		return ECORE_OK;

	c.x = x;
	c.y = y;
	c.n = n;
	/* Python's builtin min()/max(): first element, replaced by < / > */
	c.xmin = knee_x(&c, 0);
	c.ymin = y[0];
	{
		double		xmax = c.xmin,
					ymax = y[0];

		for (i = 1; i < n; i++)
		{
			if (knee_x(&c, i) < c.xmin)
				c.xmin = knee_x(&c, i);
			if (knee_x(&c, i) > xmax)
				xmax = knee_x(&c, i);
			if (y[i] < c.ymin)
				c.ymin = y[i];
			if (y[i] > ymax)
				ymax = y[i];
		}
		c.xrange = xmax - c.xmin;
		c.yrange = ymax - c.ymin;
	}
	c.flip = ((direction == ECORE_KNEE_DECREASING && curve == ECORE_KNEE_CONCAVE) ||
			  (direction == ECORE_KNEE_INCREASING && curve == ECORE_KNEE_CONVEX));
	c.invert = (curve == ECORE_KNEE_CONVEX);
	/* numpy y.max(): NaN as soon as one element is NaN */
	c.ynmax = knee_yn(&c, 0);
	for (i = 1; i < n; i++)
	{
		double		v = knee_yn(&c, i);

		if (isnan(c.ynmax))
			break;
		if (isnan(v) || v > c.ynmax)
			c.ynmax = v;
	}

	/* first local maximum of the difference curve */
	for (first_max = 0; first_max < n; first_max++)
		if (knee_is_extremum(&c, first_max, 1))
			break;
	if (first_max == n)
		return ECORE_OK;

	absmean = fabs(knee_pairwise(&c, 0, n - 1) / (double) (n - 1));
	sub_v = S * absmean;		/* volatile: no fused multiply-add below */
	sub = sub_v;

	for (i = first_max; i < n; i++)
	{
		if (i == n - 1)
			break;
		if (knee_is_extremum(&c, i, 1))
		{
			threshold = knee_yd(&c, i) - sub;
			threshold_index = i;
		}
		if (knee_is_extremum(&c, i, 0))
			threshold = 0.0;
		if (knee_yd(&c, i + 1) < threshold)
		{
			if ((curve == ECORE_KNEE_CONVEX) == (direction == ECORE_KNEE_DECREASING))
				*knee = (long) threshold_index;
			else
				*knee = (long) (n - 1 - threshold_index);
			return ECORE_OK;
		}
	}
	return ECORE_OK;
}

/* Kneedle (see knee.h). */
int
ecore_knee_locate(const double *x, const double *y, size_t n, double S,
				   ecore_knee_curve curve, ecore_knee_direction direction,
				   long *knee)
{
	if (x == NULL)
		return ECORE_EINVAL_ARG;
	return knee_run(x, y, n, S, curve, direction, knee);
}

/* Elbow of an inertia curve for k = 1..n. */
int
ecore_knee_elbow(const double *inertia, size_t n, long *k_elbow)
{
	long		idx = -1;
	int			rc;

	if (k_elbow == NULL)
		return ECORE_EINVAL_ARG;
	rc = knee_run(NULL, inertia, n, 1.0, ECORE_KNEE_CONVEX,
				  ECORE_KNEE_DECREASING, &idx);
	if (rc != ECORE_OK)
		return rc;
	*k_elbow = idx < 0 ? -1 : idx + 1;
	return ECORE_OK;
}
