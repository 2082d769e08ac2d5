/*-------------------------------------------------------------------------
 *
 * svg_check.h
 *	  A strict, small well-formedness checker of the SVG documents that
 *	  the SVG core (src/core/svg_*.c) writes, shared by
 *	  test/unit/test_svg.c and test/fuzz/fuzz_svg.c: valid UTF-8 with only
 *	  XML 1.0 characters, balanced elements, quoted attributes without
 *	  '<', only known entities, no raw '>' in text, and no <script> or
 *	  event attribute; for a chart (svg_check_chart), also the parts every
 *	  chart has and no NaN or infinity in an attribute.
 *
 * Copyright (c) 2026, engage developers
 *
 *-------------------------------------------------------------------------
 */
#ifndef ENGAGE_SVG_CHECK_H
#define ENGAGE_SVG_CHECK_H

#include <stddef.h>
#include <string.h>

#define SVG_CHECK_DEPTH 32

/* Length of a valid UTF-8 XML character at s (0 if invalid) */
static size_t
svg_check_char(const unsigned char *s, size_t len)
{
	unsigned int c = s[0];
	size_t		need,
				i;
	unsigned long v;

	if (c < 0x80)
		return (c >= 0x20 || c == 9 || c == 10 || c == 13) ? 1 : 0;
	if (c >= 0xC2 && c <= 0xDF)
		need = 1, v = c & 0x1F;
	else if (c >= 0xE0 && c <= 0xEF)
		need = 2, v = c & 0x0F;
	else if (c >= 0xF0 && c <= 0xF4)
		need = 3, v = c & 0x07;
	else
		return 0;
	if (need >= len)
		return 0;
	for (i = 1; i <= need; i++)
	{
		if ((s[i] & 0xC0) != 0x80)
			return 0;
		v = (v << 6) | (s[i] & 0x3F);
	}
	if ((need == 2 && v < 0x800) || (need == 3 && (v < 0x10000 || v > 0x10FFFF)) ||
		(v >= 0xD800 && v <= 0xDFFF) || v == 0xFFFE || v == 0xFFFF)
		return 0;
	return need + 1;
}

/* Length of a known entity at s ('&'), 0 if none */
static size_t
svg_check_entity(const char *s, size_t len)
{
	static const char *const known[] = {"&amp;", "&lt;", "&gt;", "&quot;", "&#39;"};
	size_t		i;

	for (i = 0; i < sizeof(known) / sizeof(known[0]); i++)
		if (len >= strlen(known[i]) && memcmp(s, known[i], strlen(known[i])) == 0)
			return strlen(known[i]);
	if (len >= 5 && s[1] == '#' && s[2] == 'x')
	{
		for (i = 3; i < len && i < 11; i++)
		{
			char		c = s[i];

			if (c == ';')
				return i > 3 ? i + 1 : 0;
			if (!((c >= '0' && c <= '9') || (c >= 'A' && c <= 'F')))
				return 0;
		}
	}
	return 0;
}

/*
 * Check a document; returns NULL if fine, else a static description of
 * the first problem.
 */
