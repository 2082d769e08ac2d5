/*-------------------------------------------------------------------------
 *
 * svg.c
 *	  Standalone SVG charts (bar, line with markers, clusters), XML/HTML
 *	  text escaping, locale-independent number formatting and nice axis
 *	  ticks.  See svg.h for the contract.
 *
 * Plain C99, no PostgreSQL headers, no malloc: memory comes from
 * env->alloc.
 *
 * Copyright (c) 2026, engage developers
 *
 *-------------------------------------------------------------------------
 */
#include <math.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "svg.h"

/* Fonts and colours */
#define FONT "sans-serif"
#define COLOR_TEXT "#222222"
#define COLOR_AXIS "#444444"
#define COLOR_GRID "#e3e3e3"
#define COLOR_BAR "#4e79a7"
#define COLOR_MARK "#e15759"
#define FS_TITLE 18
#define FS_AXIS 13
#define FS_TICK 12
#define FS_VALUE 11
#define FS_PANEL 14

/* Largest coordinate written (keeps every number short and finite) */
#define COORD_MAX 1e6

/* Widest plot area in pixels */
#define PLOT_MAX_W 6000.0

/* Bytes of escaped text between two calls of env->check */
#define CHECK_BYTES ((size_t) 1 << 20)

static const char *const palette[ECORE_SVG_MAX_METRICS] = {
	"#4e79a7", "#f28e2b", "#59a14f", "#e15759", "#76b7b2", "#edc948",
	"#b07aa1", "#ff9da7", "#9c755f", "#bab0ac", "#1f77b4", "#8c564b"
};

static const char *const si_prefix[] = {"", "k", "M", "G", "T", "P", "E"};

/* Growing output buffer: the first failure sticks in status */
typedef struct svgbuf
{
	ecore_env *env;
	char	   *data;
	size_t		len;
	size_t		cap;
	int			status;
} svgbuf;

/* Static English message of a status code */
const char *
ecore_svg_strerror(int status)
{
	switch (status)
	{
		case ECORE_SVG_OK:
			return "success";
		case ECORE_SVG_EINVAL_ENV:
			return "invalid environment (no allocator)";
		case ECORE_SVG_EINVAL_ARG:
			return "invalid argument (NULL pointer)";
		case ECORE_SVG_EINVAL_N:
			return "number of bars, points or clusters out of range";
		case ECORE_SVG_EINVAL_M:
			return "number of metrics out of range";
		case ECORE_SVG_ENONFINITE:
			return "value is NaN or infinite";
		case ECORE_SVG_ERANGE:
			return "value too large in magnitude";
		case ECORE_SVG_ENEGATIVE:
			return "negative cluster size";
		case ECORE_SVG_ENOMEM:
			return "out of memory";
		case ECORE_SVG_EOVERFLOW:
			return "size overflow";
	}
	return "unknown status";
}

/* ---------------------------------------------------------------------
 * UTF-8 and escaping
 * ---------------------------------------------------------------------
 */

/*
 * Decode the sequence at s[0..len) (len >= 1): returns the bytes it spans
 * (>= 1) and the code point in *cp, or -1 for an ill-formed sequence (its
 * maximal subpart, as the Unicode standard recommends).
 */
static size_t
utf8_next(const unsigned char *s, size_t len, int32_t *cp)
{
	unsigned int c = s[0];
	unsigned int lo = 0x80,
				hi = 0xBF;
	size_t		need,
				i;
	uint32_t	v;

	if (c < 0x80)
	{
		*cp = (int32_t) c;
		return 1;
	}
	if (c >= 0xC2 && c <= 0xDF)
	{
		need = 1;
		v = c & 0x1F;
	}
	else if (c >= 0xE0 && c <= 0xEF)
	{
		need = 2;
		v = c & 0x0F;
		if (c == 0xE0)
			lo = 0xA0;
		else if (c == 0xED)
			hi = 0x9F;			/* no surrogates */
	}
	else if (c >= 0xF0 && c <= 0xF4)
	{
		need = 3;
		v = c & 0x07;
		if (c == 0xF0)
			lo = 0x90;
		else if (c == 0xF4)
			hi = 0x8F;
	}
	else
	{
		*cp = -1;
		return 1;
	}
	for (i = 1; i <= need; i++)
	{
		if (i >= len || s[i] < lo || s[i] > hi)
		{
			*cp = -1;
			return i;
		}
		v = (v << 6) | (s[i] & 0x3F);
		lo = 0x80;
		hi = 0xBF;
	}
	*cp = (int32_t) v;
	return need + 1;
}

/* Code point as written: invalid ones become U+FFFD */
static int32_t
xml_char(int32_t cp)
{
	if (cp < 0 || cp == 0xFFFE || cp == 0xFFFF ||
		(cp < 0x20 && cp != 0x09 && cp != 0x0A && cp != 0x0D))
		return 0xFFFD;
	return cp;
}

/*
 * Write the escaped form of one code point into dst (if not NULL; at most
 * 10 bytes) and return its length.  src/srclen are its original bytes when
 * valid and unchanged.
 */
static size_t
put_char(char *dst, int32_t cp, const unsigned char *src, size_t srclen,
		 int flags)
{
	const char *ent = NULL;
	char		tmp[12];
	size_t		n;

	switch (cp)
	{
		case '&':
			ent = "&amp;";
			break;
		case '<':
			ent = "&lt;";
			break;
		case '>':
			ent = "&gt;";
			break;
		case '"':
			ent = "&quot;";
			break;
		case '\'':
			ent = "&#39;";
			break;
		default:
			break;
	}
	if (ent != NULL)
	{
		n = strlen(ent);
		if (dst)
			memcpy(dst, ent, n);
		return n;
	}
	if (cp < 0x80)
	{
		if (dst)
			dst[0] = (char) cp;
		return 1;
	}
	if (flags & ECORE_SVG_ASCII)
	{
		n = (size_t) snprintf(tmp, sizeof(tmp), "&#x%X;", (unsigned int) cp);
		if (dst)
			memcpy(dst, tmp, n);
		return n;
	}
	if (cp == 0xFFFD && src == NULL)
	{
		if (dst)
			memcpy(dst, "\xEF\xBF\xBD", 3);
		return 3;
	}
	if (dst)
		memcpy(dst, src, srclen);
	return srclen;
}

