/*-------------------------------------------------------------------------
 *
 * fuzz_format.c
 *	  libFuzzer target of the number formatting of engage's SVG core
 *	  (src/core/svg_format.c), called directly rather than through a chart:
 *	  ecore_svg_format_fixed, ecore_svg_format_value,
 *	  ecore_svg_nice_ticks and ecore_svg_format_tick, with any double
 *	  (raw bit patterns), any decimals and any output capacity.
 *
 *	  Each output goes into a buffer of exactly cap bytes (a write past it
 *	  is an ASan report).  Checked: the returned length is the string's and
 *	  below cap; a short buffer gets a prefix of the full text; the text is
 *	  well formed (digits, one point, grouping every three digits, an
 *	  exponent or an SI prefix where documented) and, read back, is the
 *	  value to within its printed precision; ticks cover [lo, hi] with
 *	  2..ECORE_SVG_MAX_TICKS ticks, and each tick label reads back as its
 *	  tick to within half a step, so the labels of an axis are distinct
 *	  and increasing.  Any violation calls abort().
 *
 *	  clang -fsanitize=fuzzer,address,undefined (see test/fuzz/Makefile)
 *
 * Input layout: byte 0 options (si, group, decimals), byte 1 the capacity,
 * byte 2 the tick target, then up to three 8-byte doubles (raw bits): the
 * value, then lo and hi of an axis; missing bytes read as 0.
 *
 * Copyright (c) 2026, engage developers
 *
 *-------------------------------------------------------------------------
 */
#include <float.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/svg.h"

int			LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Full-size buffer: the capacity svg.h asks for, with room to spare */
#define FZ_FULL 64

/* Abort with a message (a finding) */
static void
fz_die(const char *what, double v, const char *text)
{
	fprintf(stderr, "fuzz_format: %s (value %.17g, text \"%s\")\n", what, v,
			text ? text : "");
	abort();
}

/* Next 8 input bytes as a double (raw bits; missing bytes are 0) */
static double
fz_double(const uint8_t **p, size_t *left)
{
	uint64_t	u = 0;
	double		v;
	int			i;

	for (i = 0; i < 8; i++)
	{
		u = (u << 8) | (*left > 0 ? **p : 0);
		if (*left > 0)
		{
			(*p)++;
			(*left)--;
		}
	}
	memcpy(&v, &u, sizeof(v));
	return v;
}

/*
 * A formatted number read back, as mant x 10^exp10 (strtod of the whole
 * text would overflow for "1.8e308", the 3 digits of DBL_MAX).
 */
typedef struct fz_number
{
	double		mant;
	int			exp10;
} fz_number;

/*
 * Read a formatted number back: optional '-', digits with ',' every three
 * (only if grouped is allowed), optional '.' and digits, optional
 * exponent "e[-]digits", optional " X" with X an SI prefix.  Returns 1 and
 * sets *value and *decimals (digits after the point, -1 with an exponent)
 * when the whole text has that form.
 */
static int
fz_read_number(const char *s, int grouped, int si, fz_number *value,
			   int *decimals)
{
	static const char prefixes[] = "kMGTPE";
	char		plain[FZ_FULL];
	size_t		n = 0,
				i = 0,
				len = strlen(s),
				intdigits = 0,
				first_comma = 0,
				ncomma = 0;
	int			dec = 0,
				exp10 = 0;

	if (len == 0 || len >= sizeof(plain))
		return 0;
	if (s[i] == '-')
		plain[n++] = s[i++];
	/* integer part, grouping checked */
	while (i < len && ((s[i] >= '0' && s[i] <= '9') || s[i] == ','))
	{
		if (s[i] == ',')
		{
			if (!grouped || intdigits == 0)
				return 0;
			if (ncomma == 0)
			{
				if (intdigits > 3)
					return 0;
				first_comma = intdigits;
			}
			else if ((intdigits - first_comma) % 3 != 0)
				return 0;
			ncomma++;
		}
		else
		{
			plain[n++] = s[i];
			intdigits++;
		}
		i++;
	}
	if (intdigits == 0 || (ncomma > 0 && (intdigits - first_comma) % 3 != 0))
		return 0;
	if (ncomma == 0 && grouped && intdigits > 3)
		return 0;				/* grouping missing */
	if (intdigits > 1 && plain[n - intdigits] == '0')
		return 0;				/* leading zero */
	if (i < len && s[i] == '.')
	{
		plain[n++] = s[i++];
		while (i < len && s[i] >= '0' && s[i] <= '9')
		{
			plain[n++] = s[i++];
			dec++;
		}
		if (dec == 0)
			return 0;
	}
	if (i < len && s[i] == 'e')
	{
		int			neg = 0;

		i++;
		if (i < len && s[i] == '-')
		{
			neg = 1;
			i++;
		}
		if (!(i < len && s[i] >= '0' && s[i] <= '9'))
			return 0;
		while (i < len && s[i] >= '0' && s[i] <= '9' && exp10 < 100000)
			exp10 = exp10 * 10 + (s[i++] - '0');
		if (neg)
			exp10 = -exp10;
		dec = -1;
	}
	if (si && i + 2 == len && s[i] == ' ' && strchr(prefixes, s[i + 1]) != NULL)
	{
		exp10 += 3 * (int) (1 + (strchr(prefixes, s[i + 1]) - prefixes));
		i += 2;
	}
	if (i != len)
		return 0;
	plain[n] = '\0';
	value->mant = strtod(plain, NULL);
	value->exp10 = exp10;
	*decimals = dec;
	return 1;
}

