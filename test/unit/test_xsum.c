/*-------------------------------------------------------------------------
 *
 * test_xsum.c
 *	  Unit tests of the exact sums (src/core/xsum.c) and of the combinable
 *	  scaler and Lloyd-step states (src/core/kmeans_step.c): exactness on
 *	  adversarial values (huge and tiny magnitudes, cancellation, ties,
 *	  subnormals, overflow), identical bits for every order and split,
 *	  correctly rounded quotients and variances, and the step and the
 *	  scaler against the core's K-means and scaler.
 *
 * Copyright (c) 2026, engage developers
 *
 *-------------------------------------------------------------------------
 */
#include <float.h>
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "core/kmeans_step.h"
#include "core/rng.h"
#include "core/scale.h"
#include "core/xsum.h"
#include "harness.h"
#include "test_core.h"

/* Bits of a double */
static uint64_t
bits_of(double x)
{
	uint64_t	u;

	memcpy(&u, &x, sizeof(u));
	return u;
}

/* Sum of v[0..n) by one accumulator */
static int
xsum_of(const double *v, size_t n, double *out)
{
	int64_t		x[ECORE_XSUM_SLOTS];
	size_t		i;

	ecore_xsum_init(x);
	for (i = 0; i < n; i++)
		ecore_xsum_add(x, v[i]);
	return ecore_xsum_value(x, out);
}

/* Random double of random sign, mantissa and exponent in [lo, hi] */
static double
wide_double(ecore_rng *rng, int lo, int hi)
{
	double		m = 1.0 + ecore_rng_uniform(rng);
	int			e = lo + (int) (ecore_rng_next(rng) % (uint64_t) (hi - lo + 1));
	double		v = ldexp(m, e);

	return (ecore_rng_next(rng) & 1) ? -v : v;
}

/* Shuffle v[0..n) */
static void
shuffle(double *v, size_t n, ecore_rng *rng)
{
	size_t		i;

	for (i = n; i > 1; i--)
	{
		size_t		j = (size_t) (ecore_rng_next(rng) % i);
		double		t = v[i - 1];

		v[i - 1] = v[j];
		v[j] = t;
	}
}

/*
 * Sum of v split into parts at random cut points, each part in its own
 * accumulator, the parts merged in a random order.
 */
static int
xsum_split(const double *v, size_t n, int parts, ecore_rng *rng, double *out)
{
	int64_t    *acc = malloc(sizeof(int64_t) * ECORE_XSUM_SLOTS * (size_t) parts);
	int		   *order = malloc(sizeof(int) * (size_t) parts);
	int64_t		total[ECORE_XSUM_SLOTS];
	size_t		i;
	int			p,
				rc;

	for (p = 0; p < parts; p++)
	{
		ecore_xsum_init(acc + (size_t) p * ECORE_XSUM_SLOTS);
		order[p] = p;
	}
	for (i = 0; i < n; i++)
		ecore_xsum_add(acc + (ecore_rng_next(rng) % (uint64_t) parts) * ECORE_XSUM_SLOTS, v[i]);
	for (p = parts; p > 1; p--)
	{
		int			j = (int) (ecore_rng_next(rng) % (uint64_t) p);
		int			t = order[p - 1];

		order[p - 1] = order[j];
		order[j] = t;
	}
	ecore_xsum_init(total);
	for (p = 0; p < parts; p++)
		ecore_xsum_merge(total, acc + (size_t) order[p] * ECORE_XSUM_SLOTS);
	rc = ecore_xsum_value(total, out);
	free(acc);
	free(order);
	return rc;
}