/* Number of code points (ill-formed sequences count one each) */
static size_t
count_chars(const char *s, size_t len)
{
	const unsigned char *p = (const unsigned char *) s;
	size_t		i = 0,
				n = 0;
	int32_t		cp;

	while (i < len)
	{
		i += utf8_next(p + i, len - i, &cp);
		n++;
	}
	return n;
}

/*
 * Escape src[0..len), keeping at most max_chars characters (0: all); a
 * longer text keeps max_chars - 1 and an ellipsis.  Writes into dst when
 * not NULL; returns the length (SIZE_MAX on overflow).  env may be NULL.
 */
static size_t
escape_into(ecore_env *env, char *dst, const char *src, size_t len,
			int flags, size_t max_chars)
{
	const unsigned char *p = (const unsigned char *) src;
	size_t		i = 0,
				out = 0,
				kept = 0,
				next_check = CHECK_BYTES,
				keep;
	int32_t		cp,
				xc;
	size_t		sl,
				w;

	keep = SIZE_MAX;
	if (max_chars > 0 && count_chars(src, len) > max_chars)
		keep = max_chars - 1;
	while (i < len && kept < keep)
	{
		sl = utf8_next(p + i, len - i, &cp);
		xc = xml_char(cp);
		w = put_char(dst ? dst + out : NULL, xc,
					 xc == cp ? p + i : NULL, sl, flags);
		if (out > SIZE_MAX - w - 16)
			return SIZE_MAX;
		out += w;
		i += sl;
		kept++;
		if (env && env->check && i >= next_check)
		{
			env->check(env->check_arg);
			next_check = i + CHECK_BYTES;
		}
	}
	if (keep != SIZE_MAX)
		out += put_char(dst ? dst + out : NULL, 0x2026,
						(const unsigned char *) "\xE2\x80\xA6", 3, flags);
	return out;
}

/* Length of the escaped form of src[0..len) */
size_t
ecore_svg_escaped_length(const char *src, size_t len, int flags)
{
	if (src == NULL)
		return 0;
	return escape_into(NULL, NULL, src, len, flags, 0);
}

/* Escape src[0..len) into a new string */
int
ecore_svg_escape(ecore_env *env, const char *src, size_t len, int flags,
				  char **out, size_t *out_len)
{
	size_t		n;
	char	   *dst;

	if (env == NULL || env->alloc == NULL)
		return ECORE_SVG_EINVAL_ENV;
	if (out == NULL || out_len == NULL || (src == NULL && len > 0))
		return ECORE_SVG_EINVAL_ARG;
	n = len ? escape_into(env, NULL, src, len, flags, 0) : 0;
	if (n == SIZE_MAX)
		return ECORE_SVG_EOVERFLOW;
	dst = env->alloc(env->alloc_arg, n + 1);
	if (dst == NULL)
		return ECORE_SVG_ENOMEM;
	if (len)
		escape_into(env, dst, src, len, flags, 0);
	dst[n] = '\0';
	*out = dst;
	*out_len = n;
	return ECORE_SVG_OK;
}

/* ---------------------------------------------------------------------
 * Numbers
 * ---------------------------------------------------------------------
 */

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

/* ---------------------------------------------------------------------
 * Output buffer
 * ---------------------------------------------------------------------
 */

/* Make room for extra more bytes (and a NUL) */
static int
buf_reserve(svgbuf *b, size_t extra)
{
	size_t		need,
				ncap;
	char	   *p;

	if (b->status != ECORE_SVG_OK)
		return 0;
	if (extra > SIZE_MAX - b->len - 1)
	{
		b->status = ECORE_SVG_EOVERFLOW;
		return 0;
	}
	need = b->len + extra + 1;
	if (need <= b->cap)
		return 1;
	ncap = b->cap ? b->cap : 8192;
	while (ncap < need)
	{
		if (ncap > SIZE_MAX / 2)
		{
			ncap = need;
			break;
		}
		ncap *= 2;
	}
	p = b->env->alloc(b->env->alloc_arg, ncap);
	if (p == NULL)
	{
		b->status = ECORE_SVG_ENOMEM;
		return 0;
	}
	if (b->len)
		memcpy(p, b->data, b->len);
	b->data = p;
	b->cap = ncap;
	return 1;
}

/* Append n raw bytes */
static void
buf_put(svgbuf *b, const char *s, size_t n)
{
	if (!buf_reserve(b, n))
		return;
	memcpy(b->data + b->len, s, n);
	b->len += n;
	b->data[b->len] = '\0';
}

/* Append escaped text, at most max_chars characters (0: all) */
static void
buf_text(svgbuf *b, const char *s, size_t max_chars, int flags)
{
	size_t		len,
				n;

	if (s == NULL)
		return;
	len = strlen(s);
	n = escape_into(NULL, NULL, s, len, flags, max_chars);
	if (n == SIZE_MAX)
	{
		if (b->status == ECORE_SVG_OK)
			b->status = ECORE_SVG_EOVERFLOW;
		return;
	}
	if (!buf_reserve(b, n))
		return;
	escape_into(NULL, b->data + b->len, s, len, flags, max_chars);
	b->len += n;
	b->data[b->len] = '\0';
}

/* A coordinate: one decimal at most, clamped */
static size_t
fmt_coord(double v, char *out, size_t cap)
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

/*
 * Append a formatted fragment.  Directives: %s trusted ASCII string, %d
 * int, %z size_t (as a 1-based number it is given as is), %f coordinate
 * (double), %t text from the data (const char *, escaped, whole),
 * %% percent.
 */
