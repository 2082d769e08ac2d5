/*-------------------------------------------------------------------------
 *
 * svg_format.c
 *	  Numbers of the SVG core, written without the C library's locale:
 *	  fixed and exponent notation, the 3-significant-digit values people
 *	  read (SI prefixes or thousands separators), "nice" axis ticks and
 *	  their labels, and the coordinates of the documents.  See svg.h for
 *	  the contract.
 *
 * Copyright (c) 2026, engage developers
 *
 *-------------------------------------------------------------------------
 */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "svg_internal.h"

/* Largest coordinate written (keeps every number short and finite) */
#define COORD_MAX 1e6

/* SI prefixes of 10^(3 p), p = 0..6 */
static const char *const si_prefix[] = {"", "k", "M", "G", "T", "P", "E"};

/* Copy a NUL-terminated string into out (cap >= 1), truncating */
static size_t
put_str(char *out, size_t cap, const char *s)
{
	size_t		n = strlen(s);

	if (n >= cap)
		n = cap - 1;
	memcpy(out, s, n);
	out[n] = '\0';
	return n;
}

/*
 * Exponent form with sig significant digits: "1.23e21", "-5e-7".  Uses
 * "%e" and normalises whatever decimal point the locale gives to ".".
 */
static size_t
format_exp(double v, int sig, char *out, size_t cap)
{
	char		tmp[64],
				res[64];
	char	   *e;
	size_t		n = 0,
				mlen,
				i;
	int			seen_point = 0;
	long		ex;

	if (sig < 1)
		sig = 1;
	if (sig > 17)
		sig = 17;
	snprintf(tmp, sizeof(tmp), "%.*e", sig - 1, v);
	e = strchr(tmp, 'e');
	if (e == NULL)
		return put_str(out, cap, "0");
	mlen = (size_t) (e - tmp);
	for (i = 0; i < mlen; i++)
	{
		char		c = tmp[i];

		if ((c >= '0' && c <= '9') || c == '-')
			res[n++] = c;
		else if (!seen_point)
		{
			res[n++] = '.';
			seen_point = 1;
		}
	}
	if (seen_point)
	{
		while (n > 0 && res[n - 1] == '0')
			n--;
		if (n > 0 && res[n - 1] == '.')
			n--;
	}
	ex = strtol(e + 1, NULL, 10);
	n += (size_t) snprintf(res + n, sizeof(res) - n, "e%ld", ex);
	res[n] = '\0';
	return put_str(out, cap, res);
}

/* Fixed notation (see svg.h) */
size_t
ecore_svg_format_fixed(double v, int decimals, int group, char *out,
						size_t cap)
{
	char		digits[32],
				res[64];
	double		scale,
				a;
	uint64_t	u;
	int			nd = 0,
				i;
	size_t		n = 0;

	if (cap == 0)
		return 0;
	if (isnan(v))
		return put_str(out, cap, "NaN");
	if (isinf(v))
		return put_str(out, cap, v > 0 ? "Infinity" : "-Infinity");
	if (decimals < 0)
		decimals = 0;
	if (decimals > 12)
		decimals = 12;
	a = fabs(v);
	if (a >= 1e15)
		return format_exp(v, 15, out, cap);
	/* fewer decimals if a * 10^decimals would not fit an exact integer */
	while (decimals > 0 && a * pow(10.0, decimals) >= 9e15)
		decimals--;
	scale = pow(10.0, decimals);
	u = (uint64_t) llround(a * scale);
	/* digits of u, least significant first */
	do
	{
		digits[nd++] = (char) ('0' + (int) (u % 10));
		u /= 10;
	} while (u > 0);
	while (nd <= decimals)
		digits[nd++] = '0';
	/* a value that rounds to zero prints without a sign */
	for (i = 0; i < nd && digits[i] == '0'; i++)
		;
	if (v < 0 && i < nd)
		res[n++] = '-';
	for (i = nd - 1; i >= decimals; i--)
	{
		res[n++] = digits[i];
		if (group && i > decimals && (i - decimals) % 3 == 0)
			res[n++] = ',';
	}
	if (decimals > 0)
	{
		res[n++] = '.';
		for (i = decimals - 1; i >= 0; i--)
			res[n++] = digits[i];
	}
	res[n] = '\0';
	return put_str(out, cap, res);
}

/* Remove trailing zeros (and a final point) of a fixed number */
static size_t
trim_zeros(char *s, size_t n)
{
	if (memchr(s, '.', n) == NULL || memchr(s, 'e', n) != NULL)
		return n;
	while (n > 0 && s[n - 1] == '0')
		n--;
	if (n > 0 && s[n - 1] == '.')
		n--;
	s[n] = '\0';
	return n;
}

/* floor(log10(a)) for a > 0, robust at exact powers of ten */
static int
ilog10(double a)
{
	int			e = (int) floor(log10(a));

	if (pow(10.0, e + 1) <= a)
		e++;
	else if (pow(10.0, e) > a)
		e--;
	return e;
}