/* Exact results on adversarial values: cancellation, ties, subnormals. */
void
test_xsum_exact(void)
{
	double		r;
	double		tiny = ldexp(1.0, -1074);
	ecore_rng	rng;
	double	   *v;
	size_t		n = 20001,
				i;

	{
		double		a[] = {1e300, 1.0, -1e300};

		CHECK_EQ_INT(xsum_of(a, 3, &r), ECORE_OK);
		CHECK(r == 1.0);
	}
	{
		/* ties to even, and the sticky bit */
		double		a[] = {1.0, ldexp(1.0, -53)};
		double		b[] = {1.0, ldexp(1.0, -53), ldexp(1.0, -1074)};
		double		c[] = {ldexp(1.0, 53), 1.0};
		double		e[] = {ldexp(1.0, 53), 3.0};
		double		f[] = {1.0, ldexp(3.0, -54)};

		CHECK_EQ_INT(xsum_of(a, 2, &r), ECORE_OK);
		CHECK(r == 1.0);
		CHECK_EQ_INT(xsum_of(b, 3, &r), ECORE_OK);
		CHECK(r == nextafter(1.0, 2.0));
		CHECK_EQ_INT(xsum_of(c, 2, &r), ECORE_OK);
		CHECK(r == ldexp(1.0, 53));
		CHECK_EQ_INT(xsum_of(e, 2, &r), ECORE_OK);
		CHECK(r == ldexp(1.0, 53) + 4.0);
		CHECK_EQ_INT(xsum_of(f, 2, &r), ECORE_OK);
		CHECK(r == nextafter(1.0, 2.0));
	}
	{
		/* subnormals, and a subnormal result of normal terms */
		double		a[] = {tiny, tiny, tiny};
		double		b[] = {DBL_MIN, -nextafter(DBL_MIN, 0.0)};
		double		c[] = {-tiny, 0.0, -0.0};

		CHECK_EQ_INT(xsum_of(a, 3, &r), ECORE_OK);
		CHECK(r == 3.0 * tiny);
		CHECK_EQ_INT(xsum_of(b, 2, &r), ECORE_OK);
		CHECK(r == tiny);
		CHECK_EQ_INT(xsum_of(c, 3, &r), ECORE_OK);
		CHECK(r == -tiny);
	}
	{
		/* past DBL_MAX: an error, not infinity; back in range: exact */
		double		a[] = {DBL_MAX, DBL_MAX};
		double		b[] = {DBL_MAX, DBL_MAX, -DBL_MAX};
		double		c[] = {-DBL_MAX, -DBL_MAX};
		double		e[] = {DBL_MAX, ldexp(1.0, 970)};
		double		f[] = {DBL_MAX, ldexp(1.0, 969)};

		CHECK_EQ_INT(xsum_of(a, 2, &r), ECORE_EOVERFLOW);
		CHECK_EQ_INT(xsum_of(b, 3, &r), ECORE_OK);
		CHECK(r == DBL_MAX);
		CHECK_EQ_INT(xsum_of(c, 2, &r), ECORE_EOVERFLOW);
		/* DBL_MAX + half an ulp rounds to 2^1024 (even): overflow */
		CHECK_EQ_INT(xsum_of(e, 2, &r), ECORE_EOVERFLOW);
		CHECK_EQ_INT(xsum_of(f, 2, &r), ECORE_OK);
		CHECK(r == DBL_MAX);
	}

	/* x and -x of every magnitude cancel exactly around a target */
	ecore_rng_seed(&rng, 11, 0);
	v = malloc(sizeof(double) * n);
	for (i = 0; i + 1 < n; i += 2)
	{
		v[i] = wide_double(&rng, -1074, 1020);
		v[i + 1] = -v[i];
	}
	v[n - 1] = 0.1;
	for (i = 0; i < 5; i++)
	{
		shuffle(v, n, &rng);
		CHECK_EQ_INT(xsum_of(v, n, &r), ECORE_OK);
		CHECK(bits_of(r) == bits_of(0.1));
		CHECK_EQ_INT(xsum_split(v, n, 7, &rng, &r), ECORE_OK);
		CHECK(bits_of(r) == bits_of(0.1));
	}
	free(v);
}

/*
 * Against an exact 128-bit integer reference (values m * 2^e with e in
 * [-40, 30]: multiples of 2^-92 below 2^84), and the same bits for every
 * order and split.
 */
void
test_xsum_orders_splits(void)
{
	ecore_rng	rng;
	size_t		n = 50000,
				i;
	double	   *v = malloc(sizeof(double) * n);
	__int128	ref = 0;
	double		want,
				r,
				first = 0.0;
	int			t;

	ecore_rng_seed(&rng, 5, 0);
	for (i = 0; i < n; i++)
	{
		/* 53-bit mantissas: 2^-92 divides every value */
		double		x = wide_double(&rng, -40, 30);

		v[i] = x;
		ref += (__int128) ldexp(x, 92);
	}
	/* (double) of an __int128 rounds to nearest even; ldexp is exact */
	want = ldexp((double) ref, -92);
	for (t = 0; t < 12; t++)
	{
		shuffle(v, n, &rng);
		if (t % 2 == 0)
			CHECK_EQ_INT(xsum_of(v, n, &r), ECORE_OK);
		else
			CHECK_EQ_INT(xsum_split(v, n, 1 + t * 5, &rng, &r), ECORE_OK);
		CHECK(bits_of(r) == bits_of(want));
		if (t == 0)
			first = r;
		CHECK(bits_of(r) == bits_of(first));
	}
	/* a naive sum of the same values differs in some order (the reason) */
	{
		int			differs = 0;

		for (t = 0; t < 12 && !differs; t++)
		{
			double		s = 0.0;

			shuffle(v, n, &rng);
			for (i = 0; i < n; i++)
				s += v[i];
			differs = bits_of(s) != bits_of(want);
		}
		CHECK(differs);
	}
	free(v);
}