static void
emit(svgbuf *b, int flags, const char *fmt,...)
{
	va_list		ap;
	const char *p,
			   *start;
	char		tmp[64];
	size_t		n;

	va_start(ap, fmt);
	p = fmt;
	while (*p)
	{
		start = p;
		while (*p && *p != '%')
			p++;
		if (p > start)
			buf_put(b, start, (size_t) (p - start));
		if (*p == '\0')
			break;
		p++;
		switch (*p)
		{
			case 's':
				{
					const char *s = va_arg(ap, const char *);

					buf_put(b, s, strlen(s));
					break;
				}
			case 'd':
				n = (size_t) snprintf(tmp, sizeof(tmp), "%d", va_arg(ap, int));
				buf_put(b, tmp, n);
				break;
			case 'z':
				n = (size_t) snprintf(tmp, sizeof(tmp), "%zu", va_arg(ap, size_t));
				buf_put(b, tmp, n);
				break;
			case 'f':
				n = fmt_coord(va_arg(ap, double), tmp, sizeof(tmp));
				buf_put(b, tmp, n);
				break;
			case 't':
				buf_text(b, va_arg(ap, const char *), 0, flags);
				break;
			case '%':
				buf_put(b, "%", 1);
				break;
			default:
				/* unknown directive: a programming error, emit it raw */
				buf_put(b, p - 1, 2);
				break;
		}
		if (*p)
			p++;
	}
	va_end(ap);
}

/* ---------------------------------------------------------------------
 * Chart helpers
 * ---------------------------------------------------------------------
 */

/* Estimated width in pixels of a text of font size fs, cut to max_chars */
static double
text_width(const char *s, double fs, size_t max_chars)
{
	const unsigned char *p = (const unsigned char *) s;
	size_t		len,
				i = 0,
				n = 0;
	double		w = 0;
	int32_t		cp;

	if (s == NULL)
		return 0;
	len = strlen(s);
	while (i < len && (max_chars == 0 || n < max_chars))
	{
		i += utf8_next(p + i, len - i, &cp);
		n++;
		if (cp >= 0x1100)
			w += 1.0;			/* CJK and other wide scripts, roughly */
		else if (cp == ' ' || cp == '.' || cp == ',' || cp == 'i' ||
				 cp == 'l' || cp == 'I' || cp == '1' || cp == '\'' ||
				 cp == 'j' || cp == 't' || cp == 'f')
			w += 0.33;
		else if (cp >= 'A' && cp <= 'Z')
			w += 0.68;
		else if (cp == 'm' || cp == 'w' || cp == 'M' || cp == 'W')
			w += 0.85;
		else
			w += 0.56;
	}
	return w * fs;
}

/* Unit handling: SI prefixes for "B" and no unit */
static int
unit_si(const char *unit)
{
	return unit == NULL || unit[0] == '\0' || strcmp(unit, "B") == 0;
}

/*
 * A formatted number with its unit, into out (cap >= 96): "1.2 GB",
 * "12.3 k", "345 B", "120,000 ms", "12.5%".  The unit is copied raw (cut
 * to ECORE_SVG_UNIT_CHARS characters on a sequence boundary); the caller
 * escapes the result.
 */
static void
with_unit(char *num, size_t cap, const char *unit)
{
	size_t		n = strlen(num),
				ulen,
				i = 0,
				chars = 0;
	int			prefixed;
	int32_t		cp;

	if (unit == NULL || unit[0] == '\0')
		return;
	prefixed = strchr(num, ' ') != NULL;	/* "1.2 G": an SI prefix */
	ulen = strlen(unit);
	while (i < ulen && chars < ECORE_SVG_UNIT_CHARS)
	{
		i += utf8_next((const unsigned char *) unit + i, ulen - i, &cp);
		chars++;
	}
	ulen = i;
	if (!prefixed && strcmp(unit, "%") != 0 && n + 1 < cap)
		num[n++] = ' ';
	if (n + ulen >= cap)
		ulen = 0;
	memcpy(num + n, unit, ulen);
	num[n + ulen] = '\0';
}

/* Check one chart value: finite and not too large */
static int
check_value(ecore_env *env, double v, size_t row, int field)
{
	if (!isfinite(v))
	{
		env->error_row = row;
		env->error_col = (size_t) field;
		return ECORE_SVG_ENONFINITE;
	}
	if (fabs(v) > ECORE_SVG_MAX_ABS)
	{
		env->error_row = row;
		env->error_col = (size_t) field;
		return ECORE_SVG_ERANGE;
	}
	return ECORE_SVG_OK;
}

/* Map a value onto [p0, p1] through the tick range (clamped by fmt_coord) */
static double
scale_to(const ecore_svg_ticks *t, double v, double p0, double p1)
{
	double		frac = (v - t->first) / (t->last - t->first);

	if (!isfinite(frac))
		frac = 0;
	return p0 + frac * (p1 - p0);
}

/* Document start: svg element, title, description, background */
static void
doc_start(svgbuf *b, const ecore_svg_texts *txt, double w, double h,
		  const char *fallback_title)
{
	w = ceil(w);
	h = ceil(h);
	emit(b, 0, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
		 "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"%f\" height=\"%f\" "
		 "viewBox=\"0 0 %f %f\" font-family=\"" FONT "\" role=\"img\">\n<title>",
		 w, h, w, h);
	if (txt->title && txt->title[0])
		buf_text(b, txt->title, ECORE_SVG_TITLE_CHARS, txt->flags);
	else
		buf_put(b, fallback_title, strlen(fallback_title));
	emit(b, 0, "</title>\n<rect x=\"0\" y=\"0\" width=\"%f\" height=\"%f\" fill=\"#ffffff\"/>\n",
		 w, h);
	if (txt->title && txt->title[0])
	{
		emit(b, 0, "<text x=\"%f\" y=\"30\" text-anchor=\"middle\" font-size=\"%d\" "
			 "font-weight=\"bold\" fill=\"" COLOR_TEXT "\">", w / 2, FS_TITLE);
		buf_text(b, txt->title, ECORE_SVG_TITLE_CHARS, txt->flags);
		emit(b, 0, "</text>\n");
	}
}

/* Finish the document and hand it over */
static int
doc_end(svgbuf *b, char **out, size_t *out_len)
{
	emit(b, 0, "</svg>\n");
	if (b->status != ECORE_SVG_OK)
		return b->status;
	*out = b->data;
	*out_len = b->len;
	return ECORE_SVG_OK;
}

