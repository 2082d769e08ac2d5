/*-------------------------------------------------------------------------
 *
 * xsum.c
 *	  Exact sums of doubles (see xsum.h): carry propagation, merging,
 *	  and the correctly rounded sum, quotient and variance, computed on
 *	  small sign-magnitude big integers (xbig) at the end.
 *
 * Copyright (c) 2026, engage developers
 *
 *-------------------------------------------------------------------------
 */
#include "xsum.h"

#include <math.h>

/*
 * Big integers of the final computations: sign and magnitude in 32-bit
 * digits, least significant first; the value is (-1)^neg * mag * 2^base
 * with base kept by the caller.  XB_MAX digits hold the square of an
 * accumulator shifted by 64 bits (2 * 69 + 3).
 */
#define XB_MAX 144

typedef struct xbig
{
	int			neg;
	int			len;			/* digits in use; mag[len - 1] != 0 or 0 */
	uint32_t	mag[XB_MAX];
} xbig;

/* Weight of digit 0 of an accumulator: 2^-1074 */
#define XSUM_BASE (-1074)

/* Set an accumulator to 0. */
void
ecore_xsum_init(int64_t *x)
{
	memset(x, 0, ECORE_XSUM_SLOTS * sizeof(int64_t));
}

/* Propagate the carries (see xsum.h). */
void
ecore_xsum_normalize(int64_t *x)
{
	int64_t    *dg = x + 1;
	int64_t		c = 0;
	int			i;

	for (i = 0; i < ECORE_XSUM_DIGITS - 1; i++)
	{
		int64_t		v = dg[i] + c;
		int64_t		lo = (int64_t) ((uint64_t) v & 0xFFFFFFFFu);

		/* v - lo is a multiple of 2^32: the division is exact */
		c = (v - lo) / (INT64_C(1) << 32);
		dg[i] = lo;
	}
	dg[ECORE_XSUM_DIGITS - 1] += c;
	x[0] = 0;
}

/* The carry propagation of ecore_xsum_add, kept out of line. */
void
ecore_xsum_normalize_slow(int64_t *x)
{
	ecore_xsum_normalize(x);
}

/* Is x a valid accumulator? */
int
ecore_xsum_valid(const int64_t *x)
{
	const int64_t lim = INT64_C(1) << 62;
	int			i;

	if (x[0] < 0 || x[0] >= ECORE_XSUM_PENDING_MAX)
		return 0;
	for (i = 1; i <= ECORE_XSUM_DIGITS; i++)
		if (x[i] >= lim || x[i] <= -lim)
			return 0;
	if (x[ECORE_XSUM_DIGITS] > ECORE_XSUM_TOP_MAX ||
		x[ECORE_XSUM_DIGITS] < -ECORE_XSUM_TOP_MAX)
		return 0;
	return 1;
}

/*
 * x += y: both are normalised first (y in a copy), so that the digit sums
 * stay below 2^33; then the carries are propagated again.
 */
void
ecore_xsum_merge(int64_t *x, const int64_t *y)
{
	int64_t		t[ECORE_XSUM_SLOTS];
	int			i;

	memcpy(t, y, sizeof(t));
	ecore_xsum_normalize(t);
	ecore_xsum_normalize(x);
	for (i = 1; i <= ECORE_XSUM_DIGITS; i++)
		x[i] += t[i];
	ecore_xsum_normalize(x);
}

/* Is the value 0? */
int
ecore_xsum_is_zero(const int64_t *x)
{
	int64_t		t[ECORE_XSUM_SLOTS];
	int			i;

	memcpy(t, x, sizeof(t));
	ecore_xsum_normalize(t);
	for (i = 1; i <= ECORE_XSUM_DIGITS; i++)
		if (t[i] != 0)
			return 0;
	return 1;
}

/* Drop leading zero digits. */
static void
xb_trim(xbig *a)
{
	while (a->len > 0 && a->mag[a->len - 1] == 0)
		a->len--;
}

/*
 * The big integer of an accumulator (base 2^-1074).  Fails (0) when the
 * top digit is beyond its bound (a malformed accumulator).
 */