/* Carry propagation past ECORE_XSUM_PENDING_MAX additions, and validity. */
void
test_xsum_carries(void)
{
	int64_t		x[ECORE_XSUM_SLOTS];
	int64_t		y[ECORE_XSUM_SLOTS];
	int64_t		i;
	double		r;

	ecore_xsum_init(x);
	/* the largest mantissa at a digit boundary: every digit carries */
	for (i = 0; i < ECORE_XSUM_PENDING_MAX + 1000; i++)
		ecore_xsum_add(x, 0x1.fffffffffffffp+40);
	CHECK(x[0] == 1000);
	CHECK(ecore_xsum_valid(x));
	CHECK_EQ_INT(ecore_xsum_value(x, &r), ECORE_OK);
	CHECK(r == (double) (ECORE_XSUM_PENDING_MAX + 1000) * 0x1.fffffffffffffp+40);
	memcpy(y, x, sizeof(y));
	ecore_xsum_merge(x, y);
	CHECK_EQ_INT(ecore_xsum_value(x, &r), ECORE_OK);
	CHECK(r == 2.0 * (double) (ECORE_XSUM_PENDING_MAX + 1000) * 0x1.fffffffffffffp+40);
	CHECK(!ecore_xsum_is_zero(x));
	/* malformed accumulators are refused */
	y[0] = -1;
	CHECK(!ecore_xsum_valid(y));
	y[0] = 0;
	y[ECORE_XSUM_DIGITS] = ECORE_XSUM_TOP_MAX + 1;
	CHECK(!ecore_xsum_valid(y));
	y[ECORE_XSUM_DIGITS] = 0;
	y[3] = INT64_C(1) << 62;
	CHECK(!ecore_xsum_valid(y));
}

/*
 * Quotients: the exact sum divided by n rounded once is IEEE division
 * x / n when the sum is one double x and n is exact in a double.
 */
void
test_xsum_div_variance(void)
{
	ecore_rng	rng;
	int64_t		x[ECORE_XSUM_SLOTS],
				s2[ECORE_XSUM_SLOTS];
	double		r;
	int			t;

	ecore_rng_seed(&rng, 3, 0);
	for (t = 0; t < 20000; t++)
	{
		double		v = wide_double(&rng, -1074, 1023);
		uint64_t	n = 1 + ecore_rng_next(&rng) % (t % 3 == 0 ? UINT64_C(7) :
													  t % 3 == 1 ? UINT64_C(1) << 32 :
													  UINT64_C(1) << 53);

		ecore_xsum_init(x);
		ecore_xsum_add(x, v);
		CHECK_EQ_INT(ecore_xsum_div(x, n, &r), ECORE_OK);
		if (bits_of(r) != bits_of(v / (double) n))
		{
			CHECK_CLOSE(r, v / (double) n, 0.0);
			break;
		}
	}
	ecore_xsum_init(x);
	CHECK_EQ_INT(ecore_xsum_div(x, 0, &r), ECORE_EINVAL_ARG);

	/* variance: exact cases, with the cancellation a naive formula fails */
	{
		double		a[] = {1e9 + 1, 1e9 + 2, 1e9 + 3, 1e9 + 4};
		double		b[] = {1, 2, 3, 4};
		double		c[] = {3e80, 3e80, 3e80};
		int			i;

		ecore_xsum_init(x);
		ecore_xsum_init(s2);
		for (i = 0; i < 4; i++)
		{
			ecore_xsum_add(x, a[i]);
			ecore_xsum_add_square(s2, a[i]);
		}
		CHECK_EQ_INT(ecore_xsum_variance(x, s2, 4, &r), ECORE_OK);
		CHECK(r == 1.25);
		ecore_xsum_init(x);
		ecore_xsum_init(s2);
		for (i = 0; i < 4; i++)
		{
			ecore_xsum_add(x, b[i] * 1e-100);
			ecore_xsum_add_square(s2, b[i] * 1e-100);
		}
		CHECK_EQ_INT(ecore_xsum_variance(x, s2, 4, &r), ECORE_OK);
		CHECK_CLOSE(r, 1.25e-200, 1e-15);
		ecore_xsum_init(x);
		ecore_xsum_init(s2);
		for (i = 0; i < 3; i++)
		{
			ecore_xsum_add(x, c[i]);
			ecore_xsum_add_square(s2, c[i]);
		}
		CHECK_EQ_INT(ecore_xsum_variance(x, s2, 3, &r), ECORE_OK);
		CHECK(r == 0.0);
	}
	/*
	 * integers around 2^(3t): against the exact rational variance (int128),
	 * where a one-pass floating-point formula loses every digit
	 */
	for (t = 0; t < 18; t++)
	{
		long		n = 1000 + t,
				i;
		__int128	S = 0,
					Q = 0,
					D;
		double		off = ldexp(1.0, t * 3);

		ecore_xsum_init(x);
		ecore_xsum_init(s2);
		for (i = 0; i < n; i++)
		{
			double		v = off + (double) ((i * 7919) % 1000);

			ecore_xsum_add(x, v);
			ecore_xsum_add_square(s2, v);
			S += (__int128) v;
			Q += (__int128) v * (__int128) v;
		}
		D = (__int128) n * Q - S * S;
		CHECK_EQ_INT(ecore_xsum_variance(x, s2, (uint64_t) n, &r), ECORE_OK);
		CHECK_CLOSE(r, (double) ((long double) D / ((long double) n * n)), 2 * DBL_EPSILON);
		CHECK_EQ_INT(ecore_xsum_div(x, (uint64_t) n, &r), ECORE_OK);
		CHECK_CLOSE(r, (double) ((long double) S / n), DBL_EPSILON);
	}
}