/* Widest tick label of an axis, in pixels */
static double
ticks_width(const ecore_svg_ticks *t, int si, const char *unit)
{
	char		num[128];
	double		w = 0,
				tw;
	int			i;

	for (i = 0; i < t->count; i++)
	{
		ecore_svg_format_tick(t, i, si, num, sizeof(num));
		with_unit(num, sizeof(num), unit);
		tw = text_width(num, FS_TICK, 0);
		if (tw > w)
			w = tw;
	}
	return w;
}

/*
 * Horizontal grid lines and tick labels of a y axis over [top, bottom],
 * labels right-aligned at x0 - 6, grid to x1.
 */
static void
y_axis(svgbuf *b, int flags, const ecore_svg_ticks *t, int si,
	   const char *unit, double x0, double x1, double top, double bottom)
{
	char		num[128];
	double		y;
	int			i;

	for (i = 0; i < t->count; i++)
	{
		y = scale_to(t, t->first + (double) i * t->step, bottom, top);
		ecore_svg_format_tick(t, i, si, num, sizeof(num));
		with_unit(num, sizeof(num), unit);
		emit(b, flags, "<line x1=\"%f\" y1=\"%f\" x2=\"%f\" y2=\"%f\" stroke=\"" COLOR_GRID "\"/>\n",
			 x0, y, x1, y);
		emit(b, flags, "<text x=\"%f\" y=\"%f\" text-anchor=\"end\" font-size=\"%d\" "
			 "fill=\"" COLOR_TEXT "\">%t</text>\n", x0 - 6, y + 4, FS_TICK, num);
	}
}

/* Axis label of the y axis (rotated), centred on [top, bottom] */
static void
y_label(svgbuf *b, const ecore_svg_texts *txt, const char *text, double x,
		double top, double bottom)
{
	double		cy = (top + bottom) / 2;

	if (text == NULL || text[0] == '\0')
		return;
	emit(b, 0, "<text x=\"%f\" y=\"%f\" transform=\"rotate(-90 %f %f)\" text-anchor=\"middle\" "
		 "font-size=\"%d\" fill=\"" COLOR_TEXT "\">", x, cy, x, cy, FS_AXIS);
	buf_text(b, text, ECORE_SVG_AXIS_CHARS, txt->flags);
	emit(b, 0, "</text>\n");
}

/* Axis label of the x axis, centred at (cx, y) */
static void
x_label(svgbuf *b, const ecore_svg_texts *txt, double cx, double y)
{
	if (txt->x_label == NULL || txt->x_label[0] == '\0')
		return;
	emit(b, 0, "<text x=\"%f\" y=\"%f\" text-anchor=\"middle\" font-size=\"%d\" "
		 "fill=\"" COLOR_TEXT "\">", cx, y, FS_AXIS);
	buf_text(b, txt->x_label, ECORE_SVG_AXIS_CHARS, txt->flags);
	emit(b, 0, "</text>\n");
}

/* Axis lines: x axis at y = base, y axis at x = x0 */
static void
axis_lines(svgbuf *b, double x0, double x1, double top, double bottom,
		   double base)
{
	emit(b, 0, "<line x1=\"%f\" y1=\"%f\" x2=\"%f\" y2=\"%f\" stroke=\"" COLOR_AXIS "\"/>\n",
		 x0, top, x0, bottom);
	emit(b, 0, "<line x1=\"%f\" y1=\"%f\" x2=\"%f\" y2=\"%f\" stroke=\"" COLOR_AXIS "\"/>\n",
		 x0, base, x1, base);
}

/* Layout of category labels under a row of slots */
typedef struct cat_layout
{
	int			rotated;		/* 0: horizontal, 1: rotated by -40 deg */
	size_t		stride;			/* label every stride-th category */
	size_t		max_chars;		/* characters kept */
	double		height;			/* vertical space they take */
} cat_layout;

/* Choose how to write n category labels in slots of width slot */
static void
cat_plan(cat_layout *c, size_t n, const char *const *labels, double slot)
{
	double		maxw = 0,
				w;
	size_t		i;

	c->rotated = 0;
	c->stride = 1;
	c->max_chars = ECORE_SVG_LABEL_CHARS;
	for (i = 0; i < n; i++)
	{
		w = text_width(labels[i], FS_TICK, c->max_chars);
		if (w > maxw)
			maxw = w;
	}
	if (maxw <= slot - 6)
	{
		c->height = 22;
		return;
	}
	c->rotated = 1;
	c->max_chars = 24;
	if (maxw > text_width("MMMMMMMMMMMMMMMMMMMMMMMM", FS_TICK, 0) * 0.7)
		maxw = text_width("MMMMMMMMMMMMMMMMMMMMMMMM", FS_TICK, 0) * 0.7;
	/* parallel rotated labels need about 22 px between their anchors */
	c->stride = slot >= 22 ? 1 : (size_t) ceil(22.0 / slot);
	/* sin 40 = 0.643, cos 40 = 0.766 */
	c->height = 14 + maxw * 0.766 + FS_TICK * 0.643;
}

/* Write category label i centred at cx under the axis at y */
static void
cat_label(svgbuf *b, int flags, const cat_layout *c, size_t i,
		  const char *label, double cx, double y)
{
	if (i % c->stride != 0)
		return;
	if (!c->rotated)
	{
		emit(b, flags, "<text x=\"%f\" y=\"%f\" text-anchor=\"middle\" font-size=\"%d\" "
			 "fill=\"" COLOR_TEXT "\">", cx, y + 16, FS_TICK);
	}
	else
	{
		emit(b, flags, "<text x=\"%f\" y=\"%f\" transform=\"rotate(-40 %f %f)\" "
			 "text-anchor=\"end\" font-size=\"%d\" fill=\"" COLOR_TEXT "\">",
			 cx + 4, y + 14, cx + 4, y + 14, FS_TICK);
	}
	buf_text(b, label, c->max_chars, flags);
	emit(b, flags, "</text>\n");
}

/* Slot width of n categories: wide when few, at least 3 px */
static double
slot_width(size_t n, double wide, double target_w)
{
	double		s = target_w / (double) n;

	if (s > wide)
		s = wide;
	if (s * (double) n > PLOT_MAX_W)
		s = PLOT_MAX_W / (double) n;
	if (s < 3)
		s = 3;
	return s;
}