static int
xb_from_xsum(xbig *a, const int64_t *x)
{
	int64_t		t[ECORE_XSUM_SLOTS];
	int64_t		top;
	int			i;

	memcpy(t, x, sizeof(t));
	ecore_xsum_normalize(t);
	a->neg = 0;
	if (t[ECORE_XSUM_DIGITS] < 0)
	{
		/* negative: take the magnitude, -value, normalised again */
		for (i = 1; i <= ECORE_XSUM_DIGITS; i++)
			t[i] = -t[i];
		ecore_xsum_normalize(t);
		a->neg = 1;
	}
	top = t[ECORE_XSUM_DIGITS];
	if (top < 0 || top > ECORE_XSUM_TOP_MAX)
		return 0;
	for (i = 0; i < ECORE_XSUM_DIGITS - 1; i++)
		a->mag[i] = (uint32_t) t[i + 1];
	a->mag[ECORE_XSUM_DIGITS - 1] = (uint32_t) ((uint64_t) top & 0xFFFFFFFFu);
	a->mag[ECORE_XSUM_DIGITS] = (uint32_t) ((uint64_t) top >> 32);
	a->len = ECORE_XSUM_DIGITS + 1;
	xb_trim(a);
	if (a->len == 0)
		a->neg = 0;
	return 1;
}

/* a <<= bits (the result must fit in XB_MAX digits). */
static void
xb_shl(xbig *a, int bits)
{
	int			q = bits / 32,
				r = bits % 32,
				i;

	if (a->len == 0)
		return;
	a->mag[a->len] = 0;
	for (i = a->len; i >= 0; i--)
	{
		uint64_t	v = ((uint64_t) a->mag[i] << r);

		if (i > 0 && r > 0)
			v |= (uint64_t) a->mag[i - 1] >> (32 - r);
		a->mag[i + q] = (uint32_t) v;
	}
	for (i = 0; i < q; i++)
		a->mag[i] = 0;
	a->len += q + 1;
	xb_trim(a);
}

/* r = |a| * |b| (r distinct from a and b; the sizes must fit). */
static void
xb_mul(xbig *r, const xbig *a, const xbig *b)
{
	int			i,
				j;

	r->neg = 0;
	r->len = a->len + b->len;
	memset(r->mag, 0, sizeof(uint32_t) * (size_t) r->len);
	for (i = 0; i < a->len; i++)
	{
		uint64_t	carry = 0;

		for (j = 0; j < b->len; j++)
		{
			uint64_t	t = (uint64_t) a->mag[i] * b->mag[j] +
				r->mag[i + j] + carry;

			r->mag[i + j] = (uint32_t) t;
			carry = t >> 32;
		}
		r->mag[i + b->len] = (uint32_t) carry;
	}
	xb_trim(r);
}

/* Compare magnitudes: -1, 0, 1. */
static int
xb_cmp(const xbig *a, const xbig *b)
{
	int			i;

	if (a->len != b->len)
		return a->len < b->len ? -1 : 1;
	for (i = a->len - 1; i >= 0; i--)
		if (a->mag[i] != b->mag[i])
			return a->mag[i] < b->mag[i] ? -1 : 1;
	return 0;
}

/* a = |a| - |b|, with |a| >= |b|. */
static void
xb_sub_mag(xbig *a, const xbig *b)
{
	int64_t		borrow = 0;
	int			i;

	for (i = 0; i < a->len; i++)
	{
		int64_t		v = (int64_t) a->mag[i] - borrow -
			(i < b->len ? (int64_t) b->mag[i] : 0);

		borrow = v < 0;
		a->mag[i] = (uint32_t) (v + (borrow ? (INT64_C(1) << 32) : 0));
	}
	xb_trim(a);
}

/*
 * a = floor(|a| / n), n >= 1; returns whether the remainder is not 0.
 * Bitwise long division: the remainder stays below n < 2^63.
 */
static int
xb_div_u64(xbig *a, uint64_t n)
{
	uint64_t	rem = 0;
	int			i,
				bit;

	if (n < (UINT64_C(1) << 32))
	{
		for (i = a->len - 1; i >= 0; i--)
		{
			uint64_t	cur = (rem << 32) | a->mag[i];

			a->mag[i] = (uint32_t) (cur / n);
			rem = cur % n;
		}
	}
	else
	{
		for (i = a->len - 1; i >= 0; i--)
		{
			uint32_t	q = 0;

			for (bit = 31; bit >= 0; bit--)
			{
				rem = (rem << 1) | ((a->mag[i] >> bit) & 1u);
				if (rem >= n)
				{
					rem -= n;
					q |= (uint32_t) 1 << bit;
				}
			}
			a->mag[i] = q;
		}
	}
	xb_trim(a);
	return rem != 0;
}

/* Bit i of the magnitude. */
static int
xb_bit(const xbig *a, int i)
{
	if (i < 0 || i / 32 >= a->len)
		return 0;
	return (a->mag[i / 32] >> (i % 32)) & 1u;
}