/* A value people read (see svg.h) */
size_t
ecore_svg_format_value(double v, int si, char *out, size_t cap)
{
	double		a = fabs(v),
				m,
				r;
	int			p,
				d;
	size_t		n;

	if (cap == 0)
		return 0;
	if (!isfinite(v))
		return ecore_svg_format_fixed(v, 0, 0, out, cap);
	if (a == 0)
		return put_str(out, cap, "0");
	if (si && a >= 999.5)
	{
		p = ilog10(a) / 3;
		if (p > 6)
			return format_exp(v, 3, out, cap);
		for (;;)
		{
			m = v / pow(10.0, 3 * p);
			d = 2 - ilog10(fabs(m));
			if (d < 0)
				d = 0;
			r = fabs(m) * pow(10.0, d);
			if (floor(r + 0.5) / pow(10.0, d) >= 999.5 && p < 6)
			{
				p++;
				continue;
			}
			break;
		}
		if (fabs(m) >= 999.5)
			return format_exp(v, 3, out, cap);
		n = ecore_svg_format_fixed(m, d, 0, out, cap);
		n = trim_zeros(out, n);
		if (n + 3 < cap)
		{
			out[n++] = ' ';
			n += put_str(out + n, cap - n, si_prefix[p]);
		}
		return n;
	}
	if (a >= 1e15 || a < 1e-4)
		return format_exp(v, 3, out, cap);
	d = 2 - ilog10(a);
	if (d < 0)
		d = 0;
	n = ecore_svg_format_fixed(v, d, 1, out, cap);
	return trim_zeros(out, n);
}

/* Nice ticks (see svg.h) */
int
ecore_svg_nice_ticks(double lo, double hi, int target, ecore_svg_ticks *t)
{
	double		span,
				big,
				raw,
				f,
				nf,
				p10,
				step,
				first,
				last,
				tmp;
	int			e;
	long long	count;

	if (t == NULL)
		return ECORE_SVG_EINVAL_ARG;
	if (!isfinite(lo) || !isfinite(hi))
		return ECORE_SVG_ENONFINITE;
	if (fabs(lo) > ECORE_SVG_MAX_ABS || fabs(hi) > ECORE_SVG_MAX_ABS)
		return ECORE_SVG_ERANGE;
	if (target < 2)
		target = 2;
	if (target > 20)
		target = 20;
	if (lo > hi)
	{
		tmp = lo;
		lo = hi;
		hi = tmp;
	}
	big = fmax(fabs(lo), fabs(hi));
	if (big < 1e-290)
	{
		lo = 0;
		hi = 1;
	}
	else if (hi - lo <= big * 1e-9)
	{
		/* a constant: widen around it, keeping 0 as a bound if it is one */
		double		w = big * 0.5;

		if (lo >= 0 && lo - w < 0)
			lo = 0;
		else
			lo -= w;
		if (hi <= 0 && hi + w > 0)
			hi = 0;
		else
			hi += w;
	}
	span = hi - lo;
	raw = span / target;
	e = ilog10(raw);
	p10 = pow(10.0, e);
	f = raw / p10;
	nf = f <= 1.0 ? 1.0 : f <= 2.0 ? 2.0 : f <= 5.0 ? 5.0 : 10.0;
	step = nf * p10;
	first = floor(lo / step) * step;
	last = ceil(hi / step) * step;
	count = llround((last - first) / step) + 1;
	if (!(step > 0) || !isfinite(first) || !isfinite(last) || !(last > first) ||
		count < 2 || count > ECORE_SVG_MAX_TICKS)
	{
		/* precision ran out: the bare range */
		first = lo;
		last = hi;
		step = hi - lo;
		count = 2;
	}
	t->first = first;
	t->step = step;
	t->count = (int) count;
	t->last = first + (double) (count - 1) * step;
	if (!(t->last > t->first))
		t->last = last;
	return ECORE_SVG_OK;
}

/* Tick label (see svg.h) */
size_t
ecore_svg_format_tick(const ecore_svg_ticks *t, int i, int si, char *out,
					   size_t cap)
{
	double		v,
				big,
				sc;
	int			p,
				d;
	size_t		n;

	if (cap == 0)
		return 0;
	v = t->first + (double) i * t->step;
	if (fabs(v) < t->step * 1e-6)
		v = 0;
	big = fmax(fabs(t->first), fabs(t->last));
	if (v == 0)
		return put_str(out, cap, "0");
	if (si && big >= 1000 && big < 1e21)
	{
		p = ilog10(big) / 3;
		if (p > 6)
			p = 6;
		sc = pow(10.0, 3 * p);
		d = -ilog10(t->step / sc);
		if (d < 0)
			d = 0;
		if (d > 12)
			return format_exp(v, 6, out, cap);
		n = ecore_svg_format_fixed(v / sc, d, 0, out, cap);
		if (n + 3 < cap)
		{
			out[n++] = ' ';
			n += put_str(out + n, cap - n, si_prefix[p]);
		}
		return n;
	}
	if (big < 1e15 && t->step >= 1e-6)
	{
		d = -ilog10(t->step);
		if (d < 0)
			d = 0;
		return ecore_svg_format_fixed(v, d, 1, out, cap);
	}
	d = ilog10(big) - ilog10(t->step) + 1;
	return format_exp(v, d < 1 ? 1 : d > 17 ? 17 : d, out, cap);
}

/* A coordinate: one decimal at most, clamped */
size_t
ecore_svg_format_coord(double v, char *out, size_t cap)
{
	size_t		n;

	if (!isfinite(v))
		v = 0;
	if (v > COORD_MAX)
		v = COORD_MAX;
	if (v < -COORD_MAX)
		v = -COORD_MAX;
	n = ecore_svg_format_fixed(v, 1, 0, out, cap);
	return trim_zeros(out, n);
}