/* The scaler state against ecore_scaler_fit, in every order and split. */
void
test_scaleagg(void)
{
	size_t		n = 3000,
				d = 3,
				i,
				j,
				col;
	double	   *X = make_blobs(n, d, 4, 50.0, 9, NULL);
	ecore_env	env = make_env();
	ecore_scaler ref,
				s;
	size_t		ns = ecore_scaleagg_slots(d, ECORE_SCALE_ZSCORE),
				nmax = ecore_scaleagg_slots(d, ECORE_SCALE_LOG);
	int64_t    *a = malloc(sizeof(int64_t) * nmax),
			   *b = malloc(sizeof(int64_t) * nmax),
			   *c = malloc(sizeof(int64_t) * nmax);
	double		buf[6 * 3];
	int			m;
	double		bad[3] = {1.0, NAN, 2.0};

	for (i = 0; i < n; i++)
		X[i * d + 2] = X[i * d + 2] * 1e7 + 3e9;	/* a large mean */
	/* log last: it takes the absolute values */
	for (m = 0; m < 4; m++)
	{
		ecore_scale_method method = m == 0 ? ECORE_SCALE_ZSCORE :
			m == 1 ? ECORE_SCALE_MINMAX : m == 2 ? ECORE_SCALE_NONE : ECORE_SCALE_LOG;

		if (method == ECORE_SCALE_LOG)
			for (i = 0; i < n * d; i++)
				X[i] = fabs(X[i]);

		CHECK_EQ_INT(ecore_scaler_init(&ref, method, d, &env), ECORE_OK);
		CHECK_EQ_INT(ecore_scaler_fit(&ref, X, n, &env), ECORE_OK);
		/* a: every point in order; b + c: odd and even rows, merged */
		ecore_scaleagg_init(a, d, method);
		ecore_scaleagg_init(b, d, method);
		ecore_scaleagg_init(c, d, method);
		for (i = 0; i < n; i++)
		{
			CHECK_EQ_INT(ecore_scaleagg_add(a, X + i * d, &col), ECORE_OK);
			CHECK_EQ_INT(ecore_scaleagg_add(i % 2 ? b : c, X + (n - 1 - i) * d, &col), ECORE_OK);
		}
		CHECK_EQ_INT(ecore_scaleagg_check(a, ecore_scaleagg_slots(d, method)), ECORE_OK);
		CHECK_EQ_INT(ecore_scaleagg_merge(c, b), ECORE_OK);
		CHECK_EQ_INT(ecore_scaleagg_n(c), n);
		s.method = method;
		s.d = d;
		s.mean = buf;
		s.var = buf + 3;
		s.data_min = buf + 6;
		s.data_max = buf + 9;
		s.scale = buf + 12;
		s.offset = buf + 15;
		CHECK_EQ_INT(ecore_scaleagg_final(a, &s), ECORE_OK);
		{
			double		keep[18];

			memcpy(keep, buf, sizeof(keep));
			CHECK_EQ_INT(ecore_scaleagg_final(c, &s), ECORE_OK);
			CHECK(memcmp(keep, buf, sizeof(keep)) == 0);
		}
		for (j = 0; j < d; j++)
		{
			CHECK(s.data_min[j] == ref.data_min[j]);
			CHECK(s.data_max[j] == ref.data_max[j]);
			CHECK_CLOSE(s.mean[j], ref.mean[j], 4 * DBL_EPSILON);
			CHECK_CLOSE(s.var[j], ref.var[j], 4 * DBL_EPSILON);
			if (method == ECORE_SCALE_ZSCORE)
				CHECK_CLOSE(s.scale[j], ref.scale[j], 4 * DBL_EPSILON);
			else if (method == ECORE_SCALE_LOG)
			{
				/* the exact sums of log1p against numpy's pairwise ones */
				CHECK_CLOSE(s.scale[j], ref.scale[j], 1e-14);
				CHECK_CLOSE(s.offset[j], ref.offset[j], 1e-14);
			}
			else
				CHECK(s.scale[j] == ref.scale[j] && s.offset[j] == ref.offset[j]);
		}
		arena_reset(&g_arena);
		env = make_env();
	}
	/* log: a negative value is refused, the state unchanged */
	memcpy(b, a, sizeof(int64_t) * nmax);
	bad[1] = -0.5;
	CHECK_EQ_INT(ecore_scaleagg_add(a, bad, &col), ECORE_ENEGATIVE);
	CHECK_EQ_INT(col, 1);
	CHECK(memcmp(a, b, sizeof(int64_t) * nmax) == 0);
	bad[1] = NAN;
	/* errors: a bad value leaves the state unchanged; other d or method */
	ecore_scaleagg_init(a, d, ECORE_SCALE_MINMAX);
	for (i = 0; i < n; i++)
		CHECK_EQ_INT(ecore_scaleagg_add(a, X + i * d, &col), ECORE_OK);
	memcpy(b, a, sizeof(int64_t) * ns);
	CHECK_EQ_INT(ecore_scaleagg_add(a, bad, &col), ECORE_ENONFINITE);
	CHECK_EQ_INT(col, 1);
	CHECK(memcmp(a, b, sizeof(int64_t) * ns) == 0);
	bad[1] = 2e100;
	CHECK_EQ_INT(ecore_scaleagg_add(a, bad, &col), ECORE_ERANGE);
	ecore_scaleagg_init(c, d, ECORE_SCALE_ZSCORE);
	CHECK_EQ_INT(ecore_scaleagg_merge(a, c), ECORE_EINVAL_ARG);
	CHECK_EQ_INT(ecore_scaleagg_final(c, &s), ECORE_EINVAL_N);
	CHECK_EQ_INT(ecore_scaleagg_check(a, ns - 1), ECORE_EINVAL_ARG);
	a[0]++;
	CHECK_EQ_INT(ecore_scaleagg_check(a, ns), ECORE_EINVAL_ARG);
	CHECK(ecore_scaleagg_slots(0, ECORE_SCALE_ZSCORE) == 0);
	CHECK(ecore_scaleagg_slots(d, ECORE_SCALE_ROBUST) == 0);
	free(a);
	free(b);
	free(c);
	free(X);
}

