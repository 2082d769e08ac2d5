/*-------------------------------------------------------------------------
 *
 * xsum.h
 *	  Exact, order-independent sums of double precision values: a
 *	  fixed-point accumulator that covers the whole range of doubles, and
 *	  the correctly rounded results computed from such sums (the sum, a
 *	  mean, a population variance).
 *
 * Why.  A floating-point sum depends on the order of its terms, so the
 * same rows split differently among parallel workers or Citus shards give
 * different last bits.  An exact sum does not: every way of splitting and
 * combining the terms gives the same value, and the result is that value
 * rounded once (to nearest, ties to even).
 *
 * Representation.  A double is m * 2^e with m an integer below 2^53 and
 * e >= -1074, so every finite double, and every sum of them, is an integer
 * multiple of 2^-1074.  An accumulator is ECORE_XSUM_SLOTS int64_t slots:
 * slot 0 counts the additions since the last carry propagation, slots 1 ..
 * ECORE_XSUM_DIGITS hold the value as sum(digit[i] * 2^(32 i - 1074)),
 * "digits" of 32 bits kept in 64-bit signed integers so that an addition
 * touches three digits and propagates no carry.  Carries are propagated
 * (ecore_xsum_normalize) every ECORE_XSUM_PENDING_MAX additions, before a
 * digit could overflow; afterwards every digit but the last is in
 * [0, 2^32) and the last one, signed, holds the sign.  The 68 digits and the
 * bound of the top one (ECORE_XSUM_TOP_MAX) reach 2^1110, past 2^80 times
 * the largest double.
 *
 * Range and errors.  The terms must be finite (the caller checks; a NaN
 * or infinity is not representable).  Any sum of finite doubles is held
 * exactly: there is no overflow inside the accumulator within 2^62
 * additions.  Only the results can fall outside the doubles: a sum, mean
 * or variance whose rounded magnitude exceeds DBL_MAX is reported as
 * ECORE_EOVERFLOW, never returned as infinity or a wrong number.  A
 * malformed accumulator (slots not produced by these functions, e.g. a
 * hand-made aggregate state) is refused by ecore_xsum_valid.
 *
 * Squares.  ecore_xsum_add_square adds x^2 as the exact pair hi + lo of
 * Dekker's product (hi = fl(x * x)).  The pair is exact unless lo falls
 * below 2^-1074 (|x| below about 2^-485, or 1e-146); then lo is rounded,
 * deterministically, so the sum of squares still does not depend on the
 * order of the terms.  |x| must be at most 1e154, so that x^2 is finite
 * (engage's points are at most 1e100).
 *
 * Plain C99, no PostgreSQL headers.
 *
 * Copyright (c) 2026, engage developers
 *
 *-------------------------------------------------------------------------
 */
#ifndef ECORE_XSUM_H
#define ECORE_XSUM_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "core.h"

/* Digits of 32 bits of an accumulator, least significant first */
#define ECORE_XSUM_DIGITS 68

/* Slots of an accumulator: the pending count, then the digits */
#define ECORE_XSUM_SLOTS (ECORE_XSUM_DIGITS + 1)

/*
 * Additions between two carry propagations: each adds less than 2^33 to
 * a digit in [0, 2^32), so digits stay below 2^62 in magnitude.
 */
#define ECORE_XSUM_PENDING_MAX (INT64_C(1) << 28)

/* Bound of a normalised top digit of a valid accumulator */
#define ECORE_XSUM_TOP_MAX (INT64_C(1) << 40)

/* Set an accumulator to 0. */
extern void ecore_xsum_init(int64_t *x);

/*
 * Propagate the carries: every digit but the last in [0, 2^32), the
 * pending count 0.  The value is unchanged.
 */
extern void ecore_xsum_normalize(int64_t *x);

/*
 * Is x a valid accumulator (pending count in [0, ECORE_XSUM_PENDING_MAX),
 * digits of magnitude below 2^62, top digit within ECORE_XSUM_TOP_MAX)?
 * 1 or 0.
 */