/* Is any bit below bit `below` set? */
static int
xb_any_below(const xbig *a, int below)
{
	int			i,
				q;

	if (below <= 0)
		return 0;
	q = below / 32;
	for (i = 0; i < q && i < a->len; i++)
		if (a->mag[i] != 0)
			return 1;
	if (q < a->len && (below % 32) != 0 &&
		(a->mag[q] & (((uint32_t) 1 << (below % 32)) - 1u)) != 0)
		return 1;
	return 0;
}

/*
 * (-1)^neg * (mag + a fraction, nonzero when sticky) * 2^base rounded to
 * the nearest double, ties to even (the fraction, below one unit of mag,
 * only breaks ties: callers leave at least 64 bits below the double's
 * last bit, except in the exact cases).  ECORE_EOVERFLOW above DBL_MAX.
 */
static int
xb_to_double(const xbig *a, int base, int sticky, double *out)
{
	int			top,
				e,
				lsb,
				s,
				i;
	uint64_t	m = 0;
	double		r;

	if (a->len == 0)
	{
		*out = 0.0;
		return ECORE_OK;
	}
	top = 32 * (a->len - 1);
	for (i = 31; i >= 0; i--)
		if ((a->mag[a->len - 1] >> i) & 1u)
		{
			top += i;
			break;
		}
	e = top + base;				/* exponent of the leading bit */
	if (e > 1023)
		return ECORE_EOVERFLOW;
	lsb = e - 52 > -1074 ? e - 52 : -1074;
	s = lsb - base;				/* bits below the double's last bit */
	if (s <= 0)
	{
		/* every bit is kept: exact (top <= 52) */
		for (i = top; i >= 0; i--)
			m = (m << 1) | (uint64_t) xb_bit(a, i);
		r = ldexp((double) m, base);
	}
	else
	{
		int			rb,
					st;

		for (i = top; i >= s; i--)
			m = (m << 1) | (uint64_t) xb_bit(a, i);
		rb = xb_bit(a, s - 1);
		st = sticky || xb_any_below(a, s - 1);
		if (rb && (st || (m & 1u)))
			m++;
		r = ldexp((double) m, lsb);
	}
	if (isinf(r))
		return ECORE_EOVERFLOW;
	*out = a->neg ? -r : r;
	return ECORE_OK;
}

/* The value rounded to the nearest double. */
int
ecore_xsum_value(const int64_t *x, double *out)
{
	xbig		a;

	if (!xb_from_xsum(&a, x))
		return ECORE_EOVERFLOW;
	return xb_to_double(&a, XSUM_BASE, 0, out);
}

/* The value divided by n, rounded once. */
int
ecore_xsum_div(const int64_t *x, uint64_t n, double *out)
{
	xbig		a;
	int			sticky;

	if (n == 0 || n > (UINT64_C(1) << 62))
		return ECORE_EINVAL_ARG;
	if (!xb_from_xsum(&a, x))
		return ECORE_EOVERFLOW;
	/* 64 more bits below the last: the quotient keeps its round bit */
	xb_shl(&a, 64);
	sticky = xb_div_u64(&a, n);
	return xb_to_double(&a, XSUM_BASE - 64, sticky, out);
}

/* Population variance (n s2 - s1^2) / n^2, exact, rounded once. */
int
ecore_xsum_variance(const int64_t *s1, const int64_t *s2, uint64_t n,
					double *out)
{
	xbig		a,
				b,
				sq,
				nb;
	int			sticky;

	if (n == 0 || n > (UINT64_C(1) << 62))
		return ECORE_EINVAL_ARG;
	if (!xb_from_xsum(&a, s1) || !xb_from_xsum(&b, s2))
		return ECORE_EOVERFLOW;
	/* s1^2, base 2^-2148 */
	xb_mul(&sq, &a, &a);
	/* n s2, shifted to base 2^-2148 */
	nb.neg = 0;
	nb.mag[0] = (uint32_t) (n & 0xFFFFFFFFu);
	nb.mag[1] = (uint32_t) (n >> 32);
	nb.len = 2;
	xb_trim(&nb);
	xb_mul(&a, &b, &nb);
	a.neg = b.neg;
	xb_shl(&a, -XSUM_BASE);
	/* D = n s2 - s1^2; below 0 only through rounded tiny squares */
	if (a.neg || xb_cmp(&a, &sq) <= 0)
	{
		*out = 0.0;
		return ECORE_OK;
	}
	xb_sub_mag(&a, &sq);
	xb_shl(&a, 64);
	sticky = xb_div_u64(&a, n);
	sticky |= xb_div_u64(&a, n);
	return xb_to_double(&a, 2 * XSUM_BASE - 64, sticky, out);
}