/* The final results of a step state (arrays in caller buffers) */
typedef struct step_result
{
	double		next[64];
	int64_t		sizes[8];
	double		ci[8];
	ecore_kstep_out out;
} step_result;

/* Run a step over X split into `parts` states merged in reverse order */
static void
run_step(const double *X, size_t n, size_t d, const double *C, int k,
		 int parts, step_result *r)
{
	size_t		ns = ecore_kstep_slots(k, d),
				i;
	int64_t    *st = malloc(sizeof(int64_t) * ns * (size_t) (parts + 1));
	int			p;

	for (p = 0; p < parts; p++)
		ecore_kstep_init(st + (size_t) p * ns, k, d, C, 77);
	for (i = 0; i < n; i++)
		ecore_kstep_add(st + (i * 7919 % (size_t) parts) * ns, C, X + i * d);
	for (p = parts - 1; p > 0; p--)
		CHECK_EQ_INT(ecore_kstep_merge(st + (size_t) (p - 1) * ns, st + (size_t) p * ns), ECORE_OK);
	CHECK_EQ_INT(ecore_kstep_check(st, ns), ECORE_OK);
	r->out.next = r->next;
	r->out.sizes = r->sizes;
	r->out.cluster_inertia = r->ci;
	CHECK_EQ_INT(ecore_kstep_final(st, st + ns, &r->out), ECORE_OK);
	free(st);
}

/*
 * One step: the same bits for every split; sizes and labels as
 * ecore_kmeans_assign, centroids the means of the assigned points,
 * inertia as ecore_kmeans_inertia; iterated to a fixed point it stays.
 */