static const char *
svg_check(const char *doc, size_t len)
{
	const unsigned char *u = (const unsigned char *) doc;
	const char *stack[SVG_CHECK_DEPTH];
	size_t		stack_len[SVG_CHECK_DEPTH];
	int			depth = 0,
				seen_root = 0;
	size_t		i = 0,
				n;

	if (len < 6 || memcmp(doc, "<?xml ", 6) != 0)
		return "no XML declaration";
	if (strlen(doc) != len)
		return "NUL byte in the document";
	while (i < len)
	{
		if (doc[i] == '<')
		{
			size_t		j = i + 1,
						name,
						name_len;
			int			closing = 0,
						selfclose = 0;

			if (doc[j] == '?')
			{
				const char *end = strstr(doc + j, "?>");

				if (i != 0 || end == NULL)
					return "misplaced processing instruction";
				i = (size_t) (end - doc) + 2;
				continue;
			}
			if (doc[j] == '/')
				closing = 1, j++;
			name = j;
			while (j < len && ((doc[j] >= 'a' && doc[j] <= 'z') || (doc[j] >= 'A' && doc[j] <= 'Z')))
				j++;
			if (j == name)
				return "bad element name";
			name_len = j - name;
			if ((j - name == 6 && strncmp(doc + name, "script", 6) == 0) ||
				(j - name == 13 && strncmp(doc + name, "foreignObject", 13) == 0))
				return "script or foreignObject element";
			/* attributes */
			while (j < len && doc[j] != '>')
			{
				if (doc[j] == '"')
				{
					j++;
					while (j < len && doc[j] != '"')
					{
						if (doc[j] == '<')
							return "'<' in an attribute value";
						if (doc[j] == '&')
						{
							n = svg_check_entity(doc + j, len - j);
							if (n == 0)
								return "bad entity in an attribute";
							j += n;
							continue;
						}
						j++;
					}
					if (j >= len)
						return "unterminated attribute";
					j++;
					continue;
				}
				if (doc[j] == '<' || doc[j] == '&' || doc[j] == '\'')
					return "bad character in a tag";
				if (doc[j] == '=' && j >= 3 && doc[j - 3] == ' ' && doc[j - 2] == 'o' && doc[j - 1] == 'n')
					return "event attribute";
				if (doc[j] == '/' && j + 1 < len && doc[j + 1] == '>')
					selfclose = 1;
				j++;
			}
			if (j >= len)
				return "unterminated tag";
			if (closing)
			{
				if (depth == 0 || stack_len[depth - 1] != name_len ||
					strncmp(stack[depth - 1], doc + name, name_len) != 0)
					return "unbalanced closing tag";
				depth--;
			}
			else if (!selfclose)
			{
				if (depth == 0 && seen_root)
					return "two root elements";
				if (depth == SVG_CHECK_DEPTH)
					return "too deep";
				stack[depth] = doc + name;
				stack_len[depth] = name_len;
				depth++;
				seen_root = 1;
			}
			i = j + 1;
			continue;
		}
		if (doc[i] == '>')
			return "raw '>' in text";
		if (doc[i] == '&')
		{
			n = svg_check_entity(doc + i, len - i);
			if (n == 0)
				return "bad entity in text";
			i += n;
			continue;
		}
		n = svg_check_char(u + i, len - i);
		if (n == 0)
			return "invalid UTF-8 or XML character";
		i += n;
	}
	if (depth != 0)
		return "unclosed element";
	if (!seen_root)
		return "no root element";
	return NULL;
}

/*
 * Whether an attribute value starts with NaN or an infinity (data text
 * cannot hold a raw '"', so such a value is a number the code wrote).
 */
static int
svg_check_nonfinite(const char *doc)
{
	static const char *const bad[] = {"\"nan", "\"-nan", "\"inf", "\"-inf",
	"\"NaN", "\"-NaN", "\"Inf", "\"-Inf", " nan", " inf", " -inf", ",nan", ",inf", ",-inf"};
	size_t		i;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
	{
		const char *p = doc;

		/* only inside tags: look for the pattern between '<' and '>' */
		while ((p = strstr(p, bad[i])) != NULL)
		{
			const char *lt = p,
					   *gt = p;

			while (lt > doc && *lt != '<' && *lt != '>')
				lt--;
			while (*gt && *gt != '>')
				gt++;
			if (*lt == '<' && *gt == '>')
				return 1;
			p++;
		}
	}
	return 0;
}

/*
 * Check a chart document: well-formed (svg_check), with the svg root
 * element, its viewBox, a title, the white background and the closing
 * tag, and no NaN or infinity in an attribute.  NULL if fine, else a
 * static description of the first problem.
 */
static const char *
svg_check_chart(const char *doc, size_t len)
{
	const char *problem = svg_check(doc, len);

	if (problem != NULL)
		return problem;
	if (strstr(doc, "<svg xmlns=\"http://www.w3.org/2000/svg\"") == NULL ||
		strstr(doc, "viewBox=\"0 0 ") == NULL || strstr(doc, "<title>") == NULL ||
		strstr(doc, "fill=\"#ffffff\"") == NULL || strstr(doc, "</svg>\n") == NULL)
		return "missing svg element, viewBox, title or background";
	if (svg_check_nonfinite(doc))
		return "NaN or infinity in an attribute";
	return NULL;
}

#endif							/* ENGAGE_SVG_CHECK_H */