/* x / 10^e, in two steps so that 10^e itself stays in range */
static double
fz_unscale(double x, int e)
{
	return x / pow(10.0, (double) (e / 2)) / pow(10.0, (double) (e - e / 2));
}

/* Is the number read back within tol of v (its printed precision)? */
static int
fz_close(fz_number x, double v, double tol)
{
	return fabs(x.mant - fz_unscale(v, x.exp10)) <= fz_unscale(tol, x.exp10);
}

/* Is the number read back v to within a relative rel? */
static int
fz_close_rel(fz_number x, double v, double rel)
{
	double		u = fz_unscale(v, x.exp10);

	return fabs(x.mant - u) <= rel * fabs(u);
}

/* Is x within tol of v? */
static int
fz_near(double x, double v, double tol)
{
	return fabs(x - v) <= tol;
}

/*
 * Run one formatter into a buffer of exactly cap bytes and check length,
 * termination and that it is a prefix of the full text.  which: 0 fixed,
 * 1 value, 2 tick.
 */
static void
fz_short_buffer(int which, double v, int decimals, int flag,
				const ecore_svg_ticks *t, int tick, size_t cap,
				const char *full, size_t full_len)
{
	char	   *buf = malloc(cap > 0 ? cap : 1);
	size_t		n;

	if (buf == NULL)
		abort();
	buf[0] = 'X';
	if (which == 0)
		n = ecore_svg_format_fixed(v, decimals, flag, buf, cap);
	else if (which == 1)
		n = ecore_svg_format_value(v, flag, buf, cap);
	else
		n = ecore_svg_format_tick(t, tick, flag, buf, cap);
	if (cap == 0)
	{
		if (n != 0 || buf[0] != 'X')
			fz_die("cap 0: something was written", v, full);
	}
	else
	{
		if (n >= cap || strlen(buf) != n)
			fz_die("short buffer: length past cap or not the string's", v, buf);
		if (n > full_len || memcmp(buf, full, n) != 0)
			fz_die("short buffer: not a prefix of the full text", v, buf);
	}
	free(buf);
}

/* Fixed notation */
static void
fz_fixed(double v, int decimals, int group, size_t cap)
{
	char		full[FZ_FULL];
	size_t		n = ecore_svg_format_fixed(v, decimals, group, full, sizeof(full));
	fz_number	back;
	int			dec,
				want;

	if (n != strlen(full) || n >= 48)
		fz_die("fixed: length", v, full);
	fz_short_buffer(0, v, decimals, group, NULL, 0, cap, full, n);
	if (isnan(v))
	{
		if (strcmp(full, "NaN") != 0)
			fz_die("fixed: NaN", v, full);
		return;
	}
	if (isinf(v))
	{
		if (strcmp(full, v > 0 ? "Infinity" : "-Infinity") != 0)
			fz_die("fixed: infinity", v, full);
		return;
	}
	if (!fz_read_number(full, fabs(v) < 1e15 && group, 0, &back, &dec))
		fz_die("fixed: malformed", v, full);
	if (strcmp(full, "-0") == 0 || strncmp(full, "-0.", 3) == 0)
	{
		/* a negative zero in print only if some digit is not zero */
		if (strspn(full, "-0.") == n)
			fz_die("fixed: signed zero", v, full);
	}
	if (fabs(v) >= 1e15)
	{
		if (dec != -1 || !fz_close_rel(back, v, 1e-14))
			fz_die("fixed: exponent form of a big value", v, full);
		return;
	}
	want = decimals < 0 ? 0 : decimals > 12 ? 12 : decimals;
	if (dec > want || dec < 0)
		fz_die("fixed: decimals", v, full);
	if (dec < want && fabs(v) * pow(10.0, dec + 1) < 9e15 * (1 - 1e-15))
		fz_die("fixed: decimals dropped without need", v, full);
	if (!fz_close(back, v, 0.5 * pow(10.0, -dec) * (1 + 1e-9) + fabs(v) * 4 * DBL_EPSILON))
		fz_die("fixed: value", v, full);
}