void
test_kstep_vs_core(void)
{
	size_t		n = 2000,
				d = 3,
				i;
	int			k = 4,
				j;
	double	   *X = make_blobs(n, d, 4, 10.0, 21, NULL);
	double		C[12];
	int32_t    *lab = malloc(sizeof(int32_t) * n);
	ecore_env	env = make_env();
	step_result r1,
				r2;
	double		inertia,
				ci[4];
	int64_t		sizes[4];
	int			it;

	for (j = 0; j < k; j++)
		memcpy(C + j * d, X + (size_t) j * 97 * d, d * sizeof(double));
	run_step(X, n, d, C, k, 1, &r1);
	run_step(X, n, d, C, k, 5, &r2);
	CHECK(memcmp(r1.next, r2.next, sizeof(double) * (size_t) k * d) == 0);
	CHECK(bits_of(r1.out.inertia) == bits_of(r2.out.inertia));
	CHECK(memcmp(r1.ci, r2.ci, sizeof(double) * (size_t) k) == 0);
	CHECK_EQ_INT(ecore_kmeans_assign(X, n, d, C, k, &env, lab, NULL), ECORE_OK);
	CHECK_EQ_INT(ecore_kmeans_inertia(X, n, d, C, k, lab, &env, &inertia, ci, sizes), ECORE_OK);
	CHECK_CLOSE(r1.out.inertia, inertia, 1e-12);
	for (j = 0; j < k; j++)
	{
		long double s[3] = {0, 0, 0};
		size_t		f;

		CHECK_EQ_INT(r1.sizes[j], sizes[j]);
		CHECK_CLOSE(r1.ci[j], ci[j], 1e-12);
		for (i = 0; i < n; i++)
			if (lab[i] == j)
				for (f = 0; f < d; f++)
					s[f] += X[i * d + f];
		for (f = 0; f < d; f++)
			CHECK_CLOSE(r1.next[j * d + f], (double) (s[f] / sizes[j]), 1e-15);
	}
	CHECK_EQ_INT(r1.out.n, n);
	CHECK_EQ_INT(r1.out.empty, 0);
	/* iterate to the fixed point: there, the next centroids are C */
	memcpy(C, r1.next, sizeof(C));
	for (it = 0; it < 100 && !r1.out.fixed_point; it++)
	{
		run_step(X, n, d, C, k, 1 + it % 3, &r1);
		memcpy(C, r1.next, sizeof(C));
	}
	CHECK(r1.out.fixed_point);
	run_step(X, n, d, C, k, 2, &r2);
	CHECK(r2.out.fixed_point);
	CHECK(memcmp(r2.next, C, sizeof(double) * (size_t) k * d) == 0);
	free(X);
	free(lab);
}

/*
 * Empty clusters: as the core's Lloyd, each takes the farthest point of
 * a cluster that keeps a point; with fewer points than clusters one
 * stays empty and keeps its centroid; states of other centroids refuse
 * to merge.
 */
void
test_kstep_empty(void)
{
	/* 1-D: points 0, 1, 2, 10; centroids 0, 100, 200 */
	double		X[] = {0.0, 1.0, 2.0, 10.0};
	double		C[] = {0.0, 100.0, 200.0};
	double		C2[] = {0.0, 100.0, 201.0};
	step_result r;
	size_t		ns = ecore_kstep_slots(3, 1);
	int64_t    *a = malloc(sizeof(int64_t) * ns),
			   *b = malloc(sizeof(int64_t) * ns);

	run_step(X, 4, 1, C, 3, 3, &r);
	CHECK_EQ_INT(r.sizes[0], 4);
	CHECK_EQ_INT(r.sizes[1], 0);
	CHECK_EQ_INT(r.out.empty, 2);
	CHECK_EQ_INT(r.out.relocated, 2);
	/* cluster 1 takes 10 (farthest), cluster 2 then takes 2 */
	CHECK(r.next[1] == 10.0);
	CHECK(r.next[2] == 2.0);
	CHECK(r.next[0] == 0.5);
	CHECK(r.out.inertia == 0.0 + 1.0 + 4.0 + 100.0);
	CHECK(!r.out.fixed_point);
	/* two points, three clusters: the third stays empty */
	run_step(X + 2, 2, 1, C, 3, 2, &r);
	CHECK_EQ_INT(r.out.relocated, 1);
	CHECK(r.next[0] == 2.0);
	CHECK(r.next[1] == 10.0);
	CHECK(r.next[2] == 200.0);
	/* merge refuses other centroids or another normalisation */
	ecore_kstep_init(a, 3, 1, C, 1);
	ecore_kstep_init(b, 3, 1, C2, 1);
	CHECK_EQ_INT(ecore_kstep_merge(a, b), ECORE_EINVAL_ARG);
	ecore_kstep_init(b, 3, 1, C, 2);
	CHECK_EQ_INT(ecore_kstep_merge(a, b), ECORE_EINVAL_ARG);
	CHECK_EQ_INT(ecore_kstep_check(a, ns), ECORE_OK);
	CHECK_EQ_INT(ecore_kstep_check(a, ns + 1), ECORE_EINVAL_ARG);
	a[3] = 5;					/* n without counts */
	CHECK_EQ_INT(ecore_kstep_check(a, ns), ECORE_EINVAL_ARG);
	CHECK(ecore_kstep_slots(0, 1) == 0);
	CHECK(ecore_kstep_slots(ECORE_KSTEP_MAX_K + 1, 1) == 0);
	free(a);
	free(b);
}