extern int	ecore_xsum_valid(const int64_t *x);

/* x += y, exactly (both valid; y is not modified). */
extern void ecore_xsum_merge(int64_t *x, const int64_t *y);

/* Is the value 0?  (x is not modified) */
extern int	ecore_xsum_is_zero(const int64_t *x);

/*
 * The value rounded to the nearest double (ties to even): ECORE_OK, or
 * ECORE_EOVERFLOW when its magnitude rounds above DBL_MAX (*out is then
 * not set).  An exact zero gives +0.
 */
extern int	ecore_xsum_value(const int64_t *x, double *out);

/*
 * The value divided by n (n >= 1), rounded once to the nearest double:
 * a mean.  ECORE_EINVAL_ARG for n = 0, ECORE_EOVERFLOW as ecore_xsum_value.
 */
extern int	ecore_xsum_div(const int64_t *x, uint64_t n, double *out);

/*
 * Population variance of n values from the exact sum s1 of the values and
 * the exact sum s2 of their squares: (n s2 - s1^2) / n^2 computed exactly
 * and rounded once (0 if negative, which only a rounded lo part of tiny
 * squares can cause).  ECORE_EINVAL_ARG for n = 0, ECORE_EOVERFLOW when
 * the result rounds above DBL_MAX.
 */
extern int	ecore_xsum_variance(const int64_t *s1, const int64_t *s2,
								uint64_t n, double *out);

/* Carry propagation out of the inline path */
extern void ecore_xsum_normalize_slow(int64_t *x);

/*
 * x += v, exactly.  v must be finite.  Three digits change; the carries
 * are propagated every ECORE_XSUM_PENDING_MAX additions.
 */
static inline void
ecore_xsum_add(int64_t *x, double v)
{
	uint64_t	u,
				m,
				ex,
				a,
				b;
	unsigned	p;
	int64_t    *dg;
	int64_t		d0,
				d1,
				d2;

	memcpy(&u, &v, sizeof(u));
	ex = (u >> 52) & 0x7FF;
	m = u & ((UINT64_C(1) << 52) - 1);
	if (ex == 0)
	{
		if (m == 0)
			return;
		p = 0;					/* subnormal: m * 2^-1074 */
	}
	else
	{
		m |= UINT64_C(1) << 52;
		p = (unsigned) ex - 1;	/* m * 2^(ex - 1075) = m * 2^(p - 1074) */
	}
	a = (m & 0xFFFFFFFFu) << (p & 31);
	b = (m >> 32) << (p & 31);
	d0 = (int64_t) (a & 0xFFFFFFFFu);
	d1 = (int64_t) ((a >> 32) + (b & 0xFFFFFFFFu));
	d2 = (int64_t) (b >> 32);
	dg = x + 1 + (p >> 5);
	if (u >> 63)
	{
		dg[0] -= d0;
		dg[1] -= d1;
		dg[2] -= d2;
	}
	else
	{
		dg[0] += d0;
		dg[1] += d1;
		dg[2] += d2;
	}
	if (++x[0] >= ECORE_XSUM_PENDING_MAX)
		ecore_xsum_normalize_slow(x);
}

/*
 * x += v^2, exactly but for the rounding of tiny squares described above
 * (Dekker's product: hi = fl(v * v), lo = v * v - hi).  |v| <= 1e154.
 */
static inline void
ecore_xsum_add_square(int64_t *x, double v)
{
	const double split = 134217729.0;	/* 2^27 + 1 */
	double		hi = v * v,
				t = split * v,
				vh = t - (t - v),
				vl = v - vh,
				lo = ((vh * vh - hi) + 2.0 * vh * vl) + vl * vl;

	ecore_xsum_add(x, hi);
	ecore_xsum_add(x, lo);
}

#endif							/* ECORE_XSUM_H */