/* A value people read */
static void
fz_value(double v, int si, size_t cap)
{
	char		full[FZ_FULL];
	size_t		n = ecore_svg_format_value(v, si, full, sizeof(full));
	fz_number	back;
	int			dec;

	if (n != strlen(full) || n >= 48)
		fz_die("value: length", v, full);
	fz_short_buffer(1, v, 0, si, NULL, 0, cap, full, n);
	if (!isfinite(v))
	{
		if (strcmp(full, isnan(v) ? "NaN" : v > 0 ? "Infinity" : "-Infinity") != 0)
			fz_die("value: NaN or infinity", v, full);
		return;
	}
	if (!fz_read_number(full, !si, si, &back, &dec))
		fz_die("value: malformed", v, full);
	/* three significant digits at least */
	if (!fz_close_rel(back, v, 5e-3 * (1 + 1e-9)))
		fz_die("value: not the value to 3 significant digits", v, full);
	/* integers below 1e15 keep every digit without SI prefixes */
	if (!si && v == floor(v) && fabs(v) < 1e15 && (back.exp10 != 0 || back.mant != v))
		fz_die("value: integer digits lost", v, full);
}

/* Ticks of [lo, hi] and their labels */
static void
fz_ticks(double lo, double hi, int target, int si, size_t cap)
{
	ecore_svg_ticks t;
	double		a = fmin(lo, hi),
				b = fmax(lo, hi),
				slack;
	int			rc = ecore_svg_nice_ticks(lo, hi, target, &t),
				i;

	if (!isfinite(lo) || !isfinite(hi))
	{
		if (rc != ECORE_SVG_ENONFINITE)
			fz_die("ticks: non-finite bound accepted", isfinite(lo) ? hi : lo, NULL);
		return;
	}
	if (fabs(lo) > ECORE_SVG_MAX_ABS || fabs(hi) > ECORE_SVG_MAX_ABS)
	{
		if (rc != ECORE_SVG_ERANGE)
			fz_die("ticks: huge bound accepted", fabs(lo) > fabs(hi) ? lo : hi, NULL);
		return;
	}
	if (rc != ECORE_SVG_OK)
		fz_die("ticks: finite bounds refused", lo, NULL);
	if (t.count < 2 || t.count > ECORE_SVG_MAX_TICKS || !(t.step > 0) ||
		!isfinite(t.step) || !isfinite(t.first) || !isfinite(t.last) ||
		!(t.last > t.first))
		fz_die("ticks: count, step or bounds", lo, NULL);
	/* a billionth of the axis, or a few ulps of the bounds: invisible */
	slack = (t.last - t.first) * 1e-9 + fmax(fabs(a), fabs(b)) * 8 * DBL_EPSILON;
	if (t.first > a + slack || t.last < b - slack)
		fz_die("ticks: [lo, hi] not covered", a, NULL);
	if (!fz_near(t.first + (double) (t.count - 1) * t.step, t.last, slack))
		fz_die("ticks: last is not first + (count - 1) step", t.last, NULL);

	for (i = 0; i < t.count; i++)
	{
		char		full[FZ_FULL];
		double		v = t.first + (double) i * t.step;
		fz_number	back;
		int			dec;
		size_t		n = ecore_svg_format_tick(&t, i, si, full, sizeof(full));

		if (n != strlen(full) || n == 0 || n >= 48)
			fz_die("tick: length", v, full);
		if (i == 0 || i == t.count - 1)
			fz_short_buffer(2, 0, 0, si, &t, i, cap, full, n);
		if (!fz_read_number(full, 1, si, &back, &dec))
			fz_die("tick: malformed label", v, full);
		if (!fz_close(back, v, 0.5 * t.step * (1 + 1e-6)))
			fz_die("tick: label is not its tick to half a step", v, full);
	}
}

/* Fuzz entry point */
int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const uint8_t *p = data;
	size_t		left = size;
	uint8_t		opt,
				capb,
				target;
	double		v,
				lo,
				hi;
	int			decimals;
	size_t		cap;

	opt = left > 0 ? (left--, *p++) : 0;
	capb = left > 0 ? (left--, *p++) : 0;
	target = left > 0 ? (left--, *p++) : 0;
	v = fz_double(&p, &left);
	lo = fz_double(&p, &left);
	hi = fz_double(&p, &left);

	/* decimals -3..28 reach both clamps; cap 0..63 every short buffer */
	decimals = (int) ((opt >> 3) & 31) - 3;
	cap = (size_t) (capb % 64);

	fz_fixed(v, decimals, opt & 1, cap);
	fz_fixed(v, decimals, !(opt & 1), cap);
	fz_value(v, (opt >> 1) & 1, cap);
	fz_value(v, !((opt >> 1) & 1), cap);
	fz_ticks(lo, hi, (int) (target % 24) - 2, (opt >> 2) & 1, cap);
	/* an axis around the value too: widened constants, tiny spans */
	fz_ticks(v, (opt & 0x80) ? v : nextafter(v, INFINITY), (int) (target % 24) - 2,
			 (opt >> 2) & 1, cap);
	return 0;
}