/* ---------------------------------------------------------------------
 * Bar chart
 * ---------------------------------------------------------------------
 */

/* Bar chart (see svg.h) */
int
ecore_svg_bar_chart(ecore_env *env, const ecore_svg_texts *txt, size_t n,
					 const char *const *labels, const double *values,
					 char **out, size_t *out_len)
{
	svgbuf		b = {0};
	ecore_svg_ticks t;
	cat_layout	cat;
	int			rc,
				si,
				show_values = 1;
	size_t		i;
	double		lo = 0,
				hi = 0,
				slot,
				plot_w,
				left,
				right,
				top = 64,
				plot_h = 320,
				bottom,
				base,
				w,
				h,
				bw,
				x,
				y,
				maxvw = 0;
	char		num[128];

	if (env == NULL || env->alloc == NULL)
		return ECORE_SVG_EINVAL_ENV;
	if (txt == NULL || out == NULL || out_len == NULL)
		return ECORE_SVG_EINVAL_ARG;
	if (n < 1 || n > ECORE_SVG_MAX_BARS)
		return ECORE_SVG_EINVAL_N;
	if (labels == NULL || values == NULL)
		return ECORE_SVG_EINVAL_ARG;
	for (i = 0; i < n; i++)
	{
		if ((rc = check_value(env, values[i], i, ECORE_SVG_FIELD_VALUES)) != ECORE_SVG_OK)
			return rc;
		if (values[i] < lo)
			lo = values[i];
		if (values[i] > hi)
			hi = values[i];
	}
	si = unit_si(txt->unit);
	rc = ecore_svg_nice_ticks(lo, hi, 6, &t);
	if (rc != ECORE_SVG_OK)
		return rc;

	slot = slot_width(n, 96, 640);
	plot_w = fmax(480, slot * (double) n);
	slot = plot_w / (double) n;
	bw = slot * 0.68;
	for (i = 0; i < n; i++)
	{
		ecore_svg_format_value(values[i], si, num, 64);
		with_unit(num, sizeof(num), txt->unit);
		if (text_width(num, FS_VALUE, 0) > maxvw)
			maxvw = text_width(num, FS_VALUE, 0);
		if (labels[i] == NULL)
			return ECORE_SVG_EINVAL_ARG;
	}
	if (maxvw > slot - 2)
		show_values = 0;
	cat_plan(&cat, n, labels, slot);
	left = 28 + ticks_width(&t, si, txt->unit) + 12;
	if (left < 70)
		left = 70;
	right = left + plot_w;
	bottom = top + plot_h;
	w = right + 30;
	h = bottom + cat.height + (txt->x_label && txt->x_label[0] ? 30 : 8) + 8;
	base = scale_to(&t, 0, bottom, top);

	b.env = env;
	doc_start(&b, txt, w, h, "Bar chart");
	y_axis(&b, txt->flags, &t, si, txt->unit, left, right, top, bottom);
	for (i = 0; i < n; i++)
	{
		double		v = values[i];

		x = left + slot * (double) i + (slot - bw) / 2;
		y = scale_to(&t, v, bottom, top);
		ecore_svg_format_value(v, si, num, 64);
		with_unit(num, sizeof(num), txt->unit);
		emit(&b, txt->flags, "<rect x=\"%f\" y=\"%f\" width=\"%f\" height=\"%f\" fill=\"" COLOR_BAR "\">"
			 "<title>", x, fmin(y, base), bw, fabs(base - y));
		buf_text(&b, labels[i], ECORE_SVG_TITLE_CHARS, txt->flags);
		emit(&b, txt->flags, ": %t</title></rect>\n", num);
		if (show_values)
			emit(&b, txt->flags, "<text x=\"%f\" y=\"%f\" text-anchor=\"middle\" font-size=\"%d\" "
				 "fill=\"" COLOR_TEXT "\">%t</text>\n",
				 x + bw / 2, v >= 0 ? y - 5 : y + 14, FS_VALUE, num);
		cat_label(&b, txt->flags, &cat, i, labels[i], x + bw / 2, bottom);
	}
	axis_lines(&b, left, right, top, bottom, base);
	if (base != bottom)
		emit(&b, 0, "<line x1=\"%f\" y1=\"%f\" x2=\"%f\" y2=\"%f\" stroke=\"" COLOR_AXIS "\"/>\n",
			 left, bottom, right, bottom);
	x_label(&b, txt, (left + right) / 2, bottom + cat.height + 22);
	y_label(&b, txt, txt->y_label, 18, top, bottom);
	return doc_end(&b, out, out_len);
}

/* ---------------------------------------------------------------------
 * Line chart
 * ---------------------------------------------------------------------
 */

