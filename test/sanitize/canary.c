/*-------------------------------------------------------------------------
 *
 * canary.c
 *	  Positive control of scripts/sanitize.sh: a throwaway module, built
 *	  with the same sanitizer flags as the ASan build of engage and loaded
 *	  into the same private cluster, with one deliberate error of each kind
 *	  the script counts.  The script calls both functions after the
 *	  regression suite and requires exactly the reports they must cause
 *	  (attributed to this file, not to engage): so a run that finds no
 *	  report in engage's code is known to have been able to find one.
 *	  Never installed, never part of the extension.
 *
 *	  canary_ubsan(float8) -> int4: converts a float8 to int4 unchecked
 *	  (1e300: a float-cast-overflow report; UBSan goes on).
 *	  canary_asan(int4) -> int4: reads one int past a malloc'ed array of
 *	  n ints (a heap-buffer-overflow report; the backend aborts).
 *
 * Copyright (c) 2026, engage developers
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include <stdlib.h>

#include "fmgr.h"

PG_MODULE_MAGIC;

PG_FUNCTION_INFO_V1(canary_ubsan);
PG_FUNCTION_INFO_V1(canary_asan);

/* float8 to int4 without a range check: undefined for 1e300 */
Datum
canary_ubsan(PG_FUNCTION_ARGS)
{
	volatile double v = PG_GETARG_FLOAT8(0);

	PG_RETURN_INT32((int32) v);
}

/* one element past the end of a malloc'ed array of n ints */
Datum
canary_asan(PG_FUNCTION_ARGS)
{
	int32		n = PG_GETARG_INT32(0);
	volatile int32 *a;
	int32		r;

	if (n < 1 || n > 1000)
		PG_RETURN_NULL();
	a = malloc(sizeof(int32) * n);
	if (a == NULL)
		PG_RETURN_NULL();
	memset((void *) a, 0, sizeof(int32) * n);
	r = a[n];
	free((void *) a);
	PG_RETURN_INT32(r);
}
