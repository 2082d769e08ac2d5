/*-------------------------------------------------------------------------
 *
 * svg_text.c
 *	  Text of the SVG core: UTF-8 decoding, XML/HTML escaping (entities,
 *	  U+FFFD for what is not an XML 1.0 character, the ASCII mode), cutting
 *	  a text to a number of characters with an ellipsis, and the width
 *	  estimate the chart layouts use.  See svg.h for the contract.
 *
 * Copyright (c) 2026, engage developers
 *
 *-------------------------------------------------------------------------
 */
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "svg_internal.h"

/* Bytes of escaped text between two calls of env->check */
#define CHECK_BYTES ((size_t) 1 << 20)

/*
 * Decode the sequence at s[0..len) (len >= 1): returns the bytes it spans
 * (>= 1) and the code point in *cp, or -1 for an ill-formed sequence (its
 * maximal subpart, as the Unicode standard recommends).
 */
size_t
ecore_svg_utf8_next(const unsigned char *s, size_t len, int32_t *cp)
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
		i += ecore_svg_utf8_next(p + i, len - i, &cp);
		n++;
	}
	return n;
}

/*
 * Escape src[0..len), keeping at most max_chars characters (0: all); a
 * longer text keeps max_chars - 1 and an ellipsis.  Writes into dst when
 * not NULL; returns the length (SIZE_MAX on overflow).  env may be NULL.
 */
size_t
ecore_svg_escape_into(ecore_env *env, char *dst, const char *src, size_t len,
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
		sl = ecore_svg_utf8_next(p + i, len - i, &cp);
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
	return ecore_svg_escape_into(NULL, NULL, src, len, flags, 0);
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
	n = len ? ecore_svg_escape_into(env, NULL, src, len, flags, 0) : 0;
	if (n == SIZE_MAX)
		return ECORE_SVG_EOVERFLOW;
	dst = env->alloc(env->alloc_arg, n + 1);
	if (dst == NULL)
		return ECORE_SVG_ENOMEM;
	if (len)
		ecore_svg_escape_into(env, dst, src, len, flags, 0);
	dst[n] = '\0';
	*out = dst;
	*out_len = n;
	return ECORE_SVG_OK;
}

/* Estimated width in pixels of a text of font size fs, cut to max_chars */
double
ecore_svg_text_width(const char *s, double fs, size_t max_chars)
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
		i += ecore_svg_utf8_next(p + i, len - i, &cp);
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