/* Line chart with markers (see svg.h) */
int
ecore_svg_line_chart(ecore_env *env, const ecore_svg_texts *txt, size_t n,
					  const double *x, const double *y, const double *mark_x,
					  const char *mark_label, char **out, size_t *out_len)
{
	svgbuf		b = {0};
	ecore_svg_ticks tx,
				ty;
	int			rc,
				si,
				markers;
	size_t		i,
				hit = SIZE_MAX;
	double		xlo,
				xhi,
				ylo,
				yhi,
				left,
				right,
				top = 64,
				plot_w = 600,
				plot_h = 340,
				bottom,
				w,
				h,
				px,
				py;
	char		num[128],
				mlabel[160];

	if (env == NULL || env->alloc == NULL)
		return ECORE_SVG_EINVAL_ENV;
	if (txt == NULL || out == NULL || out_len == NULL)
		return ECORE_SVG_EINVAL_ARG;
	if (n < 1 || n > ECORE_SVG_MAX_POINTS)
		return ECORE_SVG_EINVAL_N;
	if (x == NULL || y == NULL)
		return ECORE_SVG_EINVAL_ARG;
	xlo = xhi = 0;
	ylo = yhi = 0;
	for (i = 0; i < n; i++)
	{
		if ((rc = check_value(env, x[i], i, ECORE_SVG_FIELD_X)) != ECORE_SVG_OK)
			return rc;
		if ((rc = check_value(env, y[i], i, ECORE_SVG_FIELD_Y)) != ECORE_SVG_OK)
			return rc;
		if (i == 0 || x[i] < xlo)
			xlo = x[i];
		if (i == 0 || x[i] > xhi)
			xhi = x[i];
		if (i == 0 || y[i] < ylo)
			ylo = y[i];
		if (i == 0 || y[i] > yhi)
			yhi = y[i];
	}
	if (mark_x != NULL)
	{
		if ((rc = check_value(env, *mark_x, 0, ECORE_SVG_FIELD_MARK)) != ECORE_SVG_OK)
			return rc;
		xlo = fmin(xlo, *mark_x);
		xhi = fmax(xhi, *mark_x);
		for (i = 0; i < n; i++)
			if (x[i] == *mark_x)
			{
				hit = i;
				break;
			}
	}
	si = unit_si(txt->unit);
	if ((rc = ecore_svg_nice_ticks(xlo, xhi, 10, &tx)) != ECORE_SVG_OK)
		return rc;
	if ((rc = ecore_svg_nice_ticks(ylo, yhi, 6, &ty)) != ECORE_SVG_OK)
		return rc;
	left = 28 + ticks_width(&ty, si, txt->unit) + 12;
	if (left < 70)
		left = 70;
	right = left + plot_w;
	bottom = top + plot_h;
	w = right + 40;
	h = bottom + 30 + (txt->x_label && txt->x_label[0] ? 26 : 0) + 8;
	markers = n <= 200;

	b.env = env;
	doc_start(&b, txt, w, h, "Line chart");
	y_axis(&b, txt->flags, &ty, si, txt->unit, left, right, top, bottom);
	/* x ticks: every label that leaves room for the next */
	{
		double		maxw = ticks_width(&tx, 0, NULL);
		double		gap = plot_w / (double) (tx.count - 1);
		int			stride = (int) ceil((maxw + 8) / (gap > 0 ? gap : 1));

		if (stride < 1)
			stride = 1;
		for (i = 0; i < (size_t) tx.count; i++)
		{
			px = scale_to(&tx, tx.first + (double) i * tx.step, left, right);
			emit(&b, 0, "<line x1=\"%f\" y1=\"%f\" x2=\"%f\" y2=\"%f\" stroke=\"" COLOR_AXIS "\"/>\n",
				 px, bottom, px, bottom + 5);
			if (i % (size_t) stride != 0)
				continue;
			ecore_svg_format_tick(&tx, (int) i, 0, num, sizeof(num));
			emit(&b, 0, "<text x=\"%f\" y=\"%f\" text-anchor=\"middle\" font-size=\"%d\" "
				 "fill=\"" COLOR_TEXT "\">%t</text>\n", px, bottom + 20, FS_TICK, num);
		}
	}
	axis_lines(&b, left, right, top, bottom, bottom);
	/* the mark's dashed line goes under the curve */
	if (mark_x != NULL)
	{
		double		mx = scale_to(&tx, *mark_x, left, right);
		int			to_left = mx > left + plot_w * 0.7;

		if (mark_label == NULL || mark_label[0] == '\0')
		{
			ecore_svg_format_value(*mark_x, 0, num, 64);
			snprintf(mlabel, sizeof(mlabel), "x = %s", num);
			mark_label = mlabel;
		}
		emit(&b, 0, "<line x1=\"%f\" y1=\"%f\" x2=\"%f\" y2=\"%f\" stroke=\"" COLOR_MARK "\" "
			 "stroke-width=\"1.5\" stroke-dasharray=\"6 4\"/>\n", mx, top, mx, bottom);
		emit(&b, 0, "<text x=\"%f\" y=\"%f\" text-anchor=\"%s\" font-size=\"%d\" font-weight=\"bold\" "
			 "fill=\"" COLOR_MARK "\">", to_left ? mx - 8 : mx + 8, top + 16,
			 to_left ? "end" : "start", FS_AXIS);
		buf_text(&b, mark_label, ECORE_SVG_AXIS_CHARS, txt->flags);
		emit(&b, 0, "</text>\n");
	}
	emit(&b, 0, "<polyline fill=\"none\" stroke=\"" COLOR_BAR "\" stroke-width=\"2\" stroke-linejoin=\"round\" points=\"");
	for (i = 0; i < n; i++)
	{
		px = scale_to(&tx, x[i], left, right);
		py = scale_to(&ty, y[i], bottom, top);
		emit(&b, 0, i ? " %f,%f" : "%f,%f", px, py);
		if (env->check && i % 4096 == 4095)
			env->check(env->check_arg);
	}
	emit(&b, 0, "\"/>\n");
	for (i = 0; i < n && markers; i++)
	{
		char		ynum[128];

		px = scale_to(&tx, x[i], left, right);
		py = scale_to(&ty, y[i], bottom, top);
		ecore_svg_format_value(x[i], 0, num, 64);
		ecore_svg_format_value(y[i], si, ynum, 64);
		with_unit(ynum, sizeof(ynum), txt->unit);
		emit(&b, txt->flags, "<circle cx=\"%f\" cy=\"%f\" r=\"4\" fill=\"#ffffff\" stroke=\"" COLOR_BAR "\" "
			 "stroke-width=\"2\"><title>%t: %t</title></circle>\n", px, py, num, ynum);
	}
	if (hit != SIZE_MAX)
	{
		px = scale_to(&tx, x[hit], left, right);
		py = scale_to(&ty, y[hit], bottom, top);
		emit(&b, txt->flags, "<circle cx=\"%f\" cy=\"%f\" r=\"7\" fill=\"" COLOR_MARK "\" stroke=\"#ffffff\" "
			 "stroke-width=\"2\"><title>%t</title></circle>\n", px, py, mark_label);
	}
	x_label(&b, txt, (left + right) / 2, bottom + 48);
	y_label(&b, txt, txt->y_label, 18, top, bottom);
	return doc_end(&b, out, out_len);
}

/* ---------------------------------------------------------------------
 * Cluster chart
 * ---------------------------------------------------------------------
 */