/* Slot of the first target's bucket count in a pass result of T targets */
#define QP_RES_FIRST(T) (4 + 3 * (size_t) (T))

/* The robust scaler of ecore_scaler_fit (scale and offset) */
static void
robust_ref(const double *X, size_t n, size_t d, double *scale, double *offset)
{
	ecore_env	env = make_env();
	ecore_scaler ref;

	CHECK_EQ_INT(ecore_scaler_init(&ref, ECORE_SCALE_ROBUST, d, &env), ECORE_OK);
	CHECK_EQ_INT(ecore_scaler_fit(&ref, X, n, &env), ECORE_OK);
	memcpy(scale, ref.scale, d * sizeof(double));
	memcpy(offset, ref.offset, d * sizeof(double));
	arena_reset(&g_arena);
}

/*
 * Exact quantiles in passes: the robust scaler equal to ecore_scaler_fit's
 * (numerically equal: the same values, the zeros' sign aside) on every
 * small n, heavy ties, both zeros, negative and huge values; the pass
 * states of random splits merged in random orders the same bits; bad
 * targets and damaged or mismatched states refused.
 */
void
test_quantile_passes(void)
{
	const size_t d = 3;
	size_t		nmax = 5000,
				n,
				i,
				j;
	double	   *X = malloc(sizeof(double) * nmax * d);
	void	   *work = malloc(ecore_qres_bytes(d));
	int64_t    *pass = malloc(sizeof(int64_t) * ecore_qpass_slots(6 * (int) d)),
			   *part = malloc(sizeof(int64_t) * ecore_qpass_slots(6 * (int) d)),
			   *targets = malloc(sizeof(int64_t) * 3 * ECORE_QPASS_MAX_TARGETS),
			   *big = malloc(sizeof(int64_t) * ecore_qpass_slots(ECORE_QPASS_MAX_TARGETS));
	ecore_rng	r;
	ecore_env	env = make_env();
	double		scale[3],
				offset[3],
				rscale[3],
				roffset[3];
	int			trial,
				max_passes = 0;

	ecore_rng_seed(&r, 77, 1);
	for (trial = 0; trial < 40; trial++)
	{
		ecore_scaler s;
		ecore_qres	q;
		int			T,
					rc;

		n = trial < 12 ? (size_t) trial + 1 : trial < 30 ? 13 + ecore_rng_below(&r, 200) : nmax;
		for (i = 0; i < n; i++)
		{
			double		u = ecore_rng_uniform(&r);

			/* feature 1: heavy ties and both zeros; 2: heavy tails; 3: smooth */
			X[i * d] = u < 0.3 ? 0.0 : u < 0.4 ? -0.0 : u < 0.7 ? 1.0 : floor(10.0 * u) - 5.0;
			X[i * d + 1] = (u < 0.5 ? -1.0 : 1.0) * pow(10.0, 60.0 * ecore_rng_uniform(&r) - 30.0);
			X[i * d + 2] = 1e9 + ecore_rng_uniform(&r) * 1e-3 * (double) trial;
		}
		robust_ref(X, n, d, rscale, roffset);
		s.d = d;
		s.method = ECORE_SCALE_ROBUST;
		s.scale = scale;
		s.offset = offset;
		CHECK_EQ_INT(ecore_qres_memory(X, n, d, &s, work, big, targets, &env), ECORE_OK);
		for (j = 0; j < d; j++)
			CHECK(scale[j] == rscale[j] && offset[j] == roffset[j]);

		/* the passes in random splits: the same states, the same values */
		ecore_qres_init(&q, work, d, (int64_t) n);
		while ((T = ecore_qres_targets(&q, targets)) > 0)
		{
			int64_t    *whole = big;
			size_t		ns = ecore_qpass_slots(T),
						cut = n > 1 ? ecore_rng_below(&r, n) : 0;

			CHECK(T <= 6 * (int) d);
			CHECK_EQ_INT(ecore_qpass_init(whole, d, T, targets), ECORE_OK);
			CHECK_EQ_INT(ecore_qpass_init(pass, d, T, targets), ECORE_OK);
			CHECK_EQ_INT(ecore_qpass_init(part, d, T, targets), ECORE_OK);
			for (i = 0; i < n; i++)
			{
				ecore_qpass_add(whole, X + i * d);
				ecore_qpass_add(i < cut ? pass : part, X + (n - 1 - i) * d);
			}
			CHECK_EQ_INT(ecore_qpass_check(part, ns), ECORE_OK);
			CHECK_EQ_INT(ecore_qpass_merge(part, pass), ECORE_OK);
			CHECK(memcmp(part, whole, ns * sizeof(int64_t)) == 0);
			/* the compact result gives the state back */
			{
				size_t		rs = ecore_qpass_result_slots(whole);
				int64_t    *res = malloc(rs * sizeof(int64_t));
				int			T2 = 0;

				ecore_qpass_result(whole, res);
				CHECK(rs < ns || n > 100);
				CHECK_EQ_INT(ecore_qpass_from_result(res, rs, pass, &T2), ECORE_OK);
				CHECK_EQ_INT(T2, T);
				CHECK(memcmp(pass, whole, ns * sizeof(int64_t)) == 0);
				CHECK_EQ_INT(ecore_qpass_from_result(res, rs - 1, pass, &T2), ECORE_EINVAL_ARG);
				if (rs > QP_RES_FIRST(T) + 1 && res[QP_RES_FIRST(T)] > 0)
				{
					res[QP_RES_FIRST(T) + 2] = n + 1;	/* a count past the points */
					CHECK_EQ_INT(ecore_qpass_from_result(res, rs, pass, &T2), ECORE_EINVAL_ARG);
				}
				free(res);
			}
			rc = ecore_qres_update(&q, part);
			CHECK_EQ_INT(rc, ECORE_OK);
			if (rc != ECORE_OK)
				break;
		}
		CHECK(q.passes <= 8);
		if (q.passes > max_passes)
			max_passes = q.passes;
		ecore_qres_robust(&q, &s);
		for (j = 0; j < d; j++)
			CHECK(scale[j] == rscale[j] && offset[j] == roffset[j]);
	}
	CHECK(max_passes >= 3);

	/* malformed targets, damaged and mismatched states */
	{
		int64_t		tg[6] = {0, 0, 0, 3, 0, 0};
		ecore_qres	q;
		int			T;

		CHECK_EQ_INT(ecore_qpass_init(pass, d, 2, tg), ECORE_EINVAL_ARG);	/* feature 3 */
		tg[3] = 1;
		tg[4] = 4;
		CHECK_EQ_INT(ecore_qpass_init(pass, d, 2, tg), ECORE_EINVAL_ARG);	/* L = 4 */
		tg[4] = 8;
		tg[5] = 256;
		CHECK_EQ_INT(ecore_qpass_init(pass, d, 2, tg), ECORE_EINVAL_ARG);	/* P >= 2^L */
		tg[5] = 255;
		CHECK_EQ_INT(ecore_qpass_init(pass, d, 2, tg), ECORE_OK);
		CHECK_EQ_INT(ecore_qpass_init(part, d, 1, tg), ECORE_OK);
		CHECK_EQ_INT(ecore_qpass_merge(pass, part), ECORE_EINVAL_ARG);
		CHECK(ecore_qpass_slots(0) == 0);
		CHECK(ecore_qpass_slots(ECORE_QPASS_MAX_TARGETS + 1) == 0);
		/* a pass of other rows than the first: refused */
		ecore_qres_init(&q, work, d, 10);
		T = ecore_qres_targets(&q, targets);
		CHECK_EQ_INT(T, 3);
		CHECK_EQ_INT(ecore_qpass_init(pass, d, T, targets), ECORE_OK);
		for (i = 0; i < 9; i++)
			ecore_qpass_add(pass, X + i * d);
		CHECK_EQ_INT(ecore_qres_update(&q, pass), ECORE_EINVAL_ARG);
		/* a count past the points, a key outside its bucket */
		ecore_qpass_add(pass, X + 9 * d);
		CHECK_EQ_INT(ecore_qpass_check(pass, ecore_qpass_slots(T)), ECORE_OK);
		pass[4 + 3 * T] = 11;
		CHECK_EQ_INT(ecore_qpass_check(pass, ecore_qpass_slots(T)), ECORE_EINVAL_ARG);
		CHECK_EQ_INT(ecore_qpass_check(pass, ecore_qpass_slots(T) - 1), ECORE_EINVAL_ARG);
	}
	free(X);
	free(work);
	free(pass);
	free(part);
	free(targets);
	free(big);
}
