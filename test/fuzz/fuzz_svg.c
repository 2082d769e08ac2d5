/*-------------------------------------------------------------------------
 *
 * fuzz_svg.c
 *	  libFuzzer target of engage's SVG core (src/core/svg_*.c): the input
 *	  bytes are escaped whole (both modes), then split into texts and
 *	  numbers for the three chart builders.  Every document must pass the
 *	  strict checker of test/unit/svg_check.h; escaping must agree with
 *	  its announced length and never leave a raw & < > " '.  Any
 *	  violation calls abort().
 *
 *	  clang -fsanitize=fuzzer,address,undefined (see test/fuzz/Makefile)
 *
 * Input layout: byte 0 selects options (ASCII mode, mark, unit); byte 1
 * the count n; then n 8-byte doubles (raw bit patterns, so NaN,
 * infinities, huge and subnormal values occur), and the rest is text,
 * split at '\x1F' into title, axis labels, unit and labels.
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

#include "core/svg.h"
#include "../unit/svg_check.h"
#include "fuzz_arena.h"

int			LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define FZ_MAX_TEXTS 64

/* Abort with a message */
static void
fz_die(const char *what, const char *detail)
{
	fprintf(stderr, "fuzz_svg: %s: %s\n", what, detail ? detail : "");
	abort();
}

/* Check a chart's status and document */
static void
fz_check_chart(int rc, const char *out, size_t len, const char *which)
{
	const char *problem;

	if (rc != ECORE_SVG_OK)
	{
		if (rc != ECORE_SVG_ENONFINITE && rc != ECORE_SVG_ERANGE &&
			rc != ECORE_SVG_ENEGATIVE && rc != ECORE_SVG_ENOMEM &&
			rc != ECORE_SVG_EINVAL_N && rc != ECORE_SVG_EINVAL_M)
			fz_die(which, ecore_svg_strerror(rc));
		return;
	}
	problem = svg_check_chart(out, len);
	if (problem != NULL)
		fz_die(which, problem);
}

/* Escape the whole input and check the result */
static void
fz_escape(const uint8_t *data, size_t size, int flags, fz_arena *arena)
{
	ecore_env	env;
	char	   *out = NULL;
	size_t		n = 0,
				i;
	int			rc;

	memset(&env, 0, sizeof(env));
	env.alloc = fz_alloc;
	env.alloc_arg = arena;
	rc = ecore_svg_escape(&env, (const char *) data, size, flags, &out, &n);
	if (rc == ECORE_SVG_ENOMEM)
		return;
	if (rc != ECORE_SVG_OK)
		fz_die("escape", ecore_svg_strerror(rc));
	if (n != ecore_svg_escaped_length((const char *) data, size, flags) || strlen(out) != n)
		fz_die("escape", "length mismatch");
	for (i = 0; i < n; i++)
	{
		if (out[i] == '<' || out[i] == '>' || out[i] == '"' || out[i] == '\'')
			fz_die("escape", "raw special character");
		if ((flags & ECORE_SVG_ASCII) && (unsigned char) out[i] >= 0x80)
			fz_die("escape", "non-ASCII byte in ASCII mode");
	}
	/* as XML text inside an element, it must check as a document */
	{
		static const char head[] = "<?xml version=\"1.0\"?>\n<t>";
		char	   *doc = malloc(sizeof(head) + n + 8);
		const char *problem;

		if (doc == NULL)
			return;
		memcpy(doc, head, sizeof(head) - 1);
		memcpy(doc + sizeof(head) - 1, out, n);
		memcpy(doc + sizeof(head) - 1 + n, "</t>", 5);
		problem = svg_check(doc, strlen(doc));
		free(doc);
		if (problem != NULL)
			fz_die("escape", problem);
	}
}

/* Libfuzzer entry point */
int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	fz_arena	arena;
	ecore_env	env;
	ecore_svg_texts txt;
	double		vals[256];
	int64_t		sizes[256];
	const char *texts[FZ_MAX_TEXTS];
	const char *labels[256];
	char	   *buf,
			   *out = NULL;
	size_t		len = 0,
				n,
				nt = 0,
				i,
				k,
				m;
	int			opt,
				rc;
	double		mark;

	memset(&arena, 0, sizeof(arena));
	arena.fail_at = -1;
	fz_escape(data, size, 0, &arena);
	fz_escape(data, size, ECORE_SVG_ASCII, &arena);
	fz_free(&arena);
	if (size < 2)
		return 0;

	opt = data[0];
	n = (size_t) data[1] % 64 + 1;
	data += 2;
	size -= 2;
	for (i = 0; i < n; i++)
	{
		uint64_t	bits = 0;

		if (size >= 8)
		{
			memcpy(&bits, data, 8);
			data += 8;
			size -= 8;
			memcpy(&vals[i], &bits, 8);
		}
		else
			vals[i] = (double) i * ((opt & 0x40) ? -1.5 : 1000.25);
		sizes[i] = (int64_t) bits;
		if (!(opt & 0x80) && sizes[i] < 0)
			sizes[i] = -(sizes[i] + 1);
	}
	/* texts: NUL-terminated copies of the rest, split at 0x1F */
	buf = malloc(size + 1);
	if (buf == NULL)
		return 0;
	memcpy(buf, data, size);
	buf[size] = '\0';
	texts[nt++] = buf;
	for (i = 0; i < size && nt < FZ_MAX_TEXTS; i++)
		if (buf[i] == '\x1F')
		{
			buf[i] = '\0';
			texts[nt++] = buf + i + 1;
		}
	for (i = 0; i < n; i++)
		labels[i] = texts[(4 + i) % nt];

	memset(&txt, 0, sizeof(txt));
	txt.title = texts[0];
	txt.x_label = nt > 1 ? texts[1] : NULL;
	txt.y_label = nt > 2 ? texts[2] : NULL;
	txt.unit = (opt & 3) == 0 ? NULL : (opt & 3) == 1 ? "B" : (opt & 3) == 2 ? "%" : (nt > 3 ? texts[3] : "ms");
	txt.flags = (opt & 4) ? ECORE_SVG_ASCII : 0;

	memset(&env, 0, sizeof(env));
	env.alloc = fz_alloc;
	env.alloc_arg = &arena;
	arena.fail_at = (opt & 0x20) ? (int) (n % 3) : -1;

	rc = ecore_svg_bar_chart(&env, &txt, n, labels, vals, &out, &len);
	fz_check_chart(rc, out, len, "bar chart");
	fz_free(&arena);

	mark = vals[n / 2];
	rc = ecore_svg_line_chart(&env, &txt, n > 1 ? n / 2 : 1, vals, vals + n / 2,
							   (opt & 8) ? &mark : NULL,
							   (opt & 16) && nt > 4 ? texts[4] : NULL, &out, &len);
	fz_check_chart(rc, out, len, "line chart");
	fz_free(&arena);

	/* clusters: k x m with k * m <= n */
	m = (size_t) (opt >> 3) % 4 + 1;
	k = n / m;
	if (k > 0)
	{
		const char *metrics[4];

		for (i = 0; i < m; i++)
			metrics[i] = texts[(1 + i) % nt];
		rc = ecore_svg_cluster_chart(&env, &txt, k, labels, sizes, m, metrics,
									  vals, &out, &len);
		fz_check_chart(rc, out, len, "cluster chart");
		fz_free(&arena);
	}
	free(buf);
	return 0;
}