/* Cluster chart (see svg.h) */
int
ecore_svg_cluster_chart(ecore_env *env, const ecore_svg_texts *txt,
						 size_t k, const char *const *labels,
						 const int64_t *sizes, size_t m,
						 const char *const *metrics, const double *profile,
						 char **out, size_t *out_len)
{
	svgbuf		b = {0};
	ecore_svg_ticks ts,
				tp;
	cat_layout	cat;
	int			rc,
				ratio_mode = 1,
				show_sizes,
				show_ratio;
	size_t		i,
				j;
	double		total = 0,
				mean[ECORE_SVG_MAX_METRICS],
				maxabs[ECORE_SVG_MAX_METRICS],
				rmin = 0,
				rmax = 0,
				slot,
				bw,
				plot_w,
				left,
				right,
				top1,
				bottom1,
				top2,
				bottom2,
				legend_y,
				legend_h,
				w,
				h,
				x,
				y,
				base,
				lx,
				ly;
	char		num[128],
				share[64],
				raw[128];

	if (env == NULL || env->alloc == NULL)
		return ECORE_SVG_EINVAL_ENV;
	if (txt == NULL || out == NULL || out_len == NULL)
		return ECORE_SVG_EINVAL_ARG;
	if (k < 1 || k > ECORE_SVG_MAX_CLUSTERS)
		return ECORE_SVG_EINVAL_N;
	if (m < 1 || m > ECORE_SVG_MAX_METRICS)
		return ECORE_SVG_EINVAL_M;
	if (labels == NULL || sizes == NULL || metrics == NULL || profile == NULL)
		return ECORE_SVG_EINVAL_ARG;
	for (i = 0; i < k; i++)
	{
		if (labels[i] == NULL)
			return ECORE_SVG_EINVAL_ARG;
		if (sizes[i] < 0)
		{
			env->error_row = i;
			env->error_col = ECORE_SVG_FIELD_SIZES;
			return ECORE_SVG_ENEGATIVE;
		}
		total += (double) sizes[i];
		for (j = 0; j < m; j++)
			if ((rc = check_value(env, profile[i * m + j], i,
								  ECORE_SVG_FIELD_PROFILE + (int) j)) != ECORE_SVG_OK)
				return rc;
	}
	for (j = 0; j < m; j++)
		if (metrics[j] == NULL)
			return ECORE_SVG_EINVAL_ARG;

	/* overall means (weighted by the sizes) and largest magnitudes */
	for (j = 0; j < m; j++)
	{
		mean[j] = 0;
		maxabs[j] = 0;
		for (i = 0; i < k; i++)
		{
			double		v = profile[i * m + j];
			double		wgt = total > 0 ? (double) sizes[i] / total : 1.0 / (double) k;

			mean[j] += wgt * v;
			maxabs[j] = fmax(maxabs[j], fabs(v));
			if (v < 0)
				ratio_mode = 0;
		}
		if (!(mean[j] > 0))
			ratio_mode = 0;
	}
	for (i = 0; i < k && ratio_mode; i++)
		for (j = 0; j < m; j++)
		{
			double		r = profile[i * m + j] / mean[j];

			if (!isfinite(r) || r > 1e12)
				ratio_mode = 0;
		}
	for (i = 0; i < k; i++)
		for (j = 0; j < m; j++)
		{
			double		v = profile[i * m + j];
			double		r = ratio_mode ? v / mean[j] : (maxabs[j] > 0 ? v / maxabs[j] : 0);

			rmin = fmin(rmin, r);
			rmax = fmax(rmax, r);
		}
	if (ratio_mode)
		rmax = fmax(rmax, 1.0);
	{
		double		smax = 0;

		for (i = 0; i < k; i++)
			smax = fmax(smax, (double) sizes[i]);
		/* headroom above the tallest bar for its two value labels */
		if ((rc = ecore_svg_nice_ticks(0, smax * 1.2, 5, &ts)) != ECORE_SVG_OK)
			return rc;
	}
	if ((rc = ecore_svg_nice_ticks(rmin, rmax, 6, &tp)) != ECORE_SVG_OK)
		return rc;

	/* layout */
	bw = m <= 3 ? 28 : m <= 5 ? 22 : 14;
	slot = fmax((double) m * bw + 24, k <= 12 ? 100 : 0);
	if (slot * (double) k > PLOT_MAX_W)
	{
		slot = PLOT_MAX_W / (double) k;
		bw = (slot - 8) / (double) m;
	}
	plot_w = fmax(560, slot * (double) k);
	slot = plot_w / (double) k;
	if ((double) m * bw > slot - 12)
		bw = fmax(1, (slot - 12) / (double) m);
	cat_plan(&cat, k, labels, slot);
	left = 28 + fmax(ticks_width(&ts, 1, NULL), ticks_width(&tp, 0, NULL)) + 12;
	if (left < 70)
		left = 70;
	right = left + plot_w;
	/* legend rows above the profile panel */
	legend_h = 20;
	lx = 0;
	for (j = 0; j < m; j++)
	{
		double		iw = 22 + text_width(metrics[j], FS_TICK, 24) + 18;

		if (lx > 0 && lx + iw > plot_w)
		{
			legend_h += 20;
			lx = 0;
		}
		lx += iw;
	}
	top1 = 64 + 24;
	bottom1 = top1 + 200;
	top2 = bottom1 + cat.height + 30 + 24 + legend_h;
	bottom2 = top2 + 260;
	legend_y = top2 - legend_h - 4;
	w = right + 30;
	h = bottom2 + cat.height + 12;

	b.env = env;
	doc_start(&b, txt, w, h, "Cluster chart");

	/* panel 1: users per cluster */
	emit(&b, 0, "<text x=\"%f\" y=\"%f\" font-size=\"%d\" font-weight=\"bold\" fill=\"" COLOR_TEXT "\">"
		 "Users per cluster</text>\n", left, top1 - 14, FS_PANEL);
	y_axis(&b, txt->flags, &ts, 1, NULL, left, right, top1, bottom1);
	{
		double		sbw = fmin(slot * 0.6, 90);
		double		maxlw = 0;

		for (i = 0; i < k; i++)
		{
			ecore_svg_format_fixed((double) sizes[i], 0, 1, num, sizeof(num));
			maxlw = fmax(maxlw, text_width(num, FS_VALUE, 0));
		}
		show_sizes = maxlw <= slot - 4 ? 2 : text_width("100.0%", FS_VALUE, 0) <= slot - 2 ? 1 : 0;
		for (i = 0; i < k; i++)
		{
			double		pct = total > 0 ? 100.0 * (double) sizes[i] / total : 0;

			x = left + slot * (double) i + (slot - sbw) / 2;
			y = scale_to(&ts, (double) sizes[i], bottom1, top1);
			ecore_svg_format_fixed((double) sizes[i], 0, 1, num, sizeof(num));
			ecore_svg_format_fixed(pct, 1, 0, share, sizeof(share));
			emit(&b, txt->flags, "<rect x=\"%f\" y=\"%f\" width=\"%f\" height=\"%f\" fill=\"" COLOR_BAR "\">"
				 "<title>", x, y, sbw, bottom1 - y);
			buf_text(&b, labels[i], ECORE_SVG_TITLE_CHARS, txt->flags);
			emit(&b, txt->flags, ": %t users (%t%%)</title></rect>\n", num, share);
			if (show_sizes == 2)
				emit(&b, txt->flags, "<text x=\"%f\" y=\"%f\" text-anchor=\"middle\" font-size=\"%d\" "
					 "fill=\"" COLOR_TEXT "\">%t</text>\n", x + sbw / 2, y - 19, FS_VALUE, num);
			if (show_sizes >= 1)
				emit(&b, txt->flags, "<text x=\"%f\" y=\"%f\" text-anchor=\"middle\" font-size=\"%d\" "
					 "fill=\"#666666\">%t%%</text>\n", x + sbw / 2, y - 5, FS_VALUE, share);
			cat_label(&b, txt->flags, &cat, i, labels[i], left + slot * ((double) i + 0.5), bottom1);
		}
	}
	axis_lines(&b, left, right, top1, bottom1, bottom1);
	y_label(&b, txt, "users", 18, top1, bottom1);

	/* panel 2: profile */
	emit(&b, 0, "<text x=\"%f\" y=\"%f\" font-size=\"%d\" font-weight=\"bold\" fill=\"" COLOR_TEXT "\">%s</text>\n",
		 left, legend_y - 12, FS_PANEL,
		 ratio_mode ? "Profile: each metric relative to its overall mean (1 = mean of all users)"
		 : "Profile: each metric divided by its largest magnitude");
	/* legend */
	lx = left;
	ly = legend_y;
	for (j = 0; j < m; j++)
	{
		double		iw = 22 + text_width(metrics[j], FS_TICK, 24) + 18;

		if (lx > left && lx + iw > right)
		{
			lx = left;
			ly += 20;
		}
		emit(&b, txt->flags, "<rect x=\"%f\" y=\"%f\" width=\"14\" height=\"14\" fill=\"%s\"/>\n",
			 lx, ly, palette[j]);
		emit(&b, txt->flags, "<text x=\"%f\" y=\"%f\" font-size=\"%d\" fill=\"" COLOR_TEXT "\">",
			 lx + 20, ly + 12, FS_TICK);
		buf_text(&b, metrics[j], 24, txt->flags);
		emit(&b, 0, "</text>\n");
		lx += iw;
	}
	y_axis(&b, txt->flags, &tp, 0, NULL, left, right, top2, bottom2);
	base = scale_to(&tp, 0, bottom2, top2);
	show_ratio = bw >= 26;
	for (i = 0; i < k; i++)
	{
		double		gx = left + slot * (double) i + (slot - bw * (double) m) / 2;

		for (j = 0; j < m; j++)
		{
			double		v = profile[i * m + j];
			double		r = ratio_mode ? v / mean[j] : (maxabs[j] > 0 ? v / maxabs[j] : 0);

			x = gx + bw * (double) j;
			y = scale_to(&tp, r, bottom2, top2);
			ecore_svg_format_value(v, 0, raw, 64);
			ecore_svg_format_value(r, 0, num, 64);
			emit(&b, txt->flags, "<rect x=\"%f\" y=\"%f\" width=\"%f\" height=\"%f\" fill=\"%s\">"
				 "<title>", x + 0.5, fmin(y, base), fmax(bw - 1, 0.5), fabs(base - y), palette[j]);
			buf_text(&b, labels[i], ECORE_SVG_TITLE_CHARS, txt->flags);
			emit(&b, txt->flags, ", %t: %t (%t%t)</title></rect>\n", metrics[j], raw, num,
				 ratio_mode ? " \xC3\x97 mean" : " of the largest");
			if (show_ratio)
				emit(&b, txt->flags, "<text x=\"%f\" y=\"%f\" text-anchor=\"middle\" font-size=\"10\" "
					 "fill=\"" COLOR_TEXT "\">%t</text>\n", x + bw / 2, r >= 0 ? y - 4 : y + 12, num);
		}
		cat_label(&b, txt->flags, &cat, i, labels[i], left + slot * ((double) i + 0.5), bottom2);
	}
	if (ratio_mode)
	{
		y = scale_to(&tp, 1.0, bottom2, top2);
		emit(&b, 0, "<line x1=\"%f\" y1=\"%f\" x2=\"%f\" y2=\"%f\" stroke=\"" COLOR_MARK "\" "
			 "stroke-dasharray=\"6 4\"/>\n", left, y, right, y);
		emit(&b, 0, "<text x=\"%f\" y=\"%f\" text-anchor=\"end\" font-size=\"11\" fill=\"" COLOR_MARK "\">"
			 "<tspan paint-order=\"stroke\" stroke=\"#ffffff\" stroke-width=\"4\">overall mean</tspan></text>\n",
			 right - 4, y - 5);
	}
	axis_lines(&b, left, right, top2, bottom2, base);
	if (base != bottom2)
		emit(&b, 0, "<line x1=\"%f\" y1=\"%f\" x2=\"%f\" y2=\"%f\" stroke=\"" COLOR_AXIS "\"/>\n",
			 left, bottom2, right, bottom2);
	y_label(&b, txt, ratio_mode ? "\xC3\x97 overall mean" : "share of the largest", 18, top2, bottom2);
	return doc_end(&b, out, out_len);
}
