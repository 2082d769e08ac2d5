/*-------------------------------------------------------------------------
 *
 * fuzz_options.c
 *	  libFuzzer target of the option parsers of engage's numerical core:
 *	  ecore_kmeans_init_parse ('k-means++', 'random', 'given'),
 *	  ecore_scale_method_parse ('zscore', 'minmax', 'none') and
 *	  ecore_name_equal, the ASCII case-insensitive comparison behind both
 *	  (the PostgreSQL glue hands them the option texts as given in SQL).
 *
 *	  Every string is copied into a buffer of exactly its size, so a read
 *	  past its NUL is an ASan report.  The parsers are checked against a
 *	  reference written here: a name is accepted exactly when it equals one
 *	  of the names up to ASCII case, the right value comes back, the output
 *	  is untouched on failure, and the name of the value parses back to it.
 *	  Any violation calls abort().
 *
 *	  clang -fsanitize=fuzzer,address,undefined (see test/fuzz/Makefile)
 *
 * Input layout: the bytes are cut at NUL into strings (the whole input is
 * one string when it has no NUL); each string, each pair of neighbours and
 * a copy with its ASCII letters' case flipped by the following bytes' bits
 * go through the checks.
 *
 * Copyright (c) 2026, engage developers
 *
 *-------------------------------------------------------------------------
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/kmeans.h"
#include "core/scale.h"

int			LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define FZ_MAX_STRINGS 16

/* The vocabularies, in enum order */
static const char *const init_names[] = {"k-means++", "random", "given"};
static const char *const scale_names[] = {"none", "zscore", "minmax"};

/* Abort with a message (a finding) */
static void
fz_die(const char *what, const char *s)
{
	fprintf(stderr, "fuzz_options: %s (input \"%s\")\n", what, s ? s : "(null)");
	abort();
}

/* Reference ASCII lower case */
static int
ref_lower(unsigned char c)
{
	return (c >= 'A' && c <= 'Z') ? c + ('a' - 'A') : c;
}

/* Reference comparison: same length, same bytes up to ASCII case */
static int
ref_equal(const char *a, const char *b)
{
	size_t		la = strlen(a),
				lb = strlen(b),
				i;

	if (la != lb)
		return 0;
	for (i = 0; i < la; i++)
		if (ref_lower((unsigned char) a[i]) != ref_lower((unsigned char) b[i]))
			return 0;
	return 1;
}

/* A malloc'ed copy of exactly strlen(s) + 1 bytes */
static char *
fz_exact_copy(const char *s, size_t len)
{
	char	   *c = malloc(len + 1);

	if (c == NULL)
		abort();
	memcpy(c, s, len);
	c[len] = '\0';
	return c;
}

/* ecore_name_equal against the reference, both ways round */
static void
fz_check_equal(const char *a, const char *b)
{
	int			e = ecore_name_equal(a, b);

	if (e != 0 && e != 1)
		fz_die("ecore_name_equal returned neither 0 nor 1", a);
	if (e != ref_equal(a, b))
		fz_die("ecore_name_equal disagrees with the reference", a);
	if (ecore_name_equal(b, a) != e)
		fz_die("ecore_name_equal is not symmetric", a);
}

/* Both parsers on one string */
static void
fz_check_parsers(const char *s)
{
	ecore_kmeans_init init = (ecore_kmeans_init) 77;
	ecore_scale_method m = (ecore_scale_method) 77;
	int			want = -1,
				rc,
				i;

	if (!ecore_name_equal(s, s))
		fz_die("a name differs from itself", s);
	if (ecore_name_equal(s, NULL) || ecore_name_equal(NULL, s))
		fz_die("NULL matched a name", s);

	/* init */
	for (i = 0; i < 3; i++)
	{
		fz_check_equal(s, init_names[i]);
		if (ref_equal(s, init_names[i]))
			want = i;
	}
	rc = ecore_kmeans_init_parse(s, &init);
	if (want >= 0)
	{
		const char *name;

		if (rc != ECORE_OK || (int) init != want)
			fz_die("init name not accepted, or the wrong value", s);
		name = ecore_kmeans_init_name(init);
		if (name == NULL || strlen(name) != strlen(s) || !ref_equal(name, s))
			fz_die("init name does not round-trip", s);
	}
	else if (rc != ECORE_EINVAL_INIT || (int) init != 77)
		fz_die("unknown init accepted, wrong status or output changed", s);

	/* scaling */
	want = -1;
	for (i = 0; i < 3; i++)
	{
		fz_check_equal(s, scale_names[i]);
		if (ref_equal(s, scale_names[i]))
			want = i;
	}
	rc = ecore_scale_method_parse(s, &m);
	if (want >= 0)
	{
		const char *name;

		if (rc != ECORE_OK || (int) m != want)
			fz_die("scaling name not accepted, or the wrong value", s);
		name = ecore_scale_method_name(m);
		if (name == NULL || !ref_equal(name, s))
			fz_die("scaling name does not round-trip", s);
	}
	else if (rc != ECORE_EINVAL_ARG || (int) m != 77)
		fz_die("unknown scaling accepted, wrong status or output changed", s);
}

/* Fuzz entry point */
int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char	   *strs[FZ_MAX_STRINGS];
	size_t		lens[FZ_MAX_STRINGS];
	size_t		ns = 0,
				start = 0,
				i,
				j;

	/* cut at NUL: strings of exactly their size */
	for (i = 0; i <= size && ns < FZ_MAX_STRINGS; i++)
		if (i == size || data[i] == 0)
		{
			lens[ns] = i - start;
			strs[ns] = fz_exact_copy((const char *) data + start, i - start);
			ns++;
			start = i + 1;
		}

	for (i = 0; i < ns; i++)
	{
		fz_check_parsers(strs[i]);
		if (i + 1 < ns)
			fz_check_equal(strs[i], strs[i + 1]);

		/* the same string with the case of some letters flipped */
		{
			char	   *flip = fz_exact_copy(strs[i], lens[i]);

			for (j = 0; j < lens[i]; j++)
			{
				unsigned char c = (unsigned char) flip[j];

				/* bit j of the input, read from byte 7 i on, cyclically */
				if ((data[(i * 7 + j / 8) % size] >> (j % 8)) & 1)
				{
					if (c >= 'a' && c <= 'z')
						flip[j] = (char) (c - ('a' - 'A'));
					else if (c >= 'A' && c <= 'Z')
						flip[j] = (char) (c + ('a' - 'A'));
				}
			}
			if (!ecore_name_equal(flip, strs[i]))
				fz_die("a case-flipped copy differs", strs[i]);
			fz_check_parsers(flip);
			free(flip);
		}
	}
	for (i = 0; i < ns; i++)
		free(strs[i]);
	return 0;
}
